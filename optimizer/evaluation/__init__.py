"""亩均效益综合评价: model files, indicators, scores and grades (SPEC §3).

Public API::

    load_model(path) -> EvaluationModel            # validate models/*.toml
    grade_enterprises(enterprises, model) -> DataFrame  # grades.csv rows, sorted by id
    parse_tier(raw, where) -> Tier                  # one [tiers.X] table
    merge_tier(base, raw_override, where) -> Tier   # scenario overrides on a model tier
"""

from optimizer.evaluation.grading import grade_enterprises
from optimizer.evaluation.model_file import (EvaluationModel, GradingRule, Indicator, load_model,
                                             model_from_dict)
from optimizer.evaluation.tiers import TIER_KEYS, merge_tier, parse_tier

__all__ = ["EvaluationModel", "GradingRule", "Indicator", "TIER_KEYS", "grade_enterprises",
           "load_model", "merge_tier", "model_from_dict", "parse_tier"]
