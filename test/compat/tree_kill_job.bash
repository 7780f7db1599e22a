# SPDX-License-Identifier: MIT
# bash: a subshell kills the job by its job spec (%1), after the job ended
# and the shell reaped it (see tree_idiom.sh for the protocol).
sleep 0.3 &
p=$!
( sleep 1; kill %1 2>/dev/null; echo "kill_status=$?" ) &
w=$!
wait $p
echo $p >&3
read ok <&4
wait $w
