"""Boundary checks on hand-built GeoPackages with areas known by hand.

Zones sit on CM 120°E in EPSG:4549 (easting 500 km), where the Gauss-Kruger
scale is 1, so a 1 km square is 1,000,000 m² = 1,500 mu (1 mu = 10000/15 m²).
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from optimizer.errors import InputError
from optimizer.geo import (ConsolidationSpec, check_boundaries, read_layer, validate_zones,
                           write_boundaries)

X0, Y0 = 500_000.0, 3_300_000.0
A = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)           # 1500 mu
B = shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)    # touches A along x = X0 + 1000
C = shapely.box(X0 + 5000, Y0, X0 + 6000, Y0 + 1000)    # 3 km east of B


def square(x, y, side=100.0):
    return shapely.box(x, y, x + side, y + side)


def write_layer(path, crs, geoms, layer, **cols):
    gdf = gpd.GeoDataFrame(cols, geometry=list(geoms), crs="EPSG:4549")
    gdf.to_crs(crs).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def load_zones(tmp_path, geoms=(A, B, C), ids=("A", "B", "C"), approved_ha=(100, 80, 100),
               crs="EPSG:4549"):
    path = write_layer(tmp_path / "zones.gpkg", crs, geoms, "zones", zone_id=list(ids),
                       name=[f"园区{z}" for z in ids], approved_area_ha=list(approved_ha))
    return validate_zones(read_layer(path), path)


def load_parcels(tmp_path, rows, crs="EPSG:4549"):
    ids, zones, geoms = zip(*rows)
    path = write_layer(tmp_path / "parcels.gpkg", crs, geoms, "parcels", id=list(ids),
                       zone_id=list(zones), land_mu=[np.nan] * len(ids))
    return read_layer(path, what="parcels")


STRADDLE = ("p_straddle", "A", square(X0 + 950, Y0 + 100))    # half in A, half in B
OUT_EAST = ("p_out", "B", square(X0 + 1950, Y0 + 400))         # half of it east of B
INSIDE = ("p_in", "A", square(X0 + 100, Y0 + 100))


def test_straddling_parcel_outside_area_in_mu(tmp_path):
    parcels = load_parcels(tmp_path, [INSIDE, STRADDLE, OUT_EAST])
    report = check_boundaries(load_zones(tmp_path), parcels)
    v = report.violations.set_index("id")
    assert sorted(v.index) == ["p_out", "p_straddle"]
    # 50 m × 100 m outside = 5000 m² = 7.5 mu each
    assert v.loc["p_straddle", "outside_area_mu"] == pytest.approx(7.5, rel=1e-6)
    assert v.loc["p_out", "outside_area_mu"] == pytest.approx(7.5, rel=1e-6)
    expected_part = shapely.box(X0 + 2000, Y0 + 400, X0 + 2050, Y0 + 500)
    assert v.loc["p_out", "geometry"].symmetric_difference(expected_part).area < 1e-3
    table = report.table.set_index("zone_id")
    assert table.loc["A", "violations"] == 1 and table.loc["B", "violations"] == 1
    # occupied: no land_mu given, so the parcel areas (15 mu each)
    assert table.loc["A", "occupied_mu"] == pytest.approx(30.0, rel=1e-6)
    assert list(report.multi_zone["id"]) == ["p_straddle"]
    assert report.multi_zone["zone_ids"].iloc[0] == "A;B"


def test_tolerance_forgives_a_digitising_sliver(tmp_path):
    sliver = ("p_sliver", "A", shapely.box(X0 + 100, Y0 - 0.5, X0 + 200, Y0 + 100))
    parcels = load_parcels(tmp_path, [sliver])
    zones = load_zones(tmp_path)
    assert len(check_boundaries(zones, parcels).violations) == 0
    strict = check_boundaries(zones, parcels, tolerance_m=0.1).violations
    assert strict["outside_area_mu"].iloc[0] == pytest.approx(50 / (10000 / 15), rel=1e-6)


def test_multipolygon_enclave_zone(tmp_path):
    main = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    enclave = shapely.box(X0 + 8000, Y0 + 2000, X0 + 8500, Y0 + 2500)   # 飞地, 375 mu
    zones = load_zones(tmp_path, [shapely.MultiPolygon([main, enclave])], ["E"], [200])
    parcels = load_parcels(tmp_path, [
        ("in_main", "E", square(X0 + 100, Y0 + 100)),
        ("in_enclave", "E", square(X0 + 8200, Y0 + 2200)),
        ("between", "E", square(X0 + 4000, Y0 + 1000)),
        ("unzoned", "", square(X0 + 8300, Y0 + 2300)),
    ])
    report = check_boundaries(zones, parcels)
    row = report.table.iloc[0]
    assert row["boundary_area_mu"] == pytest.approx(1875.0, rel=1e-6)
    assert row["approved_area_mu"] == pytest.approx(3000.0)
    assert row["land_cap_mu"] == pytest.approx(1875.0, rel=1e-6)   # min(approved, boundary)
    assert list(report.violations["id"]) == ["between"]
    assert report.violations["outside_area_mu"].iloc[0] == pytest.approx(15.0, rel=1e-6)
    assert report.assigned_zones.to_dict("list") == {"id": ["unzoned"], "zone_id": ["E"]}
    assert row["occupied_mu"] == pytest.approx(60.0, rel=1e-6)  # 4 parcels of 15 mu


def consolidated(tmp_path, spec):
    parcels = load_parcels(tmp_path, [INSIDE, STRADDLE, OUT_EAST])
    return check_boundaries(load_zones(tmp_path), parcels, consolidation=spec)


@pytest.mark.parametrize("spec", [ConsolidationSpec(groups=[["A", "B"]]),
                                  ConsolidationSpec(touch_distance_m=0.0)])
def test_consolidation_pools_caps_but_keeps_boundaries(tmp_path, spec):
    report = consolidated(tmp_path, spec)
    # A: min(1500, 1500) = 1500; B: min(1200 approved, 1500 boundary) = 1200; C alone
    assert report.land_caps_mu == pytest.approx({"G1": 2700.0, "C": 1500.0}, rel=1e-6)
    assert report.land_groups == {"A": "G1", "B": "G1", "C": "C"}
    assert report.group_names == {"G1": "G1: A+B"}
    assert list(report.table["group"]) == ["G1", "G1", "C"]
    approved = report.table.set_index("zone_id")["approved_area_mu"]
    assert report.land_caps_mu["G1"] <= approved["A"] + approved["B"]
    # crossing from A into B is inside the group's union; leaving B to the east is not
    assert list(report.violations["id"]) == ["p_out"]
    assert report.violations["outside_area_mu"].iloc[0] == pytest.approx(7.5, rel=1e-6)


def test_consolidation_by_distance_is_transitive(tmp_path):
    near = shapely.box(X0 + 2050, Y0, X0 + 3000, Y0 + 1000)   # 50 m from B
    zones = load_zones(tmp_path, [A, B, near, C], ["A", "B", "N", "C"], [100, 80, 50, 100])
    report = check_boundaries(zones, consolidation=ConsolidationSpec(touch_distance_m=100))
    assert report.land_groups == {"A": "G1", "B": "G1", "N": "G1", "C": "C"}
    assert report.group_names["G1"] == "G1: A+B+N"


def test_unknown_zone_in_a_consolidation_group_is_a_scenario_error(tmp_path):
    from optimizer.errors import ScenarioError
    with pytest.raises(ScenarioError, match="'Q'"):
        check_boundaries(load_zones(tmp_path),
                         consolidation=ConsolidationSpec(groups=[["A", "Q"]]))


def test_protected_land_and_reserve_reduce_the_cap(tmp_path):
    zones = load_zones(tmp_path)
    # 400 m × 500 m strip across the A|B edge: 200 × 500 m = 150 mu in each; a second
    # polygon inside the first must not be counted twice
    protected = gpd.GeoDataFrame(
        {"kind": ["生态保护红线", "永久基本农田"]},
        geometry=[shapely.box(X0 + 800, Y0, X0 + 1200, Y0 + 500),
                  shapely.box(X0 + 900, Y0, X0 + 1000, Y0 + 500)], crs="EPSG:4549")
    report = check_boundaries(zones, protected=protected, reserve_share=0.1)
    t = report.table.set_index("zone_id")
    assert t.loc["A", "protected_mu"] == pytest.approx(150.0, rel=1e-6)
    assert t.loc["A", "reserve_mu"] == pytest.approx(135.0, rel=1e-6)      # 10% of 1350
    assert t.loc["A", "land_cap_mu"] == pytest.approx(1215.0, rel=1e-6)
    assert t.loc["B", "land_cap_mu"] == pytest.approx(0.9 * (1200 - 150), rel=1e-6)
    assert t.loc["C", "protected_mu"] == 0.0
    assert report.land_caps_mu["A"] == pytest.approx(1215.0, rel=1e-6)


def test_crs_mismatch_is_reprojected_to_the_same_answer(tmp_path):
    wgs_dir, gk_dir = tmp_path / "wgs", tmp_path / "gk"
    wgs_dir.mkdir()
    gk_dir.mkdir()
    rows = [INSIDE, STRADDLE, OUT_EAST]
    wgs = check_boundaries(load_zones(wgs_dir, crs="EPSG:4326"), load_parcels(wgs_dir, rows))
    gk = check_boundaries(load_zones(gk_dir), load_parcels(gk_dir, rows))
    assert read_layer(wgs_dir / "zones.gpkg").crs.to_epsg() == 4326
    num = ["boundary_area_mu", "occupied_mu", "land_cap_mu"]
    np.testing.assert_allclose(wgs.table[num].to_numpy(), gk.table[num].to_numpy(), rtol=1e-6)
    pd.testing.assert_series_equal(wgs.violations["id"], gk.violations["id"])
    np.testing.assert_allclose(wgs.violations["outside_area_mu"], [7.5, 7.5], rtol=1e-6)
    assert wgs.violations.crs.to_epsg() == 4549   # geometry in the parcels' CRS


def test_parcels_without_crs_are_an_error():
    zones = gpd.GeoDataFrame({"zone_id": ["A"], "name": [""], "approved_area_ha": [100.0]},
                             geometry=[A], crs="EPSG:4549")
    parcels = gpd.GeoDataFrame({"id": ["p"], "zone_id": ["A"]}, geometry=[A])
    with pytest.raises(InputError, match="CRS"):
        check_boundaries(zones, parcels)


def test_zone_mismatch_points_and_unknown_zones(tmp_path):
    parcels = gpd.GeoDataFrame({
        "id": ["wrong", "pt_in", "pt_out", "ghost"],
        "zone_id": ["C", "B", "A", "Z9"],
        "land_mu": [15.0, 4.0, 6.0, 1.0],
    }, geometry=[square(X0 + 100, Y0 + 100), shapely.Point(X0 + 1500, Y0 + 500),
                 shapely.Point(X0 - 50, Y0 + 500), shapely.Point(X0 + 5500, Y0 + 500)],
        crs="EPSG:4549")
    report = check_boundaries(load_zones(tmp_path), parcels)
    mism = report.mismatches.set_index("id")
    assert mism.loc["wrong", "located_zone_id"] == "A"
    assert mism.loc["ghost", "located_zone_id"] == "C"
    assert "pt_in" not in mism.index
    v = report.violations.set_index("id")
    # a point parcel outside counts with its whole land
    assert v.loc["pt_out", "outside_area_mu"] == pytest.approx(6.0)
    assert v.loc["wrong", "outside_area_mu"] == pytest.approx(15.0, rel=1e-6)
    assert any("'Z9'" in w for w in report.warnings)
    assert report.table.set_index("zone_id").loc["C", "occupied_mu"] == pytest.approx(15.0)


def test_occupied_land_over_the_approved_area_is_reported(tmp_path):
    parcels = pd.DataFrame({"id": ["a", "b"], "zone_id": ["B", "B"], "land_mu": [700.0, 600.0]})
    report = check_boundaries(load_zones(tmp_path), parcels)
    assert report.table.set_index("zone_id").loc["B", "occupied_mu"] == 1300.0
    assert any("zone B" in w and "1,300.0" in w and "1,200.0" in w for w in report.warnings)


def test_outputs_are_deterministic(tmp_path):
    parcels = load_parcels(tmp_path, [INSIDE, STRADDLE, OUT_EAST])
    report = check_boundaries(load_zones(tmp_path), parcels)
    first = write_boundaries(report, tmp_path / "one")
    write_boundaries(check_boundaries(load_zones(tmp_path), parcels), tmp_path / "two")
    csv = (tmp_path / "one/boundaries.csv").read_bytes()
    assert csv == (tmp_path / "two/boundaries.csv").read_bytes()
    text = csv.decode("utf-8")
    assert text.splitlines()[0] == ("zone_id,name,approved_area_mu,boundary_area_mu,occupied_mu,"
                                    "protected_mu,reserve_mu,land_cap_mu,violations,sizhi")
    assert text.splitlines()[1].startswith("A,园区A,1500.0000,1500.0000,30.0000,")
    assert "\r" not in text
    gpkg = read_layer(tmp_path / "one/boundary_violations.gpkg", layer="boundary_violations")
    assert list(gpkg["id"]) == ["p_out", "p_straddle"]
    assert [p.name for p in first] == ["boundaries.csv", "parcel_findings.csv",
                                       "boundary_violations.gpkg"]
    findings = (tmp_path / "one/parcel_findings.csv").read_bytes()
    assert findings == (tmp_path / "two/parcel_findings.csv").read_bytes()
    assert findings.decode().splitlines()[1:] == [
        line for line in findings.decode().splitlines()[1:] if line.startswith(("p_out,",
                                                                                "p_straddle,"))]
    clean = check_boundaries(load_zones(tmp_path), load_parcels(tmp_path, [INSIDE]))
    assert [p.name for p in write_boundaries(clean, tmp_path / "three")] == [
        "boundaries.csv", "parcel_findings.csv"]
    assert (tmp_path / "three/parcel_findings.csv").read_text() == "id,zone_id,finding,detail\n"


def test_zone_names_cannot_become_spreadsheet_formulas(tmp_path):
    zones = load_zones(tmp_path)
    zones.loc[0, "name"] = '=HYPERLINK("http://x","y")'
    write_boundaries(check_boundaries(zones), tmp_path / "out")
    line = (tmp_path / "out/boundaries.csv").read_text(encoding="utf-8").splitlines()[1]
    assert line.startswith("A,\"'=HYPERLINK(")


DEMO = Path(__file__).resolve().parents[1] / "data/demo"


@pytest.mark.skipif(not (DEMO / "zones.gpkg").exists() or not (DEMO / "enterprises.gpkg").exists(),
                    reason="demo data not generated")
def test_demo_data_end_to_end(tmp_path):
    zones = validate_zones(read_layer(DEMO / "zones.gpkg"), DEMO / "zones.gpkg")
    parcels = read_layer(DEMO / "enterprises.gpkg", what="enterprises")
    report = check_boundaries(zones, parcels, reserve_share=0.1)
    t = report.table
    assert len(t) == len(zones) and t["zone_id"].is_unique
    assert (t["land_cap_mu"] <= t["approved_area_mu"] + 1e-6).all()
    assert (t["land_cap_mu"] <= t["boundary_area_mu"] + 1e-6).all()
    assert t["violations"].sum() <= len(report.violations)
    assert set(report.land_caps_mu) == set(t["zone_id"])
    write_boundaries(report, tmp_path)
    assert (tmp_path / "boundaries.csv").exists()


def test_self_intersecting_zone_is_repaired_and_the_warning_reaches_the_report(tmp_path):
    # bow-tie over A: two triangles of 250,000 m² each = 750 mu
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0),
                              (X0, Y0 + 1000)])
    zones = load_zones(tmp_path, [bowtie, C], ["A", "C"], [100, 100])
    report = check_boundaries(zones)
    assert report.table.set_index("zone_id").loc["A", "boundary_area_mu"] == \
        pytest.approx(750.0, rel=1e-6)
    assert len(report.warnings) == 1
    assert "zones.gpkg:zones: feature row 2" in report.warnings[0]
    assert "make_valid" in report.warnings[0]


def test_overlapping_zones_are_warned_with_the_shared_area(tmp_path):
    overlapping = shapely.box(X0 + 900, Y0 + 500, X0 + 1900, Y0 + 1500)   # 100 × 500 m in A
    zones = load_zones(tmp_path, [A, overlapping], ["A", "O"], [100, 100])
    report = check_boundaries(zones)
    assert report.warnings == ["zones A and O overlap by 75.0 mu; the shared land counts in both"]


def test_parcels_without_geometry_feed_occupied_land_only():
    zones = gpd.GeoDataFrame({"zone_id": ["A"], "approved_area_ha": [100.0]}, geometry=[A],
                             crs="EPSG:4549")
    parcels = gpd.GeoDataFrame({"id": ["a", "b"], "zone_id": ["A", ""], "land_mu": [3.0, 2.0]},
                               geometry=[None, None], crs="EPSG:4549")
    report = check_boundaries(zones, parcels)
    assert report.table["occupied_mu"].tolist() == [3.0]
    assert report.table["name"].tolist() == [""]
    assert len(report.violations) == 0
    assert report.assigned_zones.to_dict("list") == {"id": ["b"], "zone_id": [""]}
    assert report.warnings[0].startswith("2 parcel(s) have no geometry")
