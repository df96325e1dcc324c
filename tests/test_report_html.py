"""report.html: offline, escaped, complete; chart numbers and map geometry by hand."""

import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from optimizer.report import build_reports, lookup
from optimizer.report.charts import grade_change, lorenz, lorenz_chart, shadow_price_table
from optimizer.report.comparison import write_comparison
from optimizer.report.html import write_html
from optimizer.report.results import VariantResult
from optimizer.report.svgmap import build_map
from optimizer.report.testing import HOSTILE_NAMES, fake_geometries, write_fake_run

N = 60
EXTERNAL = [r"https?://", r"//cdn", r"@import", r"url\((?!\s*['\"]?data:)", r"<link\b", r"\bsrc=",
            r"<iframe", r"<object", r"<embed", r"ftp:"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    dirs, manifest = write_fake_run(root / "run", n=N, hostile=True)
    zones, parcels, violations = fake_geometries(N)
    build_reports(root, dirs, manifest, zones, parcels, violations)
    return (root / "report.html").read_text("utf-8"), dirs


def _script(html: str, element_id: str) -> str:
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, element_id
    return m.group(1)


@pytest.mark.parametrize("pattern", EXTERNAL)
def test_no_external_reference(report, pattern):
    html, _ = report
    assert re.search(pattern, html, re.I) is None


def test_links_are_in_page_anchors_only(report):
    html, _ = report
    assert re.findall(r'href="([^"]*)"', html) and \
        all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', html))


def test_every_variant_and_section_is_there(report):
    html, dirs = report
    for name in dirs:
        assert f"<h3>{name}<span" in html
    for section in ("kpi", "map", "compare", "charts", "sizhi", "projects", "lookup", "manifest"):
        assert f'<section id="{section}">' in html
    assert "亩均" in html and "黄岩经济开发区" in html and "东至东环大道" in html


def test_hostile_names_never_appear_as_markup(report):
    html, _ = report
    assert "<script>alert(1)</script>" not in html
    assert "<b>x</b>" not in html and "<b>黄岩</b>" not in html
    assert "&lt;b&gt;黄岩&lt;&#47;b&gt;" in html                        # scenario name escaped
    assert html.count("</script>") == len(re.findall(r"<script[ >]", html)) == 3
    assert html.count("<!--") == 0


def test_lookup_json_round_trips_and_cannot_break_out(report):
    html, dirs = report
    raw = _script(html, "lookup-data")
    assert "<" not in raw and "/" not in raw.replace("\\/", "")
    data = json.loads(raw)
    assert data["n"] == data["total"] == N
    assert data["id"] == sorted(data["id"])
    assert set(HOSTILE_NAMES) <= set(data["name"]) | {"\rx"}           # CR stored as LF in CSV
    assert [v["name"] for v in data["variants"]] == list(dirs)
    assert data["indicators"] == ["tax_per_mu", "va_per_mu", "va_per_energy"]
    i = data["id"].index("E000010")
    alloc = pd.read_csv(dirs["strict-D"] / "allocation.csv", dtype={"id": str}).set_index("id")
    v = data["variants"][1]
    assert v["after"]["energy_tce"][i] == pytest.approx(alloc.loc["E000010", "energy_tce_after"],
                                                        abs=1e-4)
    assert v["bindingText"][v["binding"][i]] == alloc.loc["E000010", "binding"]


def test_map_is_an_overview_plus_one_panel_per_zone(report):
    html, _ = report
    panels = re.search(r'<div class="map-panels" id="map-panels">(.*?)</div>', html, re.S).group(1)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", panels)
    assert captions[0] == "总览 overview · 3 个开发区 zones"
    assert [c.split(" · ")[0] for c in captions[1:]] == ["Z01 黄岩经济开发区", "Z02 台州湾新区",
                                                         "Z03 温岭东部新区"]
    drawn = sorted(int(i) for i in re.findall(r'data-i="(\d+)"', panels))
    assert drawn == list(range(N))                      # every parcel once, in its zone's panel
    assert sum(int(c.split(" · ")[1].split()[0]) for c in captions[1:]) == N
    assert panels.count('<g class="violations">') >= 1
    data = json.loads(_script(html, "map-data"))
    assert len(data["ids"]) == N
    assert all(len(s) == N and set(s) <= set("01234567") for s in data["classes"].values())


def test_lookup_is_capped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr(lookup, "MAX_LOOKUP", 7)
    dirs, manifest = write_fake_run(tmp_path / "run", n=20)
    comparison = write_comparison(dirs, tmp_path / "c.csv")
    write_html(tmp_path / "r.html", dirs, manifest, comparison)
    html = (tmp_path / "r.html").read_text("utf-8")
    data = json.loads(_script(html, "lookup-data"))
    assert (data["n"], data["total"], len(data["id"])) == (7, 20, 7)
    assert "the first 7 of 20 enterprises" in html
    assert "No zone or parcel layer" in html                          # no geometry given


def test_infeasible_variant_is_explained(tmp_path):
    dirs, manifest = write_fake_run(tmp_path / "run", n=10, variants={
        "base": {"A": 1.1, "B": 1.0, "C": 0.9, "D": 0.8, "U": 1.0}})
    bad = tmp_path / "run" / "tight"
    bad.mkdir()
    (bad / "summary.json").write_text(json.dumps({
        "status": "infeasible", "objective": None, "kpis": {}, "diagnosis": [
            "zone Z01: land cap 1,200 mu is below the 1,350 mu that A/B floors guarantee"]}))
    dirs["tight"] = bad
    comparison = write_comparison(dirs, tmp_path / "c.csv")
    write_html(tmp_path / "r.html", dirs, manifest, comparison)
    html = (tmp_path / "r.html").read_text("utf-8")
    assert 'status bad">infeasible' in html
    assert "land cap 1,200 mu is below the 1,350 mu that A&#47;B floors guarantee" in html


def test_3000_enterprises_stay_under_5_mb(tmp_path):
    dirs, manifest = write_fake_run(tmp_path / "run", n=3000)
    zones, parcels, violations = fake_geometries(3000)
    build_reports(tmp_path, dirs, manifest, zones, parcels, violations)
    assert (tmp_path / "report.html").stat().st_size < 5_000_000


def _alloc(grades, land_before, land_after):
    return pd.DataFrame({"id": [f"E{i}" for i in range(len(grades))], "grade": grades,
                         "land_mu_before": land_before, "land_mu_after": land_after})


def test_grade_change_is_sum_after_over_sum_before():
    table = grade_change(_alloc(["A", "D", "A"], [10.0, 20.0, 30.0], [11.0, 10.0, 33.0]),
                         ["land_mu"])
    assert table.index.tolist() == ["A", "D"]
    assert table["land_mu"].tolist() == pytest.approx([10.0, -50.0])


def test_lorenz_gini_by_hand():
    assert lorenz(np.array([5.0, 5.0, 5.0, 5.0]))[2] == pytest.approx(0.0)
    xs, ys, gini = lorenz(np.array([0.0, 0.0, 0.0, 1.0]), points=5)
    assert gini == pytest.approx(0.75)                  # (n-1)/n for one holder of everything
    assert ys.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.0, 1.0])


def test_lorenz_chart_gini_is_that_of_absolute_quota_changes():
    alloc = _alloc(["A"] * 4, [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0])     # |Δ| = 0,0,0,1
    svg = str(lorenz_chart([VariantResult("v", None, {}, alloc, *[pd.DataFrame()] * 5)],
                           "land_mu"))
    assert "v G=0.750" in svg


def _result(name, zones):
    return VariantResult(name, None, {}, pd.DataFrame(), pd.DataFrame(), zones, pd.DataFrame(),
                         pd.DataFrame(), pd.DataFrame())


def test_shadow_prices_keep_nonzero_rows_largest_first():
    z = pd.DataFrame({"zone_id": ["Z1", "Z1", "Z2"],
                      "resource": ["land_mu", "energy_tce", "land_mu"],
                      "shadow_price": [0.0, 2.0, 0.0]})
    z2 = z.assign(shadow_price=[5.0, 1.0, 0.0])
    table = shadow_price_table([_result("base", z), _result("v", z2)])
    assert table.index.tolist() == [("Z1", "land_mu"), ("Z1", "energy_tce")]
    assert table.loc[("Z1", "land_mu")].tolist() == [0.0, 5.0]


def test_map_projects_layers_in_different_crs_onto_one_canvas():
    zones = gpd.GeoDataFrame({"zone_id": ["Z"], "name": ["区"]},
                             geometry=[box(121.20, 28.60, 121.24, 28.63)], crs="EPSG:4326")
    inner = gpd.GeoDataFrame({"id": ["E1"]}, geometry=[box(121.215, 28.61, 121.225, 28.62)],
                             crs="EPSG:4326").to_crs("EPSG:4549")    # CGCS2000 3-degree GK
    result = VariantResult("base", None, {}, pd.DataFrame({"id": ["E1"], "land_mu_change_pct":
                           [-30.0], "land_mu_before": [1.0], "land_mu_after": [0.7]}),
                           *[pd.DataFrame()] * 5)
    drawn = build_map([result], zones, inner)          # parcel zone found by location
    assert len(drawn.panels) == 1
    zone_xy = _numbers(re.search(r'<g class="zones"><path d="([^"]+)"', drawn.panels[0]).group(1))
    parcel_xy = _numbers(re.search(r'data-i="0" class="c0" d="([^"]+)"', drawn.panels[0]).group(1))
    # the parcel (centre 25%..50% of the zone's width) lies inside the zone on the canvas
    assert zone_xy[:, 0].min() < parcel_xy[:, 0].min() < parcel_xy[:, 0].max() < zone_xy[:, 0].max()
    assert zone_xy[:, 1].min() < parcel_xy[:, 1].min() < parcel_xy[:, 1].max() < zone_xy[:, 1].max()
    assert drawn.classes == {"base|land_mu": "0"}                      # −30% → darkest red


def _numbers(path: str) -> np.ndarray:
    return np.array(re.findall(r"-?\d+", path), dtype=float).reshape(-1, 2)


def test_lookup_budget_shrinks_with_many_variants():
    assert lookup.lookup_limit(1) == lookup.lookup_limit(3) == 20_000
    assert lookup.lookup_limit(20) == 5_000


def test_infeasible_variant_with_empty_allocation_is_not_charted():
    from optimizer.report.charts import grade_change_charts, lorenz_charts

    ok = _alloc(["A", "D"], [10.0, 20.0], [11.0, 10.0])
    empty = ok.assign(land_mu_after=np.nan)
    results = [VariantResult(n, None, {}, a, *[pd.DataFrame()] * 5)
               for n, a in (("base", ok), ("tight", empty))]
    panels = grade_change_charts(results)
    assert len(panels) == 1 and "base" in panels[0]
    assert "tight" not in lorenz_charts(results)[0]
    assert grade_change(empty, ["land_mu"])["land_mu"].isna().all()


def test_minimal_run_folders_still_give_all_three_reports(tmp_path):
    import openpyxl

    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "summary.json").write_text(json.dumps(
        {"status": "optimal", "objective": 3.0, "kpis": {"value_added_after": 3.0}}))
    pd.DataFrame({"id": ["b", "a"], "land_mu_before": [1.0, 2.0], "land_mu_after": [1.0, 1.5]}) \
        .to_csv(tmp_path / "base" / "allocation.csv", index=False)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "summary.json").write_text(json.dumps({"status": "infeasible"}))
    out = tmp_path / "out"
    out.mkdir()
    build_reports(out, {"base": tmp_path / "base", "bad": tmp_path / "bad"}, {})
    html = (out / "report.html").read_text("utf-8")
    assert "No zone or parcel layer" in html and "No candidate projects" in html
    assert json.loads(_script(html, "lookup-data"))["id"] == ["a", "b"]
    assert openpyxl.load_workbook(out / "report.xlsx").sheetnames == [
        "summary", "comparison", "zones", "enterprises", "grades", "tiers", "manifest"]


def test_rows_by_id_cut_or_reindexed_give_the_same_values():
    """lookup._by_id cuts a frame that starts with the wanted ids and re-indexes any other
    (duplicates: first row; absent ids: empty rows); the values are the same."""
    import numpy as np
    import pandas as pd

    from optimizer.report.lookup import _by_id

    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "x": [1.0, 2.0, 3.0, 4.0]})
    for ids in (["a", "b", "c"], ["a", "b", "c", "d"], ["b", "a"], ["a", "z"], []):
        ids = pd.Series(ids, dtype=object)
        got = _by_id(frame, ids)
        want = frame.drop_duplicates("id").set_index("id").reindex(ids)
        np.testing.assert_array_equal(got["x"].to_numpy(), want["x"].to_numpy())
    doubled = pd.DataFrame({"id": ["a", "a", "b"], "x": [1.0, 9.0, 2.0]})
    np.testing.assert_array_equal(_by_id(doubled, pd.Series(["a", "b"]))["x"].to_numpy(),
                                  [1.0, 2.0])


def test_sums_by_grade_equal_pandas_groupby():
    """charts._sums_by against groupby(sort=False).sum(min_count=1): missing keys left out,
    all-missing groups NaN, first-seen group order."""
    import numpy as np
    import pandas as pd

    from optimizer.report.charts import _sums_by

    rng = np.random.default_rng(3)
    keys = pd.Series(rng.choice(["A", "B", "C", "D", "U", None], size=500), name="grade")
    values = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    values.loc[rng.random(500) < 0.3, "x"] = np.nan
    values.loc[keys == "C", "y"] = np.nan
    want = values.groupby(keys, sort=False).sum(min_count=1)
    pd.testing.assert_frame_equal(_sums_by(keys, values), want, check_index_type=False)
