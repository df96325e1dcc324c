"""Boundary (四至) and approved-area (核准面积) checks, land caps, outputs.

``check_boundaries`` is the one call the runner and ``mujun boundaries``
make; ``write_boundaries`` writes ``boundaries.csv`` and, when any parcel
violates, ``boundary_violations.gpkg``. Violations are findings, not errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import InputError
from optimizer.geo.areas import area_mu, metric_crs, reprojected, to_metric
from optimizer.geo.caps import (ConsolidationSpec, consolidation_groups, group_keys,
                                land_caps_mu, protected_inside_mu)
from optimizer.geo.parcels import check_parcels
from optimizer.geo.sizhi import DEFAULT_SEARCH_M, describe_sizhi
from optimizer.io.results import neutralise
from optimizer.units import MU_PER_HA

TABLE_COLUMNS = ["zone_id", "name", "approved_area_mu", "boundary_area_mu", "occupied_mu",
                 "protected_mu", "reserve_mu", "land_cap_mu", "violations", "sizhi"]
VIOLATION_LAYER = "boundary_violations"


@dataclass
class BoundaryReport:
    """Everything the boundary checks found; areas in mu.

    ``land_caps_mu`` is keyed by cap key: the zone_id, or the group id ("G1")
    for zones merged by consolidation; ``land_groups`` maps every zone_id to
    its cap key (None without consolidation), ``group_names`` each group id
    to "G1: A+B". ``violations`` geometry is in the parcels' CRS.
    """

    table: pd.DataFrame
    violations: gpd.GeoDataFrame
    land_caps_mu: dict[str, float]
    land_groups: dict[str, str] | None
    assigned_zones: pd.DataFrame
    mismatches: pd.DataFrame
    multi_zone: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    group_names: dict[str, str] = field(default_factory=dict)


def check_boundaries(zones: gpd.GeoDataFrame, parcels=None, protected=None, features=None, *,
                     tolerance_m: float = 1.0, reserve_share: float = 0.0,
                     consolidation: ConsolidationSpec | None = None,
                     sizhi_search_m: float = DEFAULT_SEARCH_M) -> BoundaryReport:
    """Check parcels against approved boundaries and compute land caps (SPEC §5).

    ``zones`` is a validated zones frame (see ``validate_zones``). ``parcels``
    has id, zone_id ("" → spatial join), optional land_mu and polygon/point
    geometry (a frame without geometry only feeds occupied land). Layers in
    other CRSs are reprojected to the zones' metric CRS. ``features`` needs a
    ``name`` column; ``sizhi_search_m`` is how far beyond a side a named
    feature may lie to name it in the 四至 text. ``warnings`` starts with the
    repairs ``read_layer`` noted on the input layers (``attrs["warnings"]``).
    """
    _require_crs(zones, "zones")
    zones = zones.sort_values("zone_id", kind="mergesort")
    crs = metric_crs(zones)
    zgeom = to_metric(zones, crs)
    zone_ids = zones["zone_id"].to_numpy(dtype=object)
    warnings = _layer_warnings(zones, parcels, protected, features)
    warnings += _overlap_warnings(zgeom, zone_ids, crs)

    approved = zones["approved_area_ha"].to_numpy(dtype=float) * MU_PER_HA
    boundary = area_mu(zgeom, crs)
    prot = protected_inside_mu(zgeom, _metric_or_none(protected, crs, "protected"), crs)
    reserve, caps = land_caps_mu(approved, boundary, prot, reserve_share)
    labels = consolidation_groups(zgeom, zone_ids, consolidation)
    keys, group_names = group_keys(labels, zone_ids)

    occupied = np.zeros(zone_ids.size)
    counts = np.zeros(zone_ids.size, dtype=np.int64)
    empty = _empty_findings(parcels)
    violations, assigned, mismatches, multi = empty
    if parcels is not None and len(parcels):
        found = _parcel_findings(parcels, zgeom, zone_ids, crs, labels, tolerance_m, warnings)
        occupied, counts, violations, assigned, mismatches, multi = found

    table = pd.DataFrame({
        "zone_id": zone_ids.astype(str), "name": _names(zones),
        "approved_area_mu": approved, "boundary_area_mu": boundary, "occupied_mu": occupied,
        "protected_mu": prot, "reserve_mu": reserve, "land_cap_mu": caps,
        "violations": counts,
        "sizhi": describe_sizhi(zgeom, crs, *_features(features, crs),
                                search_m=sizhi_search_m, tolerance_m=tolerance_m),
    })
    if labels is not None:
        table["group"] = keys.astype(str)
    warnings += _occupancy_warnings(table)
    pooled = pd.Series(caps).groupby(keys.astype(str), sort=True).sum()
    return BoundaryReport(
        table=table.reset_index(drop=True), violations=violations,
        land_caps_mu={k: float(v) for k, v in pooled.items()},
        land_groups=None if labels is None else dict(zip(zone_ids.tolist(), keys.tolist())),
        assigned_zones=assigned, mismatches=mismatches, multi_zone=multi, warnings=warnings,
        group_names=group_names)


def _names(zones):
    if "name" not in zones.columns:
        return np.full(len(zones), "", dtype=object)
    return zones["name"].fillna("").astype(str).to_numpy(dtype=object)


def _require_crs(gdf, what):
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is None:
        raise InputError(f"{what} layer declares no CRS; declare one in the file",
                         file=gdf.attrs.get("source"), rule="CRS declared")


def _metric_or_none(gdf, crs, what):
    if gdf is None or len(gdf) == 0:
        return None
    _require_crs(gdf, what)
    geoms = to_metric(gdf, crs)
    return geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _features(features, crs):
    if features is None or len(features) == 0:
        return None, None
    if "name" not in features.columns:
        raise InputError("features layer lacks column 'name' (the 四至 label of each road/river)",
                         column="name", rule="required column")
    _require_crs(features, "features")
    names = features["name"].fillna("").astype(str).to_numpy(dtype=object)
    geoms = to_metric(features, crs)
    keep = (names != "") & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return geoms[keep], names[keep]


def _empty_findings(parcels):
    crs = getattr(parcels, "crs", None)
    violations = gpd.GeoDataFrame({"id": pd.Series(dtype="str"), "zone_id": pd.Series(dtype="str"),
                                   "outside_area_mu": pd.Series(dtype="float64")},
                                  geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    return (violations, pd.DataFrame({"id": [], "zone_id": []}, dtype="str"),
            pd.DataFrame({"id": [], "declared_zone_id": [], "located_zone_id": []}, dtype="str"),
            pd.DataFrame({"id": pd.Series(dtype="str"), "zone_id": pd.Series(dtype="str"),
                          "zone_ids": pd.Series(dtype="str"),
                          "n_zones": pd.Series(dtype="int64")}))


def _parcel_findings(parcels, zgeom, zone_ids, crs, labels, tolerance_m, warnings):
    ids = parcels["id"].astype(str).to_numpy(dtype=object)
    declared = (parcels["zone_id"].fillna("").astype(str).str.strip().to_numpy(dtype=object)
                if "zone_id" in parcels.columns else np.full(ids.size, "", dtype=object))
    land = (pd.to_numeric(parcels["land_mu"], errors="coerce").to_numpy(dtype=float)
            if "land_mu" in parcels.columns else np.full(ids.size, np.nan))
    n_z = zone_ids.size
    spatial = isinstance(parcels, gpd.GeoDataFrame) and parcels.geometry.name in parcels
    if not spatial:
        ref = pd.Series(declared).map(pd.Series(np.arange(n_z), index=zone_ids)) \
            .fillna(-1).astype(np.intp).to_numpy()
        occupied = _sum_by_zone(ref, np.nan_to_num(land), n_z)
        return (occupied, np.zeros(n_z, dtype=np.int64)) + _empty_findings(None)
    _require_crs(parcels, "parcels")
    pgeom = to_metric(parcels, crs)
    found = check_parcels(pgeom, ids, declared, land, zgeom, zone_ids, crs, labels, tolerance_m)
    # occupied land: the declared land_mu, else the parcel polygon's own area
    land = np.where(np.isfinite(land), land, area_mu(pgeom, crs))
    occupied = _sum_by_zone(found.ref_zone, land, n_z)
    counts = np.bincount(found.ref_zone[found.violating][found.ref_zone[found.violating] >= 0],
                         minlength=n_z).astype(np.int64)
    warnings += _parcel_warnings(pgeom, declared, zone_ids, found)
    return (occupied, counts, _violation_frame(found, ids, declared, zone_ids, crs, parcels.crs),
            found.assigned, found.mismatches, found.multi_zone)


def _sum_by_zone(ref, values, n_zones):
    ok = ref >= 0
    return np.bincount(ref[ok], weights=values[ok], minlength=n_zones)


def _violation_frame(found, ids, declared, zone_ids, metric, out_crs):
    v = found.violating
    ref = found.ref_zone[v]
    zone = np.where(ref >= 0, zone_ids[np.maximum(ref, 0)], declared[v])
    frame = gpd.GeoDataFrame({"id": ids[v].astype(str), "zone_id": zone.astype(str),
                              "outside_area_mu": found.outside_mu},
                             geometry=gpd.GeoSeries(found.outside_geoms, crs=metric), crs=metric)
    frame = reprojected(frame, out_crs) if out_crs is not None else frame
    return frame.sort_values("id", kind="mergesort").reset_index(drop=True)


def _parcel_warnings(pgeom, declared, zone_ids, found):
    out = []
    no_geom = int((shapely.is_missing(pgeom) | shapely.is_empty(pgeom)).sum())
    if no_geom:
        out.append(f"{no_geom} parcel(s) have no geometry and were not checked against 四至")
    unknown = set(declared[declared != ""]) - set(zone_ids)
    for z in sorted(unknown):
        out.append(f"zone_id {z!r} of parcels is not in the zones layer")
    unplaced = int((found.assigned["zone_id"] == "").sum())
    if unplaced:
        out.append(f"{unplaced} parcel(s) without zone_id: no zone found from their geometry")
    return out


def _layer_warnings(*layers):
    """Repairs that ``read_layer`` noted in ``attrs["warnings"]``, once each."""
    seen: list[str] = []
    for gdf in layers:
        for w in getattr(gdf, "attrs", {}).get("warnings", []) if gdf is not None else []:
            if w not in seen:
                seen.append(w)
    return seen


def _overlap_warnings(zgeom, zone_ids, crs, limit=20):
    """Overlapping boundaries (shared land counts in both zones' areas and caps)."""
    a, b = shapely.STRtree(zgeom).query(zgeom, predicate="overlaps")
    keep = a < b
    a, b = a[keep], b[keep]
    if a.size == 0:
        return []
    shared = area_mu(shapely.intersection(zgeom[a], zgeom[b]), crs)
    out = [f"zones {zone_ids[i]} and {zone_ids[j]} overlap by {mu:,.1f} mu; the shared land "
           "counts in both" for i, j, mu in zip(a[:limit], b[:limit], shared[:limit])]
    if a.size > limit:
        out.append(f"... and {a.size - limit} more overlapping zone pairs "
                   f"({shared.sum():,.1f} mu shared in all)")
    return out


def _occupancy_warnings(table):
    over = table[table["occupied_mu"] > table["approved_area_mu"] + 1e-9]
    return [f"zone {r.zone_id}: occupied land {r.occupied_mu:,.1f} mu exceeds the approved "
            f"area {r.approved_area_mu:,.1f} mu (核准面积)" for r in over.itertuples()]


FINDING_COLUMNS = ["id", "zone_id", "finding", "detail"]


def parcel_findings(report: BoundaryReport) -> pd.DataFrame:
    """One row per parcel finding, in planner words, sorted by id then finding.

    outside boundary (越出四至), in two zones, declared zone contradicts the parcel's
    location, zone assigned by location (no zone_id given).
    """
    parts = []
    v = report.violations
    if len(v):
        parts.append(pd.DataFrame({
            "id": v["id"].astype(str), "zone_id": v["zone_id"].astype(str),
            "finding": "outside approved boundary (越出四至)",
            "detail": [f"{a:,.2f} mu outside" for a in v["outside_area_mu"]]}))
    m = report.multi_zone
    if m is not None and len(m):
        parts.append(pd.DataFrame({
            "id": m["id"].astype(str), "zone_id": m["zone_id"].astype(str),
            "finding": "parcel in two or more zones",
            "detail": "zones " + m["zone_ids"].astype(str).str.replace(";", ", ")}))
    x = report.mismatches
    if x is not None and len(x):
        parts.append(pd.DataFrame({
            "id": x["id"].astype(str), "zone_id": x["declared_zone_id"].astype(str),
            "finding": "declared zone contradicts the parcel's location",
            "detail": "parcel lies in " + x["located_zone_id"].astype(str)}))
    a = report.assigned_zones
    if a is not None and len(a):
        parts.append(pd.DataFrame({
            "id": a["id"].astype(str), "zone_id": a["zone_id"].astype(str),
            "finding": "zone assigned by location", "detail": "no zone_id in the table"}))
    if not parts:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["id", "finding"], kind="mergesort").reset_index(drop=True)


def write_parcel_findings(report: BoundaryReport, folder: Path) -> Path:
    """parcel_findings.csv (header only when there is nothing to report)."""
    table = parcel_findings(report)
    for col in FINDING_COLUMNS:
        table[col] = neutralise(table[col].astype(str))
    path = Path(folder) / "parcel_findings.csv"
    table.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
    return path


def write_boundaries(report: BoundaryReport, folder) -> list[Path]:
    """Write boundaries.csv and, when any parcel violates, boundary_violations.gpkg.

    The CSV is sorted by zone_id, UTF-8, "\\n" line ends, floats "%.4f" (mu to
    0.07 m²), text that a spreadsheet would read as a formula prefixed with
    an apostrophe: byte-identical on reruns. Returns the paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    table = report.table.sort_values("zone_id", kind="mergesort")
    cols = TABLE_COLUMNS + (["group"] if "group" in table.columns else [])
    table = table[cols].copy()
    for col in ("zone_id", "name", "sizhi"):   # input text must not become a formula
        table[col] = neutralise(table[col].astype(str))
    csv = folder / "boundaries.csv"
    table.to_csv(csv, index=False, float_format="%.4f", lineterminator="\n",
                       encoding="utf-8")
    written = [csv, write_parcel_findings(report, folder)]
    if len(report.violations):
        gpkg = folder / "boundary_violations.gpkg"
        if gpkg.exists():
            gpkg.unlink()
        report.violations.to_file(gpkg, layer=VIOLATION_LAYER, driver="GPKG", engine="pyogrio")
        written.append(gpkg)
    return written
