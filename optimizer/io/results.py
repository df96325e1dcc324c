"""Write one variant's result files (SPEC §8) into a folder, deterministically.

allocation.csv, projects.csv, zones.csv, tiers.csv and summary.json. CSVs are
UTF-8 with "\\n" line endings, sorted, floats as "%.6f", empty cells for
missing values, no timestamps; timings appear only in summary.json. Text that
comes from inputs and would start a spreadsheet formula (=, +, -, @) is
prefixed with an apostrophe.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import orjson
import pandas as pd

from optimizer.policy import RESOURCES, Tier

FLOAT_FORMAT = "%.6f"
CSV_BLOCK_ROWS = 20_000   # rows turned into text at a time (see csv_bytes): 13% faster than 50,000
TEXT_COLUMNS = ("id", "name", "zone_id", "grade", "reason", "binding", "label")
TIER_GRADES = ("A", "B", "C", "D", "U")
RISKY_START = ("=", "+", "-", "@", "\t")    # a spreadsheet reads these as a formula
_RISKY_LINE_START = re.compile(r"\n[=+\-@\t]")


def neutralise(values: pd.Series) -> pd.Series:
    """Prefix cells a spreadsheet would read as a formula; a bare CR becomes LF.

    The csv writer quotes only the line terminator ("\n"), so an unquoted CR
    inside a name would split the row in Excel and start a new line with
    whatever follows it (e.g. "=HYPERLINK(...)").
    """
    text = values.astype(str)
    cells = text.tolist()
    # The usual case, nothing to change, checked in one pass over the joined text (a
    # line break inside a cell may trigger the exact per-cell path below needlessly).
    joined = "\n" + "\n".join(cells)
    if "\r" not in joined and not _RISKY_LINE_START.search(joined):
        return text
    text = text.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    risky = text.str.match(r"^[=+\-@\t]")
    return text.where(~risky, "'" + text)


def _float_cells(values: np.ndarray) -> list[str]:
    """"%.6f" text of each value, "" for NaN; round-off below 5e-7 prints as 0
    (:func:`float_cells_values` says which numbers these texts read back as)."""
    return fixed6_texts(_round_off(values))


def fixed6_texts(values: np.ndarray) -> list[str]:
    """Exactly ``"%.6f" % x`` for each value ("" for NaN), 2.5× faster at 100,000 rows.

    ``rint(x·10⁶)`` is the correctly rounded count of millionths whenever the product's
    fraction is further than two float spacings from ½ (the product is within half a
    spacing of the exact one, so it is on the same side of the half); the count N is
    then printed by orjson as the integer ⌊N/10⁶⌋·10⁷ + 10⁶ + N mod 10⁶, whose digit
    "1" seven places from the end becomes the decimal point ("0" is put before a point
    that would lead). Near-halves, huge values, NaN/±inf and a negative value that
    rounds to zero ("-0.000000") are formatted by ``%`` itself.
    """
    values = np.asarray(values, dtype=np.float64)
    count, fast = fixed6_counts(values)
    texts = _fixed6_marked(count[fast]) if fast.any() else []
    if fast.all():
        return texts
    out = np.empty(len(values), dtype=object)
    out[fast] = texts
    out[~fast] = ["" if x != x else "%.6f" % x for x in values[~fast].tolist()]
    return out.tolist()


def fixed6_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(millionths, fast): ``rint(x·10⁶)`` and where it is exactly the count that
    ``"%.6f" % x`` prints (see :func:`fixed6_texts`)."""
    with np.errstate(invalid="ignore", over="ignore"):
        millionths = values * 1e6
        count = np.rint(millionths)
        fraction = millionths - np.floor(millionths)
        fast = ((np.abs(fraction - 0.5) > 2 * np.abs(np.spacing(millionths)))
                & (np.abs(millionths) < 2.0 ** 52) & ~((count == 0) & np.signbit(values)))
    return count, fast


def float_cells_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the CSV holds for each float: (values after the round-off rule of
    :func:`_float_cells`, millionths and where they are exact as in ``fixed6_counts``)."""
    values = _round_off(values)
    return (values, *fixed6_counts(values))


def _round_off(values: np.ndarray) -> np.ndarray:
    """Solver round-off below 5e-7 written as 0 (no "-0.000000" either)."""
    return np.where(np.abs(values) < 5e-7, 0.0, values)


def _fixed6_marked(count: np.ndarray) -> list[str]:
    size = np.abs(count).astype(np.int64)
    marked = size // 1_000_000 * 10_000_000 + 1_000_000 + size % 1_000_000
    text = np.frombuffer(orjson.dumps(np.where(count < 0, -marked, marked),
                                      option=orjson.OPT_SERIALIZE_NUMPY), dtype=np.uint8).copy()
    ends = np.flatnonzero((text == ord(",")) | (text == ord("]")))
    points = ends - 7
    text[points] = ord(".")
    before = text[points - 1]
    text = np.insert(text, points[(before == ord(",")) | (before == ord("["))
                                  | (before == ord("-"))], ord("0"))
    return text[1:-1].tobytes().decode("ascii").split(",")


def text_cell_values(values: pd.Series, neutral: bool) -> pd.Series:
    """A text column's cells as written, before CSV quoting (a str Series with the
    index of ``values``): "" for a missing cell, formula-neutralised (and CR → LF)
    when ``neutral``."""
    if values.isna().to_numpy().any():  # astype(str) keeps a missing value missing (pandas 3)
        values = values.fillna("")
    return neutralise(values) if neutral else values.astype(str)


def _text_cells(values: pd.Series, neutral: bool) -> list[str]:
    cells = text_cell_values(values, neutral).tolist()
    joined = "".join(cells)
    if not ('"' in joined or "," in joined or "\n" in joined or "\r" in joined):
        return cells                    # nothing to quote (missing cells are "" already)
    return ['"' + v.replace('"', '""') + '"' if ('"' in v or "," in v or "\n" in v or "\r" in v)
            else v for v in cells]


def csv_text(frame: pd.DataFrame, neutral: set[str] | None = None,
             bools: tuple[str, str] = ("true", "false"), *, helper: bool = False) -> str:
    """:func:`csv_bytes` as text."""
    return csv_bytes(frame, neutral, bools, helper=helper).decode("utf-8")


def csv_bytes(frame: pd.DataFrame, neutral: set[str] | None = None,
              bools: tuple[str, str] = ("true", "false"), *, helper: bool = False) -> bytes:
    """RFC 4180 CSV as UTF-8, one list comprehension per column (pandas' to_csv with a
    float_format takes ~1 µs per cell: 2.6 s for 100,000 firms × 18 columns).

    Floats as "%.6f" (round-off below 5e-7 as 0), integers as integers, missing
    values as empty cells; text columns in ``neutral`` (default ``TEXT_COLUMNS``)
    are formula-neutralised; booleans as ``bools``. Rows go in blocks of
    ``CSV_BLOCK_ROWS``: with every cell of a million rows alive at once as a Python
    string, joining them took four times longer per row.

    ``helper`` (the caller has a spare core): with two blocks or more, a forked
    child formats the later blocks meanwhile (100,000 firms' allocation.csv:
    0.58 → 0.3 s) and hands them over as UTF-8 bytes (no str to pickle, decode and
    join here); the bytes are the same, and if the child fails they are made here.
    """
    from optimizer.io.child import can_fork, fork_messages

    neutral = set(TEXT_COLUMNS) if neutral is None else neutral
    header = ",".join(_text_cells(pd.Series(list(frame.columns), dtype=object), False))
    starts = list(range(0, len(frame) if len(frame.columns) else 0, CSV_BLOCK_ROWS))
    # this process takes the larger half: the child's share also pays its fork and handover
    half = (len(starts) + 1) // 2 if helper and len(starts) > 1 and can_fork() else len(starts)
    inbox = fork_messages(_send_blocks, frame, starts[half:], neutral, bools) \
        if half < len(starts) else None
    try:
        mine = (header + "\n" + _blocks(frame, starts[:half], neutral, bools)).encode("utf-8")
        theirs = inbox.take("blocks", tuple(starts[half:])) if inbox is not None else b""
    finally:
        if inbox is not None:
            inbox.close(kill=True)
    if theirs is None:
        theirs = _blocks(frame, starts[half:], neutral, bools).encode("utf-8")
    return mine + theirs


def _blocks(frame: pd.DataFrame, starts: list[int], neutral: set[str],
            bools: tuple[str, str]) -> str:
    blocks = []
    for start in starts:
        block = frame.iloc[start:start + CSV_BLOCK_ROWS]
        cols = [_cells(block[col], col in neutral, bools) for col in block.columns]
        blocks.append("\n".join(map(",".join, zip(*cols))) + "\n")
    return "".join(blocks)


def _send_blocks(outbox, frame: pd.DataFrame, starts: list[int], neutral: set[str],
                 bools: tuple[str, str]) -> None:
    """In the child of ``csv_bytes(helper=True)``."""
    outbox.send("blocks", tuple(starts), _blocks(frame, starts, neutral, bools).encode("utf-8"))


def _cells(series: pd.Series, neutral: bool, bools: tuple[str, str]) -> list[str]:
    """One column's cells as CSV text."""
    if series.dtype == bool:
        return np.where(series.to_numpy(), *bools).tolist()
    if pd.api.types.is_float_dtype(series.dtype):
        return _float_cells(series.to_numpy(np.float64, na_value=np.nan))
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype(str).where(series.notna(), "").tolist()
    return _text_cells(series, neutral)


def as_written(frame: pd.DataFrame, sort_by: list[str]) -> pd.DataFrame:
    """``frame`` in the row order its CSV has (sorted by ``sort_by``)."""
    return frame.sort_values(sort_by, kind="mergesort") if len(frame) and sort_by else frame


def allocation_as_written(result) -> pd.DataFrame:
    """The allocation frame that :func:`write_results` writes (rows in file order)."""
    return as_written(result.allocation, ["id"])


def _csv(frame: pd.DataFrame, path: Path, sort_by: list[str], *,
         helper: bool = False) -> pd.DataFrame:
    """Write ``frame`` sorted by ``sort_by``; returns the frame as written (in row order)."""
    out = as_written(frame, sort_by)
    path.write_bytes(csv_bytes(out, helper=helper))
    return out


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def tiers_frame(tiers: dict[str, Tier], resources=RESOURCES) -> pd.DataFrame:
    rows = []
    for grade in TIER_GRADES:
        tier = tiers.get(grade)
        if tier is None:
            continue
        row = {"grade": grade, "label": tier.label, "scale_lo": tier.scale[0],
               "scale_hi": tier.scale[1]}
        for res in resources:
            lo, hi = tier.quota_bounds(res)
            row[f"{res}_quota_lo"] = lo
            row[f"{res}_quota_hi"] = hi if math.isfinite(hi) else np.nan
            row[f"{res}_efficiency"] = tier.efficiency_for(res)
        row.update(weight=tier.weight, exit_allowed=bool(tier.exit_allowed),
                   land_tax_relief=tier.land_tax_relief,
                   electricity_surcharge_yuan_per_kwh=tier.electricity_surcharge_yuan_per_kwh)
        rows.append(row)
    return pd.DataFrame(rows)


def write_results(result, folder: Path, *, tiers: dict[str, Tier], variant: str,
                  helper: bool = False) -> dict[str, pd.DataFrame]:
    """Write ``result`` (an ``AllocationResult``) into ``folder`` (created if needed);
    ``helper``: a spare core formats half of allocation.csv (:func:`csv_bytes`).
    Returns the allocation frame as written (``{"allocation": frame}``, rows in file
    order), for :func:`optimizer.report.results.as_read_back`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {"allocation": _csv(result.allocation, folder / "allocation.csv", ["id"],
                                  helper=helper)}
    _csv(result.projects, folder / "projects.csv", ["id"])
    _csv(result.zones, folder / "zones.csv", [])          # built sorted: resource, zone
    resources = [c[: -len("_before")] for c in result.allocation.columns
                 if c.endswith("_before") and c != "value_before"]
    _csv(tiers_frame(tiers, resources or RESOURCES), folder / "tiers.csv", [])
    summary = {"status": result.status, "objective": result.objective, "kpis": result.kpis,
               "solver": result.solver, "method": result.method, "variant": variant,
               "timings": result.timings, "diagnosis": list(result.diagnosis),
               "shadow_price_convention": result.shadow_price_convention}
    text = json.dumps(_json_safe(summary), ensure_ascii=False, indent=2, sort_keys=False)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8", newline="\n")
    return written
