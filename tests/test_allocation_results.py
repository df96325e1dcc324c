"""Result files of one variant (SPEC §8): columns, determinism, formula neutralisation."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from optimizer.allocation.engine import allocate
from optimizer.allocation.synthetic import (synthetic_config, synthetic_enterprises,
                                            synthetic_projects)
from optimizer.io.results import write_results


def run(tmp_path, name):
    ents = synthetic_enterprises(60, n_zones=3, seed=5)
    ents.loc[0, "name"] = "=HYPERLINK(\"x\")"
    cfg = synthetic_config(4)
    res = allocate(ents, cfg, synthetic_projects(5, n_zones=3, seed=6))
    folder = tmp_path / name
    write_results(res, folder, tiers=cfg.tiers, variant="base")
    return res, folder


def test_files_columns_and_byte_identical_reruns(tmp_path):
    res, first = run(tmp_path, "a")
    _, second = run(tmp_path, "b")
    for name in ("allocation.csv", "projects.csv", "zones.csv", "tiers.csv"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    alloc = pd.read_csv(first / "allocation.csv", keep_default_na=False)
    assert list(alloc.columns[:6]) == ["id", "name", "zone_id", "grade", "score", "scale"]
    assert {"land_mu_before", "land_mu_after", "land_mu_change_pct", "value_before",
            "value_after", "binding"} <= set(alloc.columns)
    assert list(alloc["id"]) == sorted(alloc["id"])
    assert alloc.loc[0, "name"].startswith("'=")              # neutralised formula
    zones = pd.read_csv(first / "zones.csv")
    assert list(zones.columns) == ["zone_id", "resource", "unit", "before", "after", "cap",
                                   "shadow_price"]
    assert "energy_intensity" in set(zones["resource"])
    assert "(global)" in set(zones["zone_id"])
    summary = json.loads((first / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["variant"] == "base"
    assert summary["objective"] == res.objective
    assert set(summary["timings"]) == {"build", "solve", "explain"}
    assert "energy_per_value_after" in summary["kpis"]
    assert "\r" not in (first / "allocation.csv").read_text(encoding="utf-8")
    tiers = pd.read_csv(first / "tiers.csv")
    assert list(tiers["grade"]) == ["A", "B", "C", "D", "U"]
    assert "energy_tce_efficiency" in tiers


def test_infeasible_result_is_written_with_diagnosis(tmp_path):
    import dataclasses
    from optimizer.policy import CapSpec
    ents = synthetic_enterprises(20, n_zones=2, seed=1)
    cfg = dataclasses.replace(synthetic_config(4),
                              global_caps={"energy_tce": CapSpec(factor=0.3)})
    res = allocate(ents, cfg)
    assert res.status == "infeasible"
    write_results(res, tmp_path / "x", tiers=cfg.tiers, variant="strict")
    summary = json.loads((tmp_path / "x" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible"
    assert summary["diagnosis"][0].startswith("global: energy cap")
    assert (tmp_path / "x" / "zones.csv").read_text(encoding="utf-8").startswith("zone_id,")


@pytest.mark.parametrize("dtype", ["str", object])
def test_missing_text_cells_are_empty(dtype):
    from optimizer.io.results import csv_text

    frame = pd.DataFrame({"name": pd.Series(["a", None, "=x"], dtype=dtype),
                          "label": pd.Series([None, "b", "c"], dtype=dtype),
                          "county": pd.Series([None, "x", "=y"], dtype=dtype)})  # not neutralised
    assert csv_text(frame) == "name,label,county\na,,\n,b,x\n'=x,c,=y\n"


def test_csv_rows_written_in_blocks_equal_one_block(tmp_path, monkeypatch):
    """csv_text turns rows into text a block at a time; block edges must not show."""
    import numpy as np

    from optimizer.io import results

    res, _ = run(tmp_path, "a")
    frame = res.allocation.copy()
    frame["flag"] = np.arange(len(frame)) % 2 == 0
    frame["count"] = pd.array(np.where(np.arange(len(frame)) % 5, np.arange(len(frame)), None),
                              dtype="Int64")
    whole = results.csv_text(frame)
    monkeypatch.setattr(results, "CSV_BLOCK_ROWS", 7)
    assert results.csv_text(frame) == whole
    assert whole.count("\n") == len(frame) + 1
    assert results.csv_text(frame.iloc[:0]) == whole.split("\n", 1)[0] + "\n"


HELPER_SCRIPT = r"""
import os, sys
import numpy as np, pandas as pd
from optimizer.io import results

mode = sys.argv[1]
rng = np.random.default_rng(5)
n = 1003
frame = pd.DataFrame({"id": [f"E{i:05d}" for i in range(n)],
                      "name": ["=cmd", "a,b", 'say "hi"', "plain", None, "line\nbreak"] * 167 + ["x"],
                      "land_mu_after": rng.normal(size=n) * 1e3, "flag": np.arange(n) % 3 == 0,
                      "count": pd.array(np.where(np.arange(n) % 5, np.arange(n), None), dtype="Int64")})
frame.loc[::9, "land_mu_after"] = np.nan
whole = results.csv_text(frame)
results.CSV_BLOCK_ROWS = 100                      # 11 blocks: the child formats 6 of them
parent, real_blocks, real_fork, forks = os.getpid(), results._blocks, os.fork, []

def blocks(*args):
    if os.getpid() != parent and mode == "child dies":
        os._exit(3)
    return real_blocks(*args)

def fork():
    forks.append(1)
    return real_fork()

results._blocks, os.fork = blocks, fork
same = results.csv_text(frame, helper=True) == whole
small = results.csv_text(frame.iloc[:50], helper=True) == results.csv_text(frame.iloc[:50])
print(len(forks), same, small)                   # one block: no child
"""


@pytest.mark.parametrize("mode", ["ok", "child dies"])
def test_csv_text_with_a_helper_is_the_same_text(mode):
    """Half the blocks formatted by a forked child (a fresh process: forking is refused
    where other tests left threads); if the child dies, the parent formats them."""
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run([sys.executable, "-c", HELPER_SCRIPT, mode], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True", "True"], done.stdout


@pytest.mark.parametrize("case", ["random", "halves", "edges", "empty", "all-nan"])
def test_fixed6_texts_equal_percent_formatting(case):
    """The vectorised "%.6f" (io.results.fixed6_texts) gives %'s text for every value,
    including exact and near halves of a millionth, huge, negative and missing values."""
    import numpy as np

    from optimizer.io.results import fixed6_texts

    rng = np.random.default_rng(17)
    values = {
        "random": rng.normal(size=200_000) * 10.0 ** rng.integers(-9, 12, size=200_000),
        "halves": np.concatenate([np.arange(-4000, 4000) * 5e-7, 1 + np.arange(-4000, 4000) * 5e-7,
                                  np.round(rng.normal(size=20_000) * 1e4, 6) + 5e-7,
                                  np.round(rng.normal(size=20_000), 7)]),
        "edges": np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 5e-7, -5e-7, 4.9e-7, -4.9e-7, 1e-7,
                           999999.9999995, -999999.9999995, 2.0 ** 33, -2.0 ** 33, 2.0 ** 52 / 1e6,
                           1e15, 1e16, 1e300, np.nan, np.inf, -np.inf, 123456.0000005, 0.1234565,
                           9.999999, -9.9999995, 1e-6, -1e-6]),
        "empty": np.array([]),
        "all-nan": np.full(3, np.nan),
    }[case]
    assert fixed6_texts(values) == ["" if x != x else "%.6f" % x for x in values.tolist()]


def test_fixed6_texts_equal_percent_formatting_for_any_doubles():
    """Property: for arbitrary doubles (hypothesis: subnormals, huge, halves of a
    millionth, integers), fixed6_texts is exactly "%.6f"."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from optimizer.io.results import fixed6_texts

    near_halves = st.integers(-10**12, 10**12).map(lambda k: (k + 0.5) / 1e6)
    doubles = st.one_of(st.floats(allow_nan=True, allow_infinity=True), near_halves,
                        st.floats(-1e10, 1e10), st.integers(-10**15, 10**15).map(float))

    @settings(max_examples=300, deadline=None)
    @given(st.lists(doubles, max_size=40))
    def check(values):
        arr = np.array(values, dtype=np.float64)
        assert fixed6_texts(arr) == ["" if x != x else "%.6f" % x for x in arr.tolist()]

    check()
