"""Readers for enterprise and project tables: CSV, XLSX and vector layers (SPEC §2).

Government exports are often GBK; the encoding is detected from the bytes (BOM,
then strict UTF-8, then strict GB18030, a superset of GBK) and recorded in
``frame.attrs["encoding"]`` — never guessed silently: a file that decodes as
neither is an error naming the byte offset.
"""

from __future__ import annotations

import codecs
import collections
import csv
import io
import re
from pathlib import Path

import pandas as pd

from optimizer.errors import InputError

CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
LAYER_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb"}


def check_file(path: Path, what: str) -> Path:
    """A readable regular file, or an InputError naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file not found", file=path, rule="file exists")
    if path.is_dir():
        raise InputError(f"{what} path is a directory, not a file", file=path, rule="is a file")
    return path


def detect_encoding(raw: bytes, path: Path) -> str:
    """BOM first, then strict UTF-8, then strict GB18030 (covers GBK/GB2312)."""
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            raw.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            raise InputError(
                f"cannot decode the file: not UTF-8 (byte {utf8_error.start}) and not GBK/GB18030; "
                "save it as UTF-8 or GBK", file=path, rule="encoding") from None


def read_raw_table(path: Path, *, what: str, sheet: str | int | None = None,
                   layer: str | None = None, numbers=None) -> pd.DataFrame:
    """Read a table as text cells (object dtype), keeping geometry for layers.

    Every non-geometry cell is a str ("" for empty) so that validation sees
    exactly what the user typed.

    ``numbers`` (CSV only): a function from the header cells to the headers of the
    numeric columns. Those columns are then parsed as float64 by the CSV reader (empty
    cells NaN), which is three times faster than text plus ``pd.to_numeric`` at
    100,000 rows; if any of their cells is not a plain number (a thousands separator, a
    word, full-width digits), the whole table is read as text instead. A validation
    error found in such a frame is re-checked on the text (``validation._read_table``),
    so messages always quote what the user typed.
    """
    path = check_file(path, what)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path, numbers)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, sheet)
    if suffix == ".xls":
        raise InputError("legacy .xls workbooks are not supported; save as .xlsx or CSV",
                         file=path, rule="file format")
    if suffix in LAYER_SUFFIXES:
        return _read_layer_table(path, layer)
    raise InputError(f"unsupported {what} file type {suffix!r}; use CSV, XLSX, GeoPackage, "
                     "Shapefile or GeoJSON", file=path, rule="file format")


def _read_csv(path: Path, numbers=None) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("the file is empty", file=path, rule="non-empty table")
    encoding = detect_encoding(raw, path)          # decodes the whole file once to check
    # plain UTF-8 needs no second decoding: its head is enough to find the header
    text = _head(raw) if encoding == "utf-8" else raw.decode(encoding)
    first, second = (re.split(r"\r\n|\r|\n", text.lstrip("\r\n"), maxsplit=2) + ["", ""])[:2]
    sep, hinted = _delimiter(first, path)
    header_line = second if hinted else first
    header = next(csv.reader([header_line], delimiter=sep), [])
    check_header(header, path)
    # UTF-8 bytes, not a StringIO: pandas re-encodes a text buffer in chunks and
    # carries the surplus of multi-byte characters forward by copying it, which is
    # quadratic (3.6 s of 12 s for a 1,000,000-row table with Chinese names)
    data = raw if encoding == "utf-8" else text.encode("utf-8")
    options = dict(encoding="utf-8", sep=sep, keep_default_na=False, skipinitialspace=False,
                   skip_blank_lines=True, skiprows=1 if hinted else None)
    frame = _read_numbers(data, numbers(header), options) if numbers is not None else None
    try:
        if frame is None:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, **options)
    except pd.errors.ParserError as exc:
        # pandas counts file lines from 1 with the header on line 1: the spreadsheet row
        line = re.search(r"line (\d+)", str(exc))
        raise InputError(f"not a valid CSV table: {str(exc).strip()} (a comma inside an "
                         "unquoted cell?)", file=path, row=int(line.group(1)) if line else None,
                         rule="CSV format") from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=path, rule="non-empty table") from None
    frame.attrs["encoding"] = encoding
    frame.attrs["delimiter"] = sep
    frame.attrs["row_offset"] = 3 if hinted else 2     # Excel's "sep=" line is row 1
    return frame


def _head(raw: bytes, size: int = 1 << 16) -> str:
    """The first lines of valid UTF-8 ``raw`` as text: a prefix holding at least three
    lines after any leading line breaks (the header, a "sep=" hint), cut after a line
    break so that no character is split; the whole file when it is shorter."""
    start = re.match(rb"[\r\n]*", raw).end()
    while start + size < len(raw):
        cut = raw.rfind(b"\n", start, start + size)
        if cut >= 0 and raw.count(b"\n", start, cut + 1) >= 3:
            return raw[:cut + 1].decode("utf-8")
        size *= 4
    return raw.decode("utf-8")


def _read_numbers(data: bytes, numeric: list[str], options: dict) -> pd.DataFrame | None:
    """The table with the ``numeric`` columns parsed as float64 (empty cells NaN) and
    the others as text; None when a numeric cell is not a plain number or the table
    does not parse (the text reader then says why)."""
    if not numeric:
        return None
    dtypes = collections.defaultdict(lambda: str, {h: "float64" for h in numeric})
    try:
        # only "" is missing: "nan", "NA" and "N/A" stop the parse (the text is checked)
        return pd.read_csv(io.BytesIO(data), dtype=dtypes, na_values={h: [""] for h in numeric},
                           **options)
    except (ValueError, TypeError, pd.errors.EmptyDataError):
        return None


def _delimiter(first_line: str, path: Path) -> tuple[str, bool]:
    """The separator, and whether the first line is Excel's ``sep=,`` hint.

    A header without a comma but with tabs is Excel's "Unicode text" export
    (UTF-16, tab-separated). Semicolons are refused: such files come from
    locales with decimal commas, and "30,5" would silently read as 305.
    """
    hint = re.fullmatch(r"\s*sep=(.)\s*", first_line)
    sep = hint.group(1) if hint else ("\t" if "," not in first_line and "\t" in first_line
                                      else ",")
    if sep == ";" or (not hint and "," not in first_line and ";" in first_line):
        raise InputError("the table is separated by semicolons; save it as CSV with commas "
                         "(decimal points, not decimal commas) or as XLSX", file=path, row=1,
                         rule="CSV format")
    if sep not in (",", "\t"):
        raise InputError(f"unsupported separator {sep!r}; save the table as CSV with commas",
                         file=path, row=1, rule="CSV format")
    return sep, bool(hint)


def _read_xlsx(path: Path, sheet: str | int | None) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputError(f"cannot open the workbook: {exc}", file=path, rule="XLSX format") from None
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            ws = book.worksheets[sheet]
        elif sheet in book.sheetnames:
            ws = book[sheet]
        else:
            raise InputError(f"sheet {sheet!r} not found; the workbook has "
                             f"{', '.join(book.sheetnames)}", file=path, rule="sheet exists")
        rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    rows = [r for r in rows if any(cell.strip() for cell in r)] if rows else rows
    if not rows:
        raise InputError("the sheet is empty", file=path, rule="non-empty table")
    header, body = rows[0], rows[1:]
    # a blank header cell is a spare column (notes): name it as pandas does for CSV
    header = [h if h.strip() else f"Unnamed: {i}" for i, h in enumerate(header)]
    check_header(header, path)
    width = len(header)
    body = [(r + [""] * width)[:width] for r in body]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.attrs["encoding"] = "xlsx"
    frame.attrs["row_offset"] = 2
    return frame


def check_header(header: list[str], path: Path) -> None:
    """Two columns with the same header: which one holds the data is anyone's guess."""
    seen: dict[str, int] = {}
    for i, name in enumerate(h.strip() for h in header):
        if name and name in seen:
            raise InputError(f"the header {name!r} appears twice (columns {seen[name] + 1} and "
                             f"{i + 1}); keep one or rename the other", file=path, row=1,
                             column=name, rule="unique headers")
        seen.setdefault(name, i)


def _read_layer_table(path: Path, layer: str | None) -> pd.DataFrame:
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise InputError(f"cannot open the layer file: {exc}", file=path, rule="vector format") from None
    if layer is not None and layer not in layers:
        raise InputError(f"layer {layer!r} not found; the file has {', '.join(layers)}",
                         file=path, rule="layer exists")
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"cannot read the layer: {exc}", file=path, rule="vector format") from None
    geometry = gdf.geometry if gdf.geometry.name in gdf.columns else None
    table = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in table.columns:
        table[col] = table[col].map(_cell_text).astype(object)
    # shapely.is_missing: GeoSeries.notna() warns when some parcels are empty geometries
    if geometry is not None and not shapely.is_missing(np.asarray(geometry.array)).all():
        table = gpd.GeoDataFrame(table, geometry=geometry.values, crs=gdf.crs)
    table.attrs["encoding"] = "layer"
    table.attrs["row_offset"] = 2
    return table


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    return str(value)
