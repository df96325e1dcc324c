"""Batch runs through the real CLI: outputs, determinism, executors, atomicity."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO, scenario_text

VARIANT_FILES = ("allocation.csv", "projects.csv", "zones.csv", "summary.json", "grades.csv",
                 "tiers.csv")
TOP_FILES = ("comparison.csv", "report.xlsx", "report.html", "manifest.json")

SWEEP = """
[[variants]]
name = "strict-D"
set = { "tiers.D.scale" = [0.4, 0.7] }

[[variants]]
name = "rule"
set = { "scenario.method" = "rule" }

[sweep]
key = "caps.global.energy_tce.factor"
values = [0.90, 0.95, 1.0]
"""


def csv_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.csv"))}


@pytest.fixture
def sweep_case(small_case):
    small_case.write_text(scenario_text(extra=SWEEP), encoding="utf-8")
    return small_case


def test_variants_and_sweep_give_1_plus_v_plus_s_complete_runs(sweep_case, cli, tmp_path):
    out = tmp_path / "out"
    code, stdout, err = cli("run", sweep_case, "-o", out, "--jobs", "1", "--quiet")
    assert code == 0, err
    runs = ["base", "strict-D", "rule", "sweep-0.9", "sweep-0.95", "sweep-1"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(runs)
    for run in runs:
        for name in VARIANT_FILES:
            assert (out / run / name).stat().st_size > 0, (run, name)
        assert json.loads((out / run / "summary.json").read_text())["status"] == "optimal"
    for name in TOP_FILES:
        assert (out / name).stat().st_size > 0
    comparison = pd.read_csv(out / "comparison.csv")
    assert list(comparison["variant"]) == runs
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"]["enterprises"]["sha256"]
    assert [r["name"] for r in manifest["runs"]] == runs
    assert not list(tmp_path.glob(".out.partial-*"))


def test_loosest_sweep_cap_never_has_lower_objective(sweep_case, cli, tmp_path):
    out = tmp_path / "out"
    code, _, err = cli("run", sweep_case, "-o", out, "--jobs", "1", "--quiet")
    assert code == 0, err
    objective = {run: json.loads((out / run / "summary.json").read_text())["objective"]
                 for run in ("sweep-0.9", "sweep-0.95", "sweep-1")}
    assert objective["sweep-0.9"] <= objective["sweep-0.95"] + 1e-6
    assert objective["sweep-0.95"] <= objective["sweep-1"] + 1e-6


def test_jobs_2_equals_jobs_1_byte_for_byte(sweep_case, cli, tmp_path):
    code1, _, err1 = cli("run", sweep_case, "-o", tmp_path / "one", "--jobs", "1", "--quiet")
    code2, _, err2 = cli("run", sweep_case, "-o", tmp_path / "two", "--jobs", "2", "--quiet")
    assert code1 == 0 and code2 == 0, err1 + err2
    one, two = csv_bytes(tmp_path / "one"), csv_bytes(tmp_path / "two")
    assert len(one) == 6 * 5 + 1 and one == two
    import gc
    assert gc.get_freeze_count() == 0     # frozen only while the forked workers ran


def test_dask_local_cluster_equals_local_run(small_case, cli, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    small_case.write_text(scenario_text(extra=SWEEP.split("[sweep]")[0]), encoding="utf-8")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code, _, err = cli("run", small_case, "-o", tmp_path / "dask", "--executor", "dask",
                           "--scheduler", cluster.scheduler_address, "--quiet")
    assert code == 0, err
    code, _, err = cli("run", small_case, "-o", tmp_path / "local", "--jobs", "1", "--quiet")
    assert code == 0, err
    assert csv_bytes(tmp_path / "dask") == csv_bytes(tmp_path / "local")


def test_existing_output_refused_without_force(small_case, cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("planner's notes")
    code, _, err = cli("run", small_case, "-o", out, "--quiet")
    assert code == 2 and "--force" in err
    assert (out / "keep.txt").exists()
    code, _, err = cli("run", small_case, "-o", out, "--quiet", "--force")
    assert code == 0, err
    assert not (out / "keep.txt").exists() and (out / "base" / "allocation.csv").exists()


def test_unwritable_output_is_a_clear_error(small_case, cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = cli("run", small_case, "-o", blocker / "out", "--quiet")
    assert code == 2 and "cannot write" in err and "Traceback" not in err


def test_failed_run_leaves_no_partial_folder(small_case, cli, tmp_path):
    small_case.write_text(scenario_text(extra='\n[scenario.x]\n'.replace("[scenario.x]", "")
                                        + '[[variants]]\nname = "bad"\nset = { "scenario.solver" '
                                        '= "nosuch:solver" }\n'), encoding="utf-8")
    code, _, err = cli("run", small_case, "-o", tmp_path / "out", "--quiet", "--jobs", "1")
    assert code == 2 and "unknown solver" in err
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_leaves_no_partial_folder(tmp_path, sig):
    out = tmp_path / "out"
    # 120 sweep values: the run lasts far longer than the wait for its first folder
    long_sweep = tmp_path / "long-sweep.toml"
    values = ", ".join(f"{0.97 + k / 4000:.5f}" for k in range(120))
    long_sweep.write_text(f'[scenario]\nname = "long-sweep"\n'
                          f'extends = "{(REPO / "scenarios" / "baseline.toml").as_posix()}"\n'
                          f'[sweep]\nkey = "caps.global.energy_tce.factor"\nvalues = [{values}]\n',
                          encoding="utf-8")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "optimizer.cli", "run",
                             str(long_sweep), "-o", str(out),
                             "--jobs", "1", "--quiet"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".out.partial-*/base")) and time.time() < deadline:
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))


def _stderr_on_terminal(args: list[str], cwd) -> str:
    """Run the CLI with stderr on a pseudo-terminal of 120 columns; return what it drew."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "optimizer.cli", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=slave, stdin=slave)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    assert proc.wait(timeout=120) == 0
    return drawn.decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_only(sweep_case, tmp_path):
    drawn = _stderr_on_terminal(["run", str(sweep_case), "-o", str(tmp_path / "tty"), "--jobs",
                                 "1"], tmp_path)
    assert "mujun run: 100%" in drawn and "6/6" in drawn
    quiet = _stderr_on_terminal(["run", str(sweep_case), "-o", str(tmp_path / "q"), "--jobs", "1",
                                 "--quiet"], tmp_path)
    assert "mujun run" not in quiet
    piped = subprocess.run([sys.executable, "-m", "optimizer.cli", "run", str(sweep_case), "-o",
                            str(tmp_path / "piped"), "--jobs", "1"], capture_output=True, text=True)
    assert piped.returncode == 0 and "mujun run" not in piped.stderr


def test_report_from_the_workers_read_back_equals_a_fresh_read(sweep_case, cli, tmp_path):
    """Workers read their folders back for the report; `mujun compare` reads the same
    folders afresh (load_run): the workbooks' data sheets must be identical."""
    import openpyxl

    code, _, err = cli("run", sweep_case, "-o", tmp_path / "run", "--jobs", "2", "--quiet")
    assert code == 0, err
    code, _, err = cli("compare", tmp_path / "run", "-o", tmp_path / "cmp")
    assert code == 0, err
    run = openpyxl.load_workbook(tmp_path / "run" / "report.xlsx", read_only=True)
    cmp = openpyxl.load_workbook(tmp_path / "cmp" / "report.xlsx", read_only=True)
    for sheet in ("comparison", "zones", "enterprises", "grades", "tiers"):
        assert list(run[sheet].values) == list(cmp[sheet].values), sheet


ASIDE_SCRIPT = """
import os, sys
from pathlib import Path
from optimizer import pipeline
from optimizer.scenario import load_scenario

out, fail = Path(sys.argv[1]), sys.argv[2] == "fail"
parent, real_write, real_fork, forks = os.getpid(), pipeline.write_grades, os.fork, []

def write_grades(grades, folder):
    if fail and os.getpid() != parent:
        os._exit(3)                         # the child dies before writing
    real_write(grades, folder)

def fork():
    forks.append(1)
    return real_fork()

pipeline.write_grades, os.fork = write_grades, fork
run = load_scenario(Path(sys.argv[3])).run_named("base")
pipeline.run_variant(run, out / "here")
pipeline._CACHE.clear()                     # grades.csv not cached: the child writes it
pipeline.run_variant(run, out / "aside", spare_core=True)
print(len(forks))
"""


@pytest.mark.parametrize("child", ["ok", "fail"])
def test_grades_written_beside_the_allocation_on_a_spare_core(tmp_path, child):
    """A child writes grades.csv while the run allocates (a fresh process: forking is
    refused where other tests left threads); if it dies, the run writes it itself."""
    done = subprocess.run([sys.executable, "-c", ASIDE_SCRIPT, str(tmp_path), child,
                           str(REPO / "scenarios" / "baseline.toml")], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1"]
    assert csv_bytes(tmp_path / "aside") == csv_bytes(tmp_path / "here")
    assert "grades.csv" in csv_bytes(tmp_path / "aside")


def test_a_single_run_on_two_cores_equals_one_core(tmp_path):
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        subprocess.run([sys.executable, "-m", "optimizer.cli", "run",
                        str(REPO / "scenarios" / "baseline.toml"), "--variant", "base", "-o",
                        str(out), "--jobs", str(jobs), "--quiet"], check=True,
                       capture_output=True)
        outs[jobs] = csv_bytes(out)
    assert outs[1] == outs[2] and "base/grades.csv" in outs[1]


LONE_SCRIPT = """
import os, sys
from optimizer import early
from optimizer.report import sheetdata, xlsx
from optimizer.cli import main

scenario, out, log_path, mode = sys.argv[1:5]
real_chunk, real_early = sheetdata.chunk_xml, early._read_and_grade

def log(text):
    with open(log_path, "a") as fh:
        fh.write(text + "\\n")

def chunk_xml(body, start):
    log(f"{os.getpid()} {body.n_rows} {body.n_cols}")
    return real_chunk(body, start)

def read_and_grade(outbox, settings, sheet):
    log(f"child {os.getpid()} {sheet}")
    return real_early(outbox, settings, sheet)

def enterprise_rows(outbox, name, allocation):
    log(f"rows {os.getpid()} {len(allocation)}")
    if mode == "rows child dies":
        os._exit(3)
    return real_rows(outbox, name, allocation)

def prerender_body(frame, keys=None, first_row=1):
    if mode == "grades sheet dies" and first_row == 1:
        os._exit(3)                 # in the early reader's child, after grades.csv
    return real_prerender(frame, keys, first_row)

real_rows, real_prerender = early._enterprise_rows, xlsx.prerender_body
sheetdata.chunk_xml, early._read_and_grade = chunk_xml, read_and_grade
early._enterprise_rows, xlsx.prerender_body = enterprise_rows, prerender_body
print(main(["run", scenario, "--variant", "base", "-o", out, "--jobs", "2", "--quiet"]))
"""


def xlsx_members(path: Path) -> dict[str, bytes]:
    """The workbook's parts, uncompressed, but for its write time and the manifest sheet
    (timings, jobs)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        return {n: z.read(n) for n in z.namelist()
                if n not in ("docProps/core.xml", "xl/worksheets/sheet7.xml")}


@pytest.fixture(scope="module")
def baseline_one_core(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "out"
    subprocess.run([sys.executable, "-m", "optimizer.cli", "run",
                    str(REPO / "scenarios" / "baseline.toml"), "--variant", "base", "-o",
                    str(out), "--jobs", "1", "--quiet"], check=True, capture_output=True, cwd=REPO)
    return out


def lone_run(tmp_path, mode: str) -> list[str]:
    """The baseline's base run on two cores; the lines logged by LONE_SCRIPT."""
    done = subprocess.run([sys.executable, "-c", LONE_SCRIPT, str(REPO / "scenarios" /
                           "baseline.toml"), str(tmp_path / "two"), str(tmp_path / "log"), mode],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and done.stdout.split()[-1] == "0", done.stderr
    return (tmp_path / "log").read_text().splitlines()


@pytest.mark.parametrize("mode", ["rows child dies", "grades sheet dies"])
def test_workbook_rows_lost_ahead_are_made_by_the_workbook(tmp_path, baseline_one_core, mode):
    """If a child making workbook rows ahead dies, the workbook formats them itself."""
    lone_run(tmp_path, mode)
    assert csv_bytes(baseline_one_core) == csv_bytes(tmp_path / "two")
    assert xlsx_members(baseline_one_core / "report.xlsx") == \
        xlsx_members(tmp_path / "two" / "report.xlsx")


def test_a_lone_run_gets_its_workbook_rows_made_ahead(tmp_path, baseline_one_core):
    """A lone run on two cores: the early reader's child formats the grades rows of
    report.xlsx, another child the enterprises rows (no other process does either), and
    every output is that of --jobs 1."""
    lines = lone_run(tmp_path, "ok")
    child = [line.split()[1] for line in lines if line.startswith("child ")]
    assert len(child) == 1 and lines[0] == f"child {child[0]} True"
    grades = pd.read_csv(tmp_path / "two" / "base" / "grades.csv")
    who = {line.split()[0] for line in lines if line.split()[1:] == [str(n) for n in grades.shape]}
    assert who == {child[0]}
    rows = [line.split()[1:] for line in lines if line.startswith("rows ")]
    n = len(pd.read_csv(tmp_path / "two" / "base" / "allocation.csv"))
    assert len(rows) == 1 and rows[0][1] == str(n)
    who = {line.split()[0] for line in lines if line.split()[1:2] == [str(n)]
           and line.split()[0] not in ("child", "rows")}
    assert who == {child[0], rows[0][0]}        # grades and enterprises rows, ahead
    assert csv_bytes(baseline_one_core) == csv_bytes(tmp_path / "two")
    assert xlsx_members(baseline_one_core / "report.xlsx") == \
        xlsx_members(tmp_path / "two" / "report.xlsx")


EARLY_SCRIPT = """
import os, sys
from pathlib import Path
import optimizer.evaluation, optimizer.validation
from optimizer import early, pipeline
from optimizer.cli import main

mode, scenario, out = sys.argv[1], sys.argv[2], sys.argv[3]
parent, started = os.getpid(), []
real_read, real_grade, real_early = (pipeline.read_enterprises,
                                     optimizer.evaluation.grade_enterprises, early.read_early)

def guarded(real, step):
    def call(*args, **kwargs):
        if os.getpid() != parent and mode == "child dies " + step:
            os._exit(3)
        if os.getpid() == parent and mode == "ok" and step == "grading":
            raise AssertionError(step + " in the parent although the early child did it")
        return real(*args, **kwargs)
    return call

def read_early(settings, **options):
    started.append(real_early(settings, **options))
    return started[-1]

# the run reads through pipeline, the early reader's child through validation
pipeline.read_enterprises = optimizer.validation.read_enterprises = guarded(real_read, "reading")
optimizer.evaluation.grade_enterprises = guarded(real_grade, "grading")
early.read_early = read_early
code = main(["run", scenario, "-o", out, "--jobs", "2", "--quiet"])
print(code, started)
"""


@pytest.mark.parametrize("mode", ["ok", "child dies reading", "child dies grading"])
def test_early_reader_child_equals_one_core(tmp_path, sweep_case, mode):
    """With a spare core the enterprises are read and graded in a child while the CLI
    imports the rest and reads them too (a fresh process: forking is refused where
    other tests left threads). Whether the child grades or dies on the way, the outputs
    are those of --jobs 1."""
    done = subprocess.run([sys.executable, "-c", EARLY_SCRIPT, mode, str(sweep_case),
                           str(tmp_path / "two")], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    # started by the CLI; run_scenario finds it running
    assert done.stdout.splitlines()[-1] == "0 [True, False]", done.stdout + done.stderr
    subprocess.run([sys.executable, "-m", "optimizer.cli", "run", str(sweep_case), "-o",
                    str(tmp_path / "one"), "--jobs", "1", "--quiet"], check=True,
                   capture_output=True, cwd=REPO)
    one, two = csv_bytes(tmp_path / "one"), csv_bytes(tmp_path / "two")
    assert one == two and "base/grades.csv" in one and len(one) > 10


def test_early_reader_leaves_input_errors_to_the_parent(tmp_path, sweep_case):
    """A broken enterprise table: the child fails, the parent reports the error as usual."""
    path = tmp_path / "enterprises.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",50,500,3000,", ",fifty,500,3000,"),
                    encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "optimizer.cli", "run", str(sweep_case), "-o",
                           str(tmp_path / "out"), "--jobs", "2", "--quiet"], capture_output=True,
                          text=True, cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert "enterprises.csv" in done.stderr and "land_mu" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


STOP_XLSX_SCRIPT = """
import json, sys, time
from pathlib import Path
import optimizer.report as report
import optimizer.report.html, optimizer.report.xlsx

def slow_xlsx(*args, **kwargs):
    time.sleep(60)

def broken_html(*args, **kwargs):
    raise RuntimeError("html failed")

optimizer.report.xlsx.render_xlsx, optimizer.report.html.render_html = slow_xlsx, broken_html
run = Path(sys.argv[1])
t0 = time.perf_counter()
try:
    report.build_reports(Path(sys.argv[2]), {"base": run / "base"},
                         json.loads((run / "manifest.json").read_text()), parallel=True)
except RuntimeError as exc:
    print(exc, round(time.perf_counter() - t0))
"""


def test_a_failed_html_stops_the_workbook_child(small_case, cli, tmp_path):
    """report.html fails while report.xlsx is written in a forked child: the child is
    stopped, not waited for (a fresh process: forking is refused where threads run)."""
    code, _, err = cli("run", small_case, "-o", tmp_path / "run", "--jobs", "1", "--quiet")
    assert code == 0, err
    (tmp_path / "again").mkdir()
    done = subprocess.run([sys.executable, "-c", STOP_XLSX_SCRIPT, str(tmp_path / "run"),
                           str(tmp_path / "again")], capture_output=True, text=True, cwd=REPO,
                          timeout=50)
    assert done.returncode == 0, done.stderr
    message, seconds = done.stdout.rsplit(" ", 1)
    assert message == "html failed" and int(seconds) < 10
