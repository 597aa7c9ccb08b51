"""Property tests (issue 6 §5, §6): random valid criteria and data, and the cell parsers on random text.

* Random valid criteria (fields of every type, derived fields, rules that fit their field, stars whose
  ``requires`` form a DAG, vetoes, caps) pass validation, and random valid data for them scores so that
  every branch appears once; 0 ≤ stars ≤ number of stars; awarded ⇒ earned; 0 ≤ points ≤ max; a fired
  veto ⇒ not earned; ranks follow (stars, total_points); indicator points, vetoes, caps and stars agree
  with a small pure-Python reference scorer written from SPEC §4.
* With bad cells injected, ``--skip-invalid`` scores exactly the clean rows and rejects exactly the
  corrupted ones: rows scored + rows rejected = rows read; without it the load fails listing every cell.
* ``parse_cell`` and the vectorised parsers on random unicode: a parsed value of the right type within
  bounds, or a clean ``ValueError``; the two paths agree cell by cell.

Examples are bounded for CI. Run longer with::

    WUXING_FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_properties.py
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from tests.support import invoke
from wuxing_cli import expr as ex
from wuxing_cli.errors import DataError
from wuxing_cli.io.cells import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    bounded_expr,
    normalize_expr,
    parse_cell,
    parse_expr,
    plain_cast_expr,
)
from wuxing_cli.io.criteria_loader import check_criteria_text
from wuxing_cli.models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    FieldSpec,
    FieldType,
    LinearRule,
    ThresholdRule,
)
from wuxing_cli.pipeline.score import LoadOptions, run_score

EXAMPLES = int(os.environ.get("WUXING_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WORDS = ["好", "较好", "一般", "差", "优秀", "合格", "A级", "B级", "C级", "达标", "基本达标", "未达标"]
TEXTS = ["集中处理", "分散处理", "纳管", "正常运营", "暂停", "无"]


# ------------------------------------------------------------------------------------------------
# random criteria


def _num(draw: st.DrawFn, lo: float, hi: float) -> float:
    """A number with at most 2 decimals (exact in a CSV round trip)."""
    return draw(st.integers(int(lo * 100), int(hi * 100))) / 100


@st.composite
def field_specs(draw: st.DrawFn, prefix: str = "列") -> dict[str, dict[str, Any]]:
    """1–7 input fields (at least one number and one boolean), ids f0…, each with its own header."""
    more = draw(st.lists(st.sampled_from(list(FieldType)), min_size=0, max_size=5))
    types = [FieldType.number, FieldType.boolean, *more]
    fields: dict[str, dict[str, Any]] = {}
    for n, ftype in enumerate(types):
        spec: dict[str, Any] = {"header": f"{prefix}{n}（{ftype.value}）", "type": ftype.value}
        if ftype in (FieldType.number, FieldType.integer):
            lo = draw(st.sampled_from([None, 0, -50]))
            if lo is not None:
                spec["min"] = lo
            if draw(st.booleans()):
                spec["max"] = (lo or 0) + draw(st.integers(1, 5000))
        elif ftype is FieldType.category:
            spec["values"] = draw(st.lists(st.sampled_from(WORDS), min_size=2, max_size=5, unique=True))
        if draw(st.integers(0, 3)) == 0:  # a default for empty cells
            if ftype in (FieldType.number, FieldType.integer, FieldType.percent):
                spec["default"] = spec.get("min", 0)
            elif ftype is FieldType.boolean:
                spec["default"] = draw(st.booleans())
            elif ftype is FieldType.category:
                spec["default"] = draw(st.sampled_from(spec["values"]))
        fields[f"f{n}"] = spec
    return fields


def numeric_ids(fields: dict[str, dict[str, Any]]) -> list[str]:
    return [f for f, s in fields.items() if s["type"] in ("number", "integer", "percent")]


def boolean_ids(fields: dict[str, dict[str, Any]]) -> list[str]:
    return [f for f, s in fields.items() if s["type"] == "boolean"]


@st.composite
def conditions(draw: st.DrawFn, fields: dict[str, dict[str, Any]]) -> str:
    nums, bools = numeric_ids(fields), boolean_ids(fields)
    atoms = [
        st.builds(lambda f, op, x: f"{f} {op} {x:g}", st.sampled_from(nums),
                  st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), st.integers(-10, 200)),
        st.builds(lambda f: f, st.sampled_from(bools)),
        st.builds(lambda f: f"not {f}", st.sampled_from(bools)),
        st.builds(lambda a, b, x: f"{a} + {b} * 2 > {x}", st.sampled_from(nums), st.sampled_from(nums),
                  st.integers(0, 300)),
        st.builds(lambda a, b: f"{a} / {b} > 1", st.sampled_from(nums), st.sampled_from(nums)),
    ]
    first = draw(st.one_of(atoms))
    if draw(st.booleans()):
        return first
    op = draw(st.sampled_from(["and", "or"]))
    return f"({first}) {op} ({draw(st.one_of(atoms))})"


@st.composite
def rules(draw: st.DrawFn, ftype: str, spec: dict[str, Any], points: float) -> dict[str, Any]:
    if ftype in ("number", "integer", "percent"):
        kind = draw(st.sampled_from(["threshold", "linear", "bands"]))
        lo = float(spec.get("min", 0 if ftype == "percent" else -20))
        hi = float(spec.get("max", 100 if ftype == "percent" else lo + 500))
        if kind == "threshold":
            a, b = sorted([_num(draw, lo, hi), _num(draw, lo, hi)])
            which = draw(st.sampled_from(["min", "max", "both"]))
            rule: dict[str, Any] = {"type": "threshold"}
            if which in ("min", "both"):
                rule["min"] = a
            if which in ("max", "both"):
                rule["max"] = b
            return rule
        if kind == "linear":
            a = _num(draw, lo, hi)
            b = draw(st.sampled_from([x for x in (_num(draw, lo, hi), a + 1, a - 1) if x != a]))
            return {"type": "linear", "zero_at": a, "full_at": b}
        bounds = draw(st.lists(st.integers(int(lo), int(hi)), min_size=1, max_size=5, unique=True))
        direction = draw(st.sampled_from(["min", "max"]))
        best_first = sorted(bounds, reverse=direction == "min")
        levels = sorted((_num(draw, 0, points) for _ in best_first), reverse=True)  # never more for worse
        bands = [{direction: float(b), "points": p} for b, p in zip(best_first, levels, strict=True)]
        return {"type": "bands", "bands": draw(st.permutations(bands))}  # any order is allowed
    if ftype == "boolean":
        return {"type": "boolean", "expect": draw(st.booleans())}
    values = spec.get("values") or TEXTS
    keys = draw(st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True))
    return {"type": "category", "map": {k: _num(draw, 0, points) for k in keys}}


@st.composite
def criteria_docs(draw: st.DrawFn, ident: str = "random", branch_type: str = "农村",
                  prefix: str = "列") -> dict[str, Any]:
    fields = draw(field_specs(prefix))
    nums = numeric_ids(fields)
    if draw(st.booleans()):  # a derived number and a derived condition
        a, b = draw(st.sampled_from(nums)), draw(st.sampled_from(nums))
        fields["d_ratio"] = {"expr": f"{a} / {b} * 100", "type": "number"}
        fields["d_flag"] = {"expr": f"d_ratio > 50 or {draw(st.sampled_from(boolean_ids(fields)))}",
                            "type": "boolean"}
    n_stars = draw(st.integers(1, 6))
    stars = []
    for s in range(n_stars):
        indicators = []
        for i in range(draw(st.integers(1, 4))):
            fid = draw(st.sampled_from(sorted(fields)))
            spec = fields[fid]
            points = float(draw(st.sampled_from([5, 10, 12.5, 20, 30])))
            rule = draw(rules(spec["type"], spec, points))
            ind = {"id": f"i{s}_{i}", "name": f"指标{s}-{i}", "field": fid, "points": points, "rule": rule}
            if draw(st.integers(0, 5)) == 0:
                ind["required"] = True
            indicators.append(ind)
        total = sum(i["points"] for i in indicators)
        star: dict[str, Any] = {"id": f"s{s}", "name": f"第{s}星", "pass_mark": _num(draw, 0, total),
                                "indicators": indicators}
        if draw(st.booleans()):
            star["max_points"] = total
        earlier = [f"s{k}" for k in range(s)]
        if earlier and draw(st.integers(0, 2)) == 0:  # requires only earlier stars: a DAG
            star["requires"] = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=2, unique=True))
        star["vetoes"] = [{"id": f"v{s}_{k}", "name": f"否决{s}-{k}", "when": draw(conditions(fields))}
                          for k in range(draw(st.integers(0, 2)))]
        stars.append(star)
    caps = [{"id": f"c{k}", "name": f"封顶{k}", "when": draw(conditions(fields)),
             "max_stars": draw(st.integers(0, max(n_stars - 1, 0)))} for k in range(draw(st.integers(0, 2)))]
    return {"schema_version": 1, "id": ident, "name": "随机标准", "branch_type": branch_type, "version": "1",
            "fields": fields, "stars": draw(st.permutations(stars)), "caps": caps}


def load_valid(doc: dict[str, Any]) -> Criteria:
    """The generated criteria must pass every SPEC §2 check (no false positives), via real YAML."""
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    loaded = check_criteria_text(text, "random.yaml")
    errors = [p.format() for p in loaded.problems if p.is_error]
    assert not errors, "\n".join(errors) + "\n" + text
    assert loaded.criteria is not None
    return loaded.criteria


# ------------------------------------------------------------------------------------------------
# random data


@dataclass
class Table:
    """Rows as written (text cells) and as meant (typed values, None for missing)."""

    header: list[str]
    cells: list[list[str]] = field(default_factory=list)
    values: list[dict[str, Any]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def csv_text(self) -> str:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows([self.header, *self.cells])
        return buffer.getvalue()


FULLWIDTH = str.maketrans("0123456789.-", "０１２３４５６７８９．－")


def spell_number(draw: st.DrawFn, value: float, integer: bool) -> str:
    text = str(int(value)) if integer else (f"{value:.2f}".rstrip("0").rstrip(".") or "0")
    style = draw(st.integers(0, 5))
    if style == 0 and abs(value) >= 1000:
        whole, _, frac = text.lstrip("-").partition(".")
        grouped = f"{int(whole):,}" + (f".{frac}" if frac else "")
        return ("-" if value < 0 else "") + grouped
    if style == 1:
        return text.translate(FULLWIDTH)
    if style == 2:
        return f" {text} "
    return text


def spell_boolean(draw: st.DrawFn, value: bool) -> str:
    word = draw(st.sampled_from(sorted(BOOLEAN_TRUE if value else BOOLEAN_FALSE)))
    return word.upper() if draw(st.booleans()) else word


@st.composite
def valid_cell(draw: st.DrawFn, spec: FieldSpec) -> tuple[str, Any]:
    """(text as written, value as meant) for one valid cell, or an empty one."""
    if draw(st.integers(0, 7)) == 0:
        return "", None
    kind = spec.type
    if kind in (FieldType.number, FieldType.integer, FieldType.percent):
        lo = spec.lower if spec.lower is not None else -1000
        hi = spec.upper if spec.upper is not None else lo + 20000
        if kind is FieldType.integer:
            value: float = float(draw(st.integers(math.ceil(lo), math.floor(hi))))
        else:
            value = _num(draw, lo, hi)
        text = spell_number(draw, value, kind is FieldType.integer)
        if kind is FieldType.percent and draw(st.booleans()):
            text += "%"
        return text, value
    if kind is FieldType.boolean:
        flag = draw(st.booleans())
        return spell_boolean(draw, flag), flag
    if kind is FieldType.category:
        word = draw(st.sampled_from(spec.values or WORDS))
        return (f" {word}" if draw(st.booleans()) else word), word
    word = draw(st.sampled_from(TEXTS))
    return word, word


BAD = {
    FieldType.number: ["abc", "1..2", "NaN", "inf", "一百"],
    FieldType.integer: ["1.5", "abc", "2e0.5"],
    FieldType.percent: ["150", "abc", "-1%", "百分之五十"],
    FieldType.boolean: ["maybe", "2", "可能"],
    FieldType.category: ["不存在的等次", "好好"],
}


@st.composite
def tables(draw: st.DrawFn, criteria: Criteria, *, corrupt: bool = False) -> tuple[Table, set[str]]:
    """Valid rows for ``criteria`` (and, with ``corrupt``, some rows with bad cells: their ids)."""
    inputs = criteria.input_fields()
    with_type = draw(st.booleans())
    header = ["支部编码", "支部名称", "乡镇"] + (["类型"] if with_type else [])
    header += [criteria.header_of(f) for f in inputs]
    return draw(_rows(criteria, header, corrupt=corrupt, type_words=["农村", "村", "行政村"] if with_type else None))


@st.composite
def _rows(draw: st.DrawFn, criteria: Criteria, header: list[str], *, corrupt: bool,
          type_words: list[str] | None, first: int = 0) -> tuple[Table, set[str]]:
    inputs = criteria.input_fields()
    table = Table(header)
    n = draw(st.integers(1, 25))
    numbers = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n, unique=True))
    numbers = [first + number for number in numbers]
    bad_ids: set[str] = set()
    corruptible = [f for f, s in inputs.items() if s.type in BAD]
    for k, number in enumerate(numbers):
        branch_id = f"{number:07d}"
        row = [""] * len(header)
        row[:3] = [branch_id, f"村{k}", draw(st.sampled_from(["城关镇", "南关镇", "北关镇"]))]
        if type_words is not None:
            row[3] = draw(st.sampled_from(type_words))
        values: dict[str, Any] = {}
        for fid, spec in inputs.items():
            text, value = draw(valid_cell(spec))
            if value is None and spec.default is not None:
                value = parse_cell(str(spec.default) if not isinstance(spec.default, bool)
                                   else str(spec.default).lower(), spec)
            row[header.index(criteria.header_of(fid))] = text
            values[fid] = value
        if corrupt and corruptible and draw(st.integers(0, 2)) == 0:
            for fid in draw(st.lists(st.sampled_from(corruptible), min_size=1, max_size=3, unique=True)):
                spec = inputs[fid]
                choices = [b for b in BAD[spec.type] if _is_bad(b, spec)]
                row[header.index(criteria.header_of(fid))] = draw(st.sampled_from(choices))
            bad_ids.add(branch_id)
        table.cells.append(row)
        table.values.append(values)
        table.ids.append(branch_id)
    return table, bad_ids


def _is_bad(text: str, spec: FieldSpec) -> bool:
    try:
        parse_cell(text, spec)
    except ValueError:
        return True
    return False


# ------------------------------------------------------------------------------------------------
# reference scorer (SPEC §4), independent of the polars engine


def round2(value: float) -> float:
    return math.copysign(math.floor(abs(value) * 100 + 0.5) / 100, value)


def reference_values(criteria: Criteria, row: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for fid, spec in criteria.fields.items():
        if not spec.derived:
            value = row.get(fid)
            env[fid] = float(value) if spec.numeric and value is not None else value
    bools = [f for f, s in criteria.fields.items() if s.type is FieldType.boolean]
    pending = [f for f, s in criteria.fields.items() if s.derived]
    while pending:
        for fid in list(pending):
            node = ex.parse(criteria.fields[fid].expr or "")
            if all(n in env for n in ex.names(node)):
                env[fid] = ex.evaluate(node, env, bools)
                pending.remove(fid)
    return env


def reference_points(rule: Any, points: float, value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(rule, ThresholdRule):
        ok = (rule.min is None or value >= rule.min) and (rule.max is None or value <= rule.max)
        return points if ok else 0.0
    if isinstance(rule, LinearRule):
        return min(max((value - rule.zero_at) / (rule.full_at - rule.zero_at), 0.0), 1.0) * points
    if isinstance(rule, BandsRule):
        for band in rule.ordered():
            if (value >= band.bound) if rule.direction == "min" else (value <= band.bound):
                return min(band.points, points)
        return 0.0
    if isinstance(rule, BooleanRule):
        return points if value == rule.expect else 0.0
    assert isinstance(rule, CategoryRule)
    return min(rule.map.get(value, 0.0), points)


def fired(text: str, env: dict[str, Any], criteria: Criteria) -> bool:
    bools = [f for f, s in criteria.fields.items() if s.type is FieldType.boolean]
    return ex.evaluate(ex.parse(text), env, bools) is not False  # missing counts as fired


# ------------------------------------------------------------------------------------------------
# the properties


def score_table(criteria: Criteria, table: Table, **options: Any) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_text(table.csv_text(), encoding="utf-8")
        return run_score(path, [criteria], LoadOptions(**options))


@FUZZ
@given(st.data())
def test_random_valid_criteria_and_data_score_consistently(data: st.DataObject) -> None:
    criteria = load_valid(data.draw(criteria_docs(), label="criteria"))
    table, _ = data.draw(tables(criteria), label="table")
    note(table.csv_text())
    run = score_table(criteria, table)
    frame = run.frame
    rows = frame.rows(named=True)

    # every branch exactly once
    assert sorted(frame["branch_id"].to_list()) == sorted(table.ids)
    assert run.data.rows_read == len(table.ids) == frame.height
    by_id = {r["branch_id"]: r for r in rows}
    n_stars = len(criteria.stars)

    for branch_id, values in zip(table.ids, table.values, strict=True):
        row = by_id[branch_id]
        env = reference_values(criteria, values)
        assert 0 <= row["stars"] <= n_stars
        assert row["level"] == criteria.level_label(row["stars"])
        awarded_count = 0
        total = 0.0
        for star in criteria.stars:
            points = row[f"{star.id}:points"]
            earned, awarded = row[f"{star.id}:earned"], row[f"{star.id}:awarded"]
            assert 0 <= points <= star.total_points + 1e-9
            assert not awarded or earned  # awarded ⇒ earned
            vetoed = False
            for veto in star.vetoes:
                assert row[f"veto:{star.id}:{veto.id}"] == fired(veto.when, env, criteria), veto.when
                vetoed = vetoed or row[f"veto:{star.id}:{veto.id}"]
            if vetoed:
                assert not earned  # a fired veto ⇒ not earned
            required_ok = True
            for ind in star.indicators:
                got = row[f"pts:{star.id}:{ind.id}"]
                want = round2(reference_points(ind.rule, ind.points, env.get(ind.field)))
                assert abs(got - want) <= 0.0101, (ind.id, env.get(ind.field), got, want)
                assert 0 <= got <= ind.points + 1e-9
                required_ok = required_ok and (not ind.required or got >= ind.points)
            assert earned == (not vetoed and points >= star.pass_mark and required_ok)
            assert awarded == (earned and all(row[f"{r}:awarded"] for r in star.requires))
            awarded_count += awarded
            total += points
        limit = min([c.max_stars for c in criteria.caps if fired(c.when, env, criteria)], default=n_stars)
        assert row["stars"] == min(awarded_count, limit)
        assert abs(row["total_points"] - total) <= 0.0101
        missing = set(filter(None, (row["missing"] or "").split(";")))
        assert missing == {f for f in missing if env.get(f) is None}

    # ranks: 1 + the number of branches strictly ahead by (stars, total_points); listed by rank, then id
    keys = [(r["stars"], r["total_points"]) for r in rows]
    for r, key in zip(rows, keys, strict=True):
        assert r["rank"] == 1 + sum(1 for other in keys if other > key)
    assert [(r["rank"], r["branch_id"]) for r in rows] == sorted((r["rank"], r["branch_id"]) for r in rows)


@FUZZ
@given(st.data())
def test_two_criteria_each_branch_scored_once_by_its_own_type(data: st.DataObject) -> None:
    """Rows of two branch types in one file: each row is scored by the criteria claiming its type."""
    rural = load_valid(data.draw(criteria_docs("rural-r", "农村", "村列"), label="rural"))
    urban = load_valid(data.draw(criteria_docs("urban-r", "社区", "社区列"), label="community"))
    header = ["支部编码", "支部名称", "乡镇", "类型"]
    header += [rural.header_of(f) for f in rural.input_fields()]
    header += [urban.header_of(f) for f in urban.input_fields()]
    first, _ = data.draw(_rows(rural, header, corrupt=False, type_words=["农村", "村", "rural"]), label="rural rows")
    second, _ = data.draw(_rows(urban, header, corrupt=False, type_words=["社区", "城市社区", "community"],
                                first=2 * 10**6), label="community rows")
    table = Table(header, first.cells + second.cells, first.values + second.values, first.ids + second.ids)
    order = data.draw(st.permutations(range(len(table.ids))), label="row order")
    table = Table(header, [table.cells[i] for i in order], [table.values[i] for i in order],
                  [table.ids[i] for i in order])
    note(table.csv_text())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_text(table.csv_text(), encoding="utf-8")
        run = run_score(path, [rural, urban], LoadOptions())
    frame = run.frame
    assert sorted(frame["branch_id"].to_list()) == sorted(table.ids)
    owner = {b: "rural-r" for b in first.ids} | {b: "urban-r" for b in second.ids}
    for row in frame.rows(named=True):
        assert row["criteria_id"] == owner[row["branch_id"]]
        model = rural if row["criteria_id"] == "rural-r" else urban
        assert 0 <= row["stars"] <= len(model.stars)
        assert row["level"] == model.level_label(row["stars"])
    keys = [(r["stars"], r["total_points"]) for r in frame.rows(named=True)]
    assert frame["rank"].to_list() == [1 + sum(1 for o in keys if o > k) for k in keys]


@FUZZ
@given(st.data())
def test_skip_invalid_accounts_for_every_row(data: st.DataObject) -> None:
    criteria = load_valid(data.draw(criteria_docs(), label="criteria"))
    table, bad_ids = data.draw(tables(criteria, corrupt=True), label="table")
    assume(bad_ids)
    note(table.csv_text())
    # without --skip-invalid: exit 1 listing every bad cell, no result
    with pytest.raises(DataError) as info:
        score_table(criteria, table)
    listed = {p.line for p in info.value.problems if p.code == "bad-cell"}
    assert listed == {table.ids.index(b) + 2 for b in bad_ids}
    # with it: scored + rejected = read, and exactly the corrupted rows are rejected
    if len(bad_ids) == len(table.ids):
        with pytest.raises(DataError, match="nothing to score"):
            score_table(criteria, table, skip_invalid=True)
        return
    run = score_table(criteria, table, skip_invalid=True)
    rejected = run.data.rejected
    assert run.frame.height + len(rejected) == run.data.rows_read == len(table.ids)
    assert {r.branch_id for r in rejected} == bad_ids
    assert {r.line for r in rejected} == {table.ids.index(b) + 2 for b in bad_ids}
    assert set(run.frame["branch_id"].to_list()) == set(table.ids) - bad_ids
    assert all(r.reasons for r in rejected)


@settings(max_examples=max(EXAMPLES // 6, 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_skip_invalid_summary_through_the_cli(data: st.DataObject) -> None:
    """The same accounting where a user sees it: score's JSON summary and the bulletin's data-quality notes."""
    criteria_doc = data.draw(criteria_docs(), label="criteria")
    criteria = load_valid(criteria_doc)
    table, bad_ids = data.draw(tables(criteria, corrupt=True), label="table")
    assume(0 < len(bad_ids) < len(table.ids))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.yaml").write_text(yaml.safe_dump(criteria_doc, allow_unicode=True), encoding="utf-8")
        (Path(tmp) / "d.csv").write_text(table.csv_text(), encoding="utf-8")
        args = [str(Path(tmp) / "d.csv"), "-c", str(Path(tmp) / "c.yaml"), "--skip-invalid", "-q"]
        result = invoke(["score", *args, "-f", "json"])
        bulletin = invoke(["bulletin", *args])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert summary["rows_read"] == summary["branches"] + len(summary["rejected"]) == len(table.ids)
    assert {r["branch_id"] for r in summary["rejected"]} == bad_ids
    # and in the bulletin's data-quality notes: rows read, branches scored, rows rejected, each rejected id
    assert bulletin.exit_code == 0, bulletin.stderr
    scored = len(table.ids) - len(bad_ids)
    assert f"本期共读取数据{len(table.ids)}行，评定支部{scored}个，剔除无效行{len(bad_ids)}行" in bulletin.stdout
    for branch_id in bad_ids:
        assert f"| {branch_id} |" in bulletin.stdout


# ------------------------------------------------------------------------------------------------
# cell parsers

SPECS = {
    "number": FieldSpec(type=FieldType.number, min=-5, max=1e6),
    "number-free": FieldSpec(type=FieldType.number),
    "integer": FieldSpec(type=FieldType.integer, min=0),
    "integer-free": FieldSpec(type=FieldType.integer),
    "percent": FieldSpec(type=FieldType.percent),
    "boolean": FieldSpec(type=FieldType.boolean),
    "category": FieldSpec(type=FieldType.category, values=["好", "较好", "ＡＢ", "a b", "Ⅱ级"]),
    "text": FieldSpec(type=FieldType.text),
}

number_like = st.from_regex(r"\A[ +\-]?[0-9０-９,，.．]{0,12}([eE][+\-]?[0-9]{1,4})?%?[ ]?\Z")
spellings = st.sampled_from([*sorted(BOOLEAN_TRUE | BOOLEAN_FALSE), "好", " 较好 ", "ＡＢ", "AB", "a  b", "Ⅱ级",
                             "II级", "NaN", "inf", "-0", "1e308", "1e309"])
cell_text = st.one_of(st.text(max_size=20), number_like, spellings,
                      st.text(alphabet=st.characters(codec="utf-8"), max_size=8))


def _check_value(value: Any, spec: FieldSpec) -> None:
    kind = spec.type
    if kind is FieldType.integer:
        assert isinstance(value, int) and not isinstance(value, bool)
    elif kind in (FieldType.number, FieldType.percent):
        assert isinstance(value, float) and math.isfinite(value)
    elif kind is FieldType.boolean:
        assert isinstance(value, bool)
    else:
        assert isinstance(value, str) and value
    if spec.numeric:
        assert spec.lower is None or value >= spec.lower
        assert spec.upper is None or value <= spec.upper
    if kind is FieldType.category:
        assert value in (spec.values or [])


@FUZZ
@given(texts=st.lists(cell_text, min_size=1, max_size=30), name=st.sampled_from(sorted(SPECS)))
def test_cell_parsers_give_a_value_or_a_clean_error_and_agree(texts: list[str], name: str) -> None:
    spec = SPECS[name]
    scalar: list[Any] = []
    for text in texts:
        try:
            value = parse_cell(text, spec)
        except ValueError as exc:
            assert str(exc), "an error without a reason"
            scalar.append(None)
        else:
            _check_value(value, spec)
            scalar.append(value)
    frame = pl.DataFrame({"raw": pl.Series(texts, dtype=pl.String)}).lazy()
    normal = frame.select(normalize_expr(pl.col("raw")).alias("cell"))
    value, bad = parse_expr(pl.col("cell"), spec)
    out = normal.select(pl.col("cell"), value.alias("value"), bad.alias("bad")).collect()
    for text, want, cell, got, is_bad in zip(texts, scalar, out["cell"], out["value"], out["bad"], strict=True):
        if cell is None:  # empty after trimming: missing, not bad, for both paths
            assert want is None and got is None and not is_bad, repr(text)
            continue
        assert is_bad == (want is None), (text, want, got)
        if want is not None:
            assert got == want and type(got) is type(want), (text, want, got)
    # the cheap plain cast, where it reads every non-empty cell, gives the same values
    if spec.numeric:
        plain = normal.select(pl.col("cell"), plain_cast_expr(pl.col("cell"), spec).alias("p")).collect()
        if plain.filter(pl.col("cell").is_not_null() & pl.col("p").is_null()).height == 0:
            fast = plain.select(bounded_expr(pl.col("p"), spec).alias("v"))["v"].to_list()
            assert fast == out["value"].to_list(), (texts, fast, out["value"].to_list())


# ---- the loader's normalising shortcut ---------------------------------------------------------

# Characters that NFKC changes or that are trimmed, next to ones it leaves alone.
_NFKC_ALPHABET = st.sampled_from(
    [*"a1 ,.东村丽", "\u3000", "\xa0", "\t", "\uff11", "\uff08", "\uf900", "\u0301", "\u1100", "\u1161",
     "\u2460", "\ufb01", "\u00e9", "\u9fff", "\u4e00", "\ua000", "\u3400", "\U00020000"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(_NFKC_ALPHABET, max_size=6), min_size=1, max_size=40))
def test_the_loader_normalises_a_text_column_as_if_every_cell_were_normalised(cells: list[str]) -> None:
    """normalise skips text cells that cannot change (no character NFKC may change, no edge spaces):
    the result must be what normalising every cell gives."""
    from wuxing_cli.io.raw import normalise

    column = pl.Series("名称", cells, dtype=pl.String)
    expected = column.to_frame().select(normalize_expr(pl.col("名称"))).to_series()
    got, _ = normalise(pl.DataFrame({"名称": column, "other": ["x"] * len(cells)}), ["名称", "other"])
    assert got.get_column("名称").to_list() == expected.to_list()
