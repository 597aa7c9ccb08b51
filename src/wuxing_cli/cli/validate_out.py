"""Run ``wuxing validate`` and render its findings as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, assert_never

from ..errors import Problem, ProblemCode, WuxingError, errors_only

if TYPE_CHECKING:
    from ..models.criteria import Criteria
    from ..pipeline.score import LoadOptions


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


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
    from ..pipeline.score import LoadOptions

    opts = options if options is not None else LoadOptions()
    try:
        raw = read_raw(path, encoding=opts.encoding, sheet=opts.sheet)
        problems = check_headers(raw, models)
        if errors_only(problems):
            return problems
        assessment = load_assessment(path, models, encoding=opts.encoding, sheet=opts.sheet, period=opts.period,
                                     strict=opts.strict)
        return problems + [p for p in assessment.warnings if p not in problems]
    except WuxingError as exc:
        return exc.problems


def render_validation(result: ValidationResult, fmt: ValidateFormat, *, quiet: bool = False) -> str:
    if fmt is ValidateFormat.json:
        document = {
            "valid": result.ok,
            "files": [
                {
                    "path": f.path,
                    "kind": f.kind,
                    "valid": f.ok,
                    "errors": [p.to_dict() for p in f.problems if p.is_error],
                    "warnings": [p.to_dict() for p in f.problems if not p.is_error],
                }
                for f in result.files
            ],
        }
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if fmt is ValidateFormat.github:
        return "".join(github_annotation(p) + "\n" for f in result.files for p in f.problems
                       if not (quiet and not p.is_error))
    if fmt is not ValidateFormat.text:
        assert_never(fmt)
    lines = []
    for f in result.files:
        for p in f.problems:
            if quiet and not p.is_error:
                continue
            lines.append(p.format())
        errors = len(errors_only(f.problems))
        warnings = len(f.problems) - errors
        status = "ok" if f.ok else f"{errors} error{'s' if errors != 1 else ''}"
        if warnings:
            status += f", {warnings} warning{'s' if warnings != 1 else ''}"
        lines.append(f"{f.path}: {status}")
    return "\n".join(lines) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(problem: Problem) -> str:
    """``::error file=F,line=L,col=C,title=…::message`` (GitHub workflow command syntax)."""
    props = []
    if problem.file:
        props.append(f"file={_escape_property(problem.file)}")
    if problem.line is not None:
        props.append(f"line={problem.line}")
    if problem.column is not None:
        props.append(f"col={problem.column}")
    props.append(f"title={_escape_property('wuxing ' + problem.tag)}")
    message = problem.describe()
    return f"::{problem.severity} {','.join(props)}::{_escape_data(message)}"
