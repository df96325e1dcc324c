"""Print the timeline of one `mujun run`: when each step starts and ends, in which process.

Not a benchmark: the marks cost a little. By default the traced modules are imported
before the CLI starts (so the early reader overlaps less of the start-up than in a real
run); with ``--late`` as first argument each is wrapped when the run itself imports it,
so the imports happen where they do in a real run. A map for performance work, e.g. to
see what runs on one core while the other waits.

    python scripts/trace_run.py [--late] run SCENARIO -o DIR --force --quiet [--jobs N]

Marks go to stderr as ``[seconds since start] pid step start|end``, from the CLI
process and from every process it forks (the grades.csv child, the report.xlsx child
and its helper, pool workers' steps inside ``run_variant``). The pool's job function
itself is left alone: a wrapped function cannot be pickled into a worker.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

T0 = time.perf_counter()

# module → functions whose start and end are marked
STEPS = {
    "optimizer.runner": ["read_ahead", "_pool_context", "_execute_pool", "manifest_for",
                         "finish_top_level"],
    "optimizer.pipeline": ["prepare", "grade", "write_grades_aside", "finish_grades", "warm",
                           "grades_csv"],
    "optimizer.early": ["_read_and_grade", "enterprise_rows_aside"],
    "optimizer.allocation.engine": ["allocate"],
    "optimizer.validation": ["read_enterprises"],
    "optimizer.evaluation": ["grade_enterprises"],
    "optimizer.io.results": ["write_results"],
    "optimizer.report.results": ["load_variant"],
    "optimizer.report.comparison": ["write_comparison"],
    "optimizer.report.html": ["render_html", "save_html"],
    "optimizer.report.xlsx": ["render_xlsx"],
}


def mark(step: str) -> None:
    print(f"[{time.perf_counter() - T0:7.3f}] {os.getpid():>7} {step}", file=sys.stderr,
          flush=True)


def traced(fn, name: str):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        mark(f"{name} start")
        try:
            return fn(*args, **kwargs)
        finally:
            mark(f"{name} end")
    return call


def _wrap(module) -> None:
    """Wrap the steps of ``module`` where they are looked up: the module attribute, and
    the names other modules imported from it at their top (``from m import f``)."""
    for name in STEPS[module.__name__]:
        original = getattr(module, name)
        wrapped = traced(original, name)
        setattr(module, name, wrapped)
        for other in list(sys.modules.values()):
            if getattr(other, "__name__", "").startswith("optimizer") and \
                    getattr(other, name, None) is original:
                setattr(other, name, wrapped)


def install() -> None:
    for module_name in STEPS:
        _wrap(importlib.import_module(module_name))


class _LateFinder(importlib.abc.MetaPathFinder):
    """Wraps a traced module's steps as soon as the run imports it."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in STEPS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        loader = spec.loader

        class Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                _wrap(module)
        spec.loader = Loader()
        return spec


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--late"]:
        args = args[1:]
        sys.meta_path.insert(0, _LateFinder())
    else:
        install()
    from optimizer.cli import main as cli_main

    mark("cli start")
    code = cli_main(args)
    mark(f"cli end (exit {code})")


if __name__ == "__main__":
    main()
