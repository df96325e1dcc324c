"""The scenario file's schema (SPEC §6): every key, its type and default.

Pydantic models with ``extra="forbid"`` and strict types, the tree of valid
keys derived from them, and the rendering of validation errors as
``ScenarioError``s that name the key and suggest the nearest valid one.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizer.errors import ErrorCollector, ScenarioError, ValidationErrors

PATH_KEYS = ("model", "enterprises", "zones", "projects", "protected", "features")
Resource = Literal["land_mu", "energy_tce", "cod_t", "nh3n_t", "so2_t", "nox_t"]
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+\-]{0,63}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ScenarioSection(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    extends: str | None = None
    model: str
    enterprises: str
    enterprises_sheet: str | None = None
    enterprises_layer: str | None = None
    zones: str | None = None
    zones_layer: str | None = None
    projects: str | None = None
    protected: str | None = None
    features: str | None = None
    crs: str | None = None                      # for layers that carry no CRS
    resources: list[Resource] = Field(min_length=1)
    objective: Literal["value_added", "tax"] = "value_added"
    method: Literal["lp", "milp", "rule"] = "lp"
    solver: str = "default"
    time_limit_s: float | None = Field(default=None, gt=0)
    seed: int = 0
    land_tax_yuan_per_m2: float = Field(default=0.0, ge=0)   # 城镇土地使用税, local rate

    @model_validator(mode="after")
    def _unique_resources(self):
        if len(set(self.resources)) != len(self.resources):
            raise ValueError("resources must not repeat")
        return self


class CapValue(Strict):
    factor: float | None = Field(default=None, gt=0)
    absolute: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _exactly_one(self):
        if (self.factor is None) == (self.absolute is None):
            raise ValueError("give exactly one of factor (× today's total) or absolute")
        return self


class GlobalCaps(Strict):
    land_mu: CapValue | None = None
    energy_tce: CapValue | None = None
    cod_t: CapValue | None = None
    nh3n_t: CapValue | None = None
    so2_t: CapValue | None = None
    nox_t: CapValue | None = None


class ZoneCaps(GlobalCaps):
    land_mu: CapValue | Literal["boundary"] | None = None


class Caps(Strict):
    global_: GlobalCaps = Field(default_factory=GlobalCaps, alias="global")
    zone: ZoneCaps = Field(default_factory=ZoneCaps)


class Intensity(Strict):
    energy_per_value: CapValue | None = None     # θ in tce per 万元


# [q_lo, q_hi] multipliers of today's use; q_hi may be "inf" or left out (unbounded).
QuotaBounds = list[float | Literal["inf"]]


class QuotaTable(Strict):
    default: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    land_mu: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    energy_tce: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    cod_t: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    nh3n_t: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    so2_t: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)
    nox_t: QuotaBounds | None = Field(default=None, min_length=1, max_length=2)


class EfficiencyTable(Strict):
    land_mu: float | None = None
    energy_tce: float | None = None
    cod_t: float | None = None
    nh3n_t: float | None = None
    so2_t: float | None = None
    nox_t: float | None = None


class TierTable(Strict):
    """Overrides of one grade's tier; the full check happens in the evaluation model."""

    label: str | None = None
    scale: list[float] | None = Field(default=None, min_length=2, max_length=2)
    quota: QuotaTable | None = None
    efficiency: EfficiencyTable | None = None
    weight: float | None = None
    exit_allowed: bool | None = None
    land_tax_relief: float | None = None
    electricity_surcharge_yuan_per_kwh: float | None = None


class Tiers(Strict):
    A: TierTable | None = None
    B: TierTable | None = None
    C: TierTable | None = None
    D: TierTable | None = None
    U: TierTable | None = None


class ProjectsSection(Strict):
    investment_intensity_min: float | None = Field(default=None, ge=0)   # 万元/亩
    fdi_weight: float = Field(default=1.2, ge=1.0)
    weight: float = Field(default=1.0, ge=0)


class BoundariesSection(Strict):
    tolerance_m: float = Field(default=1.0, ge=0)
    reserve_share: float = Field(default=0.0, ge=0, lt=1)


class ConsolidationSection(Strict):
    groups: list[list[str]] | None = None
    touch_distance_m: float | None = Field(default=None, ge=0)


class Variant(Strict):
    name: str
    description: str = ""
    set: dict[str, Any] = Field(default_factory=dict)


class Sweep(Strict):
    key: str
    values: list[Any] = Field(min_length=1)


class Scenario(Strict):
    scenario: ScenarioSection
    caps: Caps = Field(default_factory=Caps)
    intensity: Intensity = Field(default_factory=Intensity)
    tiers: Tiers = Field(default_factory=Tiers)
    projects: ProjectsSection = Field(default_factory=ProjectsSection)
    boundaries: BoundariesSection = Field(default_factory=BoundariesSection)
    consolidation: ConsolidationSection | None = None
    variants: list[Variant] = Field(default_factory=list)
    sweep: Sweep | None = None


# ---------------------------------------------------------------- key tree and suggestions

def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def key_tree(model: type[BaseModel]) -> dict[str, dict | None]:
    """The valid keys of a schema as a nested dict (leaves are None)."""
    tree: dict[str, dict | None] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        subs = _models_in(info.annotation)
        tree[key] = key_tree(subs[0]) if subs and subs[0] is not Variant else None
    return tree


SCENARIO_TREE = key_tree(Scenario)


def suggest(word: str, choices) -> str:
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"; did you mean `{match[0]}`?" if match else f"; valid keys: {', '.join(sorted(choices))}"


def check_key_path(dotted: str, where: str, file: Path) -> None:
    """A variant/sweep key must name a real setting (e.g. caps.global.energy_tce.factor)."""
    node: dict | None = SCENARIO_TREE
    walked = []
    for part in dotted.split("."):
        if node is None:
            raise ScenarioError(f"{where}: key `{dotted}` goes below the setting "
                                f"`{'.'.join(walked)}`", file=file, rule="known key")
        if part not in node:
            raise ScenarioError(f"{where}: unknown key `{dotted}` (no `{part}` under "
                                f"`{'.'.join(walked) or 'top level'}`){suggest(part, node)}",
                                file=file, rule="known key")
        walked.append(part)
        node = node[part]


def _node_at(loc: tuple) -> dict | None:
    node: dict | None = SCENARIO_TREE
    for part in loc:
        if isinstance(part, int) or node is None:
            continue
        node = node.get(part) if isinstance(node, dict) else None
    return node


def render_validation_error(exc: ValidationError, file: Path, prefix: str = "") -> ScenarioError:
    errors = ErrorCollector()
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in (
            "literal['boundary']", "CapValue", "function-after"))))
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            parent = _node_at(loc[:-1]) or {}
            msg = f"unknown key `{key}`{suggest(str(loc[-1]), parent)}"
        elif err["type"] == "missing":
            msg = f"required key `{key}` is missing"
        else:
            given = err.get("input")
            shown = f" (got {given!r})" if not isinstance(given, dict) else ""
            msg = f"`{key}`: {err['msg']}{shown}" if key else err["msg"]
        errors.add(ScenarioError(prefix + msg, file=file, column=key or None, rule="scenario schema"))
    if len(errors) == 1:
        return errors.errors[0]
    return ValidationErrors(errors.errors, errors.dropped)
