"""The path to a star a branch does not hold: which indicators to improve, and by how much.

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..models.criteria import BandsRule, CategoryRule, Indicator, Star

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
        return r2(self.max_points - self.points)

    @property
    def recoverable(self) -> float:
        """Points an improvement could still win (up to the best the rule gives)."""
        return r2(max(self.best_points - self.points, 0.0))

    @property
    def required_failed(self) -> bool:
        return self.required and self.points < self.max_points - EPS


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
        return r2(self.target - self.points)


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
        return r2(sum(s.recover for s in self.steps))


def r2(value: float) -> float:
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
        total = r2(sum(value for _, value in combo))
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
    gap = r2(max(star.pass_mark - points, 0.0))
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
    best_total = r2(sum(ind.best_points for ind in indicators))
    if any(indicators[n].best_points < indicators[n].max_points - EPS for n in mandatory):
        return (), max(r2(star.pass_mark - best_total), 0.01)
    forced = r2(sum(indicators[n].max_points - indicators[n].points for n in mandatory))
    candidates = [(n, ind.recoverable) for n, ind in enumerate(indicators) if n not in mandatory]
    chosen = choose_improvements(candidates, r2(gap - forced))
    if chosen is None:
        return (), max(r2(star.pass_mark - best_total), 0.01)
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


__all__ = [
    "EPS",
    "EXACT_LIMIT",
    "IndicatorResult",
    "Plan",
    "PlanStatus",
    "Step",
    "best_points",
    "choose_improvements",
    "plan_star",
    "r2",
]
