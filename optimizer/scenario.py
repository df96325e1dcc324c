"""Scenario files (SPEC §6): TOML → validated settings → concrete runs.

A scenario names its inputs (paths relative to the scenario file), the model
file, resources, caps, intensity target, tiers overrides, variants and a sweep
(the keys: ``optimizer.scenario_schema``). Unknown keys are errors with the
nearest valid key suggested; a scenario may ``extends = "other.toml"`` another
one: it inherits the settings (not the variants or sweep) and overrides what it
states; cycles are errors. Runs are base + one per variant + one per sweep value
(derived from the base).
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.errors import ErrorCollector, ScenarioError
from optimizer.policy import RESOURCES
from optimizer.scenario_schema import (PATH_KEYS, RUN_NAME, CapValue, Scenario, check_key_path,
                                       render_validation_error, suggest)


# ---------------------------------------------------------------- loading

def _read_toml(path: Path) -> tuple[str, dict]:
    if not path.exists():
        raise ScenarioError("scenario file not found", file=path, rule="file exists")
    if path.is_dir():
        raise ScenarioError("scenario path is a directory, not a file", file=path, rule="is a file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 (byte {exc.start}); save the scenario file as UTF-8 "
                            "(TOML files are UTF-8)", file=path, rule="encoding") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=path, rule="TOML syntax") from None


def _absolutise(raw: dict, folder: Path) -> dict:
    section = raw.get("scenario")
    if isinstance(section, dict):
        for key in PATH_KEYS:
            if isinstance(section.get(key), str):
                section[key] = str((folder / section[key]).resolve())
    return raw


def _deep_merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_raw(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, list[Path]]:
    """Raw scenario dict with inheritance resolved and paths made absolute."""
    path = Path(path).resolve()
    if path in chain:
        cycle = " → ".join(p.name for p in (*chain, path))
        raise ScenarioError(f"circular `extends`: {cycle}", file=chain[-1], rule="no cycles")
    _, raw = _read_toml(path)
    raw = _absolutise(raw, path.parent)
    files = [path]
    parent = raw.get("scenario", {}).get("extends") if isinstance(raw.get("scenario"), dict) else None
    if isinstance(parent, str):
        parent_raw, parent_files = load_raw(path.parent / parent, (*chain, path))
        # a child inherits settings, not the parent's variants or sweep
        parent_raw.pop("variants", None)
        parent_raw.pop("sweep", None)
        raw = _deep_merge(parent_raw, raw)
        files += parent_files
    return raw, files


def validate_raw(raw: dict, file: Path, prefix: str = "") -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise render_validation_error(exc, file, prefix) from None


def check_paths(settings: Scenario, file: Path) -> None:
    errors = ErrorCollector()
    section = settings.scenario
    for key in PATH_KEYS:
        value = getattr(section, key)
        if value is None:
            continue
        p = Path(value)
        if not p.exists():
            errors.add(ScenarioError(f"`scenario.{key}` file not found: {p}", file=file,
                                     column=f"scenario.{key}", rule="file exists"))
        elif p.is_dir() and p.suffix.lower() != ".gdb":
            errors.add(ScenarioError(f"`scenario.{key}` is a directory, not a file: {p}",
                                     file=file, column=f"scenario.{key}", rule="is a file"))
    if section.zones is None and settings.caps.zone.land_mu == "boundary":
        errors.add(ScenarioError("`caps.zone.land_mu = \"boundary\"` needs `scenario.zones`",
                                 file=file, column="caps.zone.land_mu", rule="needs zones"))
    if settings.consolidation is not None and section.zones is None:
        errors.add(ScenarioError("`[consolidation]` needs `scenario.zones`", file=file,
                                 column="consolidation", rule="needs zones"))
    errors.raise_if_any()


# ---------------------------------------------------------------- runs

@dataclass
class ScenarioRun:
    """One concrete run: the base, a variant, or one sweep value."""

    name: str
    settings: Scenario
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioFile:
    path: Path
    text: str
    files: list[Path]
    base: Scenario
    runs: list[ScenarioRun]

    def input_paths(self) -> list[Path]:
        """Every file the scenario reads: itself, the files it extends, each run's inputs."""
        paths = set(self.files)
        for run in self.runs:
            section = run.settings.scenario
            paths.update(Path(getattr(section, key)) for key in PATH_KEYS
                         if getattr(section, key))
        return sorted(paths)

    def run_named(self, name: str) -> ScenarioRun:
        for run in self.runs:
            if run.name == name:
                return run
        names = [r.name for r in self.runs]
        raise ScenarioError(f"no variant named {name!r}{suggest(name, names)}", file=self.path,
                            rule="known variant")


def set_dotted(raw: dict, dotted: str, value: Any) -> None:
    node = raw
    parts = dotted.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _sweep_name(value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return "sweep-" + re.sub(r"[^A-Za-z0-9_.=+\-]", "_", text)


def load_scenario(path: str | Path) -> ScenarioFile:
    """Parse, validate and expand a scenario file into its runs."""
    path = Path(path)
    text = _read_toml(path)[0]
    raw, files = load_raw(path)
    base = validate_raw(raw, path)
    check_paths(base, path)
    base_raw = copy.deepcopy(raw)
    base_raw.pop("variants", None)
    base_raw.pop("sweep", None)
    runs = [ScenarioRun("base", validate_raw(base_raw, path))]
    for i, variant in enumerate(base.variants):
        where = f"variants[{i}] ({variant.name})"
        if not RUN_NAME.match(variant.name) or variant.name == "base":
            raise ScenarioError(f"{where}: variant name must be 1–64 letters, digits or _.=+- and "
                                "not 'base'", file=path, column=f"variants[{i}].name",
                                rule="variant name")
        runs.append(_derive(base_raw, variant.name, variant.set, path, where))
    if base.sweep is not None:
        check_key_path(base.sweep.key, "sweep", path)
        for value in base.sweep.values:
            runs.append(_derive(base_raw, _sweep_name(value), {base.sweep.key: value}, path,
                                f"sweep value {value!r}"))
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"run names repeat: {', '.join(dupes)}", file=path, rule="unique names")
    for run in runs:
        _check_run(run, path)
    return ScenarioFile(path.resolve(), text, files, base, runs)


def _check_run(run: ScenarioRun, file: Path) -> None:
    """Tier bounds and solver name, checked here so that the message names the file."""
    from optimizer.evaluation.tiers import parse_tier

    prefix = "" if run.name == "base" else f"run {run.name!r}: "
    for grade, raw in tier_overrides(run.settings).items():
        parse_tier(raw, f"{prefix}[tiers.{grade}]", file=file)   # every bound checks alone
    _check_resources(run.settings, prefix, file)
    if run.settings.scenario.solver != "default":
        from optimizer.solvers import get_solver     # (the solvers import numpy and scipy)

        try:
            get_solver(run.settings.scenario.solver)
        except ScenarioError as exc:
            raise ScenarioError(prefix + exc.message, file=file, column="scenario.solver",
                                rule=exc.rule) from None


def _check_resources(settings: Scenario, prefix: str, file: Path) -> None:
    """A cap or target on a resource the run does not allocate would be silently ignored."""
    chosen = settings.scenario.resources
    for kind, table in (("global", settings.caps.global_), ("zone", settings.caps.zone)):
        for res in RESOURCES:
            if getattr(table, res) is not None and res not in chosen:
                raise ScenarioError(f"{prefix}`caps.{kind}.{res}` is set but {res} is not in "
                                    f"`scenario.resources` ({', '.join(chosen)}); add it there "
                                    "or remove the cap", file=file, column=f"caps.{kind}.{res}",
                                    rule="caps on chosen resources")
    if settings.intensity.energy_per_value is not None and "energy_tce" not in chosen:
        raise ScenarioError(f"{prefix}`intensity.energy_per_value` needs energy_tce in "
                            f"`scenario.resources` ({', '.join(chosen)})", file=file,
                            column="intensity.energy_per_value", rule="caps on chosen resources")


def _derive(base_raw: dict, name: str, overrides: dict[str, Any], path: Path,
            where: str) -> ScenarioRun:
    raw = copy.deepcopy(base_raw)
    for key, value in overrides.items():
        check_key_path(key, where, path)
        set_dotted(raw, key, value)
    settings = validate_raw(raw, path, prefix=f"{where}: ")
    return ScenarioRun(name, settings, dict(overrides))


def resolve_cap(cap: CapValue | None):
    from optimizer.policy import CapSpec

    if cap is None:
        return None
    return CapSpec(factor=cap.factor, absolute=cap.absolute)


def tier_overrides(settings: Scenario) -> dict[str, dict]:
    """Raw override tables per grade, only the keys the scenario sets."""
    out = {}
    for grade in ("A", "B", "C", "D", "U"):
        table = getattr(settings.tiers, grade)
        if table is not None:
            out[grade] = table.model_dump(exclude_none=True)
    return out


__all__ = ["Scenario", "ScenarioFile", "ScenarioRun", "load_scenario", "resolve_cap",
           "tier_overrides", "check_key_path", "RESOURCES"]
