"""Reading layers: errors name the file and layer; invalid geometries are repaired."""

import geopandas as gpd
import pytest
import shapely

from optimizer.errors import InputError
from optimizer.geo import read_layer, read_layer_checked
from optimizer.geo.areas import area_mu

GK_CM120 = "EPSG:4549"
SQUARE = shapely.box(500000, 3300000, 501000, 3301000)


def write(path, geoms, crs=GK_CM120, layer="zones", **cols):
    gdf = gpd.GeoDataFrame(cols or {"zone_id": [f"Z{i}" for i in range(len(geoms))]},
                           geometry=list(geoms), crs=crs)
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def test_reads_layer_without_warnings(tmp_path):
    path = write(tmp_path / "zones.gpkg", [SQUARE])
    gdf = read_layer(path)
    assert gdf.crs.to_epsg() == 4549
    assert gdf.attrs["warnings"] == []
    assert list(gdf["zone_id"]) == ["Z0"]


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(InputError) as err:
        read_layer(tmp_path / "nowhere.gpkg")
    assert err.value.file.endswith("nowhere.gpkg")
    assert "not found" in err.value.message


def test_file_that_is_not_a_layer(tmp_path):
    path = tmp_path / "zones.gpkg"
    path.write_text("this is not a GeoPackage\n")
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert err.value.file.endswith("zones.gpkg")


def test_unknown_layer_name_lists_the_layers(tmp_path):
    path = write(tmp_path / "zones.gpkg", [SQUARE], layer="kaifaqu")
    with pytest.raises(InputError) as err:
        read_layer(path, layer="zones")
    assert "'zones'" in err.value.message and "kaifaqu" in err.value.message
    assert err.value.file.endswith("zones.gpkg")


def test_multi_layer_file_picks_the_layer_named_like_its_role(tmp_path):
    path = write(tmp_path / "all.gpkg", [SQUARE], layer="zones")
    write(path, [SQUARE, SQUARE], layer="protected")
    assert len(read_layer(path, what="protected")) == 2
    with pytest.raises(InputError, match="several layers"):
        read_layer(path, what="features")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs_is_an_error_naming_the_file(tmp_path):
    path = write(tmp_path / "nocrs.gpkg", [SQUARE], crs=None)
    with pytest.raises(InputError) as err:
        read_layer(path)
    assert err.value.file.endswith("nocrs.gpkg")
    assert "CRS" in err.value.message and "'zones'" in err.value.message


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_declared_crs_fills_a_missing_one(tmp_path):
    path = write(tmp_path / "nocrs.gpkg", [SQUARE], crs=None)
    gdf = read_layer(path, crs="EPSG:4549")
    assert gdf.crs.to_epsg() == 4549
    assert area_mu(gdf.geometry.values, gdf.crs)[0] == pytest.approx(1500.0, rel=1e-6)


def test_declared_crs_differing_from_the_file_warns(tmp_path):
    path = write(tmp_path / "zones.gpkg", [SQUARE])
    gdf, warnings = read_layer_checked(path, crs="EPSG:4326")
    assert gdf.crs.to_epsg() == 4549
    assert len(warnings) == 1 and "EPSG:4326" in warnings[0]


def test_self_intersecting_boundary_is_repaired_and_listed(tmp_path):
    # a bow-tie: two 500 m triangles meeting at (500500, 3300500), each 1000×500/2 m²
    bowtie = shapely.Polygon([(500000, 3300000), (501000, 3301000), (501000, 3300000),
                              (500000, 3301000)])
    assert not bowtie.is_valid
    path = write(tmp_path / "zones.gpkg", [SQUARE, bowtie])
    gdf, warnings = read_layer_checked(path)
    assert len(warnings) == 1
    assert "row 3" in warnings[0] and "make_valid" in warnings[0]
    assert "Self-intersection" in warnings[0]
    repaired = gdf.geometry.iloc[1]
    assert repaired.is_valid and repaired.geom_type == "MultiPolygon"
    # two triangles of 1000 m base and 500 m height: 2 × 250,000 m² = 750 mu
    assert area_mu([repaired], gdf.crs)[0] == pytest.approx(750.0, rel=1e-6)
    assert gdf.geometry.iloc[0].equals(SQUARE)
