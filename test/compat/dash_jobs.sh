# SPDX-License-Identifier: MIT
# dash without job control (no terminal here): run with and without libkt;
# every line of output must be the same.
#
# dash 0.5.12's `kill %1` sends kill(-PID) even without job control, and the
# job does not lead a group, so there is no such group: ESRCH, and the job
# lives on.  Under libkt the group kill goes through the child's pidfd with
# PIDFD_SIGNAL_PROCESS_GROUP, which names the group whose ID is the child's
# PID, not the group the child is in: the same ESRCH, the same survivor.
sleep 30 & p=$!
kill %1; echo "kill %1 of a live job: $?"
kill -0 $p; echo "the job is alive: $?"
# dash reports the job's "Terminated" only if the sleep has died by the time
# the wait looks (a race of its own, with or without libkt): the report is
# left out, the exit status says the same.
kill $p; wait $p 2>/dev/null; echo "kill \$!: $?"

f=$(mktemp -u); mkfifo "$f"
# Without job control kill $! reaches the subshell alone: it kills its sleep.
( sleep 30 & s=$!
  trap 'kill $s; echo "job: got TERM"; exit 7' TERM
  echo ready > "$f"; wait ) &
read -r _ < "$f"; rm -f "$f"
kill $!; wait $!; echo "trapping job: $?"

trap 'echo "shell: got USR1"' USR1
kill -USR1 $$
trap - USR1

(exit 3) & wait $!; echo "wait: $?"
