"""Table bodies of report.xlsx written as sheet XML in column blocks (fast path).

XlsxWriter costs about 4 µs per cell (one Python call per cell, then one XML
element per cell): a 100,000-enterprise grades sheet (3M cells) took 12 s and a
20-variant sweep of 10,000 firms spent 2 s in the workbook. Here the body of a
long table — every row under its header — is formatted column by column and
spliced into the finished file. XlsxWriter still writes everything else: the
headers, styles, column widths and formats, frozen panes, autofilters, merged
ranges and the workbook parts, so the file stays a plain XlsxWriter workbook.

The cells are the same XlsxWriter would write in ``constant_memory`` mode:
numbers as ``<v>`` (shortest round-trip text, see ``number_texts``), text as inline
strings with control characters as ``_xHHHH_``, whitespace preserved, ``&<>`` escaped; blanks
(None, NaN, ±inf) are left out. Each cell carries its column's style index, so
number formats are those of ``number_format``.
"""

from __future__ import annotations

import os
import re
import select
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

from optimizer.io.child import can_fork, fork_call, reap
from optimizer.report import zipmember
from optimizer.report.zipmember import (COMPRESS_LEVEL, Deflated, copy_info, crc32,
                                        raw_compressor)

ROWS_PER_CHUNK = 1_000      # a chunk's pieces stay in cache: 113 ns a cell, 145 at 5,000 rows
HELPER_MIN_CELLS = 300_000   # below this, forking a helper costs more than it saves
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_CONTROL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_ROW_START = re.compile(rb'<row r="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


@dataclass
class Body:
    """Rows ``first_row``… (0-based) of one sheet: one entry per column."""

    first_row: int
    columns: list            # list of values (str/None) for text, float64 arrays for numbers
    text: list[bool]
    formats: list            # xlsxwriter Format per column (index known after close)
    note: tuple | None = None  # (text, Format) on the row after the body
    # Rows made ahead by another process: a Deflated, or a callable giving one (or None)
    # when the splice reaches them; ``columns`` is then empty, the body's size is
    # ``shape`` (rows, columns) and ``fallback`` makes the columns if what comes does
    # not fit (see Chunks.xml).
    ahead: object = None
    shape: tuple | None = None
    fallback: object = None
    _texts: dict = field(default_factory=dict, init=False, repr=False)   # see text_column

    def text_column(self, j: int) -> tuple[list, np.ndarray, bool]:
        """Text column ``j`` looked at once for all its chunks: (cells with "" for None,
        positions of the None cells, whether no cell needs escaping). Made where first
        needed: the workbook process and its helper each look at the columns they format
        (forking first lets the helper start 0.1 s sooner at 100,000 firms)."""
        if j not in self._texts:
            values = self.columns[j]
            blank = np.flatnonzero(pd.isna(np.asarray(values, dtype=object)))  # C-speed
            filled = ["" if v is None else v for v in values] if blank.size else values
            self._texts[j] = (filled, blank, _all_plain(filled))
        return self._texts[j]

    @property
    def n_rows(self) -> int:
        if self.shape is not None:
            return self.shape[0]
        return len(self.columns[0]) if self.columns else 0

    @property
    def n_cols(self) -> int:
        return self.shape[1] if self.shape is not None else len(self.columns)

    @property
    def cells(self) -> int:
        """Cells to be formatted by the splice (none when made ahead)."""
        return 0 if self.ahead is not None else self.n_rows * self.n_cols

    def made_ahead(self) -> Deflated | None:
        """The rows made ahead, if they are these rows (asking the callable)."""
        made = self.ahead() if callable(self.ahead) else self.ahead
        fits = isinstance(made, Deflated) and \
            (made.first_row, made.n_rows, made.n_cols) == (self.first_row, self.n_rows, self.n_cols)
        return made if fits else None

    @property
    def last_row(self) -> int:
        return self.first_row + self.n_rows - 1 + (self.note is not None)


@dataclass
class Bodies:
    """Bodies waiting to be spliced into the closed workbook, by worksheet."""

    by_sheet: dict = field(default_factory=dict)   # worksheet name -> list[Body]

    def add(self, ws, body: Body) -> None:
        self.by_sheet.setdefault(ws.name, []).append(body)

    def splice(self, path: Path, sheet_names: list[str], *, helper: bool = False,
               gate: int | None = None) -> None:
        """Rewrite the closed workbook at ``path`` with the bodies in place.

        With ``helper`` (the caller may use a second core) and enough cells, a forked
        process formats chunks of rows too, once ``gate`` is closed (:class:`Chunks`)."""
        if not any(self.by_sheet.values()):
            return
        members = {f"xl/worksheets/sheet{i + 1}.xml": sorted(self.by_sheet.get(name, []),
                                                             key=lambda b: b.first_row)
                   for i, name in enumerate(sheet_names)}
        tmp = path.with_name(path.name + ".part")
        try:
            with zipfile.ZipFile(path) as src, \
                    zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED,
                                    compresslevel=COMPRESS_LEVEL) as dst, \
                    Chunks([b for info in src.infolist() for b in members.get(info.filename, [])],
                           helper=helper, spool_dir=path.parent, gate=gate) as chunks:
                for info in src.infolist():
                    data = src.read(info.filename)
                    bodies = members.get(info.filename)
                    if not bodies:
                        dst.writestr(copy_info(info), data)
                        continue
                    cells = sum(b.n_rows * b.n_cols for b in bodies)
                    with dst.open(copy_info(info), "w", force_zip64=cells > 10_000_000) as out:
                        pieces = _sheet_pieces(data, bodies, chunks)
                        if any(b.ahead is not None for b in bodies):
                            zipmember.write_with_deflated(out, pieces)
                        else:
                            zipmember.fast_deflate(out)
                            zipmember.write_overlapped(out, pieces)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


class Chunks:
    """The ``<row>`` chunks of the bodies, in the order the splice writes them.

    With ``helper``, a forked process formats chunks too (the formatting is pure
    Python, so a thread would not help). This process hands out the work: it sends the
    helper chunk numbers through a pipe, keeping ``OUTSTANDING`` of them queued, and
    formats the others itself while it also compresses them all. The helper writes
    each of its chunks to a hidden file in ``spool_dir`` and sends the number back;
    each file is deleted once read. While this process waits for a helper's chunk it
    formats later ones (at most ``LOOKAHEAD`` held), so neither side waits for the
    other and the share each takes follows its speed.

    ``gate``: a file descriptor the helper reads to its end before it starts (the
    caller closes the writing end when its own work on the other core is done): with
    report.html still being drawn on that core, a third process only slows both.
    Until the helper says it has passed the gate, every chunk is formatted here.

    The bytes are the same whoever formats them; if the helper fails (a full disk,
    say), its chunks are formatted here and what it left on disk is removed.
    """

    OUTSTANDING = 12    # chunks queued for the helper (12,000 rows; workbook 0.75–0.77 s, 4: 0.77–0.81)
    LOOKAHEAD = 12      # chunks formatted here ahead of need while waiting for the helper
    _READY = 2**64 - 1  # the helper's first message: it has passed the gate

    def __init__(self, bodies: list[Body], *, helper: bool = False, spool_dir: Path | None = None,
                 gate: int | None = None):
        self.bodies = bodies
        self.tasks = [(i, start) for i, body in enumerate(bodies) if body.ahead is None
                      for start in range(0, body.n_rows, ROWS_PER_CHUNK)]
        self.pid = None
        self.spool = None
        self.task_w = self.news_r = None
        self.live = False               # the helper passed its gate
        self.next_free = 0              # chunks below this are formatted here or handed out
        self.queued: set[int] = set()   # handed to the helper, not yet announced
        self.done: set[int] = set()     # announced by the helper, not yet read
        self.ready: dict[int, bytes] = {}   # formatted here ahead of need
        self.by_helper = 0              # chunks the helper formatted (for tests and timings)
        self._news = b""
        cells = sum(b.cells for b in bodies)
        if helper and cells >= HELPER_MIN_CELLS and len(self.tasks) > 1 and can_fork():
            self.spool = Path(spool_dir or tempfile.gettempdir()) / f".mujun-xlsx-{os.getpid()}"
            task_r, self.task_w = os.pipe()
            self.news_r, news_w = os.pipe()
            self.pid = fork_call(self._helper, task_r, news_w, gate)
            os.close(task_r)
            os.close(news_w)

    def _spool_file(self, t: int) -> Path:
        return self.spool.with_name(f"{self.spool.name}-{t}")

    def _helper(self, task_r: int, news_w: int, gate: int | None) -> None:
        """In the helper: after the gate, format the chunks sent, announce each."""
        os.close(self.task_w)
        os.close(self.news_r)
        while gate is not None and os.read(gate, 4096):
            pass
        with open(news_w, "wb", buffering=0) as news, open(task_r, "rb") as tasks:
            news.write(self._READY.to_bytes(8, "little"))
            while len(raw := tasks.read(8)) == 8:
                t = int.from_bytes(raw, "little")
                self._spool_file(t).write_bytes(self._format(t))
                news.write(raw)

    def _format(self, t: int) -> bytes:
        i, start = self.tasks[t]
        return chunk_xml(self.bodies[i], start)

    def _listen(self, *, block: bool) -> None:
        """Take in what the helper announced (waiting for it with ``block``)."""
        if self.news_r is None or not (block or select.select([self.news_r], [], [], 0)[0]):
            return
        data = os.read(self.news_r, 8 * 256)
        if not data:
            self._lost()
            return
        self._news += data
        whole = len(self._news) // 8 * 8
        for k in range(0, whole, 8):
            t = int.from_bytes(self._news[k:k + 8], "little")
            if t == self._READY:
                self.live = True
            else:
                self.queued.discard(t)
                self.done.add(t)
        self._news = self._news[whole:]

    def _hand_out(self) -> None:
        """Keep ``OUTSTANDING`` of the next chunks queued for a live helper."""
        self._listen(block=False)
        while (self.live and self.task_w is not None and len(self.queued) < self.OUTSTANDING
               and self.next_free < len(self.tasks)):
            try:
                os.write(self.task_w, self.next_free.to_bytes(8, "little"))
            except OSError:                 # the helper is gone
                self._lost()
                return
            self.queued.add(self.next_free)
            self.next_free += 1

    def _lost(self) -> None:
        """The helper died: what it was given and did not announce is formatted here."""
        self._close_pipes()
        if self.pid is not None:
            reap(self.pid, kill=True)
            self.pid = None
        for t in self.queued:
            self._spool_file(t).unlink(missing_ok=True)

    def _close_pipes(self) -> None:
        for fd in (self.task_w, self.news_r):
            if fd is not None:
                os.close(fd)
        self.task_w = self.news_r = None

    def get(self, t: int) -> bytes:
        """Chunk ``t``; chunks are asked for once each, in order."""
        if t in self.ready:
            data = self.ready.pop(t)
        elif t >= self.next_free:           # nobody has it: give the helper the next ones first
            self.next_free = t + 1
            self._hand_out()
            return self._format(t)
        else:
            while t in self.queued and self.news_r is not None:
                if self.next_free < len(self.tasks) and len(self.ready) < self.LOOKAHEAD:
                    self.ready[self.next_free] = self._format(self.next_free)
                    self.next_free += 1
                    self._listen(block=False)
                else:
                    self._listen(block=True)
            if t not in self.done:          # the helper died before finishing it
                self.queued.discard(t)
                return self._format(t)
            self.done.remove(t)
            path = self._spool_file(t)
            data = path.read_bytes()
            path.unlink()
            self.by_helper += 1
        self._hand_out()
        return data

    def xml(self, body: Body):
        """The chunks of ``body`` (the next body in order), then its note row; rows made
        ahead come as their :class:`Deflated` (see :func:`write_with_deflated`), or are
        formatted here if none that fits came."""
        if body.ahead is not None:
            made = body.made_ahead()
            if made is not None:
                yield made
            else:
                whole = Body(body.first_row, body.fallback(), body.text, body.formats)
                for start in range(0, whole.n_rows, ROWS_PER_CHUNK):
                    yield chunk_xml(whole, start)
            if body.note is not None:
                yield note_xml(body)
            return
        i = next(k for k, b in enumerate(self.bodies) if b is body)
        for t, (j, _) in enumerate(self.tasks):
            if j == i:
                yield self.get(t)
        if body.note is not None:
            yield note_xml(body)

    def _stop(self, *, finished: bool) -> None:
        """End the helper: a finished one (every chunk read) is let go when it has passed
        the gate, killed otherwise; leftovers on disk are removed."""
        if self.pid is not None:
            clean = finished and self.live
            self._close_pipes()             # a live helper reads the end of its tasks and exits
            reap(self.pid, kill=not clean)
            self.pid = None
        self._close_pipes()
        if self.spool is not None:
            for t in self.queued | self.done:
                self._spool_file(t).unlink(missing_ok=True)
            self.spool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._stop(finished=exc[0] is None)


def deflate_body(body: Body) -> Deflated:
    """Format the rows of ``body`` and compress them for :func:`write_with_deflated`
    (in whichever process has the time; the bytes are those the workbook would write)."""
    compressor, crc, size, parts = raw_compressor(), 0, 0, []
    for piece in Chunks([body]).xml(body):
        crc, size = crc32(piece, crc), size + len(piece)
        parts.append(compressor.compress(piece))
    parts.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    return Deflated(b"".join(parts), crc, size, body.first_row, body.n_rows, body.n_cols)


def _sheet_pieces(xml: bytes, bodies: list[Body], chunks: Chunks | None = None):
    """The sheet XML with each body inserted among XlsxWriter's rows in row order."""
    if b"<sheetData/>" in xml:                      # XlsxWriter wrote no row at all
        head, rest = xml.split(b"<sheetData/>", 1)
        rows = b""
    else:
        head, tail = xml.split(b"<sheetData>", 1)
        rows, _, rest = tail.partition(b"</sheetData>")
    yield _with_dimension(head, bodies) + b"<sheetData>"
    starts = [(int(m.group(1)), m.start()) for m in _ROW_START.finditer(rows)]
    pos = 0
    bodies = sorted(bodies, key=lambda b: b.first_row)
    chunks = chunks or Chunks(bodies)
    for body in bodies:
        # XlsxWriter rows are 1-based and sorted; the body goes before the first later one
        cut = next((at for r, at in starts if r - 1 > body.last_row and at >= pos), len(rows))
        yield rows[pos:cut]
        pos = cut
        yield from chunks.xml(body)
    yield rows[pos:] + b"</sheetData>" + rest


def _with_dimension(head: bytes, bodies: list[Body]) -> bytes:
    """Widen ``<dimension ref>`` to cover the bodies."""
    match = _DIMENSION.search(head)
    if match is None:
        return head
    ref = match.group(0)[len(b'<dimension ref="'):-3].decode()
    first, _, last = ref.partition(":")
    last = last or first
    (r0, c0), (r1, c1) = xl_cell_to_rowcol(first), xl_cell_to_rowcol(last)
    for body in bodies:
        r0, r1 = min(r0, body.first_row), max(r1, body.last_row)
        c0, c1 = min(c0, 0), max(c1, body.n_cols - 1)
    new = f'<dimension ref="{xl_rowcol_to_cell(r0, c0)}:{xl_rowcol_to_cell(r1, c1)}"/>'
    return head[:match.start()] + new.encode() + head[match.end():]


def chunk_xml(body: Body, start: int) -> bytes:
    """``<row>`` elements for rows ``start`` … ``start + ROWS_PER_CHUNK`` of the body
    (0-based in the body), as UTF-8.

    The text is joined once from a flat list of pieces laid out by slice assignment, one
    slice per piece position: no string is built per cell (str.join; bytes.join is 6×
    slower on many small pieces). Three pieces per cell: the markup between the previous
    cell's value and this cell's row number (``</v></c><c r="F``), the row number, and
    the rest up to the value (``" s="3"><v>1.5``, made for the whole column by one
    replace before the split that cuts the values apart). Blank cells (None, NaN, ±inf)
    have empty pieces and leave their markup out of the neighbouring joints; a text
    column with a cell to escape gives whole cells instead.
    """
    stop = min(start + ROWS_PER_CHUNK, body.n_rows)
    n = stop - start
    numbers = [str(body.first_row + 1 + i) for i in range(start, stop)]
    pieces = [['<row r="'] * n, numbers]
    close, blank = '">', []          # the previous column's tail, its blank rows
    for j, (col, text, fmt) in enumerate(zip(body.columns, body.text, body.formats)):
        column = _column_pieces(body.text_column(j) if text else col, start, stop, text,
                                xl_col_to_name(j), fmt.xf_index or 0, numbers)
        pieces += [_joints(close, blank, column, n), column.numbers, column.cells]
        close, blank = column.close, column.blank
    tails = _joints(close, blank, _ROW_END, n)
    pieces.append([tail + "</row>" for tail in tails] if blank else [close + "</row>"] * n)
    flat = [""] * (n * len(pieces))
    for k, seq in enumerate(pieces):
        flat[k::len(pieces)] = seq
    return "".join(flat).encode("latin-1")      # the text cells are UTF-8 bytes already


@dataclass
class _Column:
    """One column's part of a chunk: ``open`` + row number + ``cells[i]`` + ``close`` per
    cell, except the ``blank`` rows (whose pieces are empty)."""

    open: str
    close: str
    blank: list[int]
    numbers: list[str]
    cells: list[str]


def _joints(close: str, blank_before: list[int], column: _Column, n: int) -> list[str]:
    """The previous cell's ``close`` and this cell's ``open``, per row, either left out
    where its cell is blank."""
    joints = [close + column.open] * n
    for i in blank_before:
        joints[i] = column.open
    before = set(blank_before) if blank_before and column.blank else ()
    for i in column.blank:
        joints[i] = "" if i in before else close
    return joints


_ROW_END = _Column("", "", [], [], [])     # after the last column: only its close


def _column_pieces(column, start: int, stop: int, text: bool, letter: str, style: int,
                   numbers: list[str]) -> _Column:
    """Rows ``start:stop`` of one column as pieces for :func:`chunk_xml` (lists as long
    as ``numbers``); ``column``: a float array, or a text column as
    :meth:`Body.text_column` gives it."""
    if text:
        filled, blanks, plain = column
        values = filled[start:stop]
        blank = (blanks[(blanks >= start) & (blanks < stop)] - start).tolist()
        if not plain and not _all_plain(values):
            for i in blank:
                values[i] = None
            cells = _as_utf8(_text_cells(values, letter, style, numbers))
            return _Column("", "", [], [""] * len(numbers), cells)
        cells = _as_utf8(values, f'" s="{style}" t="inlineStr"><is><t>')
        close = "</t></is></c>"
    else:
        values = column[start:stop]
        blank = np.flatnonzero(~np.isfinite(values)).tolist()
        cells, close = number_texts(values, f'" s="{style}"><v>'), "</v></c>"
    if blank:
        numbers = list(numbers)
        for i in blank:
            numbers[i] = cells[i] = ""
    return _Column(f'<c r="{letter}', close, blank, numbers, cells)


def _as_utf8(cells: list[str], prefix: str = "") -> list[str]:
    """``prefix`` + each cell, as UTF-8 bytes in a str of code points < 256 (latin-1);
    cells without NUL, ``prefix`` ASCII.

    A chunk's text then stays one byte per character: joining never widens the ASCII
    markup to the two or four bytes a Chinese name would need, and ``encode("latin-1")``
    is a copy instead of a UTF-8 encoding (11% less per chunk, measured alternately)."""
    if not cells:
        return []
    joined = "\x00".join(cells)
    if prefix:
        joined = prefix + joined.replace("\x00", "\x00" + prefix)
    return joined.encode("utf-8").decode("latin-1").split("\x00")


def note_xml(body: Body) -> bytes:
    text, fmt = body.note
    r = body.first_row + body.n_rows + 1
    return (f'<row r="{r}">' + _text_cells([text], "A", fmt.xf_index or 0, [str(r)])[0] +
            "</row>").encode("utf-8")


def number_texts(values: np.ndarray, prefix: str = "") -> list[str]:
    """The shortest text that reads back as the same double, for each value ("null" for
    NaN and ±inf, which are left out), each after ``prefix`` (no comma in it): orjson's
    float formatting, 15× faster than ``repr`` (0.03 s against 0.5 s per million
    values). It differs from ``repr`` only in spelling exponents ("1e-6", "1e+16";
    positional down to 1e-5), all valid xsd:double text that Excel reads as the same
    number."""
    if not len(values):
        return []
    text = orjson.dumps(np.ascontiguousarray(values, dtype=np.float64),
                        option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii")
    if prefix:
        text = prefix + text.replace(",", "," + prefix)
    return text.split(",")


def _text_cells(values, letter: str, style: int, numbers: list[str]) -> list[str]:
    head = f'<c r="{letter}'
    mid = f'" s="{style}" t="inlineStr"><is><t>'
    if _all_plain(values):
        return [f"{head}{r}{mid}{v}</t></is></c>" if v is not None else ""
                for r, v in zip(numbers, values)]
    return [f"{head}{r}{mid}{v}</t></is></c>" if v is not None and not _NEEDS_ESCAPE.search(v)
            else _escaped_cell(v, head + r, style) if v is not None else ""
            for r, v in zip(numbers, values)]


# _NEEDS_ESCAPE over the column's cells joined by NUL, in three scans that each run at
# memchr speed (one alternation scanned 4× slower: its \s alternatives are tried at
# every position): a cell's start and end are next to a NUL, so a leading space is a NUL
# then a space, and a trailing one the same in the reversed text; a NUL inside a cell
# (which needs escaping) shows in the count.
_ESCAPED_CHAR = re.compile(r"[&<>\x01-\x08\x0b-\x1f]")
_SPACE_AFTER_NUL = re.compile(r"\x00\s")      # a literal first: the scan jumps to each NUL
_ESCAPE_LOOKALIKE = re.compile(r"_x[0-9a-fA-F]{4}_")


def _all_plain(values) -> bool:
    """No cell needs escaping: one pass over the joined text instead of one search per
    cell (1.1 million cells at 100,000 firms)."""
    texts = [v for v in values if v is not None]
    if not texts:
        return True
    joined = "\x00" + "\x00".join(texts) + "\x00"
    return (joined.count("\x00") == len(texts) + 1 and not _ESCAPED_CHAR.search(joined)
            and not _SPACE_AFTER_NUL.search(joined) and not _SPACE_AFTER_NUL.search(joined[::-1])
            and ("_x" not in joined or not _ESCAPE_LOOKALIKE.search(joined)))


def _escaped_cell(text: str, head: str, style: int) -> str:
    """As XlsxWriter writes it: control characters as _xHHHH_, &<> escaped, spaces kept."""
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    text = _CONTROL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{head}" s="{style}" t="inlineStr"><is><t{preserve}>{text}</t></is></c>'
