"""Explain one scored branch indicator by indicator, with the plan to each star it does not hold.

Pure: reads one row of a result frame of :func:`wuxing_cli.engine.score.score` (a mapping from column
name to value) and its :class:`Criteria`; returns plain dataclasses of numbers, ids and flags (the
sentences are made by the renderers). The plans themselves are made by :mod:`.plan`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..expr import names as expr_names
from ..expr import parse as expr_parse
from ..models.criteria import Criteria, FieldSpec
from .columns import cap_col, pts_col, star_col, veto_col
from .plan import IndicatorResult, Plan, best_points, plan_star, r2


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
        return r2(max(self.pass_mark - self.points, 0.0))

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
    levels: dict[int, str] = field(default_factory=dict)  # the criteria's level labels (0: 无星 …)

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


def _condition_inputs(text: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in sorted(set(expr_names(expr_parse(text))), key=text.find)}


def _flag(row: Mapping[str, Any], col: str) -> bool:
    return bool(row.get(col) or False)


def _num(row: Mapping[str, Any], col: str) -> float:
    value = row.get(col)
    return float(value) if isinstance(value, int | float) else 0.0


def explain_row(row: Mapping[str, Any], criteria: Criteria) -> BranchExplanation:
    """Explain one result row scored under ``criteria``."""
    awarded_ids = {s.id for s in criteria.stars if _flag(row, star_col(s.id, "awarded"))}
    results: list[StarExplanation] = []
    for star in criteria.stars:
        inds = tuple(
            IndicatorResult(
                id=ind.id,
                name=ind.name,
                field=ind.field,
                value=row.get(ind.field),
                missing=row.get(ind.field) is None,
                points=_num(row, pts_col(star.id, ind.id)),
                max_points=ind.points,
                best_points=best_points(ind),
                required=ind.required,
            )
            for ind in star.indicators
        )
        vetoes = tuple(
            Condition(v.id, v.name, v.when, _flag(row, veto_col(star.id, v.id)), _condition_inputs(v.when, row))
            for v in star.vetoes
        )
        unmet = tuple(r for r in star.requires if r not in awarded_ids)
        points = _num(row, star_col(star.id, "points"))
        earned = _flag(row, star_col(star.id, "earned"))
        awarded = star.id in awarded_ids
        plan = plan_star(star, inds, points=points, earned=earned, awarded=awarded,
                         fired_vetoes=[v.id for v in vetoes if v.fired], requires_unmet=unmet)
        results.append(StarExplanation(
            id=star.id, name=star.name, points=points, max_points=star.total_points, pass_mark=star.pass_mark,
            earned=earned, awarded=awarded, near=_flag(row, star_col(star.id, "near")), indicators=inds,
            vetoes=vetoes, requires=tuple(star.requires), requires_unmet=unmet, plan=plan,
        ))
    caps = tuple(
        Condition(c.id, c.name, c.when, _flag(row, cap_col(c.id)), _condition_inputs(c.when, row), c.max_stars)
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
        levels=dict(criteria.levels),
    )


__all__ = [
    "BranchExplanation",
    "Condition",
    "StarExplanation",
    "explain_row",
]
