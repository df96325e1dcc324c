"""Reading vector layers (zones, parcels, protected land, named features).

Any OGR format pyogrio reads (GeoPackage, Shapefile, GeoJSON) in any declared
CRS. Every problem a user can cause — a missing file, a file that is not a
layer, an unknown layer name, a layer without CRS — is an ``InputError``
naming the file (and the layer). Invalid geometries are repaired with shapely
``make_valid`` and listed as warnings, because digitised 四至 boundaries
often carry self-intersections that a planner cannot fix quickly.
"""

from __future__ import annotations

import warnings as warnings_module
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

from optimizer.errors import InputError


def read_layer(path, *, layer: str | None = None, crs=None,
               what: str = "zones") -> gpd.GeoDataFrame:
    """Read one layer; ``gdf.attrs["warnings"]`` lists repairs (list of str).

    ``layer=None`` takes the only layer, or the layer named ``what`` in a
    multi-layer file. ``crs`` is used only when the file declares none (a
    file that declares a different CRS wins, with a warning).
    """
    gdf, warnings = read_layer_checked(path, layer=layer, crs=crs, what=what)
    gdf.attrs["warnings"] = warnings
    return gdf


def read_layer_checked(path, *, layer: str | None = None, crs=None,
                       what: str = "zones") -> tuple[gpd.GeoDataFrame, list[str]]:
    """Like :func:`read_layer` but returns ``(gdf, warnings)``."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} layer file not found", file=path, rule="file exists")
    layer = _choose_layer(path, layer, what)
    try:
        with warnings_module.catch_warnings():
            # e.g. "Could not parse column as JSON": the column checks report it per row
            warnings_module.simplefilter("ignore", UserWarning)
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio/GDAL raise many types for unreadable data
        raise InputError(f"cannot read {what} layer {layer!r}: {exc}", file=path,
                         rule="readable vector layer") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or "geometry" not in gdf.columns:
        raise InputError(f"{what} layer {layer!r} has no geometry", file=path,
                         rule="vector layer with geometry")
    warnings: list[str] = []
    gdf = _apply_crs(gdf, path, layer, crs, what, warnings)
    gdf = repair_geometries(gdf, label=f"{path.name}:{layer}", warnings=warnings)
    return gdf, warnings


def _choose_layer(path: Path, layer: str | None, what: str) -> str:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise InputError(f"not a vector layer file ({what}): {exc}", file=path,
                         rule="GeoPackage/Shapefile/GeoJSON") from exc
    if not layers:
        raise InputError(f"file holds no layer ({what})", file=path, rule="vector layer")
    if layer is not None:
        if layer not in layers:
            raise InputError(f"layer {layer!r} not found; layers in the file: {', '.join(layers)}",
                             file=path, column=None, rule="layer exists")
        return layer
    if len(layers) == 1:
        return layers[0]
    if what in layers:
        return what
    raise InputError(f"file holds several layers ({', '.join(layers)}); name the {what} layer",
                     file=path, rule="layer named")


def _apply_crs(gdf, path, layer, crs, what, warnings):
    if gdf.crs is None:
        if crs is None:
            raise InputError(f"{what} layer {layer!r} declares no CRS; declare one in the file "
                             "or in the scenario", file=path, rule="CRS declared")
        return gdf.set_crs(pyproj.CRS.from_user_input(crs))
    if crs is not None and not gdf.crs.equals(pyproj.CRS.from_user_input(crs),
                                              ignore_axis_order=True):
        warnings.append(f"{path.name}:{layer}: the file declares {gdf.crs.to_string()}, "
                        f"the scenario {crs}; the file's CRS is used")
    return gdf


def repair_geometries(gdf: gpd.GeoDataFrame, *, label: str,
                      warnings: list[str]) -> gpd.GeoDataFrame:
    """Repair invalid geometries with ``make_valid``; append one warning per repair.

    Polygons are repaired with the "structure" method, which keeps only the
    polygonal parts (a bow-tie boundary becomes a MultiPolygon of its two
    lobes, never a GeometryCollection with stray lines).
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    invalid = np.flatnonzero(present & ~shapely.is_valid(geoms))
    if invalid.size == 0:
        return gdf
    bad = geoms[invalid]
    reasons = shapely.is_valid_reason(bad)
    polygonal = np.isin(shapely.get_type_id(bad), (3, 6))
    fixed = np.empty(bad.size, dtype=object)
    fixed[polygonal] = shapely.make_valid(bad[polygonal], method="structure",
                                          keep_collapsed=False)
    fixed[~polygonal] = shapely.make_valid(bad[~polygonal])
    out = gdf.copy()
    new = geoms.copy()
    new[invalid] = fixed
    out[out.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
    for i, why in zip(invalid, reasons):
        # feature index + 2 = the row a spreadsheet export of the layer shows
        warnings.append(f"{label}: feature row {int(i) + 2} had an invalid geometry ({why}); "
                        "repaired with make_valid")
    return out
