"""Read finished variant folders (SPEC §8) back for reporting.

The report never solves: it reads what the run wrote. Text columns stay text
(an enterprise called "NA" or "-2" is a name, not a missing value or a number);
other columns become numbers where every non-empty cell parses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
        text = [c for c in columns if c in TEXT_COLUMNS]
        frame = pd.read_csv(path, encoding="utf-8", dtype={c: str for c in text},
                            keep_default_na=False,
                            na_values={c: [""] for c in columns if c not in TEXT_COLUMNS})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read result table: {exc}", file=path,
                         rule="result CSV as written by mujun run") from exc
    for col in frame.columns:
        if col not in TEXT_COLUMNS and not pd.api.types.is_numeric_dtype(frame[col]):
            frame[col] = frame[col].fillna("").astype(str)
    return frame


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


def load_variant(name: str, path: Path, skip: tuple[str, ...] = ()) -> VariantResult:
    path = Path(path)
    tables = {t: pd.DataFrame() if t in skip else read_table(path / f"{t}.csv") for t in TABLES}
    result = VariantResult(name=name, path=path, summary=read_summary(path), **tables)
    if "id" in result.allocation.columns:
        result.allocation = result.allocation.sort_values("id", kind="mergesort",
                                                          ignore_index=True)
    return result


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
