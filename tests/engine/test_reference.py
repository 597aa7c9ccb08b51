"""The fast path (polars loader and engine) agrees with a slow, plain-Python reference scorer on
every branch of 10,000-row synthetic files, indicator by indicator.

The reference reads the CSV with the ``csv`` module and the scalar cell parser, evaluates
expressions with :func:`wuxing_cli.expr.evaluate`, and implements SPEC §4 directly: rules in exact
rational arithmetic (``fractions.Fraction``) rounded half away from zero, sums, vetoes and caps
that fire when undecidable, required indicators, ``requires`` in dependency order, and
competition ranking.
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.support import WIDE
from wuxing_cli import expr as ex
from wuxing_cli.devtools.synth.table import synthesize, write_table
from wuxing_cli.io.cells import normalize_text, parse_cell
from wuxing_cli.io.criteria_loader import load_criteria_set
from wuxing_cli.models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    Indicator,
    LinearRule,
    ThresholdRule,
)
from wuxing_cli.pipeline.score import run_score

ROWS = 10_000
NEAR = 5.0
RESERVED = {"支部编码": "branch_id", "支部名称": "branch_name", "类型": "branch_type"}

Value = float | bool | str | Fraction | None


def cents(x: Fraction) -> Fraction:
    """Round to 2 decimals, half away from zero (四舍五入), exactly."""
    scaled = abs(x) * 100
    whole = math.floor(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Fraction(whole if x >= 0 else -whole, 100)


def exact(value: float | int | bool | Fraction) -> Fraction:
    """A number as written in a cell or the criteria (its shortest decimal form)."""
    return value if isinstance(value, Fraction) else _decimal(float(value))


@functools.lru_cache(maxsize=1 << 16)
def _decimal(value: float) -> Fraction:
    return Fraction(repr(value))


def rational(value: Value) -> Value:
    """A derived value computed in floating point by ``evaluate``, as the exact ratio it stands
    for (57.49999999999999 is 115/2): derived fields divide data by data."""
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**9)  # type: ignore[return-value]
    return value


def rule_points(ind: Indicator, value: Value) -> Fraction:
    """SPEC §2 rules: points between 0 and the indicator's points; a missing value scores 0."""
    full = exact(ind.points)
    rule = ind.rule
    if value is None:
        return Fraction(0)
    if isinstance(rule, BooleanRule):
        return full if value == rule.expect else Fraction(0)
    if isinstance(rule, CategoryRule):
        return min(exact(rule.map[value]), full) if value in rule.map else Fraction(0)
    assert not isinstance(value, str)
    v = exact(value)
    if isinstance(rule, ThresholdRule):
        ok = (rule.min is None or v >= exact(rule.min)) and (rule.max is None or v <= exact(rule.max))
        return full if ok else Fraction(0)
    if isinstance(rule, LinearRule):
        a, b = exact(rule.zero_at), exact(rule.full_at)
        share = min(max((v - a) / (b - a), Fraction(0)), Fraction(1))
        return cents(share * full)
    assert isinstance(rule, BandsRule)
    if rule.direction == "min":  # the highest band whose min ≤ value
        fitting = [b for b in rule.bands if b.min is not None and v >= exact(b.min)]
        best = max(fitting, key=lambda b: b.bound, default=None)
    else:  # the lowest band whose max ≥ value
        fitting = [b for b in rule.bands if b.max is not None and v <= exact(b.max)]
        best = min(fitting, key=lambda b: b.bound, default=None)
    return min(exact(best.points), full) if best is not None else Fraction(0)


@dataclass
class Branch:
    branch_id: str
    values: dict[str, Value]
    pts: dict[str, Fraction] = field(default_factory=dict)
    star: dict[str, dict[str, Any]] = field(default_factory=dict)
    stars: int = 0
    level: str = ""
    total: Fraction = Fraction(0)
    vetoes: list[str] = field(default_factory=list)
    capped_by: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    criteria_id: str = ""
    rank: int = 0


@functools.cache
def parsed(text: str) -> ex.Node:
    return ex.parse(text)


def derived_order(crit: Criteria) -> list[str]:
    """Derived fields, each after the derived fields it reads."""
    pending = {fid: ex.names(parsed(spec.expr)) for fid, spec in crit.fields.items() if spec.expr}
    order: list[str] = []
    while pending:
        ready = [fid for fid, needs in pending.items() if all(n in order or n not in pending for n in needs)]
        for fid in ready:
            order.append(fid)
            del pending[fid]
    return order


def used_fields(crit: Criteria) -> list[str]:
    """Fields scoring reads (indicators, vetoes, caps, and what derived fields read), file order."""
    wanted = {ind.field for star in crit.stars for ind in star.indicators}
    for text in [v.when for s in crit.stars for v in s.vetoes] + [c.when for c in crit.caps]:
        wanted.update(ex.names(parsed(text)))
    frontier = list(wanted)
    while frontier:
        spec = crit.fields.get(frontier.pop())
        if spec is not None and spec.expr:
            for name in ex.names(parsed(spec.expr)):
                if name not in wanted:
                    wanted.add(name)
                    frontier.append(name)
    return [fid for fid in crit.fields if fid in wanted]


_PLANS: dict[str, tuple[list[str], list[str]]] = {}


def plan(crit: Criteria) -> tuple[list[str], list[str]]:
    """(derived order, used fields) of a criteria, worked out once."""
    if crit.id not in _PLANS:
        _PLANS[crit.id] = (derived_order(crit), used_fields(crit))
    return _PLANS[crit.id]


def fires(text: str, env: dict[str, Value]) -> bool:
    """A veto or cap fires when its condition holds or cannot be decided."""
    result = ex.evaluate(parsed(text), env)  # type: ignore[arg-type]
    return True if result is None else bool(result)


def score_branch(crit: Criteria, branch: Branch) -> None:
    env = branch.values
    order, used = plan(crit)
    for fid in order:
        spec = crit.fields[fid]
        assert spec.expr is not None
        env[fid] = ex.evaluate(parsed(spec.expr), env)  # type: ignore[arg-type]
    branch.criteria_id = crit.id
    exact_env = {fid: rational(v) if crit.fields[fid].expr else v for fid, v in env.items()}
    branch.missing = [fid for fid in used if env.get(fid) is None]
    for star in crit.stars:
        points = Fraction(0)
        required_failed = []
        for ind in star.indicators:
            p = rule_points(ind, exact_env.get(ind.field))
            branch.pts[f"pts:{star.id}:{ind.id}"] = p
            points += p
            if ind.required and p < exact(ind.points):
                required_failed.append(ind.id)
        points = cents(points)
        fired = [v.id for v in star.vetoes if fires(v.when, env)]
        branch.vetoes += fired
        earned = not fired and points >= exact(star.pass_mark) and not required_failed
        gap = cents(exact(star.pass_mark) - points)
        branch.star[star.id] = {
            "points": points, "earned": earned, "vetoed": bool(fired), "vetoes": fired,
            "required_failed": required_failed, "gap": gap,
            "near": not earned and not fired and gap <= exact(NEAR),
        }
    for star in crit.star_order():
        result = branch.star[star.id]
        result["awarded"] = result["earned"] and all(branch.star[r]["awarded"] for r in star.requires)
    held = sum(1 for s in crit.stars if branch.star[s.id]["awarded"])
    branch.capped_by = [c.id for c in crit.caps if fires(c.when, env)]
    limits = [c.max_stars for c in crit.caps if c.id in branch.capped_by]
    branch.stars = min([held, *limits])
    branch.level = crit.level_label(branch.stars)
    branch.total = cents(sum((branch.star[s.id]["points"] for s in crit.stars), Fraction(0)))


def read_branches(path: Path, criteria: Sequence[Criteria]) -> list[Branch]:
    """Read the CSV in plain Python: header cells to fields, each cell through the scalar parser."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    branches = []
    for row in rows[1:]:
        cells = dict(zip(header, row, strict=True))
        kind = normalize_text(cells["类型"]) if "类型" in cells else None
        crit = next(c for c in criteria if kind is None or kind in (c.branch_type, *c.branch_type_aliases))
        values: dict[str, Value] = {}
        for fid, spec in crit.input_fields().items():
            text = next((cells[h] for h in (crit.header_of(fid), *spec.aliases) if h in cells), "")
            if normalize_text(text) is None:
                values[fid] = spec.default  # None: missing
            else:
                values[fid] = parse_cell(text, spec)  # a bad cell would fail the fast path too
        branch = Branch(normalize_text(cells["支部编码"]) or "", values)
        score_branch(crit, branch)
        branches.append(branch)
    # competition ranking: stars, then total points; ties share a rank, the next one skips
    keyed = sorted(branches, key=lambda b: (-b.stars, -b.total, b.branch_id))
    for position, branch in enumerate(keyed):
        before = keyed[position - 1] if position else None
        same = before is not None and (before.stars, before.total) == (branch.stars, branch.total)
        branch.rank = before.rank if same and before is not None else position + 1
    return keyed


def num(x: Fraction) -> float:
    return float(x)


def joined(ids: Sequence[str]) -> str:
    return ";".join(ids)


def expected_rows(branches: list[Branch], criteria: Sequence[Criteria]) -> dict[str, dict[str, Any]]:
    out = {}
    star_ids = list(dict.fromkeys(s.id for c in criteria for s in c.stars))
    for b in branches:
        row: dict[str, Any] = {
            "rank": b.rank, "stars": b.stars, "level": b.level, "total_points": num(b.total),
            "vetoes": joined(b.vetoes), "capped_by": joined(b.capped_by), "missing": joined(b.missing),
            "criteria_id": b.criteria_id,
        }
        for sid in star_ids:
            result = b.star.get(sid)
            for what in ("points", "earned", "awarded", "vetoed", "vetoes", "required_failed", "near", "gap"):
                value = None if result is None else result[what]
                if isinstance(value, Fraction):
                    value = num(value)
                elif isinstance(value, list):
                    value = joined(value)
                row[f"{sid}:{what}"] = value
        row.update({k: num(v) for k, v in b.pts.items()})
        out[b.branch_id] = row
    return out


def compare(path: Path, criteria: list[Criteria]) -> None:
    fast = run_score(path, criteria).frame
    reference = read_branches(path, criteria)
    assert fast.height == len(reference) == ROWS
    # same order: rank, then branch id
    assert fast.get_column("branch_id").to_list() == [b.branch_id for b in reference]
    expected = expected_rows(reference, criteria)
    columns = list(dict.fromkeys(c for row in expected.values() for c in row))
    got = fast.select("branch_id", *columns)
    mismatches = []
    for row in got.iter_rows(named=True):
        want = expected[row["branch_id"]]
        for column in columns:
            a, b = row[column], want.get(column)
            if a != b:
                mismatches.append((row["branch_id"], column, a, b))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:10]}"


@pytest.mark.parametrize("seed", [11])
def test_wide_criteria_every_rule_kind(tmp_path: Path, seed: int) -> None:
    criteria = load_criteria_set([str(WIDE)])
    path = tmp_path / "wide.csv"
    write_table(synthesize(criteria, ROWS, seed), path, "csv")
    compare(path, criteria)


@pytest.mark.parametrize("seed", [12])
def test_builtin_rural_and_community(tmp_path: Path, seed: int) -> None:
    criteria = load_criteria_set(["rural", "community"])
    path = tmp_path / "henan.csv"
    write_table(synthesize(criteria, ROWS, seed, veto_rate=0.05), path, "csv")
    compare(path, criteria)


def test_reference_rounds_decimal_ties_away_from_zero() -> None:
    assert cents(Fraction("2.425")) == Fraction("2.43")
    assert cents(Fraction("-2.425")) == Fraction("-2.43")
    assert cents(Fraction("2.42499")) == Fraction("2.42")
    frame = pl.DataFrame({"x": [2.425, 0.125, 1.005]})
    from wuxing_cli.engine.compile import round2

    assert frame.select(round2(pl.col("x"))).to_series().to_list() == [2.43, 0.13, 1.01]
