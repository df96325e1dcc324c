"""Raw TOML → pydantic, with errors a planner can act on.

pydantic reports a key path (``loc``) per problem. This module turns each into
one line that names the TOML table and the key, and for an unknown key
suggests the nearest valid one (``difflib.get_close_matches``), e.g.::

    unknown key 'wieght' in [indicators.above_scale.tax_per_mu]; did you mean 'weight'?

The raw models used here are strict (a string is not a number, an int is not a
bool) and forbid extra keys; :class:`StrictTable` is their common base.
"""

from __future__ import annotations

import difflib
import types
import typing
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from optimizer.errors import ScenarioError

MAX_LISTED = 10


class StrictTable(BaseModel):
    """Base of every raw TOML table: unknown keys and loose types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def table_name(path: tuple[str, ...], where: str = "") -> str:
    """``[a.b]`` for a key path, prefixed with ``where`` (e.g. a file and table)."""
    inner = ".".join(path)
    if where and inner and where.endswith("]"):
        return f"{where[:-1]}.{inner}]"          # "s.toml [tiers.D]" + quota → [tiers.D.quota]
    if where:
        return f"{where} [{inner}]" if inner else where
    return f"[{inner}]" if inner else "the top level"


def suggest(word: str, valid: typing.Iterable[str]) -> str:
    """``; did you mean 'x'?`` or the list of valid keys when nothing is close."""
    valid = sorted(valid)
    close = difflib.get_close_matches(word, valid, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if valid:
        return "; valid keys: " + ", ".join(valid)
    return ""


def check_keys(keys: typing.Iterable[str], valid: typing.Iterable[str], path: tuple[str, ...],
               where: str = "", file: str | Path | None = None, what: str = "key") -> None:
    """Raise ScenarioError for the first name in ``keys`` that is not in ``valid``."""
    valid = tuple(valid)
    for key in keys:
        if key not in valid:
            raise ScenarioError(f"unknown {what} '{key}' in {table_name(path, where)}"
                                f"{suggest(key, valid)}", file=file, rule="unknown key")


def parse_raw(model_cls: type[StrictTable], raw: dict, *, where: str = "",
              file: str | Path | None = None, prefix: tuple[str, ...] = ()) -> StrictTable:
    """Validate ``raw`` into ``model_cls``; every problem becomes one ScenarioError line."""
    try:
        return model_cls.model_validate(raw)
    except ValidationError as exc:
        lines = _error_lines(model_cls, exc, where, prefix)
        message = lines[0]
        if len(lines) > 1:
            extra = lines[1:MAX_LISTED]
            message += "".join(f"\n  also: {line}" for line in extra)
            if len(lines) > MAX_LISTED:
                message += f"\n  ... and {len(lines) - MAX_LISTED} more"
        raise ScenarioError(message, file=file, rule="model file schema") from None


def _error_lines(model_cls, exc: ValidationError, where: str, prefix: tuple[str, ...]) -> list[str]:
    by_path: dict[tuple[str, ...], list[dict]] = {}
    fields: dict[tuple[str, ...], list[str]] = {}
    for err in exc.errors():
        path, parent_fields = _walk(model_cls, err["loc"])
        by_path.setdefault(path, []).append(err)      # a union reports once per member
        fields[path] = parent_fields
    unknown, other = [], []
    for path, errs in by_path.items():
        key = path[-1] if path else ""
        table = table_name(prefix + path[:-1], where)
        kind = errs[0]["type"]
        if kind == "extra_forbidden":
            unknown.append(f"unknown key '{key}' in {table}{suggest(key, fields[path])}")
        elif kind == "missing":
            other.append(f"missing key '{key}' in {table}")
        else:
            expected = " or ".join(dict.fromkeys(_explain(e) for e in errs)).replace(
                " or expected ", " or ")
            other.append(f"wrong value for '{key}' in {table}: {expected} "
                         f"(got {errs[0]['input']!r})")
    return unknown + other     # a misspelt key first: the "missing" line is its consequence


def _explain(err: dict) -> str:
    if err["type"] in ("float_type", "int_type", "bool_type", "string_type", "dict_type",
                       "list_type", "model_type", "literal_error"):
        return err["msg"].replace("Input should be ", "expected ")
    return err["msg"]


def _walk(model_cls, loc: tuple) -> tuple[tuple[str, ...], list[str]]:
    """Follow ``loc`` through model fields and dict values.

    Returns the TOML key path (union tags and list indexes dropped) and the
    valid field names of the table that holds the last key.
    """
    path: list[str] = []
    current = model_cls
    parent_fields: list[str] = _fields(current)
    for part in loc:
        target = _table_type(current)
        if isinstance(target, type) and issubclass(target, BaseModel):
            if part not in target.model_fields:
                parent_fields = list(target.model_fields)
                path.append(str(part))
                break
            parent_fields = list(target.model_fields)
            path.append(str(part))
            current = target.model_fields[part].annotation
        elif typing.get_origin(target) is dict:
            parent_fields = []
            path.append(str(part))
            current = typing.get_args(target)[1]
        else:
            break                  # scalar, list index or union tag: the key path ends here
    return tuple(path), parent_fields


def _table_type(annotation):
    """The type inside ``X | None``; a union of several types ends the key path (None)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else None
    return annotation


def _fields(annotation) -> list[str]:
    target = _table_type(annotation)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []
