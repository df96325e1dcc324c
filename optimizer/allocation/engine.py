"""``allocate``: build → solve → explain one variant of SPEC §4.

Formulations: "segments" (default; the fast exact reformulation of
``optimizer.allocation.segments``) and "plain" (SPEC §4 as written, for audit
and tests). Methods: "lp", "milp" (binary project admission and exits 腾退),
"rule" (the county baseline of ``optimizer.allocation.rule``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.allocation.data import AllocationData, prepare
from optimizer.allocation.explain import cap_state, enterprise_reasons, project_reasons
from optimizer.allocation.infeasible import diagnose, elastic, tier_conflicts
from optimizer.allocation.kpis import compute_kpis
from optimizer.allocation.model import LinearModel, Solution
from optimizer.allocation.plain import build_plain
from optimizer.allocation.rule import rule_allocation
from optimizer.allocation.segments import DEFAULT_BLOCK_SIZE, build_segments
from optimizer.allocation.sifting import MIN_COLUMNS as SIFT_MIN_COLUMNS
from optimizer.allocation.sifting import TRY_COLUMNS as SIFT_TRY_COLUMNS
from optimizer.allocation.sifting import SiftingSolver
from optimizer.allocation.tables import allocation_frame, projects_frame, zones_frame
from optimizer.errors import ScenarioError
from optimizer.policy import AllocationConfig

SHADOW_PRICE_CONVENTION = (
    "objective gained (万元 of Σ w·VA) per one more unit of the cap: 万元 per mu, tce or t; "
    "≥ 0 when the cap binds, 0 when slack; energy_intensity: 万元 per tce of allowance above "
    "θ·VA; empty for MILP and rule runs (no duals)")
METHODS = ("lp", "milp", "rule")
ZONE_COLUMNS = ["zone_id", "resource", "unit", "before", "after", "cap", "shadow_price"]
# zones.csv columns; a run without a solution still writes them (readers need a header)
ZONE_COLUMNS = ["zone_id", "resource", "unit", "before", "after", "cap", "shadow_price"]


@dataclass
class AllocationResult:
    status: str                     # optimal | infeasible | time_limit | error
    objective: float | None
    allocation: pd.DataFrame
    projects: pd.DataFrame
    zones: pd.DataFrame
    kpis: dict[str, float]
    timings: dict[str, float]
    diagnosis: list[str]
    solver: str
    model: LinearModel | None
    method: str
    best_bound: float | None = None
    formulation: str = "segments"
    shadow_price_convention: str = SHADOW_PRICE_CONVENTION
    extra: dict = field(default_factory=dict)


def allocate(enterprises: pd.DataFrame, config: AllocationConfig,
             projects: pd.DataFrame | None = None, *, formulation: str = "segments",
             solver=None, zone_names: dict[str, str] | None = None,
             block_size: int = DEFAULT_BLOCK_SIZE,
             sift_min_columns: int = SIFT_MIN_COLUMNS,
             sift_try_columns: int = SIFT_TRY_COLUMNS) -> AllocationResult:
    """Allocate land, energy and emission quotas for one variant (SPEC §4).

    ``solver`` is a ``optimizer.solvers.Solver`` instance (default: the one
    named by ``config.solver``); ``zone_names`` (zone/group id → name) is used
    in messages only. LP solves of the segment model with at least
    ``sift_min_columns`` columns go through ``SiftingSolver`` (exact); from
    ``sift_try_columns`` on, tentatively (it gives up for a direct solve when its
    sample prices prove poor).
    """
    if config.method not in METHODS:
        raise ScenarioError(f"method must be one of {', '.join(METHODS)}, not "
                            f"{config.method!r}", column="method")
    if formulation not in ("segments", "plain"):
        raise ScenarioError(f"formulation must be 'segments' or 'plain', not {formulation!r}")
    t0 = time.perf_counter()
    data = prepare(enterprises, config, projects)
    data.zone_names = dict(zone_names or {})
    frame = enterprises.sort_values("id", kind="mergesort").reset_index(drop=True)
    solver = solver if solver is not None else _solver(config.solver)
    if config.method == "rule":
        return _rule(data, config, frame, solver, t0)
    milp = config.method == "milp"
    conflicts = tier_conflicts(data, milp)
    if conflicts:
        return _failed(data, config, frame, "infeasible", conflicts, solver, None, t0,
                       formulation)
    long_rows = bool(getattr(getattr(solver, "features", None), "long_rows", False))
    built = (build_segments(data, milp=milp, block_size=block_size, long_rows=long_rows)
             if formulation == "segments" else build_plain(data, milp=milp))
    t1 = time.perf_counter()
    backend = solver
    if formulation == "segments" and not milp and getattr(solver, "features", None) is not None \
            and solver.features.duals and solver.features.exact:
        backend = SiftingSolver(solver, min_columns=sift_min_columns,
                                try_columns=sift_try_columns)
    sol = (backend.solve(built.model, time_limit_s=config.time_limit_s) if built.model.n_cols
           else _empty_solution(built.model))
    t2 = time.perf_counter()
    timings = {"build": t1 - t0, "solve": t2 - t1}
    if sol.status == "infeasible":
        return _failed(data, config, frame, "infeasible", diagnose(data, milp, solver),
                       solver, built.model, t0, formulation, timings)
    if sol.x is None or sol.status not in ("optimal", "time_limit"):
        status = "time_limit" if sol.status == "time_limit" else "error"
        msg = [f"solver {solver.name} stopped with status {sol.status!r}: {sol.message}"]
        return _failed(data, config, frame, status, msg, solver, built.model, t0, formulation,
                       timings, sol.best_bound)
    s, alive = built.s_cols(sol.x), built.alive_cols(sol.x)
    # solver round-off (1e-12) must not push a scale past its tier bounds
    s = np.where(alive, np.clip(s, data.s_lo, np.maximum(data.s_ub, data.s_lo)), 0.0)
    y = np.clip(sol.x[built.y_slice], 0.0, 1.0) + 0.0      # no "-0.0" in CSVs
    diagnosis = [] if sol.status == "optimal" else [
        f"time limit reached: the best solution found is reported; best bound "
        f"{sol.best_bound if sol.best_bound is not None else float('nan'):,.2f}"]
    result = _explain(data, config, frame, s, alive, y, sol.row_duals, built.cap_rows,
                      built.intensity_row, sol.status, diagnosis, solver.name, built.model,
                      timings, formulation)
    result.best_bound = sol.best_bound
    return result


def _empty_solution(model: LinearModel) -> Solution:
    """Every scale fixed by its tier (s_lo = s_hi): no column left, only constants to check."""
    tol = 1e-9 * np.maximum(1.0, np.abs(np.concatenate([model.row_lb, model.row_ub])))
    ok = np.all(model.row_lb <= tol[:model.n_rows]) and np.all(model.row_ub >= -tol[model.n_rows:])
    if not ok:
        return Solution(status="infeasible")
    return Solution(status="optimal", objective=model.offset, x=np.zeros(0),
                    row_duals=np.zeros(model.n_rows), col_duals=np.zeros(0))


def _solver(name: str):
    from optimizer.solvers import get_solver
    return get_solver(name)


def objective_of(data: AllocationData, s: np.ndarray, y: np.ndarray) -> float:
    value = float(np.sum(data.weight * data.objective * s))
    if data.projects is not None:
        value += float(np.sum(data.projects.weight * data.projects.objective * y))
    return value


def _explain(data, config, frame, s, alive, y, duals, cap_rows, intensity_row, status,
             diagnosis, solver_name, model, timings, formulation) -> AllocationResult:
    t = time.perf_counter()
    x = data.quota(s, alive)
    state = cap_state(data, x, s, y, duals, cap_rows, intensity_row)
    binding = enterprise_reasons(data, state, s, alive)
    alloc = allocation_frame(data, s, x, binding)
    proj = (projects_frame(data, y, project_reasons(data, state, y))
            if data.projects is not None else projects_frame(data, y, np.array([])))
    zones = zones_frame(data, config, x, y, state)
    objective = objective_of(data, s, y)
    kpis = compute_kpis(data, config, frame, s, x, y, objective)
    timings = dict(timings, explain=time.perf_counter() - t)
    return AllocationResult(status, objective, alloc, proj, zones, kpis, timings, diagnosis,
                            solver_name, model, config.method, formulation=formulation)


def _rule(data, config, frame, solver, t0) -> AllocationResult:
    s, y, ok = rule_allocation(data)
    timings = {"build": 0.0, "solve": time.perf_counter() - t0}
    if not ok:
        found = tier_conflicts(data, False) or elastic(data, False, solver) or [
            "the rule baseline (tier multipliers cut pro rata) cannot meet the caps and the "
            "energy-intensity target, although an optimised allocation (method = \"lp\") can"]
        return _failed(data, config, frame, "infeasible", found, solver, None, t0, "rule",
                       timings)
    K = len(data.caps)
    return _explain(data, config, frame, s, np.ones(data.n, bool), y, None, np.zeros(K, int),
                    None, "optimal", [], "rule", None, timings, "rule")


def _failed(data, config, frame, status, diagnosis, solver, model, t0, formulation,
            timings=None, best_bound=None) -> AllocationResult:
    """A result without a solution: today's values, empty 'after' columns."""
    nan = np.full(data.n, np.nan)
    x = np.full_like(data.u, np.nan)
    alloc = allocation_frame(data, nan, x, np.full(data.n, "", dtype=object))
    y = np.full(data.projects.n if data.projects is not None else 0, np.nan)
    reason = (np.where(data.projects.eligible, "", "ineligible: " +
                       data.projects.reason.astype(object))
              if data.projects is not None else np.array([]))
    timings = dict(timings or {"build": time.perf_counter() - t0, "solve": 0.0}, explain=0.0)
    result = AllocationResult(status, None, alloc, projects_frame(data, y, reason),
                              pd.DataFrame(columns=ZONE_COLUMNS), {}, timings, list(diagnosis),
                              getattr(solver, "name", str(solver)), model, config.method,
                              best_bound=best_bound, formulation=formulation)
    return result
