"""report.xlsx (SPEC §8): sheets summary, comparison, zones, enterprises, grades, tiers, manifest.

Written with XlsxWriter in ``constant_memory`` mode (rows streamed to disk) and with
``strings_to_formulas``/``strings_to_urls`` off: every text is a string cell, and
formula-like text is also neutralised with a leading apostrophe (SPEC §8). The
bodies of the long sheets are written by ``sheetdata.py`` in column blocks.

Layout choices (documented for planners):
- enterprises: one row per enterprise (sorted by id), *wide*: identity, grade,
  score and today's use once, then one block per variant (scale, quotas after,
  change %, value after, binding reason); row 1 names the variant of each block.
- zones and tiers: long, with a leading ``variant`` column (autofilter on it).
- grades: the evaluation of the first variant (grading does not depend on the variant).
- summary: KPIs (rows) × variants (columns), diagnoses, candidate projects and the
  四至 / approved-area findings (boundaries.csv).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from optimizer.errors import OutputError
from optimizer.report.labels import header
from optimizer.report.results import (VariantResult, first_table, flatten_manifest, load_run,
                                      projects_wide, run_resources, scenario_name,
                                      stacked)
from optimizer.report.safety import neutralise_formula, neutralise_frame
from optimizer.report.sheetdata import Bodies, Body, Deflated, deflate_body

EXCEL_MAX_ROWS = 1_048_576
SHEETS = ("summary", "comparison", "zones", "enterprises", "grades", "tiers", "manifest")
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": False}


def number_format(col: str) -> str:
    """Excel number format from the column's meaning (unit family)."""
    col = col.split("@", 1)[0]
    if col.endswith("_pct"):
        return "0.0"
    if col.startswith(("count_", "projects_")) or col == "rank_in_group":
        return "0"
    if col == "shadow_price":
        return "#,##0.0000"
    if "_per_value" in col or col.startswith("gini_") or col.endswith(("_quota_lo", "_quota_hi",
                                                                        "_efficiency")):
        return "0.0000"
    if col in ("scale", "scale_lo", "scale_hi", "weight", "land_tax_relief", "admitted_share",
               "electricity_surcharge_yuan_per_kwh"):
        return "0.000"
    return "#,##0.00"


# Every cell format of the workbook, in a fixed order: each gets the XF index 1 + its
# position (0 is the workbook's default), whichever sheet uses it first, so a table body
# can be formatted before the workbook exists (``prerender_grades``, in the early
# reader's child) with the style numbers the workbook will have.
NUMBER_FORMATS = ("#,##0.00", "0.0", "0", "#,##0.0000", "0.0000", "0.000")
STYLES = {"head": {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDE7F0",
                   "border": 1},
          "title": {"bold": True, "font_size": 14},
          "bold": {"bold": True},
          "text": {"num_format": "@"},
          **{fmt: {"num_format": fmt} for fmt in NUMBER_FORMATS}}
XF_INDEX = {name: i + 1 for i, name in enumerate(STYLES)}


@dataclass(frozen=True)
class Style:
    """A cell format known by its XF index alone (what the body writer reads)."""

    xf_index: int


class _Book:
    """Workbook plus its formats, with the fixed XF indices of ``STYLES``."""

    def __init__(self, path: Path):
        self.wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self._formats = {name: self.wb.add_format(props) for name, props in STYLES.items()}
        self.head, self.title, self.bold, self.text = (self._formats[k] for k in
                                                       ("head", "title", "bold", "text"))
        # XlsxWriter numbers formats in the order cells first use them; asking for every
        # index now fixes them in STYLES' order (a private method: if it is gone or numbers
        # otherwise, nothing formatted ahead is used)
        for fmt in self._formats.values():
            getattr(fmt, "_get_xf_index", lambda: None)()
        self.fixed = all(fmt.xf_index == XF_INDEX[name] for name, fmt in self._formats.items())
        self.bodies = Bodies()     # long table bodies, spliced in after close (sheetdata.py)

    def num(self, fmt: str):
        if fmt not in self._formats:
            self._formats[fmt] = self.wb.add_format({"num_format": fmt})
        return self._formats[fmt]


def cell_style(text: bool, key: str) -> Style:
    """The fixed format of a body column (see ``STYLES``)."""
    return Style(XF_INDEX["text" if text else number_format(key)])


def write_table(book: _Book, ws, frame: pd.DataFrame, row: int, keys: list[str] | None = None,
                filter_and_freeze: bool = True, freeze_cols: int = 1, bulk: bool = False,
                ahead: object = None) -> int:
    """Header (bilingual) + rows from ``row``; returns the next free row.

    ``keys`` are the logical column names (for labels/formats) when the frame's own
    column labels are not plain strings. With ``bulk`` the body is written by
    :mod:`optimizer.report.sheetdata` (about 10× faster) and the columns get their
    width and number format here, so cells written below it need their own format.
    ``ahead``: the body of this very frame made ahead by :func:`prerender_body` (a
    Deflated, or a callable giving it when the splice reaches it), used when it fits
    (fixed formats, same place and size).
    """
    keys = keys or [str(c) for c in frame.columns]
    room = EXCEL_MAX_ROWS - row - 2            # header row and one row for the note
    dropped = max(len(frame) - room, 0)
    if dropped:
        frame = frame.iloc[:room]
    ws.set_row(row, 45)
    for j, key in enumerate(keys):
        ws.write_string(row, j, header(key), book.head)
    texts = [_is_text(frame.iloc[:, j]) for j in range(frame.shape[1])]
    formats = [book.text if text else book.num(number_format(keys[j]))
               for j, text in enumerate(texts)]
    note = (f"… {dropped} more rows: Excel holds {EXCEL_MAX_ROWS:,} rows per sheet; see the "
            f"CSV files / 超出Excel行数上限") if dropped else None
    if bulk and ahead is not None and book.fixed and not dropped:
        _widths(ws, keys, formats)
        book.bodies.add(ws, Body(row + 1, [], texts, formats, ahead=ahead, shape=frame.shape,
                                 fallback=lambda: _body(frame, row + 1, texts, formats).columns))
    elif bulk:
        _widths(ws, keys, formats)
        book.bodies.add(ws, _body(frame, row + 1, texts, formats,
                                  (note, book.bold) if note else None))
    else:
        _write_cells(ws, neutralise_frame(frame), row + 1, texts, formats)
        if note:
            ws.write_string(row + 1 + len(frame), 0, note, book.bold)
    if filter_and_freeze:
        ws.freeze_panes(row + 1, min(freeze_cols, len(keys)))
        ws.autofilter(row, 0, row + len(frame), max(len(keys) - 1, 0))
    return row + 1 + len(frame) + (note is not None)


def _body(frame: pd.DataFrame, first_row: int, texts: list[bool], formats: list,
          note: tuple | None = None) -> Body:
    safe = neutralise_frame(frame)
    return Body(first_row, [_column(safe.iloc[:, j], text) for j, text in enumerate(texts)],
                texts, formats, note)


def prerender_body(frame: pd.DataFrame, keys: list[str] | None = None,
                   first_row: int = 1) -> Deflated | None:
    """The body of a table written by :func:`write_table` at ``first_row - 1`` (rows
    under its header, in the fixed formats), formatted and compressed without a
    workbook, by whichever process has the time: the early reader's child makes the
    grades sheet's while the run allocates, a child of the run the enterprises sheet's
    while it writes its CSVs (0.4 s each of the workbook at 100,000 firms). None when
    the sheet would not take it whole (no rows, more than Excel holds)."""
    if frame.empty or len(frame) > EXCEL_MAX_ROWS - first_row - 1:
        return None
    keys = keys or [str(c) for c in frame.columns]
    texts = [_is_text(frame.iloc[:, j]) for j in range(frame.shape[1])]
    return deflate_body(_body(frame, first_row, texts,
                              [cell_style(t, k) for t, k in zip(texts, keys)]))


def enterprise_rows(results: list[VariantResult]) -> Deflated | None:
    """The enterprises sheet's rows for ``results`` made ahead (:func:`prerender_body`)."""
    frame, keys, _ = enterprise_wide(_variants_within_budget(results)[0])
    return prerender_body(frame, keys, first_row=2)


def _write_cells(ws, safe: pd.DataFrame, first_row: int, texts: list[bool], formats: list) -> None:
    """Cell by cell through XlsxWriter (short tables inside the summary sheet)."""
    columns = [_cells(safe.iloc[:, j]) for j in range(safe.shape[1])]
    cells = [(j, ws.write_string if text else ws.write_number, fmt)
             for j, (text, fmt) in enumerate(zip(texts, formats))]
    for i, values in enumerate(zip(*columns)):
        for j, write, fmt in cells:
            if values[j] is not None:
                write(first_row + i, j, values[j], fmt)


def _column(values: pd.Series, text: bool):
    """A body column: list of str/None for text, float64 array for numbers."""
    return _cells(values) if text else values.astype("float64").to_numpy()


def _is_text(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def _cells(values: pd.Series) -> list:
    """Python values for XlsxWriter: str for text, float for numbers, None for blanks."""
    if _is_text(values):
        missing = values.isna().to_numpy()
        text = values.astype(str).tolist()
        if not missing.any():
            return text
        return [None if gone else v for v, gone in zip(text, missing.tolist())]
    floats = values.astype("float64").to_numpy()
    out = floats.astype(object)
    out[~np.isfinite(floats)] = None
    return out.tolist()


def _widths(ws, keys: list[str], formats: list | None = None) -> None:
    """Column widths; with ``formats``, also each column's number format."""
    for j, key in enumerate(keys):
        wide = key.split("@", 1)[0] in ("name", "binding", "reason", "sizhi", "violations",
                                         "value")
        ws.set_column(j, j, 28 if wide else 14, formats[j] if formats else None)


def _summary_sheet(book: _Book, results: list[VariantResult], comparison: pd.DataFrame,
                   manifest: dict) -> None:
    ws = book.wb.add_worksheet("summary")
    ws.set_column(0, 0, 46)
    ws.set_column(1, max(len(results), 1), 18)
    scenario = scenario_name(manifest)
    ws.write_string(0, 0, neutralise_formula(f"MuJun 亩均 report — 方案对比 scenario: {scenario}"),
                    book.title)
    kpi = comparison.set_index("variant").T.reset_index(names="key")
    kpi.columns = ["key"] + [str(c) for c in kpi.columns[1:]]
    ws.set_row(2, 30)
    ws.write_string(2, 0, "指标 / KPI", book.head)
    for j, variant in enumerate(kpi.columns[1:], start=1):
        ws.write_string(2, j, neutralise_formula(variant), book.head)
    for i, (key, *values) in enumerate(kpi.itertuples(index=False), start=3):
        ws.write_string(i, 0, header(key))
        for j, value in enumerate(values, start=1):
            _write_value(book, ws, i, j, value, number_format(key))
    ws.freeze_panes(3, 1)
    ws.autofilter(2, 0, 2 + len(kpi), len(kpi.columns) - 1)
    row = 4 + len(kpi)
    row = _diagnoses(book, ws, results, row)
    for title, frame in (("候选项目 / candidate projects", projects_wide(results)),
                         ("四至与核准面积核查 / boundary (四至) and approved-area findings",
                          first_table(results, "boundaries"))):
        if not frame.empty:
            ws.write_string(row, 0, title, book.bold)
            row = write_table(book, ws, frame, row + 1, filter_and_freeze=False) + 1


def _write_value(book: _Book, ws, row: int, col: int, value, fmt: str) -> None:
    if value is None or value is pd.NA:
        return
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if np.isfinite(float(value)):
            ws.write_number(row, col, float(value), book.num(fmt))
        return
    ws.write_string(row, col, neutralise_formula(str(value)))


def _diagnoses(book: _Book, ws, results: list[VariantResult], row: int) -> int:
    lines = [(res.name, str(d)) for res in results for d in res.summary.get("diagnosis") or []]
    if not lines:
        return row
    ws.write_string(row, 0, "不可行诊断 / infeasibility diagnosis", book.bold)
    for i, (variant, text) in enumerate(lines, start=row + 1):
        ws.write_string(i, 0, neutralise_formula(variant))
        ws.write_string(i, 1, neutralise_formula(text))
    return row + len(lines) + 2


def enterprise_wide(results: list[VariantResult]) -> tuple[pd.DataFrame, list[str], list]:
    """(frame with positional columns, logical keys, [(variant, first_col, last_col)])."""
    resources = run_resources(results)
    allocs = [res.allocation for res in results if "id" in res.allocation.columns]
    if not allocs:
        return pd.DataFrame(), [], []
    ident_cols = ["id", "name", "zone_id", "grade", "score"] + \
        [f"{r}_before" for r in resources] + ["value_before"]
    ident = pd.concat([a[[c for c in ident_cols if c in a.columns]] for a in allocs])
    if not (len(allocs) == 1 and _strictly_increasing(ident["id"])):   # else as it is
        ident = ident.drop_duplicates("id", keep="first").sort_values("id", kind="mergesort")
    ids = ident["id"].to_numpy()
    columns, keys, groups = [ident[c].reset_index(drop=True) for c in ident.columns], \
        list(ident.columns), []
    grade0 = ident.set_index("id")["grade"] if "grade" in ident.columns else None
    for res in results:
        if "id" not in res.allocation.columns:
            continue
        alloc = res.allocation
        if len(alloc) == len(ids) and np.array_equal(alloc["id"].to_numpy(), ids):
            alloc = alloc.set_index("id")           # already the sorted unique ids
        else:
            alloc = alloc.drop_duplicates("id").set_index("id").reindex(ids)
        cols = _variant_columns(alloc, resources, grade0)
        groups.append((res.name, len(keys), len(keys) + len(cols) - 1))
        columns += [alloc[c].reset_index(drop=True) for c in cols]
        keys += cols
    frame = pd.concat(columns, axis=1, ignore_index=True)
    return frame, keys, groups


def _strictly_increasing(ids: pd.Series) -> bool:
    """Sorted and unique (a result read back is sorted by id): nothing to drop or sort."""
    values = ids.to_numpy(dtype=object)
    return bool(len(values) < 2 or (values[1:] > values[:-1]).all())


def _variant_columns(alloc: pd.DataFrame, resources: list[str], grade0) -> list[str]:
    cols = ["scale"] + [f"{r}_after" for r in resources] + \
        [f"{r}_change_pct" for r in resources] + ["value_after", "binding"]
    if grade0 is not None and "grade" in alloc.columns and \
            not alloc["grade"].fillna("").equals(grade0.reindex(alloc.index).fillna("")):
        cols = ["grade"] + cols
    return [c for c in cols if c in alloc.columns]


# The wide enterprises sheet keeps its variant blocks under this many cells (base first)
# so a 20-variant sweep of 10,000 firms gives a workbook that opens quickly and does not
# spend the run writing Excel. Every variant's full table stays in its allocation.csv;
# the sheet names the variants it leaves out.
ENTERPRISE_CELL_BUDGET = 150_000


def _variants_within_budget(results: list[VariantResult]) -> tuple[list, list]:
    rows = max((len(r.allocation) for r in results), default=0)
    per_variant = rows * (2 * len(run_resources(results)) + 4)
    keep = max(1, ENTERPRISE_CELL_BUDGET // max(per_variant, 1))
    return results[:keep], results[keep:]


def _enterprise_sheet(book: _Book, results: list[VariantResult]) -> None:
    ws = book.wb.add_worksheet("enterprises")
    results, omitted = _variants_within_budget(results)
    frame, keys, groups = enterprise_wide(results)
    if frame.empty:
        ws.write_string(0, 0, "no allocation.csv in any variant / 无配置结果")
        return
    ws.write_string(0, 0, "方案 / variant →", book.bold)
    for variant, first, last in groups:
        label = neutralise_formula(f"方案 variant: {variant}")
        if last > first:
            ws.merge_range(0, first, 0, last, label, book.head)
        else:
            ws.write_string(0, first, label, book.head)
    if omitted:
        names = ", ".join(r.name for r in omitted)
        ws.write_string(0, len(keys) + 1, neutralise_formula(
            f"另有 {len(omitted)} 个方案未列出（见各方案 allocation.csv）/ {len(omitted)} more "
            f"variants not shown here, see <variant>/allocation.csv: {names}"), book.bold)
    # rows made ahead are for the first variant alone (a lone run; see pipeline.run_variant)
    ahead = results[0].xlsx_bodies.get("enterprises") if len(results) == 1 else None
    write_table(book, ws, frame, 1, keys=keys, freeze_cols=2, bulk=True, ahead=ahead)


def _long_sheet(book: _Book, name: str, frame: pd.DataFrame, freeze_cols: int = 1,
                ahead: object = None) -> None:
    ws = book.wb.add_worksheet(name)
    if frame.empty:
        ws.write_string(0, 0, f"no {name} table in the run / 无数据")
        return
    write_table(book, ws, frame, 0, freeze_cols=freeze_cols, bulk=True, ahead=ahead)


def _prerendered(results: list[VariantResult], table: str, frame: pd.DataFrame):
    """The body made ahead for ``frame``, the ``table`` of one of ``results`` (a Deflated
    or a callable giving it; None if none)."""
    return next((res.xlsx_bodies.get(table) for res in results
                 if getattr(res, table) is frame), None)


def render_xlsx(out_path: Path, results: list[VariantResult], manifest: dict,
                comparison: pd.DataFrame, *, helper: bool = False, gate: int | None = None) -> None:
    """All seven sheets from loaded results (see module docstring for layouts).

    ``helper``: a second process may format rows of the long tables, once the file
    descriptor ``gate`` reads to its end (:class:`optimizer.report.sheetdata.Chunks`)."""
    book = _Book(Path(out_path))
    _summary_sheet(book, results, comparison, manifest)
    _long_sheet(book, "comparison", comparison)
    _long_sheet(book, "zones", stacked(results, "zones"), freeze_cols=2)
    _enterprise_sheet(book, results)
    grades = first_table(results, "grades")
    _long_sheet(book, "grades", grades, ahead=_prerendered(results, "grades", grades))
    _long_sheet(book, "tiers", stacked(results, "tiers"), freeze_cols=2)
    _long_sheet(book, "manifest", pd.DataFrame(flatten_manifest(manifest),
                                               columns=["key", "value"]))
    try:
        book.wb.close()
        book.bodies.splice(Path(out_path), [ws.name for ws in book.wb.worksheets()],
                           helper=helper, gate=gate)
    except OSError as exc:
        raise OutputError(f"cannot write report.xlsx: {exc}", file=out_path) from exc


def write_xlsx(out_path: Path, variant_dirs: dict[str, Path], manifest: dict,
               comparison: pd.DataFrame) -> None:
    """report.xlsx for finished variant folders (base first)."""
    render_xlsx(Path(out_path), load_run(variant_dirs), manifest, comparison)
