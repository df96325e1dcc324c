"""Benchmark the allocation engine (issue 4, Performance): not a test, prints figures.

For each n and resource count, on seeded synthetic data (~120 zones, caps on
every zone and resource, two global caps, an energy-intensity target, n/1000
candidate projects), each configuration runs in a fresh subprocess so that
its peak RSS is its own:

* ``segments/<backend>``  allocate() with the fast formulation, end to end
  (prepare → build → solve → explain → write result files);
* ``plain/highs``         allocate() with the plain SPEC §4 model;
* ``direct-scipy``        the full plain model solved by scipy.optimize.linprog
  (method="highs"), i.e. the "direct HiGHS formulation" of the issue;
* ``pulp-loops-cbc``      the plain model written with PuLP loops, solved by CBC
  (only n ≤ 10,000 unless ``--all``).

Ratios ("× fast") are printed against the default backend (``segments/highs:ipm``)
measured in the same run.

    python scripts/bench_allocation.py --sizes 1000,10000,100000 --resources 4,6
    python scripts/bench_allocation.py --sizes 1000000 --resources 4 --backends highs --no-baselines
    python scripts/bench_allocation.py --demo-like 100000    # data drawn like the demo
    python scripts/bench_allocation.py --scenario FILE       # the base run of a scenario

Measured 2026-11-25 (default backend highs:ipm; the cap rows written over the
segment columns for interior point):

    synthetic 100,000 × 4:  segments 1.99–2.00 s (398 MB), direct-scipy 20.8–21.3 s
                            (1.16 GB): 10.4–10.7×; build + solve 1.42 s (14.6×)
    synthetic 100,000 × 6:  2.66 s against 36.9 s (13.9×)
    synthetic 1,000,000 × 4: 52.7 s, 2.9 GB (sifting + IPM)
    seventh session:        --scenario on --demo-like 100,000 data, a slow day: `mujun run`
                            3.2–3.8 s against 38.7–42.3 s direct (10.6–12.1×, 6.2–6.8
                            CPU-s; the sixth session's code in the same hour: 4.48 s
                            against 41.6 s, 9.3×); engine 0.89–1.2 s (35–42×)
    sixth session:          --demo-like 100,000: engine 0.71–0.72 s (38–40×), `mujun run`
                            2.81–3.22 s against 26.1–28.3 s direct (8.5–9.3×, 4.3–4.8
                            CPU-s); synthetic 100,000 × 4: 1.90 s against 24.52 s in
                            the same run (12.9×); synthetic 1,000,000 × 4: 25.3 s, 1.71 GB
    --demo-like 100,000:    fifth session: engine 0.95–0.97 s, direct-scipy 27.8–28.1 s
                            (29×); `mujun run` 3.92–4.12 s (6.7–7.2×, 5.8–6.1 CPU-s)
                            synthetic 100,000 × 4 then: 2.12 s against 24.85 s (11.7×);
                            synthetic 1,000,000 × 4: 55.1 s, 1.75 GB
    fourth session, --demo-like: engine 1.47–1.52 s, direct-scipy 23.4–25.1 s (15.8–16.6×);
                            `mujun run` read → result files and reports 5.0–5.2 s, 552 MB
                            (4.9×; 8.1 s and 3.0× at the start of the day)

Earlier figures, before that change:

Measured on the 2-core machine (other jobs running; ±20 %), total = allocate()
end to end plus writing the result files, seconds:

    n          R  segments/highs  plain/highs  direct-scipy  pulp-loops-cbc
    1,000      4       0.06           0.08         0.07          0.21
    10,000     4       0.29           0.85         0.69          4.25
    100,000    4       2.89 (392 MB) 24.3         22.8 (1.2 GB)    —
    100,000    6       5.97          69.2         69.5             —
    1,000,000  4      68.8 (2.8 GB; sifting) — (the same segment model solved directly
                                                 without sifting: 378 s)

Solve only at 100,000 × 4: 1.8 s against 22.6 s for the direct formulation.
Later run (faster result writer, default solver highs:ipm): 100,000 × 4 segments
2.46 s against direct-scipy 22.35 s (9.1×); 1,000,000 × 4 with highs:ipm 58.8 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL = 10_000


def _case(n: int, n_res: int, scenario: str | None = None):
    if scenario:
        return _scenario_case(scenario)
    from optimizer.allocation.synthetic import (synthetic_config, synthetic_enterprises,
                                                synthetic_projects)
    return (synthetic_enterprises(n, n_zones=120, seed=42),
            synthetic_projects(max(5, n // 1000), n_zones=120, seed=43),
            synthetic_config(n_res))


def _scenario_case(path: str):
    """The base run of a scenario file, read, 四至-checked and graded as `mujun run` does."""
    import pandas as pd

    from optimizer.pipeline import allocation_config, grade, prepare, tiers_for
    from optimizer.scenario import load_scenario
    settings = load_scenario(path).runs[0].settings
    inputs, report, enterprises = prepare(settings)
    model, _, graded = grade(settings, enterprises)
    cfg = allocation_config(settings, tiers_for(settings, model), report, None)
    return pd.DataFrame(graded.drop(columns="geometry", errors="ignore")), inputs.projects, cfg


def run_cli(scenario: str):
    """`mujun run` end to end (read → validate → 四至 → grade → allocate → result files
    and reports), timed as a whole process."""
    import json as _json
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optimizer.cli", "run", scenario, "-o",
                        str(Path(tmp) / "out"), "--quiet"], check=True, capture_output=True)
        total = time.perf_counter() - t0
        summary = _json.loads((Path(tmp) / "out" / "base" / "summary.json").read_text())
    return {"total": total, "objective": summary["objective"], "status": summary["status"],
            "build": float("nan"), "solve": float("nan")}


def run_allocate(n, n_res, backend, formulation, scenario=None):
    from optimizer.allocation.engine import allocate
    from optimizer.io.results import write_results
    from optimizer.solvers import get_solver
    ents, projects, cfg = _case(n, n_res, scenario)
    t0 = time.perf_counter()
    res = allocate(ents, cfg, projects, formulation=formulation, solver=get_solver(backend))
    with tempfile.TemporaryDirectory() as tmp:
        write_results(res, Path(tmp), tiers=cfg.tiers, variant="bench")
    total = time.perf_counter() - t0
    return {"build": res.timings["build"], "solve": res.timings["solve"], "total": total,
            "objective": res.objective, "status": res.status}


def run_direct_scipy(n, n_res, scenario=None):
    import numpy as np
    import scipy.sparse as sp
    from scipy.optimize import linprog

    from optimizer.allocation.data import prepare
    from optimizer.allocation.plain import build_plain
    ents, projects, cfg = _case(n, n_res, scenario)
    t0 = time.perf_counter()
    m = build_plain(prepare(ents, cfg, projects)).model
    A = m.A.tocsr()
    up, lo = np.isfinite(m.row_ub), np.isfinite(m.row_lb)
    A_ub = sp.vstack([A[up], -A[lo]]).tocsr()
    b_ub = np.concatenate([m.row_ub[up], -m.row_lb[lo]])
    t1 = time.perf_counter()
    r = linprog(-m.c, A_ub=A_ub, b_ub=b_ub, bounds=np.column_stack([m.lb, m.ub]),
                method="highs")
    t2 = time.perf_counter()
    return {"build": t1 - t0, "solve": t2 - t1, "total": t2 - t0,
            "objective": -r.fun + m.offset if r.status == 0 else None,
            "status": "optimal" if r.status == 0 else f"linprog status {r.status}"}


def run_pulp_loops(n, n_res):
    """What a first version written with PuLP loops looks like (per-element calls)."""
    import numpy as np
    import pulp

    from optimizer.allocation.data import ENERGY, prepare
    ents, projects, cfg = _case(n, n_res)
    t0 = time.perf_counter()
    d = prepare(ents, cfg, projects)
    prob = pulp.LpProblem("mujun", pulp.LpMaximize)
    s = [pulp.LpVariable(f"s_{i}", d.s_lo[i], d.s_hi[i]) for i in range(d.n)]
    R = len(d.resources)
    x = [[pulp.LpVariable(f"x_{i}_{r}", d.f[i, r],
                          None if not np.isfinite(d.q_hi_u[i, r]) else d.q_hi_u[i, r])
          for r in range(R)] for i in range(d.n)]
    P = d.projects.n
    y = [pulp.LpVariable(f"y_{j}", 0, float(d.projects.eligible[j])) for j in range(P)]
    prob += (pulp.lpSum(d.weight[i] * d.objective[i] * s[i] for i in range(d.n))
             + pulp.lpSum(d.projects.weight[j] * d.projects.objective[j] * y[j]
                          for j in range(P)))
    for i in range(d.n):
        for r in range(R):
            prob += x[i][r] >= d.a[i, r] * s[i]
    for cap in d.caps:
        r = d.resources.index(cap.resource)
        members = set(cap.members.tolist()) if cap.kind == "zone" else None
        ents_in = [i for i in range(d.n) if members is None or d.zone_code[i] in members]
        pj = [j for j in range(P) if members is None or d.projects.zone_code[j] in members]
        prob += (pulp.lpSum(x[i][r] for i in ents_in)
                 + pulp.lpSum(d.projects.d[j, r] * y[j] for j in pj)) <= cap.value
    if d.theta is not None:
        e = d.resources.index(ENERGY)
        prob += (pulp.lpSum(x[i][e] - d.theta * d.value_added[i] * s[i] for i in range(d.n))
                 + pulp.lpSum((d.projects.d[j, e] - d.theta * d.projects.value_added[j]) * y[j]
                              for j in range(P))) <= 0
    t1 = time.perf_counter()
    prob.solve(pulp.PULP_CBC_CMD(msg=0))
    t2 = time.perf_counter()
    return {"build": t1 - t0, "solve": t2 - t1, "total": t2 - t0,
            "objective": pulp.value(prob.objective), "status": pulp.LpStatus[prob.status]}


def one(spec: dict) -> dict:
    kind = spec["kind"]
    if kind == "allocate":
        out = run_allocate(spec["n"], spec["res"], spec["backend"], spec["formulation"],
                           spec.get("scenario"))
    elif kind == "direct":
        out = run_direct_scipy(spec["n"], spec["res"], spec.get("scenario"))
    elif kind == "cli":
        out = run_cli(spec["scenario"])
    else:
        out = run_pulp_loops(spec["n"], spec["res"])
    who = resource.RUSAGE_CHILDREN if kind == "cli" else resource.RUSAGE_SELF
    usage = resource.getrusage(who)
    out["peak_rss_mb"] = usage.ru_maxrss / 1024
    out["cpu_s"] = usage.ru_utime + usage.ru_stime
    return out


def measure(spec: dict, timeout: float) -> dict:
    try:
        proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": f"timeout > {timeout:.0f} s"}
    if proc.returncode != 0:
        return {"status": "failed: " + proc.stderr.strip().splitlines()[-1][:80]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--resources", default="4,6")
    p.add_argument("--backends", default="highs:ipm,highs,ortools:glop,ortools:pdlp")
    p.add_argument("--all", action="store_true", help="run PuLP loops at every size")
    p.add_argument("--no-baselines", action="store_true", help="skip plain/direct/PuLP runs")
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--scenario", help="instead of synthetic data, the base run of this "
                   "scenario file; also times `mujun run` on it end to end")
    p.add_argument("--demo-like", type=int, metavar="N",
                   help="like --scenario, on N enterprises from scripts/make_demo_data.py "
                   "(real zones, global and zone energy caps, an intensity target)")
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one))))
        return
    if args.demo_like:
        with tempfile.TemporaryDirectory(prefix="mujun-bench-") as tmp:
            args.scenario = demo_like_scenario(args.demo_like, Path(tmp))
            scenario_bench(args)
        return
    if args.scenario:
        scenario_bench(args)
        return
    from optimizer.solvers import DEFAULT_SOLVER

    header = f"{'n':>9} {'R':>2} {'config':<24} {'build s':>8} {'solve s':>8} {'total s':>8} " \
             f"{'peak MB':>8} {'objective':>18} {'× fast':>7}  status"
    print(header)
    for n in [int(v) for v in args.sizes.split(",")]:
        for n_res in [int(v) for v in args.resources.split(",")]:
            backends = args.backends.split(",")
            specs = [({"kind": "allocate", "n": n, "res": n_res, "backend": b,
                       "formulation": "segments"}, f"segments/{b}") for b in backends]
            if not args.no_baselines:
                specs.append(({"kind": "allocate", "n": n, "res": n_res, "backend": "highs",
                               "formulation": "plain"}, "plain/highs"))
                specs.append(({"kind": "direct", "n": n, "res": n_res}, "direct-scipy"))
                if n <= SMALL or args.all:
                    specs.append(({"kind": "pulp", "n": n, "res": n_res}, "pulp-loops-cbc"))
            fast = None
            reference = f"segments/{DEFAULT_SOLVER}" if DEFAULT_SOLVER in backends \
                else specs[0][1]
            for spec, label in specs:
                out = measure(spec, args.timeout)
                if label == reference:
                    fast = out.get("total")
                ratio = (out["total"] / fast) if fast and "total" in out else float("nan")
                obj = out.get("objective")
                print(f"{n:>9,} {n_res:>2} {label:<24} {out.get('build', float('nan')):>8.2f} "
                      f"{out.get('solve', float('nan')):>8.2f} "
                      f"{out.get('total', float('nan')):>8.2f} "
                      f"{out.get('peak_rss_mb', float('nan')):>8.0f} "
                      f"{obj if obj is not None else float('nan'):>18,.2f} {ratio:>7.1f}  "
                      f"{out.get('status')}", flush=True)


def demo_like_scenario(n: int, folder: Path) -> str:
    """N firms drawn like the demo data into ``folder``, plus a scenario file for them."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_data.py"), "--enterprises",
                    str(n), "--out", str(folder)], check=True, stdout=subprocess.DEVNULL)
    sys.path.insert(0, str(ROOT / "scripts"))
    from bench_runner import BASE_SCENARIO      # the same caps as the runner benchmark

    path = folder / "scenario.toml"
    # no land caps from the boundaries: 100,000 drawn firms overfill the real zones
    path.write_text(BASE_SCENARIO.format(model=(ROOT / "models" / "huangyan-2022.toml")
                                         .as_posix(), zone_land=""), encoding="utf-8")
    return str(path)


def scenario_bench(args) -> None:
    """`mujun run` end to end and the allocation engine against the direct formulation,
    all on the base run of ``--scenario`` (e.g. one made by scripts/make_demo_data.py)."""
    from optimizer.solvers import DEFAULT_SOLVER

    path = str(Path(args.scenario).resolve())
    specs = [({"kind": "cli", "scenario": path}, "mujun run (read → reports)"),
             ({"kind": "allocate", "n": 0, "res": 0, "backend": DEFAULT_SOLVER,
               "formulation": "segments", "scenario": path}, f"segments/{DEFAULT_SOLVER}"),
             ({"kind": "direct", "n": 0, "res": 0, "scenario": path}, "direct-scipy")]
    results = {label: measure(spec, args.timeout) for spec, label in specs}
    direct = results["direct-scipy"].get("total", float("nan"))
    print(f"{'config':<28} {'total s':>8} {'peak MB':>8} {'objective':>18} {'direct ÷':>9}  status")
    for label, out in results.items():
        total = out.get("total", float("nan"))
        obj = out.get("objective")
        print(f"{label:<28} {total:>8.2f} {out.get('peak_rss_mb', float('nan')):>8.0f} "
              f"{obj if obj is not None else float('nan'):>18,.2f} {direct / total:>9.1f}  "
              f"{out.get('status')}", flush=True)
    cli = results["mujun run (read → reports)"]
    if "cpu_s" in cli:
        print(f"mujun run used {cli['cpu_s']:.1f} CPU-seconds (all its processes) in "
              f"{cli.get('total', float('nan')):.2f} s: on {os.cpu_count()} cores it cannot "
              f"finish in under {cli['cpu_s'] / (os.cpu_count() or 1):.2f} s")


if __name__ == "__main__":
    main()
