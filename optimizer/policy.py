"""Validated policy objects shared by the evaluation model, the scenario and the allocation.

These are the *inner* typed objects (SPEC §4, §6). Raw TOML is validated at the
edge (``optimizer.scenario`` and ``optimizer.evaluation.model_file``) and turned
into these; inner code never re-checks raw dicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

GRADES = ("A", "B", "C", "D")
UNGRADED = "U"
RESOURCES = ("land_mu", "energy_tce", "cod_t", "nh3n_t", "so2_t", "nox_t")
RESOURCE_UNITS = {"land_mu": "mu", "energy_tce": "tce", "cod_t": "t", "nh3n_t": "t",
                  "so2_t": "t", "nox_t": "t"}
RESOURCE_LABELS_ZH = {"land_mu": "用地", "energy_tce": "用能", "cod_t": "化学需氧量",
                      "nh3n_t": "氨氮", "so2_t": "二氧化硫", "nox_t": "氮氧化物"}


@dataclass(frozen=True)
class Tier:
    """What one grade gets (激励 for A/B, 倒逼 for C/D).

    scale: [s_lo, s_hi] production scale bounds (1 = today).
    quota: per resource [q_lo, q_hi] multipliers of today's use; ``default``
        applies to resources not named. q_hi may be ``math.inf`` (unbounded).
    efficiency: per resource required efficiency gain e_gr in [0, 1).
    weight: objective weight w_g.
    exit_allowed: may exit (腾退) in MILP mode.
    land_tax_relief: share of 城镇土地使用税 relieved (浙政办发〔2019〕62号: A 1.0, B 0.8).
    electricity_surcharge_yuan_per_kwh: differentiated electricity price add-on (D +0.1..0.5).
    """

    scale: tuple[float, float] = (1.0, 1.0)
    quota: dict[str, tuple[float, float]] = field(default_factory=dict)
    quota_default: tuple[float, float] = (0.0, math.inf)
    efficiency: dict[str, float] = field(default_factory=dict)
    weight: float = 1.0
    exit_allowed: bool = False
    land_tax_relief: float = 0.0
    electricity_surcharge_yuan_per_kwh: float = 0.0
    label: str = ""

    def quota_bounds(self, resource: str) -> tuple[float, float]:
        return self.quota.get(resource, self.quota_default)

    def efficiency_for(self, resource: str) -> float:
        return self.efficiency.get(resource, 0.0)


@dataclass(frozen=True)
class CapSpec:
    """A cap as an absolute number (resource unit) or a factor × today's total."""

    factor: float | None = None
    absolute: float | None = None

    def resolve(self, today_total: float) -> float:
        if self.absolute is not None:
            return float(self.absolute)
        return float(self.factor) * float(today_total)


@dataclass(frozen=True)
class ProjectPolicy:
    """New-project admission (浙政办发〔2018〕9号: intensity above provincial average; FDI first)."""

    investment_intensity_min: float | None = None  # 万元/亩; None = average computed from projects
    fdi_weight: float = 1.2                         # f_j for foreign-invested projects (> 1)
    weight: float = 1.0                             # w_new


@dataclass(frozen=True)
class AllocationConfig:
    """Everything the allocation needs beyond the data frames."""

    resources: tuple[str, ...]
    tiers: dict[str, Tier]                  # keys: A, B, C, D, U
    objective: str = "value_added"         # or "tax"
    method: str = "lp"                     # lp | milp | rule
    solver: str = "highs"                  # backend:solver name, see optimizer.solvers
    global_caps: dict[str, CapSpec] = field(default_factory=dict)
    zone_caps: dict[str, CapSpec] = field(default_factory=dict)   # land_mu may come from geo
    zone_land_caps_mu: dict[str, float] | None = None             # from §5 when land_mu = "boundary"
    # 整合提升: zone_id -> managed group id. When set, the land cap row is one per
    # group and zone_land_caps_mu is keyed by group id (pooled cap).
    land_groups: dict[str, str] | None = None
    intensity: CapSpec | None = None       # θ for energy_per_value: factor × today's ratio or absolute
    projects: ProjectPolicy = field(default_factory=ProjectPolicy)
    time_limit_s: float | None = None
    land_tax_yuan_per_m2: float = 0.0      # 城镇土地使用税 rate for the tax-relief KPI
