"""Criteria rules and input values in plain words (zh/en), e.g. ``≥50 万元得 20 分；≥20 得 15 分``.

The engine's explanations carry numbers, ids and rules; these sentences are made here, for the
renderers of ``explain``/``rank`` and for the data-entry forms.
"""

from __future__ import annotations

from typing import Any

from ..models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    FieldSpec,
    Indicator,
    LinearRule,
    ThresholdRule,
)


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


__all__ = ["rule_text", "value_text"]
