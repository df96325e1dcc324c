"""PuLP backends: "pulp:cbc" (bundled CBC/CLP through an MPS file) and "pulp:highs"
(``pulp.HiGHS``: highspy in process, rows added one by one).

PuLP is the slow reference front end (about 10 µs per nonzero and ~785 MB at
100,000 enterprises — reference measurements). It demands one Python object
per column and per row; we build each row with one ``LpAffineExpression``
from the zipped CSR slice and no per-element loop beyond that.

PuLP has no ranged row: a row with finite, different ``row_lb`` and
``row_ub`` becomes two constraints and its dual is the sum of theirs (at
most one of them binds). Sign normalisation (see ``optimizer.solvers.base``):
CBC already reports our convention; ``pulp.HiGHS`` reports duals and reduced
costs of the minimisation it passes to HiGHS, so they are negated for max.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pulp

from optimizer.allocation.model import LinearModel, Solution
from optimizer.solvers.base import Features, Solver, integer_mask, quiet_stdout

_STATUS = {1: "optimal", -1: "infeasible", -2: "unbounded"}
_SOL_FEASIBLE = 2     # pulp.LpSolutionIntegerFeasible: incumbent at a limit


def _bound(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def build_problem(model: LinearModel) -> tuple[pulp.LpProblem, np.ndarray, list[list]]:
    """The PuLP problem, its column objects, and per model row the PuLP constraints."""
    prob = pulp.LpProblem("mujun", pulp.LpMaximize if model.sense == "max" else pulp.LpMinimize)
    cats = np.where(integer_mask(model), pulp.LpInteger, pulp.LpContinuous)
    cols = np.empty(model.n_cols, dtype=object)
    cols[:] = [prob.add_variable(f"c{j}", _bound(lo), _bound(hi), cat=cat)
               for j, (lo, hi, cat) in enumerate(zip(model.lb, model.ub, cats))]
    nz = np.flatnonzero(model.c)
    prob.setObjective(pulp.LpAffineExpression(zip(cols[nz], model.c[nz].tolist()),
                                              constant=float(model.offset)))
    A = model.A.tocsr()
    rows: list[list] = []
    for i in range(model.n_rows):
        lo, hi = float(model.row_lb[i]), float(model.row_ub[i])
        sl = slice(A.indptr[i], A.indptr[i + 1])
        expr = pulp.LpAffineExpression(zip(cols[A.indices[sl]], A.data[sl].tolist()))
        rows.append(_add_row(prob, i, expr, lo, hi))
    return prob, cols, rows


def _add_row(prob: pulp.LpProblem, i: int, expr, lo: float, hi: float) -> list:
    if lo == hi:
        specs = [(pulp.LpConstraintEQ, lo, f"r{i}")]
    else:
        specs = []
        if np.isfinite(lo):
            specs.append((pulp.LpConstraintGE, lo, f"r{i}_lo"))
        if np.isfinite(hi):
            specs.append((pulp.LpConstraintLE, hi, f"r{i}_hi"))
    cons = [pulp.LpConstraint(expr, sense, name, rhs) for sense, rhs, name in specs]
    for con in cons:
        prob.addConstraint(con)
    return cons


class PulpSolver(Solver):
    """A PuLP command/API solver; subclasses say which and how duals are signed."""

    dual_sign_for_max = 1.0

    def _command(self, time_limit_s: float | None):
        raise NotImplementedError

    def _solve(self, model: LinearModel, time_limit_s: float | None) -> Solution:
        t0 = time.perf_counter()
        prob, cols, rows = build_problem(model)
        t1 = time.perf_counter()
        with quiet_stdout():       # pulp.HiGHS' banner; CBC runs in its own process
            code = prob.solve(self._command(time_limit_s))
        t2 = time.perf_counter()
        out = Solution(status=_STATUS.get(code, "error"), message=pulp.LpStatus.get(code, ""),
                       timings={"build_s": t1 - t0, "solve_s": t2 - t1})
        if time_limit_s is not None and (code == 0 or (prob.sol_status == _SOL_FEASIBLE
                                                       and model.is_mip)):
            out.status = "time_limit"     # PuLP: "Not Solved" / incumbent at the limit
            out.message = "time limit reached; the incumbent is reported"
        if out.status in ("optimal", "time_limit") and prob.sol_status in (1, _SOL_FEASIBLE):
            out.x = np.fromiter((v.varValue or 0.0 for v in cols), np.float64, model.n_cols)
            out.objective = float(np.dot(model.c, out.x) + model.offset)
        elif out.status == "time_limit":
            out.message = "time limit reached without a feasible solution"
        if out.status == "optimal" and not model.is_mip:
            sign = self.dual_sign_for_max if model.sense == "max" else 1.0
            out.row_duals = sign * np.array([sum(c.pi or 0.0 for c in cons) for cons in rows],
                                            dtype=np.float64)
            out.col_duals = sign * np.fromiter((v.dj or 0.0 for v in cols), np.float64,
                                               model.n_cols)
        return out


class PulpCbcSolver(PulpSolver):
    name = "pulp:cbc"
    features = Features(duals=True, integers=True, time_limit=True)

    def _command(self, time_limit_s: float | None):
        # PULP_CBC_CMD is the CBC bundled with PuLP 3 (no separate install, works
        # offline); its PuLP 4 deprecation notice is not the user's business.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s)


class PulpHighsSolver(PulpSolver):
    name = "pulp:highs"
    features = Features(duals=True, integers=True, time_limit=True)
    dual_sign_for_max = -1.0

    def _command(self, time_limit_s: float | None):
        return pulp.HiGHS(msg=False, timeLimit=time_limit_s)


def cbc_version() -> str:
    """Version of PuLP's bundled CBC (from its banner); "" when it cannot be run."""
    import subprocess

    try:
        path = PulpCbcSolver()._command(None).path
        text = subprocess.run([path, "-quit"], capture_output=True, text=True,
                              timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    for line in text.splitlines():
        if line.strip().startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return ""
