"""A solver-neutral linear model built from arrays (SPEC §4).

    optimise  c·x  (sense = "max" or "min"; constant ``offset`` added to the objective)
    subject to row_lb ≤ A x ≤ row_ub,  lb ≤ x ≤ ub,  x_j integer where ``integrality[j]``

``A`` is a scipy CSR matrix. Infinite bounds are ``±numpy.inf``. Names are
optional arrays of str used only for .lp/.mps export and messages.
Solvers (``optimizer.solvers``) take this object and return a ``Solution``;
they know nothing about enterprises, files or scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class LinearModel:
    c: np.ndarray
    lb: np.ndarray
    ub: np.ndarray
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    integrality: np.ndarray | None = None      # bool per column; None = all continuous
    sense: str = "max"
    offset: float = 0.0
    col_names: np.ndarray | None = None
    row_names: np.ndarray | None = None
    # names cost time at province scale and only matter for export: a builder may
    # give a function that makes (col_names, row_names) when first asked
    name_factory: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))

    def names_or_default(self) -> tuple[np.ndarray, np.ndarray]:
        if self.col_names is None and self.name_factory is not None:
            self.col_names, self.row_names = self.name_factory()
        cols = self.col_names if self.col_names is not None else np.array(
            [f"x{j}" for j in range(self.n_cols)], dtype=object)
        rows = self.row_names if self.row_names is not None else np.array(
            [f"r{i}" for i in range(self.n_rows)], dtype=object)
        return cols, rows


@dataclass
class Solution:
    """What a backend returns.

    status: "optimal" | "infeasible" | "unbounded" | "time_limit" | "error".
    x: column values; row_duals: one per row with MuJun's sign convention —
    the change of the *objective as stated* (max or min) per unit increase of
    the row's binding side, i.e. for a binding ≤ row in a max problem the dual
    is ≥ 0. ``None`` when the backend does not give duals (MIP, CP-SAT).
    """

    status: str
    objective: float | None = None
    x: np.ndarray | None = None
    row_duals: np.ndarray | None = None
    col_duals: np.ndarray | None = None    # reduced costs, same convention
    best_bound: float | None = None
    solver: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    message: str = ""
