# SPDX-License-Identifier: MIT
# glibc's system() and popen() create their child inside glibc, through
# internal aliases no preloaded library can hook: the child is untracked and a
# kill of its old PID passes through unchanged, with libkt as without.
# python3 py_glibc_spawn.py system|popen   (os.system is glibc's system();
# popen is called through ctypes, since Python's os.popen uses subprocess).
# The shell reports its own PID ($$) on a pipe.  Protocol: see
# test/helpers/reuse.c (fds 3 and 4).
import ctypes
import os
import signal
import sys

libc = ctypes.CDLL(None)
try:
    pid_state = libc.kt_pid_state
    pid_state.restype = ctypes.c_int
except AttributeError:
    pid_state = None

r, w = os.pipe()
os.set_inheritable(w, True)
cmd = b"echo $$ >&%d; exit 3" % w
if sys.argv[1] == "system":
    status = os.system(cmd.decode())
else:
    libc.popen.restype = ctypes.c_void_p
    libc.popen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.pclose.argtypes = [ctypes.c_void_p]
    stream = libc.popen(cmd, b"r")
    status = libc.pclose(stream)
os.close(w)
pid = int(os.read(r, 64))
tracked = pid_state(pid) if pid_state else "none"

os.write(3, b"freed %d\n" % pid)
os.read(4, 64)
try:
    os.kill(pid, signal.SIGTERM)
    kill_status = 0
except ProcessLookupError:
    kill_status = 1
os.write(3, ("result pid=%d kill_status=%d exit=%d tracked=%s\n" % (
    pid, kill_status, os.waitstatus_to_exitcode(status), tracked)).encode())
