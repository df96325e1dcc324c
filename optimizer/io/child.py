"""Work for the second core: one function run in a forked child.

The child inherits the parent's data without pickling; it must never return into
the caller's code, so it leaves with ``os._exit`` (0 when the function returned).
A forked child of a threaded process may deadlock on a lock another thread held at
the fork, so callers fork only where :func:`can_fork` says the process is alone.

A child that hands results back (:func:`fork_messages`) sends them as messages the
parent takes when it needs them; whatever the child does not send (it failed, or
chose not to), the parent computes itself.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import tempfile
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


class Outbox:
    """The child's side of :func:`fork_messages`. Each object is pickled into an
    unnamed temporary file (the child never waits for the parent to read) and
    announced through a pipe by offset and length, once it is wholly written."""

    def __init__(self, news_fd: int, spool_fd: int):
        self.news = open(news_fd, "wb", buffering=0)
        self.spool_fd = spool_fd
        self.end = 0

    def send(self, kind: str, key, obj) -> None:
        body = memoryview(pickle.dumps((kind, key, obj), protocol=pickle.HIGHEST_PROTOCOL))
        done = 0
        while done < len(body):
            done += os.pwrite(self.spool_fd, body[done:], self.end + done)
        self.news.write(self.end.to_bytes(8, "little") + len(body).to_bytes(8, "little"))
        self.end += len(body)


class Inbox:
    """The parent's side of :func:`fork_messages`."""

    def __init__(self, pid: int, news_fd: int, spool):
        self.pid = pid
        self.owner = os.getpid()        # only the parent reaps; a forked process may read
        self.news = open(news_fd, "rb")
        self.spool = spool              # deleted by the system when closed
        self.got: dict[tuple, object] = {}

    def take(self, kind: str, key, meanwhile=None):
        """The object sent as ``(kind, key)``, waiting for it; None if the child
        ended (or failed) without sending it. ``meanwhile``: called once first if the
        child has announced nothing yet (work for the time this process would wait)."""
        if meanwhile is not None and (kind, key) not in self.got and self.news is not None \
                and not select.select([self.news], [], [], 0)[0]:
            meanwhile()
        while (kind, key) not in self.got and self.news is not None:
            head = self.news.read(16)
            message = self._read(head) if len(head) == 16 else None
            if message is None:
                self.close()
                break
            got_kind, got_key, obj = message
            self.got[(got_kind, got_key)] = obj
        return self.got.pop((kind, key), None)

    def _read(self, head: bytes):
        offset, size = int.from_bytes(head[:8], "little"), int.from_bytes(head[8:], "little")
        body = bytearray()
        while len(body) < size:
            piece = os.pread(self.spool.fileno(), size - len(body), offset + len(body))
            if not piece:
                return None
            body += piece
        try:
            return pickle.loads(body)
        except Exception:               # what the child wrote is not what it announced
            return None

    def close(self, *, kill: bool = False) -> None:
        """Reap the child (stopping it first with ``kill``); unread messages are lost."""
        if self.news is not None:
            self.news.close()
            self.news = None
            if os.getpid() == self.owner:
                reap(self.pid, kill=kill)
            self.spool.close()


def fork_messages(fn, *args) -> Inbox:
    """Run ``fn(outbox, *args)`` in a forked child (:func:`can_fork` first); the
    parent takes what it sends from the returned :class:`Inbox`."""
    spool = tempfile.TemporaryFile(prefix=".mujun-child-")
    news_r, news_w = os.pipe()
    try:
        pid = fork_call(_with_outbox, fn, news_r, news_w, spool.fileno(), args)
    except BaseException:
        spool.close()
        os.close(news_r)
        raise
    finally:
        os.close(news_w)
    return Inbox(pid, news_r, spool)


def _with_outbox(fn, news_r: int, news_w: int, spool_fd: int, args: tuple) -> None:
    os.close(news_r)
    fn(Outbox(news_w, spool_fd), *args)
