"""Result files of one variant (SPEC §8): columns, determinism, formula neutralisation."""

from __future__ import annotations

import json

import pandas as pd

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
