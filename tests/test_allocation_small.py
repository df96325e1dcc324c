"""Hand-solved allocation models (3–5 enterprises), one per constraint family of SPEC §4."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from optimizer.allocation.engine import allocate
from optimizer.policy import AllocationConfig, CapSpec, ProjectPolicy, Tier

OPEN = (0.0, math.inf)


def enterprises(rows: list[dict]) -> pd.DataFrame:
    """A validated-looking enterprise frame; missing numbers are NaN."""
    base = {"name": "", "zone_id": "Z", "county": "", "sector": "", "veto": "", "grade": "A",
            "above_scale": True, "fdi": False, "new_firm": False, "score": 80.0}
    nums = ("land_mu", "tax", "value_added", "revenue", "rd_expense", "employees", "energy_tce",
            "electricity_10k_kwh", "cod_t", "nh3n_t", "so2_t", "nox_t")
    full = [{**base, **{k: np.nan for k in nums}, **r} for r in rows]
    frame = pd.DataFrame(full)
    frame["name"] = frame["id"] + " Co."
    return frame


def config(resources, tiers, **kw) -> AllocationConfig:
    return AllocationConfig(resources=tuple(resources), tiers=tiers, solver="highs", **kw)


def row(result, ident):
    return result.allocation.set_index("id").loc[ident]


# --- zone land cap ----------------------------------------------------------------------
def zone_case(cap_mu: float) -> tuple[pd.DataFrame, AllocationConfig]:
    ents = enterprises([
        {"id": "e1", "grade": "A", "land_mu": 10.0, "value_added": 100.0},
        {"id": "e2", "grade": "B", "land_mu": 10.0, "value_added": 50.0},
        {"id": "e3", "grade": "C", "land_mu": 10.0, "value_added": 20.0}])
    tiers = {"A": Tier(scale=(1.0, 1.5)), "B": Tier(scale=(1.0, 1.2)),
             "C": Tier(scale=(0.5, 1.0)), "D": Tier(), "U": Tier()}
    return ents, config(["land_mu"], tiers, zone_land_caps_mu={"Z": cap_mu})


def test_zone_land_cap_fills_by_value_per_mu():
    # floors use 10 + 10 + 5 = 25 mu; e1 (10 万元/mu) takes 5 mu to its ceiling,
    # e2 (5 万元/mu) the last 1 mu: s2 = 1.1; e3 (2 万元/mu) stays at its floor.
    ents, cfg = zone_case(31.0)
    res = allocate(ents, cfg)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(150 + 55 + 10)
    assert row(res, "e1").scale == pytest.approx(1.5)
    assert row(res, "e2").scale == pytest.approx(1.1)
    assert row(res, "e3").land_mu_after == pytest.approx(5.0)
    assert row(res, "e1").binding == "at tier ceiling"
    assert row(res, "e2").binding == "limited by zone land cap (Z)"
    assert row(res, "e3").binding == "at tier floor; limited by zone land cap (Z)"
    z = res.zones.set_index(["zone_id", "resource"]).loc[("Z", "land_mu")]
    assert z.shadow_price == pytest.approx(5.0)      # e2's 50 万元 per 10 mu
    assert z.after == pytest.approx(31.0) and z.cap == 31.0


def test_consolidated_land_group_pools_the_cap():
    ents = enterprises([
        {"id": "e1", "zone_id": "Z1", "land_mu": 10.0, "value_added": 100.0},
        {"id": "e2", "zone_id": "Z2", "land_mu": 10.0, "value_added": 50.0}])
    tiers = {g: Tier(scale=(1.0, 2.0)) for g in "ABCDU"}
    cfg = config(["land_mu"], tiers, zone_land_caps_mu={"G": 25.0},
                 land_groups={"Z1": "G", "Z2": "G"})
    res = allocate(ents, cfg)
    assert row(res, "e1").scale == pytest.approx(1.5)     # the pooled 5 mu go to e1
    assert row(res, "e2").scale == pytest.approx(1.0)
    land = res.zones[res.zones.resource == "land_mu"].set_index("zone_id")
    assert land.loc["G", "cap"] == 25.0 and land.loc["G", "shadow_price"] == pytest.approx(10.0)


# --- global cap with Leontief efficiency and a quota floor ------------------------------
def test_global_energy_cap_with_efficiency_and_floor_segment():
    # e1: a = 0.8·100 = 80 tce per unit scale, 3.75 万元/tce; e2: floor 90 tce covers
    # s ≤ 0.9 for free, then 100 tce per unit scale (1 万元/tce). Cap 230 tce:
    # e1 → 1.5 (120 tce), e2 → 0.9 free, then 20 tce more → s2 = 1.1 (110 tce).
    ents = enterprises([
        {"id": "e1", "zone_id": "Z1", "grade": "A", "energy_tce": 100.0, "value_added": 300.0},
        {"id": "e2", "zone_id": "Z2", "grade": "B", "energy_tce": 100.0, "value_added": 100.0}])
    tiers = {"A": Tier(scale=(1.0, 1.5), quota_default=(0.5, math.inf),
                       efficiency={"energy_tce": 0.2}),
             "B": Tier(scale=(0.8, 1.2), quota_default=(0.9, math.inf)),
             "C": Tier(), "D": Tier(), "U": Tier()}
    cfg = config(["energy_tce"], tiers, global_caps={"energy_tce": CapSpec(absolute=230.0)})
    for formulation in ("segments", "plain"):
        res = allocate(ents, cfg, formulation=formulation)
        assert res.objective == pytest.approx(450 + 110)
        assert row(res, "e1").energy_tce_after == pytest.approx(120.0)
        assert row(res, "e2").energy_tce_after == pytest.approx(110.0)
        assert row(res, "e2").binding == "limited by global energy cap"
        g = res.zones.set_index(["zone_id", "resource"]).loc[("(global)", "energy_tce")]
        assert g.shadow_price == pytest.approx(1.0)


def test_zone_cap_as_factor_of_today():
    ents = enterprises([
        {"id": "e1", "grade": "A", "cod_t": 2.0, "value_added": 100.0},
        {"id": "e2", "grade": "A", "cod_t": 2.0, "value_added": 40.0}])
    tiers = {g: Tier(scale=(0.5, 2.0)) for g in "ABCDU"}
    cfg = config(["cod_t"], tiers, zone_caps={"cod_t": CapSpec(factor=0.75)})
    res = allocate(ents, cfg)
    # cap 3 t; e2 at its floor (1 t), e1 takes 2 t: s1 = 1.0
    assert row(res, "e1").scale == pytest.approx(1.0)
    assert row(res, "e2").scale == pytest.approx(0.5)
    assert row(res, "e2").cod_t_change_pct == pytest.approx(-50.0)


# --- energy-intensity target -------------------------------------------------------------
def test_binding_energy_intensity_target():
    # θ = 0.2 tce/万元: 50 s1 + 10 s2 ≤ 0.2 (100 s1 + 100 s2) ⇔ 30 s1 ≤ 10 s2;
    # s2 = 2 (ceiling) and s1 = 2/3. Price: 100 万元 per 30 tce of allowance.
    ents = enterprises([
        {"id": "e1", "energy_tce": 50.0, "value_added": 100.0},
        {"id": "e2", "energy_tce": 10.0, "value_added": 100.0}])
    tiers = {g: Tier(scale=(0.5, 2.0)) for g in "ABCDU"}
    cfg = config(["energy_tce"], tiers, intensity=CapSpec(absolute=0.2))
    for formulation in ("segments", "plain"):
        res = allocate(ents, cfg, formulation=formulation)
        assert res.objective == pytest.approx(200 + 200 / 3)
        assert row(res, "e1").scale == pytest.approx(2 / 3)
        assert row(res, "e1").binding == "limited by energy-intensity target"
        theta = res.zones.set_index("resource").loc["energy_intensity"]
        assert theta.shadow_price == pytest.approx(100 / 30)
        assert theta.after == pytest.approx(0.2)
        assert res.kpis["energy_per_value_after"] == pytest.approx(0.2)


def test_intensity_factor_adds_energy_when_not_a_resource():
    ents = enterprises([
        {"id": "e1", "land_mu": 1.0, "energy_tce": 50.0, "value_added": 100.0},
        {"id": "e2", "land_mu": 1.0, "energy_tce": 10.0, "value_added": 100.0}])
    tiers = {g: Tier(scale=(0.5, 2.0)) for g in "ABCDU"}
    # today's ratio 60/200 = 0.3; factor 2/3 gives θ = 0.2 as above
    cfg = config(["land_mu"], tiers, intensity=CapSpec(factor=2 / 3))
    res = allocate(ents, cfg)
    assert res.objective == pytest.approx(200 + 200 / 3)
    assert "energy_tce_after" in res.allocation


# --- MILP exit (腾退) ----------------------------------------------------------------------
def exit_case(method: str):
    ents = enterprises([
        {"id": "e1", "grade": "A", "land_mu": 10.0, "value_added": 1000.0},
        {"id": "e2", "grade": "D", "land_mu": 10.0, "value_added": 10.0}])
    tiers = {"A": Tier(scale=(1.0, 2.0)),
             "D": Tier(scale=(0.5, 0.8), quota={"land_mu": (0.7, 1.0)}, exit_allowed=True),
             "B": Tier(), "C": Tier(), "U": Tier()}
    return ents, config(["land_mu"], tiers, zone_land_caps_mu={"Z": 20.0}, method=method)


def test_lp_keeps_the_d_firm_on_its_land_floor():
    ents, cfg = exit_case("lp")
    res = allocate(ents, cfg)
    # e2 holds its 7 mu floor, which carries s2 up to 0.7 for free; e1 gets 13 mu.
    assert res.objective == pytest.approx(1300 + 7)
    assert row(res, "e2").land_mu_after == pytest.approx(7.0)


@pytest.mark.parametrize("formulation", ["segments", "plain"])
def test_milp_exit_returns_land_to_the_zone(formulation):
    ents, cfg = exit_case("milp")
    res = allocate(ents, cfg, formulation=formulation)
    assert res.objective == pytest.approx(2000.0)
    assert row(res, "e2").binding == "exit (腾退)"
    assert row(res, "e2").land_mu_after == 0.0 and row(res, "e2").scale == 0.0
    assert row(res, "e1").land_mu_after == pytest.approx(20.0)


# --- new projects ---------------------------------------------------------------------------
def project_case(method="lp", threshold=300.0):
    ents = enterprises([{"id": "e1", "land_mu": 10.0, "value_added": 100.0, "tax": 10.0}])
    projects = pd.DataFrame({
        "id": ["p1", "p2", "p3"], "name": ["low", "fdi", "domestic"], "zone_id": "Z",
        "land_mu": [10.0, 10.0, 10.0], "investment": [2000.0, 5000.0, 4000.0],
        "value_added": [500.0, 200.0, 220.0], "tax": [50.0, 20.0, 22.0],
        "energy_tce": 0.0, "cod_t": 0.0, "nh3n_t": 0.0, "so2_t": 0.0, "nox_t": 0.0,
        "fdi": [False, True, False]})
    tiers = {g: Tier(scale=(1.0, 1.5)) for g in "ABCDU"}
    cfg = config(["land_mu"], tiers, zone_land_caps_mu={"Z": 22.0}, method=method,
                 projects=ProjectPolicy(investment_intensity_min=threshold, fdi_weight=1.2))
    return ents, projects, cfg


def test_ineligible_project_is_reported_and_fdi_goes_first():
    ents, projects, cfg = project_case()
    res = allocate(ents, cfg, projects)
    p = res.projects.set_index("id")
    assert not p.loc["p1", "eligible"]
    assert p.loc["p1", "reason"].startswith("ineligible: investment intensity 200.0 万元/亩")
    assert p.loc["p1", "admitted_share"] == 0.0
    # 12 free mu: FDI p2 (1.2 × 200 / 10 = 24 万元/mu) whole, p3 (22) the last 2 mu
    assert p.loc["p2", "admitted_share"] == pytest.approx(1.0)
    assert p.loc["p3", "admitted_share"] == pytest.approx(0.2)
    assert p.loc["p3", "reason"] == "partially admitted; limited by zone land cap (Z)"
    assert res.objective == pytest.approx(100 + 240 + 44)
    assert res.kpis["projects_eligible"] == 2 and res.kpis["projects_admitted"] == 2
    assert res.kpis["land_to_projects_mu"] == pytest.approx(12.0)


def test_milp_admits_whole_projects_and_average_threshold():
    ents, projects, cfg = project_case("milp", threshold=None)
    res = allocate(ents, cfg, projects)
    p = res.projects.set_index("id")
    # threshold = Σ invest / Σ land = 11000 / 30 = 366.7: only p2 (500) and p3 (400) pass
    assert list(p.eligible) == [False, True, True]
    assert list(p.admitted_share) == [0.0, 1.0, 0.0]
    assert res.objective == pytest.approx(120 + 240)


# --- rule baseline ---------------------------------------------------------------------------
def test_rule_scales_growth_pro_rata_and_stays_below_the_optimum():
    ents = enterprises([
        {"id": "e1", "land_mu": 10.0, "value_added": 100.0},
        {"id": "e2", "grade": "B", "land_mu": 10.0, "value_added": 50.0}])
    tiers = {"A": Tier(scale=(1.0, 1.5)), "B": Tier(scale=(1.0, 1.5)), "C": Tier(), "D": Tier(),
             "U": Tier()}
    cfg = config(["land_mu"], tiers, zone_land_caps_mu={"Z": 27.0}, method="rule")
    rule = allocate(ents, cfg)
    assert rule.status == "optimal" and rule.method == "rule"
    # growth 0.5 each would need 30 mu; λ = 0.7 of it fits 27 mu: s = 1.35 for both
    assert list(rule.allocation.scale) == pytest.approx([1.35, 1.35])
    assert rule.objective == pytest.approx(202.5)
    best = allocate(ents, dataclasses.replace(cfg, method="lp"))
    assert best.objective == pytest.approx(150 + 60) and best.objective >= rule.objective


# --- infeasible -------------------------------------------------------------------------------
def test_infeasible_zone_cap_is_explained_with_numbers():
    ents = enterprises([
        {"id": "e1", "zone_id": "S331234", "grade": "A", "land_mu": 800.0, "value_added": 1.0},
        {"id": "e2", "zone_id": "S331234", "grade": "B", "land_mu": 550.0, "value_added": 1.0},
        {"id": "e3", "zone_id": "S2", "grade": "B", "land_mu": 50.0, "value_added": 1.0}])
    tiers = {g: Tier(scale=(1.0, 1.2), quota_default=(1.0, math.inf)) for g in "ABCDU"}
    cfg = config(["land_mu"], tiers, zone_land_caps_mu={"S331234": 1200.0, "S2": 100.0})
    res = allocate(ents, cfg, zone_names={"S331234": "浙江XX经开区"})
    assert res.status == "infeasible" and res.objective is None
    assert len(res.diagnosis) == 1
    text = res.diagnosis[0]
    assert text.startswith("zone S331234 浙江XX经开区: land cap 1,200 mu is below the 1,350 mu")
    assert "A 800, B 550" in text


def test_infeasible_tier_is_explained():
    ents = enterprises([{"id": "e1", "grade": "C", "energy_tce": 10.0, "value_added": 1.0}])
    tiers = {g: Tier(scale=(1.0, 1.2), quota_default=(0.5, 0.8)) for g in "ABCDU"}
    res = allocate(ents, config(["energy_tce"], tiers))
    assert res.status == "infeasible"
    assert res.diagnosis[0].startswith("grade C: the energy quota ceiling cannot carry")


def test_missing_use_counts_as_zero_and_kpis():
    ents = enterprises([
        {"id": "e1", "land_mu": 10.0, "energy_tce": np.nan, "value_added": 100.0, "tax": 10.0,
         "electricity_10k_kwh": 100.0},
        {"id": "e2", "grade": "D", "land_mu": 10.0, "energy_tce": 40.0, "value_added": 20.0,
         "tax": 2.0, "electricity_10k_kwh": 50.0}])
    tiers = {"A": Tier(scale=(1.0, 1.0), land_tax_relief=1.0),
             "D": Tier(scale=(0.5, 0.5), electricity_surcharge_yuan_per_kwh=0.3),
             "B": Tier(), "C": Tier(), "U": Tier()}
    cfg = config(["land_mu", "energy_tce"], tiers, land_tax_yuan_per_m2=6.0)
    res = allocate(ents, cfg)
    assert row(res, "e1").energy_tce_after == 0.0
    k = res.kpis
    assert k["surcharge_revenue_wan_D"] == pytest.approx(50 * 0.5 * 0.3)   # 万kWh × 元/kWh
    assert k["land_tax_relief_wan_A"] == pytest.approx(10 * 10000 / 15 * 6 / 1e4)
    assert k["value_added_after"] == pytest.approx(110.0)
    assert k["energy_per_value_after"] == pytest.approx(20 / 110)
    assert k["count_A"] == 1 and k["count_D"] == 1 and k["count_U"] == 0
    assert k["gini_change_land_mu"] == pytest.approx(0.5)   # changes 0 and 5 mu
