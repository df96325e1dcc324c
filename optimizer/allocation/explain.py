"""Shadow prices, cap activity and the ``binding`` reason of every enterprise and project.

Shadow-price convention (SPEC §4, stated in summary.json): the objective
gained (万元 of Σ w·VA) per one more unit of a cap — 万元 per mu, per tce or
per t; ≥ 0 for a binding cap, 0 for a slack one. For the energy-intensity
target the price is per tce of allowance above θ·VA. MILP solves give no
duals: prices are then empty and binding caps are found from their slack.

A reason names the caps that stop an enterprise from growing: a binding cap
whose resource the enterprise needs at the margin (its Leontief need a·s is
above its quota floor, or it would be above it once s grows), in its zone
(or consolidated land group) or globally; the intensity target when growing
would add more energy than θ × its value added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.allocation.data import ENERGY, AllocationData, zone_cap_index

RESOURCE_WORDS = {"land_mu": "land", "energy_tce": "energy", "cod_t": "COD", "nh3n_t": "NH3-N",
                  "so2_t": "SO2", "nox_t": "NOx"}
STATUS_WORDS = ("", "at tier floor", "at tier ceiling", "exit (腾退)")
TOL = 1e-7


@dataclass
class CapState:
    activity: np.ndarray          # per cap, after
    before: np.ndarray            # per cap, today
    price: np.ndarray             # per cap, NaN without duals
    binding: np.ndarray           # per cap, bool
    intensity_after: float | None = None
    intensity_before: float | None = None
    intensity_price: float = np.nan
    intensity_binding: bool = False


def cap_activity(data: AllocationData, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    """Left-hand side of every cap: Σ x over its zones (or all) plus the projects' d·y."""
    K = len(data.caps)
    activity = np.zeros(K)
    proj = data.projects if y is not None else None
    index = zone_cap_index(data)
    for r in range(len(data.resources)):
        # Zone caps: one bincount per resource over the cap index of each firm's zone.
        k_ent = index[r, data.zone_code]
        has = k_ent >= 0
        activity += np.bincount(k_ent[has], weights=x[has, r], minlength=K)
        if proj is not None:
            k_p = index[r, proj.zone_code]
            hp = k_p >= 0
            activity += np.bincount(k_p[hp], weights=proj.d[hp, r] * y[hp], minlength=K)
    for k, cap in enumerate(data.caps):
        if cap.kind == "global":
            r = data.resources.index(cap.resource)
            activity[k] = x[:, r].sum() + (proj.d[:, r] @ y if proj is not None else 0.0)
    return activity


def project_cap_demand(data: AllocationData) -> np.ndarray:
    """(P, caps) demand of each project on each cap."""
    proj = data.projects
    need = np.zeros((proj.n, len(data.caps)))
    index = zone_cap_index(data)
    rows = np.arange(proj.n)
    for r in range(len(data.resources)):
        k_p = index[r, proj.zone_code]
        hp = k_p >= 0
        need[rows[hp], k_p[hp]] = proj.d[hp, r]
    for k, cap in enumerate(data.caps):
        if cap.kind == "global":
            need[:, k] = proj.d[:, data.resources.index(cap.resource)]
    return need


def cap_state(data: AllocationData, x: np.ndarray, s: np.ndarray, y: np.ndarray,
              duals: np.ndarray | None, cap_rows: np.ndarray,
              intensity_row: int | None) -> CapState:
    K = len(data.caps)
    proj = data.projects
    activity, before = cap_activity(data, x, y), cap_activity(data, data.u, None)
    values = np.array([c.value for c in data.caps])
    price = duals[cap_rows] if duals is not None else np.full(K, np.nan)
    state = CapState(activity, before, price, _binding(price, activity, values))
    if data.theta is not None:
        e = data.resources.index(ENERGY)
        energy, va = x[:, e].sum(), data.value_added @ s
        if proj is not None:
            energy, va = energy + proj.d[:, e] @ y, va + proj.value_added @ y
        state.intensity_after = energy / va if va > 0 else np.inf
        state.intensity_before = data.u[:, e].sum() / data.value_added.sum()
        if duals is not None:
            state.intensity_price = float(duals[intensity_row])
        slack = data.theta * va - energy
        state.intensity_binding = bool(
            _binding(np.array([state.intensity_price]), np.array([-slack]), np.zeros(1))[0])
    return state


def _binding(price, activity, cap) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        by_price = price > TOL * np.maximum(1.0, np.abs(price).max(initial=0.0))
    by_slack = activity >= cap - 1e-6 * np.maximum(1.0, np.abs(cap))
    return np.where(np.isnan(price), by_slack, by_price)


def _cap_words(data: AllocationData) -> list[str]:
    words = []
    for cap in data.caps:
        res = RESOURCE_WORDS.get(cap.resource, cap.resource)
        if cap.kind == "global":
            words.append(f"limited by global {res} cap")
        else:
            words.append(f"limited by zone {res} cap ({data.zone_label(cap.unit)})")
    return words


def reasons(data: AllocationData, state: CapState, zone_code: np.ndarray,
            marginal: np.ndarray, intensity_marginal: np.ndarray,
            status: np.ndarray) -> np.ndarray:
    """One text per item (enterprise or project), built from its binding caps.

    ``marginal`` (k, R) says which resources the item needs to grow; ``status``
    is an index into STATUS_WORDS. The text depends only on (zone, marginal
    resources, intensity, status), so it is made once per distinct key.
    """
    R = len(data.resources)
    bits = (marginal.astype(np.int64) << np.arange(R)).sum(axis=1) if R else 0
    key = ((zone_code.astype(np.int64) << (R + 1)) | (bits << 1)
           | intensity_marginal.astype(np.int64)) * 4 + status
    uniq, inverse = np.unique(key, return_inverse=True)
    words = _cap_words(data)
    index = zone_cap_index(data)
    global_caps = [k for k, c in enumerate(data.caps) if c.kind == "global" and state.binding[k]]
    texts = []
    for value in uniq.tolist():
        st, rest = value % 4, value // 4
        inten, rest = rest & 1, rest >> 1
        zone, res_bits = rest >> R, rest & ((1 << R) - 1)
        parts = [STATUS_WORDS[st]] if st else []
        if st < 2:     # at the ceiling or exited: caps are not the reason
            needs = [r for r in range(R) if res_bits >> r & 1]
            parts += [words[index[r, zone]] for r in needs
                      if index[r, zone] >= 0 and state.binding[index[r, zone]]]
            parts += [words[k] for k in global_caps
                      if data.resources.index(data.caps[k].resource) in needs]
            if inten and state.intensity_binding:
                parts.append("limited by energy-intensity target")
        texts.append("; ".join(parts) if parts else "interior (no binding cap)")
    return np.array(texts, dtype=object)[inverse.ravel()]


def enterprise_reasons(data: AllocationData, state: CapState, s: np.ndarray,
                       alive: np.ndarray) -> np.ndarray:
    tol = 1e-6
    status = np.where(s <= data.s_lo + tol, 1, 0)
    status = np.where(s >= data.s_ub - tol, 2, status)
    status = np.where(alive, status, 3)
    # Growing needs resource r when s is at or above its breakpoint (the floor no longer covers it).
    bp = data.breakpoint[data.grade_code]
    marginal = (data.a > 0) & (s[:, None] >= bp - tol)
    inten = np.zeros(data.n, bool)
    if data.theta is not None:
        e = data.resources.index(ENERGY)
        inten = np.where(marginal[:, e], data.a[:, e], 0.0) > data.theta * data.value_added
    return reasons(data, state, data.zone_code, marginal, inten, status)


def project_reasons(data: AllocationData, state: CapState, y: np.ndarray) -> np.ndarray:
    proj = data.projects
    marginal = proj.d > 0
    inten = np.zeros(proj.n, bool)
    if data.theta is not None:
        e = data.resources.index(ENERGY)
        inten = proj.d[:, e] > data.theta * proj.value_added
    caps = reasons(data, state, proj.zone_code, marginal, inten, np.zeros(proj.n, int))
    full = y >= 1 - 1e-6
    none = y <= 1e-6
    head = np.where(full, "admitted", np.where(none, "not admitted", "partially admitted"))
    tail = np.where(full | (caps == "interior (no binding cap)"), "", "; " + caps.astype(str))
    text = np.char.add(head.astype(str), tail.astype(str)).astype(object)
    return np.where(proj.eligible, text, "ineligible: " + proj.reason.astype(object))
