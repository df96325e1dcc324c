"""One end-to-end test per CLI command on the shipped demo scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import geopandas as gpd
import pandas as pd

from tests.conftest import REPO

BASELINE = REPO / "scenarios" / "baseline.toml"


def test_help_lists_the_five_commands():
    out = subprocess.run([sys.executable, "-m", "optimizer.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("validate", "grade", "run", "compare", "boundaries"):
        assert f"  {command} " in out


def test_console_script_flushes_output_and_keeps_exit_codes(tmp_path):
    """entry() leaves with os._exit (no interpreter teardown): what was printed must
    still reach a pipe, and the exit code must be main()'s."""
    ok = subprocess.run([sys.executable, "-c", "from optimizer.cli import entry; entry()",
                         "validate", str(BASELINE)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: baseline.toml"), ok.stderr
    bad = subprocess.run([sys.executable, "-c", "from optimizer.cli import entry; entry()",
                          "validate", str(tmp_path / "absent.toml")], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "absent.toml" in bad.stderr and "Traceback" not in bad.stderr


def test_validate_demo(cli):
    code, out, err = cli("validate", BASELINE)
    assert code == 0, err
    assert "3,000 enterprises" in out and "10 zones" in out and "40 projects" in out


def test_grade_demo(cli, tmp_path):
    code, out, err = cli("grade", BASELINE, "-o", tmp_path / "g")
    assert code == 0, err
    grades = pd.read_csv(tmp_path / "g" / "grades.csv", dtype={"id": str})
    assert len(grades) == 3000 and grades["id"].is_monotonic_increasing
    assert set(grades["grade"]) == {"A", "B", "C", "D", "U"}
    points = grades.filter(like="_points").fillna(0).sum(axis=1)
    assert (points - grades["score"]).abs().max() < 1e-4
    assert list(tmp_path.iterdir()) == [tmp_path / "g"]


def test_boundaries_demo(cli, tmp_path):
    code, out, err = cli("boundaries", BASELINE, "-o", tmp_path / "b")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "b" / "boundaries.csv")
    assert len(table) == 10 and table["violations"].sum() == 8
    assert (table["land_cap_mu"] <= table["approved_area_mu"] + 1e-6).all()
    violations = gpd.read_file(tmp_path / "b" / "boundary_violations.gpkg")
    assert len(violations) == 8 and (violations["outside_area_mu"] > 0).all()
    assert table["sizhi"].str.startswith("东至").all()
    findings = pd.read_csv(tmp_path / "b" / "parcel_findings.csv", dtype=str)
    assert (findings["finding"] == "outside approved boundary (越出四至)").sum() == 8
    two = findings[findings["finding"] == "parcel in two or more zones"]
    assert len(two) == 1 and two["detail"].iloc[0] == "zones G331021, S339022"


def test_run_demo_with_model_export(cli, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = cli("run", BASELINE, "-o", out, "--quiet", "--jobs", "1",
                            "--write-model", tmp_path / "model.lp")
    assert code == 0, err
    assert "base: optimal" in stdout and "strict-D: optimal" in stdout
    summary = json.loads((out / "base" / "summary.json").read_text())
    allocation = pd.read_csv(out / "base" / "allocation.csv", dtype={"id": str})
    assert len(allocation) == 3000
    projects = pd.read_csv(out / "base" / "projects.csv").merge(
        pd.read_csv(REPO / "data" / "demo" / "projects.csv")[["id", "value_added"]], on="id")
    project_value = (projects["admitted_share"] * projects["value_added"]).sum()
    assert project_value > 0      # the demo admits some new projects
    total = allocation["value_after"].sum() + project_value
    assert abs(summary["kpis"]["value_added_after"] - total) < 1.0
    assert (out / "boundary_violations.gpkg").exists()
    text = (tmp_path / "model.lp").read_text()
    assert text.lstrip("\\ ").startswith("MuJun") or "Maximize" in text
    assert "Subject To" in text and text.rstrip().endswith("End")


def test_compare_two_finished_runs(cli, tmp_path, small_case):
    for name in ("first", "second"):
        code, _, err = cli("run", small_case, "-o", tmp_path / name, "--quiet", "--jobs", "1")
        assert code == 0, err
    code, out, err = cli("compare", tmp_path / "first", tmp_path / "second", "-o", tmp_path / "cmp")
    assert code == 0, err
    comparison = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert list(comparison["variant"]) == ["first/base", "second/base"]
    assert comparison["objective"].nunique() == 1
    assert (tmp_path / "cmp" / "report.html").exists() and (tmp_path / "cmp" / "report.xlsx").exists()
    code, _, err = cli("compare", tmp_path / "small_case_missing", "-o", tmp_path / "x")
    assert code == 2


def test_malloc_is_tuned_once_unless_the_user_tunes_it(monkeypatch):
    """The CLI keeps freed memory for reuse (mallopt), except when the user set glibc's
    own knobs, or the C library is not glibc."""
    import optimizer.cli as cli_module

    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(cli_module.ctypes, "CDLL", lambda name: FakeLibc())
    monkeypatch.setattr(cli_module.sys, "platform", "linux")
    for key in [k for k in os.environ if k.startswith("MALLOC_") or k == "GLIBC_TUNABLES"]:
        monkeypatch.delenv(key)
    cli_module._keep_freed_memory()
    assert calls == [(-3, 256 << 20), (-1, 1 << 30)]
    calls.clear()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    cli_module._keep_freed_memory()
    assert calls == []

    def no_glibc(name):
        raise OSError("not found")

    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setattr(cli_module.ctypes, "CDLL", no_glibc)
    cli_module._keep_freed_memory()           # quietly left alone
    assert calls == []
