# SPDX-License-Identifier: MIT
# CPython asyncio: os.kill(proc.pid) after `await proc.wait()`.  The child
# watcher thread reaped the child; the reuse helper then gave its PID to a
# stranger.  Protocol: see test/helpers/reuse.c (fds 3 and 4).
import asyncio
import os
import signal


async def spawn_and_wait():
    p = await asyncio.create_subprocess_exec("true")
    await p.wait()
    return p.pid


pid = asyncio.run(spawn_and_wait())
os.write(3, b"freed %d\n" % pid)
os.read(4, 64)
try:
    os.kill(pid, signal.SIGTERM)
    status = 0
except ProcessLookupError:
    status = 1
os.write(3, b"result pid=%d kill_status=%d\n" % (pid, status))
