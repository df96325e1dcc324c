"""The plain formulation of SPEC §4, written as the SPEC states it (for audit and tests).

Columns s_i, x_ir (i-major), y_j and, in MILP mode, o_i for exit-able grades.
Rows: Leontief x_ir − a_ir·s_i ≥ 0, exit links, then the cap rows summed
directly over the enterprises, then the energy-intensity row. This is the
"direct scipy/HiGHS formulation" of the benchmark: correct but slow at
province scale because the global rows carry N non-zeros.
"""

from __future__ import annotations

import numpy as np

from optimizer.allocation.data import ENERGY, AllocationData
from optimizer.allocation.formulation import Built, Triplets
from optimizer.allocation.model import LinearModel


def build_plain(data: AllocationData, *, milp: bool = False) -> Built:
    n, R = data.n, len(data.resources)
    P = data.projects.n if data.projects is not None else 0
    proj = data.projects
    exit_mask = data.exit_allowed & milp
    exit_idx = np.flatnonzero(exit_mask)
    E = exit_idx.size
    c_x, c_y, c_o = n, n + n * R, n + n * R + P
    n_cols = c_o + E
    xcol = c_x + np.arange(n * R).reshape(n, R)
    tri = Triplets()
    row_lb, row_ub = [], []
    # Leontief: x_ir ≥ (1 − e)·u_ir·s_i
    leo = np.arange(n * R).reshape(n, R)
    tri.add(leo, xcol, 1.0)
    tri.add(leo, np.arange(n)[:, None], -data.a)
    row_lb.append(np.zeros(n * R))
    row_ub.append(np.full(n * R, np.inf))
    n_rows = n * R
    if E:
        # s − s_lo·o ≥ 0, s − s_hi·o ≤ 0, x − f·o ≥ 0
        rows = n_rows + np.arange(E)
        tri.add(rows, exit_idx, 1.0)
        tri.add(rows, c_o + np.arange(E), -data.s_lo[exit_idx])
        tri.add(rows + E, exit_idx, 1.0)
        tri.add(rows + E, c_o + np.arange(E), -data.s_hi[exit_idx])
        frows = n_rows + 2 * E + np.arange(E * R).reshape(E, R)
        tri.add(frows, xcol[exit_idx], 1.0)
        tri.add(frows, (c_o + np.arange(E))[:, None], -data.f[exit_idx])
        row_lb += [np.zeros(E), np.full(E, -np.inf), np.zeros(E * R)]
        row_ub += [np.full(E, np.inf), np.zeros(E), np.full(E * R, np.inf)]
        n_rows += 2 * E + E * R
    cap_rows = np.zeros(len(data.caps), np.int64)
    for k, cap in enumerate(data.caps):
        r = data.resources.index(cap.resource)
        ents = (np.arange(n) if cap.kind == "global"
                else np.flatnonzero(np.isin(data.zone_code, cap.members)))
        tri.add(n_rows, xcol[ents, r], 1.0)
        if P:
            pj = (np.arange(P) if cap.kind == "global"
                  else np.flatnonzero(np.isin(proj.zone_code, cap.members)))
            tri.add(n_rows, c_y + pj, proj.d[pj, r])
        cap_rows[k] = n_rows
        row_lb.append([-np.inf])
        row_ub.append([cap.value])
        n_rows += 1
    intensity_row = None
    if data.theta is not None:
        e = data.resources.index(ENERGY)
        tri.add(n_rows, xcol[:, e], 1.0)
        tri.add(n_rows, np.arange(n), -data.theta * data.value_added)
        if P:
            tri.add(n_rows, c_y + np.arange(P), proj.d[:, e] - data.theta * proj.value_added)
        intensity_row = n_rows
        row_lb.append([-np.inf])
        row_ub.append([0.0])
        n_rows += 1

    c = np.zeros(n_cols)
    c[:n] = data.weight * data.objective
    lb = np.concatenate([data.s_lo, data.f.ravel(), np.zeros(P + E)])
    ub = np.concatenate([data.s_hi, data.q_hi_u.ravel(), np.ones(P + E)])
    lb[exit_idx] = 0.0
    lb[xcol[exit_idx]] = 0.0
    if P:
        c[c_y:c_o] = proj.weight * proj.objective
        ub[c_y:c_o] = proj.eligible.astype(float)
    integrality = None
    if milp:
        integrality = np.zeros(n_cols, bool)
        integrality[c_y:] = True
    model = LinearModel(c=c, lb=lb, ub=ub, A=tri.csr(n_rows, n_cols),
                        row_lb=np.concatenate(row_lb), row_ub=np.concatenate(row_ub),
                        integrality=integrality, sense="max")

    def s_of(x):
        return np.where(alive_of(x), x[:n], 0.0)

    def alive_of(x):
        alive = np.ones(n, bool)
        alive[exit_idx] = x[c_o:] > 0.5
        return alive

    return Built(model, cap_rows, intensity_row, s_of, alive_of, slice(c_y, c_o))
