"""Compressed zip members of report.xlsx: ISA-L deflate, writing from a thread, and
copying rows compressed by another process as they are.

zipfile compresses a member with zlib at the level its ZipFile names; report.xlsx's
long sheets are hundreds of MB of XML, so these helpers swap in ISA-L's deflate
(:func:`fast_deflate`), compress in a second thread while the next rows are
formatted (:func:`write_overlapped`), and splice in rows another process formatted
and compressed already (:class:`Deflated`, :func:`write_with_deflated`). Any zip
reader inflates what they write: it is plain deflate.
"""

from __future__ import annotations

import queue
import threading
import zipfile
import zlib
from dataclasses import dataclass

COMPRESS_LEVEL = 1        # zlib (without isal, and the small members): 3× faster than at 6


@dataclass(frozen=True)
class Deflated:
    """The rows of a body formatted and compressed ahead of the workbook, by another
    process (``sheetdata.deflate_body``): the early reader's child makes the grades
    sheet's while the run allocates, another child the enterprises sheet's while the run
    writes its CSVs (:mod:`optimizer.early`). ``data`` is raw deflate ending on a byte
    boundary with no final
    block (a sync flush), so it is copied as it is into the sheet's zip member between
    the compressed XML before and after it; ``crc`` and ``size`` are the CRC-32 and
    length of its XML, combined into the member's."""

    data: bytes
    crc: int
    size: int
    first_row: int
    n_rows: int
    n_cols: int


def write_overlapped(out, pieces) -> None:
    """Write ``pieces`` to ``out`` from a second thread. ISA-L (or zlib) compresses and
    crc32 sums without holding the GIL, so the next rows are formatted while the previous
    ones are compressed."""
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


def fast_deflate(out) -> bool:
    """Let ISA-L's deflate (python-isal) compress the zip member ``out`` just opened for
    writing, instead of zlib. At level 1 it is 4× faster than zlib's level 1 on the
    100,000-firm sheets (0.09 s against 0.38 s for 110 MB of XML) and its output is
    10% smaller; both write plain deflate, so any zip reader inflates it.

    zipfile has no public hook for the compressor: this replaces the private
    ``_compressor`` of a ``ZipFile.open(..., "w")`` stream (CPython 3.11–3.14) before
    any byte went through it, and does nothing (zlib stays) when that is not exactly
    what it finds or isal is missing. Returns whether ISA-L compresses."""
    try:
        from isal import isal_zlib
    except ImportError:
        return False
    current = getattr(out, "_compressor", None)
    if type(current) is not type(_ZLIB_PROBE) or getattr(out, "_file_size", None) != 0:
        return False
    out._compressor = isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, -15)
    return True


ISAL_LEVEL = 1    # ISA-L's levels are 0–3; 1 is as fast as 0 here and 23% smaller
_ZLIB_PROBE = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)


def raw_compressor():
    """Raw deflate (no zlib header), as a zip member holds it: ISA-L, else zlib."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, -15)
    return isal_zlib.compressobj(ISAL_LEVEL, isal_zlib.DEFLATED, -15)


def crc32(data: bytes, value: int = 0) -> int:
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.crc32(data, value)
    return isal_zlib.crc32(data, value)


def write_with_deflated(out, pieces) -> None:
    """Write ``pieces`` (XML bytes and :class:`Deflated` rows) to the zip member ``out``
    just opened for writing: the XML is compressed here, each Deflated copied as it is,
    every part ending on a sync flush; the member's own compressor, which saw no byte,
    ends the stream with an empty final block when ``out`` closes. CRC-32 and size are
    kept as zipfile would (CRC-32s of the copied parts combined: ISA-L's crc32_combine).

    zipfile has no public way to add compressed bytes to a member: this writes to the
    private ``_fileobj`` and sums ``_crc``, ``_file_size`` and ``_compress_size`` of a
    ``ZipFile.open(..., "w")`` stream (CPython 3.11–3.14), only when that is exactly
    what it finds and ISA-L is there; otherwise each Deflated is inflated and written
    through zipfile as usual (same file content)."""
    try:
        from isal import isal_zlib
        crc32_combine = isal_zlib.crc32_combine
    except (ImportError, AttributeError):
        crc32_combine = None
    known = all(hasattr(out, name) for name in ("_fileobj", "_crc", "_file_size",
                                                 "_compress_size", "_compressor"))
    if crc32_combine is None or not known or out._file_size != 0 or \
            type(out._compressor) is not type(_ZLIB_PROBE):
        fast_deflate(out)
        write_overlapped(out, (zlib.decompressobj(-15).decompress(p.data)
                               if isinstance(p, Deflated) else p for p in pieces))
        return

    def put(data: bytes) -> None:
        out._fileobj.write(data)
        out._compress_size += len(data)

    compressor = raw_compressor()
    for piece in pieces:
        if isinstance(piece, Deflated):
            put(compressor.flush(zlib.Z_SYNC_FLUSH))
            compressor = raw_compressor()
            put(piece.data)
            out._crc = crc32_combine(out._crc, piece.crc, piece.size)
            out._file_size += piece.size
        elif piece:
            put(compressor.compress(piece))
            out._crc = crc32(piece, out._crc)
            out._file_size += len(piece)
    put(compressor.flush(zlib.Z_SYNC_FLUSH))


def copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile(compresslevel=...) reaches only the members it names itself: a ZipInfo
    # passed in keeps zlib's default level 6, three times slower here (CPython's
    # zipfile; the attribute is called compress_level from Python 3.13 on).
    setattr(out, "compress_level" if hasattr(out, "compress_level") else "_compresslevel",
            COMPRESS_LEVEL)
    out.external_attr = info.external_attr
    return out


