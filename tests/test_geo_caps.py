"""Land-cap arithmetic and consolidation grouping, on arrays with hand-computed answers."""

import numpy as np
import pytest
import shapely

from optimizer.errors import ScenarioError
from optimizer.geo import ConsolidationSpec
from optimizer.geo.caps import _components, consolidation_groups, group_keys, land_caps_mu

IDS = np.array(["A", "B", "C", "D"], dtype=object)
# A–B touch, C 30 m from B, D far away
ZONES = np.array([shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100),
                  shapely.box(230, 0, 300, 100), shapely.box(5000, 0, 5100, 100)])


def test_cap_is_min_of_approved_and_boundary_less_protected_and_reserve():
    reserve, cap = land_caps_mu(np.array([1000.0, 800.0, 100.0]), np.array([900.0, 1000.0, 100.0]),
                                np.array([100.0, 0.0, 150.0]), 0.25)
    np.testing.assert_allclose(reserve, [200.0, 200.0, 0.0])
    np.testing.assert_allclose(cap, [600.0, 600.0, 0.0])   # never negative


def test_reserve_share_outside_unit_interval_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="reserve share"):
        land_caps_mu(np.ones(1), np.ones(1), np.zeros(1), 1.2)


def test_components_follow_chains():
    labels = _components(6, np.array([5, 4, 3, 1]), np.array([4, 3, 2, 0]))
    assert labels.tolist() == [0, 0, 2, 2, 2, 2]


@pytest.mark.parametrize("distance, expected", [
    (0.0, [0, 0, 1, 2]), (30.0, [0, 0, 0, 1]), (10_000.0, [0, 0, 0, 0])])
def test_groups_by_distance(distance, expected):
    labels = consolidation_groups(ZONES, IDS, ConsolidationSpec(touch_distance_m=distance))
    assert labels.tolist() == expected


def test_explicit_and_distance_groups_merge():
    spec = ConsolidationSpec(groups=[["D", "C"]], touch_distance_m=0.0)
    labels = consolidation_groups(ZONES, IDS, spec)
    assert labels.tolist() == [0, 0, 1, 1]
    keys, names = group_keys(labels, IDS)
    assert keys.tolist() == ["G1", "G1", "G2", "G2"]
    assert names == {"G1": "G1: A+B", "G2": "G2: C+D"}


def test_zone_in_two_groups_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="'B'"):
        consolidation_groups(ZONES, IDS, ConsolidationSpec(groups=[["A", "B"], ["B", "C"]]))


def test_no_consolidation_keeps_zone_keys():
    assert consolidation_groups(ZONES, IDS, None) is None
    keys, names = group_keys(None, IDS)
    assert keys.tolist() == IDS.tolist() and names == {}
