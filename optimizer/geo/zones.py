"""Validation of the zones layer (开发区四至范围) against ``schema.ZONE_COLUMNS``.

Rows in errors are the feature index + 2: the row a spreadsheet export of the
layer's attribute table shows (header = row 1, first feature = row 2), the
same convention as the enterprise table.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import ErrorCollector, InputError
from optimizer.schema import ZONE_COLUMNS

_POLYGON_TYPE_IDS = (3, 6)  # shapely type ids of Polygon and MultiPolygon


def _spreadsheet_row(position: int) -> int:
    return int(position) + 2


def _rename_aliases(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    renames = {}
    for col in ZONE_COLUMNS:
        if col.name in gdf.columns:
            continue
        for alias in col.aliases:
            if alias in gdf.columns:
                renames[alias] = col.name
                break
    return gdf.rename(columns=renames)


def _as_text(values: pd.Series) -> pd.Series:
    """Zone codes read as numbers (331108.0) become "331108"; missing becomes ""."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    return pd.Series([one(v) for v in values], index=values.index, dtype="str")


def validate_zones(gdf: gpd.GeoDataFrame, path) -> gpd.GeoDataFrame:
    """Canonical zones frame: str zone_id/name/level, float64 approved_area_ha, polygons.

    Checks: required columns (aliases accepted), non-empty unique zone_id,
    approved_area_ha a number ≥ 0, geometry a non-empty Polygon/MultiPolygon
    (飞地 parts of one zone come as one MultiPolygon). All problems are raised
    together as ``ValidationErrors`` with file/row/column/rule.
    """
    if len(gdf) == 0:
        raise InputError("zones layer holds no zone", file=path, rule="at least one zone")
    gdf = _rename_aliases(gdf)
    missing = [c.name for c in ZONE_COLUMNS if c.required and c.name not in gdf.columns]
    if missing:
        raise InputError(f"zones layer lacks required column(s) {', '.join(missing)}",
                         file=path, column=missing[0], rule="required column")
    errors = ErrorCollector()
    out = gdf.copy()
    for col in ZONE_COLUMNS:
        if col.kind == "str":
            out[col.name] = _as_text(out[col.name]) if col.name in out.columns else col.default
    _check_ids(out, path, errors)
    _check_area(out, path, errors)
    _check_geometry(out, path, errors)
    errors.raise_if_any()
    canonical = [c.name for c in ZONE_COLUMNS]
    rest = [c for c in out.columns if c not in canonical]
    return out[canonical + rest].reset_index(drop=True)


def _check_ids(out, path, errors):
    ids = out["zone_id"]
    for pos in np.flatnonzero((ids == "").to_numpy()):
        errors.add(InputError("zone_id is empty", file=path, row=_spreadsheet_row(pos),
                              column="zone_id", rule="required, non-empty"))
    dup = (ids.duplicated(keep="first") & (ids != "")).to_numpy()
    for pos in np.flatnonzero(dup):
        errors.add(InputError(f"zone_id {ids.iloc[pos]!r} appears twice", file=path,
                              row=_spreadsheet_row(pos), column="zone_id", rule="unique"))


def _check_area(out, path, errors):
    raw = out["approved_area_ha"]
    area = pd.to_numeric(raw, errors="coerce").astype("float64")
    for pos in np.flatnonzero(area.isna().to_numpy()):
        errors.add(InputError(f"approved_area_ha {raw.iloc[pos]!r} is not a number", file=path,
                              row=_spreadsheet_row(pos), column="approved_area_ha",
                              rule="required number"))
    for pos in np.flatnonzero((area < 0).to_numpy()):
        errors.add(InputError(f"approved_area_ha {area.iloc[pos]} is negative", file=path,
                              row=_spreadsheet_row(pos), column="approved_area_ha",
                              rule="≥ 0"))
    out["approved_area_ha"] = area


def _check_geometry(out, path, errors):
    geoms = np.asarray(out.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for pos in np.flatnonzero(empty):
        errors.add(InputError("boundary geometry is empty", file=path, row=_spreadsheet_row(pos),
                              column="geometry", rule="non-empty Polygon/MultiPolygon"))
    wrong = ~empty & ~np.isin(shapely.get_type_id(geoms), _POLYGON_TYPE_IDS)
    for pos in np.flatnonzero(wrong):
        errors.add(InputError(f"boundary is a {geoms[pos].geom_type}, not a polygon", file=path,
                              row=_spreadsheet_row(pos), column="geometry",
                              rule="Polygon or MultiPolygon"))
