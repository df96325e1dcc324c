"""Solver backends behind one small interface (``Solver.solve(model) -> Solution``).

Names are ``backend:solver`` (SPEC §7). ``SOLVERS`` maps each name to its class,
``get_solver(name)`` returns an instance, ``FEATURE_TABLE`` lists what each can
do (for the README), ``solver_versions()`` feeds run manifests. The dual sign
convention is documented in ``optimizer.solvers.base``.

DEFAULT_SOLVER = "highs": highspy dual simplex with presolve off, measured
the fastest exact LP backend on this 2-core machine with
``scripts/bench_solvers.py --sizes 1000,10000,100000`` on the allocation-family
LP (N enterprises × 4 resources, s and x columns, Leontief rows
x ≥ 0.95·u·s, aggregated zone columns t[z,r] = Σ_{i∈z} x[i,r] with the zone
caps as their bounds, 4 global caps over t, N/500 zones). Solve seconds
(build + solve, whole objective agreeing to 1e-9):

    backend          n=1,000   n=10,000   n=100,000
    highs              0.01      0.09       1.3
    highs:ipm          0.02      0.25       3.3
    ortools:glop       0.01      0.27       8.9
    ortools:pdlp       0.05      0.6        8.6   (approximate, ~1e-7)
    ortools:highs      0.01      0.12       1.6   (no duals)
    pulp:cbc           0.11      1.1        —     (skipped > 10k; CLP via MPS)
    pulp:highs         0.08      0.9        —

See the bench output in the module ``scripts/bench_solvers.py`` docstring
for the exact command; the numbers vary ±20 % between runs.
"""

from __future__ import annotations

import difflib
from importlib import metadata

from optimizer.errors import ScenarioError
from optimizer.solvers.base import STATUSES, Features, Solver
from optimizer.solvers.highs import HighsIpmSolver, HighsSolver
from optimizer.solvers.ortools import (CpSatSolver, GlopSolver, OrtoolsHighsSolver,
                                       PdlpSolver, ScipSolver)
from optimizer.solvers.pulp_backend import PulpCbcSolver, PulpHighsSolver, cbc_version

__all__ = ["SOLVERS", "DEFAULT_SOLVER", "FEATURE_TABLE", "Features", "Solver", "STATUSES",
           "get_solver", "solver_versions"]

SOLVERS: dict[str, type[Solver]] = {cls.name: cls for cls in (
    HighsSolver, HighsIpmSolver, GlopSolver, PdlpSolver, OrtoolsHighsSolver, ScipSolver,
    CpSatSolver, PulpCbcSolver, PulpHighsSolver)}

DEFAULT_SOLVER = "highs"

FEATURE_TABLE: list[dict[str, object]] = [
    {"name": name, "duals": cls.features.duals, "integers": cls.features.integers,
     "time_limit": cls.features.time_limit, "exact": cls.features.exact}
    for name, cls in SOLVERS.items()]


def get_solver(name: str) -> Solver:
    """The backend called ``name``; unknown names suggest the nearest valid one."""
    cls = SOLVERS.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(SOLVERS), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else \
            f"; valid solvers: {', '.join(SOLVERS)}"
        raise ScenarioError(f"unknown solver {name!r}{hint}", column="solver",
                            rule="solver names are backend:solver (SPEC §7)")
    return cls()


def solver_versions() -> dict[str, str]:
    """Versions of the solver stack, for manifest.json."""
    versions = {pkg: _version(pkg) for pkg in ("ortools", "pulp", "highspy")}
    versions["cbc"] = cbc_version()
    return versions


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""
