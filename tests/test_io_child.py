"""Forked children that hand results back (optimizer/io/child.py), run in a fresh
process: forking is refused where other tests left threads."""

import subprocess
import sys

from tests.conftest import REPO

SCRIPT = r"""
import os, sys, time
from optimizer.io.child import can_fork, fork_messages

assert can_fork()
mode = sys.argv[1]

def work(outbox, size):
    outbox.send("first", 1, b"a" * size)          # far beyond a pipe's 64 KB buffer
    if mode == "dies":
        os._exit(3)
    outbox.send("second", (2, "x"), {"big": b"b" * size})

inbox = fork_messages(work, 10_000_000)
for _ in range(500):                              # the child ends before anything is read
    if os.waitid(os.P_PID, inbox.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
        break                                     # (still to be reaped by the inbox)
    time.sleep(0.01)
else:
    raise SystemExit("the child waited for its reader")
second = inbox.take("second", (2, "x"))           # taken out of order
first = inbox.take("first", 1)
missing = inbox.take("third", 3)
print(len(first or b""), len((second or {}).get("big", b"")), missing, inbox.news is None)
"""


def run(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_messages_arrive_whatever_the_order_they_are_taken_in():
    assert run("ok") == "10000000 10000000 None True"


def test_a_child_dying_midway_leaves_what_it_sent():
    assert run("dies") == "10000000 0 None True"


FORKED_READER = r"""
import os, sys, time
from optimizer.io.child import fork_messages

def work(outbox):
    time.sleep(0.3)                               # nothing announced yet when first asked
    outbox.send("late", 1, "sheet")

inbox = fork_messages(work)
busy = []
reader = os.fork()                                # e.g. the workbook's process
if reader == 0:
    got = inbox.take("late", 1, meanwhile=lambda: busy.append("waited"))
    inbox.take("never sent", 2)                   # the child ends: closed, not reaped here
    print(got, busy, flush=True)
    os._exit(0)
os.waitpid(reader, 0)
inbox.close()                                     # the parent reaps its child
print(inbox.news is None, flush=True)
"""


def test_a_forked_process_may_take_messages_and_only_the_parent_reaps():
    """The workbook's process (forked from the run) takes the grades sheet the early
    reader's child sends; ``meanwhile`` runs while nothing is announced yet."""
    done = subprocess.run([sys.executable, "-c", FORKED_READER], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["sheet ['waited']", "True"]
