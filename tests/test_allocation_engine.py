"""allocate() around the solver: time limits, solver errors, bad method names."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.allocation.engine import allocate
from optimizer.allocation.model import Solution
from optimizer.allocation.synthetic import synthetic_config, synthetic_enterprises
from optimizer.errors import ScenarioError
from optimizer.solvers import get_solver


class StoppedEarly:
    """A backend that stops at its time limit with the all-floor incumbent."""

    name = "fake:stopped"

    def __init__(self, status, with_x=True):
        self.status, self.with_x = status, with_x

    def solve(self, model, *, time_limit_s=None):
        x = np.clip(np.zeros(model.n_cols), model.lb, model.ub) if self.with_x else None
        return Solution(status=self.status, x=x, objective=None, best_bound=123.0,
                        message="stopped")


def test_time_limit_reports_incumbent_and_bound():
    ents = synthetic_enterprises(30, n_zones=2, seed=3)
    cfg = synthetic_config(4, intensity=False)
    res = allocate(ents, cfg, solver=StoppedEarly("time_limit"))
    assert res.status == "time_limit" and res.best_bound == 123.0
    assert "time limit reached" in res.diagnosis[0] and "123.00" in res.diagnosis[0]
    # δ = 0 means every firm at its tier floor
    floor = res.allocation["grade"].map({g: t.scale[0] for g, t in cfg.tiers.items()})
    assert np.allclose(res.allocation["scale"], floor)


def test_time_limit_without_incumbent_and_solver_error():
    ents = synthetic_enterprises(30, n_zones=2, seed=3)
    cfg = synthetic_config(4, intensity=False)
    res = allocate(ents, cfg, solver=StoppedEarly("time_limit", with_x=False))
    assert res.status == "time_limit" and res.objective is None
    res = allocate(ents, cfg, solver=StoppedEarly("error", with_x=False))
    assert res.status == "error" and "fake:stopped" in res.diagnosis[0]


def test_unknown_method_is_a_scenario_error():
    import dataclasses
    cfg = dataclasses.replace(synthetic_config(4), method="greedy")
    with pytest.raises(ScenarioError, match="method must be one of lp, milp, rule"):
        allocate(synthetic_enterprises(5, n_zones=1), cfg)


@pytest.mark.parametrize("name", ["highs:ipm", "ortools:glop", "pulp:cbc"])
def test_backends_reach_the_same_optimum(name):
    ents = synthetic_enterprises(80, n_zones=3, seed=9)
    cfg = synthetic_config(4)
    ref = allocate(ents, cfg, solver=get_solver("highs"))
    other = allocate(ents, cfg, solver=get_solver(name))
    assert other.objective == pytest.approx(ref.objective, rel=1e-6)
    np.testing.assert_allclose(other.zones["shadow_price"].fillna(-1),
                               ref.zones["shadow_price"].fillna(-1), rtol=1e-5, atol=1e-6)
