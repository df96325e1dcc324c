"""The report map: zone boundaries (四至范围), parcels coloured by quota change, violations.

Geometries are projected to a metric CRS (a UTM zone estimated from the data
when it is in degrees — for Zhejiang UTM 50N/51N; a projected CRS is kept),
simplified to about one screen pixel and written as SVG paths with integer
coordinates on a 2000-unit canvas. No tiles, no external reference. Parcels are
drawn as polygons up to ``MAX_PARCEL_POLYGONS``, beyond that as points, and at
most ``MAX_PARCELS`` are drawn (the first by id; the page says so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from markupsafe import Markup

from optimizer.report.results import VariantResult, run_resources
from optimizer.report.safety import html_text

CANVAS = 2000.0
MAX_PARCEL_POLYGONS = 8000
MAX_PARCELS = 30000
# Diverging classes of quota change in %: cut (red) ... growth (blue); class 7 = no data.
CHANGE_BINS = np.array([-20.0, -5.0, -0.5, 0.5, 5.0, 20.0])
CHANGE_LABELS = ("≤ −20%", "−20…−5%", "−5…−0.5%", "±0.5%", "0.5…5%", "5…20%", "> 20%",
                 "无数据 no data")
CHANGE_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#f0f0f0", "#d1e5f0", "#67a9cf", "#2166ac",
                  "#bdbdbd")


@dataclass
class MapData:
    svg: Markup
    parcel_ids: list[str] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)     # "variant|resource" -> digits
    note: str = ""


def metric_crs(layers):
    """One metric CRS for all layers: degrees → estimated UTM; a projected CRS is kept."""
    first = next((g for g in layers if g is not None and not g.empty and g.crs is not None), None)
    if first is None:
        return None
    return first.estimate_utm_crs() if first.crs.is_geographic else first.crs


def to_metric(gdf, crs):
    """The layer in ``crs`` (a layer without CRS is assumed to be in it already)."""
    if gdf is None or gdf.empty:
        return None
    if crs is None or gdf.crs is None or gdf.crs == crs:
        return gdf
    return gdf.to_crs(crs)


class Frame:
    """Metric bounds → canvas (y flipped), keeping the aspect ratio."""

    def __init__(self, bounds):
        minx, miny, maxx, maxy = bounds
        span = max(maxx - minx, maxy - miny) or 1.0
        pad = span * 0.03
        self.minx, self.maxy = minx - pad, maxy + pad
        self.scale = CANVAS / (span + 2 * pad)
        self.width = (maxx - minx + 2 * pad) * self.scale
        self.height = (maxy - miny + 2 * pad) * self.scale

    def xy(self, coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords)
        out[:, 0] = (coords[:, 0] - self.minx) * self.scale
        out[:, 1] = (self.maxy - coords[:, 1]) * self.scale
        return np.rint(out).astype(np.int64)


def paths(geoms: np.ndarray, frame: Frame) -> list[str]:
    """SVG path data per (Multi)Polygon: one subpath per ring."""
    parts, part_index = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    xy = frame.xy(coords)
    starts = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
    ring_ids = coord_ring[starts]
    chunks = np.split(xy, starts[1:])
    by_geom: dict[int, list[str]] = {}
    for rid, chunk in zip(ring_ids, chunks):
        if len(chunk) < 3:
            continue
        flat = " ".join(f"{x} {y}" for x, y in chunk[:-1])
        by_geom.setdefault(int(part_index[ring_part[rid]]), []).append(f"M{flat}Z")
    return ["".join(by_geom.get(i, [])) for i in range(len(geoms))]


def change_classes(pct: pd.Series) -> str:
    """One digit per parcel: the change class (7 = no data)."""
    values = pd.to_numeric(pct, errors="coerce").to_numpy(dtype=float)
    cls = np.digitize(values, CHANGE_BINS)
    cls[~np.isfinite(values)] = 7
    return "".join(map(str, cls.tolist()))


def parcel_classes(ids: pd.Series, results: list[VariantResult]) -> dict[str, str]:
    out = {}
    for res in results:
        alloc = res.allocation.drop_duplicates("id").set_index("id") \
            if "id" in res.allocation.columns else pd.DataFrame()
        for r in run_resources(results):
            col = f"{r}_change_pct"
            series = alloc[col].reindex(ids) if col in alloc.columns else \
                pd.Series(np.nan, index=ids)
            out[f"{res.name}|{r}"] = change_classes(series)
    return out


def _parcels(parcels_gdf) -> tuple[pd.DataFrame | None, str]:
    if parcels_gdf is None or parcels_gdf.empty or "id" not in parcels_gdf.columns:
        return None, ""
    gdf = parcels_gdf[~parcels_gdf.geometry.is_empty & parcels_gdf.geometry.notna()]
    gdf = gdf.assign(id=gdf["id"].astype(str)).sort_values("id", kind="mergesort")
    note = ""
    if len(gdf) > MAX_PARCELS:
        note = f"地图仅显示前 {MAX_PARCELS} 个地块 (按编号) — map shows the first {MAX_PARCELS} " \
               f"of {len(gdf)} parcels by id"
        gdf = gdf.iloc[:MAX_PARCELS]
    return gdf, note


def build_map(results: list[VariantResult], zones_gdf=None, parcels_gdf=None,
              violations_gdf=None) -> MapData | None:
    parcels, note = _parcels(parcels_gdf)
    crs = metric_crs([zones_gdf, parcels, violations_gdf])
    zones, parcels, violations = (to_metric(g, crs) for g in (zones_gdf, parcels, violations_gdf))
    if zones is None and parcels is None and violations is None:
        return None
    bounds = np.array([g.total_bounds for g in (zones, parcels) if g is not None] or
                      [violations.total_bounds])
    frame = Frame((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()))
    tol = 1.0 / frame.scale
    body = [_zone_layer(zones, frame, tol)]
    ids, classes = [], {}
    if parcels is not None:
        ids = parcels["id"].tolist()
        classes = parcel_classes(parcels["id"], results)
        first = next(iter(classes.values()), "7" * len(ids))
        body.append(_parcel_layer(parcels, frame, tol, first))
    body.append(_violation_layer(violations, frame, tol))
    body.append(_labels(zones, frame) + _scale_bar(frame))
    svg = (f'<svg class="map" id="map-svg" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" '
           f'role="img" aria-label="map"><title>开发区四至与地块 zones and parcels</title>'
           + "".join(body) + "</svg>")
    return MapData(Markup(svg), ids, classes, note)


def _zone_layer(zones, frame: Frame, tol: float) -> str:
    if zones is None:
        return ""
    d = paths(zones.geometry.simplify(tol).to_numpy(), frame)
    names = _names(zones)
    return '<g class="zones">' + "".join(
        f'<path d="{p}"><title>{html_text(n)}</title></path>' for p, n in zip(d, names)) + "</g>"


def _names(gdf) -> list[str]:
    zid = gdf["zone_id"].astype(str) if "zone_id" in gdf.columns else pd.Series([""] * len(gdf))
    name = gdf["name"].astype(str) if "name" in gdf.columns else pd.Series([""] * len(gdf))
    return [f"{a} {b}".strip() for a, b in zip(zid.tolist(), name.tolist())]


def _parcel_layer(parcels, frame: Frame, tol: float, classes: str) -> str:
    geoms = parcels.geometry
    polygonal = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    if polygonal and len(parcels) <= MAX_PARCEL_POLYGONS:
        d = paths(geoms.simplify(tol).to_numpy(), frame)
        items = [f'<path data-i="{i}" class="c{c}" d="{p}"/>'
                 for i, (p, c) in enumerate(zip(d, classes))]
    else:
        xy = frame.xy(shapely.get_coordinates(geoms.representative_point().to_numpy()))
        items = [f'<circle data-i="{i}" class="c{c}" cx="{x}" cy="{y}" r="5"/>'
                 for i, ((x, y), c) in enumerate(zip(xy.tolist(), classes))]
    return '<g class="parcels" id="map-parcels">' + "".join(items) + "</g>"


def _violation_layer(violations, frame: Frame, tol: float) -> str:
    if violations is None or violations.empty:
        return ""
    polygonal = violations.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    geoms = violations.geometry.where(polygonal, violations.geometry.buffer(3.0 / frame.scale))
    d = paths(geoms.simplify(tol).to_numpy(), frame)
    return '<g class="violations">' + "".join(f'<path d="{p}"/>' for p in d) + "</g>"


def _labels(zones, frame: Frame) -> str:
    if zones is None:
        return ""
    pts = frame.xy(shapely.get_coordinates(zones.geometry.representative_point().to_numpy()))
    return '<g class="labels">' + "".join(
        f'<text x="{x}" y="{y}" text-anchor="middle">{html_text(n)}</text>'
        for (x, y), n in zip(pts.tolist(), _names(zones))) + "</g>"


def _scale_bar(frame: Frame) -> str:
    """A 1-2-5 scale bar of about a fifth of the width, and a north arrow."""
    metres = (CANVAS / 5) / frame.scale
    nice = 10 ** math.floor(math.log10(metres))
    nice = max(m * nice for m in (1, 2, 5) if m * nice <= metres)
    px = nice * frame.scale
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    y = frame.height - 30
    return (f'<g class="scalebar"><path d="M30 {y:.0f}h{px:.0f}" stroke="#000" stroke-width="6"/>'
            f'<text x="30" y="{y - 14:.0f}">{label}</text>'
            f'<text x="{frame.width - 40:.0f}" y="60" text-anchor="middle">北 N ↑</text></g>')
