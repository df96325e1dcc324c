"""Scores (亩均效益综合得分): ``score_i = Σ_k w_k · clip(v_ik / b_k, floor_k, cap_k)``.

For one indicator set (规上, 规下 or the small-firm set) and all grading groups
at once, with numpy group sums (``np.bincount``) and pandas group medians.

- Benchmark b_k: a fixed number, or per grading group the ``mean`` or ``median``
  of the firms' values, or the ``aggregate`` Σ numerator / Σ denominator. Only
  graded firms with data (status OK, not below ``min_land_mu``) enter it. A
  group benchmark that is not > 0 cannot score anyone: the item is excluded
  for that group (see below).
- Lower-is-better items use the published form (2 − v/b), then the same clip.
- Missing value (or zero denominator) follows the indicator's rule:
  ``zero`` → 0 points; ``group_average`` → the mean item fraction of the
  firms of the group that have data (黄岩: a 规上 firm without emission data
  gets the group's average emission score); ``exclude`` → the item is dropped
  and the firm's remaining weights are renormalised to the set's total weight.
  ``group_average`` with nobody in the group having data falls back to ``exclude``.
- Points are reported after renormalisation, so Σ points = score always.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.evaluation.indicators import MISSING, OK, ZERO, indicator_values, ratio_parts
from optimizer.evaluation.model_file import Indicator


@dataclass
class ItemResult:
    """Full-length arrays for one indicator (NaN outside the set)."""

    value: np.ndarray
    benchmark: np.ndarray
    points: np.ndarray
    notes: list[tuple[np.ndarray, str]] = field(default_factory=list)   # (row mask, reason text)


@dataclass
class SetScores:
    score: np.ndarray
    items: dict[str, ItemResult]
    notes: list[str] = field(default_factory=list)    # table-level notes (absent optional columns)


def group_mean(values: np.ndarray, codes: np.ndarray, select: np.ndarray,
               n_groups: int) -> np.ndarray:
    """Mean of ``values[select]`` per group code; NaN for a group with no selected row."""
    sums = np.bincount(codes[select], weights=values[select], minlength=n_groups)
    counts = np.bincount(codes[select], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def group_benchmark(frame: pd.DataFrame, indicator: Indicator, value: np.ndarray,
                    codes: np.ndarray, select: np.ndarray, n_groups: int) -> np.ndarray:
    """Benchmark per group code (array of length n_groups)."""
    if not isinstance(indicator.benchmark, str):
        return np.full(n_groups, float(indicator.benchmark))
    if indicator.benchmark == "mean":
        return group_mean(value, codes, select, n_groups)
    if indicator.benchmark == "median":
        medians = pd.Series(value[select]).groupby(codes[select]).median()
        return medians.reindex(range(n_groups)).to_numpy(dtype="float64", na_value=np.nan)
    numerator, denominator = ratio_parts(frame, indicator)          # "aggregate"
    num = np.bincount(codes[select], weights=numerator[select], minlength=n_groups)
    den = np.bincount(codes[select], weights=denominator[select], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def score_set(frame: pd.DataFrame, indicators: tuple[Indicator, ...], in_set: np.ndarray,
              graded: np.ndarray, codes: np.ndarray, n_groups: int) -> SetScores:
    """Score the rows ``in_set``; ``graded`` rows (not ungraded by land) set benchmarks.

    ``codes`` are grading-group codes 0..n_groups-1 (valid at least on ``in_set``).
    """
    n = len(frame)
    safe_codes = np.where(in_set, codes, 0)
    total_weight = sum(ind.weight for ind in indicators)
    fractions, used_weight = {}, np.zeros(n)
    items: dict[str, ItemResult] = {}
    for ind in indicators:
        fraction, included, item = _item(frame, ind, in_set, graded, safe_codes, n_groups)
        fractions[ind.key] = (fraction, included)
        used_weight += np.where(included, ind.weight, 0.0)
        items[ind.key] = item
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(used_weight > 0, total_weight / used_weight, np.nan)
    score = np.zeros(n)
    for ind in indicators:
        fraction, included = fractions[ind.key]
        points = np.where(included, ind.weight * fraction * factor, np.nan)
        items[ind.key].points = np.where(in_set, points, np.nan)
        score += np.where(included, points, 0.0)
    score = np.where(in_set & (used_weight > 0), score, np.nan)
    notes = [_absent_note(ind, frame) for ind in indicators if _absent_note(ind, frame)]
    return SetScores(score=score, items=items, notes=notes)


def _absent_note(ind: Indicator, frame: pd.DataFrame) -> str:
    """An optional column missing from the whole table is said once, not on every row."""
    absent = [c for c in ind.columns if c not in frame.columns]
    if not (ind.optional and absent):
        return ""
    return (f"column {', '.join(absent)} not in the enterprise table: {ind.label_zh} "
            f"follows its missing-data rule ({ind.missing}) for every firm")


def _item(frame, ind: Indicator, in_set, graded, codes, n_groups):
    """Item fraction, inclusion mask and explanation for one indicator."""
    value, status = indicator_values(frame, ind)
    has_data = in_set & graded & (status == OK)
    bench = group_benchmark(frame, ind, value, codes, has_data, n_groups)[codes]
    bench_ok = np.isfinite(bench) & (bench > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = value / np.where(bench_ok, bench, np.nan)
    if not ind.higher_is_better:
        ratio = 2.0 - ratio
    fraction = np.clip(ratio, ind.floor, ind.cap)
    scored = (status == OK) & bench_ok
    average = group_mean(fraction, codes, has_data & bench_ok, n_groups)[codes]
    included = scored.copy()
    notes: list[tuple[np.ndarray, str]] = []
    for code, rule in ((MISSING, ind.missing), (ZERO, ind.zero_denominator)):
        rows = in_set & (status == code) & bench_ok
        what = _what(ind, code)
        quiet = code == MISSING and bool(_absent_note(ind, frame))   # said once, table-level
        if rule == "zero":
            fraction = np.where(rows, 0.0, fraction)
            included |= rows
            notes.append((rows & ~quiet, f"{what}: zero points"))
        elif rule == "group_average":
            has_avg = rows & np.isfinite(average)
            fraction = np.where(has_avg, average, fraction)
            included |= has_avg
            notes.append((has_avg & ~quiet, f"{what}: group-average item score"))
            notes.append((rows & ~has_avg & ~quiet, f"{what}: no firm in the group has data, item "
                          "excluded, weights renormalised"))
        else:
            notes.append((rows & ~quiet, f"{what}: item excluded, weights renormalised"))
    notes.append((in_set & ~bench_ok, f"no usable benchmark for {ind.label_zh} in the group: "
                  "item excluded, weights renormalised"))
    item = ItemResult(value=np.where(in_set, value, np.nan),
                      benchmark=np.where(in_set, bench, np.nan), points=np.empty(0), notes=notes)
    return fraction, included & in_set, item


def _what(ind: Indicator, status: int) -> str:
    if status == MISSING:
        return f"missing {ind.label_zh} data"
    columns = "+".join(c for c, _ in ind.denominator)
    return f"{ind.label_zh} undefined ({columns} ≤ 0)"
