"""comparison.csv: columns, order, determinism, hostile variant names."""

import json

import pandas as pd
import pytest

from optimizer.errors import InputError
from optimizer.report.comparison import LEADING, comparison_frame, write_comparison
from optimizer.report.testing import write_fake_run


def _summary(obj, **kpis):
    return {"status": "optimal", "objective": obj, "method": "lp", "solver": "pulp:cbc",
            "timings": {"solve_s": 1.234}, "kpis": kpis}


def test_fixed_column_order_known_kpis_then_families_then_unknown_sorted():
    frame = comparison_frame({
        "base": _summary(10.0, zzz_extra=1.0, count_B=3, value_added_after=9.0, count_A=2,
                         gini_change_energy_tce=0.1, gini_change_land_mu=0.2,
                         value_added_before=8.0, aaa_extra=2.0, objective=10.0),
        "v1": _summary(11.0, value_added_after=9.5)})
    assert list(frame.columns) == LEADING + [
        "value_added_before", "value_added_after", "gini_change_land_mu",
        "gini_change_energy_tce", "count_A", "count_B", "aaa_extra", "zzz_extra"]
    assert frame["variant"].tolist() == ["base", "v1"]
    assert frame["objective"].tolist() == [10.0, 11.0]
    assert str(frame["count_A"].dtype) == "Int64"
    assert frame["count_A"].isna().tolist() == [False, True]
    assert "timings" not in frame.columns and "solve_s" not in frame.columns


def test_infeasible_variant_keeps_its_row_with_blank_numbers(tmp_path):
    dirs = {}
    for name, summary in {"base": _summary(5.0, tax_after=1.5),
                          "tight": {"status": "infeasible", "objective": None, "kpis": {},
                                    "diagnosis": ["zone Z: land cap 1,200 mu < 1,350 mu"]}}.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(summary), "utf-8")
        dirs[name] = tmp_path / name
    frame = write_comparison(dirs, tmp_path / "comparison.csv")
    assert frame["status"].tolist() == ["optimal", "infeasible"]
    lines = (tmp_path / "comparison.csv").read_text("utf-8").splitlines()
    assert lines[0] == "variant,status,method,solver,objective,tax_after"
    assert lines[1] == "base,optimal,lp,pulp:cbc,5.000000,1.500000"
    assert lines[2] == "tight,infeasible,,,,"


def test_same_runs_give_identical_bytes(tmp_path):
    dirs_a, _ = write_fake_run(tmp_path / "a", n=40)
    dirs_b, _ = write_fake_run(tmp_path / "b", n=40)
    write_comparison(dirs_a, tmp_path / "a.csv")
    write_comparison(dirs_a, tmp_path / "a2.csv")
    write_comparison(dirs_b, tmp_path / "b.csv")
    a = (tmp_path / "a.csv").read_bytes()
    assert a == (tmp_path / "a2.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert b"\r" not in a and a.endswith(b"\n")


def test_rows_follow_the_given_variant_order(tmp_path):
    dirs, _ = write_fake_run(tmp_path, n=20)
    order = {k: dirs[k] for k in ("base", "energy-0.95", "strict-D")}
    frame = write_comparison(order, tmp_path / "c.csv")
    assert frame["variant"].tolist() == ["base", "energy-0.95", "strict-D"]
    back = pd.read_csv(tmp_path / "c.csv")
    assert back["value_added_after"].round(6).tolist() == \
        frame["value_added_after"].round(6).tolist()


def test_formula_like_variant_name_is_neutralised_in_csv_only(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "summary.json").write_text(json.dumps(_summary(1.0)), "utf-8")
    frame = write_comparison({"=cmd|'/C calc'!A0": tmp_path / "v"}, tmp_path / "c.csv")
    assert frame["variant"].iloc[0] == "=cmd|'/C calc'!A0"
    row = (tmp_path / "c.csv").read_text("utf-8").splitlines()[1]
    assert row.startswith("'=cmd")


def test_missing_summary_is_an_input_error_naming_the_file(tmp_path):
    (tmp_path / "base").mkdir()
    with pytest.raises(InputError) as err:
        write_comparison({"base": tmp_path / "base"}, tmp_path / "c.csv")
    assert "summary.json" in str(err.value)
    assert not (tmp_path / "c.csv").exists()


def test_counts_stored_as_floats_are_written_as_integers():
    frame = comparison_frame({"base": _summary(1.0, count_A=578.0, projects_admitted=10.0,
                                               land_to_projects_mu=410.1)})
    assert str(frame["count_A"].dtype) == "Int64" and frame["count_A"].iloc[0] == 578
    assert str(frame["projects_admitted"].dtype) == "Int64"
    assert frame["land_to_projects_mu"].dtype == "float64"


def test_scenario_name_from_run_and_compare_manifests():
    from optimizer.report.results import scenario_name

    assert scenario_name({"scenario": "demo"}) == "demo"
    assert scenario_name({"scenario": {"name": "baseline", "file": "b.toml"}}) == "baseline"
    assert scenario_name({"compared": {"out1": {"scenario": {"name": "a"}},
                                       "out2": {"scenario": "b"}}}) == \
        "对比 compare: a (out1), b (out2)"
    assert scenario_name({}) == ""
