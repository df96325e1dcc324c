"""as_read_back: the tables a run hands to its report equal reading its CSV files back."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.io.results import csv_bytes
from optimizer.pipeline import run_variant
from optimizer.report.results import as_read_back, read_table
from optimizer.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("scenario", ["baseline.toml", "energy-sweep.toml", "rule-baseline.toml"])
def test_the_runs_tables_equal_its_files_read_back(tmp_path, scenario):
    sf = load_scenario(ROOT / "scenarios" / scenario)
    for run in sf.runs[:2]:
        folder = tmp_path / run.name
        summary = run_variant(run, folder, keep_tables=("allocation", "grades"))
        for name in ("allocation", "grades"):
            kept = summary["tables"][name]
            assert kept is not None, name
            pd.testing.assert_frame_equal(kept, read_table(folder / f"{name}.csv"),
                                          check_exact=True)


def test_tables_are_kept_only_when_asked(tmp_path):
    run = load_scenario(ROOT / "scenarios" / "baseline.toml").runs[0]
    assert "tables" not in run_variant(run, tmp_path / "a")
    assert list(run_variant(run, tmp_path / "b", keep_tables=("allocation",))["tables"]) == \
        ["allocation"]


# Numbers off the exact millionths path (near-halves, huge, ±inf, round-off below 5e-7,
# negative zero) beside ordinary ones; texts a spreadsheet or a CSV parser could misread.
AWKWARD_NUMBERS = [0.0, -0.0, 4.9e-7, -4.9e-7, 5e-7, 0.0000005, 1.0000005, 2.5e-6, 123.4565,
                   -0.1234565, 2.0 ** 52 / 1e6, 9.007e15, 1e300, -1e300, np.inf, -np.inf,
                   np.nan, 1 / 3, 871.0, 1e-300]
AWKWARD_TEXTS = ["=1+1", "+E01", "-2", "@x", "\t=5", "a\r=7", "a\r\nb", 'say "hi"', "a,b",
                 "NA", "nan", "", "1e5", "甲有限公司", " lead", "trail ", "line\nbreak", None]
numbers = st.one_of(st.sampled_from(AWKWARD_NUMBERS),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(-10**9, 10**9).map(lambda k: k / 1e6),
                    st.integers(-10**9, 10**9).map(lambda k: (k + 0.5) / 1e6))
texts = st.one_of(st.sampled_from(AWKWARD_TEXTS), st.text(max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 12).flatmap(lambda n: st.tuples(
    st.lists(numbers, min_size=n, max_size=n), st.lists(texts, min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(st.one_of(st.none(), st.integers(-10**6, 10**6)), min_size=n, max_size=n))),
    st.booleans())
def test_read_back_equals_reading_the_csv_for_any_cells(tmp_path_factory, cells, grades_style):
    """Property (hypothesis): for any cells, as_read_back(frame) equals read_table of the
    file csv_bytes writes, with the allocation's or the grades' writing options."""
    values, words, flags, counts = cells
    frame = pd.DataFrame({
        "id": pd.Series([f"E{i}" for i in range(len(values))], dtype="str"),
        "name": pd.Series(words, dtype="str"),
        "score": np.array(values, dtype=np.float64),
        "above_scale": np.array(flags, dtype=bool),      # a text column for the reader
        "eligible_flag": np.array(flags, dtype=bool),    # a boolean one
        "count_firms": np.arange(len(values), dtype=np.int64),
        "rank_in_group": pd.array(counts, dtype="Int64"),
    })
    options = {"neutral": {"id", "name"}, "bools": ("True", "False")} if grades_style else {}
    path = tmp_path_factory.mktemp("readback") / "t.csv"
    path.write_bytes(csv_bytes(frame, **options))
    pd.testing.assert_frame_equal(as_read_back(frame, **options), read_table(path),
                                  check_exact=True)


def test_what_it_does_not_model_is_left_to_the_reader():
    assert as_read_back(pd.DataFrame({"id": pd.Series([], dtype="str")})) is None   # no rows
    assert as_read_back(pd.DataFrame({"note": ["12", "x"]})) is None   # typed by content
    assert as_read_back(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"])) is None
    assert as_read_back(pd.DataFrame({"id": [1.5]})) is None    # a number in a text column
