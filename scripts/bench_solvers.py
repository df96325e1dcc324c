"""Benchmark the solver backends on allocation-family LPs (SPEC §4), aggregated.

    python scripts/bench_solvers.py [--sizes 1000,10000,100000] [--model substituted|leontief]
                                    [--solvers a,b] [--all]

Both models: N enterprises × 4 resources, N/500 zones (at least 2), grades
A/B/C/D with tier scale bounds, and one aggregate column t_zr per zone and
resource (solver-notes: the cure for HiGHS' slow dense global rows) whose
bounds are the zone caps; global caps Σ_z t_zr ≤ 0.97 × today's total.
Objective: max Σ VA_i·s_i.

``substituted`` (default; the shape the allocation engine hands to a solver
once x = (1 − e)·u·s is substituted): columns s_i and t_zr; rows
t_zr − Σ_{i∈z} (1 − e_i)·u_ir·s_i = 0, the global caps, and one
energy-intensity row Σ_z t_z,energy − θ·Σ_i VA_i·s_i ≤ 0 (θ = 0.95 × today).

``leontief`` (the plain model, aggregated): columns s_i, x_ir ∈ [q_lo·u, q_hi·u]
and t_zr; rows x_ir − (1 − e)·u_ir·s_i ≥ 0, t_zr − Σ_{i∈z} x_ir = 0, global caps.

Prints build s, solve s and the objective per backend and size, then the
fastest exact LP backend per size (ortools:cp-sat is left out: for an LP it
hands over to GLOP). Slow backends are skipped above the sizes in SKIP_ABOVE
unless --all (keeps runs short on a shared machine). Run one benchmark at a time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.allocation.model import LinearModel  # noqa: E402
from optimizer.solvers import SOLVERS, get_solver  # noqa: E402

R = 4
# grade: share, scale [lo, hi], quota multipliers [lo, hi], efficiency gain e
GRADES = {"A": (0.2, 1.0, 1.3, 0.9, 1.4, 0.00), "B": (0.55, 1.0, 1.1, 0.9, 1.15, 0.02),
          "C": (0.2, 0.8, 1.0, 0.7, 1.0, 0.05), "D": (0.05, 0.5, 0.8, 0.5, 0.8, 0.10)}
SKIP_ABOVE = {"pulp:cbc": 10_000, "pulp:highs": 10_000, "ortools:cp-sat": 10_000,
              "ortools:scip": 10_000, "ortools:pdlp": 10_000}


def _population(n: int, seed: int):
    rng = np.random.default_rng(seed)
    zones = max(2, n // 500)
    z = rng.integers(0, zones, n)
    u = rng.lognormal(3.0, 1.0, (n, R))                       # today's use per resource
    va = rng.lognormal(6.0, 1.2, n)                           # value added, 万元
    g = rng.choice(4, n, p=[v[0] for v in GRADES.values()])
    table = np.array([v[1:] for v in GRADES.values()])
    return zones, z, u, va, (table[g, k] for k in range(5))


def substituted_lp(n: int, seed: int = 0) -> LinearModel:
    """Columns s_i, t_zr; aggregation rows, global caps, one intensity row."""
    zones, z, u, va, (s_lo, s_hi, _, _, e) = _population(n, seed)
    n_t = zones * R
    zone_use = np.zeros((zones, R))
    np.add.at(zone_use, z, u)
    lb = np.concatenate([s_lo, np.zeros(n_t)])
    ub = np.concatenate([s_hi, zone_use.ravel()])
    c = np.concatenate([va, np.zeros(n_t)])
    need = (1 - e)[:, None] * u                               # x_ir = need_ir · s_i
    agg_row = (z[:, None] * R + np.arange(R)).ravel()
    agg = sp.csr_matrix((np.concatenate([-need.ravel(), np.ones(n_t)]),
                         (np.concatenate([agg_row, np.arange(n_t)]),
                          np.concatenate([np.repeat(np.arange(n), R), n + np.arange(n_t)]))),
                        shape=(n_t, n + n_t))
    glob = sp.csr_matrix((np.ones(n_t), (np.tile(np.arange(R), zones), n + np.arange(n_t))),
                         shape=(R, n + n_t))
    theta = 0.95 * u[:, 0].sum() / va.sum()                  # resource 0 plays energy_tce
    energy_t = n + np.arange(0, n_t, R)
    inten = sp.csr_matrix((np.concatenate([np.ones(zones), -theta * va]),
                           (np.zeros(zones + n, dtype=int), np.concatenate([energy_t,
                                                                            np.arange(n)]))),
                          shape=(1, n + n_t))
    A = sp.vstack([agg, glob, inten]).tocsr()
    row_lb = np.concatenate([np.zeros(n_t), np.full(R + 1, -np.inf)])
    row_ub = np.concatenate([np.zeros(n_t), 0.97 * u.sum(axis=0), [0.0]])
    return LinearModel(c=c, lb=lb, ub=ub, A=A, row_lb=row_lb, row_ub=row_ub, sense="max")


def leontief_lp(n: int, seed: int = 0) -> LinearModel:
    """Columns s_i, x_ir, t_zr; Leontief rows, aggregation rows, global caps."""
    zones, z, u, va, (s_lo, s_hi, q_lo, q_hi, e) = _population(n, seed)
    n_x, n_t = n * R, zones * R
    lb = np.concatenate([s_lo, (q_lo[:, None] * u).ravel(), np.zeros(n_t)])
    zone_use = np.zeros((zones, R))
    np.add.at(zone_use, z, u)
    ub = np.concatenate([s_hi, (q_hi[:, None] * u).ravel(), (1.0 * zone_use).ravel()])
    c = np.concatenate([va, np.zeros(n_x + n_t)])
    rows_x = np.arange(n_x)
    # Leontief rows: x_ir − (1 − e_i)·u_ir·s_i ≥ 0
    leo = sp.csr_matrix((np.concatenate([np.ones(n_x), -((1 - e)[:, None] * u).ravel()]),
                         (np.concatenate([rows_x, rows_x]),
                          np.concatenate([n + rows_x, np.repeat(np.arange(n), R)]))),
                        shape=(n_x, n + n_x + n_t))
    # aggregation rows: t_zr − Σ_{i∈z} x_ir = 0
    agg_row = (z[:, None] * R + np.arange(R)).ravel()
    agg = sp.csr_matrix((np.concatenate([-np.ones(n_x), np.ones(n_t)]),
                         (np.concatenate([agg_row, np.arange(n_t)]),
                          np.concatenate([n + rows_x, n + n_x + np.arange(n_t)]))),
                        shape=(n_t, n + n_x + n_t))
    # global caps over the aggregates: 97 % of today's total (能耗/排放总量 tightening)
    glob = sp.csr_matrix((np.ones(n_t), (np.tile(np.arange(R), zones),
                                         n + n_x + np.arange(n_t))), shape=(R, n + n_x + n_t))
    A = sp.vstack([leo, agg, glob]).tocsr()
    row_lb = np.concatenate([np.zeros(n_x), np.zeros(n_t), np.full(R, -np.inf)])
    row_ub = np.concatenate([np.full(n_x, np.inf), np.zeros(n_t), 0.97 * u.sum(axis=0)])
    return LinearModel(c=c, lb=lb, ub=ub, A=A, row_lb=row_lb, row_ub=row_ub, sense="max")


MODELS = {"substituted": substituted_lp, "leontief": leontief_lp}


def run(sizes: list[int], names: list[str], everything: bool, kind: str) -> None:
    print(f"{'n':>8} {'backend':<15} {'build s':>8} {'solve s':>8} {'total s':>8} "
          f"{'objective':>20} status")
    for n in sizes:
        model = MODELS[kind](n)
        results = {}
        for name in names:
            if not everything and n > SKIP_ABOVE.get(name, 100_000):
                print(f"{n:>8} {name:<15} {'skipped (use --all)':>28}")
                continue
            t0 = time.perf_counter()
            sol = get_solver(name).solve(model)
            total = time.perf_counter() - t0
            results[name] = (total, sol)
            print(f"{n:>8} {name:<15} {sol.timings.get('build_s', float('nan')):8.3f} "
                  f"{sol.timings.get('solve_s', float('nan')):8.3f} {total:8.3f} "
                  f"{sol.objective if sol.objective is not None else float('nan'):20.6f} "
                  f"{sol.status}", flush=True)
        exact = {k: v for k, v in results.items() if k != "ortools:cp-sat"
                 and SOLVERS[k].features.exact and v[1].status == "optimal"}
        if exact:
            best = min(exact, key=lambda k: exact[k][0])
            objs = np.array([v[1].objective for v in exact.values()])
            spread = (objs.max() - objs.min()) / max(1.0, abs(objs).max())
            print(f"{n:>8} fastest exact: {best} ({exact[best][0]:.2f} s); "
                  f"relative objective spread {spread:.1e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument("--model", choices=list(MODELS), default="substituted")
    parser.add_argument("--all", action="store_true", help="do not skip slow backends")
    args = parser.parse_args()
    print(f"model: {args.model}")
    run([int(v) for v in args.sizes.split(",")], args.solvers.split(","), args.all, args.model)


if __name__ == "__main__":
    main()
