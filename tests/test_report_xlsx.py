"""report.xlsx: sheets, frozen headers, filters, bilingual headers, no formula from input."""

import openpyxl
import pytest

from optimizer.report.comparison import write_comparison
from optimizer.report.testing import HOSTILE_NAMES, write_fake_run
from optimizer.report.xlsx import SHEETS, number_format, write_xlsx

N = 30


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = tmp_path_factory.mktemp("xlsx")
    dirs, manifest = write_fake_run(root / "run", n=N, hostile=True)
    comparison = write_comparison(dirs, root / "comparison.csv")
    write_xlsx(root / "report.xlsx", dirs, manifest, comparison)
    return openpyxl.load_workbook(root / "report.xlsx")


def test_exactly_the_listed_sheets(book):
    assert book.sheetnames == list(SHEETS) == ["summary", "comparison", "zones", "enterprises",
                                               "grades", "tiers", "manifest"]


def test_every_sheet_has_frozen_header_and_a_filter(book):
    expected = {"summary": "B4", "comparison": "B2", "zones": "C2", "enterprises": "C3",
                "grades": "B2", "tiers": "C2", "manifest": "B2"}
    for name, pane in expected.items():
        assert book[name].freeze_panes == pane, name
        assert book[name].auto_filter.ref, name


def test_no_formula_cell_anywhere(book):
    formulas = [f"{ws.title}!{c.coordinate}" for ws in book for row in ws.iter_rows()
                for c in row if c.data_type == "f" or (isinstance(c.value, str)
                                                      and c.value.startswith("="))]
    assert formulas == []


def test_hostile_names_are_text_with_an_apostrophe(book):
    ws = book["enterprises"]
    names = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
             for r in range(3, ws.max_row + 1)}
    assert names["E000000"] == "'" + HOSTILE_NAMES[0]            # =HYPERLINK(...)
    assert names["E000001"] == "'+1" and names["E000002"] == "'-2"
    assert names["E000003"] == "'@SUM(A1)" and names["E000004"] == "'\tx"
    assert names["E000006"] == "<script>alert(1)</script>"        # harmless in a cell
    assert all(ws.cell(row=r, column=2).data_type == "s" for r in range(3, ws.max_row + 1))


def test_enterprises_sheet_is_wide_one_row_per_enterprise(book):
    ws = book["enterprises"]
    assert ws.max_row == 2 + N
    top = [c.value for c in ws[1]]
    heads = [c.value for c in ws[2]]
    assert heads[:2] == ["编号 / id", "名称 / name"]
    assert "用地·配置后(亩) / land_mu_after" in heads
    assert heads.count("用地·配置后(亩) / land_mu_after") == 3       # one block per variant
    assert [v for v in top if v and v.startswith("方案 variant")] == [
        "方案 variant: base", "方案 variant: strict-D", "方案 variant: energy-0.95"]
    ids = [ws.cell(row=r, column=1).value for r in range(3, ws.max_row + 1)]
    assert ids == sorted(ids)


def test_numbers_are_numbers_with_formats(book):
    ws = book["enterprises"]
    heads = [c.value for c in ws[2]]
    col = heads.index("用地·变化(%) / land_mu_change_pct") + 1
    cell = ws.cell(row=3, column=col)
    assert isinstance(cell.value, (int, float)) and cell.data_type == "n"
    assert cell.number_format == "0.0"
    assert number_format("shadow_price") == "#,##0.0000"


def test_summary_has_kpis_per_variant_and_boundaries(book):
    ws = book["summary"]
    assert [c.value for c in ws[3]][:4] == ["指标 / KPI", "base", "strict-D", "energy-0.95"]
    labels = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert "增加值·配置后(万元) / value_added_after" in labels
    assert "custom_extra_kpi" in labels                              # unknown KPI still shown
    assert any(str(v).startswith("四至与核准面积核查") for v in labels if v)


def test_manifest_is_flattened(book):
    rows = {r[0].value: r[1].value for r in book["manifest"].iter_rows(min_row=2)}
    assert rows["inputs.enterprises.csv.sha256"] == "ab" * 32
    assert rows["versions.ortools"] == "9.15"


def test_rows_beyond_excel_limit_are_cut_with_a_note(tmp_path, monkeypatch):
    import optimizer.report.xlsx as xlsx

    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 12)
    dirs, manifest = write_fake_run(tmp_path / "run", n=25)
    comparison = write_comparison(dirs, tmp_path / "c.csv")
    write_xlsx(tmp_path / "r.xlsx", dirs, manifest, comparison)
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["grades"]
    assert ws.max_row == 12
    assert ws.cell(row=12, column=1).value.startswith("… 15 more rows")


def test_projects_are_one_row_each_with_share_per_variant(book):
    ws = book["summary"]
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "候选项目 / candidate projects")
    head = rows[start + 1]
    assert head[:2] == ("编号 / id", "名称 / name")
    assert "准入比例 [strict-D] / admitted_share" in head
    body = [r for r in rows[start + 2:start + 6]]
    assert [r[0] for r in body] == ["P1", "P2", "P3", "P4"]
    assert body[1][1] == "'=cmd|' /C calc'!A0"                     # neutralised project name


def test_enterprises_sheet_names_the_variants_beyond_its_cell_budget(tmp_path, monkeypatch):
    """Row 1 says which variants the wide sheet leaves out (written before the header row:
    in constant_memory mode a cell above rows already written would be dropped)."""
    import optimizer.report.xlsx as xlsx
    monkeypatch.setattr(xlsx, "ENTERPRISE_CELL_BUDGET", 1)        # base block only
    dirs, manifest = write_fake_run(tmp_path / "run", n=5)
    comparison = write_comparison(dirs, tmp_path / "comparison.csv")
    write_xlsx(tmp_path / "report.xlsx", dirs, manifest, comparison)
    top = [c.value for c in openpyxl.load_workbook(tmp_path / "report.xlsx")["enterprises"][1]]
    notes = [v for v in top if v and "more variants not shown" in v]
    assert len(notes) == 1 and "strict-D, energy-0.95" in notes[0]
    assert [v for v in top if v and v.startswith("方案 variant")] == ["方案 variant: base"]


# ---------------------------------------------------------------- a body made ahead

def members(path) -> dict[str, bytes]:
    """Every zip member's uncompressed bytes (docProps/core.xml holds the write time)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None          # every member's CRC-32 checks out
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.fixture(scope="module")
def fake_run(tmp_path_factory):
    from optimizer.report.results import load_run

    root = tmp_path_factory.mktemp("ahead")
    dirs, manifest = write_fake_run(root / "run", n=2500, hostile=True)   # 3 chunks of rows
    comparison = write_comparison(dirs, root / "comparison.csv")
    return dirs, manifest, comparison, load_run


@pytest.mark.parametrize("how", ["copied", "asked for", "zipfile changed", "no isal"])
def test_a_grades_body_made_ahead_gives_the_same_workbook(fake_run, tmp_path, monkeypatch, how):
    """The early reader's child formats and compresses the grades rows (prerender_body);
    the workbook copies them in. Its content is that of a workbook formatted in one go,
    whether the rows are copied compressed or (zipfile not as expected, no ISA-L)
    inflated and written through zipfile."""
    import sys

    from optimizer.report import sheetdata, zipmember
    from optimizer.report.results import first_table
    from optimizer.report.xlsx import prerender_body, render_xlsx

    dirs, manifest, comparison, load_run = fake_run
    deflated, real_deflate = [], zipmember.fast_deflate
    monkeypatch.setattr(zipmember, "fast_deflate", lambda out: deflated.append(1)
                        or real_deflate(out))
    render_xlsx(tmp_path / "plain.xlsx", load_run(dirs), manifest, comparison)
    members_deflated = len(deflated)
    if how == "no isal":
        monkeypatch.setitem(sys.modules, "isal", None)          # import isal fails
    results = load_run(dirs)
    grades = first_table(results, "grades")
    made, asked = prerender_body(grades), []
    # "asked for": the workbook asks when its splice gets there, after the enterprises rows
    results[0].xlsx_bodies = {"grades": made if how != "asked for" else
                              lambda: asked.append(len(shapes)) or made}
    if how == "zipfile changed":
        monkeypatch.setattr(zipmember, "_ZLIB_PROBE", object())    # not the compressor found
    shapes, real = [], sheetdata.chunk_xml
    monkeypatch.setattr(sheetdata, "chunk_xml",
                        lambda body, start: shapes.append((body.n_rows, body.n_cols))
                        or real(body, start))
    render_xlsx(tmp_path / "ahead.xlsx", results, manifest, comparison)
    # the enterprises rows (another shape) were formatted here, the grades rows were not
    assert grades.shape not in shapes and any(rows == len(grades) for rows, _ in shapes)
    # copied: the grades member is not compressed here
    assert len(deflated) - members_deflated == members_deflated - (how in ("copied", "asked for"))
    if how == "asked for":
        assert len(asked) == 1 and asked[0] > 0
    assert members(tmp_path / "ahead.xlsx") == members(tmp_path / "plain.xlsx")


@pytest.mark.parametrize("how", ["one row short", "asked for, one row short", "none came"])
def test_a_body_made_for_another_table_is_not_used(fake_run, tmp_path, how):
    from optimizer.report.results import first_table
    from optimizer.report.xlsx import prerender_body, render_xlsx

    dirs, manifest, comparison, load_run = fake_run
    render_xlsx(tmp_path / "plain.xlsx", load_run(dirs), manifest, comparison)
    results = load_run(dirs)
    grades = first_table(results, "grades")
    short = prerender_body(grades.iloc[:-1])
    results[0].xlsx_bodies = {"grades": {"one row short": short,
                                         "asked for, one row short": lambda: short,
                                         "none came": lambda: None}[how]}
    render_xlsx(tmp_path / "other.xlsx", results, manifest, comparison)
    assert members(tmp_path / "other.xlsx") == members(tmp_path / "plain.xlsx")


def test_formats_have_fixed_style_numbers(tmp_path):
    """A body made without a workbook names its formats by the numbers the workbook gives
    them, whatever sheet uses a format first."""
    from optimizer.report.xlsx import STYLES, XF_INDEX, _Book, cell_style

    book = _Book(tmp_path / "b.xlsx")
    assert book.fixed and list(XF_INDEX.values()) == list(range(1, len(STYLES) + 1))
    assert book.num("0.0").xf_index == cell_style(False, "land_mu_change_pct").xf_index
    assert book.text.xf_index == cell_style(True, "name").xf_index
    book.wb.close()


def test_a_lone_runs_enterprise_rows_made_ahead_give_the_same_workbook(tmp_path, monkeypatch):
    """A lone run's enterprises rows are made by a child of the run while it writes its
    CSVs (pipeline.enterprise_rows_aside, from the allocation as read back): the
    workbook copies them; rows made for other variants are not used."""
    from optimizer.report import sheetdata
    from optimizer.report.results import load_run
    from optimizer.report.testing import DEFAULT_VARIANTS
    from optimizer.report.xlsx import enterprise_rows, render_xlsx

    dirs, manifest = write_fake_run(tmp_path / "run", n=2500, hostile=True,
                                    variants={"base": DEFAULT_VARIANTS["base"]})
    comparison = write_comparison(dirs, tmp_path / "comparison.csv")
    render_xlsx(tmp_path / "plain.xlsx", load_run(dirs), manifest, comparison)
    results = load_run(dirs)
    made = enterprise_rows(load_run(dirs))
    results[0].xlsx_bodies = {"enterprises": lambda: made}
    shapes, real = [], sheetdata.chunk_xml
    monkeypatch.setattr(sheetdata, "chunk_xml", lambda body, start:
                        shapes.append((body.n_rows, body.n_cols)) or real(body, start))
    render_xlsx(tmp_path / "ahead.xlsx", results, manifest, comparison)
    rows = (made.n_rows, made.n_cols)
    assert rows == (2500, 21) and rows not in shapes        # formatted ahead, not here
    assert members(tmp_path / "ahead.xlsx") == members(tmp_path / "plain.xlsx")
    with_others = load_run(write_fake_run(tmp_path / "three", n=2500, hostile=True)[0])
    with_others[0].xlsx_bodies = {"enterprises": made}      # made for the base alone
    render_xlsx(tmp_path / "three.xlsx", with_others, manifest, comparison)
    assert (2500, 43) in shapes                             # three variants: formatted here
