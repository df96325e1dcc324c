"""Enterprise parcels (地块) laid out in rows inside each zone, like a real industrial park.

Each parcel is a rectangle of exactly the firm's land (land_mu × 10000/15 m² in EPSG:4549),
aspect 1–2.2. Per zone, parcels are sorted by depth and packed in rows separated by
streets, inside the zone minus protected land and a setback; each zone's grid is turned
by its own angle. A few parcels are then pushed across the boundary on purpose (四至 demo).
The loops run per zone and per row; all per-parcel work is vectorised.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString
from shapely import affinity
from shapely.ops import nearest_points

M2_PER_MU = 10000.0 / 15.0
STREET_M = (150.0, 100.0, 70.0, 45.0, 30.0, 18.0)   # row gaps tried, widest first
GAP_M = 6.0            # gap between neighbouring parcels in a row
SETBACK_M = 12.0       # distance kept from the zone boundary and protected land


class PackingError(RuntimeError):
    pass


def _intervals(region, y: float, x0: float, x1: float) -> list[tuple[float, float]]:
    cut = LineString([(x0, y), (x1, y)]).intersection(region)
    parts = getattr(cut, "geoms", [cut])
    return sorted((min(p.coords[0][0], p.coords[-1][0]), max(p.coords[0][0], p.coords[-1][0]))
                  for p in parts if p.geom_type == "LineString" and not p.is_empty)


def _intersect(a, b):
    out = []
    for lo1, hi1 in a:
        for lo2, hi2 in b:
            lo, hi = max(lo1, lo2), min(hi1, hi2)
            if hi > lo:
                out.append((lo, hi))
    return out


def band_intervals(region, top: float, height: float) -> list[tuple[float, float]]:
    """x-intervals where the band [top − height, top] lies inside region (sampled at 5 lines)."""
    x0, _, x1, _ = region.bounds
    result = _intervals(region, top, x0 - 1, x1 + 1)
    for frac in (0.25, 0.5, 0.75, 1.0):
        result = _intersect(result, _intervals(region, top - frac * height, x0 - 1, x1 + 1))
    return result


def pack_zone(region, area_m2: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """Pack with the widest street gap that fits everything, so parcels fill the whole zone."""
    for street in STREET_M:
        boxes, placed = _pack(region, area_m2, np.random.default_rng(rng.integers(2**32)), street)
        if placed.all():
            break
    return boxes, placed


def _pack(region, area_m2: np.ndarray, rng, street: float, sweeps: int = 4):
    """Rectangles (xmin, ymin, xmax, ymax) of the given areas packed in rows inside region.

    Later sweeps pack what is left into the space the earlier rows left free.
    Returns boxes (n, 4) in input order and a bool mask of placed items.
    """
    n = area_m2.size
    aspect = rng.uniform(1.0, 2.2, n)
    depth = np.sqrt(area_m2 / aspect)
    width = area_m2 / depth
    boxes = np.zeros((n, 4))
    placed = np.zeros(n, dtype=bool)
    free = region
    for sweep in range(sweeps):
        todo = np.flatnonzero(~placed)
        if todo.size == 0:
            break
        _sweep(free, todo[np.argsort(-depth[todo], kind="mergesort")], depth, width, boxes, placed,
               rng, street)
        done = shapely.box(*boxes[placed].T)
        free = region.difference(shapely.union_all(done).buffer(GAP_M, join_style="mitre"))
    return boxes, placed


def _sweep(region, pending, depth, width, boxes, placed, rng, street: float) -> None:
    """One top-to-bottom pass of rows over region, placing what fits (in place)."""
    _, miny, _, top = region.bounds
    while pending.size and top > miny:
        height = depth[pending[0]]
        taken = []
        for lo, hi in band_intervals(region, top, height):
            fits = pending[width[pending] <= hi - lo]
            cum = np.cumsum(width[fits] + GAP_M) - GAP_M
            row = fits[: np.searchsorted(cum, hi - lo, side="right")]
            if row.size == 0:
                continue
            row = row[rng.permutation(row.size)]
            # Spread the row a little (up to 20 m extra per gap) and leave the rest of the
            # interval free at its end for a later sweep.
            slack = min((hi - lo - width[row].sum()) / (row.size + 1), GAP_M + 20.0)
            left = lo + slack * np.arange(1, row.size + 1) + np.concatenate([[0], np.cumsum(width[row])[:-1]])
            boxes[row] = np.column_stack([left, top - depth[row], left + width[row], np.full(row.size, top)])
            taken.append(row)
            pending = np.setdiff1d(pending, row, assume_unique=True)
            pending = pending[np.argsort(-depth[pending], kind="mergesort")]
        if taken:
            row = np.concatenate(taken)
            ok = shapely.within(shapely.box(*boxes[row].T), region)
            placed[row[ok]] = True
            back = row[~ok]
            if back.size:
                pending = np.concatenate([pending, back])
                pending = pending[np.argsort(-depth[pending], kind="mergesort")]
            top -= height + street
        else:
            top -= min(street, 20.0)


def layout_parcels(zones, protected, zone_of_firm: np.ndarray, land_mu: np.ndarray, seed: int):
    """Parcel polygons (metric CRS) for every firm, zone by zone. Raises PackingError if full."""
    rng = np.random.default_rng(seed + 3)
    geoms = np.empty(land_mu.size, dtype=object)
    blocked = shapely.union_all(protected.geometry.values) if len(protected) else None
    for zi, zone in enumerate(zones.geometry.values):
        members = np.flatnonzero(zone_of_firm == zi)
        if members.size == 0:
            continue
        region = zone if blocked is None else zone.difference(blocked)
        region = region.buffer(-SETBACK_M)
        centre = zone.centroid
        angle = rng.uniform(-35.0, 35.0)
        turned = affinity.rotate(region, -angle, origin=centre)
        boxes, placed = pack_zone(turned, land_mu[members] * M2_PER_MU, rng)
        if not placed.all():
            raise PackingError(f"zone {zi}: {int((~placed).sum())} of {members.size} parcels do not fit")
        rects = shapely.box(*boxes.T)
        geoms[members] = [affinity.rotate(r, angle, origin=centre) for r in rects]
    return geoms


def push_across_boundary(zones, parcels: np.ndarray, zone_of_firm: np.ndarray,
                         picks: list[tuple[int, float]], neighbour: tuple[int, int] | None):
    """Move chosen parcels so part of each lies outside its zone (四至 violations demo).

    picks: (zone index, share of the parcel to push outside). For each zone the parcel
    nearest its boundary moves outward along the boundary normal. `neighbour` (a, b)
    additionally pushes the parcel of zone a nearest zone b into b (a parcel in two zones).
    Returns the indices of the moved parcels.
    """
    moved = []
    for zi, share in picks:
        members = np.flatnonzero(zone_of_firm == zi)
        zone = zones.geometry.values[zi]
        dist = shapely.distance(parcels[members], zone.boundary)
        i = members[np.argsort(dist, kind="mergesort")[0]]
        parcels[i] = _shift_out(parcels[i], zone, share)
        moved.append(i)
    if neighbour is not None:
        a, b = neighbour
        members = np.flatnonzero(zone_of_firm == a)
        target = zones.geometry.values[b]
        dist = shapely.distance(parcels[members], target)
        i = members[np.argsort(dist, kind="mergesort")[0]]
        parcels[i] = _shift_out(parcels[i], zones.geometry.values[a], 0.5)
        moved.append(i)
    return np.array(moved)


def _shift_out(parcel, zone, share: float):
    """Translate parcel along the outward normal until `share` of its area is outside zone."""
    c = parcel.centroid
    near = nearest_points(zone.boundary, c)[0]
    d = np.array([near.x - c.x, near.y - c.y])
    d /= max(np.hypot(*d), 1e-9)
    lo, hi = 0.0, c.distance(near) + 2.0 * np.sqrt(parcel.area) * 2.0
    for _ in range(50):      # bisection: the share outside grows with the step
        mid = 0.5 * (lo + hi)
        moved = affinity.translate(parcel, d[0] * mid, d[1] * mid)
        if moved.difference(zone).area / parcel.area < share:
            lo = mid
        else:
            hi = mid
    return affinity.translate(parcel, d[0] * hi, d[1] * hi)
