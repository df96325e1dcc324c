"""Work for the second core: one function run in a forked child.

The child inherits the parent's data without pickling; it must never return into
the caller's code, so it leaves with ``os._exit`` (0 when the function returned).
A forked child of a threaded process may deadlock on a lock another thread held at
the fork, so callers fork only where :func:`can_fork` says the process is alone.
"""

from __future__ import annotations

import os
import signal
import threading


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def fork_call(fn, *args) -> int:
    """Run ``fn(*args)`` in a forked child; its pid (reap it with :func:`reap`)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fn(*args)
            code = 0
        finally:
            os._exit(code)
    return pid


def reap(pid: int, *, kill: bool = False) -> bool:
    """Wait for the child (stopping it first with ``kill``); True if it succeeded."""
    if kill:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0
