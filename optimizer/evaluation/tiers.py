"""Policy tiers ``[tiers.<grade>]``: what each grade gets (SPEC §4, §6).

The same keys serve the model file and the scenario's overrides::

    [tiers.D]
    label = "倒逼整治"
    scale = [0.6, 0.9]                                   # [s_lo, s_hi]
    quota = { default = [0.5, 0.9], land_mu = [0.8, 1.0] }  # [q_lo, q_hi] × today's use
    efficiency = { energy_tce = 0.05 }                   # e_gr in [0, 1)
    weight = 1.0                                         # w_g
    exit_allowed = true                                  # 腾退 allowed in MILP mode
    land_tax_relief = 0.0                                # 城镇土地使用税 relief share
    electricity_surcharge_yuan_per_kwh = 0.1             # 差别电价 add-on

TOML has no infinity: a quota upper bound is written ``"inf"`` or left out
(``[0.8]`` means [0.8, unbounded)). Absent keys keep the defaults of
:class:`optimizer.policy.Tier` (quota [0, unbounded), efficiency 0, weight 1,
exit not allowed) or, for :func:`merge_tier`, the base tier's values.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Literal

from optimizer.errors import ScenarioError
from optimizer.evaluation.validation import StrictTable, check_keys, parse_raw
from optimizer.policy import RESOURCES, Tier

Bound = float | Literal["inf"]


class TierRaw(StrictTable):
    label: str | None = None
    scale: list[float] | None = None
    quota: dict[str, list[Bound]] | None = None
    efficiency: dict[str, float] | None = None
    weight: float | None = None
    exit_allowed: bool | None = None
    land_tax_relief: float | None = None
    electricity_surcharge_yuan_per_kwh: float | None = None


TIER_KEYS = tuple(TierRaw.model_fields)


def parse_tier(raw: dict, where: str, file: str | Path | None = None) -> Tier:
    """Validate one raw ``[tiers.X]`` table into a :class:`Tier` (absent keys → defaults).

    ``where`` names the table in messages, e.g. ``"scenario.toml [tiers.D]"``.
    """
    return merge_tier(Tier(), raw, where, file=file)


def merge_tier(base: Tier, raw_override: dict, where: str,
               file: str | Path | None = None) -> Tier:
    """Apply a partial override: only the keys present change.

    ``quota`` and ``efficiency`` merge per resource (``quota.default`` replaces
    the default bounds, a named resource replaces that resource's bounds).
    """
    if not isinstance(raw_override, dict):
        raise ScenarioError(f"{where} must be a table, got {raw_override!r}", file=file)
    raw = parse_raw(TierRaw, raw_override, where=where, file=file)
    changes: dict = {}
    if raw.label is not None:
        changes["label"] = raw.label
    if raw.scale is not None:
        changes["scale"] = _scale(raw.scale, where, file)
    if raw.quota is not None:
        check_keys(raw.quota, ("default",) + RESOURCES, ("quota",), where, file, what="resource")
        quota = dict(base.quota)
        default = base.quota_default
        for name, bounds in raw.quota.items():
            pair = _quota_bounds(bounds, f"quota.{name}", where, file)
            if name == "default":
                default = pair
            else:
                quota[name] = pair
        changes["quota"] = quota
        changes["quota_default"] = default
    if raw.efficiency is not None:
        check_keys(raw.efficiency, RESOURCES, ("efficiency",), where, file, what="resource")
        for name, e in raw.efficiency.items():
            _require(0.0 <= e < 1.0, f"efficiency.{name} = {e} must be in [0, 1)", where, file)
        changes["efficiency"] = {**base.efficiency, **raw.efficiency}
    if raw.weight is not None:
        _require(raw.weight >= 0 and math.isfinite(raw.weight),
                 f"weight = {raw.weight} must be a finite number ≥ 0", where, file)
        changes["weight"] = float(raw.weight)
    if raw.exit_allowed is not None:
        changes["exit_allowed"] = raw.exit_allowed
    if raw.land_tax_relief is not None:
        _require(0.0 <= raw.land_tax_relief <= 1.0,
                 f"land_tax_relief = {raw.land_tax_relief} must be a share in [0, 1]", where, file)
        changes["land_tax_relief"] = float(raw.land_tax_relief)
    if raw.electricity_surcharge_yuan_per_kwh is not None:
        surcharge = raw.electricity_surcharge_yuan_per_kwh
        _require(surcharge >= 0, f"electricity_surcharge_yuan_per_kwh = {surcharge} must be ≥ 0",
                 where, file)
        changes["electricity_surcharge_yuan_per_kwh"] = float(surcharge)
    return dataclasses.replace(base, **changes)


def _scale(values: list[float], where: str, file) -> tuple[float, float]:
    _require(len(values) == 2, f"scale must be [s_lo, s_hi], got {values}", where, file)
    lo, hi = float(values[0]), float(values[1])
    _require(math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo <= hi,
             f"scale = {values} needs 0 ≤ s_lo ≤ s_hi (finite)", where, file)
    return lo, hi


def _quota_bounds(values: list, key: str, where: str, file) -> tuple[float, float]:
    _require(len(values) in (1, 2), f"{key} must be [q_lo, q_hi] or [q_lo], got {values}",
             where, file)
    _require(values[0] != "inf", f"{key}: the lower bound cannot be \"inf\"", where, file)
    lo = float(values[0])
    hi = math.inf if len(values) == 1 or values[1] == "inf" else float(values[1])
    _require(math.isfinite(lo) and 0.0 <= lo <= hi,
             f"{key} = {values} needs 0 ≤ q_lo ≤ q_hi", where, file)
    return lo, hi


def _require(ok: bool, message: str, where: str, file) -> None:
    if not ok:
        raise ScenarioError(f"{where}: {message}", file=file, rule="tier bounds")
