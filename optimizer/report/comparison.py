"""comparison.csv: one row per variant, KPIs side by side (SPEC §8).

Columns are in a fixed order (variant, status, method, solver, objective, then
the KPI keys in :func:`optimizer.report.labels.kpi_sort_key` order, unknown keys
last, alphabetically) and floats use one fixed format, so the same runs always
give the same bytes. Timings are left out on purpose: they live in manifest.json.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from optimizer.report.labels import kpi_sort_key
from optimizer.report.results import read_summary
from optimizer.report.safety import csv_safe

FLOAT_FORMAT = "%.6f"
LEADING = ["variant", "status", "method", "solver", "objective"]
COUNT_PREFIXES = ("count_", "projects_")


def comparison_frame(summaries: dict[str, dict]) -> pd.DataFrame:
    """The comparison table from {variant: summary.json dict}, in the given order."""
    kpi_keys = sorted({k for s in summaries.values() for k in (s.get("kpis") or {})
                       if k not in LEADING}, key=kpi_sort_key)
    rows = []
    for variant, summary in summaries.items():
        kpis = summary.get("kpis") or {}
        row = {"variant": variant, "status": summary.get("status", ""),
               "method": summary.get("method", ""), "solver": summary.get("solver", ""),
               "objective": summary.get("objective", kpis.get("objective"))}
        row.update({k: kpis.get(k) for k in kpi_keys})
        rows.append(row)
    columns = LEADING + kpi_keys
    # Column by column from Python objects: pandas would turn ints with a gap into floats.
    frame = pd.DataFrame({col: _column_type(pd.Series([r[col] for r in rows], dtype=object),
                                            text=col in LEADING[:4]) for col in columns},
                         columns=columns)
    for col in [c for c in kpi_keys if c.startswith(COUNT_PREFIXES)]:
        values = frame[col]
        if values.dtype == "float64" and (values.dropna() % 1 == 0).all():
            frame[col] = values.astype("Int64")      # counts written as 578, not 578.000000
    return frame


def _column_type(values: pd.Series, text: bool) -> pd.Series:
    """Text stays text ("" for absent); whole numbers become Int64; other numbers float64."""
    present = values.dropna()
    if text:
        return values.fillna("").astype("str")
    if present.map(lambda v: isinstance(v, bool)).any() or \
            not present.map(lambda v: isinstance(v, (int, float))).all():
        return values.map(lambda v: "" if v is None else str(v)).astype("str")
    if present.map(lambda v: isinstance(v, int)).all():
        return values.astype("Int64")
    return values.astype("float64")


def write_comparison(variant_dirs: dict[str, Path], out_csv: Path) -> pd.DataFrame:
    """Write comparison.csv for finished variant folders and return the (raw) frame.

    The returned frame keeps input text as is (the HTML report escapes it); the
    CSV has formula-like text neutralised (``'=...``) so a spreadsheet shows it as text.
    """
    summaries = {name: read_summary(Path(path)) for name, path in variant_dirs.items()}
    frame = comparison_frame(summaries)
    write_csv(csv_safe(frame), Path(out_csv))
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8, ``\\n`` line ends, fixed float format: byte-identical for identical data."""
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n",
                 encoding="utf-8")
