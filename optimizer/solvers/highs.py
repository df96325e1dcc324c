"""HiGHS through highspy, built in one ``passModel`` call from the CSR arrays.

Names: "highs" (dual simplex) and "highs:ipm" (interior point with crossover,
so duals are those of a basic solution).

Presolve is off by default: for the allocation family (many columns, few
coupling rows after aggregation) HiGHS presolve removes nothing but costs 5 s
at 100,000 enterprises and 30 s at 300,000 (reference/solver-notes.md, measured
on these 2-core machines). MIPs keep presolve on: branch and bound needs it.
"""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimizer.allocation.model import LinearModel, Solution
from optimizer.solvers.base import Features, Solver, csr_parts, integer_mask, quiet_stdout

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
    highspy.HighsModelStatus.kUnbounded: "unbounded",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kIterationLimit: "time_limit",
    highspy.HighsModelStatus.kInterrupt: "time_limit",
}
_ROWWISE = 2          # HighsMatrixFormat::kRowwise
_MIN, _MAX = 1, -1    # ObjSense


def make_highs(model: LinearModel, options: dict[str, object]) -> highspy.Highs:
    """A silent Highs instance holding ``model`` (one vectorised passModel call)."""
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for key, value in options.items():
        h.setOptionValue(key, value)
    indptr, indices, data = csr_parts(model)
    args = [model.n_cols, model.n_rows, int(data.size), _ROWWISE,
            _MAX if model.sense == "max" else _MIN, float(model.offset),
            np.asarray(model.c, np.float64), np.asarray(model.lb, np.float64),
            np.asarray(model.ub, np.float64), np.asarray(model.row_lb, np.float64),
            np.asarray(model.row_ub, np.float64), indptr, indices, data,
            integer_mask(model).astype(np.int32)]   # HighsVarType: 0 continuous, 1 integer
    h.passModel(*args)
    return h


class HighsSolver(Solver):
    name = "highs"
    features = Features(duals=True, integers=True, time_limit=True)
    algorithm = "simplex"

    def __init__(self, **options: object):
        """``options``: extra HiGHS options that win over ours, e.g. ``presolve="on"``."""
        self.extra_options = dict(options)

    def _options(self, model: LinearModel, time_limit_s: float | None) -> dict[str, object]:
        if model.is_mip:
            # Tight integrality/row tolerances so MIP optima agree with the exact LP
            # backends to 1e-9, not HiGHS' default 1e-6.
            options: dict[str, object] = {"mip_feasibility_tolerance": 1e-9,
                                          "primal_feasibility_tolerance": 1e-9}
        else:
            options = {"presolve": "off", "solver": self.algorithm}
        if time_limit_s is not None:
            options["time_limit"] = float(time_limit_s)
        return {**options, **self.extra_options}

    def _solve(self, model: LinearModel, time_limit_s: float | None) -> Solution:
        t0 = time.perf_counter()
        h = make_highs(model, self._options(model, time_limit_s))
        t1 = time.perf_counter()
        h.run()
        t2 = time.perf_counter()
        raw = h.getModelStatus()
        status = _STATUS.get(raw)
        if raw == highspy.HighsModelStatus.kUnboundedOrInfeasible:
            status = classify_unsolved(model)
        timings = {"build_s": t1 - t0, "solve_s": t2 - t1}
        if status is None:
            return Solution(status="error", message=h.modelStatusToString(raw), timings=timings)
        info = h.getInfo()
        has_x = info.primal_solution_status == 2   # kSolutionStatusFeasible
        sol = h.getSolution()
        out = Solution(status=status, timings=timings, message=h.modelStatusToString(raw))
        if has_x and status in ("optimal", "time_limit"):
            out.x = np.asarray(sol.col_value, dtype=np.float64)
            out.objective = float(info.objective_function_value)
        if model.is_mip and status in ("optimal", "time_limit"):
            out.best_bound = float(info.mip_dual_bound)
        if status == "optimal" and not model.is_mip and sol.dual_valid:
            # HiGHS gives d(objective)/d(rhs) in the problem's own sense: our convention.
            out.row_duals = np.asarray(sol.row_dual, dtype=np.float64)
            out.col_duals = np.asarray(sol.col_dual, dtype=np.float64)
        return out


class HighsIpmSolver(HighsSolver):
    name = "highs:ipm"
    features = Features(duals=True, integers=True, time_limit=True, long_rows=True)
    algorithm = "ipm"


def classify_unsolved(model: LinearModel) -> str | None:
    """"infeasible" or "unbounded" for a model some backend could not solve, by HiGHS.

    Used by backends whose own report is ambiguous (GLOP says "infeasible" for
    an unbounded LP; PDLP and CP-SAT say "abnormal"). ``None``: neither — a
    genuine solver failure. A feasible MILP whose LP relaxation is unbounded is
    unbounded (rational data).
    """
    probe = LinearModel(c=np.zeros(model.n_cols), lb=model.lb, ub=model.ub, A=model.A,
                        row_lb=model.row_lb, row_ub=model.row_ub,
                        integrality=model.integrality, sense=model.sense)
    h = make_highs(probe, {"presolve": "off"} if not probe.is_mip else {})
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return "infeasible"
    relaxed = LinearModel(c=model.c, lb=model.lb, ub=model.ub, A=model.A, row_lb=model.row_lb,
                          row_ub=model.row_ub, sense=model.sense)
    h = make_highs(relaxed, {"presolve": "off"})
    h.run()
    unbounded = (highspy.HighsModelStatus.kUnbounded,
                 highspy.HighsModelStatus.kUnboundedOrInfeasible)
    return "unbounded" if h.getModelStatus() in unbounded else None
