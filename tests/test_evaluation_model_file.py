"""Model files: shipped models load; bad files fail with the file, key and a suggestion."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from optimizer.errors import ScenarioError
from optimizer.evaluation import load_model, merge_tier, parse_tier
from optimizer.policy import Tier

MODELS = Path(__file__).resolve().parents[1] / "models"

HUANGYAN_BENCHMARKS = {"tax_per_mu": (30, 24.097), "va_per_mu": (20, 136.16),
                       "va_per_energy": (20, 2.694), "va_per_emission": (10, 4929.81),
                       "va_per_employee": (10, 18.14), "rd_intensity": (10, 3.02)}

MINIMAL = """\
[model]
name = "t"

[grading]
shares = { A = 0.2, B = 0.55, C = 0.2, D = 0.05 }

[indicators.above_scale.tax_per_mu]
label_zh = "亩均税收"
numerator = "tax"
denominator = "land_mu"
weight = 30
benchmark = 24.097

[tiers.A]
[tiers.B]
[tiers.C]
[tiers.D]
scale = [0.6, 0.9]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_model(write(tmp_path, text))
    return info.value


@pytest.mark.parametrize("name", ["huangyan-2022", "linhai-2016", "zhejiang-generic"])
def test_shipped_models_load_with_all_tiers(name):
    model = load_model(MODELS / f"{name}.toml")
    assert model.name == name
    assert set(model.tiers) == {"A", "B", "C", "D", "U"}
    assert all(isinstance(t, Tier) for t in model.tiers.values())
    assert model.tiers["A"].land_tax_relief == 1.0 and model.tiers["B"].land_tax_relief == 0.8
    assert model.tiers["D"].electricity_surcharge_yuan_per_kwh == pytest.approx(0.1)
    assert model.tiers["U"].scale == model.tiers["B"].scale
    for indicators in model.indicator_sets.values():
        assert sum(i.weight for i in indicators) == pytest.approx(100.0)


def test_huangyan_model_has_the_published_weights_and_benchmarks():
    model = load_model(MODELS / "huangyan-2022.toml")
    above = {i.key: i for i in model.indicator_sets["above_scale"]}
    assert {k: (i.weight, i.benchmark) for k, i in above.items()} == HUANGYAN_BENCHMARKS
    assert above["rd_intensity"].scale == 100.0
    assert all(math.isinf(i.cap) for i in above.values())
    assert above["va_per_emission"].denominator == (("cod_t", 1.0), ("nh3n_t", 1.0),
                                                     ("so2_t", 1.0), ("nox_t", 1.0))
    assert above["va_per_emission"].missing == "group_average"
    below = {i.key: (i.weight, i.benchmark) for i in model.indicator_sets["below_scale"]}
    assert below == {"tax_per_mu": (50, 11.5932), "tax_per_electricity": (50, 0.2352)}


def test_linhai_model_has_small_firm_set():
    model = load_model(MODELS / "linhai-2016.toml")
    assert model.grading.small_land_mu == 3.0
    small = {i.key: i.weight for i in model.indicator_sets["small"]}
    assert small == {"tax_per_mu": 50, "revenue_per_mu": 20, "tax_per_electricity": 30}
    water = {i.key: i for i in model.indicator_sets["above_scale"]}["va_per_water"]
    assert (water.optional, water.missing, water.benchmark) == (True, "exclude", 0.1)


def test_minimal_model_defaults(tmp_path):
    model = load_model(write(tmp_path, MINIMAL))
    assert model.grading.group_by == "county" and model.grading.min_land_mu == 0.0
    assert model.tiers["A"] == Tier()
    assert model.tiers["D"].scale == (0.6, 0.9)
    assert model.tiers["U"].label == "未评价（按B类）"


def test_unknown_key_names_file_table_and_suggestion(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("weight = 30", "wieght = 30"))
    assert "unknown key 'wieght' in [indicators.above_scale.tax_per_mu]; did you mean 'weight'?" \
        in err.message
    assert "missing key 'weight' in [indicators.above_scale.tax_per_mu]" in err.message
    assert err.render().startswith(str(tmp_path / "model.toml"))


def test_unknown_top_level_and_grading_keys(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("[grading]", "[grading]\nmin_land = 3"))
    assert "unknown key 'min_land' in [grading]; did you mean 'min_land_mu'?" in err.message
    err = error_of(tmp_path, MINIMAL + "\n[tier.A]\n")
    assert "unknown key 'tier' in the top level; did you mean 'tiers'?" in err.message


def test_wrong_type_names_key_path(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("weight = 30", 'weight = "30"'))
    assert "wrong value for 'weight' in [indicators.above_scale.tax_per_mu]" in err.message
    assert "'30'" in err.message
    err = error_of(tmp_path, MINIMAL.replace("benchmark = 24.097", 'benchmark = "avg"'))
    assert "wrong value for 'benchmark' in [indicators.above_scale.tax_per_mu]" in err.message


def test_bad_share_sum(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("D = 0.05", "D = 0.15"))
    assert "shares must sum to 1, got 1.1" in err.message


def test_share_grade_typo_and_missing_grade(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("D = 0.05", "E = 0.05"))
    assert "unknown grade 'E' in [grading.shares]" in err.message


def test_unknown_column_suggests_contract_column(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace('numerator = "tax"', 'numerator = "taxes"'))
    assert "unknown column 'taxes'; did you mean 'tax'?" in err.message


def test_unknown_set_and_tier_grade(tmp_path):
    err = error_of(tmp_path, MINIMAL.replace("indicators.above_scale", "indicators.above_scal"))
    assert "unknown indicator set 'above_scal' in [indicators]; did you mean 'above_scale'?" \
        in err.message
    err = error_of(tmp_path, MINIMAL.replace("[tiers.D]", "[tiers.E]"))
    assert "unknown grade 'E' in [tiers]" in err.message


def test_same_key_with_different_ratio_is_rejected(tmp_path):
    extra = MINIMAL + """
[indicators.below_scale.tax_per_mu]
label_zh = "亩均税收"
numerator = "tax"
denominator = "electricity_10k_kwh"
weight = 50
benchmark = 0.2352
"""
    assert "another numerator/denominator" in error_of(tmp_path, extra).message


def test_parse_tier_inf_and_open_upper_bound():
    tier = parse_tier({"scale": [0.6, 0.9], "quota": {"default": [0.5, "inf"], "land_mu": [0.8]},
                       "efficiency": {"energy_tce": 0.05}, "exit_allowed": True, "label": "倒逼整治"},
                      "scenario.toml [tiers.D]")
    assert tier.quota_default == (0.5, math.inf)
    assert tier.quota_bounds("land_mu") == (0.8, math.inf)
    assert tier.quota_bounds("cod_t") == (0.5, math.inf)
    assert tier.efficiency_for("energy_tce") == 0.05 and tier.exit_allowed


def test_parse_tier_errors_name_the_table():
    with pytest.raises(ScenarioError, match=r"unknown key 'scael' in scenario.toml \[tiers.D\]; "
                                            r"did you mean 'scale'\?"):
        parse_tier({"scael": [0.5, 0.8]}, "scenario.toml [tiers.D]")
    with pytest.raises(ScenarioError, match=r"unknown resource 'energy_tc' in scenario.toml "
                                            r"\[tiers.D.quota\]; did you mean 'energy_tce'\?"):
        parse_tier({"quota": {"energy_tc": [0.5, 0.8]}}, "scenario.toml [tiers.D]")
    with pytest.raises(ScenarioError, match="must be in \\[0, 1\\)"):
        parse_tier({"efficiency": {"energy_tce": 1.0}}, "scenario.toml [tiers.D]")
    with pytest.raises(ScenarioError, match="0 ≤ s_lo ≤ s_hi"):
        parse_tier({"scale": [0.9, 0.6]}, "scenario.toml [tiers.D]")
    with pytest.raises(ScenarioError, match="wrong value for 'exit_allowed'"):
        parse_tier({"exit_allowed": 1}, "scenario.toml [tiers.D]")


def test_merge_tier_changes_only_present_keys():
    base = parse_tier({"scale": [0.6, 0.9], "quota": {"default": [0.5, 0.9], "land_mu": [0.7, 1.0]},
                       "efficiency": {"energy_tce": 0.05}, "electricity_surcharge_yuan_per_kwh": 0.1,
                       "label": "倒逼整治"}, "[tiers.D]")
    merged = merge_tier(base, {"scale": [0.4, 0.7], "quota": {"cod_t": [0.3, 0.6]}},
                        "scenario.toml [tiers.D]")
    assert merged.scale == (0.4, 0.7)
    assert merged.quota == {"land_mu": (0.7, 1.0), "cod_t": (0.3, 0.6)}
    assert merged.quota_default == (0.5, 0.9)
    assert merged.efficiency == {"energy_tce": 0.05}
    assert merged.electricity_surcharge_yuan_per_kwh == 0.1 and merged.label == "倒逼整治"
    assert base.scale == (0.6, 0.9)          # the base tier is not modified
