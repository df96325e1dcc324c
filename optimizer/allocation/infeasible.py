"""Why a scenario has no solution, in planner language (SPEC §4).

Two kinds of conflict:

* inside a tier: a quota ceiling below what the floor scale needs
  (q_hi < (1 − e)·s_lo, or q_hi < q_lo) — found directly from the tiers;
* between the tier floors and the caps: an elastic copy of the fast model
  gets one slack column per cap row (zone, global, intensity) and minimises
  the relative violation Σ slack/|cap|; the tier floors stay hard, so every
  slack reads "cap C is below the F that tier floors guarantee", where F is
  the least total the floors allow (cap + slack). Exits (MILP) are relaxed to
  [0, 1] in the elastic copy.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optimizer.allocation.data import GRADE_ORDER, AllocationData
from optimizer.allocation.explain import RESOURCE_WORDS
from optimizer.allocation.model import LinearModel
from optimizer.allocation.segments import build_segments
from optimizer.policy import RESOURCE_UNITS


def tier_conflicts(data: AllocationData, milp: bool) -> list[str]:
    """Enterprises whose own tier cannot be met (exit-able firms in MILP simply exit)."""
    bad_scale = data.s_ub < data.s_lo - 1e-9
    if milp:
        bad_scale &= ~data.exit_allowed
    out = []
    for g_code in np.unique(data.grade_code[bad_scale]):
        in_g = bad_scale & (data.grade_code == g_code)
        with np.errstate(divide="ignore", invalid="ignore"):
            need = np.where(data.a[in_g] > 0, data.q_hi_u[in_g] / data.a[in_g], np.inf)
        r = int(np.argmin(need.min(axis=0)))
        res = data.resources[r]
        example = data.ids[in_g][0]
        out.append(
            f"grade {GRADE_ORDER[g_code]}: the {RESOURCE_WORDS.get(res, res)} quota ceiling "
            f"cannot carry the tier's floor scale {data.s_lo[in_g][0]:g} — the Leontief need "
            f"(1 − efficiency) × use × scale exceeds q_hi × use for {int(in_g.sum()):,} "
            f"enterprise(s), e.g. {example}")
    return out


def elastic(data: AllocationData, milp: bool, solver) -> list[str]:
    """Smallest cap violations that make the floors fit, as sentences."""
    built = build_segments(data, milp=milp)
    m = built.model
    rows = list(built.cap_rows) + ([built.intensity_row] if built.intensity_row is not None else [])
    if not rows:
        return []
    caps = [c.value for c in data.caps] + ([0.0] if built.intensity_row is not None else [])
    scale = np.maximum(1.0, np.abs(np.array(caps)))
    k = len(rows)
    slack = sp.csr_matrix((-np.ones(k), (np.array(rows), np.arange(k))), shape=(m.n_rows, k))
    model = LinearModel(
        c=np.concatenate([np.zeros(m.n_cols), -1.0 / scale]),
        lb=np.concatenate([m.lb, np.zeros(k)]), ub=np.concatenate([m.ub, np.full(k, np.inf)]),
        A=sp.hstack([m.A, slack], format="csr"), row_lb=m.row_lb, row_ub=m.row_ub,
        sense="max")
    sol = solver.solve(model)
    if sol.status != "optimal":
        return [f"the elastic model could not be solved either ({sol.status}); "
                f"check the tier bounds and caps"]
    violation = sol.x[m.n_cols:]
    x0 = data.quota(data.s_lo)
    out = []
    for j, v in enumerate(violation):
        if v <= 1e-6 * scale[j]:
            continue
        if j == len(data.caps):
            out.append(_intensity_sentence(data, v))
        else:
            out.append(_cap_sentence(data, data.caps[j], v, x0))
    return out


def _cap_sentence(data: AllocationData, cap, violation: float, x0: np.ndarray) -> str:
    r = data.resources.index(cap.resource)
    unit = RESOURCE_UNITS.get(cap.resource, "")
    word = RESOURCE_WORDS.get(cap.resource, cap.resource)
    inside = (np.ones(data.n, bool) if cap.kind == "global"
              else np.isin(data.zone_code, cap.members))
    by_grade = np.bincount(data.grade_code[inside], weights=x0[inside, r],
                           minlength=len(GRADE_ORDER))
    parts = ", ".join(f"{g} {v:,.0f}" for g, v in zip(GRADE_ORDER, by_grade) if v > 0)
    where = "global" if cap.kind == "global" else f"zone {data.zone_label(cap.unit)}"
    need = cap.value + violation
    return (f"{where}: {word} cap {cap.value:,.0f} {unit} is below the {need:,.0f} {unit} "
            f"that the tier floors guarantee (floors by grade: {parts}); raise the cap by "
            f"{violation:,.0f} {unit} or lower the floors")


def _intensity_sentence(data: AllocationData, violation: float) -> str:
    return (f"energy-intensity target θ = {data.theta:.4f} tce/万元 cannot be met: even at the "
            f"best scales the energy use exceeds θ × value added by {violation:,.0f} tce; "
            f"relax the target or the tier floors of energy-intensive grades")


def diagnose(data: AllocationData, milp: bool, solver) -> list[str]:
    found = tier_conflicts(data, milp)
    if found:
        return found
    return elastic(data, milp, solver) or ["the model is infeasible but no single cap or tier "
                                           "explains it; check project demands and caps"]
