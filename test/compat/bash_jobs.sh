# SPDX-License-Identifier: MIT
# bash job control as scripts use it.  Run with and without libkt; every line
# of output must be the same.  Ends on a builtin, so bash does not exec the
# last command and libktcount sees this process exit.
set -m

# kill %1: with job control a job is a process group, so bash calls killpg.
sleep 30 &
kill %1; wait %1; echo "kill %1: $?"

# kill $!: a plain kill of the job's PID.
sleep 30 &
kill $!; wait $!; echo "kill \$!: $?"

# Another signal, by name, to a job.
sleep 30 &
kill -HUP %1; wait %1; echo "kill -HUP %1: $?"

# Stop and continue (bash reaps with WUNTRACED|WCONTINUED: a stop report must
# not count as a reap).
sleep 30 &
kill -STOP %1
until jobs %1 | grep -q Stopped; do sleep 0.01; done
echo "stopped: $(jobs %1 | sed 's/ .*//')"
kill -CONT %1; kill %1; wait %1; echo "after STOP/CONT, kill %1: $?"

# A job that traps the signal and exits with its own status.  kill %1 signals
# the job's whole group, its own sleep included.
f=$(mktemp -u); mkfifo "$f"
( trap 'echo "job: got TERM"; exit 7' TERM; echo ready > "$f"; sleep 30 & wait ) &
read -r _ < "$f"; rm -f "$f"
kill %1; wait %1; echo "trapping job: $?"

# The shell's own trap, sent by kill to $$ (not a child: passes through).
trap 'echo "shell: got USR1"' USR1
kill -USR1 $$
trap - USR1

# wait -n: the first job to end, then the next.
(exit 3) & (sleep 0.3; exit 4) &
wait -n; echo "wait -n: $?"
wait -n; echo "wait -n: $?"

# kill of a finished job that bash has already reported.
true & p=$!; wait $p
kill $p 2>/dev/null; echo "kill of a reaped job: $?"
exit 0
