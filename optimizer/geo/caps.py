"""Zone land caps and consolidation (整合提升), SPEC §5.

    C_z,land = min(approved area, boundary area) − protected area inside
               − reserve_share × (the same before the reserve)

Consolidation merges zones into managed groups that pool their caps. The
group's cap is the sum of its members' caps, so it never exceeds the sum of
their approved areas (不突破核准面积), and the boundaries stay the originals
(不涉及四至范围变更, 浙政办发〔2018〕9号 part 3(2)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from optimizer.errors import ScenarioError
from optimizer.geo.areas import area_mu


@dataclass(frozen=True)
class ConsolidationSpec:
    """Which zones form managed groups (scenario ``[consolidation]``).

    ``groups``: explicit lists of zone_ids. ``touch_distance_m``: zones that
    touch or lie within this distance of each other are merged, transitively
    (A near B, B near C → one group). Both may be given; their groups merge.
    """

    groups: list[list[str]] | None = None
    touch_distance_m: float | None = None


def protected_inside_mu(zones: np.ndarray, protected: np.ndarray | None, crs) -> np.ndarray:
    """Protected area (mu) inside each zone; overlapping protected polygons count once."""
    if protected is None or protected.size == 0:
        return np.zeros(zones.size)
    protected_union = shapely.union_all(protected)
    return area_mu(shapely.intersection(zones, protected_union), crs)


def land_caps_mu(approved_mu: np.ndarray, boundary_mu: np.ndarray, protected_mu: np.ndarray,
                 reserve_share: float) -> tuple[np.ndarray, np.ndarray]:
    """(reserve_mu, land_cap_mu) per zone; never negative."""
    if not 0.0 <= reserve_share < 1.0:
        raise ScenarioError(f"reserve share {reserve_share} must lie in [0, 1)",
                            rule="0 ≤ reserve_share < 1")
    usable = np.maximum(np.minimum(approved_mu, boundary_mu) - protected_mu, 0.0)
    reserve = reserve_share * usable
    return reserve, usable - reserve


def consolidation_groups(zones: np.ndarray, zone_ids: np.ndarray,
                         spec: ConsolidationSpec | None) -> np.ndarray | None:
    """Group label 0..k-1 per zone, or None without consolidation.

    Zones come sorted by zone_id; group 0 holds the smallest zone_id, etc.
    """
    if spec is None or (not spec.groups and spec.touch_distance_m is None):
        return None
    n = zone_ids.size
    rows, cols = [np.arange(n)], [np.arange(n)]
    if spec.groups:
        r, c = _explicit_edges(spec.groups, zone_ids)
        rows.append(r)
        cols.append(c)
    if spec.touch_distance_m is not None:
        if spec.touch_distance_m < 0:
            raise ScenarioError(f"consolidation distance {spec.touch_distance_m} m is negative",
                                rule="touch_distance_m ≥ 0")
        tree = shapely.STRtree(zones)
        a, b = tree.query(zones, predicate="dwithin", distance=spec.touch_distance_m)
        rows.append(a)
        cols.append(b)
    labels = _components(n, np.concatenate(rows), np.concatenate(cols))
    # a label is the group's smallest zone index, so ranks follow zone_id order
    return np.unique(labels, return_inverse=True)[1]


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label (smallest member index) per node of an undirected graph.

    Min-label propagation with pointer jumping; converges in O(log n) rounds
    for the few hundred zones of a province.
    """
    labels = np.arange(n)
    while True:
        new = labels.copy()
        np.minimum.at(new, a, labels[b])
        np.minimum.at(new, b, labels[a])
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def _explicit_edges(groups: list[list[str]], zone_ids: np.ndarray):
    pos = {z: i for i, z in enumerate(zone_ids)}
    seen: dict[str, int] = {}
    rows, cols = [], []
    for k, group in enumerate(groups):
        for z in group:
            if z not in pos:
                raise ScenarioError(f"consolidation group {k + 1} names zone {z!r}, "
                                    "which is not in the zones layer", column="consolidation",
                                    rule="known zone_id")
            if z in seen and seen[z] != k:
                raise ScenarioError(f"zone {z!r} is in consolidation groups {seen[z] + 1} "
                                    f"and {k + 1}", column="consolidation",
                                    rule="a zone belongs to one group")
            seen[z] = k
        idx = [pos[z] for z in group]
        rows += idx[:1] * len(idx)
        cols += idx
    return np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)


def group_keys(labels: np.ndarray | None,
               zone_ids: np.ndarray) -> tuple[np.ndarray, dict[str, str]]:
    """Cap key per zone and a display name per group key.

    A zone alone keeps its zone_id as key; a merged group is "G1", "G2", …
    in zone_id order, displayed as "G1: A+B".
    """
    keys = zone_ids.astype(object).copy()
    names: dict[str, str] = {}
    if labels is None:
        return keys, names
    counter = 0
    for g in np.unique(labels):
        members = np.flatnonzero(labels == g)
        if members.size < 2:
            continue
        counter += 1
        key = f"G{counter}"
        keys[members] = key
        names[key] = f"{key}: " + "+".join(zone_ids[members])
    return keys, names
