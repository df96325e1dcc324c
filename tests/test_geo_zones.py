"""Zones layer validation: aliases, required columns, unique ids, areas, polygon geometry."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from optimizer.errors import InputError, ValidationErrors
from optimizer.geo import read_layer, validate_zones

BOX = shapely.box(500000, 3300000, 501000, 3301000)


def zones_file(tmp_path, columns, geoms):
    path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(columns, geometry=geoms, crs="EPSG:4549").to_file(
        path, layer="zones", driver="GPKG", engine="pyogrio")
    return path


def test_chinese_aliases_and_numeric_codes_become_canonical(tmp_path):
    path = zones_file(tmp_path, {"开发区代码": [331108, 331109], "开发区名称": ["甲", "乙"],
                                 "核准面积(公顷)": [100.0, 80.5], "city": ["杭州市", "宁波市"]},
                      [BOX, shapely.MultiPolygon([BOX, shapely.box(0, 0, 10, 10)])])
    zones = validate_zones(read_layer(path), path)
    assert list(zones.columns[:4]) == ["zone_id", "name", "level", "approved_area_ha"]
    assert list(zones["zone_id"]) == ["331108", "331109"]
    assert list(zones["level"]) == ["", ""]
    assert zones["approved_area_ha"].dtype == np.float64
    assert "city" in zones.columns


def test_missing_required_column_is_one_error(tmp_path):
    path = zones_file(tmp_path, {"zone_id": ["A"]}, [BOX])
    with pytest.raises(InputError) as err:
        validate_zones(read_layer(path), path)
    assert err.value.column == "approved_area_ha"
    assert err.value.file == str(path)


def test_errors_are_collected_with_spreadsheet_rows(tmp_path):
    point = shapely.Point(500000, 3300000)
    path = zones_file(tmp_path, {
        "zone_id": ["A", "B", "A", ""],
        "approved_area_ha": [10.0, -1.0, 5.0, 3.0],
    }, [BOX, BOX, point, shapely.Polygon()])
    with pytest.raises(ValidationErrors) as err:
        validate_zones(read_layer(path), path)
    found = {(e.row, e.column, e.rule) for e in err.value.errors}
    # feature index + 2: the first feature is row 2, as a spreadsheet export shows it
    assert (4, "zone_id", "unique") in found
    assert (5, "zone_id", "required, non-empty") in found
    assert (3, "approved_area_ha", "≥ 0") in found
    assert (4, "geometry", "Polygon or MultiPolygon") in found
    assert (5, "geometry", "non-empty Polygon/MultiPolygon") in found
    assert all(e.file == str(path) for e in err.value.errors)
    assert len(err.value.errors) == 5


def test_empty_zones_layer_is_an_error(tmp_path):
    path = zones_file(tmp_path, {"zone_id": [], "approved_area_ha": []}, [])
    with pytest.raises(InputError, match="no zone"):
        validate_zones(read_layer(path), path)
