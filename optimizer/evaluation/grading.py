"""Grades A/B/C/D/U from scores (亩均效益综合评价分类), vectorised over all firms.

Order of the rules, each explained in ``reason``:

1. Indicator set: firms below ``small_land_mu`` use ``[indicators.small]`` when
   the model has one (临海 < 3 亩); otherwise 规上 use ``above_scale`` and 规下
   use ``below_scale`` (or ``above_scale`` when the model has no 规下 set).
2. Grading group = (county | zone | sector | all) × indicator set: 规上 and 规下
   are never ranked against each other.
3. Ungraded "U": land below ``min_land_mu`` (or no land), or no indicator data
   at all. U firms are scored for information but neither set benchmarks nor
   take a rank; their tier is ``[tiers.U]`` (by default the ``ungraded_like`` tier).
4. Base grade. Quantile rule: scores are rounded to ``score_decimals`` and
   ranked in the group with ``rank(method="min", ascending=False)``, so
   ``better = rank − 1`` counts strictly better scores. With cumulative shares
   S_A, S_A+S_B, S_A+S_B+S_C and n ranked firms, the cut counts are
   round-half-up(S · n); a firm is A if better < cut_A, else B if better < cut_B,
   else C if better < cut_C, else D. Equal scores share ``better`` and so
   always share a grade; a tie that straddles a cut goes to the better grade
   (the group can then hold slightly more A than the share). One firm alone:
   cut_A = round(0.2) = 0, cut_B = round(0.75) = 1 → B. Threshold rule:
   A if score ≥ t_A, B if ≥ t_B, C if ≥ t_C, else D.
5. One-vote veto (一票否决): a firm with a non-empty ``veto`` cannot be better
   than ``veto_best_grade`` (default C; a U firm handled like B becomes C too).
6. New firms (``new_firm`` true) are not put in D (→ C) unless vetoed.
7. A planner-fixed ``grade`` (A, B, C, D or U) wins over everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import ErrorCollector, InputError
from optimizer.evaluation.model_file import EvaluationModel, GradingRule
from optimizer.evaluation.scoring import score_set
from optimizer.policy import GRADES, UNGRADED

ALL_GRADES = GRADES + (UNGRADED,)
GRADE_ORDER = {g: i for i, g in enumerate(GRADES)}   # lower = better
STRING = np.dtypes.StringDType()
ITEM_PARTS = ("value", "benchmark", "points")


def grade_enterprises(enterprises: pd.DataFrame, model: EvaluationModel) -> pd.DataFrame:
    """Score and grade every enterprise; one row per firm, sorted by id.

    Columns: id, zone_id, group, above_scale, ``<key>_value``,
    ``<key>_benchmark``, ``<key>_points`` per indicator key, score,
    rank_in_group (nullable Int64), grade, reason. ``attrs["notes"]`` lists
    table-level notes (e.g. an optional column such as ``water_t`` absent).
    """
    rule = model.grading
    frame = enterprises.reset_index(drop=True)
    fixed = _fixed_grades(frame)
    land = frame["land_mu"].to_numpy(dtype="float64", na_value=np.nan)
    no_land = ~(land > 0)
    below_min = ~no_land & (land < rule.min_land_mu)
    graded = ~(no_land | below_min)
    labels = _group_labels(frame, rule, assign_sets(frame, model))
    codes, uniques = pd.factorize(labels, sort=True)
    scores = _score_sets(frame, model, graded, codes, len(uniques))
    no_data = graded & np.isnan(scores.score)
    rankable = graded & ~no_data
    rounded = np.round(scores.score, rule.score_decimals)
    rank, better, count = _ranks(rounded, codes, rankable, len(uniques))
    grade = np.where(rankable, base_grades(rounded, better, count, rule), UNGRADED).astype(STRING)
    reason = add_reason(scores.reason, no_land, "no land in use: ungraded")
    reason = add_reason(reason, below_min, f"below {rule.min_land_mu:g} mu: ungraded")
    reason = add_reason(reason, no_data, "no indicator data: ungraded")
    veto = _str_column(frame, "veto")
    grade, reason = _apply_veto(veto, grade, reason, rule)
    grade, reason = _protect_new_firms(frame, veto, grade, reason, rule)
    grade, reason = _apply_fixed(fixed, grade, reason)
    out = pd.DataFrame({
        "id": frame["id"].astype("str"),
        "zone_id": frame["zone_id"].astype("str"),
        "group": pd.Series(labels, dtype="str"),
        "above_scale": _bool_column(frame, "above_scale", True),
        **scores.columns,
        "score": scores.score,
        "rank_in_group": pd.array(np.where(rankable, rank, 0), dtype="Int64"),
        "grade": pd.Series(grade.astype(object), dtype="str"),
        "reason": pd.Series(reason.astype(object), dtype="str"),
    })
    out.loc[~rankable, "rank_in_group"] = pd.NA
    out = out.sort_values("id", kind="mergesort").reset_index(drop=True)
    out.attrs["notes"] = scores.notes
    return out


@dataclass
class _Scores:
    score: np.ndarray
    columns: dict[str, np.ndarray]      # <key>_value, <key>_benchmark, <key>_points
    reason: np.ndarray
    notes: list[str]


def _score_sets(frame, model: EvaluationModel, graded, codes, n_groups) -> _Scores:
    """Score every indicator set on its rows; item notes become reasons of graded rows."""
    n = len(frame)
    set_names = assign_sets(frame, model)
    columns = {f"{k}_{part}": np.full(n, np.nan)
               for k in model.indicator_keys for part in ITEM_PARTS}
    score = np.full(n, np.nan)
    reason = np.full(n, "", dtype=STRING)
    notes: dict[str, None] = {}
    for set_name, indicators in model.indicator_sets.items():
        in_set = set_names == set_name
        if not in_set.any():
            continue
        result = score_set(frame, indicators, in_set, graded, codes, n_groups)
        score = np.where(in_set, result.score, score)
        notes.update(dict.fromkeys(result.notes))
        for key, item in result.items.items():
            for part in ITEM_PARTS:
                name = f"{key}_{part}"
                columns[name] = np.where(in_set, getattr(item, part), columns[name])
            for mask, text in item.notes:
                reason = add_reason(reason, mask & graded, text)
    return _Scores(score, columns, reason, list(notes))


def assign_sets(frame: pd.DataFrame, model: EvaluationModel) -> np.ndarray:
    """Indicator set name per row (规上 / 规下 / small-firm set)."""
    above = _bool_column(frame, "above_scale", True)
    below_set = "below_scale" if "below_scale" in model.indicator_sets else "above_scale"
    names = np.where(above, "above_scale", below_set).astype(object)
    small_mu = model.grading.small_land_mu
    if "small" in model.indicator_sets and small_mu is not None:
        land = frame["land_mu"].to_numpy(dtype="float64", na_value=np.nan)
        names = np.where(land < small_mu, "small", names)
    return names


def base_grades(score: np.ndarray, better: np.ndarray, count: np.ndarray,
                rule: GradingRule) -> np.ndarray:
    """A/B/C/D by the quantile or threshold rule (module docstring, rule 4)."""
    if rule.method == "threshold":
        t = dict(rule.thresholds)
        return np.select([score >= t["A"], score >= t["B"], score >= t["C"]], ["A", "B", "C"], "D")
    cumulative = np.cumsum([share for _, share in rule.shares])[:3]
    # round-half-up of S·n; the inner round() removes float noise such as 0.75·2 = 1.4999…
    cuts = [np.floor(np.round(c * count, 9) + 0.5) for c in cumulative]
    return np.select([better < cuts[0], better < cuts[1], better < cuts[2]], ["A", "B", "C"], "D")


def add_reason(reason: np.ndarray, mask: np.ndarray, text) -> np.ndarray:
    """Append ``text`` (one string or one per row) to ``reason`` where ``mask``; '; '-separated."""
    rows = np.flatnonzero(mask)
    if not len(rows):
        return reason
    text = np.asarray(text, dtype=STRING)
    text = text if text.ndim == 0 else text[rows]
    before = reason[rows]
    out = reason.astype(STRING)             # a copy: the caller's array stays as it was
    out[rows] = np.where(before == "", text, np.strings.add(np.strings.add(before, "; "), text))
    return out


def _ranks(score, codes, rankable, n_groups):
    """Competition rank (1 = best), strictly-better count and group size per row."""
    rank = np.zeros(len(score))
    if rankable.any():
        ranked = pd.Series(score[rankable]).groupby(codes[rankable]).rank(
            method="min", ascending=False)
        rank[rankable] = ranked.to_numpy()
    count = np.bincount(codes[rankable], minlength=n_groups)[codes]
    return rank.astype(np.int64), rank - 1, count


def _group_labels(frame: pd.DataFrame, rule: GradingRule, set_names: np.ndarray) -> np.ndarray:
    """"<group>/<indicator set>" per row, made once per pair that occurs (factorize)
    instead of once per row."""
    column = rule.group_column
    if column is None or column not in frame.columns:
        base = np.full(len(frame), "all", dtype=object)
    else:
        base = _str_column(frame, column)
        base = np.where(base == "", "-", base).astype(object)
    base_code, bases = pd.factorize(base, use_na_sentinel=False)
    set_code, sets = pd.factorize(np.asarray(set_names, dtype=object), use_na_sentinel=False)
    pairs = np.array([f"{b}/{t}" for b in bases for t in sets] or [""], dtype=object)
    return pairs[base_code * len(sets) + set_code]


def _apply_veto(veto: np.ndarray, grade, reason, rule: GradingRule):
    vetoed = veto != ""
    if not vetoed.any():
        return grade.astype(STRING), reason
    rows = np.flatnonzero(vetoed)
    best = GRADE_ORDER[rule.veto_best_grade]
    # U counts as the grade it is handled like (usually B), so a vetoed U firm becomes C too.
    here = grade[rows]
    handled = np.where(here == UNGRADED, rule.ungraded_like, here)
    order = np.select([handled == g for g in GRADES], list(range(len(GRADES))), len(GRADES))
    lowered_here = order < best
    text = np.strings.add("veto: ", veto[rows].astype(STRING))
    change = np.strings.add(np.strings.add(" (", here), f" → {rule.veto_best_grade})")
    lowered = np.zeros(len(grade), dtype=bool)
    lowered[rows[lowered_here]] = True
    full_text = np.full(len(grade), "", dtype=STRING)
    full_text[rows] = text
    changed = full_text.copy()
    changed[rows] = np.strings.add(text, change)
    reason = add_reason(reason, lowered, changed)
    reason = add_reason(reason, vetoed & ~lowered, full_text)
    return np.where(lowered, rule.veto_best_grade, grade).astype(STRING), reason


def _protect_new_firms(frame, veto: np.ndarray, grade, reason, rule: GradingRule):
    if not rule.protect_new_firms:
        return grade, reason
    protect = _bool_column(frame, "new_firm", False) & (grade == "D") & (veto == "")
    reason = add_reason(reason, protect, "new firm: protected from D")
    return np.where(protect, "C", grade).astype(STRING), reason


def _apply_fixed(fixed, grade, reason):
    has_fixed = fixed != ""
    if not has_fixed.any():
        return grade, reason
    rows = np.flatnonzero(has_fixed)
    computed = np.full(len(grade), "", dtype=STRING)
    computed[rows] = np.strings.add(np.strings.add("fixed by planner (computed ", grade[rows]),
                                    ")")
    reason = add_reason(reason, has_fixed & (fixed != grade), computed)
    reason = add_reason(reason, has_fixed & (fixed == grade), "fixed by planner")
    return np.where(has_fixed, fixed, grade).astype(STRING), reason


def _fixed_grades(frame: pd.DataFrame) -> np.ndarray:
    """Planner-fixed grades, upper-cased; anything but A/B/C/D/U is an input error."""
    fixed = _str_column(frame, "grade").astype(STRING)
    given = np.flatnonzero(fixed != "")           # usually few: look at those only
    fixed[given] = np.strings.upper(fixed[given])
    bad = np.zeros(len(fixed), dtype=bool)
    bad[given] = ~np.isin(fixed[given].astype(object), ALL_GRADES)
    if bad.any():
        errors = ErrorCollector()
        rows = (frame["source_row"].to_numpy() if "source_row" in frame.columns
                else np.arange(len(frame)) + 2)                # header = row 1
        for row, value in zip(rows[bad], fixed[bad].astype(object)):   # error rows only
            errors.add(InputError(f"grade '{value}' is not one of A, B, C, D, U", row=int(row),
                                  file=frame.attrs.get("source"),
                                  column=frame.attrs.get("headers", {}).get("grade", "grade"),
                                  rule="planner-fixed grade"))
        errors.raise_if_any()
    return fixed


def _str_column(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), "", dtype=STRING)
    # np.strings.strip: str.strip's whitespace, in one C loop (pandas' .str.strip calls
    # str.strip per cell)
    return np.strings.strip(frame[column].astype("str").fillna("").to_numpy(dtype=object)
                            .astype(STRING))


def _bool_column(frame: pd.DataFrame, column: str, default: bool) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), default)
    return frame[column].fillna(default).astype(bool).to_numpy()
