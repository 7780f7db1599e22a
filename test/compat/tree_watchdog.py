# SPDX-License-Identifier: MIT
# Python: a forked watchdog kills its sibling worker after a delay; the
# worker ended and was reaped first (see tree_idiom.sh for the protocol).
import os
import signal
import time

p = os.fork()
if p == 0:
    time.sleep(0.3)
    os._exit(0)
w = os.fork()
if w == 0:
    time.sleep(1)
    try:
        os.kill(p, signal.SIGTERM)
        print("kill_status=0", flush=True)
    except ProcessLookupError:
        print("kill_status=1", flush=True)
    os._exit(0)
os.waitpid(p, 0)
os.write(3, b"%d\n" % p)
os.read(4, 3)
os.waitpid(w, 0)
