"""Incentives (奖补): money tied to stars, exact to the fen (see docs/incentives.md).

Arithmetic: every amount is a :class:`~decimal.Decimal` of whole fen in the rules file; a rule's amount
for a branch is computed exactly (fractions, e.g. a monthly amount over a quarter) and rounded once to
the fen, half up (四舍五入). Rule caps, then the per-branch cap, then the budget apply in that order.
When the branches' total exceeds the budget, each branch gets ``due × budget / total`` rounded down to
the fen, and the fen left over go one each to the largest remainders (ties: smaller branch id first),
so the payments add up to the budget exactly. Totals are sums of the rows, never computed separately.
"""

from __future__ import annotations

import difflib
import math
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from .errors import DataError, Problem, ProblemCode, UsageError, WuxingError
from .io.criteria_loader import display_path, pydantic_problems
from .io.table import read_raw
from .io.yamlsrc import Located, Path_, safe_parse_yaml
from .models.contract import BRANCH_TYPE_ALIASES, LINE, RESERVED_HEADERS, header_key
from .models.criteria import DEFAULT_LEVELS, Criteria
from .models.incentives import IncentiveRule, IncentiveRules, Per, RuleType
from .models.periods import Period, PeriodKind, find_period_in, try_parse_period
from .models.results import ScoreRun

FEN = Decimal("0.01")
MONEY = pl.Decimal(38, 2)


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
    from .io.yamlsrc import MAX_BYTES

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


def level_of(key: int | str, labels: dict[int, str] | None = None) -> int | None:
    """A level written as 5, "5", "5星", "五星" (or a criteria's own label); None when it is none."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key >= 0 else None
    text = header_key(str(key))
    if text.isdigit():
        return int(text)
    if text.endswith("星") and text[:-1].isdigit():
        return int(text[:-1])
    for source in (labels or {}, DEFAULT_LEVELS):
        for level, name in source.items():
            if header_key(name) == text:
                return level
    return None


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
            wanted_period = header_key(run.period)
            column = raw.column_name(period_index)
            frame = frame.filter(pl.col(column).is_null()
                                 | (pl.col(column).map_elements(header_key, return_dtype=pl.String) == wanted_period))
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


# --------------------------------------------------------------------------------------------------
# arithmetic


def to_fen(value: Fraction) -> int:
    """Round an exact non-negative amount in 元 to whole fen, half up (四舍五入)."""
    return math.floor(value * 100 + Fraction(1, 2))


def money(fen: int) -> Decimal:
    """Whole fen as a Decimal in 元 with two places (1234 → Decimal('12.34'))."""
    return (Decimal(fen) / 100).quantize(FEN)


def scale_to_budget(due: Sequence[int], keys: Sequence[str], budget: int) -> list[int]:
    """Scale ``due`` (fen) down to add up to ``budget`` exactly: floor of the pro-rata share, then one
    fen each to the largest remainders (ties: smaller key first). Unchanged when the total fits.

    Exact integer arithmetic: share = d × budget / total; floor and remainder by ``divmod``.
    """
    total = sum(due)
    if total <= budget:
        return list(due)
    parts = [divmod(d * budget, total) for d in due]
    floors = [q for q, _ in parts]
    left = budget - sum(floors)
    order = sorted(range(len(due)), key=lambda i: (-parts[i][1], keys[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors


def money_series(name: str, fen: Sequence[int]) -> pl.Series:
    """Whole fen as a Decimal(38, 2) column in 元 (exact: fen / 100 has two decimals)."""
    values = pl.Series(name, fen, dtype=pl.Int64).cast(MONEY)
    return pl.select(pl.lit(values) / pl.lit(100).cast(MONEY)).to_series().cast(MONEY).alias(name)


# --------------------------------------------------------------------------------------------------
# computing


@dataclass(frozen=True)
class RuleInfo:
    rule: IncentiveRule
    factor: Fraction
    star_amounts: dict[str, int]  # per_star: star id -> fen (per star held)
    level_amounts: dict[int, int]  # per_level: level -> fen
    criteria_ids: frozenset[str]  # criteria whose branches the rule applies to


@dataclass(frozen=True)
class IncentiveResult:
    """The allocation: per branch (``branches``), per group (``groups``) and totals; money in Decimal 元."""

    rule_set: RuleSet
    period: str | None
    period_kind: PeriodKind | None
    rules: list[RuleInfo]
    branches: pl.DataFrame
    groups: pl.DataFrame | None
    by: str | None
    totals: dict[str, Decimal]
    total_due: Decimal
    total_payable: Decimal
    budget: Decimal | None
    scaled: bool
    scale: Fraction | None
    warnings: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.rule_set.rules.name


def _type_names(crit: Criteria) -> set[str]:
    names = {crit.id, crit.branch_type, *crit.branch_type_aliases}
    for canonical, aliases in BRANCH_TYPE_ALIASES.items():
        if header_key(crit.branch_type) in {header_key(a) for a in (canonical, *aliases)}:
            names.update((canonical, *aliases))
    return {header_key(n) for n in names}


def _star_lookup(criteria: Sequence[Criteria]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for crit in criteria:
        for star in crit.stars:
            lookup.setdefault(header_key(star.id), star.id)
            lookup.setdefault(header_key(star.name), star.id)
    return lookup


def _star_names(criteria: Sequence[Criteria]) -> dict[str, str]:
    """Star name → id, in criteria order."""
    names: dict[str, str] = {}
    for crit in criteria:
        for star in crit.stars:
            names.setdefault(star.name, star.id)
    return names


def _period_of(run: ScoreRun) -> Period | None:
    if run.period is not None:
        found = try_parse_period(run.period)
        if found is not None:
            return found
    return find_period_in(Path(run.data.path).stem)


def _prepare(rs: RuleSet, run: ScoreRun) -> tuple[list[RuleInfo], Period | None, list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []
    period = _period_of(run)
    stars = _star_lookup(run.criteria)
    max_level = max((len(c.stars) for c in run.criteria), default=5)
    infos = []
    for index, rule in enumerate(rs.rules.rules):
        factor = Fraction(1)
        if rule.per is not Per.period:
            if period is None:
                errors.append(rs.problem(
                    f"rule '{rule.id}' states its amounts per {rule.per.value}, but the period of the data is "
                    "unknown", "rules", index, "per",
                    hint="add a 期间 column, pick one with --period, name the file after its period, "
                         "or write per: period"))
            else:
                factor = period.share_of(PeriodKind(rule.per.value))
        star_amounts: dict[str, int] = {}
        level_amounts: dict[int, int] = {}
        if rule.type is RuleType.per_star:
            default = to_fen(Fraction(rule.amount)) if rule.amount is not None else 0
            star_amounts = {sid: default for sid in dict.fromkeys(stars.values())}
            for key, value in (rule.amounts or {}).items():
                sid = stars.get(header_key(str(key)))
                if sid is None:
                    names = _star_names(run.criteria)
                    close = difflib.get_close_matches(str(key), list(names), n=1)
                    errors.append(rs.problem(
                        f"'{key}' is not a star of the criteria", "rules", index, "amounts", key, key=True,
                        code=ProblemCode.INCENTIVES_STAR,
                        hint=f"did you mean '{close[0]}'?" if close else
                        "use a star id or name: " + ", ".join(f"{i} ({n})" for n, i in list(names.items())[:10])))
                    continue
                star_amounts[sid] = to_fen(Fraction(value))
        if rule.type is RuleType.per_level:
            for key, value in (rule.amounts or {}).items():
                level = level_of(key, run.criteria[0].levels if run.criteria else None)
                if level is None:
                    continue
                if level > max_level:
                    warnings.append(rs.problem(f"level {level} is above the most stars a branch can hold "
                                               f"({max_level}); it never pays", "rules", index, "amounts", key,
                                               key=True, severity="warning", code=ProblemCode.INCENTIVES_LEVEL))
                level_amounts[level] = to_fen(Fraction(value))
        applies = {c.id for c in run.criteria}
        if rule.branch_types:
            applies = set()
            for k, name in enumerate(rule.branch_types):
                matched = {c.id for c in run.criteria if header_key(name) in _type_names(c)}
                if not matched:
                    errors.append(rs.problem(
                        f"branch type '{name}' matches none of the criteria in use "
                        f"({', '.join(c.branch_type for c in run.criteria)})", "rules", index, "branch_types", k,
                        code=ProblemCode.INCENTIVES_TYPE))
                applies |= matched
        infos.append(RuleInfo(rule, factor, star_amounts, level_amounts, frozenset(applies)))
    return infos, period, errors, warnings


def compute_incentives(rs: RuleSet, run: ScoreRun, counts: Counts, *, by: str | None = None) -> IncentiveResult:
    """Every branch's incentives for the run's period, per rule, capped and scaled to the budget."""
    infos, period, errors, warnings = _prepare(rs, run)
    if errors:
        raise IncentivesError(errors)
    frame = run.frame.sort("branch_id")
    star_ids = list(dict.fromkeys(s.id for c in run.criteria for s in c.stars))
    awarded = {s: frame.get_column(f"{s}:awarded").fill_null(False).to_list()
               for s in star_ids if f"{s}:awarded" in frame.columns}
    ids = [str(v) for v in frame.get_column("branch_id").to_list()]
    stars_of = [int(v or 0) for v in frame.get_column("stars").to_list()]
    crit_of = frame.get_column("criteria_id").to_list()
    n = frame.height
    per_rule: dict[str, list[int]] = {}
    people_cols: dict[str, list[int | None]] = {}
    for index, info in enumerate(infos):
        rule = info.rule
        amounts = [0] * n
        people_used: list[int | None] = [None] * n
        column = counts.values.get(rule.people.strip()) if rule.people else None
        unit = to_fen(Fraction(rule.amount)) if rule.amount is not None else 0
        cap = to_fen(Fraction(rule.cap)) if rule.cap is not None else None
        num, den = info.factor.numerator, info.factor.denominator
        person = rule.type in (RuleType.per_person_star, RuleType.per_person)
        missing = 0
        for i in range(n):
            stars = stars_of[i]
            if crit_of[i] not in info.criteria_ids or (rule.min_stars is not None and stars < rule.min_stars):
                continue
            if person:
                count = column.get(ids[i]) if column is not None else None
                people_used[i] = count
                if count is None:
                    if rule.type is RuleType.per_person or stars > 0:
                        missing += 1
                    continue
                base = unit * count * (stars if rule.type is RuleType.per_person_star else 1)
            elif rule.type is RuleType.per_level:
                base = info.level_amounts.get(stars, 0)
            else:
                # a branch whose stars a cap cut is paid for as many stars as it holds, the cheapest first
                held = sorted(info.star_amounts.get(s, 0) for s, flags in awarded.items() if flags[i])
                base = sum(held[:stars])
            fen = (2 * base * num + den) // (2 * den)  # base × factor, to the fen, half up (exact integers)
            amounts[i] = min(fen, cap) if cap is not None else fen
        per_rule[rule.id] = amounts
        if person:
            people_cols[rule.id] = people_used
        if missing:
            warnings.append(rs.problem(
                f"{missing} eligible branch(es) have no count in '{rule.people}'; rule '{rule.id}' pays them "
                "nothing", "rules", index, "people", severity="warning", code=ProblemCode.MISSING_COUNT,
                hint="fill in the counts (0 where there are none)"))
    subtotal = [sum(per_rule[info.rule.id][i] for info in infos) for i in range(n)]
    branch_cap = to_fen(Fraction(rs.rules.branch_cap)) if rs.rules.branch_cap is not None else None
    cap_cut = [max(0, s - branch_cap) if branch_cap is not None else 0 for s in subtotal]
    due = [s - c for s, c in zip(subtotal, cap_cut, strict=True)]
    budget = to_fen(Fraction(rs.rules.budget)) if rs.rules.budget is not None else None
    payable = scale_to_budget(due, ids, budget) if budget is not None else list(due)
    total_due = sum(due)
    scaled = budget is not None and total_due > budget
    fen_columns: dict[str, list[int]] = {info.rule.id: per_rule[info.rule.id] for info in infos}
    fen_columns.update(subtotal=subtotal, cap_cut=cap_cut, due=due, payable=payable)
    people_series = [pl.Series(f"{rid}_people", values, dtype=pl.Int64) for rid, values in people_cols.items()]
    branches = frame.select("branch_id", "branch_name", "county", "township", "branch_type", "stars", "level").with_columns(
        *people_series, *(money_series(name, values) for name, values in fen_columns.items()))
    order = ["branch_id", "branch_name", "county", "township", "branch_type", "stars", "level"]
    for info in infos:
        if info.rule.id in people_cols:
            order.append(f"{info.rule.id}_people")
        order.append(info.rule.id)
    branches = branches.select(*order, "subtotal", "cap_cut", "due", "payable")
    money_cols = [info.rule.id for info in infos] + ["subtotal", "cap_cut", "due", "payable"]
    totals = {c: money(sum(values)) for c, values in fen_columns.items()}
    groups = _groups(branches, by, money_cols, [f"{i.rule.id}_people" for i in infos
                                                if i.rule.id in people_cols]) if by else None
    return IncentiveResult(
        rule_set=rs, period=str(period) if period is not None else run.period,
        period_kind=period.kind if period is not None else None, rules=infos, branches=branches, groups=groups,
        by=by, totals=totals, total_due=money(total_due), total_payable=money(sum(payable)),
        budget=money(budget) if budget is not None else None, scaled=scaled,
        scale=Fraction(budget, total_due) if scaled and budget is not None else None, warnings=warnings)


def _groups(branches: pl.DataFrame, by: str, money_cols: Sequence[str], people_cols: Sequence[str]) -> pl.DataFrame:
    """Per group: branches, branches paid, persons counted, and each money column summed exactly."""
    keyed = branches.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("group"))
    out = (
        keyed.group_by("group")
        .agg(
            pl.len().cast(pl.Int64).alias("branches"),
            (pl.col("payable") > 0).sum().cast(pl.Int64).alias("paid_branches"),
            *(pl.col(c).sum().cast(pl.Int64).alias(c) for c in people_cols),
            *(pl.col(c).sum().cast(MONEY).alias(c) for c in money_cols),
        )
        .sort(["payable", "group"], descending=[True, False])
    )
    return out


__all__ = [
    "Counts",
    "IncentiveResult",
    "IncentivesError",
    "RuleSet",
    "check_rules_text",
    "compute_incentives",
    "load_people",
    "load_rules",
    "money",
    "scale_to_budget",
    "to_fen",
]
