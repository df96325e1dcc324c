"""The fast formulation of SPEC §4: segments of s, aggregated zone blocks.

Why it is exact (proof sketch; the README carries the long form):

1. For a fixed scale s_i the least quota that satisfies the tier floor and
   the Leontief row is x_ir(s) = max(a_ir·s, f_ir) with a = (1 − e)·u and
   f = q_lo·u. Every cap row (zone, global, intensity) has non-negative
   coefficients on x, so replacing any feasible x by this least x keeps the
   solution feasible with the same objective: the optimum of the plain model
   equals the optimum over s alone with x = x(s).
2. x_ir(s) is convex piecewise linear with one breakpoint k_gr = q_lo/(1 − e)
   that depends on the grade only. Cut [s_lo, s_ub] at the grade's
   breakpoints into segments δ_k ∈ [0, len_k], s = s_lo + Σ_k δ_k. On segment
   k the slope of x_ir is a_ir if the segment lies above k_gr, else 0, so the
   slopes are non-decreasing in k, while every δ_k of an enterprise has the
   same objective coefficient w·VA. Any LP solution that fills a later segment
   before an earlier one can be shifted to fill earlier segments first with
   the same s (same objective) and no more of any resource; conversely every s
   has the filled-in-order δ. So both LPs have the same optimum, and the
   reported x(s) of the segment solution is feasible for the plain model.
   The quota ceiling x ≤ q_hi·u becomes s ≤ q_hi/(1 − e) inside s_ub.
3. Rows with N non-zeros make HiGHS' simplex pathological
   (reference/solver-notes.md), so zone totals are aggregated on block
   columns t[b,r] = Σ_{i∈b} x_ir (b = a chunk of at most ``block_size``
   enterprises of one zone, equality rows) and every cap is a short row over
   the t's. Same for the intensity row with h_b = Σ_{i∈b} (x_i,energy − θ·VA_i·s_i).
   These are definitions of new columns: the projection onto (δ, y) is unchanged.
4. MILP exits (腾退): binary o_i with s = s_lo·o + Σδ, δ_k ≤ len_k·o, and x(s_lo)·o
   as the constant part, so an exited firm holds no quota and its land is free.
5. Interior point does not suffer from long rows (its work is in the normal
   equations, one row per cap), so for it (``long_rows``) the block totals are
   substituted back: t = D·δ − rhs put into every cap row gives (H + G·D)·δ
   within the caps shifted by G·rhs. Same feasible set in δ, same optimum, and
   each cap keeps its own row (so its dual is its shadow price); at 100,000
   firms × 4 resources HiGHS' IPM takes 1.3 s on it against 1.7 s on the block form.
"""

from __future__ import annotations

import numpy as np

from optimizer.allocation.data import ENERGY, AllocationData
from optimizer.allocation.formulation import Built, Triplets
from optimizer.allocation.model import LinearModel

DEFAULT_BLOCK_SIZE = 1000
# Readable names cost ~1 s per million columns; beyond this an exported model
# uses the default x<j>/r<i> names.
NAMED_MAX_COLUMNS = 500_000


def enterprise_segments(data: AllocationData):
    """Columns δ: (enterprise, segment start, length), ordered by enterprise then segment."""
    ents, starts, lens = [], [], []
    for g in np.unique(data.grade_code):
        idx = np.flatnonzero(data.grade_code == g)
        lo, hi = data.s_lo[idx[0]], data.s_hi[idx[0]]
        k = data.breakpoint[g]
        points = np.unique(np.concatenate([[lo, hi], k[(k > lo) & (k < hi)]]))
        for p0, p1 in zip(points[:-1], points[1:]):
            length = np.minimum(p1, data.s_ub[idx]) - p0
            keep = length > 1e-12
            ents.append(idx[keep])
            starts.append(np.full(keep.sum(), p0))
            lens.append(length[keep])
    if not ents:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    ent, start, length = np.concatenate(ents), np.concatenate(starts), np.concatenate(lens)
    order = np.lexsort((start, ent))
    return ent[order], start[order], length[order]


def zone_blocks(zone_code: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Block of each enterprise (chunks of one zone) and the zone of each block."""
    order = np.argsort(zone_code, kind="stable")
    z_sorted = zone_code[order]
    first = np.searchsorted(z_sorted, z_sorted, side="left")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - first
    key = zone_code.astype(np.int64) * (zone_code.size + 1) + rank // block_size
    uniq, block = np.unique(key, return_inverse=True)
    return block, (uniq // (zone_code.size + 1)).astype(np.int64)


def build_segments(data: AllocationData, *, milp: bool = False,
                   block_size: int = DEFAULT_BLOCK_SIZE, long_rows: bool = False) -> Built:
    ent, start, length = enterprise_segments(data)
    m, n = ent.size, data.n
    P = data.projects.n if data.projects is not None else 0
    exit_mask = data.exit_allowed & milp
    exit_idx = np.flatnonzero(exit_mask)
    o_of = np.full(n, -1, np.int64)
    o_of[exit_idx] = np.arange(exit_idx.size)
    agg = [r for r, res in enumerate(data.resources)
           if any(c.resource == res for c in data.caps)]
    Ra = len(agg)
    block, block_zone = zone_blocks(data.zone_code, block_size)
    B = block_zone.size
    theta = data.theta
    nh = B if theta is not None else 0
    c_y, c_o, c_t = m, m + P, m + P + exit_idx.size
    c_h = c_t + B * Ra
    n_cols = c_h + nh

    x0 = data.quota(data.s_lo)                      # x(s_lo): the constant part
    slope_on = start[:, None] >= data.breakpoint[data.grade_code[ent]] - 1e-12
    slope = np.where(slope_on, data.a[ent], 0.0)     # (m, R)
    tri = Triplets()
    # Block rows: Σ_{i∈b} x_ir − t[b,r] = 0, constants moved to the right-hand side.
    alive_const = ~exit_mask
    rhs = np.zeros(B * Ra + nh)
    for k, r in enumerate(agg):
        row_of_ent = block * Ra + k
        tri.add(row_of_ent[ent], np.arange(m), slope[:, r])
        tri.add(row_of_ent[exit_idx], c_o + np.arange(exit_idx.size), x0[exit_idx, r])
        tri.add(np.arange(B) * Ra + k, c_t + np.arange(B) * Ra + k, -1.0)
        rhs[k::Ra][:B] = -np.bincount(block, weights=x0[:, r] * alive_const, minlength=B)
    if theta is not None:
        e = data.resources.index(ENERGY)
        h_rows = B * Ra + np.arange(B)
        tri.add(h_rows[block[ent]], np.arange(m),
                slope[:, e] - theta * data.value_added[ent])
        own = x0[:, e] - theta * data.value_added * data.s_lo
        tri.add(h_rows[block[exit_idx]], c_o + np.arange(exit_idx.size), own[exit_idx])
        tri.add(h_rows, c_h + np.arange(B), -1.0)
        rhs[B * Ra:] = -np.bincount(block, weights=own * alive_const, minlength=B)
    n_rows = B * Ra + nh
    row_lb, row_ub = [rhs], [rhs.copy()]
    # Cap rows over the block totals (and the projects' demand).
    cap_rows = np.zeros(len(data.caps), np.int64)
    proj = data.projects
    for k, cap in enumerate(data.caps):
        r = data.resources.index(cap.resource)
        ka = agg.index(r)
        blocks = (np.arange(B) if cap.kind == "global"
                  else np.flatnonzero(np.isin(block_zone, cap.members)))
        tri.add(n_rows, c_t + blocks * Ra + ka, 1.0)
        if P:
            pj = (np.arange(P) if cap.kind == "global"
                  else np.flatnonzero(np.isin(proj.zone_code, cap.members)))
            tri.add(n_rows, c_y + pj, proj.d[pj, r])
        cap_rows[k] = n_rows
        row_lb.append([-np.inf])
        row_ub.append([cap.value])
        n_rows += 1
    intensity_row = None
    if theta is not None:
        tri.add(n_rows, c_h + np.arange(B), 1.0)
        if P:
            e = data.resources.index(ENERGY)
            tri.add(n_rows, c_y + np.arange(P), proj.d[:, e] - theta * proj.value_added)
        intensity_row = n_rows
        row_lb.append([-np.inf])
        row_ub.append([0.0])
        n_rows += 1
    # Exit links δ_k ≤ len_k·o (MILP only).
    linked = np.flatnonzero(exit_mask[ent])
    if linked.size:
        rows = n_rows + np.arange(linked.size)
        tri.add(rows, linked, 1.0)
        tri.add(rows, c_o + o_of[ent[linked]], -length[linked])
        row_lb.append(np.full(linked.size, -np.inf))
        row_ub.append(np.zeros(linked.size))
        n_rows += linked.size

    c = np.zeros(n_cols)
    value = data.weight * data.objective
    c[:m] = value[ent]
    c[c_o:c_t] = value[exit_idx] * data.s_lo[exit_idx]
    lb = np.zeros(n_cols)
    ub = np.full(n_cols, np.inf)
    ub[:m] = length
    lb[c_t:] = -np.inf
    integrality = None
    if P:
        c[c_y:c_o] = proj.weight * proj.objective
        ub[c_y:c_o] = proj.eligible.astype(float)
    # An exit-able firm whose quota ceiling cannot carry its floor scale must exit.
    ub[c_o:c_t] = (data.s_ub[exit_idx] >= data.s_lo[exit_idx] - 1e-9).astype(float)
    if milp:
        integrality = np.zeros(n_cols, bool)
        integrality[c_y:c_t] = True
    offset = float(np.sum(value * data.s_lo * alive_const))
    model = LinearModel(c=c, lb=lb, ub=ub, A=tri.csr(n_rows, n_cols),
                        row_lb=np.concatenate(row_lb), row_ub=np.concatenate(row_ub),
                        integrality=integrality, sense="max", offset=offset)
    n_def = B * Ra + nh
    if long_rows and not milp:
        model = substitute_totals(model, c_t, n_def)
        cap_rows, intensity_row = cap_rows - n_def, (None if intensity_row is None
                                                     else intensity_row - n_def)
    if n_cols <= NAMED_MAX_COLUMNS:
        def names():
            cols, rows = _names(data, ent, start, exit_idx, agg, B, nh, len(data.caps),
                                intensity_row, linked.size)
            return (cols[:model.n_cols], rows[-model.n_rows:] if model.n_rows else rows[:0])
        model.name_factory = names

    def s_of(x):
        alive = alive_of(x)
        return data.s_lo * alive + np.bincount(ent, weights=x[:m], minlength=n)

    def alive_of(x):
        alive = np.ones(n, bool)
        alive[exit_idx] = x[c_o:c_t] > 0.5
        return alive

    return Built(model, cap_rows, intensity_row, s_of, alive_of, slice(c_y, c_o))


def substitute_totals(model: LinearModel, first_total: int, n_def: int) -> LinearModel:
    """Row i < ``n_def`` defines column ``first_total + i`` (Σ a·δ − t_i = rhs_i, t free);
    the columns from ``first_total`` on are exactly those totals. Put t = D·δ − rhs
    into the other rows and drop the definitions (see point 5 of the module docstring)."""
    A = model.A.tocsr()
    D, G, H = A[:n_def, :first_total], A[n_def:, first_total:], A[n_def:, :first_total]
    shift = G @ model.row_lb[:n_def]
    return LinearModel(c=model.c[:first_total], lb=model.lb[:first_total],
                       ub=model.ub[:first_total], A=(H + G @ D).tocsr(),
                       row_lb=model.row_lb[n_def:] + shift, row_ub=model.row_ub[n_def:] + shift,
                       integrality=None, sense=model.sense, offset=model.offset)


def _names(data, ent, start, exit_idx, agg, B, nh, n_caps, intensity_row, n_links):
    """Readable names for .lp/.mps audit: d_<i>_<k>, y_<j>, o_<i>, t_<b>_<r>, h_<b>."""
    seg = np.zeros(ent.size, np.int64)
    if ent.size:
        first = np.searchsorted(ent, ent, side="left")
        seg = np.arange(ent.size) - first
    P = data.projects.n if data.projects is not None else 0
    b = np.repeat(np.arange(B), len(agg)).astype(str)
    r = np.tile(np.array([data.resources[k] for k in agg], dtype=str), B)
    cols = np.concatenate([
        np.char.add(np.char.add("d_", ent.astype(str)), np.char.add("_", seg.astype(str))),
        np.char.add("y_", np.arange(P).astype(str)),
        np.char.add("o_", exit_idx.astype(str)),
        np.char.add(np.char.add("t_", b), np.char.add("_", r)),
        np.char.add("h_", np.arange(nh).astype(str))]).astype(object)
    rows = np.concatenate([
        np.char.add(np.char.add("blk_", b), np.char.add("_", r)),
        np.char.add("blkint_", np.arange(nh).astype(str)),
        np.char.add("cap_", np.arange(n_caps).astype(str)),
        np.array(["intensity"] if intensity_row is not None else [], dtype=str),
        np.char.add("exit_", np.arange(n_links).astype(str))]).astype(object)
    return cols, rows
