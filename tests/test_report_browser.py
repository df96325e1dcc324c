"""report.html in headless Chromium: the page renders (not blank), shows KPIs and the map,
and the lookup script works offline. Needs Debian's chromium: installed here when
running as root with a working apt, otherwise the tests are skipped with the reason."""

import os
import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest

from optimizer.report import build_reports
from optimizer.report.browser import dump_dom, find_chromium, screenshot
from optimizer.report.testing import fake_geometries, write_fake_run

pytestmark = pytest.mark.browser
HEADER_BLUE = (0x12, 0x35, 0x5B)     # header bar above the KPI cards (report.css)
ZONE_FILL = (0xEE, 0xF4, 0xEA)       # zone polygons on the map (report.css)


def _install_chromium() -> str:
    """Find chromium or install it with apt (root only); skip with a clear reason otherwise."""
    found = find_chromium()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("chromium is not installed and cannot be installed here "
                    "(needs root and apt-get): apt-get install -y chromium")
    policy = subprocess.run(["apt-cache", "policy", "chromium"], capture_output=True, text=True,
                            timeout=60)
    if policy.returncode != 0 or "Candidate:" not in policy.stdout or \
            "Candidate: (none)" in policy.stdout:
        pytest.skip("chromium is not installed and apt knows no chromium package "
                    "(run apt-get update, or install chromium by hand)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    done = subprocess.run(["apt-get", "install", "-y", "chromium"], capture_output=True,
                          text=True, env=env, timeout=1200)
    found = find_chromium()
    if not found:
        pytest.skip(f"apt-get install -y chromium failed: {done.stderr.strip()[-300:]}")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    chromium = _install_chromium()
    root = tmp_path_factory.mktemp("browser")
    dirs, manifest = write_fake_run(root / "run", n=300, hostile=True)
    zones, parcels, violations = fake_geometries(300)
    build_reports(root, dirs, manifest, zones, parcels, violations)
    return chromium, root / "report.html"


def decode_png(data: bytes) -> np.ndarray:
    """8-bit RGB/RGBA non-interlaced PNG → (h, w, channels) uint8 (enough for screenshots)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert depth == 8 and ctype in (2, 6) and interlace == 0
    bpp = 3 if ctype == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width * bpp + 1)
    out = np.zeros((height, width * bpp), np.uint8)
    prev = np.zeros(width * bpp, np.uint8)
    for y in range(height):
        out[y] = prev = _unfilter(raw[y, 0], raw[y, 1:], prev, bpp)
    return out.reshape(height, width, bpp)


def _unfilter(kind: int, line: np.ndarray, up: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 1:       # Sub: running sum per channel, mod 256
        return np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint64).astype(np.uint8).ravel()
    if kind == 2:       # Up
        return line + up
    cur, prior = bytearray(line.tobytes()), up.tobytes()
    for i in range(len(cur)):
        a = cur[i - bpp] if i >= bpp else 0
        b = prior[i]
        if kind == 3:   # Average
            cur[i] = (cur[i] + ((a + b) >> 1)) & 0xFF
        else:           # Paeth
            c = prior[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            cur[i] = (cur[i] + pred) & 0xFF
    return np.frombuffer(bytes(cur), np.uint8)


def test_png_decoder_on_a_handmade_image():
    rows = [bytes([1, 10, 20, 30, 5, 5, 5]), bytes([2, 1, 1, 1, 1, 1, 1]),
            bytes([4, 0, 0, 0, 0, 0, 0]), bytes([3, 2, 2, 2, 2, 2, 2])]
    ihdr = struct.pack(">IIBBBBB", 2, 4, 8, 2, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + b"\0\0\0\0"
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + \
        chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")
    img = decode_png(png)
    assert img[0].tolist() == [[10, 20, 30], [15, 25, 35]]     # Sub
    assert img[1].tolist() == [[11, 21, 31], [16, 26, 36]]     # Up
    assert img[2].tolist() == img[1].tolist()                  # Paeth of zeros = copy of up
    # Average: first pixel (0 + up)/2 + 2; second (left + up)/2 + 2
    assert img[3, 0].tolist() == [7, 12, 17]
    assert img[3, 1].tolist() == [(7 + 16) // 2 + 2, (12 + 26) // 2 + 2, (17 + 36) // 2 + 2]


def test_screenshot_is_not_blank_and_shows_kpis_and_map(rendered, tmp_path):
    chromium, html = rendered
    png = screenshot(html, tmp_path / "shot.png", 1400, 2000, chromium=chromium)
    img = decode_png(png.read_bytes())[:, :, :3]
    assert img.shape == (2000, 1400, 3)
    non_white = (img.min(axis=2) < 245).mean()
    colours = len(np.unique(img.reshape(-1, 3)[::7], axis=0))
    assert non_white > 0.05, f"page looks blank: {non_white:.1%} non-white"
    assert colours > 200, f"only {colours} distinct colours"
    flat = img.reshape(-1, 3)
    assert (flat == HEADER_BLUE).all(axis=1).sum() > 20_000        # the title bar rendered
    assert (flat == ZONE_FILL).all(axis=1).sum() > 20_000          # zone polygons on the map


def test_lookup_script_runs_offline_and_keeps_names_as_text(rendered):
    chromium, html = rendered
    dom = dump_dom(html.resolve().as_uri() + "#q=E000006", chromium=chromium)
    detail = dom[dom.index('id="lookup-detail"'):]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (E000006)" in detail
    assert "约束原因 binding reason" in detail and "strict-D" in detail
    assert "<script>alert(1)" not in dom
