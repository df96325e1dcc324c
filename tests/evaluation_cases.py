"""Small hand-made models and enterprise tables shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.evaluation import model_from_dict

TIERS = {g: {"scale": [1.0, 1.0]} for g in "ABCD"}

FLOAT_COLUMNS = ("land_mu", "tax", "value_added", "revenue", "rd_expense", "employees",
                 "energy_tce", "electricity_10k_kwh", "cod_t", "nh3n_t", "so2_t", "nox_t")


def enterprises(rows: list[dict]) -> pd.DataFrame:
    """A validated-looking enterprise frame; absent values take the contract's defaults."""
    n = len(rows)
    frame = pd.DataFrame(rows)
    defaults = {"name": "", "zone_id": "Z1", "county": "C1", "sector": "", "veto": "", "grade": ""}
    for column, default in defaults.items():
        values = frame[column] if column in frame else pd.Series([default] * n)
        frame[column] = values.fillna(default).astype("str")
    for column, default in (("above_scale", True), ("fdi", False), ("new_firm", False)):
        frame[column] = (frame[column] if column in frame else pd.Series([default] * n)).astype(bool)
    for column in FLOAT_COLUMNS:
        frame[column] = (frame[column] if column in frame else pd.Series([np.nan] * n)).astype("float64")
    frame["id"] = frame["id"].astype("str")
    frame["source_row"] = np.arange(n) + 2
    return frame


def tax_model(**grading) -> object:
    """One indicator, tax per mu against benchmark 1 with weight 1: score = tax / land_mu."""
    raw = {
        "model": {"name": "tax-only"},
        "grading": {"group_by": "county", **grading},
        "indicators": {"above_scale": {"tax_per_mu": {
            "label_zh": "亩均税收", "numerator": "tax", "denominator": "land_mu",
            "weight": 1.0, "benchmark": 1.0}}},
        "tiers": TIERS,
    }
    return model_from_dict(raw)


def scored(scores: list[float], county: str = "C1", prefix: str = "E") -> list[dict]:
    """Rows whose tax_model score is exactly the given numbers (land 10 mu)."""
    return [{"id": f"{prefix}{i:02d}", "county": county, "land_mu": 10.0, "tax": 10.0 * s}
            for i, s in enumerate(scores)]
