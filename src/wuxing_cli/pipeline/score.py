"""Orchestration without presentation: load criteria and data, score, rank (library entry points)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar, cast

from ..engine.score import result_columns, score
from ..errors import DataError, Problem, ProblemCode, WuxingError
from ..io.assessment import load_assessment
from ..io.criteria_loader import load_criteria_set
from ..io.resources import DEFAULT_CRITERIA
from ..models.contract import DEFAULT_NEAR
from ..models.criteria import Criteria
from ..models.results import Assessment, ScoreRun


@dataclass(frozen=True)
class LoadOptions:
    """How to read an assessment file (SPEC §3)."""

    encoding: str | None = None
    sheet: str | None = None
    period: str | None = None
    strict: bool = False
    skip_invalid: bool = False


def criteria_names(given: Sequence[str] | None) -> list[str]:
    """The criteria to use: those given, or both built-in standards (rows matched by branch type)."""
    return list(given) if given else list(DEFAULT_CRITERIA)


def run_score(
    data_path: Path,
    criteria: Sequence[str] | Sequence[Criteria] | None = None,
    options: LoadOptions | None = None,
    *,
    near: float = DEFAULT_NEAR,
    by: str | None = None,
    columns: Sequence[str] | Literal["results", "indicators"] | None = None,
    order: bool = True,
) -> ScoreRun:
    """Load criteria (paths, built-in names or models) and a data file, then score and rank it.

    ``columns``: keep only these result columns (see :func:`wuxing_cli.engine.score.score`);
    ``"results"``: the branch- and star-level results (what rank tables read), ``"indicators"``:
    those and the indicator points and veto/cap flags (diff, bulletin), never the input fields.
    On a wide national file the input and indicator columns are most of the memory and of the time
    spent sorting into rank order. None keeps everything. ``order=False``: see :class:`ScoreRun`.
    """
    options = options or LoadOptions()
    models = _models(criteria)
    if isinstance(columns, str):
        columns = result_columns(models, indicators=columns == "indicators")
    data = load_assessment(
        data_path,
        models,
        encoding=options.encoding,
        sheet=options.sheet,
        period=options.period,
        strict=options.strict,
        skip_invalid=options.skip_invalid,
    )
    return score_assessment(models, data, near=near, by=by, columns=columns, order=order)


def score_assessment(
    criteria: Sequence[Criteria], data: Assessment, *, near: float = DEFAULT_NEAR, by: str | None = None,
    columns: Sequence[str] | None = None, order: bool = True,
) -> ScoreRun:
    """Score an already loaded assessment (``columns``: as in :func:`wuxing_cli.engine.score.score`)."""
    if not data.parts:
        raise DataError(all_rejected_problems(data))
    frame = score([(part.criteria, part.frame) for part in data.parts], near=near, by=by, columns=columns,
                  order=order)
    used = [c for c in criteria if any(p.criteria.id == c.id for p in data.parts)] or list(criteria)
    from ..engine.history import unchecked_tenure_warnings

    warnings = list(data.warnings) + unchecked_tenure_warnings(frame, used, file=data.path)
    return ScoreRun(criteria=used, data=data, frame=frame, near=near, by=by, warnings=warnings, ordered=order)


T = TypeVar("T")


def concurrently(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``calls`` (typically :func:`run_score` of two files) at the same time; their results in order.

    Reading and scoring a file keeps about 1.7 of 2 cores busy (polars releases the GIL; the rest is
    Python), so two files overlap well: diff and bulletin --previous at 1,000,000 rows take 15–20 %
    less time. When calls fail with problems a user can fix, all of their problems are raised in one
    error (of the first failure's kind), so one run reports both files' mistakes; any other error is
    raised as it is. The threads are daemons: an interrupted run does not wait for them.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    results: list[T | None] = [None] * len(calls)
    failures: list[BaseException | None] = [None] * len(calls)

    def work(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # handed to the caller's thread below
            failures[index] = exc

    threads = [threading.Thread(target=work, args=(i,), daemon=True, name=f"wuxing-load-{i}")
               for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = [exc for exc in failures if exc is not None]
    if errors:
        if all(isinstance(exc, WuxingError) for exc in errors):
            first = errors[0]
            raise type(first)([p for exc in errors if isinstance(exc, WuxingError) for p in exc.problems])
        raise next(exc for exc in errors if not isinstance(exc, WuxingError))
    return cast(list[T], results)


def _models(criteria: Sequence[str] | Sequence[Criteria] | None) -> list[Criteria]:
    if criteria and all(isinstance(c, Criteria) for c in criteria):
        return [c for c in criteria if isinstance(c, Criteria)]
    names = [str(c) for c in criteria] if criteria else None
    return load_criteria_set(criteria_names(names))


def rejected_warnings(data: Assessment) -> list[Problem]:
    """One warning per row ``--skip-invalid`` left out, naming its line, branch id and reasons (printed on
    stderr where the output has no room for them: CSV and Parquet)."""
    return [
        Problem((f"row of branch '{row.branch_id}'" if row.branch_id else "row") + " rejected (--skip-invalid), "
                "not scored: " + "; ".join(row.reasons), file=data.path, line=row.line, severity="warning",
                code=ProblemCode.REJECTED, hint="fix the cells and score again to include it")
        for row in data.rejected
    ]


def all_rejected_problems(data: Assessment, limit: int = 200) -> list[Problem]:
    """``--skip-invalid`` rejected every row: list them (as the run without it would) and stop, exit 1."""
    problems = [
        Problem((f"row of branch '{row.branch_id}' rejected: " if row.branch_id else "row rejected: ")
                + "; ".join(row.reasons), file=data.path, line=row.line, code=ProblemCode.REJECTED)
        for row in data.rejected[:limit]
    ]
    if len(data.rejected) > limit:
        problems.append(Problem(f"… and {len(data.rejected) - limit} more rejected rows", file=data.path,
                                code=ProblemCode.MORE, count=len(data.rejected) - limit))
    problems.append(Problem(f"all {data.rows_read} rows were rejected, so there is nothing to score",
                            file=data.path, code=ProblemCode.ALL_REJECTED, hint="fix the cells listed above"))
    return problems
