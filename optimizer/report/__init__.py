"""Reports of finished runs (SPEC §8): comparison.csv, report.xlsx, report.html.

The report reads what a run wrote (variant folders) and never solves.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["build_reports", "write_comparison", "write_html", "write_xlsx"]

# The writers are imported when first used, so that a process needing only
# ``optimizer.report.results`` (a runner's worker reading its results back) does not
# import XlsxWriter, Jinja2 and the charts.
_LAZY = {"write_comparison": "comparison", "write_html": "html", "render_html": "html",
         "save_html": "html", "write_xlsx": "xlsx", "render_xlsx": "xlsx", "load_run": "results"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"optimizer.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_reports(out_dir: Path, variant_dirs: dict[str, Path], manifest: dict, zones_gdf=None,
                  parcels_gdf=None, violations_gdf=None, *, parallel: bool = False,
                  results: list | None = None) -> pd.DataFrame:
    """comparison.csv, report.xlsx and report.html in ``out_dir``; returns the comparison.

    ``variant_dirs`` maps variant name → folder, in report order (base first).
    Variant folders are read once (``load_run``; or passed as ``results``, read back
    by whoever wrote them) and shared by the writers; with ``parallel`` the workbook is
    written by a forked child while this process writes the HTML, and once the HTML is
    drawn a helper of that child formats rows of the workbook on the freed core.
    """
    from optimizer.report.comparison import write_comparison
    from optimizer.report.html import render_html, save_html
    from optimizer.report.results import load_run
    from optimizer.report.xlsx import render_xlsx

    out_dir = Path(out_dir)
    comparison = write_comparison(variant_dirs, out_dir / "comparison.csv")
    results = load_run(variant_dirs) if results is None else results
    xlsx_path = out_dir / "report.xlsx"
    child = _fork_xlsx(xlsx_path, results, manifest, comparison) if parallel else None
    if child is None:
        render_xlsx(xlsx_path, results, manifest, comparison)
    drawn = False
    try:
        with child.gate if child is not None else contextlib.nullcontext():
            page = render_html(results, manifest, comparison, zones_gdf, parcels_gdf,
                               violations_gdf)
        save_html(out_dir / "report.html", page)
        drawn = True
    finally:
        if child is not None:
            if not drawn:       # failed or interrupted: the workbook is not wanted either
                child.process.terminate()
            child.process.join()
    if child is not None and child.process.exitcode != 0:
        # the child printed nothing useful to the user: redo it here to raise the real error
        render_xlsx(xlsx_path, results, manifest, comparison)
    return comparison


@dataclass
class _XlsxChild:
    process: object     # multiprocessing.Process writing report.xlsx
    gate: object        # closed (a context manager) when this process has drawn the HTML:
                        # from then on the child may use a helper (sheetdata.Chunks)


def _fork_xlsx(path: Path, results, manifest: dict, comparison: pd.DataFrame):
    """Start writing report.xlsx in a forked child (None when forking is not safe here)."""
    import multiprocessing
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return None
    gate_r, gate_w = os.pipe()
    try:
        child = multiprocessing.get_context("fork").Process(
            target=_xlsx_child, args=(path, results, manifest, comparison, gate_r, gate_w),
            daemon=True)
        child.start()
    except BaseException:
        os.close(gate_w)
        raise
    finally:
        os.close(gate_r)
    return _XlsxChild(child, os.fdopen(gate_w, "wb"))


def _xlsx_child(path: Path, results, manifest: dict, comparison: pd.DataFrame,
                gate_r: int, gate_w: int) -> None:
    from optimizer.report.xlsx import render_xlsx

    try:
        os.close(gate_w)        # only the parent holds the writing end: closing it opens the gate
        render_xlsx(path, results, manifest, comparison, helper=True, gate=gate_r)
    except BaseException:
        os._exit(1)
