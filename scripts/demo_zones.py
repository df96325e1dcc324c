"""Zone boundaries (四至范围) for the demo data: real catalogue rows, synthetic polygons.

Each zone keeps its real code, name, level and approved area (核准面积) from the 2018
national catalogue; its polygon is synthetic: an irregular star-shaped outline around
the catalogue point, clipped to the county polygon and scaled by bisection until its
area in EPSG:4549 equals the approved area.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.ops import nearest_points

METRIC_CRS = "EPSG:4549"   # CGCS2000 / 3-degree Gauss-Kruger CM 120E, suits Zhejiang
M2_PER_HA = 10000.0

# Rows of the catalogue whose coordinates must not be used (reference README):
# geocoded outside Zhejiang, into the wrong city, or only to a city centroid.
BAD_GEOCODES = frozenset({
    "G331108", "G332083", "G332087", "S339086", "S339091", "S338105",   # outside Zhejiang
    "S337062", "S339054",                                                # wrong city
    "G333055", "G331122", "G332089",                                     # city centroid only
})

# The ten demo zones: 6 national, 4 provincial, 9 cities, 511–2,747 ha, all industrial
# (经开区/高新区/工业园区 or 省级经济开发区). The first two sit 700 m apart in 龙湾区 and are
# built as one outline split in two (touching: 整合提升 demo); 黄岩 is an enclave zone (飞地).
DEMO_ZONES = (
    "G331021",   # 温州经济技术开发区, national, 511 ha — touches S339022
    "S339022",   # 浙江温州滨海工业园区, provincial, 1,706 ha
    "G331107",   # 杭州余杭经济技术开发区, national, 2,747 ha (now in 临平区)
    "G331116",   # 长兴经济技术开发区, national, 1,900 ha
    "G331113",   # 嘉善经济技术开发区, national, 1,820 ha
    "S337020",   # 浙江宁海经济开发区, provincial, 1,460 ha
    "G332088",   # 绍兴高新技术产业开发区, national, 1,044 ha
    "S337085",   # 浙江黄岩经济开发区, provincial, 764 ha — two parts (飞地)
    "S337068",   # 浙江永康经济开发区, provincial, 743 ha
    "G331123",   # 丽水经济技术开发区, national, 565 ha
)
TOUCHING_PAIR = ("G331021", "S339022")
ENCLAVE_ZONE = "S337085"
ENCLAVE_SHARE = 0.28          # share of the approved area in the detached part
ENCLAVE_OFFSET_M = 4500.0     # distance of the detached part from the main part


def read_catalogue(zones_csv, counties_gpkg) -> gpd.GeoDataFrame:
    """Catalogue rows with usable coordinates, joined to their county polygon (metric CRS)."""
    cat = pd.read_csv(zones_csv, dtype={"code": str, "approved": str})
    cat = cat[~cat["code"].isin(BAD_GEOCODES) & cat["geocode_status"].str.endswith("|ok")]
    pts = gpd.GeoDataFrame(cat, geometry=gpd.points_from_xy(cat["lon_wgs84"], cat["lat_wgs84"]),
                           crs="EPSG:4326").to_crs(METRIC_CRS)
    counties = read_counties(counties_gpkg)
    joined = gpd.sjoin(pts, counties, how="inner", predicate="within")
    joined = joined.rename(columns={"city_left": "catalogue_city", "city_right": "city",
                                    "district": "county", "index_right": "county_index"})
    return joined.sort_values("code", kind="mergesort").reset_index(drop=True)


def read_counties(counties_gpkg) -> gpd.GeoDataFrame:
    counties = gpd.read_file(counties_gpkg, layer="counties").to_crs(METRIC_CRS)
    counties["geometry"] = shapely.make_valid(counties.geometry.values)
    return counties


def base_outline(rng: np.random.Generator, n_vertices: int = 40) -> np.ndarray:
    """A unit-area-ish irregular star-shaped outline (x, y) around the origin.

    Low harmonics give lobes, a random elongation gives the stretched shape of a
    zone laid out along a road or river; radius stays positive so the outline is
    star-shaped and scaling it about the origin grows it monotonically.
    """
    theta = np.linspace(0.0, 2.0 * np.pi, n_vertices, endpoint=False)
    radius = np.ones(n_vertices)
    for k in range(2, 6):
        radius += rng.uniform(0.03, 0.16) / k * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    radius *= rng.uniform(0.92, 1.08, n_vertices)
    stretch = rng.uniform(1.2, 1.7)
    angle = rng.uniform(0, np.pi)
    x, y = radius * np.cos(theta) * stretch, radius * np.sin(theta) / stretch
    c, s = np.cos(angle), np.sin(angle)
    return np.column_stack([c * x - s * y, s * x + c * y])


def _piece(outline, centre, scale, region):
    """The scaled outline at centre, cut to region, keeping the part holding centre."""
    poly = Polygon(outline * scale + centre)
    cut = poly.intersection(region) if region is not None else poly
    if isinstance(cut, MultiPolygon) or cut.geom_type == "GeometryCollection":
        parts = [g for g in getattr(cut, "geoms", []) if g.geom_type == "Polygon"]
        holder = [g for g in parts if g.contains(Point(centre))]
        cut = holder[0] if holder else max(parts, key=lambda g: g.area, default=Polygon())
    return cut


def exact_area_polygon(outline, centre, target_m2, region=None) -> Polygon:
    """Scale `outline` about `centre` by bisection until (outline ∩ region) has target_m2."""
    lo, hi = 0.0, np.sqrt(target_m2 / Polygon(outline).area)
    while _piece(outline, centre, hi, region).area < target_m2:
        hi *= 1.5
        if hi > 50 * np.sqrt(target_m2):
            raise ValueError("region too small for the target area")
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _piece(outline, centre, mid, region).area < target_m2:
            lo = mid
        else:
            hi = mid
    return shapely.set_precision(_piece(outline, centre, hi, region), 0.0)


def inland_centre(point: Point, county, radius_m: float) -> np.ndarray:
    """Move a catalogue point inland when a zone of this radius would stick out of the county.

    Coastal catalogue points (滨海, 杭州湾) often sit on the shoreline; the zone then grows
    mostly inland. The move goes toward the county's interior in small steps.
    """
    centre = np.array([point.x, point.y])
    inner = county.representative_point()
    target = np.array([inner.x, inner.y])
    for _ in range(12):
        disc = Point(centre).buffer(radius_m)
        if disc.difference(county).area < 0.08 * disc.area:
            break
        step = target - centre
        centre = centre + step * min(1.0, 0.35 * radius_m / max(np.hypot(*step), 1.0))
    return centre


def split_exact(poly: Polygon, direction: np.ndarray, area_first: float):
    """Split poly by a line normal to `direction` so the first part has area_first (bisection)."""
    d = direction / np.hypot(*direction)
    c = np.array(poly.centroid.coords[0])
    proj = (np.asarray(poly.exterior.coords) - c) @ d
    lo, hi = proj.min(), proj.max()
    big = 10 * (hi - lo)
    normal = np.array([-d[1], d[0]])

    def first(t):
        a, b = c + d * (proj.min() - big), c + d * t
        half = Polygon([a - normal * big, b - normal * big, b + normal * big, a + normal * big])
        return poly.intersection(half)

    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if first(mid).area < area_first:
            lo = mid
        else:
            hi = mid
    part1 = first(hi)
    return part1, poly.difference(part1)


def build_demo_zones(catalogue: gpd.GeoDataFrame, counties: gpd.GeoDataFrame,
                     seed: int) -> gpd.GeoDataFrame:
    """The ten demo zones with exact-area polygons (metric CRS)."""
    rng = np.random.default_rng(seed)
    rows = catalogue.set_index("code").loc[list(DEMO_ZONES)]
    geoms = {}
    for code in DEMO_ZONES:
        if code in geoms:
            continue
        row = rows.loc[code]
        county = counties.geometry.iloc[int(row["county_index"])]
        outline = base_outline(rng)
        if code in TOUCHING_PAIR:
            other = rows.loc[TOUCHING_PAIR[1]]
            area = (row["area_ha"] + other["area_ha"]) * M2_PER_HA
            w = row["area_ha"] / (row["area_ha"] + other["area_ha"])
            mid = Point(w * row.geometry.x + (1 - w) * other.geometry.x,
                        w * row.geometry.y + (1 - w) * other.geometry.y)
            centre = inland_centre(mid, county, np.sqrt(area / np.pi))
            union = exact_area_polygon(outline, centre, area, county)
            direction = np.array([other.geometry.x - row.geometry.x, other.geometry.y - row.geometry.y])
            first, second = split_exact(union, direction, row["area_ha"] * M2_PER_HA)
            geoms[TOUCHING_PAIR[0]], geoms[TOUCHING_PAIR[1]] = first, second
        elif code == ENCLAVE_ZONE:
            geoms[code] = _enclave(rng, outline, row, county)
        else:
            area = row["area_ha"] * M2_PER_HA
            centre = inland_centre(row.geometry, county, np.sqrt(area / np.pi))
            geoms[code] = exact_area_polygon(outline, centre, area, county)
    return _zone_frame(rows, [geoms[c] for c in DEMO_ZONES])


def _enclave(rng, outline, row, county) -> MultiPolygon:
    """飞地: a main part at the catalogue point and a detached part a few km away."""
    area = row["area_ha"] * M2_PER_HA
    main_area, far_area = area * (1 - ENCLAVE_SHARE), area * ENCLAVE_SHARE
    centre = inland_centre(row.geometry, county, np.sqrt(area / np.pi))
    main = exact_area_polygon(outline, centre, main_area, county)
    # First direction (of 12) where the detached part fits well inside the county.
    for angle in np.linspace(0.3, 2 * np.pi + 0.3, 12, endpoint=False):
        far_centre = centre + ENCLAVE_OFFSET_M * np.array([np.cos(angle), np.sin(angle)])
        if county.contains(Point(far_centre).buffer(np.sqrt(far_area / np.pi) * 1.6)):
            break
    else:
        raise ValueError(f"{row.name}: no room for the enclave part in its county")
    far = exact_area_polygon(base_outline(rng), far_centre, far_area, county.difference(main))
    return MultiPolygon([main, far])


def _zone_frame(rows: pd.DataFrame, geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "zone_id": rows.index.astype(str),
        "name": rows["name"].astype(str).values,
        "level": rows["level"].astype(str).values,
        "approved_area_ha": rows["area_ha"].astype(float).values,
        "county": rows["county"].astype(str).values,
        "city": rows["city"].astype(str).values,
        "industries": rows["industries"].astype(str).values,
    }, geometry=list(geoms), crs=METRIC_CRS)


def build_benchmark_zones(catalogue: gpd.GeoDataFrame, counties: gpd.GeoDataFrame,
                          seed: int) -> gpd.GeoDataFrame:
    """All usable catalogue zones with exact-area polygons that do not overlap each other.

    Zones are built largest first; a later zone is cut by the earlier ones (they may
    touch) and its centre is pushed out of any earlier zone it falls in.
    """
    rng = np.random.default_rng(seed + 1)
    rows = catalogue.sort_values(["area_ha", "code"], ascending=[False, True], kind="mergesort")
    rows = rows.set_index("code")
    built: list = []
    geoms = {}
    for code, row in rows.iterrows():
        county = counties.geometry.iloc[int(row["county_index"])]
        area = row["area_ha"] * M2_PER_HA
        region = county.difference(shapely.union_all(built)) if built else county
        centre = inland_centre(row.geometry, county, np.sqrt(area / np.pi))
        centre = _free_centre(centre, region, np.sqrt(area / np.pi))
        geoms[code] = exact_area_polygon(base_outline(rng), centre, area, region)
        built.append(geoms[code])
    rows = rows.sort_index(kind="mergesort")
    return _zone_frame(rows, [geoms[c] for c in rows.index])


def _free_centre(centre, region, radius_m):
    """The nearest point of `region` at least radius/2 inside it (for crowded counties)."""
    if region.contains(Point(centre).buffer(radius_m * 0.3)):
        return centre
    inner = region.buffer(-radius_m * 0.5)
    if inner.is_empty:
        inner = region.buffer(-radius_m * 0.1)
    if inner.is_empty:
        inner = region
    near = nearest_points(inner, Point(centre))[0]
    return np.array([near.x, near.y])


def area_ratio_error(zones: gpd.GeoDataFrame) -> np.ndarray:
    """Relative error of polygon area (EPSG:4549) against approved area."""
    area = zones.to_crs(METRIC_CRS).geometry.area.values
    return area / (zones["approved_area_ha"].values * M2_PER_HA) - 1.0

