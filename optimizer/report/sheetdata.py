"""Table bodies of report.xlsx written as sheet XML in column blocks (fast path).

XlsxWriter costs about 4 µs per cell (one Python call per cell, then one XML
element per cell): a 100,000-enterprise grades sheet (3M cells) took 12 s and a
20-variant sweep of 10,000 firms spent 2 s in the workbook. Here the body of a
long table — every row under its header — is formatted column by column and
spliced into the finished file. XlsxWriter still writes everything else: the
headers, styles, column widths and formats, frozen panes, autofilters, merged
ranges and the workbook parts, so the file stays a plain XlsxWriter workbook.

The cells are the same XlsxWriter would write in ``constant_memory`` mode:
numbers as ``<v>`` (shortest round-trip repr), text as inline strings with
control characters as ``_xHHHH_``, whitespace preserved, ``&<>`` escaped; blanks
(None, NaN, ±inf) are left out. Each cell carries its column's style index, so
number formats are those of ``number_format``.
"""

from __future__ import annotations

import os
import queue
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell

from optimizer.io.child import can_fork, fork_call, reap

ROWS_PER_CHUNK = 5_000
HELPER_MIN_CELLS = 300_000   # below this, forking a helper costs more than it saves
COMPRESS_LEVEL = 1        # zlib: the bodies compress 3× faster than at 6, files ~25% larger
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

    @property
    def n_rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0

    @property
    def last_row(self) -> int:
        return self.first_row + self.n_rows - 1 + (self.note is not None)


@dataclass
class Bodies:
    """Bodies waiting to be spliced into the closed workbook, by worksheet."""

    by_sheet: dict = field(default_factory=dict)   # worksheet name -> list[Body]

    def add(self, ws, body: Body) -> None:
        self.by_sheet.setdefault(ws.name, []).append(body)

    def splice(self, path: Path, sheet_names: list[str], *, helper: bool = False) -> None:
        """Rewrite the closed workbook at ``path`` with the bodies in place.

        With ``helper`` (the caller may use a second core) and enough cells, a forked
        process formats two of every three chunks of rows (:class:`Chunks`)."""
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
                           helper=helper, spool_dir=path.parent) as chunks:
                for info in src.infolist():
                    data = src.read(info.filename)
                    bodies = members.get(info.filename)
                    if not bodies:
                        dst.writestr(_copy_info(info), data)
                        continue
                    cells = sum(b.n_rows * len(b.columns) for b in bodies)
                    with dst.open(_copy_info(info), "w", force_zip64=cells > 10_000_000) as out:
                        write_overlapped(out, _sheet_pieces(data, bodies, chunks))
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


class Chunks:
    """The ``<row>`` chunks of the bodies, in the order the splice writes them.

    With ``helper``, a forked process formats two chunks of every three while this one
    formats the third and compresses them all (the formatting is pure Python, so a
    thread would not help; 2:1 was the fastest split at 100,000 firms: 1.1 s against
    1.3 s for 1:1). The helper writes each of its chunks to a hidden file in
    ``spool_dir`` and sends the chunk's number through a pipe, so it never waits for
    this process to catch up; each file is deleted once read, so the disk holds only
    the chunks not yet read. The bytes are the same whoever formats them; if the helper
    fails (a full disk, say), the rest is formatted here.
    """

    def __init__(self, bodies: list[Body], *, helper: bool = False, spool_dir: Path | None = None):
        self.bodies = bodies
        self.tasks = [(i, start) for i, body in enumerate(bodies)
                      for start in range(0, body.n_rows, ROWS_PER_CHUNK)]
        self.pid = None
        self.stream = None
        self.spool = None
        cells = sum(b.n_rows * len(b.columns) for b in bodies)
        if helper and cells >= HELPER_MIN_CELLS and len(self.tasks) > 1 and can_fork():
            self.spool = Path(spool_dir or tempfile.gettempdir()) / f".mujun-xlsx-{os.getpid()}"
            read_fd, write_fd = os.pipe()
            self.pid = fork_call(self._spool_to, read_fd, write_fd)
            os.close(write_fd)
            self.stream = open(read_fd, "rb")

    def _spool_file(self, t: int) -> Path:
        return self.spool.with_name(f"{self.spool.name}-{t}")

    def _spool_to(self, read_fd: int, write_fd: int) -> None:
        """In the helper: write its chunks to spool files, announce each in the pipe."""
        os.close(read_fd)
        with open(write_fd, "wb", buffering=0) as out:
            for t in filter(self._theirs, range(len(self.tasks))):
                self._spool_file(t).write_bytes(self._format(t))
                out.write(t.to_bytes(8, "little"))

    @staticmethod
    def _theirs(t: int) -> bool:
        """Chunk ``t`` is the helper's."""
        return t % 3 != 0

    def _format(self, t: int) -> bytes:
        i, start = self.tasks[t]
        return chunk_xml(self.bodies[i], start)

    def _from_helper(self, t: int) -> bytes:
        if self.stream is not None:
            if int.from_bytes(self.stream.read(8) or b"\xff" * 8, "little") == t:
                path = self._spool_file(t)
                data = path.read_bytes()
                path.unlink()
                return data
            self._stop()                    # the helper died: format the rest here
        return self._format(t)

    def xml(self, body: Body):
        """The chunks of ``body`` (the next body in order), then its note row."""
        i = next(k for k, b in enumerate(self.bodies) if b is body)
        for t, (j, _) in enumerate(self.tasks):
            if j == i:
                yield self._from_helper(t) if self._theirs(t) else self._format(t)
        if body.note is not None:
            yield note_xml(body)

    def _stop(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        if self.pid is not None:
            reap(self.pid, kill=True)
            self.pid = None
        if self.spool is not None:              # what a failed helper left behind
            for t in filter(self._theirs, range(len(self.tasks))):
                self._spool_file(t).unlink(missing_ok=True)
            self.spool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pid is not None and exc[0] is None:
            self.stream.close()             # every chunk read: the helper has exited
            self.stream = None
            reap(self.pid)
            self.pid = None
        self._stop()


def write_overlapped(out, pieces) -> None:
    """Write ``pieces`` to ``out`` from a second thread. zlib compresses (and crc32 sums)
    without holding the GIL, so the next rows are formatted while the previous ones are
    compressed: at 100,000 firms compression is as long as the formatting."""
    todo: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def writer() -> None:
        while (piece := todo.get()) is not None:
            if not failed:
                try:
                    out.write(piece)
                except BaseException as exc:    # re-raised below, in the caller's thread
                    failed.append(exc)

    thread = threading.Thread(target=writer, name="mujun-xlsx-writer", daemon=True)
    thread.start()
    try:
        for piece in pieces:
            if failed:
                break
            todo.put(piece)
    finally:
        todo.put(None)
        thread.join()
    if failed:
        raise failed[0]


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile(compresslevel=...) reaches only the members it names itself: a ZipInfo
    # passed in keeps zlib's default level 6, three times slower here (CPython's
    # zipfile; the attribute is called compress_level from Python 3.13 on).
    setattr(out, "compress_level" if hasattr(out, "compress_level") else "_compresslevel",
            COMPRESS_LEVEL)
    out.external_attr = info.external_attr
    return out


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
        c0, c1 = min(c0, 0), max(c1, len(body.columns) - 1)
    new = f'<dimension ref="{xl_rowcol_to_cell(r0, c0)}:{xl_rowcol_to_cell(r1, c1)}"/>'
    return head[:match.start()] + new.encode() + head[match.end():]


def chunk_xml(body: Body, start: int) -> bytes:
    """``<row>`` elements for rows ``start`` … ``start + ROWS_PER_CHUNK`` of the body
    (0-based in the body), as UTF-8."""
    letters = [xl_col_to_name(j) for j in range(len(body.columns))]
    styles = [fmt.xf_index or 0 for fmt in body.formats]
    stop = min(start + ROWS_PER_CHUNK, body.n_rows)
    numbers = [str(body.first_row + 1 + i) for i in range(start, stop)]
    cols = [_text_cells(col[start:stop], letter, style, numbers) if text
            else _number_cells(col[start:stop], letter, style, numbers)
            for col, text, letter, style in zip(body.columns, body.text, letters, styles)]
    return "".join([f'<row r="{r}">{"".join(cells)}</row>'
                    for r, *cells in zip(numbers, *cols)]).encode("utf-8")


def note_xml(body: Body) -> bytes:
    text, fmt = body.note
    r = body.first_row + body.n_rows + 1
    return (f'<row r="{r}">' + _text_cells([text], "A", fmt.xf_index or 0, [str(r)])[0] +
            "</row>").encode("utf-8")


def _number_cells(values: np.ndarray, letter: str, style: int, numbers: list[str]) -> list[str]:
    head = f'<c r="{letter}'
    mid = f'" s="{style}"><v>'
    # repr: the shortest text that reads back as the same double
    if np.isfinite(values).all():
        return [f"{head}{r}{mid}{v!r}</v></c>" for r, v in zip(numbers, values.tolist())]
    return [f"{head}{r}{mid}{v!r}</v></c>" if ok else ""
            for r, v, ok in zip(numbers, values.tolist(), np.isfinite(values).tolist())]


def _text_cells(values, letter: str, style: int, numbers: list[str]) -> list[str]:
    head = f'<c r="{letter}'
    mid = f'" s="{style}" t="inlineStr"><is><t>'
    return [f"{head}{r}{mid}{v}</t></is></c>" if v is not None and not _NEEDS_ESCAPE.search(v)
            else _escaped_cell(v, head + r, style) if v is not None else ""
            for r, v in zip(numbers, values)]


def _escaped_cell(text: str, head: str, style: int) -> str:
    """As XlsxWriter writes it: control characters as _xHHHH_, &<> escaped, spaces kept."""
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    text = _CONTROL_ESCAPE.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(0)):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'{head}" s="{style}" t="inlineStr"><is><t{preserve}>{text}</t></is></c>'
