# SPDX-License-Identifier: MIT
# The timeout idiom, in any POSIX shell: a subshell kills a job after a delay.
# The job ends first and the shell reaps it; test/helpers/tree puts a
# stranger on its number (fd 3 names it, fd 4 says it is there) before the
# subshell's timer fires.  Under libkt the subshell's kill must miss.
sleep 0.3 & p=$!
( sleep 1; kill $p 2>/dev/null; echo "kill_status=$?" ) &
w=$!
wait $p
echo $p >&3
read ok <&4
wait $w
