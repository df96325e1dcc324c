"""Indicator values (亩均税收, 单位能耗增加值, …) as whole-column ratios.

``value = scale · numerator / Σ_c w_c · column_c``. The denominator is one
column or a declared weighted sum, e.g. the pollutant mix of 单位排放增加值:
a plain sum of COD, NH3-N, SO2, NOx tonnes, or 当量 weights. In a weighted
sum a missing pollutant counts as 0 as long as at least one pollutant is
reported; when all are missing the firm has *no emission data*.

Each value comes with a status: OK, MISSING (numerator or denominator not
reported, or the optional column absent from the table) or ZERO (denominator
≤ 0, e.g. a firm that reports no energy use). The model's rules decide what a
MISSING or ZERO item scores (see ``scoring``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.evaluation.model_file import Indicator

OK, MISSING, ZERO = 0, 1, 2


def column_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """float64 values of a column; an absent (optional) column is all NaN."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    series = frame[column]
    if not pd.api.types.is_float_dtype(series.dtype):
        # Extra columns (e.g. water_t) arrive as read; non-numbers count as missing.
        series = pd.to_numeric(series, errors="coerce")
    return series.to_numpy(dtype="float64", na_value=np.nan)


def denominator_values(frame: pd.DataFrame, indicator: Indicator) -> np.ndarray:
    """Σ w_c · column_c with NaN treated as 0 unless every term is NaN."""
    if len(indicator.denominator) == 1:
        column, weight = indicator.denominator[0]
        return weight * column_values(frame, column)
    terms = np.column_stack([w * column_values(frame, c) for c, w in indicator.denominator])
    reported = ~np.isnan(terms)
    total = np.where(reported, terms, 0.0).sum(axis=1)
    return np.where(reported.any(axis=1), total, np.nan)


def indicator_values(frame: pd.DataFrame, indicator: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """(value, status) arrays for every row of ``frame``; value is NaN unless status is OK."""
    numerator = column_values(frame, indicator.numerator)
    denominator = denominator_values(frame, indicator)
    missing = np.isnan(numerator) | np.isnan(denominator)
    zero = ~missing & (denominator <= 0)
    ok = ~missing & ~zero
    value = np.full(len(frame), np.nan)
    value[ok] = indicator.scale * numerator[ok] / denominator[ok]
    status = np.where(missing, MISSING, np.where(zero, ZERO, OK)).astype(np.int8)
    return value, status


def ratio_parts(frame: pd.DataFrame, indicator: Indicator) -> tuple[np.ndarray, np.ndarray]:
    """(scaled numerator, denominator) for the ``aggregate`` benchmark Σ num / Σ den."""
    return indicator.scale * column_values(frame, indicator.numerator), denominator_values(
        frame, indicator)
