"""The ``mujun`` command line (SPEC §7): parse, call the steps, render errors.

Exit codes: 0 ok, 1 infeasible (explained), 2 bad input or usage,
3 solver failure or time limit. User errors print one clear message, never a
traceback; ``--debug`` shows the traceback of an internal error.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

# numpy's OpenBLAS starts a thread per core that spins after each BLAS call. MuJun's
# work is sparse or column by column and gains nothing from them, while the spinning
# takes CPU from the run's other processes (0.15 CPU-s at 100,000 firms). Set before
# numpy is imported; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _keep_freed_memory() -> None:
    """glibc's malloc gives every block of 128 KB or more its own mapping, and hands
    freed memory back to the system: a run then touches fresh pages again and again
    (the kernel zeroes each one), and page faults were a fifth of its CPU time at
    100,000 firms. Blocks up to 256 MB come from the heap instead and freed memory is
    kept for reuse up to 1 GB: 0.1–0.15 s less per run in alternating pairs, the same
    peak memory. Only with glibc, and not when the user tunes malloc himself."""
    if not sys.platform.startswith("linux") or "GLIBC_TUNABLES" in os.environ or \
            any(key.startswith("MALLOC_") for key in os.environ):
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):       # another C library (musl): left as it is
        return
    mallopt(-3, 256 << 20)                  # M_MMAP_THRESHOLD
    mallopt(-1, 1 << 30)                    # M_TRIM_THRESHOLD


_keep_freed_memory()

import click  # noqa: E402

from optimizer.errors import MujunError  # noqa: E402

EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 4


def _sigterm_as_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


scenario_arg = click.argument("scenario", type=click.Path(dir_okay=True, path_type=Path))
out_option = click.option("-o", "--out", "out_dir", required=True,
                          type=click.Path(file_okay=True, path_type=Path),
                          help="Output folder (created atomically).")
force_option = click.option("--force", is_flag=True, help="Replace an existing output folder.")
quiet_option = click.option("--quiet", is_flag=True, help="No progress bar.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mujun")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.pass_context
def cli(ctx, debug):
    """MuJun (亩均): grade enterprises by per-mu benefit and allocate land, energy and
    emission quotas across development zones."""
    ctx.obj = {"debug": debug}


@cli.command()
@scenario_arg
def validate(scenario):
    """Check the scenario and all its inputs; solve nothing, write nothing."""
    from optimizer.pipeline import load_inputs
    from optimizer.scenario import load_scenario
    from optimizer.solvers import get_solver

    sf = load_scenario(scenario)
    for run in sf.runs:
        _check_before_solve(run.settings)
        if run.settings.scenario.solver != "default":
            get_solver(run.settings.scenario.solver)
    base = load_inputs(sf.base)
    _echo_layer_warnings(base)
    click.echo(f"OK: {sf.path.name}: {len(sf.runs)} run(s) "
               f"({', '.join(r.name for r in sf.runs)}); {len(base.enterprises):,} enterprises"
               + (f", {len(base.zones)} zones" if base.zones is not None else "")
               + (f", {len(base.projects)} projects" if base.projects is not None else "")
               + f"; encoding {base.enterprises.attrs.get('encoding', '?')}")


def _check_before_solve(settings) -> None:
    """What ``run`` checks before solving: inputs, zones found from parcels (四至), grades,
    tiers, caps and targets against the data. validate must reject what run would."""
    import pandas as pd

    from optimizer.allocation.data import prepare as prepare_arrays
    from optimizer.pipeline import (allocation_config, boundary_report, grade, load_inputs,
                                    tiers_for, with_assigned_zones)

    inputs = load_inputs(settings)
    report = boundary_report(settings, inputs)
    model, _, graded = grade(settings, with_assigned_zones(inputs.enterprises, report))
    config = allocation_config(settings, tiers_for(settings, model), report, None)
    prepare_arrays(pd.DataFrame(graded.drop(columns="geometry", errors="ignore")), config,
                   inputs.projects)


def _echo_layer_warnings(inputs) -> None:
    """Repairs of invalid geometries (self-intersecting 四至) must not pass silently."""
    for layer in (inputs.zones, inputs.protected, inputs.features):
        for w in getattr(layer, "attrs", {}).get("warnings", []) if layer is not None else []:
            click.echo(f"warning: {w}", err=True)


@cli.command()
@scenario_arg
@out_option
@force_option
def grade(scenario, out_dir, force):
    """Evaluation only: DIR/grades.csv (per-indicator value, benchmark, points, grade)."""
    from optimizer.io.output import atomic_folder
    from optimizer.pipeline import boundary_report, grade as grade_step, load_inputs, \
        with_assigned_zones, write_grades
    from optimizer.scenario import load_scenario

    sf = load_scenario(scenario)
    inputs = load_inputs(sf.base)
    enterprises = with_assigned_zones(inputs.enterprises, boundary_report(sf.base, inputs))
    _, grades, _ = grade_step(sf.base, enterprises)
    with atomic_folder(out_dir, force=force, inputs=sf.input_paths()) as tmp:
        write_grades(grades, tmp)
    for note in grades.attrs.get("notes", []):
        click.echo(f"note: {note}", err=True)
    shares = grades["grade"].value_counts(normalize=True).sort_index()
    click.echo(f"graded {len(grades):,} enterprises: "
               + ", ".join(f"{g} {v:.1%}" for g, v in shares.items())
               + f" → {out_dir / 'grades.csv'}")


@cli.command()
@scenario_arg
@out_option
@click.option("--solver", default=None, help="Override the scenario's solver (backend:solver).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel runs (default: number of cores).")
@click.option("--variant", "variants", multiple=True, help="Run only this variant (repeatable).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--write-model", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also export the base run's exact model as .lp or .mps for audit.")
@force_option
@quiet_option
def run(scenario, out_dir, solver, jobs, variants, executor, scheduler, write_model, force, quiet):
    """Grade, check 四至 and allocate: one sub-folder per variant plus comparison and reports."""
    from optimizer import early, pipeline
    from optimizer.errors import ScenarioError
    from optimizer.runner import read_ahead
    from optimizer.scenario import load_scenario

    if executor == "dask" and not scheduler:
        raise ScenarioError("--executor dask needs --scheduler tcp://HOST:PORT", rule="usage")
    if write_model is not None and write_model.suffix.lower() not in (".lp", ".mps"):
        raise ScenarioError("--write-model must end in .lp or .mps", file=write_model, rule="usage")
    sf = load_scenario(scenario)
    try:
        # a spare core reads and grades the enterprises while this process imports the
        # solvers, geometry and reports
        read_ahead(sf, list(variants) or None, jobs, executor)
        from optimizer.runner import run_scenario
        from optimizer.solvers import get_solver

        if solver:
            get_solver(solver)
        summaries = run_scenario(sf, out_dir, runs=list(variants) or None, solver=solver,
                                 n_jobs=jobs, executor=executor, scheduler=scheduler, quiet=quiet,
                                 force=force)
    finally:
        early.end_early()
    if write_model is not None:
        _export_model(sf, summaries[0]["variant"], solver, write_model)
    from optimizer.pipeline import load_inputs

    _echo_layer_warnings(load_inputs(sf.base))      # cached: the report map read it already
    for s in summaries:
        obj = f"{s['objective']:,.2f}" if s.get("objective") is not None else "-"
        click.echo(f"{s['variant']}: {s['status']}, objective {obj} 万元 ({s['solver']})")
    click.echo(f"report: {out_dir / 'report.html'} and {out_dir / 'report.xlsx'}")
    pipeline.raise_if_infeasible(summaries)


def _export_model(sf, run_name, solver, path):
    import tempfile

    from optimizer.pipeline import run_variant

    with tempfile.TemporaryDirectory() as tmp:
        run_variant(sf.run_named(run_name), Path(tmp), solver=solver, write_model=path)
    click.echo(f"model written to {path}")


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@out_option
@force_option
def compare(run_dirs, out_dir, force):
    """Compare finished runs (also across scenarios) into one comparison and report."""
    from optimizer.io.output import atomic_folder
    from optimizer.report import build_reports
    from optimizer.runner import collect_runs

    variant_dirs, manifest = collect_runs(run_dirs)
    with atomic_folder(out_dir, force=force, inputs=run_dirs) as tmp:
        build_reports(tmp, variant_dirs, manifest)
    click.echo(f"compared {len(variant_dirs)} run(s): {', '.join(variant_dirs)} → "
               f"{out_dir / 'report.html'}")


@cli.command()
@scenario_arg
@out_option
@force_option
def boundaries(scenario, out_dir, force):
    """四至 and approved-area checks only: boundaries.csv and boundary_violations.gpkg."""
    from optimizer import geo
    from optimizer.errors import ScenarioError
    from optimizer.io.output import atomic_folder
    from optimizer.pipeline import boundary_report, load_inputs
    from optimizer.scenario import load_scenario

    sf = load_scenario(scenario)
    if sf.base.scenario.zones is None:
        raise ScenarioError("`scenario.zones` is needed for boundary checks", file=sf.path,
                            column="scenario.zones", rule="needs zones")
    report = boundary_report(sf.base, load_inputs(sf.base))
    with atomic_folder(out_dir, force=force, inputs=sf.input_paths()) as tmp:
        geo.write_boundaries(report, tmp)
    n = len(report.violations)
    click.echo(f"{len(report.table)} zones checked; {n} parcel(s) outside their approved "
               f"boundary → {out_dir / 'boundaries.csv'}")
    for w in report.warnings:
        click.echo(f"warning: {w}", err=True)


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="mujun", standalone_mode=False)
        return 0
    except MujunError as exc:
        click.echo(f"mujun: {exc.render()}", err=True)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.exceptions.Abort:
        click.echo("mujun: interrupted; no output written", err=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("mujun: interrupted; no output written", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:  # an internal error: a bug, not a user error
        if debug:
            raise
        click.echo(f"mujun: internal error ({type(exc).__name__}: {exc}); please report it, "
                   "rerun with --debug for details", err=True)
        return EXIT_INTERNAL


def entry() -> None:
    code = main()
    # Every output is written, closed and renamed into place by now: leave without the
    # interpreter's teardown, which frees the run's caches object by object (0.15 s
    # after 20 runs of 10,000 firms); the memory goes with the process.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):      # a closed pipe: nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
