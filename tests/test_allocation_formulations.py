"""The fast segment formulation against the plain SPEC §4 model and an independent solver."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import linprog

from optimizer.allocation.data import prepare
from optimizer.allocation.engine import allocate
from optimizer.allocation.model import LinearModel
from optimizer.allocation.plain import build_plain
from optimizer.allocation.segments import build_segments, enterprise_segments
from optimizer.allocation.synthetic import (synthetic_config, synthetic_enterprises,
                                            synthetic_projects)
from optimizer.policy import CapSpec

DATA = Path(__file__).parent / "data"


def linprog_objective(model: LinearModel) -> float:
    """Solve with scipy's HiGHS front end: an independent path to the optimum."""
    A = model.A.tocsr()
    eq = np.isfinite(model.row_lb) & (model.row_lb == model.row_ub)
    up = np.isfinite(model.row_ub) & ~eq
    lo = np.isfinite(model.row_lb) & ~eq
    import scipy.sparse as sp
    A_ub = sp.vstack([A[up], -A[lo]]).tocsr()
    b_ub = np.concatenate([model.row_ub[up], -model.row_lb[lo]])
    sign = -1.0 if model.sense == "max" else 1.0
    res = linprog(sign * model.c, A_ub=A_ub if A_ub.shape[0] else None,
                  b_ub=b_ub if A_ub.shape[0] else None,
                  A_eq=A[eq] if eq.any() else None, b_eq=model.row_lb[eq] if eq.any() else None,
                  bounds=np.column_stack([model.lb, model.ub]), method="highs")
    assert res.status == 0, res.message
    return sign * res.fun + model.offset


def case(seed: int, n: int = 40, intensity: bool = True, resources: int = 4):
    ents = synthetic_enterprises(n, n_zones=4, seed=seed)
    projects = synthetic_projects(4, n_zones=4, seed=seed + 100)
    cfg = synthetic_config(resources, intensity=intensity)
    cfg = dataclasses.replace(cfg, zone_caps={r: CapSpec(factor=1.05) for r in cfg.resources},
                              intensity=CapSpec(factor=1.0) if intensity else None)
    return ents, projects, cfg


@pytest.mark.parametrize("seed", range(8))
def test_segments_equal_plain_and_linprog(seed):
    ents, projects, cfg = case(seed, intensity=seed % 2 == 0, resources=4 + 2 * (seed % 3 == 0))
    fast = allocate(ents, cfg, projects)
    plain = allocate(ents, cfg, projects, formulation="plain")
    assert fast.status == plain.status == "optimal"
    assert fast.objective == pytest.approx(plain.objective, rel=1e-7)
    assert linprog_objective(plain.model) == pytest.approx(fast.objective, rel=1e-7)
    assert linprog_objective(fast.model) == pytest.approx(fast.objective, rel=1e-7)
    # the solver's own objective (offset included) matches the recomputed Σ w·VA·s
    z_fast = fast.zones.set_index(["zone_id", "resource"])
    z_plain = plain.zones.set_index(["zone_id", "resource"])
    np.testing.assert_allclose(z_fast["shadow_price"].fillna(-1), z_plain["shadow_price"]
                               .fillna(-1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_segments_equal_plain_milp(seed):
    ents, projects, cfg = case(seed, n=14)
    cfg = dataclasses.replace(cfg, method="milp")
    fast = allocate(ents, cfg, projects)
    plain = allocate(ents, cfg, projects, formulation="plain")
    assert fast.status == plain.status == "optimal"
    assert fast.objective == pytest.approx(plain.objective, rel=1e-4)   # HiGHS MIP gap


def test_smaller_blocks_do_not_change_the_optimum():
    ents, projects, cfg = case(3, n=60)
    whole = allocate(ents, cfg, projects)
    chunked = allocate(ents, cfg, projects, block_size=4)
    assert chunked.model.n_rows > whole.model.n_rows
    assert chunked.objective == pytest.approx(whole.objective, rel=1e-9)


def test_segments_have_about_one_column_per_enterprise():
    data = prepare(*case(0, n=200, intensity=False)[::2])
    ent, start, length = enterprise_segments(data)
    assert ent.size <= 1.5 * data.n
    # filled in order, the segments rebuild every scale range exactly
    np.testing.assert_allclose(np.bincount(ent, weights=length, minlength=data.n),
                               np.maximum(data.s_ub, data.s_lo) - data.s_lo, atol=1e-12)


def regression_case():
    """Round numbers so the reference text is the same on every platform."""
    import pandas as pd
    ents = pd.DataFrame({
        "id": ["e1", "e2", "e3", "e4"], "name": "", "zone_id": ["Z1", "Z1", "Z2", "Z2"],
        "grade": ["A", "B", "C", "D"], "score": 1.0,
        "land_mu": [10.0, 20.0, 30.0, 40.0], "energy_tce": [100.0, 50.0, 300.0, 400.0],
        "value_added": [1000.0, 800.0, 600.0, 100.0], "tax": 1.0})
    projects = pd.DataFrame({
        "id": ["p1", "p2"], "name": "", "zone_id": ["Z1", "Z2"], "land_mu": [10.0, 10.0],
        "investment": [4000.0, 1000.0], "value_added": [900.0, 500.0], "tax": 0.0,
        "energy_tce": [60.0, 50.0], "fdi": [True, False]})
    cfg = dataclasses.replace(
        synthetic_config(4), resources=("land_mu", "energy_tce"), method="milp",
        zone_caps={}, zone_land_caps_mu={"Z1": 35.0, "Z2": 60.0},
        global_caps={"energy_tce": CapSpec(absolute=800.0)}, intensity=CapSpec(absolute=0.5))
    return ents, projects, cfg


def test_lp_export_matches_reference():
    """Formulation regression: a change to the maths shows up in this diff."""
    from optimizer.solvers.export import lp_text
    ents, projects, cfg = regression_case()
    built = build_segments(prepare(ents, cfg, projects), milp=True)
    text = lp_text(built.model)
    reference = DATA / "allocation_small.lp"
    assert text == reference.read_text(encoding="utf-8")


def test_regression_case_solves_the_same_both_ways():
    ents, projects, cfg = regression_case()
    fast = allocate(ents, cfg, projects)
    plain = allocate(ents, cfg, projects, formulation="plain")
    assert fast.objective == pytest.approx(plain.objective, rel=1e-9)


def test_plain_model_shape():
    ents, projects, cfg = case(1, n=10, intensity=True)
    data = prepare(ents, cfg, projects)
    built = build_plain(data)
    R = len(data.resources)
    assert built.model.n_cols == data.n * (R + 1) + data.projects.n
    assert built.model.n_rows == data.n * R + len(data.caps) + 1


@pytest.mark.parametrize("seed", range(3))
def test_sifting_gives_the_direct_optimum_and_prices(seed):
    ents = synthetic_enterprises(3000, n_zones=6, seed=seed)
    projects = synthetic_projects(6, n_zones=6, seed=seed)
    cfg = synthetic_config(4, intensity=seed != 1)
    direct = allocate(ents, cfg, projects, sift_min_columns=10**9)
    sifted = allocate(ents, cfg, projects, sift_min_columns=1)
    assert sifted.objective == pytest.approx(direct.objective, rel=1e-9)
    np.testing.assert_allclose(sifted.zones["shadow_price"].fillna(-1),
                               direct.zones["shadow_price"].fillna(-1), rtol=1e-6, atol=1e-7)
    assert (sifted.allocation["binding"] == direct.allocation["binding"]).mean() > 0.99
    from optimizer.allocation.sifting import SiftingSolver
    from optimizer.solvers import get_solver
    sol = SiftingSolver(get_solver("highs"), min_columns=1).solve(sifted.model)
    assert sol.timings["sifting_rounds"] >= 1          # the sifting path ran, no fallback


@pytest.mark.parametrize("seed", range(6))
def test_substituted_totals_equal_the_block_form(seed):
    """Interior point gets the caps written over δ directly (long_rows): same LP."""
    from optimizer.solvers import get_solver
    ents, projects, cfg = case(seed, n=60, intensity=seed % 2 == 0)
    data = prepare(ents, cfg, projects)
    block = build_segments(data, block_size=7)
    direct = build_segments(data, block_size=7, long_rows=True)
    assert direct.model.n_rows == len(data.caps) + (data.theta is not None)
    assert direct.model.n_rows < block.model.n_rows
    np.testing.assert_array_equal(direct.cap_rows, np.arange(len(data.caps)))
    solver = get_solver("highs")
    a, b = solver.solve(block.model), solver.solve(direct.model)
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert linprog_objective(direct.model) == pytest.approx(a.objective, rel=1e-9)
    np.testing.assert_allclose(direct.s_cols(b.x), block.s_cols(a.x), atol=1e-7)
    np.testing.assert_allclose(b.row_duals[direct.cap_rows], a.row_duals[block.cap_rows],
                               rtol=1e-6, atol=1e-9)
    if data.theta is not None:
        assert b.row_duals[direct.intensity_row] == pytest.approx(
            a.row_duals[block.intensity_row], rel=1e-6, abs=1e-9)


def test_interior_point_runs_on_the_substituted_model():
    ents, projects, cfg = case(5, n=80)
    ipm = allocate(ents, dataclasses.replace(cfg, solver="highs:ipm"), projects)
    simplex = allocate(ents, dataclasses.replace(cfg, solver="highs"), projects)
    assert ipm.model.n_rows < simplex.model.n_rows        # no block rows for IPM
    assert ipm.objective == pytest.approx(simplex.objective, rel=1e-9)
    names = ipm.model.names_or_default()
    assert len(names[0]) == ipm.model.n_cols and len(names[1]) == ipm.model.n_rows
    assert not any(n.startswith("blk") for n in names[1])


def _demo_case():
    """The base run of the shipped demo scenario, read and graded as `mujun run` does."""
    from pathlib import Path

    import pandas as pd

    from optimizer.pipeline import allocation_config, grade, prepare, tiers_for
    from optimizer.scenario import load_scenario

    path = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
    settings = load_scenario(path).runs[0].settings
    inputs, report, enterprises = prepare(settings)
    model, _, graded = grade(settings, enterprises)
    cfg = allocation_config(settings, tiers_for(settings, model), report, None)
    return pd.DataFrame(graded.drop(columns="geometry", errors="ignore")), inputs.projects, cfg


@pytest.mark.parametrize("data,limits,gives_up", [
    ("demo", {}, False),                                   # good sample prices
    ("synthetic", {}, True),                               # poor ones: most columns freed
    ("synthetic", {"TRY_WORKING_SHARE": 1.0, "TRY_SOLVED_SHARE": 9.0}, False),  # sifted anyway
    ("demo", {"TRY_ROUNDS": 0}, True)])                    # out of rounds
def test_tentative_sifting_is_exact_whether_it_finishes_or_gives_up(data, limits, gives_up,
                                                                   monkeypatch):
    """Tentative sifting (SiftingSolver between try_columns and min_columns) either
    converges or gives up for a direct solve (its restricted LP would hold most of the
    columns, or it runs out of rounds); the optimum and the prices are the direct
    solve's either way."""
    from optimizer.allocation import sifting
    from optimizer.allocation.sifting import SiftingSolver
    from optimizer.solvers import get_solver

    for name, value in limits.items():
        monkeypatch.setattr(sifting, name, value)
    if data == "demo":
        ents, projects, cfg = _demo_case()
    else:
        ents = synthetic_enterprises(3000, n_zones=6, seed=0)
        projects, cfg = synthetic_projects(6, n_zones=6, seed=0), synthetic_config(4)
    direct = allocate(ents, cfg, projects, sift_min_columns=10**9, sift_try_columns=10**9)
    tried = allocate(ents, cfg, projects, sift_min_columns=10**9, sift_try_columns=1)
    assert tried.objective == pytest.approx(direct.objective, rel=1e-9)
    np.testing.assert_allclose(tried.zones["shadow_price"].fillna(-1),
                               direct.zones["shadow_price"].fillna(-1), rtol=1e-6, atol=1e-7)
    solver = SiftingSolver(get_solver("highs:ipm"), min_columns=10**9, try_columns=1)
    sol = solver.solve(direct.model)
    assert sol.objective == pytest.approx(direct.objective, rel=1e-9)
    assert solver.gave_up == gives_up
    assert ("sifting_rounds" in (sol.timings or {})) == (not gives_up)
