"""Metric CRS and areas in mu that agree with geodesic areas (SPEC §5).

Geometry work (buffers, tolerances, differences) happens in the CGCS2000
3-degree Gauss-Kruger zone of the data (EPSG:4534–4554, CM 75°E–135°E;
EPSG:4549 = CM 120°E covers most of Zhejiang). A transverse Mercator
projection inflates areas by its areal scale k² (≈ 1 + x²/R²): +0.05% at
1.5° from the central meridian, +0.2% at 3° (Zhoushan against CM 120°E).
Areas are therefore divided by the projection's areal scale at each
geometry's centroid (pyproj ``get_factors``), which keeps them within
~0.01% of pyproj.Geod geodesic areas across a whole province.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from optimizer.units import M2_PER_MU

WGS84 = pyproj.CRS.from_epsg(4326)
# EPSG:4534 is CGCS2000 / 3-degree Gauss-Kruger CM 75E, then one code per 3°.
_GK3_FIRST_EPSG, _GK3_FIRST_CM, _GK3_LAST_CM = 4534, 75, 135


_TRANSFORMERS: dict = {}


class _Inverse:
    """A cached transformer used the other way round."""

    def __init__(self, forward: pyproj.Transformer):
        self.forward = forward

    def transform(self, x, y):
        return self.forward.transform(x, y, direction=pyproj.enums.TransformDirection.INVERSE)


def transformer(src: pyproj.CRS, dst: pyproj.CRS):
    """Lon/lat-ordered ``src`` → ``dst`` transformer (``.transform(x, y)``), made once per
    pair of CRSs and used both ways: PROJ searches its database for WGS84 ↔ CGCS2000
    operations each time one is made (~37 ms), and a run reprojects zones, parcels and
    四至 points several times."""
    key = (src, dst)
    if key not in _TRANSFORMERS:
        back = _TRANSFORMERS.get((dst, src))
        _TRANSFORMERS[key] = (_Inverse(back) if isinstance(back, pyproj.Transformer)
                              else pyproj.Transformer.from_crs(*_search_free(src, dst),
                                                               always_xy=True))
    return _TRANSFORMERS[key]


CGCS2000 = pyproj.CRS.from_epsg(4490)


def _search_free(src: pyproj.CRS, dst: pyproj.CRS) -> tuple[pyproj.CRS, pyproj.CRS]:
    """The same operation from a pair of CRSs PROJ needs no database search for.

    PROJ knows no WGS84 ↔ CGCS2000 datum transformation and uses a "ballpark" zero
    offset; the pipeline from WGS84 lon/lat to a CGCS2000 projection is then exactly
    the one from CGCS2000 lon/lat (same definition, same numbers: tests/test_geo_areas.py
    checks it against PROJ's own search), which is built without the 50 ms search."""
    if src == WGS84 and dst.is_projected and dst.geodetic_crs == CGCS2000:
        return CGCS2000, dst
    if dst == WGS84 and src.is_projected and src.geodetic_crs == CGCS2000:
        return src, CGCS2000
    return src, dst


def data_centre(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    """(longitude, latitude) in degrees of the centre of the data's bounding box."""
    xmin, ymin, xmax, ymax = gdf.total_bounds
    x, y = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    if gdf.crs is None or gdf.crs.is_geographic:
        return float(x), float(y)
    lon, lat = transformer(gdf.crs, WGS84).transform(x, y)
    return float(lon), float(lat)


def metric_crs(gdf: gpd.GeoDataFrame) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Kruger CRS whose central meridian is nearest the data.

    Outside China's GK range (73.5°E–136.5°E) the WGS84 UTM zone is used.
    """
    lon, lat = data_centre(gdf)
    cm = int(round(lon / 3.0)) * 3
    if _GK3_FIRST_CM <= cm <= _GK3_LAST_CM:
        return pyproj.CRS.from_epsg(_GK3_FIRST_EPSG + (cm - _GK3_FIRST_CM) // 3)
    utm_zone = int((lon + 180.0) // 6.0) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + utm_zone)


def areal_scale(geoms, crs: pyproj.CRS) -> np.ndarray:
    """Areal scale factor of projected ``crs`` at each geometry's centroid (1.0 for empty)."""
    geoms = np.asarray(geoms, dtype=object)
    scale = np.ones(geoms.size)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return scale
    centroids = shapely.centroid(geoms[ok])
    x, y = shapely.get_x(centroids), shapely.get_y(centroids)
    lon, lat = transformer(crs, crs.geodetic_crs).transform(x, y)
    scale[ok] = pyproj.Proj(crs).get_factors(lon, lat).areal_scale
    return scale


def area_m2(geoms, crs: pyproj.CRS) -> np.ndarray:
    """Ellipsoidal area (m²) of geometries given in projected ``crs``."""
    geoms = np.asarray(geoms, dtype=object)
    area = shapely.area(geoms)
    area = np.where(np.isnan(area), 0.0, area)
    return area / areal_scale(geoms, crs)


def area_mu(geoms, crs: pyproj.CRS) -> np.ndarray:
    """Ellipsoidal area in mu (1 mu = 10000/15 m²) of geometries in projected ``crs``."""
    return area_m2(geoms, crs) / M2_PER_MU


_DIRECTED: dict = {}


def reprojected(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """``gdf.to_crs(crs)``, the same coordinates to the last bit, through a cached
    transformer built in this direction (not :func:`transformer`'s inverse, which can
    differ in the last bit) and, for WGS84 ↔ CGCS2000, without PROJ's search."""
    if gdf.crs is None or gdf.crs.equals(crs):
        return gdf
    key = (gdf.crs, crs)
    if key not in _DIRECTED:
        _DIRECTED[key] = pyproj.Transformer.from_crs(*_search_free(gdf.crs, crs), always_xy=True)
    geoms = shapely.transform(np.asarray(gdf.geometry.values, dtype=object),
                              _DIRECTED[key].transform, interleaved=False)
    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=crs)
    return out


def to_metric(gdf: gpd.GeoDataFrame, crs: pyproj.CRS) -> np.ndarray:
    """The geometries of ``gdf`` reprojected to ``crs`` as a shapely object array."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if gdf.crs is not None and not gdf.crs.equals(crs):
        geoms = shapely.transform(geoms, transformer(gdf.crs, crs).transform, interleaved=False)
    return geoms
