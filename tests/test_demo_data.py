"""The shipped demo data (data/demo/) and its generator scripts/make_demo_data.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from optimizer.schema import ENTERPRISE_COLUMNS, PROJECT_COLUMNS
from optimizer.units import M2_PER_MU

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
REFERENCE = ROOT / "data" / "reference"
SCRIPT = ROOT / "scripts" / "make_demo_data.py"
METRIC = "EPSG:4549"
TOL_M = 1.0                     # SPEC §5 default parcel-in-zone tolerance


@pytest.fixture(scope="module")
def zones():
    return gpd.read_file(DEMO / "zones.gpkg", layer="zones").to_crs(METRIC)


@pytest.fixture(scope="module")
def parcels():
    return gpd.read_file(DEMO / "enterprises.gpkg", layer="enterprises").to_crs(METRIC)


@pytest.fixture(scope="module")
def firms():
    return pd.read_csv(DEMO / "enterprises.csv", dtype=str, keep_default_na=False)


def numeric(firms: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(firms[col].replace("", np.nan))


def test_zone_areas_equal_approved_areas(zones):
    ratio = zones.area / (zones["approved_area_ha"] * 10_000.0)
    assert np.abs(ratio - 1).max() < 1e-3
    assert len(zones) == 10 and zones["zone_id"].is_unique
    assert set(zones["level"]) == {"national", "provincial"}
    assert zones.crs is not None


def test_zone_areas_agree_with_geodesic_areas(zones):
    from pyproj import Geod
    geod = Geod(ellps="GRS80")
    geodesic = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in zones.to_crs("EPSG:4326").geometry])
    assert np.abs(zones.area.to_numpy() / geodesic - 1).max() < 1e-3


def test_zones_lie_inside_their_county(zones):
    counties = gpd.read_file(REFERENCE / "zhejiang_counties.gpkg", layer="counties").to_crs(METRIC)
    county = counties.set_index("district").geometry
    for zone_id, name, geom in zip(zones["zone_id"], zones["county"], zones.geometry):
        assert county[name].buffer(TOL_M).contains(geom), zone_id


def test_touching_pair_enclave_and_no_overlap(zones):
    g = zones.set_index("zone_id").geometry
    shared = g["G331021"].intersection(g["S339022"])
    assert shared.length > 1000.0 and shared.area < 1.0          # touch along > 1 km
    assert g["S337085"].geom_type == "MultiPolygon" and len(g["S337085"].geoms) == 2
    others = zones.geometry.values
    overlap = sum(others[i].intersection(others[j]).area
                  for i in range(len(others)) for j in range(i + 1, len(others)))
    assert overlap < 1.0


def test_parcels_have_land_area_and_lie_in_their_zone_except_crossers(zones, parcels):
    assert np.abs(parcels.area / (parcels["land_mu"] * M2_PER_MU) - 1).max() < 1e-6
    zone = zones.set_index("zone_id").geometry.buffer(TOL_M)
    own = zone.loc[parcels["zone_id"]].to_numpy()
    inside = shapely.within(parcels.geometry.to_numpy(), own)
    crossers = parcels[~inside]
    assert 6 <= len(crossers) <= 10
    outside = shapely.difference(crossers.geometry.to_numpy(), zone.loc[crossers["zone_id"]].to_numpy())
    assert (shapely.area(outside) / crossers.area.to_numpy()).min() > 0.05
    readme = (DEMO / "README.md").read_text(encoding="utf-8")
    assert all(i in readme for i in crossers["id"])


def test_one_crosser_lies_in_two_zones(zones, parcels):
    hits = gpd.sjoin(parcels, zones[["zone_id", "geometry"]], predicate="overlaps")
    assert (hits["zone_id_left"] != hits["zone_id_right"]).sum() == 1


def test_parcels_avoid_protected_land(parcels, zones):
    protected = gpd.read_file(DEMO / "protected.gpkg", layer="protected").to_crs(METRIC)
    assert set(protected["kind"]) == {"生态保护红线", "永久基本农田"}
    assert protected.intersects(zones.union_all()).sum() >= 4          # overlapping some zones
    assert not parcels.intersects(protected.union_all()).any()


def test_features_are_named_lines(zones):
    features = gpd.read_file(DEMO / "features.gpkg", layer="features").to_crs(METRIC)
    assert (features.geom_type == "LineString").all()
    assert features["name"].str.len().min() > 0 and "104国道" in set(features["name"])
    assert not features.intersects(zones.union_all()).any()            # beyond the sides


def test_columns_match_schema(firms, parcels):
    names = [c.name for c in ENTERPRISE_COLUMNS]
    assert list(firms.columns) == names
    assert [c for c in parcels.columns if c != "geometry"] == names
    projects = pd.read_csv(DEMO / "projects.csv")
    assert list(projects.columns) == [c.name for c in PROJECT_COLUMNS]


def test_csv_matches_geopackage_attributes(firms, parcels):
    assert firms["id"].tolist() == parcels["id"].tolist()
    assert np.allclose(numeric(firms, "land_mu"), parcels["land_mu"])
    assert np.allclose(numeric(firms, "cod_t"), parcels["cod_t"], equal_nan=True)
    assert (firms["above_scale"] == "true").tolist() == parcels["above_scale"].tolist()


def _gb32100_ok(code: str) -> bool:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(alphabet.index(ch) * w for ch, w in zip(code[:17], weights))
    return alphabet[(31 - total % 31) % 31] == code[17]


def test_ids_look_like_credit_codes_and_are_sorted(firms):
    ids = firms["id"]
    assert ids.is_unique and ids.tolist() == sorted(ids)
    assert (ids.str.len() == 18).all() and ids.str.startswith("9133").all()
    assert all(_gb32100_ok(c) for c in ids)
    assert firms["name"].str.endswith("公司").all()


def test_calibration_within_published_ranges(firms):
    up = firms[firms["above_scale"] == "true"]
    s = {c: numeric(up, c) for c in ("land_mu", "tax", "value_added", "energy_tce", "employees",
                                     "rd_expense", "revenue", "cod_t", "nh3n_t", "so2_t", "nox_t")}
    emis = s["cod_t"] + s["nh3n_t"] + s["so2_t"] + s["nox_t"]
    has = emis.notna()
    assert 20 <= s["tax"].sum() / s["land_mu"].sum() <= 25.5                     # 亩均税收
    assert 100 <= s["value_added"].sum() / s["land_mu"].sum() <= 136             # 亩均增加值
    assert 1.1 <= s["value_added"].sum() / s["energy_tce"].sum() <= 2.7          # 单位能耗增加值
    assert 600 <= s["value_added"][has].sum() / emis[has].sum() <= 5000          # 单位排放增加值
    assert 16 <= s["value_added"].sum() / s["employees"].sum() <= 23.5           # 劳动生产率
    assert 0.015 <= s["rd_expense"].sum() / s["revenue"].sum() <= 0.03           # 研发强度
    land = numeric(firms, "land_mu")
    assert 25 <= land.mean() <= 35 and (land < 3).sum() > 20 and land.between(3, 5).sum() > 20


def test_special_cases_present(firms):
    n = len(firms)
    assert 2000 <= n <= 4000
    assert 0.10 <= (firms["above_scale"] == "false").mean() <= 0.20
    assert 0.05 <= (firms["fdi"] == "true").mean() <= 0.12
    assert 0.01 <= (firms["new_firm"] == "true").mean() <= 0.05
    assert set(firms["veto"]) == {"", "安全生产事故", "重大环境污染事件"}
    assert 5 <= (firms["veto"] != "").sum() <= 30
    up_missing = (firms["above_scale"] == "true") & (firms["cod_t"] == "")
    assert 0.01 <= up_missing.sum() / (firms["above_scale"] == "true").sum() <= 0.03
    assert 1 <= (numeric(firms, "value_added") <= 0).sum() <= 20
    assert (firms["grade"] == "").all()


def test_projects_straddle_the_investment_intensity_floor():
    projects = pd.read_csv(DEMO / "projects.csv")
    intensity = projects["investment"] / projects["land_mu"]
    assert 30 <= len(projects) <= 50
    assert 0.15 <= (intensity < 270).mean() <= 0.6          # Wenling 2021: ≥ 270 万元/亩


def test_demo_size_is_small():
    assert sum(p.stat().st_size for p in DEMO.iterdir()) < 3 * 1024 * 1024


def _run(*args):
    subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], check=True, capture_output=True)


def test_generator_is_deterministic(tmp_path):
    _run("--enterprises", 300, "--out", tmp_path / "a")
    _run("--enterprises", 300, "--out", tmp_path / "b")
    for name in ("enterprises.csv", "projects.csv", "zones.gpkg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    bench = pd.read_csv(tmp_path / "a" / "enterprises.csv")
    assert len(bench) == 300 and bench["id"].is_unique


def test_default_run_reproduces_shipped_demo(tmp_path, firms, parcels):
    _run("--out", tmp_path)
    for name in ("enterprises.csv", "projects.csv", "README.md"):
        assert (tmp_path / name).read_bytes() == (DEMO / name).read_bytes(), name
    again = gpd.read_file(tmp_path / "enterprises.gpkg").to_crs(METRIC)
    assert again["id"].tolist() == parcels["id"].tolist()
    assert shapely.hausdorff_distance(again.geometry.values, parcels.geometry.values).max() < 0.01
