"""``wuxing validate``: check criteria files, then data files against the valid criteria.

Returns every problem of every file (no presentation; :mod:`wuxing_cli.report.validate` renders).
Imports polars only when there are data files to check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DataError, Problem, ProblemCode, WuxingError, errors_only

if TYPE_CHECKING:
    from ..models.criteria import Criteria
    from .score import LoadOptions


@dataclass
class FileResult:
    path: str
    kind: str  # criteria | data
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not errors_only(self.problems)


@dataclass
class ValidationResult:
    files: list[FileResult]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


def run_validation(names: Sequence[str], data: Sequence[Path], options: LoadOptions | None = None) -> ValidationResult:
    """Check every criteria file, then every data file against the valid criteria (read with ``options``;
    needed only when there are data files)."""
    from ..io.criteria_loader import LoadedCriteria, read_criteria
    from ..io.resources import DEFAULT_CRITERIA

    loaded: list[LoadedCriteria] = []
    results: list[FileResult] = []
    for name in names or DEFAULT_CRITERIA:
        item = read_criteria(name)
        loaded.append(item)
        results.append(FileResult(item.path, "criteria", list(item.problems)))
    if data:
        models = [item.criteria for item in loaded if item.ok and item.criteria is not None]
        for path in data:
            result = FileResult(str(path), "data")
            results.append(result)
            if len(models) != len(loaded):
                result.problems.append(Problem("not checked: the criteria have errors", file=str(path),
                                               severity="warning", code=ProblemCode.SKIPPED))
                continue
            result.problems.extend(_check_data(path, models, options))
    return ValidationResult(results)


def _check_data(path: Path, models: list[Criteria], options: LoadOptions | None) -> list[Problem]:
    from ..io.assessment import load_assessment
    from ..io.headers import check_headers
    from ..io.reader import read_raw
    from .score import LoadOptions

    opts = options if options is not None else LoadOptions()
    try:
        raw = read_raw(path, encoding=opts.encoding, sheet=opts.sheet)
    except WuxingError as exc:
        return exc.problems
    problems = check_headers(raw, models)
    # Errors and warnings in one run: the cells are checked even when columns are missing, and the
    # warnings found before an error (empty cells) are listed with it, so a village is asked once.
    try:
        assessment = load_assessment(path, models, encoding=opts.encoding, sheet=opts.sheet, period=opts.period,
                                     strict=opts.strict)
        found = assessment.warnings
    except DataError as exc:
        found = [*exc.problems, *exc.warnings]
    except WuxingError as exc:  # e.g. several criteria, no type column: the column errors may say it already
        found = exc.warnings if errors_only(problems) else [*exc.problems, *exc.warnings]
    found = [p for p in found if p not in problems]
    return [*problems, *errors_only(found), *(p for p in found if not p.is_error)]
