"""Field values on a grid of integers: values whose score under an indicator tracks a branch's quality.

A numeric field's values are integers in units of its last decimal (``grid_decimals``); booleans and
categories are flags and label indices. Formatting them as text is :mod:`.render`'s job.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from ...models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    FieldSpec,
    FieldType,
    Indicator,
    LinearRule,
    ThresholdRule,
)
from .streams import AnyFloats, Ints

_LINEAR_STRETCH = 1.3  # quality → linear value: g·1.3 − 0.15, so the ramp saturates at both ends
_TEXT_WORDS = ("无", "见附件", "已整改到位", "正常")

RATIO = re.compile(r"^\s*([A-Za-z_]\w*)\s*/\s*([A-Za-z_]\w*)\s*(?:\*\s*(\d+(?:\.\d+)?))?\s*$")
_TRIGGER = re.compile(r"^\s*\(?\s*([A-Za-z_]\w*)\s*(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")
_OR = re.compile(r"\bor\b")


def triggers(when: str) -> list[tuple[str, str, float]]:
    """``(field, op, number)`` per part of ``a > 0 or b >= 2``; empty unless every part is that simple."""
    parts = [_TRIGGER.match(part) for part in _OR.split(when)]
    if not all(parts):
        return []
    return [(m.group(1), m.group(2), float(m.group(3))) for m in parts if m]


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One region of values an indicator maps to ``frac`` of its points (grid units)."""

    frac: float
    lo: int | None
    hi: int | None
    tail: float = 1.0  # mean width of an open-ended region


@dataclass(slots=True)
class Values:
    """A generated column before formatting: grid integers, booleans or label indices."""

    kind: Literal["grid", "bool", "label"]
    data: npt.NDArray[np.int64] | npt.NDArray[np.bool_]
    decimals: int = 0
    labels: tuple[str, ...] = ()


def grid_decimals(spec: FieldSpec) -> int:
    return 0 if spec.type is FieldType.integer else 1


def grid_bounds(spec: FieldSpec, decimals: int) -> tuple[int | None, int | None]:
    scale = 10**decimals
    lo = None if spec.lower is None else math.ceil(spec.lower * scale - 1e-9)
    hi = None if spec.upper is None else math.floor(spec.upper * scale + 1e-9)
    return lo, hi


def _span(bounds: list[float], edge: float, scale: int, minimum: int) -> float:
    gaps = np.diff(sorted(bounds)) if len(bounds) > 1 else np.array([0.0])
    return max(float(np.median(gaps)) * scale, abs(edge) * 0.3 * scale, float(minimum))


def _band_outcomes(
    bands: list[tuple[float, float]], direction: Literal["min", "max"], points: float, spec: FieldSpec
) -> list[_Outcome]:
    """Regions between band bounds, best first; ``bands`` = [(bound, points)]."""
    dec = grid_decimals(spec)
    scale = 10**dec
    kl, ku = grid_bounds(spec, dec)
    minimum = 1 if dec == 0 else 5
    ordered = sorted(bands)
    values = [b for b, _ in ordered]
    out: list[_Outcome] = []
    if direction == "min":
        ts = [math.ceil(b * scale - 1e-9) for b in values]
        span = _span(values, values[-1], scale, minimum)
        # best: at or above the top bound
        out.append(_Outcome(ordered[-1][1] / points, ts[-1], None, span))
        for i in range(len(ts) - 2, -1, -1):
            out.append(_Outcome(ordered[i][1] / points, ts[i], ts[i + 1] - 1))
        low_span = _span(values, values[0], scale, minimum)
        out.append(_Outcome(0.0, ts[0] - max(1, round(low_span)), ts[0] - 1))
    else:
        ts = [math.floor(b * scale + 1e-9) for b in values]
        span = _span(values, values[0], scale, minimum)
        out.append(_Outcome(ordered[0][1] / points, ts[0] - max(0, round(span)), ts[0]))
        for i in range(1, len(ts)):
            out.append(_Outcome(ordered[i][1] / points, ts[i - 1] + 1, ts[i]))
        out.append(_Outcome(0.0, ts[-1] + 1, None, _span(values, values[-1], scale, 1)))
    clipped: list[_Outcome] = []
    for o in out:
        lo = o.lo if kl is None or o.lo is None else max(o.lo, kl)
        hi = o.hi if ku is None or o.hi is None else min(o.hi, ku)
        if lo is not None and hi is not None and lo > hi:
            continue
        if hi is None and ku is not None and lo is not None and ku - lo <= 3 * o.tail:
            hi = ku  # bounded above and narrow: uniform up to the bound
        clipped.append(_Outcome(o.frac, lo, hi, o.tail))
    return clipped or [_Outcome(1.0, kl if kl is not None else 0, kl if kl is not None else 0)]


def _threshold_outcomes(rule: ThresholdRule, spec: FieldSpec) -> list[_Outcome]:
    if rule.min is not None and rule.max is None:
        return _band_outcomes([(rule.min, 1.0)], "min", 1.0, spec)
    if rule.max is not None and rule.min is None:
        return _band_outcomes([(rule.max, 1.0)], "max", 1.0, spec)
    if rule.min is None or rule.max is None:  # a bare threshold: anything passes
        dec = grid_decimals(spec)
        kl, ku = grid_bounds(spec, dec)
        lo = kl if kl is not None else 0
        return [_Outcome(1.0, lo, ku if ku is not None else lo + 10 * 10**dec)]
    dec = grid_decimals(spec)
    scale = 10**dec
    kl, ku = grid_bounds(spec, dec)
    tmin, tmax = math.ceil(rule.min * scale - 1e-9), math.floor(rule.max * scale + 1e-9)
    width = max(1, tmax - tmin)
    outs = [_Outcome(1.0, tmin, tmax)]
    below = _Outcome(0.0, max(tmin - width, kl) if kl is not None else tmin - width, tmin - 1)
    above = _Outcome(0.0, tmax + 1, min(tmax + width, ku) if ku is not None else tmax + width)
    for o in (below, above):
        if o.lo is not None and o.hi is not None and o.lo <= o.hi:
            outs.append(o)
            break
    return outs


def _pick(g: AnyFloats, fracs: Sequence[float]) -> Ints:
    """Index of the outcome whose share of points is nearest to ``g`` (at a midpoint: the higher share)."""
    f = np.asarray(fracs, dtype=np.float64)
    if f.size == 1:
        return np.zeros(g.size, dtype=np.int64)
    order = np.argsort(f, kind="stable")
    ascending = f[order]
    slot = np.searchsorted((ascending[1:] + ascending[:-1]) / 2.0, g, side="right")
    return order[slot].astype(np.int64)


def _sample_regions(outcomes: list[_Outcome], choice: Ints, rng: np.random.Generator, size: int) -> Ints:
    """Sample each row's value uniformly in its chosen region, or with an exponential tail if open-ended."""
    lo = np.array([o.lo if o.lo is not None else (o.hi or 0) for o in outcomes], dtype=np.int64)
    hi = np.array([o.hi if o.hi is not None else lo[i] for i, o in enumerate(outcomes)], dtype=np.int64)
    # 0: uniform in [lo, hi]; 1: open above (lo + tail); -1: open below (hi − tail)
    mode = np.array([(o.hi is None) - (o.lo is None) if (o.lo is None) != (o.hi is None) else 0
                     for o in outcomes])
    tail = np.array([o.tail for o in outcomes])
    # float32 is exact enough for regions up to 2^20 grid steps (percents, counts, areas)
    span = hi - lo + 1
    if span.max() <= 2**20:
        offset = (rng.random(size, dtype=np.float32) * span.astype(np.float32)[choice]).astype(np.int64)
    else:
        offset = (rng.random(size) * span.astype(np.float64)[choice]).astype(np.int64)
    out: Ints = lo[choice] + offset  # truncation = floor (u ≥ 0)
    if (mode != 0).any():
        open_rows = np.flatnonzero(mode[choice] != 0)
        if open_rows.size:
            picked = choice[open_rows]
            step = (rng.exponential(1.0, open_rows.size) * tail[picked]).astype(np.int64)
            out[open_rows] = np.where(mode[picked] == 1, lo[picked] + step, hi[picked] - step)
    return out


def rule_values(
    indicator: Indicator, spec: FieldSpec, g: AnyFloats, rng: np.random.Generator
) -> Values | None:
    """Values of ``spec`` whose score under ``indicator`` tracks ``g`` (share of points); None: no fit."""
    rule = indicator.rule
    size = g.size
    if spec.type is FieldType.boolean:
        if not isinstance(rule, BooleanRule):
            return None
        return Values("bool", np.where(g >= 0.5, rule.expect, not rule.expect))
    if spec.type is FieldType.category:
        labels = tuple(spec.values or (rule.map.keys() if isinstance(rule, CategoryRule) else ()))
        if not labels:
            return None
        if isinstance(rule, CategoryRule):
            fracs = [rule.map.get(v, 0.0) / indicator.points for v in labels]
            order = sorted(range(len(labels)), key=lambda i: -fracs[i])
            idx = np.asarray(order, dtype=np.int64)[_pick(g, [fracs[i] for i in order])]
        else:
            idx = rng.integers(0, len(labels), size)
        return Values("label", idx.astype(np.int64), labels=labels)
    if not spec.numeric:
        return None
    dec = grid_decimals(spec)
    if isinstance(rule, LinearRule):
        scale = 10**dec
        v = rule.zero_at + (rule.full_at - rule.zero_at) * (_LINEAR_STRETCH * g - (_LINEAR_STRETCH - 1) / 2)
        v = v + rng.normal(0.0, abs(rule.full_at - rule.zero_at) * 0.02, size)
        grid = np.round(v * scale).astype(np.int64)
        kl, ku = grid_bounds(spec, dec)
        if kl is not None or ku is not None:
            grid = np.clip(grid, kl, ku)
        return Values("grid", grid, dec)
    if isinstance(rule, BandsRule):
        outcomes = _band_outcomes(
            [(b.bound, b.points) for b in rule.bands], rule.direction, indicator.points, spec
        )
    elif isinstance(rule, ThresholdRule):
        outcomes = _threshold_outcomes(rule, spec)
    else:
        return None
    choice = _pick(g, [o.frac for o in outcomes])
    grid = _sample_regions(outcomes, choice, rng, size)
    kl, ku = grid_bounds(spec, dec)
    if kl is not None or ku is not None:
        grid = np.clip(grid, kl, ku)  # open-ended tails stop at the field's bounds
    return Values("grid", grid, dec)


def _magnitude(spec: FieldSpec, fid: str) -> float:
    text = f"{spec.header or ''}{spec.name or ''}{spec.unit or ''}{fid}"
    if "人口" in text or "population" in fid:
        return 4000.0
    if "户" in (spec.unit or "") or "户数" in text or "household" in fid:
        return 450.0
    if (spec.unit or "") in ("人", "名") or "人数" in text:
        return 120.0
    if "万元" in text:
        return 20.0
    if "㎡" in text or "面积" in text:
        return 300.0
    return 50.0


def free_values(spec: FieldSpec, fid: str, rng: np.random.Generator, size: int) -> Values:
    """Plausible values of a field no indicator drives (denominators, unscored inputs)."""
    if spec.type is FieldType.boolean:
        return Values("bool", rng.random(size) < 0.75)
    if spec.type is FieldType.category:
        labels = tuple(spec.values or ("无",))
        return Values("label", rng.integers(0, len(labels), size).astype(np.int64), labels=labels)
    if spec.type is FieldType.text:
        return Values("label", rng.integers(0, len(_TEXT_WORDS), size).astype(np.int64), labels=_TEXT_WORDS)
    dec = grid_decimals(spec)
    scale = 10**dec
    kl, ku = grid_bounds(spec, dec)
    if spec.type is FieldType.percent:
        v = rng.uniform(50.0, 100.0, size)
    elif kl is not None and ku is not None and (ku - kl) <= 1000 * scale:
        v = rng.uniform(kl / scale, ku / scale, size)
    else:
        v = _magnitude(spec, fid) * np.exp(rng.normal(0.0, 0.5, size))
    grid = np.round(v * scale).astype(np.int64)
    if kl is not None or ku is not None:
        grid = np.clip(grid, kl, ku)
    return Values("grid", grid, dec)
