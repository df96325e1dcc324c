"""The solver interface every backend implements, and MuJun's dual sign convention.

A backend turns a solver-neutral ``LinearModel`` into a ``Solution``; it knows
nothing about enterprises, files or scenarios.

Status
    ``Solution.status`` is one of ``STATUSES``: "optimal", "infeasible",
    "unbounded", "time_limit", "error". On a time limit ``x``/``objective`` hold
    the incumbent when there is one and ``best_bound`` the proven bound (MIP).

Dual sign convention (SPEC §4, 影子价格)
    ``row_duals[i]`` is the derivative of the objective *as stated* (max or
    min, offset included) with respect to the right-hand side of the side of
    row ``i`` that binds: "the objective gained by one more unit of the cap".

    * max problem, binding ``A x ≤ u`` row: dual ≥ 0 (a looser cap can only help);
    * max problem, binding ``A x ≥ l`` row: dual ≤ 0 (a higher floor costs);
    * min problem, binding ``A x ≥ l`` row: dual ≥ 0 (a higher floor costs more);
    * min problem, binding ``A x ≤ u`` row: dual ≤ 0;
    * equality and ranged rows: the same derivative, whichever side binds;
      a row that binds on no side has dual 0.

    ``col_duals[j]`` (reduced costs) follow the same rule for the column
    bounds: the objective gained per unit increase of the bound of ``x_j``
    that binds (0 for a basic column). Worked example, tested in
    ``tests/test_solvers.py``: max 3x + 2y, x + y ≤ 4, 0 ≤ x ≤ 3, y ≥ 0 has
    x = 3, y = 1, row dual 2 (one more unit of the cap buys one more y) and
    reduced cost 1 on x (raising its bound trades one y for one x: 3 − 2).

    Every backend is normalised to this one convention; backends that give
    no duals (MIP solves, SCIP, CP-SAT, OR-Tools' HiGHS wrapper) return
    ``None`` and say so in their ``features``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from optimizer.allocation.model import LinearModel, Solution
from optimizer.errors import SolverError

STATUSES = ("optimal", "infeasible", "unbounded", "time_limit", "error")


@dataclass(frozen=True)
class Features:
    """What a backend can do; the README's feature table is built from these."""

    duals: bool        # row duals and reduced costs for LPs
    integers: bool     # honours ``LinearModel.integrality`` (MILP)
    time_limit: bool   # honours ``time_limit_s``
    exact: bool = True  # simplex/IPM-with-crossover accuracy (False: first-order PDLP)
    long_rows: bool = False  # fast on rows with very many non-zeros (interior point)


class Solver:
    """Base class: subclasses set ``name``/``features`` and implement ``_solve``."""

    name: str = ""
    features: Features = Features(duals=False, integers=False, time_limit=False)

    def solve(self, model: LinearModel, *, time_limit_s: float | None = None) -> Solution:
        """Solve ``model``; raise ``SolverError`` if it has integers we cannot honour."""
        if model.sense not in ("max", "min"):
            raise SolverError(f"model sense must be 'max' or 'min', not {model.sense!r}")
        if model.is_mip and not self.features.integers:
            raise SolverError(
                f"solver {self.name!r} solves LPs only and this model has integer columns "
                f"(method = \"milp\"); choose one of ortools:scip, ortools:cp-sat, "
                f"ortools:highs, pulp:cbc, pulp:highs, highs", status="error")
        start = time.perf_counter()
        solution = self._solve(model, time_limit_s)
        solution.solver = self.name
        solution.timings.setdefault("total_s", time.perf_counter() - start)
        if solution.status == "optimal" and model.is_mip:
            # MIP duals are not meaningful (SPEC §4 shadow prices are LP only).
            solution.row_duals = solution.col_duals = None
        return solution

    def _solve(self, model: LinearModel, time_limit_s: float | None) -> Solution:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def csr_parts(model: LinearModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """indptr, indices (int32) and data (float64) of ``A`` with sorted, summed duplicates."""
    A = model.A.tocsr(copy=True)
    A.sum_duplicates()
    A.sort_indices()
    return (A.indptr.astype(np.int32), A.indices.astype(np.int32),
            A.data.astype(np.float64))


def integer_mask(model: LinearModel) -> np.ndarray:
    if model.integrality is None:
        return np.zeros(model.n_cols, dtype=bool)
    return np.asarray(model.integrality, dtype=bool)


def objective_value(model: LinearModel, x: np.ndarray) -> float:
    return float(np.dot(model.c, x) + model.offset)


@contextlib.contextmanager
def quiet_stdout():
    """Silence C++ banners written straight to file descriptor 1 (HiGHS prints
    "Running HiGHS ..." on its first instance, and on every OR-Tools HiGHS solve,
    whatever ``output_flag`` says); batch runs must stay quiet (SPEC §7)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):      # no real stdout (embedded, closed): nothing to hide
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
