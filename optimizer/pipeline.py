"""One run, end to end: read → validate → grade → 四至 checks → allocate → write.

Each step is a plain function of frames and validated settings; the CLI and the
runner only wire them. Inputs are cached per process by (path, size, mtime) so
that variants of one scenario read their files once.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimizer import early
from optimizer.errors import InfeasibleError, InputError, ScenarioError, SolverError
from optimizer.policy import AllocationConfig, ProjectPolicy
from optimizer.scenario import Scenario, ScenarioRun, resolve_cap, tier_overrides
from optimizer.validation import check_zone_ids, read_enterprises, read_projects


@dataclass
class Inputs:
    enterprises: pd.DataFrame
    projects: pd.DataFrame | None = None
    zones: object | None = None          # GeoDataFrame
    protected: object | None = None
    features: object | None = None
    warnings: list[str] = field(default_factory=list)


def _stamp(path: str | None):
    if path is None:
        return None
    p = Path(path)
    st = p.stat()
    return (str(p), st.st_size, st.st_mtime_ns)


_READ: dict[tuple, pd.DataFrame] = {}     # enterprise tables by file stamp and options


def _enterprises(stamp, sheet, layer, zone_optional):
    key = (stamp, sheet, layer, zone_optional)
    if key not in _READ:
        if len(_READ) >= 8:
            _READ.clear()
        _READ[key] = read_enterprises(Path(stamp[0]), sheet=sheet, layer=layer,
                                      zone_optional=zone_optional)
    return _READ[key]


def enterprises_key(settings: Scenario) -> tuple:
    s = settings.scenario
    return (_stamp(s.enterprises), s.enterprises_sheet, s.enterprises_layer, bool(s.zones))


@functools.lru_cache(maxsize=8)
def _projects(stamp):
    return read_projects(Path(stamp[0]))


@functools.lru_cache(maxsize=16)
def _layer(stamp, what, layer, crs):
    from optimizer import geo

    return geo.read_layer(Path(stamp[0]), layer=layer, crs=crs, what=what)


@functools.lru_cache(maxsize=8)
def _zones(stamp, layer, crs):
    from optimizer import geo

    gdf = geo.read_layer(Path(stamp[0]), layer=layer, crs=crs, what="zones")
    return geo.validate_zones(gdf, Path(stamp[0]))


@functools.lru_cache(maxsize=8)
def load_model(stamp):
    from optimizer.evaluation import load_model as load

    return load(Path(stamp[0]))


def load_inputs(settings: Scenario) -> Inputs:
    """Read and validate every input a run names (cached)."""
    s = settings.scenario
    zones = _zones(_stamp(s.zones), s.zones_layer, s.crs) if s.zones else None
    enterprises = _enterprises(*enterprises_key(settings))
    projects = _projects(_stamp(s.projects)) if s.projects else None
    protected = _layer(_stamp(s.protected), "protected", None, s.crs) if s.protected else None
    features = _layer(_stamp(s.features), "features", None, s.crs) if s.features else None
    if zones is not None:
        known = zones["zone_id"].astype(str)
        check_zone_ids(enterprises, known, Path(s.enterprises), Path(s.zones))
        if projects is not None:
            check_zone_ids(projects, known, Path(s.projects), Path(s.zones))
    elif (enterprises["zone_id"] == "").any():
        row = int(enterprises.loc[enterprises["zone_id"] == "", "source_row"].iloc[0])
        raise ScenarioError("zone_id is empty and no zones layer is given to find it",
                            file=s.enterprises, row=row, rule="zone_id required")
    return Inputs(enterprises, projects, zones, protected, features)


def tiers_for(settings: Scenario, model) -> dict:
    """The model's tiers with the scenario's [tiers.X] overrides applied."""
    from optimizer.evaluation import merge_tier

    tiers = dict(model.tiers)
    for grade, raw in tier_overrides(settings).items():
        if grade not in tiers:
            raise ScenarioError(f"[tiers.{grade}] overrides a grade the model does not define",
                                column=f"tiers.{grade}", rule="known grade")
        tiers[grade] = merge_tier(tiers[grade], raw, f"scenario [tiers.{grade}]")
    return tiers


_CACHE: dict[tuple, object] = {}   # per process: variants share grading and 四至 checks


def _cached(key: tuple, compute):
    """Memoise a step whose inputs are files (by stamp) and settings (by value)."""
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = compute()
    return _CACHE[key]


def _files_key(settings: Scenario) -> tuple:
    s = settings.scenario
    return tuple(_stamp(getattr(s, k)) for k in ("model", "enterprises", "zones", "protected",
                                                  "features")) + (
        s.enterprises_sheet, s.enterprises_layer, s.zones_layer, s.crs)


def boundary_report(settings: Scenario, inputs: Inputs):
    """四至 and approved-area checks (SPEC §5); None without a zones layer."""
    if inputs.zones is None:
        return None
    from optimizer import geo

    cons = settings.consolidation
    key = ("boundaries", _files_key(settings), settings.boundaries.model_dump_json(),
           cons.model_dump_json() if cons is not None else None)

    def compute():
        parcels = inputs.enterprises if hasattr(inputs.enterprises, "geometry") else None
        spec = geo.ConsolidationSpec(groups=cons.groups, touch_distance_m=cons.touch_distance_m) \
            if cons is not None else None
        return geo.check_boundaries(inputs.zones, parcels, inputs.protected, inputs.features,
                                    tolerance_m=settings.boundaries.tolerance_m,
                                    reserve_share=settings.boundaries.reserve_share,
                                    consolidation=spec)
    return _cached(key, compute)


def with_assigned_zones(enterprises: pd.DataFrame, report) -> pd.DataFrame:
    """Parcels without a zone_id get the zone their geometry lies in."""
    if report is None or report.assigned_zones is None or len(report.assigned_zones) == 0:
        return enterprises
    found = report.assigned_zones.set_index("id")["zone_id"]
    out = enterprises.copy()
    missing = out["zone_id"] == ""
    out.loc[missing, "zone_id"] = out.loc[missing, "id"].map(found).fillna("").astype(str)
    still = out["zone_id"] == ""
    if still.any():
        row = int(out.loc[still, "source_row"].iloc[0])
        raise InputError(f"{int(still.sum())} enterprise(s) have no zone_id and their parcel "
                            "lies in no zone", file=enterprises.attrs.get("source"), row=row,
                            column="zone_id", rule="zone_id required")
    return out


def grade_key(settings: Scenario) -> tuple:
    # the enterprises are fixed by the files and the 四至 tolerance (zone assignment)
    return ("grade", _files_key(settings), settings.boundaries.tolerance_m)


def grade_for_allocation(settings: Scenario, enterprises: pd.DataFrame):
    """(model, enterprises with final grade and score, grades table or None): what the
    allocation needs as soon as it is known. None for the grades table while the early
    reader's child has sent only each firm's grade and score (it sends the table next;
    :func:`grade` takes it): 0.1 s sooner at 100,000 firms than the whole table."""
    key = grade_key(settings)
    if key not in _CACHE and early.running():
        marks = early.take("marks", key, meanwhile=early.import_report_writers)
        if marks is not None:
            graded = _with_grades(enterprises, marks)
            _CACHE[("marks", key)] = graded         # grade() gives this frame too
            return model_of(settings), graded, None
    model, grades, graded = grade(settings, enterprises)
    return model, graded, grades


def model_of(settings: Scenario):
    """The evaluation model the run names (cached by file stamp)."""
    return load_model(_stamp(settings.scenario.model))


def grade(settings: Scenario, enterprises: pd.DataFrame):
    """Grades table (sorted by id) and the enterprises with final grade and score."""
    from optimizer.evaluation import grade_enterprises

    def compute():
        model = load_model(_stamp(settings.scenario.model))
        key = grade_key(settings)
        grades = early.take("graded", key)
        if grades is not None:              # its grades.csv (and sheet) follow
            _CACHE[("early csv", id(grades))] = (grades, key)
            if early.sheet_asked():
                _CACHE[("early sheet", id(grades))] = (grades, key)
        if grades is None:
            grades = grade_enterprises(enterprises, model)
        graded = _CACHE.pop(("marks", key), None)     # the same grades and scores
        return model, grades, _with_grades(enterprises, grades) if graded is None else graded
    return _cached(grade_key(settings), compute)


def _with_grades(enterprises: pd.DataFrame, grades: pd.DataFrame) -> pd.DataFrame:
    """The enterprises with their final grade and score: the left merge on id (one to
    one), done by position when every id is graded once (0.005 s against pandas'
    validated merge, 0.08 s at 100,000 firms); otherwise the merge itself, which says
    what is wrong."""
    left = enterprises.drop(columns=["grade"])
    ids = pd.Index(grades["id"])
    at = ids.get_indexer(left["id"]) if ids.is_unique and left["id"].is_unique else None
    if at is None or (at < 0).any():
        return left.merge(grades[["id", "grade", "score"]], on="id", how="left",
                          validate="one_to_one")
    merged = left.reset_index(drop=True)
    merged["grade"] = grades["grade"].to_numpy()[at]
    merged["score"] = grades["score"].to_numpy()[at]
    merged.attrs = {}           # as the merge leaves them
    return merged


def allocation_config(settings: Scenario, tiers: dict, report, solver: str | None) -> AllocationConfig:
    from optimizer.solvers import DEFAULT_SOLVER

    s = settings.scenario
    caps = settings.caps
    zone_caps = {r: resolve_cap(getattr(caps.zone, r)) for r in s.resources
                 if getattr(caps.zone, r) not in (None, "boundary")}
    land_boundary = caps.zone.land_mu == "boundary"
    name = solver or s.solver
    return AllocationConfig(
        resources=tuple(s.resources), tiers=tiers, objective=s.objective, method=s.method,
        solver=DEFAULT_SOLVER if name == "default" else name,
        global_caps={r: resolve_cap(getattr(caps.global_, r)) for r in s.resources
                     if getattr(caps.global_, r) is not None},
        zone_caps=zone_caps,
        zone_land_caps_mu=dict(report.land_caps_mu) if (land_boundary and report) else None,
        land_groups=dict(report.land_groups) if (land_boundary and report and report.land_groups)
        else None,
        intensity=resolve_cap(settings.intensity.energy_per_value),
        projects=ProjectPolicy(settings.projects.investment_intensity_min,
                               settings.projects.fdi_weight, settings.projects.weight),
        time_limit_s=s.time_limit_s, land_tax_yuan_per_m2=s.land_tax_yuan_per_m2)


def grades_csv_options(grades: pd.DataFrame) -> dict:
    """How grades.csv is written: every text column neutralised, booleans True/False."""
    text = [c for c in grades.columns
            if pd.api.types.is_string_dtype(grades[c]) or grades[c].dtype == object]
    return {"neutral": set(text), "bools": ("True", "False")}


def grades_csv(grades: pd.DataFrame) -> bytes:
    """grades.csv bytes; input text (id, zone, county group, veto reason) is formula-neutralised."""
    from optimizer.io.results import csv_bytes

    def compute():
        return csv_bytes(grades, **grades_csv_options(grades))
    key = ("grades_csv", id(grades))
    if key in _CACHE and _CACHE[key][0] is not grades:   # an id reused by a new frame
        del _CACHE[key]
    sent = _CACHE.pop(("early csv", id(grades)), None)
    if key not in _CACHE and sent is not None and sent[0] is grades and early.running():
        text = early.take("csv", sent[1])
        if text is not None:
            _CACHE[key] = (grades, text)
    return _cached(key, lambda: (grades, compute()))[1]


def grades_sheet(grades: pd.DataFrame):
    """A callable giving the report.xlsx body of these very grades as the report reads
    them back (a ``zipmember.Deflated``, or None), made by the early reader's child
    (``early.read_early`` with ``sheet``); None when no child makes it. The workbook calls
    it when its splice reaches the grades sheet (in the workbook's own forked process,
    after the enterprises sheet), before ``early.end_early``: nobody waits for the child."""
    sent = _CACHE.pop(("early sheet", id(grades)), None)
    return early.later("sheet", sent[1]) if sent is not None and sent[0] is grades else None


def write_grades(grades: pd.DataFrame, folder: Path) -> None:
    (folder / "grades.csv").write_bytes(grades_csv(grades))


def zone_names(inputs: Inputs, report) -> dict[str, str] | None:
    """Zone (and consolidated group) names for planner-language messages."""
    if inputs.zones is None or "name" not in inputs.zones.columns:
        return None
    names = dict(zip(inputs.zones["zone_id"].astype(str), inputs.zones["name"].astype(str)))
    if report is not None and report.group_names:
        names.update(report.group_names)
    return names


def prepare(settings: Scenario):
    """Inputs, 四至 report and zone-assigned enterprises of a run (all cached)."""
    inputs = load_inputs(settings)
    report = boundary_report(settings, inputs)
    return inputs, report, with_assigned_zones(inputs.enterprises, report)


def warm(settings: Scenario) -> None:
    """Do the shared, cached work of a run (read, 四至, grade, grades.csv) ahead of time
    (taking what the early reader's child sent, when one runs: :mod:`optimizer.early`)."""
    _, _, enterprises = prepare(settings)
    grades_csv(grade(settings, enterprises)[1])


def write_grades_aside(grades: pd.DataFrame, folder: Path) -> int | None:
    """Start writing grades.csv in a forked child (a spare core; 0.65 s at 100,000
    firms) while this process allocates; its pid, or None when already cached (the
    variants of a sweep share it) or forking is unsafe (threads)."""
    from optimizer.io.child import can_fork, fork_call

    if ("grades_csv", id(grades)) in _CACHE or ("early csv", id(grades)) in _CACHE or \
            not can_fork():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return fork_call(write_grades, grades, folder)


def finish_grades(pid: int | None, grades: pd.DataFrame, folder: Path, *, ok: bool = True) -> None:
    """Reap the child of :func:`write_grades_aside`; write grades.csv here if it failed.
    With ``ok`` False (the run failed) the child is stopped, not waited for."""
    from optimizer.io.child import reap

    if pid is not None and (reap(pid, kill=not ok) or not ok):
        return
    if ok:
        write_grades(grades, folder)     # here also raises the child's error


def run_variant(run: ScenarioRun, folder: Path, *, solver: str | None = None,
                write_model: Path | None = None, spare_core: bool = False,
                keep_tables: tuple[str, ...] = ()) -> dict:
    """Execute one run into ``folder``; returns its summary (status, objective, timings).

    ``spare_core``: this run has a core to itself and the next, so grades.csv is
    written beside the allocation (:func:`write_grades_aside`) and a helper formats
    half of allocation.csv (``write_results(helper=True)``), or, when the allocation
    is kept for the report, a child makes the enterprises sheet's rows meanwhile
    (``early.enterprise_rows_aside``; with the early reader's grades sheet, the
    summary's ``"xlsx_bodies"``). ``keep_tables`` (of
    "allocation", "grades"): the summary also holds ``"tables"``, those files as a
    reader of the folder would see them (:func:`optimizer.report.results.as_read_back`;
    None where that must read the file)."""
    from optimizer.allocation.engine import allocate
    from optimizer.io.results import write_results

    settings = run.settings
    t0 = time.perf_counter()
    inputs, report, enterprises = prepare(settings)
    t_read = time.perf_counter()
    model, graded, grades = grade_for_allocation(settings, enterprises)
    tiers = tiers_for(settings, model)
    t_grade = time.perf_counter()
    config = allocation_config(settings, tiers, report, solver)
    aside = write_grades_aside(grades, folder) if spare_core and grades is not None else None
    ok = False
    try:
        result = allocate(pd.DataFrame(graded.drop(columns="geometry", errors="ignore")), config,
                          inputs.projects, zone_names=zone_names(inputs, report))
        t_alloc = time.perf_counter()
        if result.status in ("time_limit", "error"):
            raise solver_failure(run.name, result)
        if grades is None:                  # the early reader's child sent it meanwhile
            grades = grade(settings, enterprises)[1]
        folder.mkdir(parents=True, exist_ok=True)
        back = _allocation_read_back(result) if "allocation" in keep_tables else None
        rows = early.enterprise_rows_aside(run.name, back) if spare_core and back is not None \
            else None
        # no helper beside the children making workbook rows: a third process on two
        # cores slowed both (0.3 s later at 100,000 firms)
        busy = ("early sheet", id(grades)) in _CACHE or rows is not None
        write_results(result, folder, tiers=tiers, variant=run.name,
                      helper=spare_core and not busy)
        ok = True
    finally:
        finish_grades(aside, grades, folder, ok=ok)
    if report is not None:
        from optimizer import geo

        geo.write_boundaries(report, folder)
    if write_model is not None and result.model is not None:
        from optimizer.solvers.export import write_model as export

        export(result.model, write_model)
    timings = {"read_s": t_read - t0, "grade_s": t_grade - t_read, "allocate_s": t_alloc - t_grade,
               "write_s": time.perf_counter() - t_alloc, **{f"allocation.{k}": v for k, v in
                                                              result.timings.items()}}
    summary = {"variant": run.name, "status": result.status, "objective": result.objective,
               "diagnosis": list(result.diagnosis), "timings": timings, "solver": result.solver}
    if keep_tables:
        from optimizer.report.results import as_read_back

        summary["tables"] = {
            name: back if name == "allocation" else
            as_read_back(grades, **grades_csv_options(grades)) for name in keep_tables}
        bodies = {"grades": grades_sheet(grades) if "grades" in keep_tables else None,
                  "enterprises": rows}
        summary["xlsx_bodies"] = {k: v for k, v in bodies.items() if v is not None}
    return summary


def _allocation_read_back(result):
    """allocation.csv as the report reads it back (:func:`as_read_back` of the frame
    :func:`write_results` writes), made before the file: the enterprises sheet's rows
    can then be made while the file is written."""
    from optimizer.io.results import allocation_as_written
    from optimizer.report.results import as_read_back

    return as_read_back(allocation_as_written(result))


def solver_failure(run_name: str, result) -> SolverError:
    """Exit 3 with the best bound known; an infinite bound means none was found yet."""
    bound = getattr(result, "best_bound", None)
    known = bound is not None and math.isfinite(bound)
    where = (f"best bound {bound:,.2f} 万元" if known else
             "no bound known yet (the solver stopped before its first relaxation finished)")
    hint = "; raise scenario.time_limit_s" if result.status == "time_limit" else ""
    return SolverError(f"run {run_name!r}: solver {result.solver} stopped with status "
                       f"{result.status}; {where}{hint} ({'; '.join(result.diagnosis)})",
                       status=result.status, best_bound=bound if known else None)


def raise_if_infeasible(summaries: list[dict]) -> None:
    bad = [s for s in summaries if s["status"] == "infeasible"]
    if bad:
        lines = [f"{s['variant']}: {d}" for s in bad for d in s["diagnosis"]]
        names = ", ".join(s["variant"] for s in bad)
        raise InfeasibleError(f"infeasible run(s): {names} (results and diagnosis written)",
                              diagnosis=lines)


__all__ = ["Inputs", "load_inputs", "run_variant", "grade", "boundary_report", "tiers_for",
           "allocation_config", "raise_if_infeasible"]
