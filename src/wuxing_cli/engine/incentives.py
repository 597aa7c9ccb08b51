"""Incentives (奖补): money tied to stars, exact to the fen (see docs/incentives.md).

Arithmetic: every amount is a :class:`~decimal.Decimal` of whole fen in the rules file; a rule's amount
for a branch is computed exactly (fractions, e.g. a monthly amount over a quarter) and rounded once to
the fen, half up (四舍五入). Rule caps, then the per-branch cap, then the budget apply in that order.
When the branches' total exceeds the budget, each branch gets ``due × budget / total`` rounded down to
the fen, and the fen left over go one each to the largest remainders (ties: smaller branch id first),
so the payments add up to the budget exactly. Totals are sums of the rows, never computed separately.

Pure: the rules model, the criteria, the scored frame and the person counts in; a
:class:`IncentiveResult` and :class:`RuleIssue` records (what is wrong, where in the rules file) out.
Turning issues into located, worded problems is :mod:`wuxing_cli.pipeline.incentives`' job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import polars as pl

from ..errors import Problem, ProblemCode
from ..models.contract import BRANCH_TYPE_ALIASES, header_key
from ..models.criteria import Criteria
from ..models.incentives import IncentiveRule, IncentiveRules, Per, RuleType, level_of
from ..models.periods import Period, PeriodKind

FEN = Decimal("0.01")
MONEY = pl.Decimal(38, 2)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class RuleIssue:
    """Something in the rules that does not fit the data: a code, where in the rules file, and the facts.

    ``loc`` is the key path in the rules file (``("rules", 0, "per")``); ``key`` points at the key rather
    than its value. ``params`` carries what a message needs (ids, names, counts), never the message.
    """

    code: ProblemCode
    loc: Loc
    params: Mapping[str, object] = field(default_factory=dict)
    key: bool = False
    warning: bool = False


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
# resolving the rules against the criteria and the period


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

    scheme: IncentiveRules
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
    warnings: list[Problem] = field(default_factory=list)  # located by the pipeline, empty from the engine

    @property
    def name(self) -> str:
        return self.scheme.name


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


def star_names(criteria: Sequence[Criteria]) -> dict[str, str]:
    """Star name → id, in criteria order."""
    names: dict[str, str] = {}
    for crit in criteria:
        for star in crit.stars:
            names.setdefault(star.name, star.id)
    return names


def prepare_rules(rules: IncentiveRules, criteria: Sequence[Criteria], period: Period | None
                  ) -> tuple[list[RuleInfo], list[RuleIssue]]:
    """Each rule's factor for the period, its amounts in fen and the criteria it applies to.

    Issues: ``INCENTIVES`` (an amount per month/quarter/… but no known period), ``INCENTIVES_STAR``
    (an amounts key that is no star), ``INCENTIVES_LEVEL`` (warning: a level above the most stars),
    ``INCENTIVES_TYPE`` (a branch type none of the criteria has).
    """
    issues: list[RuleIssue] = []
    stars = _star_lookup(criteria)
    max_level = max((len(c.stars) for c in criteria), default=5)
    infos = []
    for index, rule in enumerate(rules.rules):
        factor = Fraction(1)
        if rule.per is not Per.period:
            if period is None:
                issues.append(RuleIssue(ProblemCode.INCENTIVES, ("rules", index, "per"),
                                        {"rule": rule.id, "per": rule.per.value}))
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
                    issues.append(RuleIssue(ProblemCode.INCENTIVES_STAR, ("rules", index, "amounts", key),
                                            {"name": str(key), "stars": star_names(criteria)}, key=True))
                    continue
                star_amounts[sid] = to_fen(Fraction(value))
        if rule.type is RuleType.per_level:
            for key, value in (rule.amounts or {}).items():
                level = level_of(key, criteria[0].levels if criteria else None)
                if level is None:
                    continue
                if level > max_level:
                    issues.append(RuleIssue(ProblemCode.INCENTIVES_LEVEL, ("rules", index, "amounts", key),
                                            {"level": level, "max": max_level}, key=True, warning=True))
                level_amounts[level] = to_fen(Fraction(value))
        applies = {c.id for c in criteria}
        if rule.branch_types:
            applies = set()
            for k, name in enumerate(rule.branch_types):
                matched = {c.id for c in criteria if header_key(name) in _type_names(c)}
                if not matched:
                    issues.append(RuleIssue(ProblemCode.INCENTIVES_TYPE, ("rules", index, "branch_types", k),
                                            {"name": name, "types": [c.branch_type for c in criteria]}))
                applies |= matched
        infos.append(RuleInfo(rule, factor, star_amounts, level_amounts, frozenset(applies)))
    return infos, issues


# --------------------------------------------------------------------------------------------------
# computing


def allocate(rules: IncentiveRules, infos: Sequence[RuleInfo], frame: pl.DataFrame,
             criteria: Sequence[Criteria], counts: Mapping[str, Mapping[str, int | None]], *,
             period: str | None, period_kind: PeriodKind | None, by: str | None = None
             ) -> tuple[IncentiveResult, list[RuleIssue]]:
    """Every branch's incentives for the period, per rule, capped and scaled to the budget.

    ``frame`` is a scored frame; ``counts`` maps a person-count header (as written in the rules) to the
    count per branch id. Issues: ``MISSING_COUNT`` warnings (eligible branches without a count).
    """
    issues: list[RuleIssue] = []
    frame = frame.sort("branch_id")
    star_ids = list(dict.fromkeys(s.id for c in criteria for s in c.stars))
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
        column = counts.get(rule.people.strip()) if rule.people else None
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
            issues.append(RuleIssue(ProblemCode.MISSING_COUNT, ("rules", index, "people"),
                                    {"missing": missing, "people": rule.people, "rule": rule.id}, warning=True))
    subtotal = [sum(per_rule[info.rule.id][i] for info in infos) for i in range(n)]
    branch_cap = to_fen(Fraction(rules.branch_cap)) if rules.branch_cap is not None else None
    cap_cut = [max(0, s - branch_cap) if branch_cap is not None else 0 for s in subtotal]
    due = [s - c for s, c in zip(subtotal, cap_cut, strict=True)]
    budget = to_fen(Fraction(rules.budget)) if rules.budget is not None else None
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
    groups = group_totals(branches, by, money_cols, [f"{i.rule.id}_people" for i in infos
                                                     if i.rule.id in people_cols]) if by else None
    result = IncentiveResult(
        scheme=rules, period=period, period_kind=period_kind, rules=list(infos), branches=branches,
        groups=groups, by=by, totals=totals, total_due=money(total_due), total_payable=money(sum(payable)),
        budget=money(budget) if budget is not None else None, scaled=scaled,
        scale=Fraction(budget, total_due) if scaled and budget is not None else None)
    return result, issues


def group_totals(branches: pl.DataFrame, by: str, money_cols: Sequence[str], people_cols: Sequence[str]
                 ) -> pl.DataFrame:
    """Per group: branches, branches paid, persons counted, and each money column summed exactly."""
    keyed = branches.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("group"))
    return (
        keyed.group_by("group")
        .agg(
            pl.len().cast(pl.Int64).alias("branches"),
            (pl.col("payable") > 0).sum().cast(pl.Int64).alias("paid_branches"),
            *(pl.col(c).sum().cast(pl.Int64).alias(c) for c in people_cols),
            *(pl.col(c).sum().cast(MONEY).alias(c) for c in money_cols),
        )
        .sort(["payable", "group"], descending=[True, False])
    )


def column_total(frame: pl.DataFrame, column: str) -> int:
    """The sum of a whole-number column (the groups' total row)."""
    return int(frame.get_column(column).sum())
