"""Evaluation model files ``models/*.toml`` → a validated :class:`EvaluationModel`.

The format is documented key by key in ``models/README.md``. In short::

    [model]        name, title_zh, source
    [grading]      group_by, method, shares | thresholds, min_land_mu,
                   small_land_mu, ungraded_like, veto_best_grade, protect_new_firms
    [indicators.<set>.<key>]   one indicator of the set above_scale | below_scale | small
    [tiers.<grade>]            A, B, C, D (required) and U (optional, else = ungraded_like)

Everything is checked here, once: inner code (scoring, grading) receives typed
frozen dataclasses and never re-checks raw dicts.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from optimizer.errors import ScenarioError
from optimizer.evaluation.tiers import parse_tier
from optimizer.evaluation.validation import StrictTable, check_keys, parse_raw, suggest
from optimizer.policy import GRADES, UNGRADED, Tier
from optimizer.schema import NUMERIC_ENTERPRISE_COLUMNS

SET_NAMES = ("above_scale", "below_scale", "small")
SET_LABELS_ZH = {"above_scale": "规上", "below_scale": "规下", "small": "小微用地"}
BENCHMARK_STATS = ("mean", "median", "aggregate")
MISSING_RULES = ("zero", "group_average", "exclude")
GROUP_BY_COLUMNS = {"county": "county", "zone": "zone_id", "sector": "sector", "none": None}
SHARE_TOLERANCE = 1e-6

MissingRule = Literal["zero", "group_average", "exclude"]


class ModelInfoRaw(StrictTable):
    name: str
    title_zh: str = ""
    source: str = ""


class GradingRaw(StrictTable):
    group_by: Literal["county", "zone", "sector", "none"] = "county"
    method: Literal["quantile", "threshold"] = "quantile"
    shares: dict[str, float] | None = None
    thresholds: dict[str, float] | None = None
    min_land_mu: float = 0.0
    small_land_mu: float | None = None
    ungraded_like: Literal["A", "B", "C", "D"] = "B"
    veto_best_grade: Literal["B", "C", "D"] = "C"
    protect_new_firms: bool = True
    score_decimals: int = 6


class IndicatorRaw(StrictTable):
    label_zh: str
    numerator: str
    denominator: str | dict[str, float]
    weight: float
    benchmark: float | Literal["mean", "median", "aggregate"]
    unit: str = ""
    higher_is_better: bool = True
    scale: float = 1.0
    cap: float | None = None
    floor: float = 0.0
    missing: MissingRule = "zero"
    zero_denominator: MissingRule | None = None
    optional: bool = False


class ModelRaw(StrictTable):
    model: ModelInfoRaw
    grading: GradingRaw
    indicators: dict[str, dict[str, IndicatorRaw]]
    tiers: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Indicator:
    """One scored ratio: ``value = scale · numerator / Σ_c w_c · denominator_c``.

    ``benchmark`` is a number (same unit as the value) or ``"mean"``,
    ``"median"``, ``"aggregate"`` (Σ numerator / Σ denominator) of the grading group.
    Item fraction = clip(value / benchmark, floor, cap) (or 2 − value/benchmark
    when lower is better); points = weight × fraction.
    """

    key: str
    label_zh: str
    numerator: str
    denominator: tuple[tuple[str, float], ...]
    weight: float
    benchmark: float | str
    unit: str = ""
    higher_is_better: bool = True
    scale: float = 1.0
    cap: float = math.inf
    floor: float = 0.0
    missing: str = "zero"
    zero_denominator: str = "zero"
    optional: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.numerator,) + tuple(c for c, _ in self.denominator)

    def same_ratio(self, other: Indicator) -> bool:
        return (self.numerator, self.denominator, self.scale) == (
            other.numerator, other.denominator, other.scale)


@dataclass(frozen=True)
class GradingRule:
    group_by: str = "county"
    method: str = "quantile"
    shares: tuple[tuple[str, float], ...] = (("A", 0.2), ("B", 0.55), ("C", 0.2), ("D", 0.05))
    thresholds: tuple[tuple[str, float], ...] = ()
    min_land_mu: float = 0.0
    small_land_mu: float | None = None
    ungraded_like: str = "B"
    veto_best_grade: str = "C"
    protect_new_firms: bool = True
    score_decimals: int = 6

    @property
    def group_column(self) -> str | None:
        return GROUP_BY_COLUMNS[self.group_by]


@dataclass(frozen=True)
class EvaluationModel:
    """A validated evaluation model: indicator sets, grading rule and policy tiers."""

    name: str
    grading: GradingRule
    indicator_sets: dict[str, tuple[Indicator, ...]]
    tiers: dict[str, Tier]
    title_zh: str = ""
    source: str = ""
    path: str = ""

    @property
    def indicator_keys(self) -> tuple[str, ...]:
        """Every indicator key once, in file order (the output column order)."""
        keys: dict[str, None] = {}
        for indicators in self.indicator_sets.values():
            keys.update((ind.key, None) for ind in indicators)
        return tuple(keys)


def load_model(path: str | Path) -> EvaluationModel:
    """Read and validate a model TOML; problems raise ScenarioError naming file and key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"model file not found: {path}", file=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=path, rule="TOML syntax") from None
    return model_from_dict(raw, file=path)


def model_from_dict(raw: dict, file: str | Path | None = None) -> EvaluationModel:
    """Validate an already parsed model table (used by :func:`load_model` and tests)."""
    parsed = parse_raw(ModelRaw, raw, file=file)
    grading = _grading(parsed.grading, file)
    sets = _indicator_sets(parsed.indicators, grading, file)
    tiers = _tiers(parsed.tiers, grading, file)
    return EvaluationModel(name=parsed.model.name, title_zh=parsed.model.title_zh,
                           source=parsed.model.source, grading=grading, indicator_sets=sets,
                           tiers=tiers, path=str(file) if file is not None else "")


def _grading(raw: GradingRaw, file) -> GradingRule:
    def fail(message: str) -> None:
        raise ScenarioError(f"[grading] {message}", file=file, rule="grading rule")

    shares: tuple = GradingRule.shares
    thresholds: tuple = ()
    if raw.method == "quantile":
        if raw.shares is not None:
            check_keys(raw.shares, GRADES, ("grading", "shares"), file=file, what="grade")
            missing = [g for g in GRADES if g not in raw.shares]
            if missing:
                fail(f"shares must give every grade A, B, C, D; missing {', '.join(missing)}")
            if any(not 0.0 <= v <= 1.0 for v in raw.shares.values()):
                fail(f"shares must each be in [0, 1], got {raw.shares}")
            total = sum(raw.shares.values())
            if abs(total - 1.0) > SHARE_TOLERANCE:
                fail(f"shares must sum to 1, got {total:.6g} ({raw.shares})")
            shares = tuple((g, float(raw.shares[g])) for g in GRADES)
    else:
        if raw.thresholds is None:
            fail("method = \"threshold\" needs thresholds = { A = .., B = .., C = .. }")
        check_keys(raw.thresholds, GRADES[:3], ("grading", "thresholds"), file=file, what="grade")
        if sorted(raw.thresholds) != ["A", "B", "C"]:
            fail("thresholds must give the lowest score of A, B and C (below C is D)")
        t = raw.thresholds
        if not t["A"] >= t["B"] >= t["C"]:
            fail(f"thresholds must satisfy A ≥ B ≥ C, got {t}")
        thresholds = tuple((g, float(t[g])) for g in ("A", "B", "C"))
    if raw.min_land_mu < 0:
        fail(f"min_land_mu must be ≥ 0, got {raw.min_land_mu}")
    if raw.small_land_mu is not None and raw.small_land_mu <= 0:
        fail(f"small_land_mu must be > 0, got {raw.small_land_mu}")
    if not 0 <= raw.score_decimals <= 12:
        fail(f"score_decimals must be in 0..12, got {raw.score_decimals}")
    return GradingRule(group_by=raw.group_by, method=raw.method, shares=shares,
                       thresholds=thresholds, min_land_mu=float(raw.min_land_mu),
                       small_land_mu=raw.small_land_mu, ungraded_like=raw.ungraded_like,
                       veto_best_grade=raw.veto_best_grade,
                       protect_new_firms=raw.protect_new_firms, score_decimals=raw.score_decimals)


def _indicator_sets(raw: dict[str, dict[str, IndicatorRaw]], grading: GradingRule,
                    file) -> dict[str, tuple[Indicator, ...]]:
    check_keys(raw, SET_NAMES, ("indicators",), file=file, what="indicator set")
    if "above_scale" not in raw or not raw["above_scale"]:
        raise ScenarioError("[indicators.above_scale] must declare at least one indicator",
                            file=file, rule="indicator sets")
    if "small" in raw and grading.small_land_mu is None:
        raise ScenarioError("[indicators.small] needs [grading] small_land_mu (firms below it "
                            "use the small-firm set)", file=file, rule="indicator sets")
    sets: dict[str, tuple[Indicator, ...]] = {}
    seen: dict[str, Indicator] = {}
    for set_name in SET_NAMES:
        if set_name not in raw:
            continue
        items = tuple(_indicator(key, ind, (set_name, key), file)
                      for key, ind in raw[set_name].items())
        if not items or sum(i.weight for i in items) <= 0:
            raise ScenarioError(f"[indicators.{set_name}] needs indicators with positive total "
                                "weight", file=file, rule="indicator sets")
        for ind in items:
            # One key = one ratio, so grades.csv has one value column per key.
            if ind.key in seen and not ind.same_ratio(seen[ind.key]):
                raise ScenarioError(f"[indicators.{set_name}.{ind.key}] defines '{ind.key}' with "
                                    "another numerator/denominator/scale than an earlier set; "
                                    "use another key", file=file, rule="indicator sets")
            seen.setdefault(ind.key, ind)
        sets[set_name] = items
    return sets


def _indicator(key: str, raw: IndicatorRaw, path: tuple[str, str], file) -> Indicator:
    where = f"[indicators.{'.'.join(path)}]"

    def fail(message: str) -> None:
        raise ScenarioError(f"{where} {message}", file=file, rule="indicator")

    denominator = raw.denominator if isinstance(raw.denominator, dict) else {raw.denominator: 1.0}
    if not denominator:
        fail("denominator table is empty")
    if not raw.optional:
        for column in (raw.numerator, *denominator):
            if column not in NUMERIC_ENTERPRISE_COLUMNS:
                fail(f"unknown column '{column}'{suggest(column, NUMERIC_ENTERPRISE_COLUMNS)} "
                     "(set optional = true for a column that is not in the data contract)")
    if any(w < 0 for w in denominator.values()) or sum(denominator.values()) <= 0:
        fail(f"denominator weights must be ≥ 0 with a positive sum, got {denominator}")
    if not (raw.weight >= 0 and math.isfinite(raw.weight)):
        fail(f"weight must be a finite number ≥ 0, got {raw.weight}")
    fixed = raw.benchmark if isinstance(raw.benchmark, float) else None
    if fixed is not None and not (fixed > 0 and math.isfinite(fixed)):
        fail(f"a fixed benchmark must be > 0, got {raw.benchmark}")
    if not (raw.scale > 0 and math.isfinite(raw.scale)):
        fail(f"scale must be > 0, got {raw.scale}")
    cap = math.inf if raw.cap is None else float(raw.cap)
    if not raw.floor <= cap:
        fail(f"floor ({raw.floor}) must not exceed cap ({cap})")
    return Indicator(key=key, label_zh=raw.label_zh, numerator=raw.numerator,
                     denominator=tuple((c, float(w)) for c, w in denominator.items()),
                     weight=float(raw.weight), benchmark=raw.benchmark, unit=raw.unit,
                     higher_is_better=raw.higher_is_better, scale=float(raw.scale), cap=cap,
                     floor=float(raw.floor), missing=raw.missing,
                     zero_denominator=raw.zero_denominator or raw.missing, optional=raw.optional)


def _tiers(raw: dict[str, dict], grading: GradingRule, file) -> dict[str, Tier]:
    check_keys(raw, GRADES + (UNGRADED,), ("tiers",), file=file, what="grade")
    missing = [g for g in GRADES if g not in raw]
    if missing:
        raise ScenarioError(f"[tiers] must define A, B, C and D; missing {', '.join(missing)}",
                            file=file, rule="tiers")
    tiers = {g: parse_tier(raw[g], f"[tiers.{g}]", file=file) for g in GRADES}
    if UNGRADED in raw:
        tiers[UNGRADED] = parse_tier(raw[UNGRADED], f"[tiers.{UNGRADED}]", file=file)
    else:
        # 未评价 firms (below min_land_mu, start-ups, utilities) are "handled as B" in practice.
        like = tiers[grading.ungraded_like]
        label = f"未评价（按{grading.ungraded_like}类）"
        tiers[UNGRADED] = dataclasses.replace(like, label=label)
    return tiers
