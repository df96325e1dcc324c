"""Grades: quantile cuts and ties, one-firm groups, veto, new firms, planner-fixed, Linhai."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation_cases import enterprises, scored, tax_model
from optimizer.errors import MujunError
from optimizer.evaluation import grade_enterprises, load_model

MODELS = Path(__file__).resolve().parents[1] / "models"
ORDER = {"A": 0, "B": 1, "C": 2, "D": 3}


def grades_of(scores, model=None, **extra) -> list[str]:
    rows = scored(scores)
    for i, changes in extra.items():
        rows[int(i[1:])].update(changes)
    out = grade_enterprises(enterprises(rows), model or tax_model())
    return list(out["grade"])


def test_quantile_cuts_round_half_up():
    # n = 5, shares 20/55/20/5: cuts round(1.0)=1, round(3.75)=4, round(4.75)=5 → no D.
    assert grades_of([100, 90, 80, 70, 60]) == ["A", "B", "B", "B", "C"]
    # n = 20: cuts 4, 15, 19 → exactly 4 A, 11 B, 4 C, 1 D.
    assert grades_of(list(range(20, 0, -1))) == ["A"] * 4 + ["B"] * 11 + ["C"] * 4 + ["D"]


def test_ties_at_a_boundary_share_the_better_grade():
    # Two firms tie for the single A place: both have 0 strictly better scores → both A.
    assert grades_of([100, 100, 90, 80, 70]) == ["A", "A", "B", "B", "C"]
    # A tie across the B/C cut (better = 3 < 4): both B.
    assert grades_of([100, 90, 80, 70, 70]) == ["A", "B", "B", "B", "B"]
    # n = 20 with the last two tied at the C/D cut (better = 18 < 19): both C, no D.
    assert grades_of(list(range(20, 2, -1)) + [1, 1])[-3:] == ["C", "C", "C"]


def test_scores_equal_to_the_reported_precision_tie():
    out = grade_enterprises(enterprises(scored([0.3, 0.3 + 1e-11, 0.2, 0.1, 0.05])), tax_model())
    assert list(out["rank_in_group"]) == [1, 1, 3, 4, 5]
    assert list(out["grade"][:2]) == ["A", "A"]


def test_one_firm_group_is_b():
    rows = scored([5.0]) + scored([1, 2, 3, 4, 5], county="C2", prefix="F")
    out = grade_enterprises(enterprises(rows), tax_model()).set_index("id")
    assert (out.loc["E00", "grade"], out.loc["E00", "rank_in_group"]) == ("B", 1)
    assert out.loc["E00", "group"] == "C1/above_scale"
    assert list(out.loc[["F04", "F00"], "grade"]) == ["A", "C"]


def test_threshold_rule():
    model = tax_model(method="threshold", thresholds={"A": 1.1, "B": 0.9, "C": 0.6})
    assert grades_of([1.2, 1.1, 0.95, 0.6, 0.59], model) == ["A", "A", "B", "C", "D"]


def test_veto_bars_a_and_b_without_promoting_others():
    rows = scored([100, 90, 80, 70, 60])
    rows[0]["veto"] = "安全生产事故"
    rows[3]["veto"] = "环境污染事故"
    out = grade_enterprises(enterprises(rows), tax_model())
    assert list(out["grade"]) == ["C", "B", "B", "C", "C"]
    assert out["reason"][0] == "veto: 安全生产事故 (A → C)"
    assert out["reason"][3] == "veto: 环境污染事故 (B → C)"
    assert list(out["rank_in_group"]) == [1, 2, 3, 4, 5]


def test_vetoed_ungraded_firm_is_not_handled_as_b():
    rows = scored([100, 90]) + [dict(id="T", land_mu=1.0, tax=10.0, veto="安全生产事故")]
    out = grade_enterprises(enterprises(rows), tax_model(min_land_mu=3.0)).set_index("id")
    assert out.loc["T", "grade"] == "C"
    assert out.loc["T", "reason"] == "below 3 mu: ungraded; veto: 安全生产事故 (U → C)"


def test_new_firm_is_protected_from_d():
    rows = scored(list(range(20, 0, -1)))
    rows[19]["new_firm"] = True
    out = grade_enterprises(enterprises(rows), tax_model())
    assert (out["grade"][19], out["reason"][19]) == ("C", "new firm: protected from D")
    assert (out["grade"] == "D").sum() == 0


def test_planner_fixed_grade_wins_over_score_and_veto():
    rows = scored([100, 90, 80, 70, 60])
    rows[0]["grade"] = "d"
    rows[1].update(grade="A", veto="安全生产事故")
    rows[2]["grade"] = "B"
    out = grade_enterprises(enterprises(rows), tax_model())
    assert list(out["grade"][:3]) == ["D", "A", "B"]
    assert out["reason"][0] == "fixed by planner (computed A)"
    assert out["reason"][1] == "veto: 安全生产事故 (B → C); fixed by planner (computed C)"
    assert out["reason"][2] == "fixed by planner"


def test_invalid_fixed_grades_are_reported_together():
    rows = scored([1, 2, 3])
    rows[0]["grade"] = "E"
    rows[2]["grade"] = "优"
    with pytest.raises(MujunError) as info:
        grade_enterprises(enterprises(rows), tax_model())
    text = info.value.render()
    assert "2 error(s)" in text and "row 2, column 'grade'" in text and "row 4" in text


LINHAI_ROWS = [
    dict(id="S1", land_mu=2.0, tax=30, revenue=600, electricity_10k_kwh=100, above_scale=False),
    dict(id="S2", land_mu=2.5, tax=25, revenue=500, electricity_10k_kwh=50, above_scale=False),
    # ≥ 3 mu, 规下: Linhai scores it on the six-item set. Every item at its benchmark.
    dict(id="L1", land_mu=10, tax=150, revenue=3000, value_added=600, energy_tce=200, cod_t=1.2,
         employees=40, above_scale=False),
    dict(id="L2", land_mu=10, tax=300, revenue=3000, value_added=600, energy_tce=200, cod_t=1.2,
         employees=40),
]


def test_linhai_small_firms_use_their_own_set():
    out = grade_enterprises(enterprises(LINHAI_ROWS), load_model(MODELS / "linhai-2016.toml"))
    out = out.set_index("id")
    # 单位电耗税收 benchmark = mean of the small firms' 0.3 and 0.5 = 0.4.
    assert out.loc["S1", "tax_per_electricity_benchmark"] == pytest.approx(0.4)
    assert out.loc["S1", "score"] == pytest.approx(50 * 15 / 15 + 20 * 300 / 300 + 30 * 0.3 / 0.4)
    assert out.loc["S2", "score"] == pytest.approx(50 * 10 / 15 + 20 * 200 / 300 + 30 * 0.5 / 0.4)
    assert set(out.loc[["S1", "S2"], "group"]) == {"C1/small"}
    # Two firms, shares 25/55/15/5: cuts round(0.5)=1 (half up), round(1.6)=2.
    assert list(out.loc[["S1", "S2"], "grade"]) == ["A", "B"]
    assert pd.isna(out.loc["S1", "va_per_energy_points"])


def test_linhai_without_water_column_renormalises_95_to_100():
    out = grade_enterprises(enterprises(LINHAI_ROWS), load_model(MODELS / "linhai-2016.toml"))
    out = out.set_index("id")
    assert out.loc["L1", "group"] == "C1/above_scale"
    assert out.loc["L1", "score"] == pytest.approx(100.0)
    assert out.loc["L1", "tax_per_mu_points"] == pytest.approx(40 * 100 / 95)
    assert out.loc["L2", "score"] == pytest.approx((80 + 10 + 20 + 15 + 10) * 100 / 95)
    assert out.loc["L1", "reason"] == ""                 # said once for the table instead
    out = grade_enterprises(enterprises(LINHAI_ROWS), load_model(MODELS / "linhai-2016.toml"))
    assert out.attrs["notes"] == ["column water_t not in the enterprise table: 单位用水增加值 "
                                  "follows its missing-data rule (exclude) for every firm"]


def test_linhai_water_column_scores_when_present():
    frame = enterprises(LINHAI_ROWS)
    frame["water_t"] = pd.Series(["", "", "6000", ""], dtype="str")   # as read: extra columns are text
    out = grade_enterprises(frame, load_model(MODELS / "linhai-2016.toml")).set_index("id")
    assert out.loc["L1", "va_per_water_points"] == pytest.approx(5.0)
    assert out.loc["L1", "score"] == pytest.approx(100.0)
    assert out.loc["L1", "reason"] == ""
    assert out.loc["L2", "score"] == pytest.approx(135 * 100 / 95)
    assert out.loc["L2", "reason"] == "missing 单位用水增加值 data: item excluded, weights renormalised"


@st.composite
def grading_cases(draw):
    n = draw(st.integers(1, 40))
    parts = draw(st.lists(st.integers(0, 10), min_size=4, max_size=4).filter(lambda p: sum(p) > 0))
    shares = dict(zip("ABCD", (p / sum(parts) for p in parts)))
    rows = [dict(id=f"R{i:03d}", county=draw(st.sampled_from(["C1", "C2", "C3"])),
                 land_mu=draw(st.sampled_from([3.0, 7.0, 10.0, 40.0])),
                 tax=draw(st.sampled_from([0.0, 7.0, 21.0, 30.0, 70.0, 123.4])))
            for i in range(n)]
    return rows, shares


@settings(max_examples=80, deadline=None)
@given(grading_cases())
def test_higher_score_never_gets_a_worse_grade(case):
    rows, shares = case
    out = grade_enterprises(enterprises(rows), tax_model(shares=shares))
    for _, group in out.groupby("group"):
        score = group["score"].round(6).to_numpy()
        order = group["grade"].map(ORDER).to_numpy()
        better = score[:, None] > score[None, :]
        assert not (better & (order[:, None] > order[None, :])).any()
        same = score[:, None] == score[None, :]
        assert not (same & (order[:, None] != order[None, :])).any()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_property_holds_for_shipped_model(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    rows = [dict(id=f"R{i:03d}", county=str(rng.choice(["C1", "C2"])),
                 above_scale=bool(rng.random() < 0.7), land_mu=float(rng.choice([3, 10, 30])),
                 tax=float(rng.choice([0, 50, 200])), value_added=float(rng.choice([-10, 500, 900])),
                 energy_tce=float(rng.choice([0, 100])), employees=float(rng.choice([10, 40])),
                 revenue=1000.0, rd_expense=float(rng.choice([0, 30])),
                 cod_t=float(rng.choice([np.nan, 0.5])), electricity_10k_kwh=100.0)
            for i in range(n)]
    out = grade_enterprises(enterprises(rows), load_model(MODELS / "zhejiang-generic.toml"))
    for _, group in out[out["grade"] != "U"].groupby("group"):
        score = group["score"].round(6).to_numpy()
        order = group["grade"].map(ORDER).to_numpy()
        assert not ((score[:, None] > score[None, :]) & (order[:, None] > order[None, :])).any()


@pytest.mark.parametrize("group_by, groups", [("none", {"all/above_scale"}),
                                              ("zone", {"Z1/above_scale", "Z2/above_scale"}),
                                              ("county", {"C1/above_scale", "C2/above_scale"})])
def test_grading_groups(group_by, groups):
    rows = scored([4, 3, 2, 1, 0.5]) + scored([40, 30], county="C2", prefix="F")
    for row in rows[5:]:
        row["zone_id"] = "Z2"
    out = grade_enterprises(enterprises(rows), tax_model(group_by=group_by)).set_index("id")
    assert set(out["group"]) == groups
    # E00 is best of C1/Z1 but only third of everyone.
    assert out.loc["E00", "rank_in_group"] == (3 if group_by == "none" else 1)


def test_row_order_does_not_change_the_output():
    frame = enterprises(LINHAI_ROWS + scored([3, 1, 2, 2], prefix="X"))
    model = load_model(MODELS / "zhejiang-generic.toml")
    first = grade_enterprises(frame, model).to_csv(index=False, float_format="%.6f")
    shuffled = frame.iloc[::-1].set_index(np.arange(len(frame)) * 7)
    assert grade_enterprises(shuffled, model).to_csv(index=False, float_format="%.6f") == first


def test_grades_joined_by_position_equal_the_validated_merge():
    """pipeline._with_grades (by position) against pandas' one-to-one left merge: same
    frame, order, dtypes and attrs; a missing or repeated id goes to the merge itself."""
    import pandas as pd
    import pytest

    from optimizer.pipeline import _with_grades

    ents = pd.DataFrame({"id": ["E3", "E1", "E2", "E4"], "grade": ["", "A", "", ""],
                         "land_mu": [1.0, 2.0, 3.0, 4.0]}, index=[7, 8, 9, 10])
    ents.attrs["source"] = "e.csv"
    grades = pd.DataFrame({"id": ["E1", "E2", "E3", "E4"], "grade": ["A", "B", "C", "D"],
                           "score": [90.0, 80.0, 70.0, 60.0]})

    def merge(left, right):
        return left.drop(columns=["grade"]).merge(right[["id", "grade", "score"]], on="id",
                                                  how="left", validate="one_to_one")

    for right in (grades, grades.iloc[::-1], grades.iloc[:2]):
        got = _with_grades(ents, right)
        pd.testing.assert_frame_equal(got, merge(ents, right))
        assert got.attrs == merge(ents, right).attrs
    with pytest.raises(pd.errors.MergeError):
        _with_grades(ents, pd.concat([grades, grades.iloc[:1]]))


def test_text_columns_are_stripped_like_str_strip():
    """grading._str_column strips with np.strings (one C loop): the same as str.strip for
    ASCII, full-width and Unicode spaces, control separators and missing cells."""
    import pandas as pd

    from optimizer.evaluation.grading import _str_column

    cells = [" a ", "\u3000b\u3000", "\xa0c", "d\x1c", "\u2028e", "\u200bf", "", None, "  ", "中 文 "]
    frame = pd.DataFrame({"veto": cells})
    got = [str(v) for v in _str_column(frame, "veto")]
    assert got == [("" if v is None else v).strip() for v in cells]
    assert [str(v) for v in _str_column(frame, "absent")] == [""] * len(cells)
