"""Benchmark: build comparison.csv, report.xlsx and report.html for a large synthetic run.

Prints the time of each writer and the file sizes. The run is synthetic
(optimizer.report.testing.write_fake_run: the SPEC §8 files with plausible numbers),
so the figures measure the report alone, not grading or solving.

Usage: python scripts/bench_report.py [--enterprises 10000] [--variants 20] [--no-geo]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from optimizer.report.comparison import write_comparison
from optimizer.report.html import render_html, save_html
from optimizer.report.results import load_run
from optimizer.report.testing import DEFAULT_VARIANTS, fake_geometries, write_fake_run
from optimizer.report.xlsx import render_xlsx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--variants", type=int, default=20)
    parser.add_argument("--no-geo", action="store_true", help="no zones/parcels (no map)")
    args = parser.parse_args()
    shapes = list(DEFAULT_VARIANTS.values())
    variants = {("base" if i == 0 else f"v{i:02d}"): shapes[i % len(shapes)]
                for i in range(args.variants)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        dirs, manifest = write_fake_run(root / "run", n=args.enterprises, variants=variants)
        geo = (None, None, None) if args.no_geo else fake_geometries(args.enterprises)
        timings = {}
        t = time.perf_counter()
        comparison = write_comparison(dirs, root / "comparison.csv")
        timings["comparison.csv"] = time.perf_counter() - t
        t = time.perf_counter()
        results = load_run(dirs)
        timings["read variant folders"] = time.perf_counter() - t
        t = time.perf_counter()
        render_xlsx(root / "report.xlsx", results, manifest, comparison)
        timings["report.xlsx"] = time.perf_counter() - t
        t = time.perf_counter()
        save_html(root / "report.html", render_html(results, manifest, comparison, *geo))
        timings["report.html"] = time.perf_counter() - t
        print(f"{args.enterprises} enterprises × {args.variants} variants"
              f"{'' if args.no_geo else ' with parcels'}")
        for name, seconds in timings.items():
            size = (root / name).stat().st_size / 1e6 if (root / name).exists() else None
            print(f"  {name:22s} {seconds:7.2f} s" + (f"  {size:7.2f} MB" if size else ""))
        print(f"  {'total':22s} {sum(timings.values()):7.2f} s")


if __name__ == "__main__":
    main()
