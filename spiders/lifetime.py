"""Child processes that do not outlive their parent.

A crawl runs in a child of the service (`spiders.run`) with worker processes of its own
(`spiders.pipelines`). Stopping the parent normally stops them (process group, executor shutdown), but a
parent killed with SIGKILL runs no cleanup: without this, its crawl would go on fetching and writing
with no one to record the run. Linux can send a signal to a process when its parent dies
(`PR_SET_PDEATHSIG`); elsewhere this is a no-op and the old behaviour stays.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys

logger = logging.getLogger(__name__)

# From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `signum` to this process when its parent dies; True when it is set up.

    Best effort: False (and nothing changed) off Linux or when prctl is unavailable. Call it first thing
    in a child process. The kernel ties the signal to the parent *thread* that started the child, so the
    parent must start children from a thread that lives as long as they do (the callers here do: the
    crawl waits on its child from the thread that started it, the pools are started from the reactor's).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            logger.warning("prctl(PR_SET_PDEATHSIG) failed: %s", os.strerror(ctypes.get_errno()))
            return False
    except (OSError, AttributeError) as exc:
        logger.warning("prctl(PR_SET_PDEATHSIG) unavailable: %s", exc)
        return False
    # The parent may have died before the request was made: then no signal will ever come.
    parent = multiprocessing.parent_process()
    if parent is not None and parent.pid != os.getppid():
        os.kill(os.getpid(), signum)
    return True
