# SPDX-License-Identifier: MIT
# bash: wait -n returns when the first of two workers ends; the script then
# cancels "the rest" with one kill naming both.  The first is stale (reaped,
# its PID given to a stranger), the second is alive and must still die.
# Protocol: see test/helpers/reuse.c (fds 3 and 4).
# The first worker lasts a moment: one that ended before `wait -n` started
# (a `true`, on a loaded machine) can be collected by bash beforehand, and
# `wait -n` then waits for the sleep 30 instead, past the helper's alarm.
sleep 0.5 & a=$!
sleep 30 & b=$!
wait -n
echo "freed $a" >&3
read -r _ <&4
kill $a $b
s=$?
wait $b
echo "result pid=$a kill_status=$s second=$?" >&3
