# SPDX-License-Identifier: MIT
# bash, job control on: kill %1 of a job that has ended and been reaped (in
# bash's SIGCHLD handler) but not yet reported.  bash still holds the job and
# sends killpg(its process group): the group is named by the reaped leader's
# PID, which the reuse helper has given to a stranger leading a group of it.
# Protocol: see test/helpers/reuse.c (fds 3 and 4).
set -m
true & p=$!
while kill -0 $p 2>/dev/null; do :; done
echo "freed $p" >&3
read -r _ <&4
kill %1
echo "result pid=$p kill_status=$?" >&3
