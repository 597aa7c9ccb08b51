"""Explain one scored branch indicator by indicator, and plan the way to each star it does not hold.

Pure: reads one row of a result frame of :func:`wuxing_cli.engine.score.score` (a mapping from column
name to value) and its :class:`Criteria`; returns plain dataclasses. Nothing prints.

The plan for a star not awarded (SPEC §4, issue 3):

- a fired veto: no plan can award the star until the veto clears (status ``vetoed``; its steps say
  what the star would need once the veto has cleared);
- earned but a star in ``requires`` is not held: win those first (status ``requires``);
- otherwise the smallest set of indicator improvements that reaches the pass mark and brings every
  failed ``required`` indicator to full points: fewest indicators, then the least points to recover,
  ties by indicator order. Each improvement raises an indicator to the best its rule can give (the
  best band or category, else its full points). Status ``plan``, or ``impossible`` when even every
  indicator at its best cannot reach the pass mark. A plan for a star that also needs other stars
  lists them in ``requires``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..expr import names as expr_names
from ..expr import parse as expr_parse
from ..models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    FieldSpec,
    Indicator,
    LinearRule,
    Star,
    ThresholdRule,
)

EPS = 1e-9
EXACT_LIMIT = 20  # candidates up to which the plan search is exhaustive

PlanStatus = Literal["awarded", "plan", "requires", "vetoed", "impossible"]


@dataclass(frozen=True)
class IndicatorResult:
    id: str
    name: str
    field: str
    value: Any
    missing: bool
    points: float
    max_points: float
    best_points: float
    required: bool

    @property
    def lost(self) -> float:
        """Points lost against the indicator's maximum."""
        return _r2(self.max_points - self.points)

    @property
    def recoverable(self) -> float:
        """Points an improvement could still win (up to the best the rule gives)."""
        return _r2(max(self.best_points - self.points, 0.0))

    @property
    def required_failed(self) -> bool:
        return self.required and self.points < self.max_points - EPS


@dataclass(frozen=True)
class Condition:
    """A veto or cap: whether it fired, and the inputs its condition reads (``None`` = missing)."""

    id: str
    name: str
    when: str
    fired: bool
    inputs: dict[str, Any]
    max_stars: int | None = None  # caps only

    @property
    def undecided(self) -> bool:
        """Fired because an input it reads is missing."""
        return self.fired and any(v is None for v in self.inputs.values())


@dataclass(frozen=True)
class Step:
    """Raise one indicator from ``points`` to ``target`` (``recover`` points)."""

    indicator: str
    name: str
    points: float
    target: float
    required: bool

    @property
    def recover(self) -> float:
        return _r2(self.target - self.points)


@dataclass(frozen=True)
class Plan:
    status: PlanStatus
    gap: float  # points still missing to the pass mark (0 when reached)
    steps: tuple[Step, ...] = ()
    requires: tuple[str, ...] = ()  # required stars not yet held
    vetoes: tuple[str, ...] = ()  # fired vetoes
    shortfall: float = 0.0  # with status impossible: points missing even at every indicator's best

    @property
    def recover_total(self) -> float:
        return _r2(sum(s.recover for s in self.steps))


@dataclass(frozen=True)
class StarExplanation:
    id: str
    name: str
    points: float
    max_points: float
    pass_mark: float
    earned: bool
    awarded: bool
    near: bool
    indicators: tuple[IndicatorResult, ...]
    vetoes: tuple[Condition, ...]
    requires: tuple[str, ...]
    requires_unmet: tuple[str, ...]
    plan: Plan

    @property
    def gap(self) -> float:
        return _r2(max(self.pass_mark - self.points, 0.0))

    @property
    def fired_vetoes(self) -> tuple[Condition, ...]:
        return tuple(v for v in self.vetoes if v.fired)

    @property
    def required_failed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators if i.required_failed)


@dataclass(frozen=True)
class BranchExplanation:
    criteria_id: str
    criteria_version: str
    branch: dict[str, Any]  # reserved columns: branch_id, branch_name, county, township, branch_type, period
    rank: int | None
    stars: int
    awarded: int  # stars held before caps
    level: str
    total_points: float
    star_results: tuple[StarExplanation, ...]
    caps: tuple[Condition, ...]
    missing: tuple[str, ...]
    fields: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def fired_caps(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.caps if c.fired)

    def next_star(self) -> StarExplanation | None:
        """The cheapest star to win next: a ``plan`` with no other star needed, fewest steps, least points."""
        options = [s for s in self.star_results if s.plan.status == "plan" and not s.plan.requires]
        if not options:
            return None
        order = {s.id: n for n, s in enumerate(self.star_results)}
        return min(options, key=lambda s: (len(s.plan.steps), s.plan.recover_total, order[s.id]))


def _r2(value: float) -> float:
    """Round half away from zero to 2 decimals (as the engine does)."""
    scaled = abs(value) * 100.0
    whole = int(scaled + 0.5 + EPS)
    result = whole / 100.0
    return -result if value < 0 else result


def best_points(indicator: Indicator) -> float:
    """The most points the indicator's rule can give: the best band or category, else its full points."""
    rule = indicator.rule
    if isinstance(rule, BandsRule):
        return min(max(b.points for b in rule.bands), indicator.points)
    if isinstance(rule, CategoryRule):
        return min(max(float(p) for p in rule.map.values()), indicator.points)
    return indicator.points


def _condition_inputs(text: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in sorted(set(expr_names(expr_parse(text))), key=text.find)}


def _flag(row: Mapping[str, Any], col: str) -> bool:
    return bool(row.get(col) or False)


def _num(row: Mapping[str, Any], col: str) -> float:
    value = row.get(col)
    return float(value) if isinstance(value, int | float) else 0.0


def choose_improvements(
    candidates: Sequence[tuple[int, float]], need: float, *, exact_limit: int = EXACT_LIMIT
) -> tuple[int, ...] | None:
    """Indices (of ``candidates``: (order, recoverable) pairs) whose recovery reaches ``need``.

    Fewest indicators first, then the least total recovery, then the earliest indicators. ``None``
    when all of them together fall short. Exhaustive up to ``exact_limit`` candidates, greedy beyond.
    """
    if need <= EPS:
        return ()
    usable = [(order, value) for order, value in candidates if value > EPS]
    by_size = sorted(usable, key=lambda c: (-c[1], c[0]))
    running, size = 0.0, 0
    for _, value in by_size:
        running += value
        size += 1
        if running >= need - EPS:
            break
    else:
        return None
    if len(usable) > exact_limit:
        return tuple(sorted(order for order, _ in by_size[:size]))
    best: tuple[float, tuple[int, ...]] | None = None
    for combo in itertools.combinations(sorted(usable), size):
        total = _r2(sum(value for _, value in combo))
        if total < need - EPS:
            continue
        key = (total, tuple(order for order, _ in combo))
        if best is None or key < best:
            best = key
    assert best is not None  # the greedy set of this size qualifies
    return best[1]


def plan_star(
    star: Star,
    indicators: Sequence[IndicatorResult],
    *,
    points: float,
    earned: bool,
    awarded: bool,
    fired_vetoes: Sequence[str],
    requires_unmet: Sequence[str],
) -> Plan:
    """The path to ``star`` from the branch's current result (see the module docstring)."""
    gap = _r2(max(star.pass_mark - points, 0.0))
    if awarded:
        return Plan("awarded", 0.0)
    if earned:
        return Plan("requires", 0.0, requires=tuple(requires_unmet))
    steps, shortfall = _points_plan(star, indicators, gap)
    if fired_vetoes:
        # No plan can award the star until the veto clears; the steps say what it needs after that.
        return Plan("vetoed", gap, steps=steps, vetoes=tuple(fired_vetoes), requires=tuple(requires_unmet),
                    shortfall=shortfall)
    if shortfall > 0:
        return Plan("impossible", gap, requires=tuple(requires_unmet), shortfall=shortfall)
    return Plan("plan", gap, steps=steps, requires=tuple(requires_unmet))


def _points_plan(star: Star, indicators: Sequence[IndicatorResult], gap: float) -> tuple[tuple[Step, ...], float]:
    """The improvements that reach the pass mark with every required indicator full, or the shortfall."""
    mandatory = [n for n, ind in enumerate(indicators) if ind.required_failed]
    best_total = _r2(sum(ind.best_points for ind in indicators))
    if any(indicators[n].best_points < indicators[n].max_points - EPS for n in mandatory):
        return (), max(_r2(star.pass_mark - best_total), 0.01)
    forced = _r2(sum(indicators[n].max_points - indicators[n].points for n in mandatory))
    candidates = [(n, ind.recoverable) for n, ind in enumerate(indicators) if n not in mandatory]
    chosen = choose_improvements(candidates, _r2(gap - forced))
    if chosen is None:
        return (), max(_r2(star.pass_mark - best_total), 0.01)
    steps = tuple(
        Step(
            indicator=indicators[n].id,
            name=indicators[n].name,
            points=indicators[n].points,
            target=indicators[n].max_points if n in mandatory else indicators[n].best_points,
            required=n in mandatory,
        )
        for n in sorted({*mandatory, *chosen})
    )
    return steps, 0.0


def explain_row(row: Mapping[str, Any], criteria: Criteria) -> BranchExplanation:
    """Explain one result row scored under ``criteria``."""
    awarded_ids = {s.id for s in criteria.stars if _flag(row, f"{s.id}:awarded")}
    results: list[StarExplanation] = []
    for star in criteria.stars:
        inds = tuple(
            IndicatorResult(
                id=ind.id,
                name=ind.name,
                field=ind.field,
                value=row.get(ind.field),
                missing=row.get(ind.field) is None,
                points=_num(row, f"pts:{star.id}:{ind.id}"),
                max_points=ind.points,
                best_points=best_points(ind),
                required=ind.required,
            )
            for ind in star.indicators
        )
        vetoes = tuple(
            Condition(v.id, v.name, v.when, _flag(row, f"veto:{star.id}:{v.id}"), _condition_inputs(v.when, row))
            for v in star.vetoes
        )
        unmet = tuple(r for r in star.requires if r not in awarded_ids)
        points = _num(row, f"{star.id}:points")
        earned = _flag(row, f"{star.id}:earned")
        awarded = star.id in awarded_ids
        plan = plan_star(star, inds, points=points, earned=earned, awarded=awarded,
                         fired_vetoes=[v.id for v in vetoes if v.fired], requires_unmet=unmet)
        results.append(StarExplanation(
            id=star.id, name=star.name, points=points, max_points=star.total_points, pass_mark=star.pass_mark,
            earned=earned, awarded=awarded, near=_flag(row, f"{star.id}:near"), indicators=inds,
            vetoes=vetoes, requires=tuple(star.requires), requires_unmet=unmet, plan=plan,
        ))
    caps = tuple(
        Condition(c.id, c.name, c.when, _flag(row, f"cap:{c.id}"), _condition_inputs(c.when, row), c.max_stars)
        for c in criteria.caps
    )
    rank = row.get("rank")
    return BranchExplanation(
        criteria_id=criteria.id,
        criteria_version=criteria.version,
        branch={k: row.get(k) for k in ("branch_id", "branch_name", "county", "township", "branch_type", "period")},
        rank=int(rank) if isinstance(rank, int) else None,
        stars=int(row.get("stars") or 0),
        awarded=len(awarded_ids),
        level=str(row.get("level") or criteria.level_label(int(row.get("stars") or 0))),
        total_points=_num(row, "total_points"),
        star_results=tuple(results),
        caps=caps,
        missing=tuple(m for m in str(row.get("missing") or "").split(";") if m),
        fields=dict(criteria.fields),
    )


# ---------------------------------------------------------------------------------------------
# Rules in plain words


def _fmt(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _with_unit(value: float, unit: str | None) -> str:
    if not unit:
        return _fmt(value)
    return f"{_fmt(value)}{unit}" if unit in ("%", "‰", "㎡") else f"{_fmt(value)} {unit}"


def _joiner(unit: str | None) -> str:
    """No space between a Chinese unit and 得 (``≥50 万元得``), a space after a bare number or % (``≥20 得``)."""
    return "" if unit and unit not in ("%", "‰", "㎡") else " "


def _bool_word(value: bool, spec: FieldSpec | None, lang: str) -> str:
    if lang == "en":
        return "yes" if value else "no"
    return "是" if value else "否"


def rule_text(indicator: Indicator, spec: FieldSpec | None = None, lang: str = "zh") -> str:
    """The indicator's rule in plain words, e.g. ``≥50 万元得 20 分；≥20 得 15 分；≥10 得 10 分``."""
    rule = indicator.rule
    unit = spec.unit if spec is not None else None
    full = _fmt(indicator.points)
    en = lang == "en"
    if isinstance(rule, ThresholdRule):
        parts = []
        if rule.min is not None:
            parts.append(f"≥{_with_unit(rule.min, unit)}")
        if rule.max is not None:
            parts.append(f"≤{_with_unit(rule.max, unit)}")
        cond = (" and " if en else " 且 ").join(parts)
        return f"{cond}: full {full} points" if en else f"{cond}{_joiner(unit)}得满分（{full} 分）"
    if isinstance(rule, LinearRule):
        lower = rule.full_at < rule.zero_at
        span = f"{_with_unit(rule.zero_at, unit)}→{_with_unit(rule.full_at, unit)}"
        if en:
            return f"linear {span}{', lower is better' if lower else ''} (full {full} points)"
        return f"{span} 线性计分（{'越低越好，' if lower else ''}满分 {full}）"
    if isinstance(rule, BandsRule):
        op = "≥" if rule.direction == "min" else "≤"
        parts = []
        for n, band in enumerate(rule.ordered()):
            bound = _with_unit(band.bound, unit) if n == 0 else _fmt(band.bound)
            pts = _fmt(min(band.points, indicator.points))
            if en:
                parts.append(f"{op}{bound}: {pts} points" if n == 0 else f"{op}{bound}: {pts}")
            else:
                parts.append(f"{op}{bound}{_joiner(unit) if n == 0 else ' '}得 {pts} 分")
        return ("; " if en else "；").join(parts)
    if isinstance(rule, BooleanRule):
        word = _bool_word(rule.expect, spec, lang)
        return f"{word}: {full} points" if en else f"{word} 得 {full} 分"
    if isinstance(rule, CategoryRule):
        items = [(k, min(float(v), indicator.points)) for k, v in rule.map.items()]
        items.sort(key=lambda kv: -kv[1])
        if en:
            return " / ".join(f"{k}: {_fmt(v)}" for k, v in items)
        return " / ".join(f"{k} {_fmt(v)} 分" for k, v in items)
    raise AssertionError(f"unknown rule {rule!r}")  # pragma: no cover


def value_text(value: Any, spec: FieldSpec | None = None, lang: str = "zh") -> str:
    """A raw input value for people: numbers with their unit, booleans as 是/否, missing as 缺失."""
    if value is None:
        return "missing" if lang == "en" else "缺失"
    if isinstance(value, bool):
        return _bool_word(value, spec, lang)
    unit = spec.unit if spec is not None else None
    if isinstance(value, int | float):
        return _with_unit(float(value), unit)
    return str(value)


__all__ = [
    "BranchExplanation",
    "Condition",
    "IndicatorResult",
    "Plan",
    "StarExplanation",
    "Step",
    "best_points",
    "choose_improvements",
    "explain_row",
    "plan_star",
    "rule_text",
    "value_text",
]
