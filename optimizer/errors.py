"""The MuJun error family.

Every user-facing problem is a ``MujunError`` carrying enough context (file,
spreadsheet row, column, rule) for the CLI to print one clear line and exit
with the documented code: 2 bad input or usage, 1 infeasible, 3 solver failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_REPORTED_ERRORS = 50


class MujunError(Exception):
    """Base of all user-facing errors; ``exit_code`` is what the CLI returns."""

    exit_code = 2
    column_label = "column"

    def __init__(self, message: str, *, file: str | Path | None = None, row: int | None = None,
                 column: str | None = None, rule: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.rule = rule

    def render(self) -> str:
        """One line: ``file, row R, column C: message [rule]``."""
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"{self.column_label} {self.column!r}")
        where = ", ".join(parts)
        text = f"{where}: {self.message}" if where else self.message
        if self.rule and self.rule not in self.message:
            text += f" [rule: {self.rule}]"
        return text

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):
        # Errors cross process boundaries (--jobs N, Dask): rebuild them without calling
        # __init__, whose signature differs per subclass (ValidationErrors takes a list).
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls, args, state):
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InputError(MujunError):
    """Bad data: enterprise/project tables, layers (file/row/column/rule)."""


class ScenarioError(MujunError):
    """Bad scenario or model TOML: unknown key, wrong type, missing path."""

    column_label = "key"


class InfeasibleError(MujunError):
    """The model has no solution; ``diagnosis`` explains it in planner language."""

    exit_code = 1

    def __init__(self, message: str, *, diagnosis: list[str] | None = None, **context):
        super().__init__(message, **context)
        self.diagnosis = list(diagnosis or [])

    def render(self) -> str:
        lines = [super().render()]
        lines += [f"  - {d}" for d in self.diagnosis]
        return "\n".join(lines)


class SolverError(MujunError):
    """A solver failed or hit its time limit (exit 3)."""

    exit_code = 3

    def __init__(self, message: str, *, status: str = "error", best_bound: float | None = None,
                 **context):
        super().__init__(message, **context)
        self.status = status
        self.best_bound = best_bound


class OutputError(MujunError):
    """The output folder cannot be written (exists without --force, read-only, disk full)."""


@dataclass
class ErrorCollector:
    """Collects many errors so a user sees them together (up to ``limit``)."""

    limit: int = MAX_REPORTED_ERRORS
    errors: list[MujunError] = field(default_factory=list)
    dropped: int = 0

    def add(self, error: MujunError) -> None:
        if len(self.errors) < self.limit:
            self.errors.append(error)
        else:
            self.dropped += 1

    def __len__(self) -> int:
        return len(self.errors) + self.dropped

    def raise_if_any(self) -> None:
        if len(self.errors) == 1 and not self.dropped:
            raise self.errors[0]
        if self.errors:
            raise ValidationErrors(self.errors, dropped=self.dropped)


class ValidationErrors(MujunError):
    """Several input errors reported together."""

    def __init__(self, errors: list[MujunError], dropped: int = 0):
        self.errors = list(errors)
        self.dropped = dropped
        first = self.errors[0]
        super().__init__(first.message, file=first.file, row=first.row, column=first.column,
                         rule=first.rule)
        self.exit_code = max(e.exit_code for e in self.errors)

    def render(self) -> str:
        n = len(self.errors) + self.dropped
        if n == 1:
            return self.errors[0].render()
        lines = [f"{n} error(s) found:"]
        lines += [f"  {e.render()}" for e in self.errors]
        if self.dropped:
            lines.append(f"  ... and {self.dropped} more (showing the first {len(self.errors)})")
        return "\n".join(lines)
