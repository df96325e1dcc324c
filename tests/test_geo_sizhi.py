"""四至 descriptions from a small named-features GeoPackage."""

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from optimizer.geo import check_boundaries, describe_sizhi, read_layer
from optimizer.geo.sizhi import extreme_points

X0, Y0 = 500_000.0, 3_300_000.0
ZONE = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)


def features_file(tmp_path):
    lines = {
        "东环路": [(X0 + 1020, Y0 - 500), (X0 + 1020, Y0 + 1500)],     # 20 m east
        "远东大道": [(X0 + 1600, Y0 - 500), (X0 + 1600, Y0 + 1500)],   # further east: loses
        "南河": [(X0 - 1000, Y0 - 50), (X0 + 2000, Y0 - 50)],          # 50 m south
        "西山路": [(X0 - 30, Y0 + 200), (X0 - 30, Y0 + 800)],          # 30 m west
        "北郊路": [(X0 - 3000, Y0 + 1200), (X0 - 2000, Y0 + 1200)],    # north-west, not north
    }
    path = tmp_path / "features.gpkg"
    gpd.GeoDataFrame({"name": list(lines)}, geometry=[shapely.LineString(v) for v in
                                                      lines.values()],
                     crs="EPSG:4549").to_crs(4326).to_file(path, layer="features",
                                                          engine="pyogrio")
    return path


def north_latitude():
    to_deg = pyproj.Transformer.from_crs(4549, 4326, always_xy=True)
    return to_deg.transform(X0 + 500, Y0 + 1000)[1]


def test_sizhi_names_the_nearest_feature_beyond_each_side(tmp_path):
    features = read_layer(features_file(tmp_path), what="features")
    zones = gpd.GeoDataFrame({"zone_id": ["A"], "name": ["甲园区"], "approved_area_ha": [100.0]},
                             geometry=[ZONE], crs="EPSG:4549")
    report = check_boundaries(zones, features=features)
    expected = f"东至东环路、南至南河、西至西山路、北至北纬{north_latitude():.4f}°"
    assert report.table["sizhi"].iloc[0] == expected


def test_sizhi_falls_back_to_coordinates():
    to_deg = pyproj.Transformer.from_crs(4549, 4326, always_xy=True)
    east = to_deg.transform(X0 + 1000, Y0 + 500)[0]
    west = to_deg.transform(X0, Y0 + 500)[0]
    south = to_deg.transform(X0 + 500, Y0)[1]
    text = describe_sizhi(np.array([ZONE]), pyproj.CRS.from_epsg(4549))[0]
    assert text == (f"东至东经{east:.4f}°、南至北纬{south:.4f}°、"
                    f"西至东经{west:.4f}°、北至北纬{north_latitude():.4f}°")


def test_extreme_points_are_the_middle_of_each_extreme_edge():
    enclave = shapely.MultiPolygon([ZONE, shapely.box(X0 + 3000, Y0 + 200, X0 + 3100, Y0 + 300)])
    pts = extreme_points(np.array([ZONE, enclave]))
    assert pts["东"][0].equals(shapely.Point(X0 + 1000, Y0 + 500))
    assert pts["北"][0].equals(shapely.Point(X0 + 500, Y0 + 1000))
    assert pts["东"][1].equals(shapely.Point(X0 + 3100, Y0 + 250))    # the 飞地 is easternmost
    assert pts["北"][1].equals(shapely.Point(X0 + 500, Y0 + 1000))
