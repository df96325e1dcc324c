"""OR-Tools backends through ``model_builder``'s C++ helper.

The model is built in one vectorised call, ``ModelBuilderHelper.
fill_model_from_sparse_data(lb, ub, c, row_lb, row_ub, csr)`` (100,000
enterprises in 0.06 s, against 1.7 s for a pywraplp loop — reference
measurements), and values are read back in bulk (``variable_values``,
``dual_values``, ``reduced_costs``).

Names: "ortools:glop" (primal/dual simplex), "ortools:pdlp" (first-order
PDHG: approximate, ~1e-6 relative), "ortools:highs" (OR-Tools' bundled HiGHS;
its ``dual_values`` returns row activities in 9.15, so we report no duals),
"ortools:scip" (MILP, no duals) and "ortools:cp-sat" (MILP).

CP-SAT and continuous columns
    CP-SAT is an integer solver. Given a continuous column, its MPModel
    translation silently rounds it to an integer grid of step
    1/``mip_var_scaling`` (default step 1: ``max 3x + 2y, x + y ≤ 4.5`` with y
    continuous comes back as 11 instead of 12). We state the scaling:
    continuous columns are solved on a grid of step ``CPSAT_GRID = 1e-3`` of
    their unit (``mip_var_scaling: 1000``), then the continuous part is
    *polished*: integer columns are fixed at CP-SAT's values and GLOP solves
    the remaining LP exactly, so ``x`` and ``objective`` are exact for that
    integer choice. ``best_bound`` is reported for pure-integer models only
    (the grid bound is not a bound of the true MILP). If CP-SAT finds no point
    on the grid, or rejects the scaled model (MODEL_INVALID: e.g. two
    continuous columns tied by equalities to off-grid values), the status is
    "error" with a message pointing to ortools:scip. Threads: one worker, so reruns are
    deterministic (SPEC §6).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
# Imported with the package on purpose: importing OR-Tools lazily, after highspy had
# solved models in the same process, segfaulted in tests/test_solvers.py (both ship HiGHS).
from ortools.linear_solver.python import model_builder_helper as mbh

from optimizer.allocation.model import LinearModel, Solution
from optimizer.solvers.base import (Features, Solver, integer_mask, objective_value,
                                    quiet_stdout)
from optimizer.solvers.highs import classify_unsolved

CPSAT_GRID = 1e-3
_CPSAT_PARAMS = (f"mip_var_scaling: {1 / CPSAT_GRID:g} mip_max_bound: 1e12 "
                 "num_workers: 1")

_S = mbh.SolveStatus
_STATUS = {_S.OPTIMAL: "optimal", _S.INFEASIBLE: "infeasible", _S.UNBOUNDED: "unbounded"}


def build_helper(model: LinearModel) -> mbh.ModelBuilderHelper:
    helper = mbh.ModelBuilderHelper()
    A = model.A.tocsr().astype(np.float64)
    helper.fill_model_from_sparse_data(
        np.asarray(model.lb, np.float64), np.asarray(model.ub, np.float64),
        np.asarray(model.c, np.float64), np.asarray(model.row_lb, np.float64),
        np.asarray(model.row_ub, np.float64), A)
    helper.set_maximize(model.sense == "max")
    helper.set_objective_offset(float(model.offset))
    for j in np.flatnonzero(integer_mask(model)):   # only the (few) integer columns
        helper.set_var_integrality(int(j), True)
    return helper


class OrtoolsSolver(Solver):
    """One OR-Tools ``model_builder`` backend; subclasses name the engine."""

    engine = ""
    parameters = ""
    recheck_infeasible = False    # True where "infeasible" may mean "unbounded"

    def _solve(self, model: LinearModel, time_limit_s: float | None) -> Solution:
        t0 = time.perf_counter()
        helper = build_helper(model)
        t1 = time.perf_counter()
        solver = mbh.ModelSolverHelper(self.engine)
        if self.parameters:
            solver.set_solver_specific_parameters(self.parameters)
        if time_limit_s is not None:
            self._set_time_limit(solver, float(time_limit_s))
        with quiet_stdout() if self.engine == "highs" else contextlib.nullcontext():
            solver.solve(helper)
        t2 = time.perf_counter()
        out = self._read(model, solver, time_limit_s is not None)
        out.timings = {"build_s": t1 - t0, "solve_s": t2 - t1}
        return out

    def _set_time_limit(self, solver: mbh.ModelSolverHelper, seconds: float) -> None:
        solver.set_time_limit_in_seconds(seconds)

    def _read(self, model: LinearModel, solver: mbh.ModelSolverHelper,
              timed: bool) -> Solution:
        raw = solver.status()
        status = _STATUS.get(raw)
        if status is None and timed and raw in (_S.FEASIBLE, _S.NOT_SOLVED, _S.UNKNOWN_STATUS):
            status = "time_limit"
        if status is None or (status == "infeasible" and self.recheck_infeasible):
            # GLOP reports an unbounded LP as infeasible, PDLP/CP-SAT as abnormal.
            status = classify_unsolved(model) or status
        out = Solution(status=status or "error", message=solver.status_string() or raw.name)
        if out.status in ("optimal", "time_limit") and solver.has_solution():
            out.x = np.asarray(solver.variable_values(), dtype=np.float64)
            out.objective = float(solver.objective_value())
        if model.is_mip and out.status in ("optimal", "time_limit"):
            out.best_bound = float(solver.best_objective_bound())
        if out.status == "optimal" and self.features.duals and not model.is_mip:
            # GLOP and PDLP already report d(objective as stated)/d(rhs): our convention.
            out.row_duals = np.asarray(solver.dual_values(), dtype=np.float64)
            out.col_duals = np.asarray(solver.reduced_costs(), dtype=np.float64)
        return out


class GlopSolver(OrtoolsSolver):
    name, engine = "ortools:glop", "glop"
    recheck_infeasible = True
    features = Features(duals=True, integers=False, time_limit=True)


class PdlpSolver(OrtoolsSolver):
    name, engine = "ortools:pdlp", "pdlp"
    recheck_infeasible = True
    features = Features(duals=True, integers=False, time_limit=True, exact=False)


class OrtoolsHighsSolver(OrtoolsSolver):
    name, engine = "ortools:highs", "highs"
    features = Features(duals=False, integers=True, time_limit=True)

    def _set_time_limit(self, solver: mbh.ModelSolverHelper, seconds: float) -> None:
        # OR-Tools 9.15 does not forward set_time_limit_in_seconds to HiGHS; HiGHS'
        # own option does work ("name value" text, as in a HiGHS options file).
        solver.set_solver_specific_parameters(f"time_limit {seconds!r}")


class ScipSolver(OrtoolsSolver):
    name, engine = "ortools:scip", "scip"
    features = Features(duals=False, integers=True, time_limit=True)


class CpSatSolver(OrtoolsSolver):
    name, engine = "ortools:cp-sat", "sat"
    recheck_infeasible = True
    features = Features(duals=False, integers=True, time_limit=True)
    parameters = _CPSAT_PARAMS

    def _solve(self, model: LinearModel, time_limit_s: float | None) -> Solution:
        if not model.is_mip:
            # Nothing for CP-SAT to branch on, and on its grid an LP with equality rows
            # can take minutes: the LP goes straight to the exact polish step (GLOP).
            out = GlopSolver()._solve(model, time_limit_s)
            out.row_duals = out.col_duals = None
            out.message = "no integer columns: solved as an LP by GLOP (CP-SAT is for MILP)"
            return out
        out = super()._solve(model, time_limit_s)
        continuous = ~integer_mask(model)
        if not continuous.any():
            return out
        out.best_bound = None     # a bound of the grid model, not of the true MILP
        grid_failure = out.status == "error" or (
            out.status == "infeasible" and _relaxation_feasible(model))
        if grid_failure:
            out.status = "error"
            out.message = (f"CP-SAT could not solve this model's continuous columns on its "
                           f"{CPSAT_GRID:g} grid ({out.message}) although its LP relaxation "
                           f"is feasible; use ortools:scip for this model")
        if out.x is not None:
            _polish(model, out)
        return out


def _polish(model: LinearModel, out: Solution) -> None:
    """Fix the integer columns at CP-SAT's values and solve the rest exactly with GLOP."""
    fixed = integer_mask(model)
    lb = np.asarray(model.lb, np.float64).copy()
    ub = np.asarray(model.ub, np.float64).copy()
    lb[fixed] = ub[fixed] = np.round(out.x[fixed])
    lp = LinearModel(c=model.c, lb=lb, ub=ub, A=model.A, row_lb=model.row_lb,
                     row_ub=model.row_ub, sense=model.sense, offset=model.offset)
    polished = GlopSolver()._solve(lp, None)
    if polished.status != "optimal":
        out.status = "error"
        out.message = f"CP-SAT solution could not be polished by GLOP ({polished.status})"
        out.x = out.objective = None
        return
    out.x = polished.x
    out.objective = objective_value(model, polished.x)


def _relaxation_feasible(model: LinearModel) -> bool:
    relaxed = LinearModel(c=model.c, lb=model.lb, ub=model.ub, A=model.A,
                          row_lb=model.row_lb, row_ub=model.row_ub, sense=model.sense)
    return classify_unsolved(relaxed) != "infeasible"
