# SPDX-License-Identifier: MIT
# POSIX sh (bash and dash): a cleanup trap on EXIT kills a worker that had
# already finished and been reaped by `wait`; its PID now belongs to a
# stranger.  Protocol: see test/helpers/reuse.c (fds 3 and 4).
true & p=$!
trap 'kill $p; echo "result pid=$p kill_status=$?" >&3' EXIT
wait $p
echo "freed $p" >&3
read -r _ <&4
exit 0
