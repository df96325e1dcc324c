"""What both formulations return, and the sparse-assembly helpers they share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.allocation.model import LinearModel


@dataclass
class Built:
    """A formulation of SPEC §4 and how to read a solution back.

    ``cap_rows[k]`` is the row of ``data.caps[k]``; ``intensity_row`` the θ row.
    ``s_of``/``alive_of``/``y_of`` turn a column vector into scales, the survival
    indicator (1 − exit) and project shares.
    """

    model: LinearModel
    cap_rows: np.ndarray
    intensity_row: int | None
    s_cols: object          # callable x -> s
    alive_cols: object      # callable x -> alive (bool)
    y_slice: slice


class Triplets:
    """Collects (row, col, value) blocks and makes one CSR matrix at the end."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []

    def add(self, rows, cols, vals) -> None:
        rows, cols, vals = np.broadcast_arrays(np.asarray(rows, np.int64),
                                               np.asarray(cols, np.int64),
                                               np.asarray(vals, np.float64))
        keep = vals != 0
        self.rows.append(rows[keep].ravel())
        self.cols.append(cols[keep].ravel())
        self.vals.append(vals[keep].ravel())

    def csr(self, n_rows: int, n_cols: int) -> sp.csr_matrix:
        if not self.rows:
            return sp.csr_matrix((n_rows, n_cols))
        A = sp.csr_matrix((np.concatenate(self.vals),
                           (np.concatenate(self.rows), np.concatenate(self.cols))),
                          shape=(n_rows, n_cols))
        A.sum_duplicates()
        return A

