"""Compile criteria rules and expressions into polars expressions (pure; SPEC §2 and §4)."""

from __future__ import annotations

from collections.abc import Callable
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
    """Round to 2 decimals, half away from zero (四舍五入), SPEC §4.1."""
    return value.round(2, mode="half_away_from_zero")


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
    return value.replace_strict(keys, points, default=0.0, return_dtype=pl.Float64)


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
    return round2(compiler(value, ind).cast(pl.Float64)).fill_null(0.0)


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


def referenced_fields(criteria: Criteria) -> list[str]:
    """Every field that scoring reads (indicators, vetoes, caps, and what derived fields read), in file order."""
    wanted: set[str] = set()
    for star in criteria.stars:
        wanted.update(ind.field for ind in star.indicators)
        for veto in star.vetoes:
            wanted.update(ex.names(ex.parse(veto.when)))
    for cap in criteria.caps:
        wanted.update(ex.names(ex.parse(cap.when)))
    frontier = list(wanted)
    while frontier:
        spec = criteria.fields.get(frontier.pop())
        if spec is not None and spec.expr is not None:
            for name in ex.names(ex.parse(spec.expr)):
                if name not in wanted:
                    wanted.add(name)
                    frontier.append(name)
    return [fid for fid in criteria.fields if fid in wanted]
