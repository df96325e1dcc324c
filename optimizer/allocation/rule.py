"""The rule-based baseline ``method = "rule"`` — what counties do by hand (SPEC §4).

1. Every enterprise gets its tier's multiplier: scale s = s_hi (A/B grow to
   their ceiling, C/D are cut to theirs), quota x = max((1 − e)·u·s, q_lo·u),
   never above the quota ceiling (s ≤ s_ub).
2. Where a zone cap (or pooled land-group cap) is exceeded, the growth above
   the tier floor is scaled down pro rata, one factor λ per cap, the same for
   every firm under it: s = s_lo + λ·(s_ub − s_lo). A firm under several caps
   takes the smallest λ.
3. Then one factor for the whole region does the same for the global caps and
   the energy-intensity target (the largest factor that meets them).
4. Eligible new projects are admitted whole, in decreasing f·w·VA per mu (then
   id), while every cap still holds — a short loop over candidate projects.
If a cap is exceeded even with every firm at its tier floor, the baseline is
infeasible (the optimiser's diagnosis explains why).
"""

from __future__ import annotations

import numpy as np

from optimizer.allocation.data import ENERGY, AllocationData, zone_cap_index
from optimizer.allocation.explain import cap_activity, project_cap_demand

ITERATIONS = 50
GRID = 33


def _scale(data: AllocationData, lam: np.ndarray) -> np.ndarray:
    top = np.maximum(data.s_ub, data.s_lo)
    return data.s_lo + lam * (top - data.s_lo)


def _zone_lambdas(data: AllocationData) -> np.ndarray:
    """Per enterprise, the smallest pro-rata factor of the zone caps over it."""
    lam_ent = np.ones(data.n)
    zone_caps = [k for k, c in enumerate(data.caps) if c.kind == "zone"]
    if not zone_caps:
        return lam_ent
    K = len(zone_caps)
    position = np.full(len(data.caps) + 1, -1)
    position[zone_caps] = np.arange(K)
    cap_of = position[zone_cap_index(data)[:, data.zone_code]]     # (R, n), −1 = no cap
    values = np.array([data.caps[k].value for k in zone_caps])
    lo, hi = np.zeros(K), np.ones(K)
    ok_hi = _zone_ok(data, cap_of, values, hi)
    lo[ok_hi] = 1.0
    for _ in range(ITERATIONS):
        mid = np.where(ok_hi, 1.0, 0.5 * (lo + hi))
        ok = _zone_ok(data, cap_of, values, mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    for r in range(len(data.resources)):
        inside = cap_of[r] >= 0
        lam_ent[inside] = np.minimum(lam_ent[inside], lo[cap_of[r, inside]])
    return lam_ent


def _zone_ok(data, cap_of, values, lam_cap) -> np.ndarray:
    totals = np.zeros(values.size)
    for r in range(len(data.resources)):
        inside = cap_of[r] >= 0
        if not inside.any():
            continue
        lam = lam_cap[cap_of[r, inside]]
        s = data.s_lo[inside] + lam * (np.maximum(data.s_ub, data.s_lo)[inside]
                                       - data.s_lo[inside])
        x = np.maximum(data.a[inside, r] * s, data.f[inside, r])
        totals += np.bincount(cap_of[r, inside], weights=x, minlength=values.size)
    return totals <= values + 1e-9 * np.maximum(1.0, np.abs(values))


def _fits(data: AllocationData, s: np.ndarray, y: np.ndarray, kinds) -> bool:
    """Do the caps of the given kinds (and θ when "intensity" is among them) hold?"""
    x = data.quota(s)
    activity = cap_activity(data, x, y)
    values = np.array([c.value for c in data.caps])
    chosen = np.array([c.kind in kinds for c in data.caps], bool)
    if np.any(activity[chosen] > values[chosen] + 1e-9 * np.maximum(1.0, np.abs(values[chosen]))):
        return False
    if data.theta is not None and "intensity" in kinds:
        proj = data.projects
        e = data.resources.index(ENERGY)
        energy, va = x[:, e].sum(), data.value_added @ s
        if proj is not None:
            energy, va = energy + proj.d[:, e] @ y, va + proj.value_added @ y
        if energy > data.theta * va + 1e-9 * max(1.0, energy):
            return False
    return True


def rule_allocation(data: AllocationData) -> tuple[np.ndarray, np.ndarray, bool]:
    """Scales s, project shares y and whether the baseline meets every cap."""
    P = data.projects.n if data.projects is not None else 0
    y = np.zeros(P)
    floor = _scale(data, np.zeros(data.n))
    if not _fits(data, floor, y, ("zone",)):
        return floor, y, False
    lam_zone = _zone_lambdas(data)
    lam = _global_factor(data, lam_zone, y)
    if lam is None:
        return floor, y, False
    s = _scale(data, lam_zone * lam)
    if P:
        _admit_projects(data, s, y)
    return s, y, True


def _global_factor(data, lam_zone, y) -> float | None:
    """Largest region-wide factor meeting the global caps and θ.

    Global caps hold on [0, λ*]; θ may fail at low scales (output falls faster
    than energy at the floors), so scan a grid from the top and refine by
    bisection below the first feasible failure point.
    """
    glob = ("global", "intensity")
    grid = np.linspace(1.0, 0.0, GRID)
    ok = [_fits(data, _scale(data, lam_zone * g), y, glob) for g in grid]
    if not any(ok):
        return None
    k = int(np.argmax(ok))
    lo, hi = grid[k], grid[k - 1] if k > 0 else grid[k]
    for _ in range(ITERATIONS if k > 0 else 0):
        mid = 0.5 * (lo + hi)
        if _fits(data, _scale(data, lam_zone * mid), y, glob):
            lo = mid
        else:
            hi = mid
    return float(lo)


def _admit_projects(data: AllocationData, s: np.ndarray, y: np.ndarray) -> None:
    proj = data.projects
    x = data.quota(s)
    values = np.array([c.value for c in data.caps])
    room = values - cap_activity(data, x, np.zeros(proj.n))
    need = project_cap_demand(data)
    slack_theta = np.inf
    if data.theta is not None:
        e = data.resources.index(ENERGY)
        slack_theta = data.theta * (data.value_added @ s) - x[:, e].sum()
        theta_need = proj.d[:, e] - data.theta * proj.value_added
    with np.errstate(divide="ignore", invalid="ignore"):
        per_mu = np.where(proj.land_mu > 0, proj.weight * proj.objective / proj.land_mu, np.inf)
    order = np.lexsort((proj.ids, -per_mu))
    for j in order[proj.eligible[order]]:
        t_need = theta_need[j] if data.theta is not None else 0.0
        if np.all(need[j] <= room + 1e-9) and t_need <= slack_theta + 1e-9:
            y[j] = 1.0
            room = room - need[j]
            slack_theta -= t_need
