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
