"""Properties every allocation must have, on random small instances (hypothesis, issue 7).

Random enterprises (3–12 firms, 2 zones, planner-fixed grades), random tier
bounds and caps, optional projects and an energy-intensity target. The
properties: caps and tier bounds hold; solver backends agree; the result
files are byte-identical on a rerun and whatever the input row order;
raising the objective weight of a grade never lowers that grade's total
value; and counting money in 元 instead of 万元 (× 10 000) scales the
objective by 10 000 and changes nothing else.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.allocation.data import prepare
from optimizer.allocation.engine import allocate
from optimizer.allocation.synthetic import (synthetic_config, synthetic_enterprises,
                                            synthetic_projects)
from optimizer.io.results import write_results
from optimizer.policy import GRADES, CapSpec, Tier
from optimizer.solvers import get_solver

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
MONEY = ("tax", "value_added", "revenue", "rd_expense")
PROJECT_MONEY = ("investment", "value_added", "tax")
RTOL = 1e-6


@st.composite
def tiers(draw):
    """Random but valid tiers: 0 ≤ s_lo ≤ s_hi, 0 ≤ q_lo ≤ q_hi, 0 ≤ e < 1."""
    out = {}
    for grade in (*GRADES, "U"):
        s_lo = draw(st.floats(0.3, 1.1))
        s_hi = s_lo + draw(st.floats(0.0, 0.5))
        q_lo = draw(st.floats(0.0, 1.0))
        q_hi = draw(st.one_of(st.just(math.inf), st.floats(q_lo + 0.05, q_lo + 1.0)))
        out[grade] = Tier(scale=(s_lo, s_hi), quota_default=(q_lo, q_hi),
                          efficiency={"energy_tce": draw(st.floats(0.0, 0.2))},
                          weight=draw(st.floats(0.5, 2.0)))
    return out


@st.composite
def cases(draw, with_projects=True):
    n = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 10_000))
    ents = synthetic_enterprises(n, n_zones=2, seed=seed)
    projects = (synthetic_projects(2, n_zones=2, seed=seed + 1)
                if with_projects and draw(st.booleans()) else None)
    cfg = dataclasses.replace(
        synthetic_config(4), tiers=draw(tiers()),
        zone_caps={r: CapSpec(factor=draw(st.floats(0.8, 1.4))) for r in ("land_mu", "cod_t")},
        global_caps={"energy_tce": CapSpec(factor=draw(st.floats(0.8, 1.3)))},
        intensity=draw(st.one_of(st.none(), st.builds(CapSpec, factor=st.floats(0.8, 1.3)))))
    return ents, projects, cfg


def solved(ents, cfg, projects=None, **kwargs):
    result = allocate(ents, cfg, projects, **kwargs)
    assume(result.status == "optimal")
    return result


def grade_totals(result) -> pd.Series:
    alloc = result.allocation
    return alloc.groupby("grade")["value_after"].sum()


@SETTINGS
@given(cases())
def test_caps_and_random_tier_bounds_hold(case):
    ents, projects, cfg = case
    result = solved(ents, cfg, projects)
    data = prepare(ents, cfg, projects)
    alloc = result.allocation.set_index("id").loc[data.ids]
    s = alloc["scale"].to_numpy()
    x = np.column_stack([alloc[f"{r}_after"].to_numpy() for r in data.resources])
    tol = 1e-6
    assert np.all(s >= data.s_lo - tol) and np.all(s <= data.s_hi + tol)
    assert np.all(x >= data.f - tol * np.maximum(1, data.f))
    assert np.all(x <= data.q_hi_u + tol * np.maximum(1, np.nan_to_num(data.q_hi_u, posinf=1)))
    assert np.all(x >= data.a * s[:, None] - tol * np.maximum(1, data.a))
    zones = result.zones.dropna(subset=["cap"])
    caps = zones[zones.resource != "energy_intensity"]
    assert np.all(caps["after"] <= caps["cap"] * (1 + tol) + tol)
    if data.theta is not None:
        assert result.kpis["energy_per_value_after"] <= data.theta * (1 + tol)
    assert len(result.allocation) == len(ents)          # no firm silently dropped
    if projects is not None:                              # nor a project: ineligible ones say why
        proj = result.projects
        assert sorted(proj["id"]) == sorted(projects["id"])
        assert (proj.loc[~proj["eligible"].astype(bool), "reason"].str.len() > 0).all()


@SETTINGS
@given(cases())
def test_backends_agree(case):
    ents, projects, cfg = case
    ref = solved(ents, cfg, projects)
    for name in ("ortools:glop", "pulp:cbc"):
        other = allocate(ents, cfg, projects, solver=get_solver(name))
        assert other.status == "optimal", name
        assert other.objective == pytest.approx(ref.objective, rel=RTOL, abs=1e-6), name


@SETTINGS
@given(cases())
def test_rerun_and_row_order_give_identical_files(tmp_path_factory, case):
    ents, projects, cfg = case
    first = solved(ents, cfg, projects)
    again = allocate(ents, cfg, projects)
    shuffled = allocate(ents.sample(frac=1.0, random_state=7), cfg, projects)
    folders = [tmp_path_factory.mktemp("run") for _ in range(3)]
    for result, folder in zip((first, again, shuffled), folders):
        write_results(result, folder, tiers=cfg.tiers, variant="base")
    names = ("allocation.csv", "projects.csv", "zones.csv", "tiers.csv")
    reference = {n: (folders[0] / n).read_bytes() for n in names}
    assert {n: (folders[1] / n).read_bytes() for n in names} == reference
    # the input row order does not change a byte (the engine sorts by id first)
    assert {n: (folders[2] / n).read_bytes() for n in names} == reference


@SETTINGS
@given(cases(with_projects=False), st.sampled_from(GRADES), st.floats(0.5, 3.0))
def test_raising_a_grade_weight_never_lowers_its_value(case, grade, more):
    ents, _, cfg = case
    assume((ents["grade"] == grade).any())
    base = solved(ents, cfg)
    tiers = dict(cfg.tiers)
    tiers[grade] = dataclasses.replace(tiers[grade], weight=tiers[grade].weight + more)
    heavier = solved(ents, dataclasses.replace(cfg, tiers=tiers))
    before, after = grade_totals(base)[grade], grade_totals(heavier)[grade]
    # exact for any pair of optima: Δw·(V_g' − V_g) ≥ 0; slack = solver tolerance / Δw
    slack = 1e-7 * (abs(base.objective) + abs(heavier.objective)) / more + 1e-6
    assert after >= before - slack


@SETTINGS
@given(cases())
def test_money_in_yuan_scales_objective_only(case):
    ents, projects, cfg = case
    wan = solved(ents, cfg, projects)
    yuan_ents = ents.copy()
    money = [c for c in MONEY if c in ents]        # synthetic firms carry tax and value_added
    assert {"tax", "value_added"} <= set(money)
    yuan_ents[money] *= 10_000
    yuan_projects = None
    if projects is not None:
        yuan_projects = projects.copy()
        yuan_projects[list(PROJECT_MONEY)] *= 10_000
    yuan = allocate(yuan_ents, cfg, yuan_projects)
    assert yuan.status == "optimal"
    assert yuan.objective == pytest.approx(10_000 * wan.objective, rel=RTOL)
    a, b = wan.allocation, yuan.allocation
    assert list(a["id"]) == list(b["id"]) and list(a["grade"]) == list(b["grade"])
    quota_cols = [c for c in a.columns if c.endswith("_after") and c != "value_after"]
    np.testing.assert_allclose(b["scale"], a["scale"], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(b[quota_cols], a[quota_cols], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b["value_after"], 10_000 * a["value_after"], rtol=1e-6, atol=1e-3)
    if projects is not None:
        assert list(yuan.projects["eligible"]) == list(wan.projects["eligible"])
        np.testing.assert_allclose(yuan.projects["admitted_share"],
                                   wan.projects["admitted_share"], atol=1e-6)


NASTY_CELLS = st.one_of(
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e309", "-0", "0x10", "１２", "1,000",
                     "1.2.3", "true", "是", "否", "N/A", "—", "=1+1", "@x", '"', "'", ",", "\t",
                     "1e-320", "9" * 40, "E01", "Ｅ０１", " E01 ", "\u3000", "\u200b", "<b>"]),
    st.text(max_size=12))


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 19), NASTY_CELLS), min_size=1,
                max_size=6))
def test_any_cell_gives_ok_or_a_clear_error(tmp_path, edits):
    """Whatever a planner types in any cell: exit 0 or 2 with a located message, never a crash."""
    import csv
    import io

    from optimizer.cli import main
    from tests.conftest import SMALL_ENTERPRISES, scenario_text

    import tempfile

    folder = Path(tempfile.mkdtemp(dir=tmp_path))      # one folder per example: no stale cache
    rows = list(csv.reader(io.StringIO(SMALL_ENTERPRISES)))
    for row, col, value in edits:
        rows[row + 1][col] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (folder / "enterprises.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    (folder / "scenario.toml").write_text(scenario_text(), encoding="utf-8")
    err = io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(["validate", str(folder / "scenario.toml")])
    text = err.getvalue()
    assert code in (0, 2), text
    assert "internal error" not in text and "Traceback" not in text
    if code == 2:
        assert "enterprises.csv" in text and ("row " in text), text


def test_money_in_yuan_end_to_end(tmp_path):
    """The same through the CLI: planner-fixed grades, every money column × 10 000."""
    import json

    from optimizer.cli import main
    from tests.conftest import SMALL_ENTERPRISES, scenario_text

    wan = pd.read_csv(io_text(SMALL_ENTERPRISES), dtype=str, keep_default_na=False)
    wan["grade"] = ["B", "C", "A", "U", "D", "A"]
    yuan = wan.copy()
    for col in MONEY:
        yuan[col] = (pd.to_numeric(wan[col]) * 10_000).map(repr)
    summaries, allocations = [], []
    for name, frame in (("wan", wan), ("yuan", yuan)):
        folder = tmp_path / name
        folder.mkdir()
        frame.to_csv(folder / "enterprises.csv", index=False)
        (folder / "scenario.toml").write_text(scenario_text(), encoding="utf-8")
        assert main(["run", str(folder / "scenario.toml"), "-o", str(folder / "out"), "--quiet",
                     "--jobs", "1"]) == 0
        summaries.append(json.loads((folder / "out" / "base" / "summary.json").read_text()))
        allocations.append(pd.read_csv(folder / "out" / "base" / "allocation.csv"))
    assert summaries[1]["objective"] == pytest.approx(10_000 * summaries[0]["objective"], rel=1e-9)
    a, b = allocations
    assert list(a["grade"]) == list(b["grade"]) == ["B", "C", "A", "U", "D", "A"]
    quota = ["scale"] + [c for c in a.columns if c.endswith("_after") and c != "value_after"]
    pd.testing.assert_frame_equal(a[quota], b[quota])


def io_text(text: str):
    import io

    return io.StringIO(text)
