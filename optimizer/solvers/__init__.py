"""Solver backends behind one small interface (``Solver.solve(model) -> Solution``).

Names are ``backend:solver`` (SPEC §7). ``SOLVERS`` maps each name to its class,
``get_solver(name)`` returns an instance, ``FEATURE_TABLE`` lists what each can
do (for the README), ``solver_versions()`` feeds run manifests. The dual sign
convention is documented in ``optimizer.solvers.base``.

DEFAULT_SOLVER = "highs:ipm" (HiGHS interior point with crossover, so shadow
prices are those of a basic optimal solution). On the synthetic models below
dual simplex ("highs") and IPM are within noise of each other; on instances
drawn like the demo data (``scripts/make_demo_data.py --enterprises N``, 109
real zones, global and zone caps and an intensity row) IPM solved 100,000
enterprises × 4 resources in 1.79 s against 6.86 s for dual simplex (10,000:
0.13 s against 0.12 s), same objective to 1e-15. Since IPM gets the cap rows written
directly over the segment columns (``Features.long_rows``, allocation/segments.py point 5)
it solves that 100,000-firm instance in 0.77 s. Total seconds (build +
solve) measured by ``scripts/bench_solvers.py`` on this 2-core machine
(shared with other jobs, so ±30 %), objectives agreeing to 1e-10 relative
among exact backends:

``--model substituted`` (the shape the allocation engine passes: columns s_i
and zone aggregates t_zr, rows t_zr − Σ_{i∈z}(1 − e)u_ir·s_i = 0, 4 global
caps, 1 energy-intensity row; ``--sizes 1000,10000`` then ``--sizes 100000``):

    backend          n=1,000   n=10,000   n=100,000
    highs             0.015     0.047      0.98
    highs:ipm         0.017     0.099      1.42
    ortools:glop      0.007     0.097      7.7
    ortools:highs     0.013     0.093      2.0   (no duals)
    ortools:pdlp      0.11      7.8        skipped (approximate, 2e-7 rel.)
    ortools:scip      0.027     0.33       skipped (no duals)
    pulp:cbc          0.036     0.45       skipped
    pulp:highs        0.025     0.26       skipped

``--model leontief`` (x_ir kept as columns with rows x ≥ (1 − e)·u·s, then
aggregated): n=10,000: highs 1.4, ortools:highs 1.8, pulp:highs 2.1,
pulp:cbc 4.1, highs:ipm 5.2, ortools:glop 9.5, ortools:scip 14, ortools:pdlp
107; n=100,000: ortools:highs 57, highs 62, highs:ipm 112 (GLOP, PDLP, PuLP
not run: minutes). HiGHS presolve on instead of off: 1.47 s vs 0.91 s
(substituted, 100k) and 1.31 s vs 1.11 s (leontief, 10k) — off stays the default.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from importlib import metadata

from optimizer.errors import ScenarioError
from optimizer.solvers.base import STATUSES, Features, Solver

__all__ = ["SOLVERS", "DEFAULT_SOLVER", "FEATURE_TABLE", "Features", "Solver", "STATUSES",
           "get_solver", "solver_versions"]

# name → (module, class), in the order of the feature table. A backend's module is
# imported when the backend is first asked for: a run on the default HiGHS backend does
# not import OR-Tools (its protobuf runtime) and PuLP, 0.045 s of every `mujun run`.
_BACKENDS: dict[str, tuple[str, str]] = {
    "highs": ("highs", "HighsSolver"),
    "highs:ipm": ("highs", "HighsIpmSolver"),
    "ortools:glop": ("ortools", "GlopSolver"),
    "ortools:pdlp": ("ortools", "PdlpSolver"),
    "ortools:highs": ("ortools", "OrtoolsHighsSolver"),
    "ortools:scip": ("ortools", "ScipSolver"),
    "ortools:cp-sat": ("ortools", "CpSatSolver"),
    "pulp:cbc": ("pulp_backend", "PulpCbcSolver"),
    "pulp:highs": ("pulp_backend", "PulpHighsSolver"),
}


class _Registry(Mapping):
    """``SOLVERS``: backend name → Solver class, each module imported on first use."""

    def __getitem__(self, name: str) -> type[Solver]:
        module, cls = _BACKENDS[name]
        return getattr(importlib.import_module(f"optimizer.solvers.{module}"), cls)

    def __iter__(self) -> Iterator[str]:
        return iter(_BACKENDS)

    def __len__(self) -> int:
        return len(_BACKENDS)


SOLVERS: Mapping[str, type[Solver]] = _Registry()

DEFAULT_SOLVER = "highs:ipm"


def __getattr__(name: str):
    if name == "FEATURE_TABLE":         # imports every backend: made when asked for
        return [{"name": key, "duals": cls.features.duals, "integers": cls.features.integers,
                 "time_limit": cls.features.time_limit, "exact": cls.features.exact}
                for key, cls in SOLVERS.items()]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_solver(name: str) -> Solver:
    """The backend called ``name``; unknown names suggest the nearest valid one."""
    if name not in _BACKENDS:
        close = difflib.get_close_matches(name, list(SOLVERS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else \
            f"; valid solvers: {', '.join(SOLVERS)}"
        raise ScenarioError(f"unknown solver {name!r}{hint}", column="solver",
                            rule="solver names are backend:solver (SPEC §7)")
    return SOLVERS[name]()


def solver_versions() -> dict[str, str]:
    """Versions of the solver stack, for manifest.json."""
    versions = {pkg: _version(pkg) for pkg in ("ortools", "pulp", "highspy")}
    from optimizer.solvers.pulp_backend import cbc_version

    versions["cbc"] = cbc_version()
    return versions


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""
