"""四至 descriptions: "东至…、南至…、西至…、北至…" per zone.

For each side the zone's extreme point is taken (the middle of its eastmost
edge, etc.). A named feature (road, river) is *beyond* the east side when
part of it lies in the strip east of that extreme (from the extreme minus the
tolerance, ``search_m`` deep, as tall as the zone); the nearest such part to
the extreme point names the side ("东至104国道"). Without a
feature the side is described by the extreme coordinate, as planning
documents do for unbounded sides ("东至东经120.1234°").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from optimizer.geo.areas import WGS84, transformer

# side, index into shapely.bounds (xmin, ymin, xmax, ymax) of that side
SIDES = (("东", 2), ("南", 1), ("西", 0), ("北", 3))
DEFAULT_SEARCH_M = 1000.0


def extreme_points(zones: np.ndarray, tolerance_m: float = 1.0) -> dict[str, np.ndarray]:
    """Per side, the middle of the zone's extreme edge (vertices within the tolerance)."""
    coords, owner = shapely.get_coordinates(zones, return_index=True)
    frame = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "zone": owner})
    by_zone = frame.groupby("zone", sort=True)
    out = {}
    for side, col, other, sign in (("东", "x", "y", 1), ("西", "x", "y", -1),
                                   ("北", "y", "x", 1), ("南", "y", "x", -1)):
        extreme = (sign * frame[col]).groupby(frame["zone"]).transform("max") * sign
        edge = frame[(frame[col] - extreme).abs() <= tolerance_m]
        span = edge.groupby("zone", sort=True)[other].agg(["min", "max"])
        mid = (span["min"] + span["max"]).to_numpy() / 2.0
        at = by_zone[col].max() if sign > 0 else by_zone[col].min()
        xy = (at.to_numpy(), mid) if col == "x" else (mid, at.to_numpy())
        pts = np.empty(zones.size, dtype=object)
        pts[span.index.to_numpy()] = shapely.points(*xy)
        out[side] = pts
    return out


def _beyond_boxes(zones, side_col, search_m, tolerance_m):
    """Strips beyond one side of each zone: ``search_m`` deep, as wide as the zone."""
    b = shapely.bounds(zones)
    xmin, ymin, xmax, ymax = (b[:, i] for i in range(4))
    if side_col == 2:
        box = (xmax - tolerance_m, ymin, xmax + search_m, ymax)
    elif side_col == 0:
        box = (xmin - search_m, ymin, xmin + tolerance_m, ymax)
    elif side_col == 3:
        box = (xmin, ymax - tolerance_m, xmax, ymax + search_m)
    else:
        box = (xmin, ymin - search_m, xmax, ymin + tolerance_m)
    return shapely.box(*box)


def nearest_features(zones: np.ndarray, features: np.ndarray, names: np.ndarray, *,
                     search_m: float = DEFAULT_SEARCH_M,
                     tolerance_m: float = 1.0) -> dict[str, np.ndarray]:
    """Per side, the name of the nearest feature beyond it ("" when none)."""
    extremes = extreme_points(zones, tolerance_m)
    tree = shapely.STRtree(features)
    out = {}
    for side, col in SIDES:
        boxes = _beyond_boxes(zones, col, search_m, tolerance_m)
        z, f = tree.query(boxes, predicate="intersects")
        found = np.full(zones.size, "", dtype=object)
        if z.size:
            parts = shapely.intersection(features[f], boxes[z])
            dist = shapely.distance(extremes[side][z], parts)
            cand = pd.DataFrame({"zone": z, "dist": dist, "name": names[f]})
            cand = cand[cand["dist"] <= search_m]
            best = cand.sort_values(["zone", "dist", "name"], kind="mergesort") \
                .drop_duplicates("zone")
            found[best["zone"].to_numpy()] = best["name"].to_numpy()
        out[side] = found
    return out


def describe_sizhi(zones: np.ndarray, crs, features: np.ndarray | None = None,
                   feature_names: np.ndarray | None = None, *,
                   search_m: float = DEFAULT_SEARCH_M, tolerance_m: float = 1.0) -> list[str]:
    """四至 text per zone; ``zones``/``features`` in metric ``crs``."""
    to_deg = transformer(crs, WGS84)
    extremes = extreme_points(zones, tolerance_m)
    deg = {}
    for side, _ in SIDES:
        x, y = shapely.get_x(extremes[side]), shapely.get_y(extremes[side])
        lon, lat = to_deg.transform(x, y)
        deg[side] = lon if side in ("东", "西") else lat
    named = {side: np.full(zones.size, "", dtype=object) for side, _ in SIDES}
    if features is not None and features.size:
        named = nearest_features(zones, features, feature_names, search_m=search_m,
                                 tolerance_m=tolerance_m)
    texts = []
    for i in range(zones.size):  # one string per zone (≈120), not per enterprise
        parts = []
        for side, _ in SIDES:
            label = named[side][i]
            if not label:
                axis = "东经" if side in ("东", "西") else "北纬"
                label = f"{axis}{deg[side][i]:.4f}°"
            parts.append(f"{side}至{label}")
        texts.append("、".join(parts))
    return texts
