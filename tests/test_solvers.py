"""Solver backends: hand-solved LPs/MILPs, the dual sign convention, agreement,
statuses, time limits, registry and model export (optimizer/solvers)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.allocation.model import LinearModel
from optimizer.errors import OutputError, ScenarioError, SolverError
from optimizer.solvers import (DEFAULT_SOLVER, FEATURE_TABLE, SOLVERS, get_solver,
                               solver_versions)
from optimizer.solvers.export import sanitise_names, write_model

INF = np.inf
ALL = list(SOLVERS)
WITH_DUALS = [n for n in ALL if SOLVERS[n].features.duals]
WITH_INTEGERS = [n for n in ALL if SOLVERS[n].features.integers]
LP_ONLY = [n for n in ALL if not SOLVERS[n].features.integers]


def lp(c, A, lb, ub, row_lb, row_ub, sense="max", integrality=None, offset=0.0, **names):
    return LinearModel(c=np.array(c, float), lb=np.array(lb, float), ub=np.array(ub, float),
                       A=sp.csr_matrix(np.array(A, float)), row_lb=np.array(row_lb, float),
                       row_ub=np.array(row_ub, float), sense=sense, offset=offset,
                       integrality=None if integrality is None else np.array(integrality),
                       **names)


def tol(name: str) -> float:
    return 1e-4 if name == "ortools:pdlp" else 1e-6


def assert_solution(sol, name, objective, x=None, row_duals=None, col_duals=None):
    """Objective and x always; duals for backends that give them (hand-computed)."""
    t = tol(name)
    assert sol.status == "optimal", (name, sol.status, sol.message)
    assert sol.objective == pytest.approx(objective, rel=t, abs=t)
    if x is not None:
        np.testing.assert_allclose(sol.x, x, rtol=t, atol=10 * t)
    if SOLVERS[name].features.duals and row_duals is not None:
        np.testing.assert_allclose(sol.row_duals, row_duals, rtol=t, atol=10 * t)
        np.testing.assert_allclose(sol.col_duals, col_duals, rtol=t, atol=10 * t)


# Hand-solved LPs: (model, objective, x, row duals, reduced costs) in MuJun's convention.
HAND = {
    # max 3x+2y, x+y ≤ 4 (binds: one more unit buys a y, +2), x+3y ≤ 10 slack, x ≤ 3
    "max_le": (lp([3, 2], [[1, 1], [1, 3]], [0, 0], [3, INF], [-INF, -INF], [4, 10]),
               11, [3, 1], [2, 0], [1, 0]),
    # min 3x+2y, x+y ≥ 4 (binds: one more unit costs an x, +3), y ≤ 3 (raising it saves 1)
    "min_ge": (lp([3, 2], [[1, 1]], [0, 0], [INF, 3], [4], [INF], "min"),
               9, [1, 3], [3], [0, -1]),
    # max −x+y, x+y ≥ 3 binds in a max problem: a higher floor costs, dual −1 ≤ 0
    "max_ge": (lp([-1, 1], [[1, 1]], [0, 0], [INF, 2], [3], [INF]), 1, [1, 2], [-1], [0, 2]),
    # min −x−2y, x+y ≤ 4 binds in a min problem: a looser cap lowers the cost, dual −1 ≤ 0
    "min_le": (lp([-1, -2], [[1, 1]], [0, 0], [INF, 3], [-INF], [4], "min"),
               -7, [1, 3], [-1], [0, -1]),
    # max x+2y, x+y = 5, x ≥ 1: equality dual 2; raising x's floor costs 1
    "max_eq": (lp([1, 2], [[1, 1]], [1, 0], [INF, 10], [5], [5]), 9, [1, 4], [2], [-1, 0]),
    # min −x−y, 1 ≤ x+2y ≤ 4 binds at its upper side: dual −0.5; x ≤ 2 binds: −0.5
    "min_range_hi": (lp([-1, -1], [[1, 2]], [0, 0], [2, INF], [1], [4], "min"),
                     -3, [2, 1], [-0.5], [-0.5, 0]),
    # max −x−y, 1 ≤ x+2y ≤ 4 binds at its lower side: dual −0.5; x at 0: −0.5
    "max_range_lo": (lp([-1, -1], [[1, 2]], [0, 0], [INF, INF], [1], [4]),
                     -0.5, [0, 0.5], [-0.5], [-0.5, 0]),
    # free columns: min x, x+y ≥ 1, x−y ≥ −3 → y = 2, x = −1; both floors cost 0.5
    "min_free": (lp([1, 0], [[1, 1], [1, -1]], [-INF, -INF], [INF, INF], [1, -3], [INF, INF],
                    "min"), -1, [-1, 2], [0.5, 0.5], [0, 0]),
    # objective constant is part of the objective
    "offset": (lp([3, 2], [[1, 1]], [0, 0], [3, INF], [-INF], [4], offset=100.0),
               111, [3, 1], [2], [1, 0]),
}


@pytest.mark.parametrize("case", list(HAND))
@pytest.mark.parametrize("name", ALL)
def test_hand_solved_lp(name, case):
    model, objective, x, row_duals, col_duals = HAND[case]
    sol = get_solver(name).solve(model)
    assert sol.solver == name
    assert_solution(sol, name, objective, x, row_duals, col_duals)


@pytest.mark.parametrize("name", ALL)
def test_unbounded_and_infeasible_statuses(name):
    unbounded = lp([3, 2], [[1, 1]], [0, 0], [INF, 3], [4], [INF])
    infeasible = lp([3, 2], [[1, 1]], [0, 0], [INF, 3], [4], [3])
    solver = get_solver(name)
    assert solver.solve(unbounded).status == "unbounded"
    sol = solver.solve(infeasible)
    assert sol.status == "infeasible"
    assert sol.x is None and sol.objective is None


# max 5a+4b+3c, 2a+3b+c ≤ 5, 4a+b+2c ≤ 11, 3a+4b+2c ≤ 8, integers: a=2, c=1 → 13
# (LP relaxation 13 too at a=2,c=1, so add a mixed case where it differs:)
# max 3x+2y, x+y ≤ 4.5, x ≤ 2.5, x integer, y continuous → x=2, y=2.5, 11 (LP: 11.5)
PURE = lp([5, 4, 3], [[2, 3, 1], [4, 1, 2], [3, 4, 2]], [0, 0, 0], [INF] * 3, [-INF] * 3,
          [5, 11, 8], integrality=[True, True, True])
MIXED = lp([3, 2], [[1, 1]], [0, 0], [2.5, INF], [-INF], [4.5], integrality=[True, False])


@pytest.mark.parametrize("name", WITH_INTEGERS)
def test_milp(name):
    solver = get_solver(name)
    pure = solver.solve(PURE)
    assert_solution(pure, name, 13, [2, 0, 1])
    mixed = solver.solve(MIXED)
    assert_solution(mixed, name, 11, [2, 2.5])
    assert mixed.row_duals is None and mixed.col_duals is None   # no MIP duals


@pytest.mark.parametrize("name", LP_ONLY)
def test_lp_only_backend_refuses_integers(name):
    with pytest.raises(SolverError, match="integer columns"):
        get_solver(name).solve(MIXED)


def test_cpsat_continuous_columns_are_polished_not_rounded():
    # Without the stated grid CP-SAT rounds y to an integer and returns 3·2+2·2 = 10.
    sol = get_solver("ortools:cp-sat").solve(MIXED)
    assert sol.x[1] == pytest.approx(2.5, abs=1e-9)
    assert sol.best_bound is None          # grid bound is not a bound of the MILP


def test_cpsat_off_grid_model_is_an_error_naming_scip():
    # y + z = 0.0004, y − z = 0.0001: y, z are off CP-SAT's 1e-3 grid; the model is feasible.
    model = lp([1, 1, 1], [[0, 1, 1], [0, 1, -1]], [0, 0, 0], [3, 1, 1], [0.0004, 0.0001],
               [0.0004, 0.0001], integrality=[True, False, False])
    sol = get_solver("ortools:cp-sat").solve(model)
    assert sol.status == "error" and "use ortools:scip" in sol.message
    assert get_solver("ortools:scip").solve(model).objective == pytest.approx(3.0004)
    # a single off-grid column is fixed by CP-SAT's presolve and polished exactly
    single = lp([1, 1], [[0, 1]], [0, 0], [3, 1], [0.0004], [0.0004], integrality=[True, False])
    assert get_solver("ortools:cp-sat").solve(single).objective == pytest.approx(3.0004, rel=1e-12)


def random_lp(seed: int, n: int = 14, m: int = 9) -> LinearModel:
    """A feasible, bounded LP: rows around a known point, a box on every column."""
    rng = np.random.default_rng(seed)
    A = rng.uniform(-2, 3, (m, n)) * (rng.random((m, n)) < 0.5)
    x0 = rng.uniform(0, 5, n)
    act = A @ x0
    row_lb = act - rng.uniform(0, 3, m)
    row_ub = act + rng.uniform(0, 3, m)
    kind = rng.integers(0, 4, m)          # 0 ≤, 1 ≥, 2 ranged, 3 equality
    row_lb[kind == 0] = -INF
    row_ub[kind == 1] = INF
    row_lb[kind == 3] = row_ub[kind == 3] = act[kind == 3]
    lb = -rng.uniform(0, 2, n)
    ub = x0 + rng.uniform(0.5, 4, n)
    sense = "max" if seed % 3 else "min"
    c = rng.uniform(-3, 5, n)
    # some columns free below; the objective pushes them up to their finite ub: bounded
    free_below = rng.random(n) < 0.2
    lb[free_below] = -INF
    c[free_below] = np.abs(c[free_below]) + 0.5 if sense == "max" else -np.abs(c[free_below]) - 0.5
    return LinearModel(c=c, lb=lb, ub=ub, A=sp.csr_matrix(A), row_lb=row_lb, row_ub=row_ub,
                       sense=sense)


@pytest.mark.parametrize("seed", range(20))
def test_backends_agree_on_random_lps(seed):
    model = random_lp(seed)
    ref = get_solver("highs").solve(model)
    assert ref.status == "optimal"
    for name in ALL:
        sol = get_solver(name).solve(model)
        assert sol.status == "optimal", (name, sol.message)
        assert sol.objective == pytest.approx(ref.objective, rel=tol(name), abs=tol(name)), name
        if SOLVERS[name].features.duals:
            assert_dual_convention(model, sol, tol(name) * 10)


def assert_dual_convention(model, sol, t):
    """Stationarity c = Aᵀy + d and the signs of MuJun's convention at the active sides."""
    y, d = sol.row_duals, sol.col_duals
    np.testing.assert_allclose(model.A.T @ y + d, model.c, atol=t * 10)
    sign = 1.0 if model.sense == "max" else -1.0
    act = model.A @ sol.x
    near = max(t, 1e-5) * (1 + np.abs(act))     # PDLP's x is only approximately at a side
    at_hi = np.isfinite(model.row_ub) & (np.abs(act - model.row_ub) <= near)
    at_lo = np.isfinite(model.row_lb) & (np.abs(act - model.row_lb) <= near)
    # max: a positive dual only on a binding upper side, a negative one on a lower side
    assert np.all((sign * y <= t) | at_hi)
    assert np.all((sign * y >= -t) | at_lo)
    xs = max(t, 1e-5) * (1 + np.abs(sol.x))
    col_hi = np.isfinite(model.ub) & (np.abs(sol.x - model.ub) <= xs)
    col_lo = np.isfinite(model.lb) & (np.abs(sol.x - model.lb) <= xs)
    assert np.all((sign * d <= t) | col_hi)
    assert np.all((sign * d >= -t) | col_lo)


def market_split(m: int = 4, n: int = 40, seed: int = 7) -> LinearModel:
    """Cornuéjols–Dawande market split: tiny, and very hard for branch and bound."""
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 100, (m, n)).astype(float)
    rhs = np.floor(A.sum(axis=1) / 2)
    return LinearModel(c=np.zeros(n), lb=np.zeros(n), ub=np.ones(n), A=sp.csr_matrix(A),
                       row_lb=rhs, row_ub=rhs, integrality=np.ones(n, bool), sense="max")


@pytest.mark.parametrize("name", WITH_INTEGERS)
def test_time_limit_status(name):
    sol = get_solver(name).solve(market_split(), time_limit_s=0.2)
    assert sol.status == "time_limit", (sol.status, sol.message)
    if sol.x is not None and name not in ("ortools:cp-sat", "pulp:cbc", "pulp:highs"):
        assert sol.best_bound is not None


def market_split_slack(m: int = 4, n: int = 40, seed: int = 7) -> LinearModel:
    """The optimisation form: min the total deviation; incumbents are easy, proof is not."""
    base = market_split(m, n, seed)
    A = sp.hstack([base.A, sp.eye(m), -sp.eye(m)]).tocsr()
    return LinearModel(c=np.r_[np.zeros(n), np.ones(2 * m)], lb=np.zeros(n + 2 * m),
                       ub=np.r_[np.ones(n), np.full(2 * m, INF)], A=A, row_lb=base.row_lb,
                       row_ub=base.row_ub, integrality=np.r_[np.ones(n, bool),
                                                             np.zeros(2 * m, bool)], sense="min")


@pytest.mark.parametrize("name", ["highs", "ortools:scip", "ortools:cp-sat", "pulp:cbc"])
def test_time_limit_reports_incumbent_and_bound(name):
    model = market_split_slack()
    sol = get_solver(name).solve(model, time_limit_s=0.3)
    assert sol.status == "time_limit", (sol.status, sol.message)
    if sol.x is not None:      # an incumbent: consistent, feasible, within the bound
        assert sol.objective == pytest.approx(model.c @ sol.x + model.offset, abs=1e-6)
        act = model.A @ sol.x
        np.testing.assert_allclose(act, model.row_lb, atol=1e-6)
        if sol.best_bound is not None:
            assert sol.best_bound <= sol.objective + 1e-6


def test_highs_takes_extra_options():
    from optimizer.solvers.highs import HighsSolver

    model, objective, x, row_duals, col_duals = HAND["min_range_hi"]
    sol = HighsSolver(presolve="on", solver="ipm").solve(model)
    assert_solution(sol, "highs", objective, x, row_duals, col_duals)


def test_unknown_solver_suggests_nearest_name():
    with pytest.raises(ScenarioError, match="unknown solver 'ortools:glpo'; "
                                            "did you mean 'ortools:glop'\\?") as err:
        get_solver("ortools:glpo")
    assert err.value.exit_code == 2
    with pytest.raises(ScenarioError, match="valid solvers: highs"):
        get_solver("gurobi")


def test_registry_feature_table_and_versions():
    assert {"ortools:glop", "ortools:pdlp", "ortools:highs", "ortools:scip", "ortools:cp-sat",
            "pulp:cbc", "pulp:highs", "highs", "highs:ipm"} == set(SOLVERS)
    assert DEFAULT_SOLVER in SOLVERS and SOLVERS[DEFAULT_SOLVER].features.duals
    assert [row["name"] for row in FEATURE_TABLE] == list(SOLVERS)
    assert {row["name"] for row in FEATURE_TABLE if not row["duals"]} == {
        "ortools:highs", "ortools:scip", "ortools:cp-sat"}
    versions = solver_versions()
    assert set(versions) == {"ortools", "pulp", "highspy", "cbc"}
    assert versions["highspy"].startswith("1.") and versions["cbc"].count(".") == 2


def test_backend_modules_are_imported_when_first_asked_for():
    """The default backend does not bring in OR-Tools or PuLP (0.045 s of every run)."""
    import subprocess
    import sys

    code = ("import sys; from optimizer.solvers import DEFAULT_SOLVER, SOLVERS, get_solver; "
            "get_solver(DEFAULT_SOLVER); print(sorted(m for m in ('ortools', 'pulp') "
            "if m in sys.modules)); SOLVERS['ortools:glop']; print('ortools' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[:2] == ["[]", "True"]


# ---------------------------------------------------------------- export

EXPORT = lp([3, 2, -1, 0.5, 1e-7], [[1, 1, 0, 0, 0], [1, 3, 0, 0, 0], [0, 1, 1, 0, 0],
                                    [0, 0, 0, 0, 0], [1, 0, 0, 1, 0], [0, 0, 0, 0, 1]],
            [0, 0, -INF, -2, 0], [3, INF, INF, 1, 1], [-INF, -INF, 1, -INF, 0.5, -INF],
            [4, 10, 1, 5, 2.5, 0.3], offset=7.25, integrality=[False, True, False, False, True],
            col_names=np.array(["x 1", "2y", "企业", "e1", "bin"], dtype=object),
            row_names=np.array(["cap:land", "r", "r", "end", "rng", "b"], dtype=object))


@pytest.mark.parametrize("suffix", [".lp", ".mps"])
def test_export_round_trip_through_highs(tmp_path, suffix):
    import highspy

    path = write_model(EXPORT, tmp_path / f"model{suffix}")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.run()
    direct = get_solver("highs").solve(EXPORT)
    assert direct.objective == pytest.approx(18.75)   # x=1, y=3 (integer), z=−2, e1=1, b=0
    assert h.getInfo().objective_function_value == pytest.approx(direct.objective, rel=1e-12)
    np.testing.assert_allclose(h.getSolution().col_value, direct.x, atol=1e-9)
    assert h.getLp().integrality_ == [highspy.HighsVarType(v) for v in (0, 1, 0, 0, 1)]


def test_export_text_is_deterministic_and_exact(tmp_path):
    a = write_model(EXPORT, tmp_path / "a.lp").read_bytes()
    b = write_model(EXPORT, tmp_path / "b.lp").read_bytes()
    assert a == b
    text = a.decode("ascii")
    assert "+ 1e-07 _bin" in text and "u4f01u4e1a free" in text
    assert " rng_lo:" not in text and " _rng_lo: + 1.0 x_1 + 1.0 _e1 >= 0.5" in text
    assert "Generals\n _2y\nBinary\n _bin\n" in text
    mps = write_model(EXPORT, tmp_path / "a.mps").read_text()
    assert "    MARKER 'MARKER' 'INTORG'\n    _2y obj 2.0\n" in mps
    assert "    RNG _rng 2.0\n" in mps and "    RHS obj -7.25\n" in mps


def test_sanitise_names_makes_unique_safe_names():
    out = sanitise_names(np.array(["a b", "a_b", "1x", "e2", "free", "区"], dtype=object))
    assert list(out) == ["a_b", "a_b_1", "_1x", "_e2", "_free", "u533a"]


def test_export_rejects_unknown_suffix(tmp_path):
    with pytest.raises(OutputError, match=r"\.lp or \.mps"):
        write_model(EXPORT, tmp_path / "model.txt")


@pytest.mark.parametrize("name", ["highs", "ortools:highs", "pulp:highs", "pulp:cbc"])
def test_solves_print_nothing(capfd, name):
    # HiGHS writes its banner to file descriptor 1 whatever output_flag says.
    model, objective, *_ = HAND["max_le"]
    assert get_solver(name).solve(model).objective == pytest.approx(objective)
    assert capfd.readouterr().out == ""
