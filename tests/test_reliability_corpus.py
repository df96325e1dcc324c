"""The bad-input corpus (tests/data/bad/, built by scripts/make_bad_corpus.py) through the CLI.

Every case folder holds a scenario, its input files and ``case.toml`` (exit
code, message fragments, command). A case is run in place, so the test also
sees anything MuJun would write next to the inputs. Checks, per case: the
documented exit code (2 bad input, 1 infeasible, 0 accepted with a warning);
every declared fragment (file, row, column or key, rule, numbers) in the
message; no traceback and no internal error; for exit 2 no output folder and
no temporary folder; for exit 1 a complete run folder whose summary.json says
"infeasible" and carries the diagnosis; input files byte-identical afterwards
and no new file in the case folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

CORPUS = REPO / "tests" / "data" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.toml").is_file())
SOURCES = {"ent": "enterprise table", "proj": "project table", "zones": "zones layer",
           "model": "model file", "scn": "scenario file", "inf": "infeasible scenario"}


def load_case(name: str) -> dict:
    return tomllib.loads((CORPUS / name / "case.toml").read_text(encoding="utf-8"))


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path → digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def command_line(case: dict, name: str, out: Path) -> list[str]:
    scenario = str(CORPUS / name / "scenario.toml")
    if case["command"] == "validate":
        return ["validate", scenario]
    if case["command"] == "run":
        return ["run", scenario, "-o", str(out), "--quiet", "--jobs", "1"]
    return [case["command"], scenario, "-o", str(out)]


def check_outcome(case: dict, code: int, out_text: str, err: str, out: Path) -> None:
    assert code == case["exit_code"], f"exit {code}, expected {case['exit_code']}:\n{err}"
    for text in (out_text, err):
        assert "Traceback" not in text and "internal error" not in text, text
    for fragment in case["fragments"]:
        assert fragment in err, f"{fragment!r} not in the message:\n{err}"
    if code == 2:
        assert not out.exists(), "bad input must not leave an output folder"
        assert not list(out.parent.glob(f".{out.name}*")), "a temporary folder was left behind"
    if code == 0 and out.parent.exists() and case["command"] != "validate":
        assert (out / "manifest.json").exists(), "an accepted run writes its folder"
    if code == 1:
        summary = json.loads((out / "base" / "summary.json").read_text(encoding="utf-8"))
        assert summary["status"] == "infeasible" and summary["diagnosis"], summary
        assert (out / "report.html").exists() and (out / "manifest.json").exists()
        assert not list(out.parent.glob(f".{out.name}.partial*"))


def test_corpus_is_broad():
    """≥ 40 cases, every input kind represented, every case declares a file."""
    assert len(CASES) >= 40
    kinds = {name.split("-")[0] for name in CASES}
    assert set(SOURCES) <= kinds
    for name in CASES:
        case = load_case(name)
        assert case["exit_code"] in (0, 1, 2) and case["fragments"], name
        assert (CORPUS / name / "scenario.toml").is_file(), name


@pytest.mark.parametrize("name", CASES)
def test_bad_input_case_through_the_cli(name, cli, tmp_path):
    case = load_case(name)
    before = snapshot(CORPUS / name)
    out = tmp_path / "out"
    code, out_text, err = cli(*command_line(case, name, out))
    check_outcome(case, code, out_text, err, out)
    assert snapshot(CORPUS / name) == before, "input files changed or files were added"


RUN_REJECTS = [n for n in CASES if load_case(n)["exit_code"] == 2
               and load_case(n)["command"] == "run"]


@pytest.mark.parametrize("name", RUN_REJECTS)
def test_validate_rejects_what_run_rejects(name, cli):
    """``mujun validate`` answers exit 2 with the same message as ``run`` (no solve needed)."""
    case = load_case(name)
    code, _, err = cli("validate", CORPUS / name / "scenario.toml")
    assert code == 2, err
    for fragment in case["fragments"]:
        assert fragment in err, f"{fragment!r} not in the message:\n{err}"


SUBPROCESS_CASES = ["ent-gbk-negative-land", "zones-no-crs", "scn-circular-extends",
                    "inf-zone-land-below-floors"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_case_through_python_dash_m(name, tmp_path):
    """The same checks through a real process: exit status, stderr, no traceback."""
    case = load_case(name)
    before = snapshot(CORPUS / name)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    proc = subprocess.run([sys.executable, "-m", "optimizer.cli",
                           *command_line(case, name, out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    check_outcome(case, proc.returncode, proc.stdout, proc.stderr, out)
    assert snapshot(CORPUS / name) == before


def test_corpus_matches_its_generator(tmp_path):
    """scripts/make_bad_corpus.py rebuilds the committed corpus byte for byte."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_bad_corpus",
                                                  REPO / "scripts" / "make_bad_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.warns(UserWarning, match="crs"):       # the no-CRS layers, on purpose
        module.build(tmp_path / "bad")
    assert snapshot(tmp_path / "bad") == snapshot(CORPUS)
