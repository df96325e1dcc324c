"""New-project candidates: eligibility by investment intensity, FDI weight (SPEC §4).

浙政办发〔2018〕9号: a project in a development zone must exceed the provincial
average investment intensity (万元/亩). When the scenario sets no number, the
average is computed from the data as Σ investment / Σ land of the candidate
projects (a land-weighted average, what a zone reports as its 投资强度).
A project with no land has an infinite intensity and is eligible.
Foreign-invested projects get objective weight ``fdi_weight`` (外资项目优先保障).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.policy import AllocationConfig


@dataclass
class ProjectData:
    ids: np.ndarray
    names: np.ndarray
    zone_ids: np.ndarray
    zone_code: np.ndarray          # index into the allocation's zone list
    d: np.ndarray                  # (P, R) demand, NaN → 0
    objective: np.ndarray          # VA_j or tax_j (objective column)
    value_added: np.ndarray
    tax: np.ndarray
    land_mu: np.ndarray
    weight: np.ndarray             # w_new · f_j
    intensity: np.ndarray          # investment / land_mu (万元/亩)
    threshold: float
    eligible: np.ndarray
    reason: np.ndarray             # why ineligible ("" when eligible)

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])


def prepare_projects(projects: pd.DataFrame | None, config: AllocationConfig,
                     resources: tuple[str, ...], zone_ids: np.ndarray) -> ProjectData | None:
    if projects is None or len(projects) == 0:
        return None
    frame = projects.sort_values("id", kind="mergesort").reset_index(drop=True)
    policy = config.projects
    land = np.nan_to_num(frame["land_mu"].to_numpy(np.float64), nan=0.0)
    invest = np.nan_to_num(frame["investment"].to_numpy(np.float64), nan=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(land > 0, invest / land, np.inf)
    if policy.investment_intensity_min is not None:
        threshold = float(policy.investment_intensity_min)
    else:
        threshold = float(invest.sum() / land.sum()) if land.sum() > 0 else 0.0
    eligible = intensity >= threshold
    reason = np.where(
        eligible, "",
        pd.Series(intensity).map("{:,.1f}".format).radd("investment intensity ").add(
            f" 万元/亩 is below the threshold {threshold:,.1f} 万元/亩").to_numpy(str))
    cols = [c if c in frame else None for c in resources]
    d = np.column_stack([np.nan_to_num(frame[c].to_numpy(np.float64), nan=0.0) if c else
                         np.zeros(len(frame)) for c in cols]) if cols else np.zeros((len(frame), 0))
    fdi = frame["fdi"].to_numpy(bool) if "fdi" in frame else np.zeros(len(frame), bool)
    obj_col = config.objective if config.objective in frame else "value_added"
    zones = frame["zone_id"].astype(str).to_numpy()
    return ProjectData(
        ids=frame["id"].astype(str).to_numpy(), names=frame["name"].astype(str).to_numpy(),
        zone_ids=zones, zone_code=np.searchsorted(zone_ids, zones), d=d,
        objective=np.nan_to_num(frame[obj_col].to_numpy(np.float64), nan=0.0),
        value_added=np.nan_to_num(frame["value_added"].to_numpy(np.float64), nan=0.0),
        tax=np.nan_to_num(frame["tax"].to_numpy(np.float64), nan=0.0) if "tax" in frame
        else np.zeros(len(frame)), land_mu=land,
        weight=policy.weight * np.where(fdi, policy.fdi_weight, 1.0),
        intensity=intensity, threshold=threshold, eligible=eligible, reason=reason)
