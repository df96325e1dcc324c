"""Benchmark: grade N synthetic enterprises with every shipped model and print seconds.

    .venv/bin/python scripts/bench_grading.py [--n 100000] [--seed 7]

The synthetic table follows the validated enterprise frame of optimizer.schema,
with magnitudes calibrated on published Zhejiang figures (亩均税收 ≈ 25 万元/亩,
亩均增加值 ≈ 136 万元/亩, productivity ≈ 23 万元/人, R&D ≈ 2.8 %). It also prints
the grade shares so they can be compared with the model's shares.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.evaluation import grade_enterprises, load_model  # noqa: E402


def synthetic_enterprises(n: int, seed: int = 7) -> pd.DataFrame:
    """A seeded random enterprise table (lognormal sizes and intensities)."""
    rng = np.random.default_rng(seed)
    land = np.round(rng.lognormal(np.log(25), 1.0, n), 2)
    va_per_mu = rng.lognormal(np.log(110), 0.7, n)
    value_added = land * va_per_mu * rng.choice([1.0, -0.2], n, p=[0.98, 0.02])
    tax = np.maximum(0.0, land * rng.lognormal(np.log(20), 0.8, n))
    revenue = np.abs(value_added) * rng.uniform(3.0, 5.0, n)
    emissions = {c: rng.lognormal(np.log(m), 1.0, n) * land / 25
                 for c, m in (("cod_t", 0.2), ("nh3n_t", 0.02), ("so2_t", 0.15), ("nox_t", 0.2))}
    no_emission = rng.random(n) < 0.1
    for values in emissions.values():
        values[no_emission] = np.nan
    frame = pd.DataFrame({
        "id": pd.Series([f"E{i:06d}" for i in range(n)], dtype="str"),
        "name": pd.Series([f"企业{i}" for i in range(n)], dtype="str"),
        "zone_id": pd.Series(rng.choice([f"Z{i:02d}" for i in range(20)], n), dtype="str"),
        "county": pd.Series(rng.choice([f"C{i:02d}" for i in range(8)], n), dtype="str"),
        "sector": pd.Series(rng.choice(["C13", "C26", "C34", "C38", "C39"], n), dtype="str"),
        "above_scale": rng.random(n) < 0.6,
        "land_mu": land,
        "tax": tax,
        "value_added": value_added,
        "revenue": revenue,
        "rd_expense": revenue * rng.uniform(0.0, 0.06, n),
        "employees": np.round(np.abs(value_added) / rng.lognormal(np.log(20), 0.5, n)) + 1,
        "energy_tce": np.abs(value_added) / rng.lognormal(np.log(2.5), 0.6, n),
        "electricity_10k_kwh": tax / rng.lognormal(np.log(0.25), 0.6, n),
        **emissions,
        "fdi": rng.random(n) < 0.05,
        "veto": pd.Series(np.where(rng.random(n) < 0.01, "安全生产事故", ""), dtype="str"),
        "grade": pd.Series([""] * n, dtype="str"),
        "new_firm": rng.random(n) < 0.03,
        "source_row": np.arange(n) + 2,
    })
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    frame = synthetic_enterprises(args.n, args.seed)
    print(f"{args.n} synthetic enterprises (seed {args.seed})")
    for path in sorted((ROOT / "models").glob("*.toml")):
        model = load_model(path)
        start = time.perf_counter()
        grades = grade_enterprises(frame, model)
        seconds = time.perf_counter() - start
        shares = grades["grade"].value_counts(normalize=True).reindex(list("ABCDU"), fill_value=0)
        text = " ".join(f"{g} {100 * s:.1f}%" for g, s in shares.items())
        print(f"{model.name:20s} {seconds:6.2f} s   {text}")


if __name__ == "__main__":
    main()
