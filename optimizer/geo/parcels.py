"""Parcel checks against approved boundaries (四至范围), vectorised.

All geometry arrives in one metric CRS. One spatial-index query finds which
zones each parcel lies in; containment is tested with prepared boundaries;
the (costly) difference is computed only for the violators.

Rules (SPEC §5, issue 5):
- A parcel *lies in* a zone when it reaches more than ``tolerance_m`` into
  the zone's interior (polygons), or lies in the zone (points). Its located
  zone is the one holding the largest share of it.
- A parcel without ``zone_id`` gets its located zone (spatial join).
- A declared ``zone_id`` that the parcel does not lie in at all is a
  mismatch; the parcel is still checked against the declared zone.
- A parcel violates when it is not within its reference boundary grown by
  ``tolerance_m``: the boundary of its zone, or the union of the original
  boundaries of its consolidation group. The part outside is the parcel
  minus the (ungrown) reference boundary; a point parcel outside counts
  with its whole ``land_mu``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from optimizer.geo.areas import area_mu

_POINT_TYPE_IDS = (0, 4)


@dataclass
class ParcelFindings:
    ref_zone: np.ndarray          # zone index each parcel is checked against, -1 none
    located_zone: np.ndarray      # zone index holding the largest share, -1 none
    violating: np.ndarray         # parcel indices that violate
    outside_geoms: np.ndarray     # metric geometry of the part outside, per violator
    outside_mu: np.ndarray        # outside area in mu, per violator
    multi_zone: pd.DataFrame      # id, zone_id, zone_ids, n_zones
    mismatches: pd.DataFrame      # id, declared_zone_id, located_zone_id
    assigned: pd.DataFrame        # id, zone_id


def located_pairs(parcels: np.ndarray, zones: np.ndarray, tolerance_m: float) -> pd.DataFrame:
    """(parcel, zone) index pairs where the parcel lies in the zone, sorted."""
    is_point = np.isin(shapely.get_type_id(parcels), _POINT_TYPE_IDS)
    tree = shapely.STRtree(parcels)
    shrunk = shapely.buffer(zones, -tolerance_m) if tolerance_m > 0 else zones
    pieces = []
    for probe, mask in ((shrunk, ~is_point), (zones, is_point)):
        if not mask.any():
            continue
        z, p = tree.query(probe, predicate="intersects")
        keep = mask[p]
        pieces.append((p[keep], z[keep]))
    p = np.concatenate([x[0] for x in pieces]) if pieces else np.empty(0, dtype=np.intp)
    z = np.concatenate([x[1] for x in pieces]) if pieces else np.empty(0, dtype=np.intp)
    pairs = pd.DataFrame({"parcel": p, "zone": z})
    return pairs.sort_values(["parcel", "zone"], kind="mergesort").reset_index(drop=True)


def primary_zone(pairs: pd.DataFrame, parcels: np.ndarray, zones: np.ndarray,
                 n_parcels: int) -> np.ndarray:
    """Zone index holding the largest share of each parcel (-1 when none; ties → lower index)."""
    located = np.full(n_parcels, -1, dtype=np.intp)
    counts = pairs["parcel"].value_counts()
    single = pairs[pairs["parcel"].map(counts) == 1]
    located[single["parcel"].to_numpy()] = single["zone"].to_numpy()
    multi = pairs[pairs["parcel"].map(counts) > 1].copy()
    if len(multi):
        p, z = multi["parcel"].to_numpy(), multi["zone"].to_numpy()
        multi["share"] = shapely.area(shapely.intersection(parcels[p], zones[z]))
        best = multi.sort_values(["parcel", "share", "zone"], ascending=[True, False, True],
                                 kind="mergesort").drop_duplicates("parcel")
        located[best["parcel"].to_numpy()] = best["zone"].to_numpy()
    return located


def reference_boundaries(zones: np.ndarray, group_of_zone: np.ndarray | None,
                         tolerance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per zone: (boundary to check against, same grown by the tolerance), prepared.

    With consolidation the boundary is the union of the group's original
    boundaries — the 四至 themselves never change (不涉及四至范围变更).
    """
    plain = zones.copy()
    if group_of_zone is not None:
        for g in np.unique(group_of_zone):
            members = np.flatnonzero(group_of_zone == g)
            if members.size > 1:
                union = shapely.union_all(zones[members])
                plain[members] = union
    grown = shapely.buffer(plain, tolerance_m) if tolerance_m > 0 else plain.copy()
    shapely.prepare(grown)
    return plain, grown


def check_parcels(parcels: np.ndarray, ids: np.ndarray, declared: np.ndarray,
                  land_mu: np.ndarray, zones: np.ndarray, zone_ids: np.ndarray, crs,
                  group_of_zone: np.ndarray | None, tolerance_m: float) -> ParcelFindings:
    """Run every parcel check; inputs are aligned arrays, geometry in metric ``crs``."""
    n = parcels.size
    has_geom = ~(shapely.is_missing(parcels) | shapely.is_empty(parcels))
    geo_idx = np.flatnonzero(has_geom)
    pairs = located_pairs(parcels[geo_idx], zones, tolerance_m)
    pairs["parcel"] = geo_idx[pairs["parcel"].to_numpy()]
    located = primary_zone(pairs, parcels, zones, n)

    zone_pos = pd.Series(np.arange(zone_ids.size), index=zone_ids)
    declared_idx = pd.Series(declared).map(zone_pos).fillna(-1).astype(np.intp).to_numpy()
    ref = np.where(declared == "", located, declared_idx)

    plain, grown = reference_boundaries(zones, group_of_zone, tolerance_m)
    inside = np.zeros(n, dtype=bool)
    check = has_geom & (ref >= 0)
    inside[check] = shapely.contains(grown[ref[check]], parcels[check])
    violating = np.flatnonzero(has_geom & ~inside)
    outside, outside_mu = _outside_parts(parcels, land_mu, plain, ref, violating, crs)

    return ParcelFindings(
        ref_zone=ref, located_zone=located, violating=violating, outside_geoms=outside,
        outside_mu=outside_mu,
        multi_zone=_multi_zone(pairs, ids, zone_ids, ref),
        mismatches=_mismatches(pairs, ids, declared, declared_idx, located, zone_ids),
        assigned=_assigned(ids, declared, located, zone_ids))


def _outside_parts(parcels, land_mu, plain, ref, violating, crs):
    geoms = parcels[violating].copy()
    has_ref = ref[violating] >= 0
    geoms[has_ref] = shapely.difference(geoms[has_ref], plain[ref[violating][has_ref]])
    mu = area_mu(geoms, crs)
    is_point = np.isin(shapely.get_type_id(parcels[violating]), _POINT_TYPE_IDS)
    mu[is_point] = np.nan_to_num(land_mu[violating][is_point], nan=0.0)
    return geoms, mu


def _multi_zone(pairs, ids, zone_ids, ref):
    counts = pairs["parcel"].value_counts()
    multi = pairs[pairs["parcel"].map(counts).to_numpy() > 1]   # few: lists only for these
    joined = pd.Series(zone_ids[multi["zone"].to_numpy()], index=multi["parcel"].to_numpy()) \
        .groupby(level=0, sort=True).agg(";".join)
    p = joined.index.to_numpy(dtype=np.intp)
    return pd.DataFrame({
        "id": ids[p],
        "zone_id": np.where(ref[p] >= 0, zone_ids[np.maximum(ref[p], 0)], ""),
        "zone_ids": joined.to_numpy(dtype=object),
        "n_zones": counts.reindex(p).to_numpy(dtype=np.int64),
    })


def _mismatches(pairs, ids, declared, declared_idx, located, zone_ids):
    lies_in_declared = np.zeros(ids.size, dtype=bool)
    hit = pairs[pairs["zone"].to_numpy() == declared_idx[pairs["parcel"].to_numpy()]]
    lies_in_declared[hit["parcel"].to_numpy()] = True
    unknown = (declared != "") & (declared_idx < 0)
    elsewhere = (declared_idx >= 0) & ~lies_in_declared & (located >= 0)
    rows = np.flatnonzero(unknown | elsewhere)
    return pd.DataFrame({
        "id": ids[rows],
        "declared_zone_id": declared[rows],
        "located_zone_id": np.where(located[rows] >= 0, zone_ids[np.maximum(located[rows], 0)],
                                    ""),
    })


def _assigned(ids, declared, located, zone_ids):
    rows = np.flatnonzero(declared == "")
    return pd.DataFrame({
        "id": ids[rows],
        "zone_id": np.where(located[rows] >= 0, zone_ids[np.maximum(located[rows], 0)], ""),
    })
