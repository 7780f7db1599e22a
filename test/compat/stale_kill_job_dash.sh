# SPDX-License-Identifier: MIT
# dash: kill %1 of a background job that has ended.  dash reaped it while it
# waited for the foreground `sleep`, but keeps the job until it is reported.
# dash 0.5.12 then sends kill(-PID) (to the process group the job would lead
# under job control) even with job control off: normally ESRCH, since no such
# group exists; once the number is reused by a group leader, that group is hit.
# Protocol: see test/helpers/reuse.c (fds 3 and 4).
true & p=$!
sleep 0.1
echo "freed $p" >&3
read -r _ <&4
kill %1
echo "result pid=$p kill_status=$?" >&3
