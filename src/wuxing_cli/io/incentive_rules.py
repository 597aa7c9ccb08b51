"""Reading an incentives (奖补) rules file and the person counts its rules need.

The rules file is parsed and checked with file:line:col on every problem (:func:`load_rules`); person
counts come from the data itself or from ``--people`` files, matched by branch id (:func:`load_people`).
The money arithmetic is in :mod:`wuxing_cli.engine.incentives`; see docs/incentives.md for the format.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from ..errors import DataError, Problem, ProblemCode, UsageError, WuxingError
from ..models.contract import LINE, RESERVED_HEADERS, header_key
from ..models.incentives import IncentiveRules, RuleType, level_of
from ..models.results import ScoreRun
from .criteria_loader import display_path
from .period_select import canonical_periods, period_key
from .reader import read_raw
from .schema_problems import pydantic_problems
from .yamlsrc import MAX_BYTES, Located, Path_, safe_parse_yaml


class IncentivesError(WuxingError):
    """An incentives rules file is invalid (exit 1)."""


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file with the positions of its keys (for errors found against the data)."""

    rules: IncentiveRules
    file: str
    located: Located

    def where(self, *loc: str | int, key: bool = False) -> tuple[int | None, int | None]:
        found = self.located.locate(tuple(loc), key=key)
        return found if found is not None else (None, None)

    def problem(self, message: str, *loc: str | int, key: bool = False, hint: str | None = None,
                severity: str = "error", code: ProblemCode = ProblemCode.INCENTIVES) -> Problem:
        line, column = self.where(*loc, key=key)
        return Problem(message, file=self.file, line=line, column=column, hint=hint, code=code,
                       key=_loc_text(loc) or None, severity="warning" if severity == "warning" else "error")


def _loc_text(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --------------------------------------------------------------------------------------------------
# loading and checking the rules file


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _valid_keys(parent: Path_, located: Located) -> list[str]:
    """Keys accepted under ``parent`` in an incentives file (for "did you mean" hints)."""
    model: type[BaseModel] | None = IncentiveRules
    for part in parent:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part)) if model is not None else None
        model = _model_in(info.annotation) if info is not None else None
        if model is None:
            return []
    return sorted(model.model_fields) if model is not None else []


def check_rules_text(text: str, file: str) -> tuple[RuleSet | None, list[Problem]]:
    """Parse and check an incentives file; every problem with file:line:col."""
    located, problems = safe_parse_yaml(text, file)
    if located is None:
        return None, problems
    if not isinstance(located.data, dict):
        problems.append(Problem("an incentives file must be a mapping of keys (schema_version, id, rules, …)",
                                file=file, line=1, column=1, code=ProblemCode.SCHEMA))
        return None, problems
    try:
        model = IncentiveRules.model_validate(located.data)
    except ValidationError as exc:
        problems.extend(pydantic_problems(exc, located, file, valid_keys=_valid_keys))
        return None, problems
    rule_set = RuleSet(model, file, located)
    problems.extend(_check(rule_set))
    return (rule_set if not any(p.is_error for p in problems) else None), problems


def load_rules(path: Path) -> RuleSet:
    """Read an incentives file or raise :class:`IncentivesError` listing every problem."""
    shown = display_path(path)
    try:
        with path.open("rb") as handle:  # bounded: a pipe or device has no size to check first
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError([Problem(f"cannot read the rules file: {exc.strerror or exc}", file=shown,
                                  code=ProblemCode.IO)]) from None
    if len(raw) > MAX_BYTES:
        raise IncentivesError([Problem(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; a rules file "
                                       "is a few KB", file=shown, code=ProblemCode.YAML_TOO_LARGE)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IncentivesError([Problem(f"the file is not UTF-8 (byte {exc.start})", file=shown, code=ProblemCode.ENCODING,
                                       hint="save the rules file as UTF-8")]) from None
    rule_set, problems = check_rules_text(text, shown)
    if rule_set is None:
        raise IncentivesError([p for p in problems if p.is_error] or problems)
    return rule_set


_NEEDS: dict[RuleType, tuple[set[str], set[str]]] = {
    # type: (keys required (any one of the set, when it holds several), keys not allowed)
    RuleType.per_person_star: ({"amount"}, {"amounts"}),
    RuleType.per_person: ({"amount"}, {"amounts"}),
    RuleType.per_level: ({"amounts"}, {"amount", "people"}),
    RuleType.per_star: ({"amount", "amounts"}, {"people"}),
}


def _check(rs: RuleSet) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, rule in enumerate(rs.rules.rules):
        if rule.id in seen:
            problems.append(rs.problem(f"rule id '{rule.id}' repeats (first at rules[{seen[rule.id]}])",
                                       "rules", index, "id", code=ProblemCode.DUPLICATE_ID))
        seen.setdefault(rule.id, index)
        given = {k for k in ("amount", "amounts", "people") if getattr(rule, k) is not None}
        required, forbidden = _NEEDS[rule.type]
        if not required & given:
            names = " or ".join(f"'{k}'" for k in sorted(required))
            problems.append(rs.problem(f"a {rule.type.value} rule needs {names}", "rules", index,
                                       code=ProblemCode.INCENTIVES_MISSING))
        for name in sorted(forbidden & given):
            problems.append(rs.problem(f"'{name}' does not apply to a {rule.type.value} rule", "rules", index, name,
                                       key=True, code=ProblemCode.INCENTIVES_KEY,
                                       hint=_type_hint(rule.type)))
        person = rule.type in (RuleType.per_person_star, RuleType.per_person)
        if person and not (rule.people or "").strip():
            problems.append(rs.problem(f"a {rule.type.value} rule needs 'people': the header of the column that "
                                       "holds the number of eligible persons", "rules", index,
                                       code=ProblemCode.INCENTIVES_MISSING))
        if rule.type is RuleType.per_level and rule.amounts:
            for key in rule.amounts:
                if level_of(key) is None:
                    problems.append(rs.problem(f"'{key}' is not a level; write 0–5 or 一星…五星",
                                               "rules", index, "amounts", key, key=True, code=ProblemCode.INCENTIVES_LEVEL))
    for key in ("branch_cap", "budget"):
        value = getattr(rs.rules, key)
        if value is not None and value <= 0:
            problems.append(rs.problem(f"'{key}' must be more than 0", key, code=ProblemCode.INCENTIVES_AMOUNT))
    return problems


def _type_hint(kind: RuleType) -> str:
    return {
        RuleType.per_person_star: "per_person_star pays amount × people × stars held",
        RuleType.per_person: "per_person pays amount × people",
        RuleType.per_level: "per_level pays amounts[level], e.g. amounts: {3: 600, 4: 900, 5: 1500}",
        RuleType.per_star: "per_star pays amount (or amounts[star]) for each star held",
    }[kind]


# --------------------------------------------------------------------------------------------------
# person counts


@dataclass(frozen=True)
class Counts:
    """Person counts by column header (as written in the rules) and branch id; None for an empty cell."""

    values: dict[str, dict[str, int | None]]
    found_in: dict[str, str]  # header -> file it was read from


def _parse_count(text: str) -> int | None:
    cleaned = text.replace(",", "").replace("，", "").strip()
    if cleaned.endswith("人"):
        cleaned = cleaned[:-1]
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        return None
    if not value.is_finite() or value < 0 or value != value.to_integral_value():
        return None
    return int(value)


def _column_index(headers: Sequence[str], wanted: Sequence[str]) -> int | None:
    keys = [header_key(w) for w in wanted]
    for key in keys:
        for index, header in enumerate(headers):
            if header_key(header) == key:
                return index
    return None


def load_people(rs: RuleSet, data: Path, run: ScoreRun, people: Sequence[Path], *, encoding: str | None = None,
                sheet: str | None = None) -> tuple[Counts, list[Problem]]:
    """The person counts the rules need: from DATA itself, else from the ``--people`` files (by branch id).

    Raises DataError listing every bad count cell (not a whole number ≥ 0) or duplicate branch id, and
    IncentivesError when a column is found nowhere.
    """
    wanted: dict[str, list[int]] = {}
    for index, rule in enumerate(rs.rules.rules):
        if rule.people:
            wanted.setdefault(rule.people.strip(), []).append(index)
    if not wanted:
        return Counts({}, {}), []
    values: dict[str, dict[str, int | None]] = {}
    found_in: dict[str, str] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for source in [data, *people]:
        todo = [h for h in wanted if h not in values]
        if not todo:
            break
        raw = read_raw(source, encoding=encoding, sheet=sheet)
        indexes: dict[str, int] = {}
        for header in todo:
            found = _column_index(raw.headers, [header])
            if found is not None:
                indexes[header] = found
        if not indexes:
            continue
        id_index = _column_index(raw.headers, RESERVED_HEADERS["branch_id"])
        if id_index is None:
            errors.append(Problem("the file has no branch id column (支部编码) to match the counts by",
                                  file=raw.path, line=raw.header_line, code=ProblemCode.MISSING_COLUMN))
            continue
        frame = raw.frame
        period_index = _column_index(raw.headers, RESERVED_HEADERS["period"])
        if period_index is not None and run.period is not None:
            # one period however it is spelled (2025年3月 = 2025-03), as the data's period column
            wanted_period = period_key(run.period)
            period_cells = pl.col(raw.column_name(period_index)).cast(pl.String)
            spelled = canonical_periods(frame.select(period_cells).to_series())
            frame = frame.filter(period_cells.is_null()
                                 | (period_cells.replace_strict(spelled, default=None, return_dtype=pl.String)
                                    == wanted_period))
        ids = frame.get_column(raw.column_name(id_index)).to_list()
        lines = frame.get_column(LINE).to_list()
        first_line: dict[str, int] = {}
        for branch, line in zip(ids, lines, strict=True):
            if branch is None:
                continue
            if branch in first_line:
                errors.append(Problem(f"branch id '{branch}' appears twice (first on line {first_line[branch]})",
                                      file=raw.path, line=line, header=raw.headers[id_index], value=branch,
                                      code=ProblemCode.DUPLICATE_ID))
            else:
                first_line[branch] = line
        for header, col in indexes.items():
            counts: dict[str, int | None] = {}
            cells = frame.get_column(raw.column_name(col)).to_list()
            for branch, line, cell in zip(ids, lines, cells, strict=True):
                if branch is None:
                    continue
                if cell is None:
                    counts[branch] = None
                    continue
                value = _parse_count(cell)
                if value is None:
                    errors.append(Problem("a person count must be a whole number, 0 or more", file=raw.path,
                                          line=line, header=raw.headers[col], value=cell, code=ProblemCode.BAD_COUNT))
                counts[branch] = value
            values[header] = counts
            found_in[header] = raw.path
    if errors:
        raise DataError(errors[:200])
    missing = [h for h in wanted if h not in values]
    if missing:
        problems = []
        for header in missing:
            index = wanted[header][0]
            problems.append(rs.problem(
                f"no column '{header}' in {display_path(data)}" + (" or in the --people files" if people else ""),
                "rules", index, "people", code=ProblemCode.MISSING_COLUMN,
                hint="add the column to the data, or give a file with 支部编码 and this column with --people"))
        raise IncentivesError(problems)
    return Counts(values, found_in), warnings


__all__ = ["Counts", "IncentivesError", "RuleSet", "check_rules_text", "load_people", "load_rules"]
