"""The report map: zone boundaries (四至范围), parcels coloured by quota change, violations.

Zhejiang's development zones lie tens of kilometres apart while a parcel is a
few hundred metres wide, so one map of all zones shows nothing useful. The map
is an overview of all zones followed by one panel per zone (small multiples),
each framed on its zone and its parcels with its own scale bar.

Geometries are projected to one metric CRS (a UTM zone estimated from the data
when it is in degrees — for Zhejiang UTM 50N/51N; a projected CRS is kept),
simplified to about a pixel and written as SVG paths with integer coordinates.
No tiles, no external reference. Parcels are polygons up to
``MAX_PARCEL_POLYGONS`` and points beyond; at most ``MAX_PARCELS`` (first by id)
and ``MAX_ZONE_PANELS`` zones are drawn, and the page says so.
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

CANVAS = 1000.0
MAX_PARCEL_POLYGONS = 8000
MAX_PARCELS = 30000
MAX_ZONE_PANELS = 24
# Diverging classes of quota change in %: cut (red) ... growth (blue); class 7 = no data.
CHANGE_BINS = np.array([-20.0, -5.0, -0.5, 0.5, 5.0, 20.0])
CHANGE_LABELS = ("≤ −20%", "−20…−5%", "−5…−0.5%", "±0.5%", "0.5…5%", "5…20%", "> 20%",
                 "无数据 no data")
CHANGE_COLOURS = ("#b2182b", "#ef8a62", "#fddbc7", "#f0f0f0", "#d1e5f0", "#67a9cf", "#2166ac",
                  "#bdbdbd")


@dataclass
class MapData:
    panels: list[Markup]                                       # overview first
    parcel_ids: list[str] = field(default_factory=list)
    classes: dict[str, str] = field(default_factory=dict)      # "variant|resource" -> digits
    notes: list[str] = field(default_factory=list)


def metric_crs(layers):
    """One metric CRS for all layers: a projected CRS is kept; degrees → the CRS the
    四至 checks measure in (:func:`optimizer.geo.metric_crs`: CGCS2000 3° Gauss-Krüger,
    UTM outside China; by formula, where geopandas' estimate_utm_crs queried the PROJ
    database for 0.04 s)."""
    first = next((g for g in layers if g is not None and not g.empty and g.crs is not None), None)
    if first is None:
        return None
    if not first.crs.is_geographic:
        return first.crs
    from optimizer.geo.areas import metric_crs as gauss_kruger

    return gauss_kruger(first)


def to_metric(gdf, crs):
    """The layer in ``crs`` (a layer without CRS is assumed to be in it already)."""
    if gdf is None or gdf.empty:
        return None
    if crs is None or gdf.crs is None or gdf.crs == crs:
        return gdf
    from optimizer.geo.areas import reprojected

    return reprojected(gdf, crs)


class Frame:
    """Metric bounds → canvas (y flipped), keeping the aspect ratio."""

    def __init__(self, bounds, canvas: float = CANVAS):
        minx, miny, maxx, maxy = bounds
        span = max(maxx - minx, maxy - miny) or 1.0
        pad = span * 0.04
        self.minx, self.maxy = minx - pad, maxy + pad
        self.scale = canvas / (span + 2 * pad)
        self.width = (maxx - minx + 2 * pad) * self.scale
        self.height = (maxy - miny + 2 * pad) * self.scale

    def xy(self, coords: np.ndarray) -> np.ndarray:
        out = np.empty_like(coords, dtype=float)
        out[:, 0] = (coords[:, 0] - self.minx) * self.scale
        out[:, 1] = (self.maxy - coords[:, 1]) * self.scale
        return np.rint(out).astype(np.int64)


def paths(geoms: np.ndarray, frame: Frame) -> list[str]:
    """SVG path data per (Multi)Polygon: one subpath per ring."""
    parts, part_index = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    by_geom: dict[int, list[str]] = {}
    if len(coords):
        xy = frame.xy(coords)
        starts = np.r_[0, np.flatnonzero(np.diff(coord_ring)) + 1]
        for rid, chunk in zip(coord_ring[starts], np.split(xy, starts[1:])):
            if len(chunk) >= 3:
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


def _parcels(parcels_gdf, results: list[VariantResult]):
    """Parcels sorted by id with a zone_id (from the layer, else from allocation.csv)."""
    if parcels_gdf is None or parcels_gdf.empty or "id" not in parcels_gdf.columns:
        return None, []
    gdf = parcels_gdf[parcels_gdf.geometry.notna() & ~parcels_gdf.geometry.is_empty]
    gdf = gdf.assign(id=gdf["id"].astype(str)).sort_values("id", kind="mergesort")
    if "zone_id" not in gdf.columns:
        zone_of = pd.concat([r.allocation[["id", "zone_id"]] for r in results
                             if {"id", "zone_id"} <= set(r.allocation.columns)] or
                            [pd.DataFrame({"id": [], "zone_id": []})]).drop_duplicates("id")
        gdf = gdf.assign(zone_id=gdf["id"].map(zone_of.set_index("id")["zone_id"]))
    zone_id = gdf["zone_id"].astype(object)
    gdf = gdf.assign(zone_id=zone_id.where(zone_id.notna(), "").astype(str))
    notes = []
    if len(gdf) > MAX_PARCELS:
        notes.append(f"地图仅显示前 {MAX_PARCELS} 个地块 (按编号) — the map shows the first "
                     f"{MAX_PARCELS} of {len(gdf)} parcels by id")
        gdf = gdf.iloc[:MAX_PARCELS]
    return gdf.reset_index(drop=True), notes


def build_map(results: list[VariantResult], zones_gdf=None, parcels_gdf=None,
              violations_gdf=None) -> MapData | None:
    parcels, notes = _parcels(parcels_gdf, results)
    crs = metric_crs([zones_gdf, parcels, violations_gdf])
    zones, parcels, violations = (to_metric(g, crs) for g in (zones_gdf, parcels, violations_gdf))
    if zones is None and parcels is None and violations is None:
        return None
    if parcels is not None and zones is not None and "zone_id" in zones.columns:
        parcels = _zone_by_location(parcels, zones)
    ids = parcels["id"].tolist() if parcels is not None else []
    classes = parcel_classes(parcels["id"], results) if parcels is not None else {}
    first = next(iter(classes.values()), "7" * len(ids))
    as_points = parcels is not None and (len(parcels) > MAX_PARCEL_POLYGONS or not parcels.geometry
                                         .geom_type.isin(["Polygon", "MultiPolygon"]).all())
    panels = []
    if zones is not None and len(zones) > 1:
        panels.append(_overview(zones, violations))
    groups, more = _panel_groups(zones, parcels)
    if more:
        notes.append(f"地图仅显示前 {MAX_ZONE_PANELS} 个开发区 — the map shows {MAX_ZONE_PANELS} "
                     f"of {more + MAX_ZONE_PANELS} zones (by id); all are in the tables")
    for title, zone_rows, parcel_index in groups:
        panels.append(_panel(title, zones, zone_rows, parcels, parcel_index, violations, first,
                             as_points))
    return MapData(panels, ids, classes, notes)


def _zone_by_location(parcels, zones):
    """Parcels whose zone_id is not a zone of the layer take the zone they lie in."""
    known = parcels["zone_id"].isin(zones["zone_id"].astype(str))
    if known.all():
        return parcels
    points = parcels.loc[~known, ["geometry"]].copy()
    points["geometry"] = points.geometry.representative_point()
    hits = points.sjoin(zones[["zone_id", "geometry"]].to_crs(points.crs)
                        if points.crs is not None and zones.crs is not None else
                        zones[["zone_id", "geometry"]], predicate="within", how="inner")
    first = hits[~hits.index.duplicated(keep="first")]["zone_id"].astype(str)
    zone_id = parcels["zone_id"].copy()
    zone_id.loc[first.index] = first
    return parcels.assign(zone_id=zone_id)


def _panel_groups(zones, parcels):
    """[(title, zone row positions, parcel positions)], one per zone; capped."""
    if zones is None:
        return [("地块 parcels", [], np.arange(len(parcels)))], 0
    order = np.argsort(zones["zone_id"].astype(str).to_numpy(), kind="mergesort") \
        if "zone_id" in zones.columns else np.arange(len(zones))
    names = _names(zones)
    zone_col = parcels["zone_id"].to_numpy() if parcels is not None else np.array([])
    groups = []
    for pos in order[:MAX_ZONE_PANELS]:
        zid = str(zones["zone_id"].iloc[pos]) if "zone_id" in zones.columns else ""
        groups.append((names[pos], [pos], np.flatnonzero(zone_col == zid)))
    return groups, max(len(zones) - MAX_ZONE_PANELS, 0)


def _panel(title, zones, zone_rows, parcels, parcel_index, violations, classes: str,
           as_points: bool) -> Markup:
    geoms = [zones.geometry.iloc[zone_rows]] if zones is not None and zone_rows else []
    if parcels is not None and len(parcel_index):
        geoms.append(parcels.geometry.iloc[parcel_index])
    if zone_rows and violations is not None and "zone_id" in violations.columns:
        own = violations["zone_id"].astype(str) == str(zones["zone_id"].iloc[zone_rows[0]])
        if own.any():
            geoms.append(violations.geometry[own.to_numpy()])
    bounds = np.array([g.total_bounds for g in geoms])
    frame = Frame((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()))
    tol = 1.0 / frame.scale
    body = []
    if zones is not None:
        near = _within_frame(zones, frame)
        body.append('<g class="zones">' + "".join(
            f'<path d="{d}"><title>{html_text(n)}</title></path>' for d, n in
            zip(paths(zones.geometry.iloc[near].simplify(tol).to_numpy(), frame),
                [_names(zones)[i] for i in near])) + "</g>")
    if parcels is not None and len(parcel_index):
        body.append(_parcel_layer(parcels, parcel_index, frame, tol, classes, as_points))
    if violations is not None:
        body.append(_violation_layer(violations.iloc[_within_frame(violations, frame)], frame, tol))
    body.append(_scale_bar(frame))
    svg = (f'<svg class="map" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" role="img" '
           f'aria-label="{html_text(title)}">' + "".join(body) + "</svg>")
    return Markup(f"<figure><figcaption>{html_text(title)} · {len(parcel_index)} 地块 parcels"
                  f"</figcaption>{svg}</figure>")


def _within_frame(gdf, frame: Frame) -> list[int]:
    """Row positions of features whose bounding box meets the frame."""
    b = gdf.geometry.bounds.to_numpy()
    maxx = frame.minx + frame.width / frame.scale
    miny = frame.maxy - frame.height / frame.scale
    hit = (b[:, 2] >= frame.minx) & (b[:, 0] <= maxx) & (b[:, 3] >= miny) & (b[:, 1] <= frame.maxy)
    return np.flatnonzero(hit).tolist()


def _overview(zones, violations) -> Markup:
    """All zones at once: where they are, with ids (their outlines are too small to read)."""
    frame = Frame(zones.total_bounds)
    pts = frame.xy(shapely.get_coordinates(zones.geometry.representative_point().to_numpy()))
    zid = zones["zone_id"].astype(str).tolist() if "zone_id" in zones.columns else \
        [str(i + 1) for i in range(len(zones))]
    outlines = paths(zones.geometry.simplify(1.0 / frame.scale).to_numpy(), frame)
    body = ['<g class="zones">' + "".join(f'<path d="{d}"/>' for d in outlines) + "</g>",
            '<g class="dots">' + "".join(
                f'<circle cx="{x}" cy="{y}" r="9"/><text x="{x + 14}" y="{y + 9}">'
                f"{html_text(z)}</text>" for (x, y), z in zip(pts.tolist(), zid)) + "</g>",
            _scale_bar(frame)]
    svg = (f'<svg class="map" viewBox="0 0 {frame.width:.0f} {frame.height:.0f}" role="img" '
           f'aria-label="overview">' + "".join(body) + "</svg>")
    return Markup(f"<figure><figcaption>总览 overview · {len(zones)} 个开发区 zones</figcaption>"
                  f"{svg}</figure>")


def _names(gdf) -> list[str]:
    zid = gdf["zone_id"].astype(str) if "zone_id" in gdf.columns else pd.Series([""] * len(gdf))
    name = gdf["name"].astype(str) if "name" in gdf.columns else pd.Series([""] * len(gdf))
    return [f"{a} {b}".strip() for a, b in zip(zid.tolist(), name.tolist())]


def _parcel_layer(parcels, index: np.ndarray, frame: Frame, tol: float, classes: str,
                  as_points: bool) -> str:
    geoms = parcels.geometry.iloc[index]
    if as_points:
        xy = frame.xy(shapely.get_coordinates(geoms.representative_point().to_numpy()))
        items = [f'<circle data-i="{i}" class="c{classes[i]}" cx="{x}" cy="{y}" r="4"/>'
                 for i, (x, y) in zip(index.tolist(), xy.tolist())]
    else:
        d = paths(geoms.simplify(tol).to_numpy(), frame)
        items = [f'<path data-i="{i}" class="c{classes[i]}" d="{p}"/>'
                 for i, p in zip(index.tolist(), d)]
    return '<g class="parcels">' + "".join(items) + "</g>"


def _violation_layer(violations, frame: Frame, tol: float) -> str:
    if violations.empty:
        return ""
    polygonal = violations.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    geoms = violations.geometry.where(polygonal, violations.geometry.buffer(3.0 / frame.scale))
    d = paths(geoms.simplify(tol).to_numpy(), frame)
    return '<g class="violations">' + "".join(f'<path d="{p}"/>' for p in d) + "</g>"


def _scale_bar(frame: Frame) -> str:
    """A 1-2-5 scale bar of about a fifth of the width, and a north arrow."""
    metres = (frame.width / 5) / frame.scale
    nice = 10 ** math.floor(math.log10(metres))
    nice = max(m * nice for m in (1, 2, 5) if m * nice <= metres)
    px = nice * frame.scale
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    y = frame.height - 16
    return (f'<g class="scalebar"><path d="M16 {y:.0f}h{px:.0f}"/>'
            f'<text x="16" y="{y - 10:.0f}">{label}</text>'
            f'<text x="{frame.width - 24:.0f}" y="34" text-anchor="middle">N↑</text></g>')
