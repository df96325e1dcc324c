"""Reports of finished runs (SPEC §8): comparison.csv, report.xlsx, report.html.

The report reads what a run wrote (variant folders) and never solves.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimizer.report.comparison import write_comparison
from optimizer.report.html import render_html, save_html, write_html
from optimizer.report.results import load_run
from optimizer.report.xlsx import render_xlsx, write_xlsx

__all__ = ["build_reports", "write_comparison", "write_html", "write_xlsx"]


def build_reports(out_dir: Path, variant_dirs: dict[str, Path], manifest: dict, zones_gdf=None,
                  parcels_gdf=None, violations_gdf=None) -> pd.DataFrame:
    """comparison.csv, report.xlsx and report.html in ``out_dir``; returns the comparison.

    ``variant_dirs`` maps variant name → folder, in report order (base first).
    Variant folders are read once and shared by the three writers.
    """
    out_dir = Path(out_dir)
    comparison = write_comparison(variant_dirs, out_dir / "comparison.csv")
    results = load_run(variant_dirs)
    render_xlsx(out_dir / "report.xlsx", results, manifest, comparison)
    save_html(out_dir / "report.html", render_html(results, manifest, comparison, zones_gdf,
                                                     parcels_gdf, violations_gdf))
    return comparison
