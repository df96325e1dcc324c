"""Scenario files: runs = base + variants + sweep values, paths, inheritance, suggestions."""

from __future__ import annotations

import pytest

from optimizer.errors import ScenarioError
from optimizer.scenario import check_key_path, load_scenario
from tests.conftest import scenario_text

VARIANTS = """
[tiers.D]
scale = [0.5, 0.8]
quota = { default = [0.5, 0.8], land_mu = [0.7, 1.0] }

[[variants]]
name = "strict-D"
set = { "tiers.D.scale" = [0.4, 0.7], "caps.global.energy_tce.factor" = 0.95 }

[[variants]]
name = "tax-objective"
set = { "scenario.objective" = "tax" }

[sweep]
key = "caps.global.energy_tce.factor"
values = [0.90, 0.95, 1.0]
"""


def test_runs_are_base_plus_variants_plus_sweep(small_case):
    small_case.write_text(scenario_text(extra=VARIANTS), encoding="utf-8")
    sf = load_scenario(small_case)
    assert [r.name for r in sf.runs] == ["base", "strict-D", "tax-objective", "sweep-0.9",
                                         "sweep-0.95", "sweep-1"]
    base, strict, tax, *sweep = sf.runs
    assert base.settings.caps.global_.energy_tce.factor == 0.97
    assert strict.settings.tiers.D.scale == [0.4, 0.7]
    assert strict.settings.tiers.D.quota.land_mu == [0.7, 1.0]      # untouched keys survive
    assert strict.settings.caps.global_.energy_tce.factor == 0.95
    assert tax.settings.scenario.objective == "tax"
    assert [r.settings.caps.global_.energy_tce.factor for r in sweep] == [0.9, 0.95, 1.0]
    assert all(r.settings.variants == [] for r in sf.runs)   # sweep derives from the base only


def test_paths_are_relative_to_the_scenario_file(small_case):
    sf = load_scenario(small_case)
    assert sf.base.scenario.enterprises == str(small_case.parent / "enterprises.csv")


def test_extends_overrides_and_keeps_parent_paths(small_case, tmp_path):
    child_dir = tmp_path / "child"
    child_dir.mkdir()
    child = child_dir / "strict.toml"
    child.write_text('[scenario]\nname = "strict"\nextends = "../scenario.toml"\nmethod = "rule"\n'
                     '[caps.global]\nenergy_tce = { factor = 0.9 }\n', encoding="utf-8")
    sf = load_scenario(child)
    assert sf.base.scenario.name == "strict" and sf.base.scenario.method == "rule"
    assert sf.base.scenario.enterprises == str(tmp_path / "enterprises.csv")
    assert sf.base.caps.global_.energy_tce.factor == 0.9
    assert [p.name for p in sf.files] == ["strict.toml", "scenario.toml"]


def test_key_paths_are_checked_with_suggestions(tmp_path):
    check_key_path("caps.zone.land_mu", "sweep", tmp_path)
    check_key_path("tiers.D.quota.land_mu", "sweep", tmp_path)
    with pytest.raises(ScenarioError, match="did you mean `energy_tce`"):
        check_key_path("caps.global.energy_tc.factor", "sweep", tmp_path)
    with pytest.raises(ScenarioError, match="goes below"):
        check_key_path("scenario.name.first", "sweep", tmp_path)


def test_variant_name_rules(small_case):
    small_case.write_text(scenario_text(extra='[[variants]]\nname = "base"\n'), encoding="utf-8")
    with pytest.raises(ScenarioError, match="variant name"):
        load_scenario(small_case)
    small_case.write_text(scenario_text(extra='[[variants]]\nname = "a b/c"\n'), encoding="utf-8")
    with pytest.raises(ScenarioError, match="variant name"):
        load_scenario(small_case)


def test_variant_value_of_wrong_type_names_the_variant(small_case):
    small_case.write_text(scenario_text(
        extra='[[variants]]\nname = "v"\nset = { "scenario.method" = "magic" }\n'), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(small_case)
    assert "variants[0] (v)" in info.value.render() and "scenario.method" in info.value.render()


def test_boundary_land_cap_needs_zones(small_case):
    small_case.write_text(scenario_text(extra='[caps.zone]\nland_mu = "boundary"\n'),
                          encoding="utf-8")
    with pytest.raises(ScenarioError, match="needs `scenario.zones`"):
        load_scenario(small_case)


def test_unknown_variant_name_is_suggested(small_case):
    small_case.write_text(scenario_text(extra=VARIANTS), encoding="utf-8")
    with pytest.raises(ScenarioError, match="did you mean `strict-D`"):
        load_scenario(small_case).run_named("strict-d")
