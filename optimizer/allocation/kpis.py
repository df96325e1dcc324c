"""Key figures of a variant (SPEC §8 summary.json "kpis"); names are a contract.

Definitions:
* "after" totals include the admitted share of new projects (value, tax,
  energy, emissions, land); a resource outside the scenario's list is held
  at today's use;
* energy_per_value in tce/万元 of value added; emission_per_value in t/万元,
  the sum of the scenario's pollutants (cod_t, nh3n_t, so2_t, nox_t among the
  resources); value_per_mu / tax_per_mu in 万元/亩;
* gini_change_<r>: Gini coefficient of |x_after − x_before| over the
  enterprises (0 = every firm's quota moved by the same amount, → 1 = one firm
  carries all the change; 0 when nothing changed);
* surcharge_revenue_wan_<G>: Σ electricity_10k_kwh × s × surcharge (万kWh ×
  元/kWh = 万元); electricity scales with production;
* land_tax_relief_wan_<G>: Σ land_after_mu × M2_PER_MU × land-tax rate
  (元/m²) × relief share / 10^4 (万元).
"""

from __future__ import annotations

import numpy as np

from optimizer.allocation.data import GRADE_ORDER, AllocationData
from optimizer.policy import AllocationConfig
from optimizer.units import M2_PER_MU, YUAN_PER_WAN

POLLUTANTS = ("cod_t", "nh3n_t", "so2_t", "nox_t")


def gini(values: np.ndarray) -> float:
    v = np.sort(np.abs(np.asarray(values, np.float64)))
    n, total = v.size, v.sum()
    if n == 0 or total <= 0:
        return 0.0
    return float((2.0 * np.sum(np.arange(1, n + 1) * v) / (n * total)) - (n + 1.0) / n)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def compute_kpis(data: AllocationData, config: AllocationConfig, frame, s: np.ndarray,
                 x: np.ndarray, y: np.ndarray, objective: float) -> dict[str, float]:
    proj = data.projects
    py = (lambda col: float(col @ y)) if proj is not None else (lambda col: 0.0)
    va = data.value_added
    tax = np.nan_to_num(frame["tax"].to_numpy(np.float64), nan=0.0)
    k: dict[str, float] = {
        "value_added_before": float(va.sum()),
        "value_added_after": float(va @ s) + (py(proj.value_added) if proj else 0.0),
        "tax_before": float(tax.sum()),
        "tax_after": float(tax @ s) + (py(proj.tax) if proj else 0.0),
    }

    def totals(res: str) -> tuple[float, float]:
        before = float(np.nan_to_num(frame[res].to_numpy(np.float64), nan=0.0).sum()) \
            if res in frame else 0.0
        if res in data.resources:
            r = data.resources.index(res)
            after = float(x[:, r].sum()) + (py(proj.d[:, r]) if proj else 0.0)
            return float(data.u[:, r].sum()), after
        return before, before

    e0, e1 = totals("energy_tce")
    k["energy_per_value_before"] = _ratio(e0, k["value_added_before"])
    k["energy_per_value_after"] = _ratio(e1, k["value_added_after"])
    pol = [totals(p) for p in POLLUTANTS if p in data.resources]
    k["emission_per_value_before"] = _ratio(sum(p[0] for p in pol), k["value_added_before"])
    k["emission_per_value_after"] = _ratio(sum(p[1] for p in pol), k["value_added_after"])
    l0, l1 = totals("land_mu")
    k["value_per_mu_before"] = _ratio(k["value_added_before"], l0)
    k["value_per_mu_after"] = _ratio(k["value_added_after"], l1)
    k["tax_per_mu_before"] = _ratio(k["tax_before"], l0)
    k["tax_per_mu_after"] = _ratio(k["tax_after"], l1)
    for r, res in enumerate(data.resources):
        k[f"gini_change_{res}"] = gini(x[:, r] - data.u[:, r])
    elec = np.nan_to_num(frame["electricity_10k_kwh"].to_numpy(np.float64), nan=0.0) \
        if "electricity_10k_kwh" in frame else np.zeros(data.n)
    land_after = x[:, data.resources.index("land_mu")] if "land_mu" in data.resources else \
        np.nan_to_num(frame["land_mu"].to_numpy(np.float64), nan=0.0)
    for g_code, g in enumerate(GRADE_ORDER):
        in_g = data.grade_code == g_code
        k[f"count_{g}"] = float(in_g.sum())
        tier = config.tiers.get(g)
        surcharge = tier.electricity_surcharge_yuan_per_kwh if tier else 0.0
        relief = tier.land_tax_relief if tier else 0.0
        k[f"surcharge_revenue_wan_{g}"] = float((elec[in_g] * s[in_g]).sum() * surcharge)
        k[f"land_tax_relief_wan_{g}"] = float(land_after[in_g].sum() * M2_PER_MU
                                              * config.land_tax_yuan_per_m2 * relief
                                              / YUAN_PER_WAN)
    if proj is not None:
        k["projects_eligible"] = float(proj.eligible.sum())
        k["projects_admitted"] = float((y > 1e-6).sum())
        k["land_to_projects_mu"] = float(proj.land_mu @ y)
    else:
        k["projects_eligible"] = k["projects_admitted"] = k["land_to_projects_mu"] = 0.0
    k["objective"] = float(objective)
    return k
