"""Properties of the allocation on random small cases (hypothesis)."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.allocation.data import prepare
from optimizer.allocation.engine import allocate
from optimizer.allocation.synthetic import (synthetic_config, synthetic_enterprises,
                                            synthetic_projects)
from optimizer.policy import CapSpec

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw):
    n = draw(st.integers(3, 12))
    seed = draw(st.integers(0, 10_000))
    zone_factor = draw(st.floats(0.9, 1.3))
    energy_factor = draw(st.floats(0.85, 1.1))
    intensity = draw(st.one_of(st.none(), st.floats(0.9, 1.2)))
    ents = synthetic_enterprises(n, n_zones=2, seed=seed)
    projects = synthetic_projects(2, n_zones=2, seed=seed) if draw(st.booleans()) else None
    cfg = synthetic_config(4)
    cfg = dataclasses.replace(
        cfg, zone_caps={r: CapSpec(factor=zone_factor) for r in cfg.resources},
        global_caps={"energy_tce": CapSpec(factor=energy_factor)},
        intensity=CapSpec(factor=intensity) if intensity else None)
    return ents, projects, cfg


def check_feasible(ents, projects, cfg, result, tol=1e-6):
    data = prepare(ents, cfg, projects)
    alloc = result.allocation
    s = alloc["scale"].to_numpy()
    x = np.column_stack([alloc[f"{r}_after"].to_numpy() for r in data.resources])
    alive = s > 0
    assert np.all(s[alive] >= data.s_lo[alive] - tol) and np.all(s <= data.s_hi + tol)
    assert np.all(x[alive] >= data.f[alive] - tol)
    assert np.all(x <= data.q_hi_u + tol)
    assert np.all(x >= data.a * s[:, None] - tol)
    zones = result.zones.dropna(subset=["cap"])
    zones = zones[zones.resource != "energy_intensity"]
    assert np.all(zones["after"] <= zones["cap"] + tol * np.maximum(1, zones["cap"].abs()))
    if data.theta is not None:
        assert result.kpis["energy_per_value_after"] <= data.theta * (1 + 1e-6)


@SETTINGS
@given(cases())
def test_caps_and_tier_bounds_hold(case):
    ents, projects, cfg = case
    best = allocate(ents, cfg, projects)
    assume(best.status == "optimal")
    check_feasible(ents, projects, cfg, best)
    rule = allocate(ents, dataclasses.replace(cfg, method="rule"), projects)
    if rule.status == "optimal":
        check_feasible(ents, projects, cfg, rule)


@SETTINGS
@given(cases(), st.sampled_from(["land_mu", "energy_tce", "cod_t", "nox_t"]),
       st.floats(1.0, 1.5))
def test_loosening_a_zone_cap_never_lowers_the_objective(case, resource, more):
    ents, projects, cfg = case
    base = allocate(ents, cfg, projects)
    assume(base.status == "optimal")
    caps = dict(cfg.zone_caps)
    caps[resource] = CapSpec(factor=caps[resource].factor * more)
    looser = allocate(ents, dataclasses.replace(cfg, zone_caps=caps), projects)
    assert looser.status == "optimal"
    assert looser.objective >= base.objective * (1 - 1e-9) - 1e-6


@SETTINGS
@given(cases())
def test_optimum_never_below_rule_baseline(case):
    ents, projects, cfg = case
    rule = allocate(ents, dataclasses.replace(cfg, method="rule"), projects)
    assume(rule.status == "optimal")
    best = allocate(ents, cfg, projects)
    assert best.status == "optimal"
    assert best.objective >= rule.objective * (1 - 1e-9) - 1e-6
