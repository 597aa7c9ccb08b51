"""Compile criteria rules and expressions into polars expressions (pure; SPEC §2 and §4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, assert_never

import polars as pl

from .. import expr as ex
from ..models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    FieldType,
    Indicator,
    LinearRule,
    ThresholdRule,
)

Compiler = Callable[[pl.Expr, Indicator], pl.Expr]


def round2(value: pl.Expr) -> pl.Expr:
    """Round to 2 decimals, half away from zero (四舍五入), SPEC §4.1.

    Rounds the value's decimal meaning, not its binary noise: 0.60625 × 4 is 2.425 on paper but
    2.4249999999999998 or 2.4250000000000003 in floating point, depending on how the arithmetic was
    ordered (polars may turn ``x / 25`` into ``x * 0.04``). Cents are first rounded to 6 decimals, so
    a value within 5e-9 of a half cent counts as the half and goes away from zero, whatever the
    evaluation order.
    """
    cents = (value * 100).round(6, mode="half_away_from_zero").round(0, mode="half_away_from_zero")
    # polars may compute ``/ 100`` as ``* 0.01`` (49928 * 0.01 = 499.28000000000003): the last
    # round(2) gives the double nearest to the cents value again.
    return (cents / 100).round(2, mode="half_away_from_zero")


def _is_cents(x: float) -> bool:
    """Whether ``x`` is its own 2-decimal rounding (k/100 exactly): rounding it again changes nothing."""
    scaled = x * 100
    return abs(scaled) < 2**52 and scaled == int(scaled) and int(scaled) / 100 == x


def _threshold(value: pl.Expr, ind: Indicator) -> pl.Expr:
    rule = ind.rule
    assert isinstance(rule, ThresholdRule)
    cond = pl.lit(True)
    if rule.min is not None:
        cond = cond & (value >= rule.min)
    if rule.max is not None:
        cond = cond & (value <= rule.max)
    return pl.when(cond).then(pl.lit(ind.points)).otherwise(pl.lit(0.0))


def _linear(value: pl.Expr, ind: Indicator) -> pl.Expr:
    rule = ind.rule
    assert isinstance(rule, LinearRule)
    # (v - A) / (B - A) is 0 at A and 1 at B whichever way round they are; clip to the segment.
    fraction = ((value - rule.zero_at) / (rule.full_at - rule.zero_at)).clip(0.0, 1.0)
    return fraction * ind.points


def _bands(value: pl.Expr, ind: Indicator) -> pl.Expr:
    rule = ind.rule
    assert isinstance(rule, BandsRule)
    bands = rule.ordered()  # best first: the first band that matches is the one that counts
    first, *rest = bands
    op: Callable[[pl.Expr, float], pl.Expr] = (
        (lambda v, b: v >= b) if rule.direction == "min" else (lambda v, b: v <= b)
    )
    chain: Any = pl.when(op(value, first.bound)).then(pl.lit(min(first.points, ind.points)))
    for band in rest:
        chain = chain.when(op(value, band.bound)).then(pl.lit(min(band.points, ind.points)))
    result: pl.Expr = chain.otherwise(pl.lit(0.0))
    return result


def _boolean(value: pl.Expr, ind: Indicator) -> pl.Expr:
    rule = ind.rule
    assert isinstance(rule, BooleanRule)
    return pl.when(value == rule.expect).then(pl.lit(ind.points)).otherwise(pl.lit(0.0))


def _category(value: pl.Expr, ind: Indicator) -> pl.Expr:
    rule = ind.rule
    assert isinstance(rule, CategoryRule)
    keys = list(rule.map)
    points = [min(float(p), ind.points) for p in rule.map.values()]
    if len(keys) <= _CATEGORY_CHAIN:
        # A short when/then chain of string equalities is ~3x faster than a hash lookup.
        chain: Any = pl.when(value == keys[0]).then(pl.lit(points[0]))
        for key, pts in zip(keys[1:], points[1:], strict=True):
            chain = chain.when(value == key).then(pl.lit(pts))
        result: pl.Expr = chain.otherwise(pl.lit(0.0))
        return result
    return value.replace_strict(keys, points, default=0.0, return_dtype=pl.Float64)


_CATEGORY_CHAIN = 8


def compile_rule(value: pl.Expr, ind: Indicator) -> pl.Expr:
    """Points of one indicator: the rule applied, rounded, and 0 for a missing value."""
    rule = ind.rule
    compiler: Compiler
    if isinstance(rule, ThresholdRule):
        compiler = _threshold
    elif isinstance(rule, LinearRule):
        compiler = _linear
    elif isinstance(rule, BandsRule):
        compiler = _bands
    elif isinstance(rule, BooleanRule):
        compiler = _boolean
    elif isinstance(rule, CategoryRule):
        compiler = _category
    else:  # pragma: no cover - the union is closed
        assert_never(rule)
    points = compiler(value, ind).cast(pl.Float64)
    if not isinstance(rule, LinearRule) and all(_is_cents(p) for p in _constants(ind)):
        # The rule yields only constants that are already rounded, and a missing value falls
        # through to the ``otherwise(0)`` / default branch: rounding and filling change nothing.
        return points
    return round2(points).fill_null(0.0)


def _constants(ind: Indicator) -> list[float]:
    """Every value a constant-valued rule can give (besides 0)."""
    rule = ind.rule
    if isinstance(rule, BandsRule):
        return [min(band.points, ind.points) for band in rule.ordered()]
    if isinstance(rule, CategoryRule):
        return [min(float(p), ind.points) for p in rule.map.values()]
    return [ind.points]


def field_column(criteria: Criteria, field_id: str) -> pl.Expr:
    """A field's column with the dtype expressions expect: Float64 for numbers, Boolean, String."""
    spec = criteria.fields[field_id]
    if spec.numeric:
        return pl.col(field_id).cast(pl.Float64)
    if spec.type is FieldType.boolean:
        return pl.col(field_id).cast(pl.Boolean)
    return pl.col(field_id).cast(pl.String)


def compile_expression(text: str, criteria: Criteria) -> pl.Expr:
    """Compile a validated ``expr``/``when`` text; field references read the frame's columns."""
    return ex.to_polars(ex.parse(text), lambda name: field_column(criteria, name))


def derived_order(criteria: Criteria) -> list[str]:
    """Derived field ids in an order where each comes after the derived fields it reads."""
    pending = {fid: spec.expr for fid, spec in criteria.fields.items() if spec.expr is not None}
    deps = {
        fid: [n for n in ex.names(ex.parse(text)) if n in pending] for fid, text in pending.items()
    }
    order: list[str] = []
    while deps:
        ready = [fid for fid, needs in deps.items() if all(n in order for n in needs)]
        if not ready:  # a cycle; validation rejects it before scoring
            raise ValueError("derived fields form a cycle: " + ", ".join(deps))
        for fid in ready:
            order.append(fid)
            del deps[fid]
    return order


def read_through(criteria: Criteria, roots: Iterable[str]) -> set[str]:
    """``roots`` and every field they read through derived fields, transitively (names that are not
    fields of ``criteria`` included as given)."""
    wanted = set(roots)
    frontier = list(wanted)
    while frontier:
        spec = criteria.fields.get(frontier.pop())
        if spec is not None and spec.expr is not None:
            for name in ex.names(ex.parse(spec.expr)):
                if name not in wanted:
                    wanted.add(name)
                    frontier.append(name)
    return wanted


def _condition_names(criteria: Criteria) -> set[str]:
    """The names the ``when`` of every veto and cap reads directly."""
    texts = [v.when for s in criteria.stars for v in s.vetoes] + [c.when for c in criteria.caps]
    return {name for text in texts for name in ex.names(ex.parse(text))}


def condition_fields(criteria: Criteria) -> list[str]:
    """Every field the vetoes and caps read, directly or through derived fields, in file order."""
    wanted = read_through(criteria, _condition_names(criteria))
    return [fid for fid in criteria.fields if fid in wanted]


def referenced_fields(criteria: Criteria) -> list[str]:
    """Every field that scoring reads (indicators, vetoes, caps, and what derived fields read), in file order."""
    roots = {ind.field for star in criteria.stars for ind in star.indicators} | _condition_names(criteria)
    wanted = read_through(criteria, roots)
    return [fid for fid in criteria.fields if fid in wanted]
