"""Headless Chromium for the report: screenshots (README image) and rendering tests.

Chromium is not a MuJun dependency; this is a developer tool. The flags keep
Chromium offline and quiet (no sync, no component updates, no background
networking, no QUIC), so a screenshot also proves the report needs no network.

    python -m optimizer.report.browser DIR/report.html docs/report-screenshot.png
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium",
                       "chromium-browser", "google-chrome")
OFFLINE_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = name if Path(name).is_absolute() and Path(name).exists() else shutil.which(name)
        if path:
            return path
    return None


def _run(chromium: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="mujun-chromium-") as profile:
        cmd = [chromium, *OFFLINE_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def screenshot(html: Path, png: Path, width: int = 1400, height: int = 2000,
               chromium: str | None = None, timeout: float = 120.0) -> Path:
    """Render ``html`` headless and write a PNG of the first ``height`` CSS pixels."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium executable found")
    png = Path(png).resolve()
    result = _run(chromium, [f"--screenshot={png}", f"--window-size={width},{height}",
                             Path(html).resolve().as_uri()], timeout)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot: {result.stderr[-2000:]}")
    return png


def dump_dom(url: str, chromium: str | None = None, timeout: float = 120.0) -> str:
    """The DOM after the page's scripts ran (for tests of the lookup)."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium executable found")
    result = _run(chromium, ["--virtual-time-budget=5000", "--dump-dom", url], timeout)
    return result.stdout


if __name__ == "__main__":  # pragma: no cover - developer tool
    if len(sys.argv) not in (3, 5):
        sys.exit("usage: python -m optimizer.report.browser REPORT.html OUT.png [WIDTH HEIGHT]")
    size = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) == 5 else (1400, 2000)
    print(screenshot(Path(sys.argv[1]), Path(sys.argv[2]), *size))
