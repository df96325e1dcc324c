"""Apply the data contract (optimizer.schema) to a raw text table.

Every rule is checked column by column with vectorised masks; all broken rules
are collected (up to ``MAX_REPORTED_ERRORS``) and raised together, each naming
the file, the spreadsheet row (header = row 1), the column as the user wrote
it and the rule.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.errors import ErrorCollector, InputError, MujunError
from optimizer.schema import (ENTERPRISE_COLUMNS, PLAUSIBLE_MAX_MONEY_WAN, PROJECT_COLUMNS,
                              Column)

TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "规上", "外资", "√", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "规下", "内资", "×", "0.0"}
GENERAL_MAX = 1e12   # any non-money quantity beyond this is a unit error
FIXED_GRADES = ("", "A", "B", "C", "D", "U")   # 评价等级 fixed by the planner (U = 未评价)


def normalise_header(text: str) -> str:
    """NFKC folds full-width letters and brackets: （亩） → (亩)."""
    return unicodedata.normalize("NFKC", str(text)).strip().lower()


def normalise_text(values: pd.Series) -> pd.Series:
    """Strip spaces (incl. full-width) and fold full-width characters (NFKC)."""
    text = values.astype(str)
    cells = text.tolist()
    # One look at the cells joined by NUL instead of one call per cell: NUL never
    # composes or reorders under NFKC, so the joined text is NFKC-normal exactly when
    # every cell is; a cell to strip has whitespace next to a NUL; a NUL inside a
    # cell shows in the count (such a column takes the cell-by-cell way).
    joined = "\x00" + "\x00".join(cells) + "\x00"
    ascii_only = joined.isascii()
    if (joined.count("\x00") == len(cells) + 1 and not _SPACE_AFTER_NUL.search(joined)
            and not _SPACE_AFTER_NUL.search(joined[::-1])
            and (ascii_only or unicodedata.is_normalized("NFKC", joined))):
        return text
    if ascii_only:
        return text.str.strip()
    normalize = unicodedata.normalize
    return pd.Series([normalize("NFKC", v).strip() for v in cells], index=text.index,
                     dtype=text.dtype)


# A cell to strip starts or ends with whitespace: a NUL then a space in the joined text or
# in its reverse. The literal first lets the scan jump from NUL to NUL (4× faster than
# one pattern with both sides). \s is str.isspace (Py_UNICODE_ISSPACE).
_SPACE_AFTER_NUL = re.compile(r"\x00\s")


def map_headers(frame: pd.DataFrame, columns: tuple[Column, ...], path: Path,
                errors: ErrorCollector) -> dict[str, str]:
    """Canonical name → the user's header; reports doubles and misspellings."""
    lookup: dict[str, str] = {}
    for col in columns:
        for label in (col.name, *col.aliases):
            lookup[normalise_header(label)] = col.name
    found: dict[str, str] = {}
    unmatched = []
    for header in frame.columns:
        if header == "geometry":
            continue
        canonical = lookup.get(normalise_header(header))
        if canonical is None:
            unmatched.append(str(header))
        elif canonical in found:
            errors.add(InputError(f"columns {found[canonical]!r} and {header!r} both mean "
                                  f"{canonical!r}", file=path, row=1, column=str(header),
                                  rule="one column per field"))
        else:
            found[canonical] = str(header)
    for col in columns:
        if col.required and col.name not in found:
            hint = difflib.get_close_matches(normalise_header(col.name),
                                             [normalise_header(u) for u in unmatched], n=1, cutoff=0.6)
            hint_aliases = [u for u in unmatched for a in (col.name, *col.aliases)
                            if difflib.SequenceMatcher(None, normalise_header(a),
                                                       normalise_header(u)).ratio() >= 0.6]
            suggestion = (hint_aliases or hint)
            msg = f"required column {col.name!r} is missing"
            if col.aliases:
                msg += f" (accepted headers: {', '.join((col.name, *col.aliases))})"
            if suggestion:
                msg += f"; did you mean to name {suggestion[0]!r} {col.name!r}?"
            errors.add(InputError(msg, file=path, row=1, column=col.name, rule="required column"))
    return found


def _report(errors: ErrorCollector, mask: np.ndarray, rows: np.ndarray, path: Path, header: str,
            message: str, rule: str, values: pd.Series | None = None) -> None:
    positions = np.flatnonzero(mask)
    room = max(errors.limit - len(errors.errors), 0)
    for pos in positions[:room]:
        text = message if values is None else f"{message}: {values.iloc[pos]!r}"
        errors.add(InputError(text, file=path, row=int(rows[pos]), column=header, rule=rule))
    errors.dropped += max(len(positions) - room, 0)


def coerce_column(raw: pd.Series, col: Column, header: str, rows: np.ndarray, path: Path,
                  errors: ErrorCollector) -> pd.Series:
    if col.kind not in ("str", "bool"):
        return _coerce_number(raw, col, header, rows, path, errors)
    text = normalise_text(raw.fillna(""))
    empty = (text == "").to_numpy()
    if col.required and empty.any():
        _report(errors, empty, rows, path, header, "required value is empty", "required value")
    if col.kind == "str":
        return text
    if col.kind == "bool":
        # a yes/no column holds few distinct words: look each up once (str.lower, as
        # the per-cell way), then spread the answers by code
        codes, words = pd.factorize(text.to_numpy(dtype=object), use_na_sentinel=False)
        low = [str(w).lower() for w in words]
        is_true = np.array([w in TRUE_WORDS for w in low] or [False])[codes]
        is_false = np.array([w in FALSE_WORDS for w in low] or [False])[codes]
        bad = ~(is_true | is_false | empty)
        _report(errors, bad, rows, path, header, "not a yes/no value (true/false, 1/0, 是/否)",
                "boolean", text)
        return pd.Series(np.where(empty, bool(col.default), is_true), index=raw.index, dtype=bool)


class _LazyText:
    """The normalised cell texts, made only when a message quotes one."""

    def __init__(self, raw: pd.Series):
        self.raw, self._text = raw, None

    @property
    def iloc(self):
        if self._text is None:
            self._text = normalise_text(self.raw.fillna(""))
        return self._text.iloc


def _coerce_number(raw: pd.Series, col: Column, header: str, rows: np.ndarray, path: Path,
                   errors: ErrorCollector) -> pd.Series:
    # Cells that parse as they are (nearly all) skip the text clean-up; it cannot change
    # their value: NFKC leaves ASCII alone and the parser ignores surrounding spaces.
    if pd.api.types.is_float_dtype(raw.dtype):
        # parsed by the CSV reader (io.tables.read_raw_table ``numbers``): NaN is an empty cell
        values = raw.to_numpy(dtype=float, copy=True)
        empty = np.isnan(values)
        redo = np.empty(0, dtype=np.intp)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
        empty = np.zeros(len(values), dtype=bool)
        redo = np.flatnonzero(np.isnan(values))
    if len(redo):
        # empty cells, thousands separators, full-width digits, words
        text = normalise_text(raw.iloc[redo].fillna(""))
        empty[redo] = (text == "").to_numpy()
        cleaned = text.str.replace(",", "", regex=False)
        values[redo] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    if col.required and empty.any():
        _report(errors, empty, rows, path, header, "required value is empty", "required value")
    text = _LazyText(raw)
    not_number = np.isnan(values) & ~empty
    _report(errors, not_number, rows, path, header, "not a number", "number", text)
    infinite = np.isinf(values)
    _report(errors, infinite, rows, path, header, "not a finite number", "finite number", text)
    finite = np.isfinite(values)
    if col.min_value is not None:
        low = finite & (values < col.min_value)
        _report(errors, low, rows, path, header, f"must be ≥ {col.min_value:g} {col.unit}".rstrip(),
                f"{col.name} ≥ {col.min_value:g}", text)
    if col.positive:
        zero = finite & (values == 0)
        _report(errors, zero, rows, path, header,
                "must be > 0 (per-mu indicators and quotas need land)", f"{col.name} > 0")
    ceiling = col.max_value or (PLAUSIBLE_MAX_MONEY_WAN if col.unit == "万元" else GENERAL_MAX)
    huge = finite & (np.abs(values) > ceiling)
    _report(errors, huge, rows, path, header,
            f"implausible magnitude (> {ceiling:,.0f} {col.unit}); check the unit".replace("  ", " "),
            "plausible magnitude", text)
    if col.default is not None:
        values = np.where(empty, float(col.default), values).astype(float)
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=raw.index, dtype="float64")


def validate_table(raw: pd.DataFrame, columns: tuple[Column, ...], path: Path, *,
                   what: str, zone_optional: bool = False) -> pd.DataFrame:
    """Raw text table → canonical frame, or ValidationErrors with every broken rule."""
    errors = ErrorCollector()
    if len(raw) == 0:
        raise InputError(f"the {what} table has a header but no data rows", file=path, row=2,
                         rule="non-empty table")
    if zone_optional:
        columns = tuple(Column(c.name, c.kind, c.aliases, False, c.unique, c.min_value,
                               c.positive, c.max_value, "", c.unit, c.label_zh)
                        if c.name == "zone_id" else c for c in columns)
    headers = map_headers(raw, columns, path, errors)
    rows = np.arange(len(raw)) + int(raw.attrs.get("row_offset", 2))
    out = {}
    for col in columns:
        if col.name in headers:
            out[col.name] = coerce_column(raw[headers[col.name]], col, headers[col.name], rows, path,
                                          errors)
        elif not col.required:
            out[col.name] = _default_series(col, len(raw), raw.index)
    for col in columns:
        if col.unique and col.name in out:
            _check_unique(out[col.name], headers.get(col.name, col.name), rows, path, errors)
    if "grade" in out:
        codes, given = pd.factorize(out["grade"].to_numpy(dtype=object), use_na_sentinel=False)
        bad = np.array([str(g).upper() not in FIXED_GRADES for g in given] or [False])[codes]
        _report(errors, bad, rows, path, headers.get("grade", "grade"),
                "a planner-fixed grade must be A, B, C, D, U or empty", "planner-fixed grade",
                out["grade"])
    errors.errors.sort(key=lambda e: e.row or 0)   # stable: column order within a row
    errors.raise_if_any()
    frame = pd.DataFrame(out, index=raw.index)
    extras = [c for c in raw.columns if c not in headers.values() and c != "geometry"]
    for c in extras:
        frame[str(c)] = raw[c]
    frame["source_row"] = rows
    if "geometry" in raw.columns and hasattr(raw, "crs"):
        import geopandas as gpd

        frame = gpd.GeoDataFrame(frame, geometry=raw.geometry.values, crs=raw.crs)
    frame = frame.reset_index(drop=True)
    frame.attrs.update(raw.attrs)
    frame.attrs["source"] = str(path)
    frame.attrs["headers"] = headers
    return frame


def _default_series(col: Column, n: int, index) -> pd.Series:
    if col.kind == "str":
        return pd.Series([col.default or ""] * n, index=index, dtype=object).astype(str)
    if col.kind == "bool":
        return pd.Series(np.full(n, bool(col.default)), index=index, dtype=bool)
    fill = np.nan if col.default is None else float(col.default)
    return pd.Series(np.full(n, fill), index=index, dtype="float64")


def _check_unique(values: pd.Series, header: str, rows: np.ndarray, path: Path,
                  errors: ErrorCollector) -> None:
    present = values != ""
    dup = values.duplicated(keep="first") & present
    if not dup.any():
        return
    first_row = pd.Series(rows, index=values.index).groupby(values).transform("min")
    for pos in np.flatnonzero(dup.to_numpy())[: errors.limit]:
        errors.add(InputError(
            f"duplicate id {values.iloc[pos]!r} (also on row {int(first_row.iloc[pos])}; ids are "
            "compared after trimming spaces and folding full-width characters)",
            file=path, row=int(rows[pos]), column=header, rule="unique id"))


def read_enterprises(path: Path, *, sheet=None, layer=None, zone_optional: bool = False) -> pd.DataFrame:
    return _read_table(Path(path), ENTERPRISE_COLUMNS, "enterprise", sheet, layer, zone_optional)


def read_projects(path: Path, *, sheet=None, layer=None) -> pd.DataFrame:
    return _read_table(Path(path), PROJECT_COLUMNS, "project", sheet, layer)


def _read_table(path: Path, columns: tuple[Column, ...], what: str, sheet, layer,
                zone_optional: bool = False) -> pd.DataFrame:
    """Read and validate; numeric CSV columns are parsed by the reader (``numbers``) and,
    if the frame breaks a rule, the table is read again as text so that every message
    quotes the cells as the user typed them."""
    from optimizer.io.tables import read_raw_table

    raw = read_raw_table(path, what=what, sheet=sheet, layer=layer,
                         numbers=lambda header: numeric_headers(header, columns))
    zone_optional = zone_optional and "geometry" in raw.columns
    if not _parsed_numbers(raw):
        return validate_table(raw, columns, path, what=what, zone_optional=zone_optional)
    try:
        return validate_table(raw, columns, path, what=what, zone_optional=zone_optional)
    except MujunError:
        pass
    raw = read_raw_table(path, what=what, sheet=sheet, layer=layer)
    return validate_table(raw, columns, path, what=what, zone_optional=zone_optional)


def numeric_headers(header: list[str], columns: tuple[Column, ...]) -> list[str]:
    """The header cells that name a numeric column (as ``map_headers`` matches them)."""
    numeric = {normalise_header(label) for col in columns if col.kind == "float"
               for label in (col.name, *col.aliases)}
    return [h for h in header if normalise_header(h) in numeric]


def _parsed_numbers(raw: pd.DataFrame) -> bool:
    return any(pd.api.types.is_float_dtype(dtype) for dtype in raw.dtypes)


def check_zone_ids(frame: pd.DataFrame, known_zone_ids, path: Path, zones_path: Path,
                   header: str = "zone_id") -> None:
    """Every enterprise's zone must exist in the zones layer."""
    errors = ErrorCollector()
    known = set(map(str, known_zone_ids))
    zone = frame["zone_id"]
    bad = ((zone != "") & ~zone.isin(known)).to_numpy()
    for pos in np.flatnonzero(bad)[: errors.limit]:
        errors.add(InputError(f"zone {zone.iloc[pos]!r} is not in the zones layer {zones_path}",
                              file=path, row=int(frame["source_row"].iloc[pos]),
                              column=frame.attrs.get("headers", {}).get("zone_id", header),
                              rule="zone exists"))
    errors.raise_if_any()
