"""Optional demo layers: protected land (生态保护红线, 永久基本农田) and named features.

Both are synthetic shapes placed relative to the demo zones; the feature names are
illustrative local road and river names used for 四至 descriptions ("东至…、南至…").
"""

from __future__ import annotations

import numpy as np
import geopandas as gpd
from shapely.geometry import LineString, Polygon

from demo_zones import METRIC_CRS, base_outline

# zone_id: (kind, name, angle of the boundary point it sits on (deg), area as share of zone)
PROTECTED = (
    ("G331116", "永久基本农田", "长兴县永久基本农田保护片区（林城）", 200.0, 0.16),
    ("G331113", "永久基本农田", "嘉善县永久基本农田保护片区（惠民）", 20.0, 0.10),
    ("G331113", "永久基本农田", "嘉善县永久基本农田保护片区（大云）", 250.0, 0.06),
    ("S337020", "生态保护红线", "宁海县生态保护红线（山体）", 120.0, 0.14),
    ("G331123", "生态保护红线", "丽水市生态保护红线（瓯江沿岸）", 290.0, 0.18),
    ("G331107", "永久基本农田", "临平区永久基本农田保护片区（塘栖）", 60.0, 0.05),
)
PROTECTED_OUTSIDE_GAP_M = 400.0   # the 临平 patch lies just outside its zone (no overlap)

# zone_id: names of the feature beyond its east, south, west and north side, then kinds.
FEATURES = {
    "S339022": ("滨海大道", "飞云江", "甬台温高速", "瓯江"),
    "G331116": ("104国道", "长兴港", "长湖申航道", "宁杭高速"),
    "G331107": ("东湖路", "上塘河", "京杭运河", "320国道"),
    "S337085": ("永宁江", "104国道", "甬台温高速复线", "椒黄快速路"),
    "G331123": ("好溪", "瓯江", "丽龙高速", "330国道"),
    "S337068": ("永康江", "330省道", "金丽温高速", "南溪"),
}
RIVER_HINTS = ("江", "河", "溪", "港", "航道")
FEATURE_OFFSET_M = (150.0, 450.0)   # distance beyond the zone's extreme on that side
FAR_FEATURE = ("G331116", "north", "申苏浙皖高速", 1600.0)   # a farther second feature


def protected_areas(zones: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Blobs centred on a zone's boundary (about half inside it), one just outside."""
    rng = np.random.default_rng(seed + 5)
    by_id = zones.set_index("zone_id")
    rows, geoms = [], []
    for zone_id, kind, name, angle_deg, share in PROTECTED:
        zone = by_id.geometry[zone_id]
        main = max(getattr(zone, "geoms", [zone]), key=lambda g: g.area)
        anchor = _boundary_point(main, np.radians(angle_deg))
        area = share * zone.area
        outline = base_outline(rng, 32)
        blob = Polygon(outline * np.sqrt(area / Polygon(outline).area) + anchor)
        if name.endswith("（塘栖）"):
            blob = _move_outside(blob, zone, anchor)
        rows.append({"kind": kind, "name": name})
        geoms.append(blob)
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)


def _boundary_point(poly, angle: float) -> np.ndarray:
    """Where the ray from the centroid at `angle` leaves the polygon."""
    c = np.array(poly.centroid.coords[0])
    far = c + 1e5 * np.array([np.cos(angle), np.sin(angle)])
    hit = LineString([c, far]).intersection(poly.exterior)
    pts = np.array([g.coords[0] for g in getattr(hit, "geoms", [hit])])
    return pts[np.argmin(np.hypot(*(pts - c).T))]


def _move_outside(blob, zone, anchor):
    """Push blob outward (away from the zone centroid) until it clears the zone by the gap."""
    c = np.array(zone.centroid.coords[0])
    d = (anchor - c) / np.hypot(*(anchor - c))
    step = 50.0
    moved = blob
    while moved.distance(zone) < PROTECTED_OUTSIDE_GAP_M:
        moved = Polygon(np.asarray(moved.exterior.coords) + d * step)
    return moved


def named_features(zones: gpd.GeoDataFrame, seed: int) -> gpd.GeoDataFrame:
    """Gently winding lines beyond the east/south/west/north extremes of some zones."""
    rng = np.random.default_rng(seed + 11)
    by_id = zones.set_index("zone_id")
    rows, geoms = [], []
    for zone_id, names in FEATURES.items():
        geom = by_id.geometry[zone_id]
        if zone_id == "S339022":          # the touching pair shares its outer features
            geom = geom.union(by_id.geometry["G331021"])
        for side, name in zip(("east", "south", "west", "north"), names):
            geoms.append(_side_line(geom, side, rng.uniform(*FEATURE_OFFSET_M), rng))
            rows.append({"name": name, "kind": _kind(name), "zone_id": zone_id, "side": side})
    zone_id, side, name, offset = FAR_FEATURE
    geoms.append(_side_line(by_id.geometry[zone_id], side, offset, rng))
    rows.append({"name": name, "kind": _kind(name), "zone_id": zone_id, "side": side})
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=METRIC_CRS)


def _kind(name: str) -> str:
    return "河流" if name.endswith(RIVER_HINTS) else "道路"


def _side_line(geom, side: str, offset: float, rng) -> LineString:
    minx, miny, maxx, maxy = geom.bounds
    span = 0.35 * max(maxx - minx, maxy - miny)
    wiggle = 60.0 if side in ("east", "west") else 80.0
    t = np.linspace(0.0, 1.0, 25)
    bend = wiggle * np.sin(2 * np.pi * (t * rng.uniform(0.8, 1.6) + rng.uniform(0, 1)))
    if side in ("east", "west"):
        x = (maxx + offset if side == "east" else minx - offset) + bend
        y = miny - span + t * (maxy - miny + 2 * span)
    else:
        y = (maxy + offset if side == "north" else miny - offset) + bend
        x = minx - span + t * (maxx - minx + 2 * span)
    return LineString(np.column_stack([x, y]))
