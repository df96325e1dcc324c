"""The data contract through the real CLI: bad inputs exit 2 with file/row/column/rule."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from optimizer.errors import InputError, ValidationErrors
from optimizer.validation import read_enterprises
from tests.conftest import SMALL_ENTERPRISES, scenario_text

HEADER, *ROWS = SMALL_ENTERPRISES.splitlines()


def table(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def replace_row(index: int, field: str, value: str) -> str:
    names = HEADER.split(",")
    rows = [r.split(",") for r in ROWS]
    rows[index][names.index(field)] = value
    return table(*(",".join(r) for r in rows))


# (case id, enterprises.csv content (str or bytes), expected fragments of the message)
TABLE_CASES = [
    ("duplicate-id", table(ROWS[0], ROWS[0].replace("甲", "庚")), ["row 3", "'id'", "duplicate id"]),
    ("duplicate-id-whitespace", table(ROWS[0], " E01 " + ROWS[1][3:]), ["row 3", "duplicate id"]),
    ("duplicate-id-fullwidth", table(ROWS[0], "Ｅ０１" + ROWS[1][3:]), ["row 3", "duplicate id"]),
    ("negative-land", replace_row(1, "land_mu", "-5"), ["row 3", "'land_mu'", "≥ 0"]),
    ("zero-land", replace_row(2, "land_mu", "0"), ["row 4", "'land_mu'", "> 0"]),
    ("text-in-number", replace_row(0, "tax", "abc"), ["row 2", "'tax'", "not a number"]),
    ("nan-text", replace_row(0, "energy_tce", "NaN"), ["row 2", "'energy_tce'", "not a number"]),
    ("infinite", replace_row(3, "revenue", "inf"), ["row 5", "'revenue'", "finite"]),
    ("absurd-land", replace_row(0, "land_mu", "1000000000"), ["row 2", "'land_mu'", "implausible"]),
    ("bad-boolean", replace_row(4, "above_scale", "maybe"), ["row 6", "'above_scale'", "yes/no"]),
    ("empty-required", replace_row(1, "name", ""), ["row 3", "'name'", "required value"]),
    ("missing-column", table(*[",".join(r.split(",")[:1] + r.split(",")[2:]) for r in ROWS],
                             header=",".join(HEADER.split(",")[:1] + HEADER.split(",")[2:])),
     ["row 1", "'name'", "required column"]),
    ("misspelt-header", table(*ROWS, header=HEADER.replace("land_mu", "land_mus")),
     ["'land_mu'", "did you mean", "land_mus"]),
    ("empty-file", "", ["empty"]),
    ("header-only", table(), ["no data rows", "row 2"]),
    ("wrong-encoding", b"id,name\n\xff\xfe\xff,x\n", ["cannot decode", "GBK"]),
    ("several-errors", table(ROWS[0].replace(",30,", ",-1,"), ROWS[1].replace(",500,", ",x,")),
     ["2 error(s)", "row 2", "row 3"]),
]


def write_case(folder: Path, content, scenario: str | None = None) -> Path:
    path = folder / "enterprises.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    (folder / "scenario.toml").write_text(scenario or scenario_text(), encoding="utf-8")
    return folder / "scenario.toml"


@pytest.mark.parametrize("content, fragments", [c[1:] for c in TABLE_CASES],
                         ids=[c[0] for c in TABLE_CASES])
def test_bad_enterprise_table_exits_2_with_context(tmp_path, cli, content, fragments):
    scenario = write_case(tmp_path, content)
    before = (tmp_path / "enterprises.csv").read_bytes()
    code, out, err = cli("validate", scenario)
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    assert "enterprises.csv" in err
    for fragment in fragments:
        assert fragment in err
    assert (tmp_path / "enterprises.csv").read_bytes() == before


SCENARIO_CASES = [
    ("unknown-key", "[projects]\nfdi_wieght = 1.5\n", ["fdi_wieght", "did you mean `fdi_weight`"]),
    ("unknown-top-key", "[capps.global]\nenergy_tce = { factor = 1.0 }\n", ["capps", "`caps`"]),
    ("wrong-type", None, ["scenario.resources"]),
    ("sweep-unknown-key", "[sweep]\nkey = \"caps.global.energy_tce.factr\"\nvalues = [0.9]\n",
     ["factr", "did you mean `factor`"]),
    ("variant-unknown-key", "[[variants]]\nname = \"v1\"\nset = { \"tiers.Q.scale\" = [1, 2] }\n",
     ["tiers.Q.scale"]),
    ("cap-factor-and-absolute", "[caps.zone]\nenergy_tce = { factor = 1.0, absolute = 5.0 }\n",
     ["exactly one"]),
    ("toml-syntax", "[caps.global\n", ["not valid TOML"]),
    ("unknown-resource", None, ["water_t"]),
]


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_exits_2_naming_the_key(tmp_path, cli, case):
    name, extra, fragments = case
    text = scenario_text()
    if name == "wrong-type":
        text = text.replace('resources = ["land_mu", "energy_tce", "cod_t"]', 'resources = "land_mu"')
    elif name == "unknown-resource":
        text = text.replace('"cod_t"]', '"water_t"]')
    else:
        text += extra
    scenario = write_case(tmp_path, SMALL_ENTERPRISES, text)
    code, _, err = cli("validate", scenario)
    assert code == 2, err
    assert "scenario.toml" in err and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_absent_and_directory_paths(tmp_path, cli):
    scenario = write_case(tmp_path, SMALL_ENTERPRISES,
                          scenario_text(enterprises="missing.csv"))
    code, _, err = cli("validate", scenario)
    assert code == 2 and "not found" in err and "missing.csv" in err
    (tmp_path / "adir").mkdir()
    scenario.write_text(scenario_text(enterprises="adir"), encoding="utf-8")
    code, _, err = cli("validate", scenario)
    assert code == 2 and "directory" in err
    code, _, err = cli("validate", tmp_path / "nope.toml")
    assert code == 2 and "not found" in err


def test_circular_extends(tmp_path, cli):
    write_case(tmp_path, SMALL_ENTERPRISES)
    (tmp_path / "a.toml").write_text(scenario_text().replace('name = "small"',
                                     'name = "a"\nextends = "b.toml"'), encoding="utf-8")
    (tmp_path / "b.toml").write_text('[scenario]\nextends = "a.toml"\n', encoding="utf-8")
    code, _, err = cli("validate", tmp_path / "a.toml")
    assert code == 2 and "circular" in err


def test_zone_absent_from_layer(tmp_path, cli, small_zones):
    content = replace_row(2, "zone_id", "Z9")
    scenario = write_case(tmp_path, content, scenario_text(zones=True))
    code, _, err = cli("validate", scenario)
    assert code == 2
    assert "row 4" in err and "'Z9'" in err and "zones" in err


def test_gbk_csv_with_chinese_headers(tmp_path):
    chinese = ("统一社会信用代码,企业名称,开发区代码,区县,是否规上,用地面积（亩）,实缴税金(万元),"
               "工业增加值(万元),综合能耗(吨标煤),是否外资\n"
               "91331003MA2A000001,台州市黄岩甲模具有限公司,Z1,黄岩区,是,12.5,300,1500,400,否\n"
               "91331003MA2A000002,台州市黄岩乙塑料有限公司,Z1,黄岩区,否,4,20,150,90,是\n")
    path = tmp_path / "gbk.csv"
    path.write_bytes(chinese.encode("gbk"))
    frame = read_enterprises(path)
    assert frame.attrs["encoding"] == "gb18030"
    assert list(frame["name"]) == ["台州市黄岩甲模具有限公司", "台州市黄岩乙塑料有限公司"]
    assert list(frame["above_scale"]) == [True, False]
    assert list(frame["fdi"]) == [False, True]
    assert frame["land_mu"].tolist() == [12.5, 4.0]


def test_utf8_bom_is_detected(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + SMALL_ENTERPRISES.encode("utf-8"))
    frame = read_enterprises(path)
    assert frame.attrs["encoding"] == "utf-8-sig"
    assert frame["id"].iloc[0] == "E01"


def test_xlsx_and_missing_sheet(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业"
    for line in SMALL_ENTERPRISES.splitlines():
        sheet.append([float(v) if v.replace(".", "").isdigit() and i > 5 else v
                      for i, v in enumerate(line.split(","))])
    path = tmp_path / "e.xlsx"
    book.save(path)
    frame = read_enterprises(path, sheet="企业")
    assert len(frame) == 6 and frame.loc[0, "land_mu"] == 30.0
    assert frame.attrs["encoding"] == "xlsx"
    with pytest.raises(InputError, match="sheet 'nope' not found"):
        read_enterprises(path, sheet="nope")


def test_geopackage_with_parcels(tmp_path):
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import box

    frame = pd.read_csv(pd.io.common.StringIO(SMALL_ENTERPRISES), dtype=str, keep_default_na=False)
    geoms = [box(500000 + 100 * i, 3170000, 500000 + 100 * i + 50, 3170050) for i in range(6)]
    gdf = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4549")
    gdf["land_mu"] = gdf["land_mu"].astype(float)
    path = tmp_path / "e.gpkg"
    gdf.to_file(path, layer="enterprises", engine="pyogrio")
    out = read_enterprises(path)
    assert hasattr(out, "geometry") and out.crs.to_epsg() == 4549
    assert out["land_mu"].tolist() == [30.0, 50.0, 20.0, 8.0, 40.0, 25.0]
    assert out["source_row"].tolist() == [2, 3, 4, 5, 6, 7]


def test_errors_are_collected_up_to_the_limit(tmp_path):
    rows = [f"X{i},n,Z1,,,true,-1,1,1,1,1,1,1,1,0,0,0,0,false," for i in range(80)]
    path = tmp_path / "many.csv"
    path.write_text(table(*rows), encoding="utf-8")
    with pytest.raises(ValidationErrors) as info:
        read_enterprises(path)
    assert len(info.value.errors) == 50 and info.value.dropped == 30
    assert "80 error(s)" in info.value.render()


NUMBER_CELLS = ["12.5", " 7 ", "", " ", "1,000", "１２", "１,２００.５", "\u300012\u3000", "abc",
                "nan", "inf", "-inf", "1e309", "-0", "0x10", "1e-320", "9" * 40, "-3", "0",
                "1e13", "1_000", "+4", ".5", "5.", "是"]


def test_number_cells_parse_as_the_full_clean_up_would():
    """Cells that parse as typed skip the clean-up (speed); values and messages must be
    exactly those of cleaning every cell first (NFKC, strip, drop thousands commas)."""
    import numpy as np
    import pandas as pd

    from optimizer import validation as v
    from optimizer.errors import ErrorCollector
    from optimizer.schema import ENTERPRISE_COLUMNS

    def reference(raw, col, rows):
        errors = ErrorCollector(limit=1000)
        text = v.normalise_text(raw.fillna(""))
        empty = (text == "").to_numpy()
        if col.required and empty.any():
            v._report(errors, empty, rows, Path("e.csv"), col.name, "required value is empty",
                      "required value")
        values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        return values.to_numpy(float), empty, errors

    cells = NUMBER_CELLS * 3 + [str(x) for x in np.random.default_rng(3).normal(size=50)]
    raw = pd.Series(cells, dtype=str)
    rows = np.arange(len(raw)) + 2
    for col in (c for c in ENTERPRISE_COLUMNS if c.kind == "float"):
        values, empty, _ = reference(raw, col, rows)
        errors = ErrorCollector(limit=1000)
        got = v.coerce_column(raw, col, col.name, rows, Path("e.csv"), errors).to_numpy()
        expected = np.where(empty, np.nan if col.default is None else float(col.default), values)
        expected[~np.isfinite(expected)] = np.nan
        np.testing.assert_array_equal(got, expected)
        messages = [str(e) for e in errors.errors]
        assert any("'abc'" in m and "not a number" in m for m in messages)
        assert any("'1e309'" in m and "not a finite number" in m for m in messages)
        if col.min_value is not None and col.min_value >= 0:
            assert any("'-3'" in m and "must be ≥" in m for m in messages)
        assert all("'\u3000" not in m and "' 7 '" not in m for m in messages)
        if col.required:
            assert sum("required value is empty" in m for m in messages) == 2 * 3


@pytest.mark.parametrize("column", ["land_mu", "tax", "rd_expense"])
def test_numbers_parsed_by_the_csv_reader_give_what_the_text_gives(tmp_path, monkeypatch, column):
    """The CSV reader parses numeric columns itself (speed); for every awkward cell the
    frame, or the message, must be exactly that of reading the table as text."""
    from optimizer.io import tables

    def outcome(path, text_only: bool):
        with monkeypatch.context() as m:
            if text_only:
                m.setattr(tables, "_read_numbers", lambda *args: None)
            try:
                return read_enterprises(path)
            except (InputError, ValidationErrors) as exc:
                return exc.render()

    for k, cell in enumerate(NUMBER_CELLS + ["1e5", "0.1e1", "00012", '"3"', "Infinity"]):
        path = tmp_path / f"e{k}.csv"
        path.write_text(replace_row(1, column, cell), encoding="utf-8")
        fast, text = outcome(path, False), outcome(path, True)
        if isinstance(text, str):
            assert fast == text, cell
        else:
            assert not isinstance(fast, str), cell
            pd_testing().assert_frame_equal(fast, text)
            assert fast.attrs == text.attrs


def test_clean_numeric_columns_are_parsed_by_the_reader(tmp_path):
    from optimizer.io.tables import read_raw_table
    from optimizer.schema import ENTERPRISE_COLUMNS
    from optimizer.validation import numeric_headers

    path = tmp_path / "e.csv"
    path.write_text(table(*ROWS).replace("land_mu", "用地面积（亩）", 1), encoding="utf-8")
    raw = read_raw_table(path, what="enterprise",
                         numbers=lambda header: numeric_headers(header, ENTERPRISE_COLUMNS))
    float_columns = {c for c in raw.columns if raw[c].dtype.kind == "f"}
    assert {"用地面积（亩）", "tax", "value_added"} <= float_columns
    assert not float_columns & {"id", "name", "zone_id", "above_scale"}


AWKWARD_TEXTS = ["plain", " lead", "trail ", "\u3000全角空格\u3000", "（中国）有限公司", "ＡＢＣ１２",
                 "e\u0301", "\u0301", "\xa0nbsp", "x\x1c", "\x1cx", "a\x00b", "", "  ", "tab\t",
                 "\u203e", "ﬁ", "한국", "①"]


@pytest.mark.parametrize("cells", [["plain", "text"], ["中文", "名称"], AWKWARD_TEXTS,
                                   *[[c, "ok"] for c in AWKWARD_TEXTS]])
def test_normalised_text_equals_the_cell_by_cell_clean_up(cells):
    import unicodedata

    import pandas as pd

    from optimizer.validation import normalise_text

    index = pd.RangeIndex(10, 10 + len(cells))
    got = normalise_text(pd.Series(cells, dtype=str, index=index))
    pd.testing.assert_series_equal(got, pd.Series(
        [unicodedata.normalize("NFKC", c).strip() for c in cells], dtype=str, index=index))


def pd_testing():
    import pandas.testing

    return pandas.testing


HEAD_CASES = [b"a,b\n1,2\n3,4\n", b"\n\n\n\n\na,b\n1,2\n",
              b"sep=;\r\na;b\r\n1;2\r\n" + b"x;y\r\n" * 500,
              b"\r\n" * 700 + b"id,name\n" + "甲,乙\n".encode() * 400,
              b"a,b\r1,2\r3,4\r" * 300, b"id\n" + b"x" * 2000 + b"\n1\n2\n", b"id,name\n"]


@pytest.mark.parametrize("raw", HEAD_CASES)
def test_the_head_of_a_utf8_file_gives_the_same_first_lines(raw):
    """The CSV reader finds header and "sep=" hint in a prefix of a UTF-8 file (it
    is not decoded twice): the same first two lines as in the whole text, wherever
    the prefix is cut (tiny prefix sizes force every path)."""
    import re

    from optimizer.io.tables import _head

    def first_two(text):
        return (re.split(r"\r\n|\r|\n", text.lstrip("\r\n"), maxsplit=2) + ["", ""])[:2]

    for size in (1, 7, 64, 1 << 16):
        assert first_two(_head(raw, size=size)) == first_two(raw.decode("utf-8"))
