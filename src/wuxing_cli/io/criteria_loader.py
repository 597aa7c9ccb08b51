"""Load criteria files: YAML with positions → pydantic models → cross-checks, every problem in one pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import ValidationError

from ..errors import CriteriaError, Problem, ProblemCode, UsageError, errors_only
from ..models.criteria import Criteria, Star
from .criteria_checks import CriteriaChecker
from .resources import BUILTIN_CRITERIA, builtin_criteria_path
from .resources import MAX_CRITERIA_BYTES as MAX_BYTES
from .schema_problems import pydantic_problems


@dataclass(frozen=True)
class LoadedCriteria:
    """A criteria file's model (None when invalid) and every problem found in it."""

    path: str
    criteria: Criteria | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return self.criteria is not None and not errors_only(self.problems)


def resolve_criteria_path(name: str) -> Path:
    """A path, or a built-in name (``rural``, ``community``)."""
    path = Path(name)
    if path.exists():
        return path
    builtin = builtin_criteria_path(name)
    if builtin is not None and builtin.exists():
        return builtin
    choices = ", ".join(sorted(BUILTIN_CRITERIA))
    raise UsageError(
        [Problem(f"no such criteria file or built-in name: '{name}'", code=ProblemCode.CRITERIA_NOT_FOUND,
                 hint=f"give a path to a .yaml file or one of: {choices}")]
    )


def display_path(path: Path) -> str:
    """The path as the user should see it (relative to the current folder when inside it)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_criteria(name: str) -> LoadedCriteria:
    """Read and check one criteria file; never raises for problems inside the file."""
    path = resolve_criteria_path(name)
    # a built-in name is shown as given ("rural"), a file as a path relative to the working folder
    shown = display_path(path) if Path(name).exists() else name
    too_large = [Problem(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; a criteria file is a few KB",
                         file=shown, code=ProblemCode.YAML_TOO_LARGE)]
    try:
        raw = _bounded_bytes(path)
        if raw is None:
            return LoadedCriteria(shown, None, too_large)
    except OSError as exc:
        return LoadedCriteria(shown, None, [Problem(f"cannot read the file: {exc.strerror or exc}", file=shown,
                                                    code=ProblemCode.IO)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)  # utf-8-sig counts after the BOM
        line = raw[:start].count(b"\n") + 1
        return LoadedCriteria(shown, None, [
            Problem(f"the file is not UTF-8 (byte {start}, 0x{raw[start]:02x})", file=shown, line=line,
                    code=ProblemCode.ENCODING, hint="save criteria files as UTF-8 (GBK is not accepted for criteria)")])
    return check_criteria_text(text, shown)


def _bounded_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when it is larger than MAX_BYTES (raises OSError)."""
    if path.stat().st_size > MAX_BYTES:
        return None
    with path.open("rb") as handle:  # at most MAX_BYTES + 1: a pipe or device has no size to check first
        raw = handle.read(MAX_BYTES + 1)
    return None if len(raw) > MAX_BYTES else raw


def load_criteria(name: str) -> Criteria:
    """Load a valid criteria file or raise :class:`CriteriaError` listing every problem."""
    loaded = read_criteria(name)
    if not loaded.ok or loaded.criteria is None:
        raise CriteriaError(errors_only(loaded.problems) or loaded.problems)
    return loaded.criteria


def load_criteria_set(names: Sequence[str]) -> list[Criteria]:
    """Load several criteria files, reporting all problems of all files at once."""
    loaded = [read_criteria(n) for n in names]
    problems = [p for item in loaded for p in errors_only(item.problems)]
    problems += [
        Problem("criteria file could not be read", file=item.path)
        for item in loaded
        if item.criteria is None and not errors_only(item.problems)
    ]
    if problems:
        raise CriteriaError(problems)
    result = [item.criteria for item in loaded if item.criteria is not None]
    problems = _check_set(result, [item.path for item in loaded])
    if problems:
        raise CriteriaError(problems)
    return result


def _check_set(criteria: list[Criteria], paths: list[str]) -> list[Problem]:
    """Two criteria may not claim the same branch type (the data loader owns the spellings)."""
    from ..errors import DataError
    from ..models.contract import branch_type_claims

    try:
        branch_type_claims(criteria)
    except DataError as exc:
        return [replace(p, file=", ".join(dict.fromkeys(paths))) for p in exc.problems]
    return []


# --------------------------------------------------------------------------------------------------
# checking


def check_criteria_text(text: str, file: str) -> LoadedCriteria:
    """Parse, validate and cross-check criteria text; the result lists every problem with positions."""
    from .yamlsrc import safe_parse_yaml

    located, problems = safe_parse_yaml(text, file)
    if located is None:
        return LoadedCriteria(file, None, problems)
    if any(p.code is ProblemCode.YAML_TAG for p in problems):
        return LoadedCriteria(file, None, problems)  # a tagged value is left out: its key would be reported too
    if not isinstance(located.data, dict):
        problems.append(Problem("a criteria file must be a mapping of keys (schema_version, id, …)",
                                file=file, line=1, column=1, code=ProblemCode.SCHEMA))
        return LoadedCriteria(file, None, problems)
    from .yaml_implicit import implicit_value_problems

    problems.extend(implicit_value_problems(located, file))
    try:
        model = Criteria.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, located, file))
        return LoadedCriteria(file, None, problems)
    checker = CriteriaChecker(model, located, file)
    checker.run()
    problems.extend(checker.problems)
    return LoadedCriteria(file, model, problems)


def star_by_id(criteria: Criteria, star_id: str) -> Star:
    return criteria.star(star_id)
