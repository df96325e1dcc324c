"""Work done ahead on the spare core while a run goes on, in forked children.

- The early reader (:func:`read_early`): reads and grades the enterprises and formats
  grades.csv while the run imports the rest and checks 四至; for a lone run it also
  formats and compresses report.xlsx's grades rows.
- The enterprises rows child (:func:`enterprise_rows_aside`): report.xlsx's
  enterprises rows, from the allocation as the report reads it back, while the run
  writes its result files.

What a child sends is taken where the pipeline would compute it (:func:`take`;
:mod:`optimizer.pipeline` asks); whatever it does not send (it failed, or the grades
depend on zones found from parcels) is computed by the run itself, so input errors
are raised there and the outputs are the same bytes. Children are forked only from a
process without other threads (``optimizer.io.child.can_fork``) and ended by
:func:`end_early`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

_EARLY = None           # optimizer.io.child.Inbox of the early reader, while one runs
_EARLY_SHEET = False    # ... asked to make the grades sheet too
_ROWS = None            # Inbox of the child making the enterprises sheet's rows


def read_early(settings, *, sheet: bool = False) -> bool:
    """Start reading and grading the enterprises of ``settings`` (a validated
    ``Scenario``) in a forked child.

    For a run with a spare core: the child reads the enterprise table, grades it and
    formats grades.csv while this process goes on importing the solver, geometry and
    report modules, reading the zones, checking the 四至 and reading the enterprise
    table too (reading it here costs less time than waiting for its transfer: 0.07–0.1 s
    at 100,000 firms). The child sends each firm's grade and score first (what the
    allocation needs, ``pipeline.grade_for_allocation``), then the grades table and
    grades.csv. With ``sheet`` (a lone run, whose report shows these grades) it also
    makes the grades sheet of report.xlsx, formatted and compressed
    (``pipeline.grades_sheet``), while this process allocates. False when forking is
    unsafe (threads) or a reader already runs.
    """
    global _EARLY, _EARLY_SHEET
    from optimizer.io.child import can_fork, fork_messages

    if _EARLY is not None or not can_fork():
        return False
    _EARLY = fork_messages(_read_and_grade, settings, sheet)
    _EARLY_SHEET = sheet
    return True


def running() -> bool:
    """An early reader runs (its messages may still be taken)."""
    return _EARLY is not None


def sheet_asked() -> bool:
    """The running early reader makes the grades sheet too."""
    return _EARLY is not None and _EARLY_SHEET


def take(kind: str, key, meanwhile=None):
    """What the early reader sent as ``(kind, key)``, waiting for it; None when no
    reader runs or it ended without sending it (``meanwhile``: see ``Inbox.take``)."""
    return _EARLY.take(kind, key, meanwhile=meanwhile) if _EARLY is not None else None


def later(kind: str, key):
    """A callable taking ``(kind, key)`` from the running early reader when called (in
    this process or one forked from it, before :func:`end_early`); None if none runs."""
    inbox = _EARLY
    if inbox is None:
        return None
    return lambda: inbox.take(kind, key) if inbox is _EARLY else None


def end_early() -> None:
    """Stop the children of :func:`read_early` and :func:`enterprise_rows_aside` (if
    any) and forget what they sent."""
    global _EARLY, _ROWS
    for inbox in (_EARLY, _ROWS):
        if inbox is not None:
            inbox.close(kill=True)
    _EARLY = _ROWS = None


def _read_and_grade(outbox, settings, sheet: bool) -> None:
    """In the child of :func:`read_early`."""
    from optimizer import pipeline
    from optimizer.evaluation import grade_enterprises
    from optimizer.validation import read_enterprises

    key = pipeline.enterprises_key(settings)
    enterprises = read_enterprises(Path(key[0][0]), sheet=key[1], layer=key[2],
                                   zone_optional=key[3])
    if "zone_id" not in enterprises.columns or (enterprises["zone_id"] == "").any():
        return                          # zones found from parcels first (四至)
    grades = grade_enterprises(enterprises, pipeline.model_of(settings))
    grade_key = pipeline.grade_key(settings)
    outbox.send("marks", grade_key, grades[["id", "grade", "score"]])
    outbox.send("graded", grade_key, grades)
    outbox.send("csv", grade_key, pipeline.grades_csv(grades))
    if sheet:
        from optimizer.report.results import as_read_back
        from optimizer.report.xlsx import prerender_body

        back = as_read_back(grades, **pipeline.grades_csv_options(grades))
        outbox.send("sheet", grade_key, None if back is None else prerender_body(back))


def import_report_writers() -> None:
    """While the run waits for the early reader: the report writers (and XlsxWriter,
    Jinja2) are needed at the end of the run anyway (0.06 s)."""
    import importlib

    for module in ("optimizer.report.html", "optimizer.report.xlsx"):
        importlib.import_module(module)


def enterprise_rows_aside(name: str, allocation: pd.DataFrame):
    """For a lone run with a spare core: fork a child that formats and compresses the
    rows of report.xlsx's enterprises sheet (``report.xlsx.enterprise_rows``) from
    ``allocation`` as the report reads it back, while this process writes the result
    files; a callable giving them to the workbook when its splice gets there (see
    :func:`later`), or None when forking is unsafe (threads) or one runs already."""
    global _ROWS
    from optimizer.io.child import can_fork, fork_messages

    if _ROWS is not None or not can_fork():
        return None
    inbox = _ROWS = fork_messages(_enterprise_rows, name, allocation)
    return lambda: inbox.take("rows", name) if inbox is _ROWS else None


def _enterprise_rows(outbox, name: str, allocation: pd.DataFrame) -> None:
    """In the child of :func:`enterprise_rows_aside`: the variant as the report loads it."""
    from optimizer.report.results import VariantResult, by_id
    from optimizer.report.xlsx import enterprise_rows

    empty = pd.DataFrame()
    result = VariantResult(name, Path(), {}, by_id(allocation), empty, empty, empty, empty, empty)
    outbox.send("rows", name, enterprise_rows([result]))
