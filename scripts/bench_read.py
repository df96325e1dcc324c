"""Benchmark: read and validate an enterprise CSV (issue 2 target: 100,000 rows < 3 s).

Usage: python scripts/bench_read.py [--enterprises 100000] [--csv PATH]
Without --csv, a synthetic table with every canonical column is written to a
temporary folder first (seeded), in UTF-8 and in GBK with Chinese headers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.schema import ENTERPRISE_COLUMNS
from optimizer.validation import read_enterprises


def synthetic(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    land = rng.lognormal(3.0, 0.9, n).round(2) + 1
    frame = pd.DataFrame({
        "id": [f"91330000MA{i:08d}" for i in range(n)],
        "name": [f"浙江测试{i}号制造有限公司" for i in range(n)],
        "zone_id": [f"Z{i % 120:03d}" for i in range(n)],
        "county": [f"县{i % 90}" for i in range(n)],
        "sector": rng.integers(13, 43, n).astype(str),
        "above_scale": rng.random(n) < 0.85,
        "land_mu": land,
    })
    for col in ENTERPRISE_COLUMNS:
        if col.kind == "float" and col.name not in frame:
            frame[col.name] = (land * rng.lognormal(1.0, 1.0, n)).round(3)
    frame["fdi"] = rng.random(n) < 0.08
    frame["veto"] = ""
    frame["grade"] = ""
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        if args.csv:
            paths["given"] = args.csv
        else:
            frame = synthetic(args.enterprises)
            paths["utf-8"] = Path(tmp) / "e.csv"
            frame.to_csv(paths["utf-8"], index=False)
            zh = frame.rename(columns={c.name: c.aliases[0] for c in ENTERPRISE_COLUMNS
                                       if c.aliases and c.name in frame})
            paths["gbk, Chinese headers"] = Path(tmp) / "e_gbk.csv"
            zh.to_csv(paths["gbk, Chinese headers"], index=False, encoding="gbk")
        for label, path in paths.items():
            best = min(_timed(path) for _ in range(3))
            print(f"read+validate {label}: {args.enterprises:,} rows in {best:.2f} s "
                  f"({path.stat().st_size / 1e6:.1f} MB)")


def _timed(path: Path) -> float:
    t0 = time.perf_counter()
    read_enterprises(path)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
