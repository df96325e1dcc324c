"""Scores against hand computations: Huangyan 2022 items, group benchmarks, missing rules."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evaluation_cases import TIERS, enterprises
from optimizer.evaluation import grade_enterprises, load_model, model_from_dict

MODELS = Path(__file__).resolve().parents[1] / "models"

HUANGYAN_ROWS = [
    # 规上, all six items reported.
    dict(id="H1", county="黄岩区", land_mu=10, tax=240.97, value_added=1361.6, energy_tce=500,
         cod_t=0.1, nh3n_t=0.01, so2_t=0.09, nox_t=0.1, employees=80, rd_expense=600,
         revenue=20000),
    # 规上 without emission data → group-average emission item.
    dict(id="H2", county="黄岩区", land_mu=20, tax=241, value_added=2000, energy_tce=1000,
         employees=100, rd_expense=200, revenue=10000),
    # 规上, only COD reported (the other pollutants missing count as 0).
    dict(id="H3", county="黄岩区", land_mu=5, tax=200, value_added=1000, energy_tce=250,
         cod_t=0.5, employees=50, rd_expense=0, revenue=5000),
    # 规下 firm in the same table: 亩均税收 50 + 单位电耗税收 50.
    dict(id="B1", county="黄岩区", above_scale=False, land_mu=5, tax=57.966,
         electricity_10k_kwh=200),
    # Below 3 mu: ungraded.
    dict(id="T1", county="黄岩区", land_mu=2, tax=100, value_added=500, energy_tce=10,
         employees=5, rd_expense=10, revenue=1000),
    # Alone in its county and without emission data: nobody to average → item excluded.
    dict(id="H4", county="椒江区", land_mu=10, tax=240.97, value_added=1361.6, energy_tce=500,
         employees=80, rd_expense=600, revenue=20000),
]


@pytest.fixture(scope="module")
def huangyan():
    model = load_model(MODELS / "huangyan-2022.toml")
    return grade_enterprises(enterprises(HUANGYAN_ROWS), model).set_index("id")


def test_huangyan_full_firm_item_points(huangyan):
    h1 = huangyan.loc["H1"]
    expected = {"tax_per_mu": 30 * 24.097 / 24.097, "va_per_mu": 20 * 136.16 / 136.16,
                "va_per_energy": 20 * (1361.6 / 500) / 2.694,
                "va_per_emission": 10 * (1361.6 / 0.3) / 4929.81,
                "va_per_employee": 10 * (1361.6 / 80) / 18.14,
                "rd_intensity": 10 * 3.0 / 3.02}
    for key, points in expected.items():
        assert h1[f"{key}_points"] == pytest.approx(points, rel=1e-12), key
    assert h1["va_per_emission_value"] == pytest.approx(4538.666667)
    assert h1["rd_intensity_value"] == pytest.approx(3.0)
    assert h1["rd_intensity_benchmark"] == 3.02
    assert h1["score"] == pytest.approx(30 + 20 + 20.216778 + 9.206581 + 9.382580 + 9.933775, abs=1e-5)
    assert pd.isna(h1["tax_per_electricity_points"])
    assert h1["reason"] == ""


def test_huangyan_missing_emissions_get_group_average_item(huangyan):
    f1 = (1361.6 / 0.3) / 4929.81
    f3 = (1000 / 0.5) / 4929.81
    h2 = huangyan.loc["H2"]
    assert pd.isna(h2["va_per_emission_value"])
    assert h2["va_per_emission_points"] == pytest.approx(10 * (f1 + f3) / 2)
    expected = (30 * 12.05 / 24.097 + 20 * 100 / 136.16 + 20 * 2 / 2.694 + 10 * (f1 + f3) / 2
                + 10 * 20 / 18.14 + 10 * 2 / 3.02)
    assert h2["score"] == pytest.approx(expected, rel=1e-12)
    assert h2["reason"] == "missing 单位排放增加值 data: group-average item score"
    assert huangyan.loc["H3", "va_per_emission_value"] == pytest.approx(2000.0)


def test_huangyan_alone_without_emissions_renormalises(huangyan):
    h4 = huangyan.loc["H4"]
    five = 30 + 20 + 20 * (1361.6 / 500) / 2.694 + 10 * (1361.6 / 80) / 18.14 + 10 * 3 / 3.02
    assert h4["score"] == pytest.approx(five * 100 / 90, rel=1e-12)
    assert h4["tax_per_mu_points"] == pytest.approx(30 * 100 / 90)
    assert pd.isna(h4["va_per_emission_points"])
    assert "no firm in the group has data" in h4["reason"]
    assert h4["grade"] == "B" and h4["group"] == "椒江区/above_scale"


def test_huangyan_above_and_below_scale_in_one_table(huangyan):
    b1 = huangyan.loc["B1"]
    assert b1["group"] == "黄岩区/below_scale"
    assert b1["tax_per_mu_benchmark"] == 11.5932
    assert b1["tax_per_mu_points"] == pytest.approx(50.0)
    assert b1["tax_per_electricity_points"] == pytest.approx(50 * (57.966 / 200) / 0.2352)
    assert pd.isna(b1["va_per_mu_points"])
    # Alone in its group: B; rank 1.
    assert (b1["grade"], b1["rank_in_group"]) == ("B", 1)
    # 规上 group of three with shares 20/45/30/5: cuts round(0.6)=1, round(1.95)=2, round(2.85)=3.
    assert list(huangyan.loc[["H3", "H1", "H2"], "rank_in_group"]) == [1, 2, 3]
    assert list(huangyan.loc[["H3", "H1", "H2"], "grade"]) == ["A", "B", "C"]


def test_huangyan_below_min_land_is_ungraded(huangyan):
    t1 = huangyan.loc["T1"]
    assert (t1["grade"], t1["reason"]) == ("U", "below 3 mu: ungraded")
    assert pd.isna(t1["rank_in_group"])


def test_output_columns_and_order(huangyan):
    frame = huangyan.reset_index()
    assert list(frame.columns[:4]) == ["id", "zone_id", "group", "above_scale"]
    assert list(frame.columns[-4:]) == ["score", "rank_in_group", "grade", "reason"]
    assert list(frame.columns[4:7]) == ["tax_per_mu_value", "tax_per_mu_benchmark", "tax_per_mu_points"]
    assert list(frame["id"]) == sorted(frame["id"])


def two_item_model(zero_rule: str, benchmark=1.0) -> object:
    """亩均税收 (60) and 单位能耗增加值 (40), both against benchmark 1."""
    item = {"numerator": "tax", "denominator": "land_mu", "weight": 60.0, "benchmark": benchmark,
            "label_zh": "亩均税收"}
    energy = {"numerator": "value_added", "denominator": "energy_tce", "weight": 40.0,
              "benchmark": 1.0, "label_zh": "单位能耗增加值", "zero_denominator": zero_rule}
    return model_from_dict({"model": {"name": "two"}, "grading": {},
                            "indicators": {"above_scale": {"tax_per_mu": item, "va_per_energy": energy}},
                            "tiers": TIERS})


ZERO_ENERGY = [dict(id="E1", land_mu=10, tax=20, value_added=100, energy_tce=0),
               dict(id="E2", land_mu=10, tax=5, value_added=100, energy_tce=0)]


def test_all_zero_denominator_scores_zero_points():
    out = grade_enterprises(enterprises(ZERO_ENERGY), two_item_model("zero")).set_index("id")
    assert list(out["va_per_energy_points"]) == [0.0, 0.0]
    assert list(out["score"]) == [pytest.approx(120.0), pytest.approx(30.0)]
    assert out.loc["E1", "reason"] == "单位能耗增加值 undefined (energy_tce ≤ 0): zero points"


@pytest.mark.parametrize("rule", ["group_average", "exclude"])
def test_all_zero_denominator_excluded_renormalises(rule):
    out = grade_enterprises(enterprises(ZERO_ENERGY), two_item_model(rule)).set_index("id")
    # Nobody has data: the 40 points drop out and 60 is scaled to 100.
    assert list(out["score"]) == [pytest.approx(200.0), pytest.approx(50.0)]
    assert out["va_per_energy_points"].isna().all()
    assert "weights renormalised" in out.loc["E1", "reason"]


@pytest.mark.parametrize("statistic, benchmark", [("mean", 3.0), ("median", 2.0),
                                                  ("aggregate", 110 / 40)])
def test_group_benchmarks(statistic, benchmark):
    rows = [dict(id="G1", land_mu=10, tax=10), dict(id="G2", land_mu=20, tax=40),
            dict(id="G3", land_mu=10, tax=60),
            dict(id="G4", county="C2", land_mu=10, tax=7)]       # another group: own benchmark
    raw = {"model": {"name": "g"}, "grading": {"min_land_mu": 3.0},
           "indicators": {"above_scale": {"tax_per_mu": {
               "label_zh": "亩均税收", "numerator": "tax", "denominator": "land_mu",
               "weight": 100.0, "benchmark": statistic}}}, "tiers": TIERS}
    tiny = dict(id="G0", land_mu=1, tax=1000)                     # ungraded: not in the benchmark
    out = grade_enterprises(enterprises(rows + [tiny]), model_from_dict(raw)).set_index("id")
    assert out.loc["G1", "tax_per_mu_benchmark"] == pytest.approx(benchmark)
    assert out.loc["G3", "score"] == pytest.approx(100 * 6 / benchmark)
    assert out.loc["G4", "tax_per_mu_benchmark"] == pytest.approx(0.7)
    assert out.loc["G4", "score"] == pytest.approx(100.0)


def test_cap_floor_and_lower_is_better():
    raw = {"model": {"name": "c"}, "grading": {},
           "indicators": {"above_scale": {
               "tax_per_mu": {"label_zh": "亩均税收", "numerator": "tax", "denominator": "land_mu",
                              "weight": 50.0, "benchmark": 2.0, "cap": 1.2},
               "energy_per_va": {"label_zh": "单位增加值能耗", "numerator": "energy_tce",
                                 "denominator": "value_added", "weight": 50.0, "benchmark": 2.0,
                                 "higher_is_better": False}}},
           "tiers": TIERS}
    rows = [dict(id="L1", land_mu=10, tax=40, energy_tce=100, value_added=100),   # v/b 2 → cap 1.2; 2−0.5
            dict(id="L2", land_mu=10, tax=-0.0, energy_tce=300, value_added=100),  # 0; 2−1.5
            dict(id="L3", land_mu=10, tax=10, energy_tce=500, value_added=100),    # 0.5; 2−2.5 → floor 0
            dict(id="L4", land_mu=10, tax=10, energy_tce=100, value_added=-50)]    # negative VA: zero rule
    out = grade_enterprises(enterprises(rows), model_from_dict(raw)).set_index("id")
    assert list(out["tax_per_mu_points"]) == pytest.approx([60.0, 0.0, 25.0, 25.0])
    assert list(out["energy_per_va_points"]) == pytest.approx([75.0, 25.0, 0.0, 0.0])
    assert "单位增加值能耗 undefined (value_added ≤ 0): zero points" in out.loc["L4", "reason"]
