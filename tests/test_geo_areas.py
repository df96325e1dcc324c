"""Metric CRS choice and areas in mu against pyproj.Geod geodesic areas (SPEC §5: 0.1%)."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely

from optimizer.geo import area_mu, metric_crs, read_layer
from optimizer.geo.areas import to_metric
from optimizer.units import M2_PER_MU

REPO = Path(__file__).resolve().parents[1]
COUNTIES = next((p for p in (REPO / "data/reference/zhejiang_counties.gpkg",
                             REPO / "tests/data/geo/zhejiang_counties.gpkg") if p.exists()))
DEMO_ZONES = REPO / "data/demo/zones.gpkg"
GEOD = pyproj.Geod(ellps="GRS80")  # the CGCS2000 ellipsoid


def geodesic_mu(geoms):
    return np.array([abs(GEOD.geometry_area_perimeter(g)[0]) for g in geoms]) / M2_PER_MU


def irregular_zone(lon, lat, radius_deg, seed):
    rng = np.random.default_rng(seed)
    angle = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    r = radius_deg * rng.uniform(0.6, 1.0, angle.size)
    return shapely.Polygon(np.c_[lon + r * np.cos(angle), lat + 0.9 * r * np.sin(angle)])


# demo-like zones from Quzhou (118.4°E) to Shengsi (122.45°E): 2° either side of CM 120°E
PLACES = [(118.40, 29.10), (118.90, 28.95), (120.20, 30.30), (120.70, 28.00),
          (121.60, 29.90), (122.30, 30.00), (122.45, 30.70)]


@pytest.fixture(scope="module")
def demo_like(tmp_path_factory):
    path = tmp_path_factory.mktemp("areas") / "zones.gpkg"
    geoms = [irregular_zone(lon, lat, 0.03, i) for i, (lon, lat) in enumerate(PLACES)]
    gpd.GeoDataFrame({"zone_id": [f"Z{i}" for i in range(len(geoms))]}, geometry=geoms,
                     crs="EPSG:4326").to_file(path, layer="zones", engine="pyogrio")
    return read_layer(path)


def test_metric_crs_is_the_gauss_kruger_zone_of_the_centre():
    def at(lon):
        return metric_crs(gpd.GeoDataFrame(geometry=[shapely.Point(lon, 30.0)], crs=4326))
    assert at(120.2).to_epsg() == 4549
    assert at(121.6).to_epsg() == 4550          # nearer CM 123°E
    assert at(118.4).to_epsg() == 4548          # CM 117°E
    assert "CM 120E" in at(120.0).name
    projected = gpd.GeoDataFrame(geometry=[shapely.Point(40_500_000, 3_300_000)], crs=4528)
    assert metric_crs(projected).to_epsg() == 4549   # zone 40 = CM 120°E, from a projected layer


def test_demo_like_zones_agree_with_geodesic_areas(demo_like):
    crs = metric_crs(demo_like)
    assert crs.to_epsg() == 4549
    ours = area_mu(to_metric(demo_like, crs), crs)
    assert np.abs(ours / geodesic_mu(demo_like.geometry) - 1).max() < 1e-3


def test_plain_projected_area_would_miss_the_tolerance_far_from_the_meridian(demo_like):
    # why areas are corrected by the areal scale: 2.45° from CM 120°E the raw
    # Gauss-Kruger area is ~0.16% too large
    crs = metric_crs(demo_like)
    raw = shapely.area(to_metric(demo_like, crs)) / M2_PER_MU
    assert (raw / geodesic_mu(demo_like.geometry) - 1).max() > 1e-3


def test_real_county_polygons_agree_with_geodesic_areas():
    counties = read_layer(COUNTIES, layer="counties")
    assert len(counties) == 90
    crs = metric_crs(counties)
    assert crs.to_epsg() == 4549
    ours = area_mu(to_metric(counties, crs), crs)
    rel = ours / geodesic_mu(counties.geometry) - 1
    assert np.abs(rel).max() < 1e-3
    # the data README: 107,257 km² in EPSG:4549 before correction
    total_km2 = shapely.area(to_metric(counties, crs)).sum() / 1e6
    assert total_km2 == pytest.approx(107_257, abs=1)


@pytest.mark.skipif(not DEMO_ZONES.exists(), reason="demo data not generated")
def test_demo_zones_agree_with_geodesic_areas():
    zones = read_layer(DEMO_ZONES)
    crs = metric_crs(zones)
    ours = area_mu(to_metric(zones, crs), crs)
    assert np.abs(ours / geodesic_mu(zones.geometry) - 1).max() < 1e-3


def test_transformers_are_made_once_per_pair_and_used_both_ways():
    import numpy as np
    import pyproj

    from optimizer.geo import areas
    wgs84, gk = pyproj.CRS.from_epsg(4326), pyproj.CRS.from_epsg(4549)
    forward = areas.transformer(wgs84, gk)
    assert areas.transformer(wgs84, gk) is forward
    back = areas.transformer(gk, wgs84)
    lon, lat = np.array([119.5, 120.2, 121.9]), np.array([28.1, 30.3, 29.9])
    x, y = forward.transform(lon, lat)
    fresh = pyproj.Transformer.from_crs(gk, wgs84, always_xy=True).transform(x, y)
    np.testing.assert_allclose(back.transform(x, y), fresh, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back.transform(x, y), (lon, lat), rtol=0, atol=1e-9)


@pytest.mark.parametrize("epsg", [4549, 4550, 4539])
def test_wgs84_to_cgcs2000_skips_the_search_and_is_what_proj_would_do(epsg):
    """PROJ finds no WGS84 ↔ CGCS2000 transformation and uses a zero (ballpark) offset;
    our transformer builds the same pipeline from CGCS2000 without searching. If a
    future PROJ database gains a real transformation, this test says so."""
    from optimizer.geo import areas

    target = pyproj.CRS.from_epsg(epsg)
    searched = pyproj.Transformer.from_crs(areas.WGS84, target, always_xy=True)
    ours = pyproj.Transformer.from_crs(*areas._search_free(areas.WGS84, target), always_xy=True)
    assert ours.definition == searched.definition
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(118, 123, 1000), rng.uniform(27, 31.5, 1000)
    assert np.array_equal(np.array(ours.transform(lon, lat)), np.array(searched.transform(lon, lat)))
    back = pyproj.Transformer.from_crs(*areas._search_free(target, areas.WGS84), always_xy=True)
    x, y = searched.transform(lon, lat)
    assert np.array_equal(np.array(back.transform(x, y)),
                          np.array(pyproj.Transformer.from_crs(target, areas.WGS84,
                                                               always_xy=True).transform(x, y)))


def test_reprojected_equals_geopandas_to_crs_both_ways(demo_like):
    """To the last bit, also back from the metric CRS after the forward transformer was
    cached (its inverse would differ in the last bit: boundary_violations.gpkg)."""
    from optimizer.geo.areas import reprojected, transformer

    crs = metric_crs(demo_like)
    transformer(demo_like.crs, crs)                     # cached forward, as in a run
    ours, theirs = reprojected(demo_like, crs), demo_like.to_crs(crs)
    assert ours.crs == theirs.crs and list(ours.columns) == list(theirs.columns)
    assert shapely.equals_exact(ours.geometry.values, theirs.geometry.values, tolerance=0).all()
    assert reprojected(ours, crs) is ours
    back, theirs_back = reprojected(theirs, demo_like.crs), theirs.to_crs(demo_like.crs)
    assert shapely.equals_exact(back.geometry.values, theirs_back.geometry.values,
                                tolerance=0).all()
