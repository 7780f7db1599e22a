# bash: wait -n returns when the first of two workers ends; the script then
# cancels "the rest" with one kill naming both.  The first is stale (reaped,
# its PID given to a stranger), the second is alive and must still die.
# Protocol: see test/helpers/reuse.c (fds 3 and 4).
true & a=$!
sleep 30 & b=$!
wait -n
echo "freed $a" >&3
read -r _ <&4
kill $a $b
s=$?
wait $b
echo "result pid=$a kill_status=$s second=$?" >&3
