"""Bulk table bodies (sheetdata.py) read back exactly as XlsxWriter's own cells."""

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib

import numpy as np
import openpyxl
import pandas as pd
import pytest

from optimizer.report import sheetdata, zipmember
from optimizer.report.xlsx import _Book, write_table

TRICKY = ["plain", "=HYPERLINK(\"http://x\")", " lead", "trail ", "a&b<c>d", "tab\there",
          "ctl\x01\x1fchars", "_x0041_ literal", "新昌县某某机械有限公司", "line\nbreak", "", None]


def tricky_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    values = rng.normal(size=n) * 10.0 ** rng.integers(-6, 9, size=n)
    values[::7] = np.nan
    values[3::11] = np.inf
    return pd.DataFrame({
        "id": [f"E{i:05d}" for i in range(n)],
        "name": [TRICKY[i % len(TRICKY)] for i in range(n)],
        "land_mu_after": values,
        "count_firms": rng.integers(0, 1000, size=n),
        "above_scale": [bool(i % 2) for i in range(n)],
        "scale": rng.random(n),
        "grade": pd.array([None if i % 5 == 0 else "ABCD"[i % 4] for i in range(n)], dtype=object),
    })


def write_book(path, frame: pd.DataFrame, bulk: bool, trailer: bool = False) -> None:
    book = _Book(path)
    ws = book.wb.add_worksheet("t")
    ws.write_string(0, 0, "title", book.bold)
    end = write_table(book, ws, frame, 2, bulk=bulk, filter_and_freeze=not trailer)
    if trailer:
        ws.write_string(end + 1, 0, "after the table", book.bold)
    book.wb.close()
    book.bodies.splice(path, [w.name for w in book.wb.worksheets()])


def cells(path):
    ws = openpyxl.load_workbook(path)["t"]
    return [[(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize("trailer", [False, True])
def test_bulk_body_reads_back_like_xlsxwriter_cells(tmp_path, trailer):
    frame = tricky_frame(257)
    write_book(tmp_path / "slow.xlsx", frame, bulk=False, trailer=trailer)
    write_book(tmp_path / "fast.xlsx", frame, bulk=True, trailer=trailer)
    slow, fast = cells(tmp_path / "slow.xlsx"), cells(tmp_path / "fast.xlsx")
    assert len(fast) == 3 + 257 + 2 * trailer
    # XlsxWriter prints numbers with %.16G; the bulk path the shortest exact text
    assert [[(pytest.approx(v, rel=1e-15) if isinstance(v, float) else v, t, f)
             for v, t, f in row] for row in slow] == fast
    if trailer:
        assert fast[-1][0][0] == "after the table"


def test_blank_cells_next_to_each_other_read_back_like_xlsxwriter_cells(tmp_path):
    """Every pattern of blanks over four columns (first, last, neighbours, whole row),
    beside a text column with a cell to escape: the joints between cells leave out
    exactly the blank cells' markup."""
    rows = 2 ** 4
    pattern = np.array([[(r >> k) & 1 for k in range(4)] for r in range(rows)], bool)
    frame = pd.DataFrame({
        "first": np.where(pattern[:, 0], np.nan, np.arange(rows) + 0.5),
        "name": [None if p else ("a&b" if r % 3 == 0 else f"n{r}")
                 for r, p in enumerate(pattern[:, 1])],
        "third": np.where(pattern[:, 2], np.inf, -np.arange(rows) - 0.25),
        "grade": [None if p else "ABCD"[r % 4] for r, p in enumerate(pattern[:, 3])],
    })
    write_book(tmp_path / "slow.xlsx", frame, bulk=False)
    write_book(tmp_path / "fast.xlsx", frame, bulk=True)
    assert cells(tmp_path / "fast.xlsx") == cells(tmp_path / "slow.xlsx")
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as z:
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    written = [len(row.findall("m:c", ns)) for row in root.iterfind("m:sheetData/m:row", ns)]
    assert written[2:] == [4 - int(p.sum()) for p in pattern]   # title, header, then rows


def test_bulk_sheet_is_well_formed_with_the_full_dimension(tmp_path, monkeypatch):
    monkeypatch.setattr(sheetdata, "ROWS_PER_CHUNK", 50)      # several chunks
    write_book(tmp_path / "fast.xlsx", tricky_frame(120), bulk=True)
    with zipfile.ZipFile(tmp_path / "fast.xlsx") as z:
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    assert root.find("m:dimension", ns).get("ref") == "A1:G123"
    rows = [int(r.get("r")) for r in root.iterfind("m:sheetData/m:row", ns)]
    assert rows == [1, 3] + list(range(4, 124))
    ws = openpyxl.load_workbook(tmp_path / "fast.xlsx", read_only=True)["t"]
    assert ws.calculate_dimension() == "A1:G123"


def test_exact_numbers_survive(tmp_path):
    values = np.array([0.1 + 0.2, 1e-300, 123456789.123456789, -0.0, 2.0 ** 53 + 1, 5e-324])
    frame = pd.DataFrame({"scale": values})
    write_book(tmp_path / "fast.xlsx", frame, bulk=True)
    ws = openpyxl.load_workbook(tmp_path / "fast.xlsx")["t"]
    assert [ws.cell(row=4 + i, column=1).value for i in range(len(values))] == values.tolist()


def test_number_texts_read_back_as_the_same_doubles():
    """orjson's formatting (number_texts) against the values, bit for bit, and no
    longer than repr's: random magnitudes, subnormals, extremes, -0.0, integers."""
    rng = np.random.default_rng(11)
    values = np.concatenate([
        rng.normal(size=200_000) * 10.0 ** rng.integers(-320, 308, size=200_000),
        rng.integers(-2**53, 2**53, size=1000).astype(float), np.round(rng.normal(size=1000), 6),
        [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16,
         1e15, 1e-5, 1e-4, 0.1, 1 / 3, 2.0 ** 53 + 2]])
    values = values[np.isfinite(values)]
    texts = sheetdata.number_texts(values)
    back = np.array([float(t) for t in texts])
    assert back.view(np.int64).tolist() == values.view(np.int64).tolist()
    assert all(len(t) <= len(repr(v)) + 2 for t, v in zip(texts, values.tolist()))
    assert all(t.isascii() and "," not in t for t in texts)
    assert sheetdata.number_texts(np.array([np.nan, np.inf, -np.inf, 1.5])) == \
        ["null", "null", "null", "1.5"]
    assert sheetdata.number_texts(np.array([])) == []


def test_overlapped_writer_keeps_order_and_reraises_a_write_error():
    class Sink:
        def __init__(self, fail_at=None):
            self.got, self.fail_at = [], fail_at

        def write(self, piece):
            if len(self.got) == self.fail_at:
                raise OSError(28, "No space left on device")
            self.got.append(piece)

    pieces = [str(i).encode() for i in range(200)]
    sink = Sink()
    zipmember.write_overlapped(sink, iter(pieces))
    assert sink.got == pieces
    sink = Sink(fail_at=3)
    with pytest.raises(OSError, match="No space"):
        zipmember.write_overlapped(sink, iter(pieces))      # no deadlock on a full queue
    assert sink.got == pieces[:3]


def test_body_goes_into_an_empty_sheet_data():
    class Fmt:
        xf_index = 3

    xml = (b'<worksheet><dimension ref="A1"/><sheetData/><pageMargins/></worksheet>')
    body = sheetdata.Body(0, [np.array([1.5, np.nan]), ["a&b", None]], [False, True],
                          [Fmt(), Fmt()])
    out = b"".join(sheetdata._sheet_pieces(xml, [body]))
    assert out == (b'<worksheet><dimension ref="A1:B2"/><sheetData>'
                   b'<row r="1"><c r="A1" s="3"><v>1.5</v></c><c r="B1" s="3" t="inlineStr">'
                   b'<is><t>a&amp;b</t></is></c></row><row r="2"></row></sheetData>'
                   b'<pageMargins/></worksheet>')
    ET.fromstring(out)


def spliced_sheet(path):
    write_book(path, tricky_frame(3000), bulk=True)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None          # every member's CRC checks out
        info = z.getinfo("xl/worksheets/sheet1.xml")
        return info, z.read(info)


def deflated(module, level, xml):
    c = module.compressobj(level, zlib.DEFLATED, -15)
    return len(c.compress(xml) + c.flush())


def test_spliced_sheets_are_deflated_by_isal(tmp_path):
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    info, xml = spliced_sheet(tmp_path / "fast.xlsx")
    assert info.compress_type == zipfile.ZIP_DEFLATED
    assert info.compress_size == deflated(isal_zlib, zipmember.ISAL_LEVEL, xml)
    assert info.compress_size < deflated(zlib, zipmember.COMPRESS_LEVEL, xml)


def test_without_isal_zlib_deflates_at_the_fast_level(tmp_path, monkeypatch):
    # a ZipInfo handed to ZipFile.open keeps zlib's default level unless it carries its own
    monkeypatch.setitem(sys.modules, "isal", None)          # import isal fails
    info, xml = spliced_sheet(tmp_path / "zlib.xlsx")
    fast, default = deflated(zlib, zipmember.COMPRESS_LEVEL, xml), deflated(zlib, 6, xml)
    assert fast > default * 1.05
    assert info.compress_size == fast


def test_fast_deflate_leaves_a_started_or_stored_member_alone(tmp_path):
    pytest.importorskip("isal")
    with zipfile.ZipFile(tmp_path / "a.zip", "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("started.xml", "w") as out:
            out.write(b"<a/>" * 100)
            assert not zipmember.fast_deflate(out)
            out.write(b"<b/>" * 100)
        with z.open(zipfile.ZipInfo("stored.xml"), "w") as out:     # ZIP_STORED
            assert not zipmember.fast_deflate(out)
            out.write(b"<c/>")
        with z.open("fresh.xml", "w") as out:
            assert zipmember.fast_deflate(out)
            out.write(b"<d/>" * 100)
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        assert z.testzip() is None
        assert z.read("started.xml") == b"<a/>" * 100 + b"<b/>" * 100
        assert z.read("stored.xml") == b"<c/>"
        assert z.read("fresh.xml") == b"<d/>" * 100


def sheet_xml(path) -> dict:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")}


def write_with_helper(path, frame, monkeypatch, helper: bool, gate=None) -> list:
    """Two long sheets in 40-row chunks; returns the Chunks objects the splice used."""
    monkeypatch.setattr(sheetdata, "ROWS_PER_CHUNK", 40)       # many chunks, both sides
    monkeypatch.setattr(sheetdata, "HELPER_MIN_CELLS", 0)
    used = []

    class Recorded(sheetdata.Chunks):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            used.append(self)

    monkeypatch.setattr(sheetdata, "Chunks", Recorded)
    book = _Book(path)
    for name in ("t", "u"):
        ws = book.wb.add_worksheet(name)
        write_table(book, ws, frame, 2, bulk=True)
    book.wb.close()
    book.bodies.splice(path, [w.name for w in book.wb.worksheets()], helper=helper, gate=gate)
    return used


def slow_here(monkeypatch, seconds=0.02):
    """This process formats slowly, so the helper is handed chunks whatever the timing."""
    parent = os.getpid()
    real = sheetdata.chunk_xml

    def slow(body, start):
        if os.getpid() == parent:
            time.sleep(seconds)
        return real(body, start)

    monkeypatch.setattr(sheetdata, "chunk_xml", slow)
    return real


def test_helper_process_writes_the_same_sheets(tmp_path, monkeypatch):
    frame = tricky_frame(333)
    write_with_helper(tmp_path / "one.xlsx", frame, monkeypatch, helper=False)
    slow_here(monkeypatch)
    forks = []
    real_fork = os.fork
    monkeypatch.setattr(os, "fork", lambda: forks.append(1) or real_fork())
    (chunks,) = write_with_helper(tmp_path / "two.xlsx", frame, monkeypatch, helper=True)
    assert forks == [1]
    assert 0 < chunks.by_helper < len(chunks.tasks)     # both formatted a share
    assert sheet_xml(tmp_path / "two.xlsx") == sheet_xml(tmp_path / "one.xlsx")
    assert cells(tmp_path / "two.xlsx")[3:] == cells(tmp_path / "one.xlsx")[3:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.xlsx", "two.xlsx"]  # no spool


def gate_held_for(seconds: float) -> tuple[int, subprocess.Popen]:
    """A gate whose writing end only another process holds, for ``seconds``: the
    reports' parent drawing report.html."""
    gate_r, gate_w = os.pipe()
    holder = subprocess.Popen(["sleep", str(seconds)], pass_fds=(gate_w,))
    os.close(gate_w)
    return gate_r, holder


@pytest.mark.parametrize("held_s", [60, 0.2])
def test_the_helper_starts_only_when_the_gate_closes(tmp_path, monkeypatch, held_s):
    """While the gate is open (the other core still busy: 60 s here, longer than the
    splice) every chunk is formatted here and the waiting helper is stopped at the end;
    once it closes (after 0.2 s) the helper takes chunks. Same bytes, nothing left behind."""
    frame = tricky_frame(333)
    write_with_helper(tmp_path / "one.xlsx", frame, monkeypatch, helper=False)
    slow_here(monkeypatch, 0.05)        # 18 chunks: 0.9 s here, well past a 0.2 s gate
    gate_r, holder = gate_held_for(held_s)
    try:
        (chunks,) = write_with_helper(tmp_path / "two.xlsx", frame, monkeypatch, helper=True,
                                      gate=gate_r)
    finally:
        holder.kill()
        holder.wait()
        os.close(gate_r)
    assert (chunks.by_helper > 0) == (held_s < 1) and chunks.pid is None
    assert sheet_xml(tmp_path / "two.xlsx") == sheet_xml(tmp_path / "one.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.xlsx", "two.xlsx"]


def test_a_dead_helper_leaves_the_work_to_the_parent(tmp_path, monkeypatch):
    frame = tricky_frame(333)
    write_with_helper(tmp_path / "one.xlsx", frame, monkeypatch, helper=False)
    parent = os.getpid()
    real = slow_here(monkeypatch)

    def dies_in_the_helper(body, start):
        if os.getpid() != parent:
            os._exit(3)
        time.sleep(0.02)
        return real(body, start)

    monkeypatch.setattr(sheetdata, "chunk_xml", dies_in_the_helper)
    (chunks,) = write_with_helper(tmp_path / "two.xlsx", frame, monkeypatch, helper=True)
    assert chunks.by_helper == 0
    assert sheet_xml(tmp_path / "two.xlsx") == sheet_xml(tmp_path / "one.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.xlsx", "two.xlsx"]


def test_a_helper_dying_midway_leaves_no_spool_file(tmp_path, monkeypatch):
    """The helper hands over three chunks, then dies after writing a fourth file that it
    never announces: the parent formats the rest and deletes what was left."""
    import pathlib

    frame = tricky_frame(333)
    write_with_helper(tmp_path / "one.xlsx", frame, monkeypatch, helper=False)
    slow_here(monkeypatch)
    parent = os.getpid()
    real = pathlib.Path.write_bytes
    written = []

    def dies_after_the_fourth_file(self, data):
        real(self, data)
        if os.getpid() != parent and self.name.startswith(".mujun-xlsx-"):
            written.append(self)
            if len(written) == 4:
                os._exit(3)

    monkeypatch.setattr(pathlib.Path, "write_bytes", dies_after_the_fourth_file)
    (chunks,) = write_with_helper(tmp_path / "two.xlsx", frame, monkeypatch, helper=True)
    assert chunks.by_helper == 3
    assert sheet_xml(tmp_path / "two.xlsx") == sheet_xml(tmp_path / "one.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.xlsx", "two.xlsx"]


def test_no_helper_for_small_tables_or_from_a_threaded_process(monkeypatch):
    body = sheetdata.Body(0, [np.arange(100.0)], [False], [None])
    monkeypatch.setattr(sheetdata, "ROWS_PER_CHUNK", 10)
    assert sheetdata.Chunks([body], helper=True).pid is None          # below HELPER_MIN_CELLS
    monkeypatch.setattr(sheetdata, "HELPER_MIN_CELLS", 0)
    monkeypatch.setattr("optimizer.io.child.threading.active_count", lambda: 2)
    assert sheetdata.Chunks([body], helper=True).pid is None


AWKWARD = ["a&b", "<", ">", "ctl\x01", "\x1f", "nul\x00in", " lead", "trail ", "\tlead",
           "trail\n", "_x0041_", "x_X00aF_y", "\u3000全角空格", "尾\u3000", "line\nbreak",
           "", "_x004_", "_xZZZZ_", "plain 文本", "_x00", "41_"]


@pytest.mark.parametrize("odd", AWKWARD)
def test_text_cells_joined_check_equals_the_per_cell_check(odd, monkeypatch):
    """The one-pass check over a column decides as the per-cell search would, and the
    cells come out the same either way."""
    values = ["甲有限公司", None, odd, "E00001", ""]
    numbers = [str(i) for i in range(2, 7)]
    fast = sheetdata._text_cells(values, "B", 3, numbers)
    assert sheetdata._all_plain(values) == \
        (not any(sheetdata._NEEDS_ESCAPE.search(v) for v in values if v is not None))
    monkeypatch.setattr(sheetdata, "_all_plain", lambda values: False)
    assert fast == sheetdata._text_cells(values, "B", 3, numbers)


def test_joined_check_equals_the_per_cell_check_for_any_texts():
    """Property (hypothesis): for any column of texts drawn from the characters that
    matter (markup, controls, NUL, ASCII and Unicode spaces, the _xHHHH_ pieces), the
    three joined scans decide as the per-cell search."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from(list("&<>_x0aF9Zb 甲\t\n\r\x00\x01\x0b\x1f\u3000\xa0\u2028"))
    cell = st.one_of(st.none(), st.text(alphabet, max_size=8))

    @settings(max_examples=400, deadline=None)
    @given(st.lists(cell, max_size=6))
    def check(values):
        assert sheetdata._all_plain(values) == \
            (not any(sheetdata._NEEDS_ESCAPE.search(v) for v in values if v is not None))

    check()


def test_plain_texts_split_across_cells_are_not_escapes():
    assert sheetdata._all_plain(["_x00", "41_", "a", None, "b c"])
    assert not sheetdata._all_plain(["_x0041_"])
