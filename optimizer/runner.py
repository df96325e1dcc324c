"""Batch runs: base, variants and sweep values as independent jobs.

Executors:
- ``local`` (default): one process per job slot (``--jobs N``, default the
  number of cores) from a forkserver pool; ``--jobs 1`` runs in this process.
- ``dask``: the same jobs sent to an existing Dask distributed scheduler
  (``--scheduler tcp://HOST:PORT``). Input files are read by the workers from
  the paths the scenario names, so they must be on a path every worker sees
  (a shared drive); result files travel back with the job as bytes, so the
  output folder only needs to exist where ``mujun run`` is started.

Every job writes into a temporary folder; the comparison, reports and
manifest are written at the top level, then the folder is renamed into place.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import gc
import hashlib
import importlib
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from optimizer import __version__
from optimizer.io.output import atomic_folder
from optimizer.scenario import ScenarioFile


@dataclass(frozen=True)
class Job:
    scenario: str           # absolute path of the scenario file
    run: str                # run name: base, a variant, a sweep value
    solver: str | None = None
    folder: str | None = None   # write here; None = return files as bytes
    read_back: str = ""         # "all"/"own": also return the written tables for the report
                                # ("own": without the tables shared by all variants)
    spare_core: bool = False    # the only job of a multi-core run (see run_variant)


def run_job(job: Job) -> dict:
    """Executed in a worker: run one variant; optionally return its files.

    With ``read_back`` the worker also reads its folder back for the report (the
    same :func:`load_variant` the report would run), so that reading is spread
    over the pool instead of done after it by the parent.
    """
    from optimizer.pipeline import run_variant
    from optimizer.scenario import load_scenario

    run = load_scenario(job.scenario).run_named(job.run)
    if job.folder is not None:
        keep = ("allocation", "grades") if job.read_back == "all" else \
            ("allocation",) if job.read_back else ()
        summary = run_variant(run, Path(job.folder), solver=job.solver, spare_core=job.spare_core,
                              keep_tables=keep)
        tables = summary.pop("tables", None)
        bodies = summary.pop("xlsx_bodies", {})
        if job.read_back:
            from optimizer.report.results import SHARED_TABLES, load_variant

            summary["result"] = load_variant(job.run, Path(job.folder),
                                             skip=() if job.read_back == "all" else SHARED_TABLES,
                                             known=tables)
            summary["result"].xlsx_bodies = bodies
        return summary
    with tempfile.TemporaryDirectory(prefix="mujun-job-") as tmp:
        summary = run_variant(run, Path(tmp), solver=job.solver)
        summary["files"] = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
    return summary


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def _progress(total: int, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="mujun run", file=sys.stderr)


def _pool_context(jobs: list[Job]):
    """fork after warming the caches when this process runs no other thread, so workers
    inherit the read, graded and 四至-checked inputs instead of redoing them; forkserver
    (fresh, preloaded workers) otherwise, since forking a threaded process is unsafe."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        importlib.import_module("optimizer.report.results")   # the workers read results back
        from optimizer.early import end_early
        from optimizer.pipeline import warm
        from optimizer.scenario import load_scenario

        sf = load_scenario(jobs[0].scenario)
        for name in dict.fromkeys(job.run for job in jobs):
            warm(sf.run_named(name).settings)
        end_early()             # what the early reader sent is cached by now
        # The workers share the warmed objects copy-on-write; frozen objects are never
        # visited by a worker's garbage collector, so their pages stay shared (gc docs).
        gc.freeze()
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["optimizer.pipeline"])
    return ctx


def _execute_local(jobs: list[Job], n_jobs: int, bar) -> list[dict]:
    if n_jobs <= 1 or len(jobs) <= 1:
        out = []
        for job in jobs:
            out.append(run_job(dataclasses.replace(job, spare_core=n_jobs > 1)))
            bar and bar.update(1)
        return out
    try:
        return _execute_pool(jobs, n_jobs, bar)
    finally:
        gc.unfreeze()          # frozen for the workers' sake (see _pool_context)


def _execute_pool(jobs: list[Job], n_jobs: int, bar) -> list[dict]:
    results: dict[int, dict] = {}
    with cf.ProcessPoolExecutor(max_workers=min(n_jobs, len(jobs)),
                                mp_context=_pool_context(jobs)) as pool:
        futures = {pool.submit(run_job, job): i for i, job in enumerate(jobs)}
        try:
            # the workers are forked by now: import the report writers while they run
            for module in ("optimizer.report.html", "optimizer.report.xlsx"):
                importlib.import_module(module)
            for fut in cf.as_completed(futures):
                results[futures[fut]] = fut.result()
                bar and bar.update(1)
        except BaseException:
            # Stop the workers now: jobs already handed to them would go on writing into
            # the temporary folder after atomic_folder removed it (a partial folder left).
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [results[i] for i in range(len(jobs))]


def _execute_dask(jobs: list[Job], scheduler: str, bar) -> list[dict]:
    from dask.distributed import Client

    with Client(scheduler, set_as_default=False) as client:
        futures = client.map(run_job, jobs, pure=False)
        out = []
        for fut in futures:
            out.append(fut.result())
            bar and bar.update(1)
    return out


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_for(sf: ScenarioFile, summaries: list[dict], *, executor: str, n_jobs: int,
                 started: float, solver: str | None) -> dict:
    from optimizer.solvers import solver_versions

    base_dir = sf.path.parent
    inputs = {}
    s = sf.base.scenario
    for key in ("model", "enterprises", "zones", "projects", "protected", "features"):
        value = getattr(s, key)
        if value:
            p = Path(value)
            inputs[key] = {"path": os.path.relpath(p, base_dir), "sha256": sha256_of(p),
                           "bytes": p.stat().st_size}
    for run in sf.runs:
        model_path = Path(run.settings.scenario.model)
        if os.path.relpath(model_path, base_dir) != inputs["model"]["path"]:
            inputs[f"model[{run.name}]"] = {"path": os.path.relpath(model_path, base_dir),
                                           "sha256": sha256_of(model_path)}
    versions = {"mujun": __version__, "python": platform.python_version(), **solver_versions()}
    for mod in ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj"):
        versions[mod] = __import__(mod).__version__
    return {
        "scenario": {"name": s.name, "file": sf.path.name, "sha256": sha256_of(sf.path),
                     "text": sf.text, "extends": [p.name for p in sf.files[1:]]},
        "inputs": inputs,
        "runs": [{"name": r.name, "overrides": r.overrides} for r in sf.runs],
        "solver_override": solver,
        "seed": s.seed,
        "versions": versions,
        "executor": executor, "jobs": n_jobs,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "timings": {x["variant"]: x["timings"] for x in summaries},
        "total_s": time.time() - started,
    }


def read_ahead(sf: ScenarioFile, runs: list[str] | None, n_jobs: int | None,
               executor: str) -> None:
    """Start the early reader (:func:`optimizer.early.read_early`) when the runs are
    local and have a spare core (more than one job). A lone run gains too since the
    child's table arrives pickled (0.03 s to load at 100,000 firms): 0.1 s of 3.5 in
    alternating pairs, the child's grades.csv off the allocation's second core.
    The CLI calls this before importing the rest; :func:`run_scenario` again (no-op)."""
    from optimizer.early import read_early

    selected = [sf.run_named(r) for r in runs] if runs else sf.runs
    if executor == "local" and (n_jobs or default_jobs()) > 1:
        # a lone run's report shows its grades: the child makes their workbook sheet too
        read_early(selected[0].settings, sheet=len(selected) == 1)


def run_scenario(sf: ScenarioFile, out_dir: Path, *, runs: list[str] | None = None,
                 solver: str | None = None, n_jobs: int | None = None, executor: str = "local",
                 scheduler: str | None = None, quiet: bool = False, force: bool = False) -> list[dict]:
    """Run the chosen runs into ``out_dir`` atomically; returns the job summaries."""
    from optimizer.early import end_early

    started = time.time()
    selected = [sf.run_named(r) for r in runs] if runs else sf.runs
    n_jobs = n_jobs or default_jobs()
    with atomic_folder(out_dir, force=force, inputs=sf.input_paths()) as tmp:
        remote = executor == "dask"
        jobs = [Job(str(sf.path), r.name, solver, None if remote else str(tmp / r.name),
                    "" if remote else "own" if i else "all") for i, r in enumerate(selected)]
        bar = _progress(len(jobs), quiet)
        try:
            read_ahead(sf, runs, n_jobs, executor)   # started already by the CLI, if from it
            summaries = (_execute_dask(jobs, scheduler, bar) if remote
                         else _execute_local(jobs, n_jobs, bar))
            results = [s.pop("result") for s in summaries if "result" in s]
            for summary in summaries:
                files = summary.pop("files", None)
                if files is not None:
                    (tmp / summary["variant"]).mkdir()
                    for name, data in files.items():
                        (tmp / summary["variant"] / name).write_bytes(data)
            manifest = manifest_for(sf, summaries, executor=executor, n_jobs=n_jobs,
                                    started=started, solver=solver)
        except BaseException:
            end_early()
            raise
        finally:
            bar and bar.close()
        try:
            finish_top_level(tmp, [s["variant"] for s in summaries], manifest, sf,
                             parallel=executor == "local" and n_jobs > 1,
                             results=results if len(results) == len(summaries) else None)
        finally:
            # ended only now: the workbook asks for the grades sheet the child makes
            # when it gets there (pipeline.grades_sheet), so nobody waits for it
            end_early()
    return summaries


def finish_top_level(folder: Path, variants: list[str], manifest: dict, sf: ScenarioFile | None,
                     *, parallel: bool = False, results: list | None = None) -> None:
    """Comparison, reports, manifest and the base's violations at the top level."""
    import shutil

    from optimizer.report import build_reports
    from optimizer.report.results import complete_shared

    variant_dirs = {name: folder / name for name in variants}
    first = variant_dirs[variants[0]]
    if (first / "boundary_violations.gpkg").exists():
        shutil.copyfile(first / "boundary_violations.gpkg", folder / "boundary_violations.gpkg")
    zones, parcels, violations = map_layers(sf, folder)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2,
                                                     sort_keys=True), encoding="utf-8")
    build_reports(folder, variant_dirs, manifest, zones_gdf=zones, parcels_gdf=parcels,
                  violations_gdf=violations, parallel=parallel,
                  results=None if results is None else complete_shared(results))


def map_layers(sf: ScenarioFile | None, folder: Path):
    """Zones and parcels for the report map (None when the scenario has no geometry)."""
    if sf is None:
        return None, None, None
    from optimizer.pipeline import load_inputs

    inputs = load_inputs(sf.base)
    parcels = inputs.enterprises if hasattr(inputs.enterprises, "geometry") else None
    violations = None
    if (folder / "boundary_violations.gpkg").exists():
        import geopandas as gpd

        violations = gpd.read_file(folder / "boundary_violations.gpkg", engine="pyogrio")
    return inputs.zones, parcels, violations


def collect_runs(run_dirs: list[Path]) -> tuple[dict[str, Path], dict]:
    """Variant folders of finished runs; names are prefixed by the run folder when several."""
    from optimizer.errors import InputError

    variant_dirs: dict[str, Path] = {}
    manifests = {}
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        manifest_path = run_dir / "manifest.json"
        if not manifest_path.exists():
            raise InputError("not a finished MuJun run (no manifest.json)", file=run_dir,
                             rule="finished run")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifests[run_dir.name] = manifest
        names = [r["name"] for r in manifest.get("runs", [])]
        for name in names:
            if not (run_dir / name / "summary.json").exists():
                continue
            key = name if len(run_dirs) == 1 else f"{run_dir.name}/{name}"
            if key in variant_dirs:
                raise InputError(f"two runs share the name {key!r}; rename a folder", file=run_dir,
                                 rule="unique run names")
            variant_dirs[key] = run_dir / name
    if not variant_dirs:
        raise InputError("no finished variants found", file=run_dirs[0], rule="finished run")
    return variant_dirs, {"compared": manifests}
