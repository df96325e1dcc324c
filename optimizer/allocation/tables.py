"""The result frames of SPEC §8: allocation, projects, zones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.allocation.data import AllocationData, land_unit_of_zone
from optimizer.allocation.explain import CapState
from optimizer.policy import RESOURCE_UNITS, AllocationConfig


def allocation_frame(data: AllocationData, s: np.ndarray, x: np.ndarray,
                     binding: np.ndarray) -> pd.DataFrame:
    cols: dict[str, object] = {"id": data.ids, "name": data.names,
                               "zone_id": data.zone_ids[data.zone_code], "grade": data.grade,
                               "score": data.score, "scale": s}
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(data.u > 0, (x / data.u - 1.0) * 100.0, np.nan)
    for r, res in enumerate(data.resources):
        cols[f"{res}_before"] = data.u[:, r]
        cols[f"{res}_after"] = x[:, r]
        cols[f"{res}_change_pct"] = change[:, r]
    cols["value_before"] = data.objective
    cols["value_after"] = data.objective * s
    cols["binding"] = binding
    return pd.DataFrame(cols)


def projects_frame(data: AllocationData, y: np.ndarray, reason: np.ndarray) -> pd.DataFrame:
    proj = data.projects
    if proj is None:
        return pd.DataFrame({c: [] for c in ("id", "name", "zone_id", "investment_intensity",
                                             "eligible", "reason", "admitted_share")})
    return pd.DataFrame({"id": proj.ids, "name": proj.names, "zone_id": proj.zone_ids,
                         "investment_intensity": proj.intensity, "eligible": proj.eligible,
                         "reason": reason, "admitted_share": y})


def zones_frame(data: AllocationData, config: AllocationConfig, x: np.ndarray, y: np.ndarray,
                state: CapState) -> pd.DataFrame:
    """One row per zone (or land group) and resource, then "(global)" rows and θ."""
    proj = data.projects
    caps = {(c.kind, c.unit, c.resource): k for k, c in enumerate(data.caps)}
    parts = []
    for r, res in enumerate(data.resources):
        units = land_unit_of_zone(data.zone_ids, config) if res == "land_mu" else data.zone_ids
        uniq, ucode = np.unique(units, return_inverse=True)
        before = np.bincount(ucode[data.zone_code], weights=data.u[:, r], minlength=uniq.size)
        after = np.bincount(ucode[data.zone_code], weights=x[:, r], minlength=uniq.size)
        if proj is not None:
            after += np.bincount(ucode[proj.zone_code], weights=proj.d[:, r] * y,
                                 minlength=uniq.size)
        ks = [caps.get(("zone", unit, res), -1) for unit in uniq.tolist()]
        parts.append(_rows(uniq, res, before, after, ks, state, data))
        g = caps.get(("global", "(global)", res), -1)
        parts.append(_rows(np.array(["(global)"]), res, [before.sum()], [after.sum()], [g],
                           state, data))
    frame = pd.concat(parts, ignore_index=True)
    if data.theta is not None:
        frame = pd.concat([frame, pd.DataFrame({
            "zone_id": ["(global)"], "resource": ["energy_intensity"], "unit": ["tce/万元"],
            "before": [state.intensity_before], "after": [state.intensity_after],
            "cap": [data.theta], "shadow_price": [state.intensity_price]})], ignore_index=True)
    return frame


def _rows(units, res, before, after, ks, state: CapState, data: AllocationData) -> pd.DataFrame:
    ks = np.asarray(ks)
    has = ks >= 0
    values = np.array([c.value for c in data.caps] + [np.nan])
    return pd.DataFrame({"zone_id": units, "resource": res, "unit": RESOURCE_UNITS.get(res, ""),
                         "before": before, "after": after,
                         "cap": np.where(has, values[ks], np.nan),
                         "shadow_price": np.where(has, np.append(state.price, np.nan)[ks],
                                                  np.nan)})
