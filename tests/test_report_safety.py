"""Hostile text helpers: formula neutralisation, CSV line breaks, HTML and JSON escaping."""

import io
import json

import pandas as pd
import pytest

from optimizer.report.safety import (csv_safe, html_text, neutralise_formula, neutralise_frame,
                                     script_json)

HOSTILE = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_starts_get_an_apostrophe(text):
    assert neutralise_formula(text) == "'" + text


@pytest.mark.parametrize("text", ["黄岩模具厂", "a=b", "", "'=already", "1+1"])
def test_plain_text_is_unchanged(text):
    assert neutralise_formula(text) == text


def test_frame_neutralises_text_columns_only():
    frame = pd.DataFrame({"name": ["=1", "ok", "-x"], "value": [-1.0, 2.0, -3.0]})
    out = neutralise_frame(frame)
    assert out["name"].tolist() == ["'=1", "ok", "'-x"]
    assert out["value"].tolist() == [-1.0, 2.0, -3.0]
    assert frame["name"].tolist() == ["=1", "ok", "-x"]      # input untouched


def test_frame_copy_leaves_the_callers_frame_alone():
    """Shallow copy, changed columns replaced: the input keeps its cells, missing text
    stays missing, and columns are found by position (a name may repeat)."""
    frame = pd.DataFrame([["=x", 1.0, "@y"], [None, 2.0, "ok"], ["fine", 3.0, "-z"]])
    frame.columns = ["name", "value", "name"]
    before = frame.copy(deep=True)
    out = neutralise_frame(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert out.iloc[:, 0].tolist()[0] == "'=x" and pd.isna(out.iloc[1, 0])
    assert out.iloc[:, 2].tolist() == ["'@y", "ok", "'-z"]
    assert out.iloc[:, 1].tolist() == [1.0, 2.0, 3.0]


def test_csv_safe_keeps_a_carriage_return_inside_its_cell():
    frame = pd.DataFrame({"id": ["E1", "E2"], "name": ["\rx", "a\r\nb"], "v": [1.0, 2.0]})
    text = csv_safe(frame).to_csv(index=False, lineterminator="\n")
    back = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert back["id"].tolist() == ["E1", "E2"]                # no row split at the CR
    assert back["name"].tolist() == ["'\nx", "a\nb"]


def test_html_text_escapes_markup_and_slashes():
    out = str(html_text('<script>alert(1)</script> http://x "q" \'s\''))
    assert "<" not in out and ">" not in out and '"' not in out
    assert "http://" not in out and "&#47;" in out


def test_script_json_cannot_close_its_script_element():
    data = {"name": "</script><script>alert(1)</script>", "x": float("nan"), "u": "\u2028&"}
    text = str(script_json(data))
    assert "</" not in text and "<" not in text and "&" not in text
    assert json.loads(text) == {"name": data["name"], "x": None, "u": "\u2028&"}


def test_lookup_columns_are_json_ready_without_a_scan():
    import json as _json

    import numpy as _np
    import pandas as _pd

    from optimizer.report import lookup
    from optimizer.report.safety import JsonReady, script_json
    numbers = lookup._numbers(_pd.Series([1.23456, _np.nan, _np.inf, -_np.inf, "x", 2]))
    assert isinstance(numbers, JsonReady) and numbers == [1.2346, None, None, None, None, 2.0]
    texts = lookup._texts(_pd.Series(["</script>", None]))
    assert isinstance(texts, JsonReady)
    text = str(script_json({"a": numbers, "b": texts}))
    assert "</script>" not in text and _json.loads(text) == {"a": numbers, "b": ["</script>", ""]}


def test_script_json_reads_back_as_the_data_json_would_write():
    """orjson inside script_json: the same values as json.dumps of the cleaned data,
    for numpy scalars, tuples, str subclasses, non-str keys and awkward floats."""
    import numpy as _np
    from markupsafe import Markup

    from optimizer.report.safety import JsonReady, _json_clean

    data = {"f": [0.1, 1e-5, 1e16, -0.0, 5e-324, 1.7976931348623157e308, _np.float64(2.5)],
            "i": [_np.int64(7), 2 ** 62, -3], "b": [True, _np.bool_(False), None],
            "t": ("a", Markup("<b>"), "中文 \u2029"), 3: {"nested": [float("inf"), 1]},
            "ready": JsonReady([1.5, None, "x"])}
    expected = json.loads(json.dumps(_json_clean(data), ensure_ascii=False))
    assert json.loads(str(script_json(data))) == expected
