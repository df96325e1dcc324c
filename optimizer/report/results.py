"""Read finished variant folders (SPEC §8) back for reporting.

The report never solves: it reads what the run wrote. Text columns stay text
(an enterprise called "NA" or "-2" is a name, not a missing value or a number);
other columns become numbers where every non-empty cell parses.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.policy import RESOURCES

TEXT_COLUMNS = {"id", "name", "zone_id", "grade", "binding", "reason", "resource", "unit",
                "group", "label", "violations", "sizhi", "eligible", "above_scale",
                "exit_allowed", "county", "sector"}
TABLES = ("allocation", "projects", "zones", "grades", "tiers", "boundaries")


@dataclass
class VariantResult:
    """One variant folder: summary.json plus whichever CSVs exist (empty frames otherwise)."""

    name: str
    path: Path
    summary: dict
    allocation: pd.DataFrame
    projects: pd.DataFrame
    zones: pd.DataFrame
    grades: pd.DataFrame
    tiers: pd.DataFrame
    boundaries: pd.DataFrame
    # table → report.xlsx body of it made ahead (a zipmember.Deflated, or a callable
    # giving one when the workbook needs it): a lone run's "grades" and "enterprises"
    # (pipeline.grades_sheet, early.enterprise_rows_aside)
    xlsx_bodies: dict = field(default_factory=dict)

    @property
    def resources(self) -> list[str]:
        """Resources the scenario chose, in the canonical order."""
        cols = set(self.allocation.columns)
        return [r for r in RESOURCES if f"{r}_before" in cols and f"{r}_after" in cols]

    @property
    def kpis(self) -> dict:
        return dict(self.summary.get("kpis") or {})


def read_table(path: Path) -> pd.DataFrame:
    """A result CSV with text kept as text; empty frame when the file is absent.

    Only an empty cell is missing in a number column; text columns keep "" (a firm
    called "NA" stays "NA"). A number column with a non-number cell stays text.
    """
    if not path.exists():
        return pd.DataFrame()
    try:
        columns = pd.read_csv(path, nrows=0, encoding="utf-8").columns
        frame = _read_csv(path, columns)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read result table: {exc}", file=path,
                         rule="result CSV as written by mujun run") from exc
    for col in frame.columns:
        if col not in TEXT_COLUMNS and not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].fillna("").astype(str)
    return frame


def _read_csv(source, columns) -> pd.DataFrame:
    text = [c for c in columns if c in TEXT_COLUMNS]
    return pd.read_csv(source, encoding="utf-8", dtype={c: str for c in text},
                       keep_default_na=False,
                       na_values={c: [""] for c in columns if c not in TEXT_COLUMNS})


def as_read_back(frame: pd.DataFrame, *, neutral: set[str] | None = None,
                 bools: tuple[str, str] = ("true", "false")) -> pd.DataFrame | None:
    """What :func:`read_table` returns for the CSV that
    ``optimizer.io.results.csv_bytes(frame, neutral, bools)`` writes — the same
    columns, dtypes and values to the bit — made without writing or parsing it: the
    writer's text cells as they are; a float column's "%.6f" numbers are the count of
    millionths divided by 10⁶, which is what the CSV parser makes of them (checked on
    millions of values), and the few texts off that path (near-halves, huge values,
    ±inf) are parsed by the same parser. None for what it does not model (duplicate or
    non-text column names, no rows, a text column the reader would take for numbers);
    the caller then reads the file. Saves the run's read-back of its own CSVs for the
    report (0.15–0.2 s at 100,000 firms). Tests hold it equal to reading the file."""
    from optimizer.io.results import TEXT_COLUMNS as WRITTEN_AS_TEXT
    from optimizer.io.results import fixed6_texts, float_cells_values, text_cell_values

    neutral = set(WRITTEN_AS_TEXT) if neutral is None else neutral
    names = list(frame.columns)
    if not len(frame) or len(set(names)) != len(names) or \
            not all(isinstance(n, str) for n in names):
        return None
    out = {}
    for name in names:
        column = frame[name]
        kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else None
        if column.dtype == bool:
            cells = np.where(column.to_numpy(), *bools)
            out[name] = pd.Series(cells, dtype="str") if name in TEXT_COLUMNS else \
                pd.Series(column.to_numpy(bool))
        elif name in TEXT_COLUMNS:
            if pd.api.types.is_numeric_dtype(column.dtype):
                return None
            out[name] = text_cell_values(column, name in neutral).astype("str") \
                .reset_index(drop=True)
        elif kind == "f":
            values, count, fast = float_cells_values(column.to_numpy(np.float64))
            number = count / 1e6
            slow = ~fast & ~np.isnan(values)
            if slow.any():
                texts = fixed6_texts(values[slow])
                number[slow] = _read_csv(io.StringIO("v\n" + "\n".join(texts) + "\n"),
                                         ["v"])["v"].to_numpy(np.float64)
            number[np.isnan(values)] = np.nan
            out[name] = pd.Series(number)
        elif pd.api.types.is_integer_dtype(column.dtype):
            missing = column.isna().to_numpy()
            out[name] = pd.Series(column.to_numpy(np.float64, na_value=np.nan) if missing.any()
                                  else column.to_numpy(np.int64))
        else:
            return None                 # text the reader would type by its content
    return pd.DataFrame(out)


def read_summary(path: Path) -> dict:
    file = path / "summary.json"
    if not file.exists():
        raise InputError("variant folder has no summary.json (not a finished run?)", file=file,
                         rule="each variant folder holds summary.json")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"summary.json is not valid JSON: {exc}", file=file) from exc


# Tables that do not depend on the variant (grading, 四至 checks): read once.
SHARED_TABLES = ("grades", "boundaries")


def load_variant(name: str, path: Path, skip: tuple[str, ...] = (),
                 known: dict[str, pd.DataFrame | None] | None = None) -> VariantResult:
    """The variant folder at ``path``; ``known``: tables already in hand as the reader
    would see them (:func:`as_read_back`), not read again (None: read)."""
    path = Path(path)
    known = known or {}
    tables = {t: pd.DataFrame() if t in skip else known[t] if known.get(t) is not None
              else read_table(path / f"{t}.csv") for t in TABLES}
    result = VariantResult(name=name, path=path, summary=read_summary(path), **tables)
    result.allocation = by_id(result.allocation)
    return result


def by_id(allocation: pd.DataFrame) -> pd.DataFrame:
    """The allocation table in the report's order (by id)."""
    if "id" not in allocation.columns:
        return allocation
    return allocation.sort_values("id", kind="mergesort", ignore_index=True)


def load_run(variant_dirs: dict[str, Path]) -> list[VariantResult]:
    """All variants, in the given order (base first by convention).

    grades.csv and boundaries.csv are read from the first variant that has them
    (see :func:`first_table`); the other variants get empty frames for those.
    """
    results = []
    for name, path in variant_dirs.items():
        have = tuple(t for t in SHARED_TABLES if any(not getattr(r, t).empty for r in results))
        results.append(load_variant(name, Path(path), skip=have))
    return results


def complete_shared(results: list[VariantResult]) -> list[VariantResult]:
    """Results loaded one by one (the first with its shared tables, the others with
    ``skip=SHARED_TABLES``, e.g. by the runner's workers) made equal to :func:`load_run`'s:
    a shared table the first variant lacks is read from the first later one that has it."""
    for table in SHARED_TABLES:
        if results and getattr(results[0], table).empty:
            for res in results[1:]:
                frame = read_table(res.path / f"{table}.csv")
                if not frame.empty:
                    setattr(res, table, frame)
                    break
    return results


def run_resources(results: list[VariantResult]) -> list[str]:
    """Union of resources over variants, canonical order."""
    present = {r for res in results for r in res.resources}
    return [r for r in RESOURCES if r in present]


def first_table(results: list[VariantResult], table: str) -> pd.DataFrame:
    """The first variant's non-empty table (grades, boundaries: the same for all variants)."""
    for res in results:
        frame = getattr(res, table)
        if not frame.empty:
            return frame
    return pd.DataFrame()


def stacked(results: list[VariantResult], table: str) -> pd.DataFrame:
    """One long frame of a table over variants, with a leading ``variant`` column."""
    frames = [getattr(res, table).assign(variant=res.name) for res in results
              if not getattr(res, table).empty]
    if not frames:
        return pd.DataFrame()
    long = pd.concat(frames, ignore_index=True)
    return long[["variant"] + [c for c in long.columns if c != "variant"]]


PROJECT_FIXED = ("id", "name", "zone_id", "investment_intensity", "eligible")
PROJECT_PER_VARIANT = ("admitted_share", "reason")


def projects_wide(results: list[VariantResult]) -> pd.DataFrame:
    """One row per candidate project: its data once, then share and reason per variant.

    Per-variant columns are named ``<column>@<variant>`` (see labels.header).
    """
    frames = [r for r in results if "id" in r.projects.columns]
    if not frames:
        return pd.DataFrame()
    fixed = pd.concat([r.projects[[c for c in PROJECT_FIXED if c in r.projects.columns]]
                       for r in frames]).drop_duplicates("id").sort_values("id", kind="mergesort")
    wide = fixed.set_index("id")
    for res in frames:
        part = res.projects.drop_duplicates("id").set_index("id")
        for col in PROJECT_PER_VARIANT:
            if col in part.columns:
                wide[f"{col}@{res.name}"] = part[col].reindex(wide.index)
    return wide.reset_index()


def _natural(key) -> tuple:
    """List positions in numeric order (runs.2 before runs.10), then names."""
    return (0, int(key), "") if str(key).isdigit() else (1, 0, str(key))


def flatten_manifest(manifest: dict, prefix: str = "") -> list[tuple[str, str]]:
    """Nested manifest → sorted (dotted key, text value) rows."""
    rows = []
    for key in sorted(manifest, key=_natural):
        value, name = manifest[key], f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows += flatten_manifest(value, name + ".")
        elif isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
            rows += flatten_manifest({str(i): v for i, v in enumerate(value)}, name + ".")
        elif isinstance(value, (list, tuple)):
            rows.append((name, ", ".join(str(v) for v in value)))
        else:
            rows.append((name, "" if value is None else str(value)))
    return rows


def scenario_name(manifest: dict) -> str:
    """``manifest["scenario"]`` is a name or a dict with one (mujun run writes the dict);
    ``mujun compare`` passes {"compared": {run folder: manifest}}."""
    compared = manifest.get("compared")
    if isinstance(compared, dict) and compared:
        return "对比 compare: " + ", ".join(f"{scenario_name(m) or '?'} ({folder})"
                                          for folder, m in compared.items()
                                          if isinstance(m, dict))
    scenario = manifest.get("scenario", manifest.get("name", ""))
    if isinstance(scenario, dict):
        scenario = scenario.get("name") or scenario.get("file") or ""
    return str(scenario)
