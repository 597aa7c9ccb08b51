"""Render the findings of ``wuxing validate`` as text, JSON or GitHub workflow annotations."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

from ..errors import Problem, errors_only

if TYPE_CHECKING:
    from ..pipeline.validate import ValidationResult


class ValidateFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


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
