"""Seeded synthetic allocation cases for tests and ``scripts/bench_allocation.py``.

Magnitudes follow reference/policy-facts.md: about 30 mu per firm, 亩均增加值
around 100 万元/亩, 单位能耗增加值 around 1–3 万元/tce; grade shares
A 20 / B 55 / C 20 / D 5 %. Tiers are typical 激励/倒逼 settings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from optimizer.policy import AllocationConfig, CapSpec, ProjectPolicy, Tier

RESOURCE_SETS = {4: ("land_mu", "energy_tce", "cod_t", "nox_t"),
                 6: ("land_mu", "energy_tce", "cod_t", "nh3n_t", "so2_t", "nox_t")}


def default_tiers() -> dict[str, Tier]:
    return {
        "A": Tier(scale=(1.0, 1.3), quota_default=(0.9, math.inf), land_tax_relief=1.0,
                  label="优先发展"),
        "B": Tier(scale=(0.9, 1.15), quota_default=(0.85, 1.3), land_tax_relief=0.8,
                  efficiency={"energy_tce": 0.03}, label="提升发展"),
        "C": Tier(scale=(0.7, 1.0), quota_default=(0.6, 1.0), efficiency={"energy_tce": 0.08},
                  label="调控帮扶"),
        "D": Tier(scale=(0.5, 0.8), quota_default=(0.5, 0.8), quota={"land_mu": (0.7, 1.0)},
                  efficiency={"energy_tce": 0.1}, exit_allowed=True,
                  electricity_surcharge_yuan_per_kwh=0.3, label="倒逼整治"),
        "U": Tier(scale=(0.9, 1.1), quota_default=(0.8, 1.2)),
    }


def synthetic_enterprises(n: int, n_zones: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    land = rng.lognormal(np.log(25.0), 0.7, n)
    va_per_mu = rng.lognormal(np.log(100.0), 0.6, n)
    va = land * va_per_mu
    va[rng.random(n) < 0.01] *= -0.05                   # a few loss-making firms
    energy = np.abs(va) / rng.lognormal(np.log(2.0), 0.5, n)
    frame = pd.DataFrame({
        "id": np.char.add("E", np.char.zfill(np.arange(n).astype(str), 7)),
        "name": "synthetic",
        "zone_id": np.char.add("Z", np.char.zfill(rng.integers(0, n_zones, n).astype(str), 3)),
        "county": "", "sector": "", "veto": "",
        "grade": rng.choice(np.array(["A", "B", "C", "D"]), n, p=[0.2, 0.55, 0.2, 0.05]),
        "above_scale": True, "fdi": False, "new_firm": False,
        "land_mu": land, "tax": np.abs(va) * 0.2, "value_added": va,
        "electricity_10k_kwh": energy * 0.8, "energy_tce": energy,
        "cod_t": energy * rng.lognormal(np.log(0.002), 0.8, n),
        "nh3n_t": energy * rng.lognormal(np.log(0.0002), 0.8, n),
        "so2_t": energy * rng.lognormal(np.log(0.001), 0.8, n),
        "nox_t": energy * rng.lognormal(np.log(0.0015), 0.8, n),
    })
    missing = rng.random(n) < 0.02                       # some firms report no emissions
    frame.loc[missing, "cod_t"] = np.nan
    frame["score"] = rng.uniform(40, 120, n)
    return frame


def synthetic_projects(n: int, n_zones: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    land = rng.uniform(20, 120, n)
    va = land * rng.lognormal(np.log(130.0), 0.4, n)
    energy = va / rng.lognormal(np.log(2.5), 0.4, n)
    return pd.DataFrame({
        "id": np.char.add("P", np.char.zfill(np.arange(n).astype(str), 5)), "name": "project",
        "zone_id": np.char.add("Z", np.char.zfill(rng.integers(0, n_zones, n).astype(str), 3)),
        "land_mu": land, "investment": land * rng.lognormal(np.log(300.0), 0.3, n),
        "value_added": va, "tax": va * 0.2, "energy_tce": energy, "cod_t": energy * 0.002,
        "nh3n_t": energy * 0.0002, "so2_t": energy * 0.001, "nox_t": energy * 0.0015,
        "fdi": rng.random(n) < 0.15})


def synthetic_config(n_resources: int = 4, *, method: str = "lp", intensity: bool = True,
                     solver: str = "highs") -> AllocationConfig:
    resources = RESOURCE_SETS[n_resources]
    return AllocationConfig(
        resources=resources, tiers=default_tiers(), method=method, solver=solver,
        zone_caps={r: CapSpec(factor=1.0) for r in resources},
        global_caps={"energy_tce": CapSpec(factor=0.97), "cod_t": CapSpec(factor=0.95)},
        intensity=CapSpec(factor=0.97) if intensity else None,
        projects=ProjectPolicy(investment_intensity_min=None, fdi_weight=1.2),
        land_tax_yuan_per_m2=6.0)
