"""Benchmark: parcels checked against zone boundaries (issue 5 target: 100,000 × 120 < 5 s).

Synthetic, seeded data: irregular star-shaped zones (400 vertices each) on a
grid across Zhejiang in WGS84, square parcels of 30–150 m inside them, 2%
pushed across a boundary, 5% without zone_id (spatial join), 1% declaring a
wrong zone. Prints the time of ``check_boundaries`` (reprojection of
zones and parcels to EPSG:4549 included; data generation excluded).

    .venv/bin/python scripts/bench_boundaries.py [--parcels 100000] [--zones 120]
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from optimizer.geo import check_boundaries
from optimizer.geo.areas import metric_crs, to_metric

GK_CM120 = 4549


def synthetic_zones(n_zones: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    cols = int(np.ceil(np.sqrt(n_zones)))
    k = np.arange(n_zones)
    cx = 380_000 + (k % cols) * 22_000.0
    cy = 3_050_000 + (k // cols) * 28_000.0
    n_vert = 400
    angle = np.linspace(0, 2 * np.pi, n_vert, endpoint=False)
    radius = rng.uniform(1_500, 4_000, n_zones)[:, None] \
        * (1 + 0.15 * np.sin(5 * angle + rng.uniform(0, 6, n_zones)[:, None])) \
        * rng.uniform(0.97, 1.03, (n_zones, n_vert))
    x = cx[:, None] + radius * np.cos(angle)
    y = cy[:, None] + radius * np.sin(angle)
    rings = shapely.polygons(np.stack([x, y], axis=-1))
    zones = gpd.GeoDataFrame({
        "zone_id": [f"Z{i:03d}" for i in k], "name": [f"开发区{i}" for i in k],
        "level": "provincial", "approved_area_ha": shapely.area(rings) / 10_000 * 0.95,
    }, geometry=rings, crs=GK_CM120)
    return zones.to_crs(4326)


def synthetic_parcels(zones: gpd.GeoDataFrame, n: int, rng: np.random.Generator):
    crs = metric_crs(zones)
    zgeom = to_metric(zones, crs)
    centre = shapely.centroid(zgeom)
    zone_of = rng.integers(0, len(zones), n)
    angle = rng.uniform(0, 2 * np.pi, n)
    dist = rng.uniform(0, 1_200, n)
    straddle = rng.random(n) < 0.02
    # pushed parcels sit on the zone's outline in that direction
    outline = shapely.get_exterior_ring(zgeom[zone_of])
    far = shapely.points(shapely.get_x(centre[zone_of]) + 10_000 * np.cos(angle),
                         shapely.get_y(centre[zone_of]) + 10_000 * np.sin(angle))
    ray = shapely.linestrings(np.stack([
        np.stack([shapely.get_x(centre[zone_of]), shapely.get_y(centre[zone_of])], axis=-1),
        np.stack([shapely.get_x(far), shapely.get_y(far)], axis=-1)], axis=1))
    x = shapely.get_x(centre[zone_of]) + dist * np.cos(angle)
    y = shapely.get_y(centre[zone_of]) + dist * np.sin(angle)
    if straddle.any():
        hit = shapely.intersection(ray[straddle], outline[straddle])
        pt = shapely.get_point(shapely.force_2d(hit), 0)
        pt = np.where(shapely.is_missing(pt), hit, pt)
        x[straddle], y[straddle] = shapely.get_x(pt), shapely.get_y(pt)
    half = rng.uniform(15, 75, n)
    parcels = shapely.box(x - half, y - half, x + half, y + half)
    zone_id = zones["zone_id"].to_numpy()[zone_of].astype(object)
    zone_id[rng.random(n) < 0.05] = ""
    wrong = rng.random(n) < 0.01
    zone_id[wrong] = zones["zone_id"].to_numpy()[(zone_of[wrong] + 1) % len(zones)]
    return gpd.GeoDataFrame({"id": [f"E{i:06d}" for i in range(n)], "zone_id": zone_id,
                             "land_mu": (2 * half) ** 2 / (10_000 / 15)},
                            geometry=parcels, crs=crs).to_crs(4326)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=100_000)
    parser.add_argument("--zones", type=int, default=120)
    parser.add_argument("--seed", type=int, default=20181)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    zones = synthetic_zones(args.zones, rng)
    parcels = synthetic_parcels(zones, args.parcels, rng)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = check_boundaries(zones, parcels)
        times.append(time.perf_counter() - start)
    print(f"{args.parcels:,} parcels (WGS84) × {args.zones} zones (400 vertices each)")
    print(f"check_boundaries: best {min(times):.2f} s, median {np.median(times):.2f} s "
          f"over {args.repeat} runs")
    print(f"violations {len(report.violations):,}, assigned {len(report.assigned_zones):,}, "
          f"mismatches {len(report.mismatches):,}, multi-zone {len(report.multi_zone):,}")


if __name__ == "__main__":
    main()
