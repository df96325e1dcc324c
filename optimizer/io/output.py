"""Atomic output folders: write into a temporary sibling, rename when complete.

An interrupted (SIGINT/SIGTERM) or failed run leaves no partial folder; an
existing folder is only replaced with ``force``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from optimizer.errors import OutputError


def _describe(exc: OSError, target: Path) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(f"disk full while writing {target}; nothing was written", file=target,
                           rule="free disk space")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write to {target.parent} (read-only or no permission)",
                           file=target, rule="writable output folder")
    return OutputError(f"cannot write {target}: {exc.strerror or exc}", file=target,
                       rule="writable output folder")


@contextlib.contextmanager
def atomic_folder(target: str | Path, *, force: bool = False, inputs=()):
    """Yield a temporary folder that becomes ``target`` only if the block succeeds.

    ``inputs`` are the files (or run folders) the command reads: a target that
    is one of them or holds one of them is refused, because ``--force`` would
    replace it and delete the planner's data.
    """
    target = Path(target).absolute()
    _refuse_inputs(target, inputs)
    if target.exists() and not force:
        raise OutputError(f"output folder {target} already exists; use --force to replace it",
                          file=target, rule="new output folder")
    if target.exists() and not target.is_dir():
        raise OutputError(f"{target} exists and is not a folder", file=target,
                          rule="new output folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    except OSError as exc:
        raise _describe(exc, target) from None
    try:
        yield tmp
        _swap_in(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _describe(exc, target) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _refuse_inputs(target: Path, inputs) -> None:
    real = target.resolve()
    for path in inputs:
        p = Path(path).resolve()
        if p == real or real in p.parents:
            raise OutputError(f"output folder {target} holds the input {p}; choose another "
                              "output folder (it would be replaced)", file=target,
                              rule="output apart from inputs")


def _swap_in(tmp: Path, target: Path) -> None:
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "x")
        try:
            os.rename(tmp, target)
        except OSError:
            os.rename(old / "x", target)      # the previous results stay where they were
            shutil.rmtree(old, ignore_errors=True)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, target)
