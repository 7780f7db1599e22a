# SPDX-License-Identifier: MIT
# CPython: os.fork/os.kill/os.waitpid and asyncio subprocesses (in 3.11 the
# default child watcher reaps from a thread of its own).  Run with and without
# libkt; every line must be the same.  (subprocess.Popen is covered by
# test/preload_programs_children.c.)
import asyncio
import os
import signal
import sys


def forks():
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    os.kill(pid, signal.SIGTERM)
    _, st = os.waitpid(pid, 0)
    print("os.fork, os.kill TERM:", os.waitstatus_to_exitcode(st))
    try:
        os.kill(pid, 0)
        print("os.kill 0 after the reap: ok")
    except ProcessLookupError:
        print("os.kill 0 after the reap: ProcessLookupError")


async def main():
    p = await asyncio.create_subprocess_exec("sleep", "30")
    p.terminate()
    print("terminate:", await p.wait())

    p = await asyncio.create_subprocess_exec("sleep", "30")
    try:
        await asyncio.wait_for(p.wait(), 0.2)
        print("wait_for: finished?")
    except asyncio.TimeoutError:
        p.kill()
        print("wait_for timed out, kill:", await p.wait())

    p = await asyncio.create_subprocess_exec(
        "sh", "-c", "echo out; exit 3", stdout=asyncio.subprocess.PIPE)
    out, _ = await p.communicate()
    print("communicate:", out.decode().strip(), p.returncode)

    p = await asyncio.create_subprocess_shell("kill -USR1 $$")
    print("shell that signals itself:", await p.wait())

    p = await asyncio.create_subprocess_exec("sleep", "30")
    p.send_signal(signal.SIGINT)
    print("send_signal INT:", await p.wait())

    # After the exit, asyncio knows the returncode and sends nothing.
    p = await asyncio.create_subprocess_exec("true")
    await p.wait()
    try:
        p.send_signal(signal.SIGTERM)
        print("send_signal after the exit: no error")
    except ProcessLookupError:
        print("send_signal after the exit: ProcessLookupError")

    procs = [await asyncio.create_subprocess_exec("sh", "-c", "exit %d" % i)
             for i in range(4)]
    print("gather:", await asyncio.gather(*(q.wait() for q in procs)))


forks()
asyncio.run(main())
sys.exit(0)
