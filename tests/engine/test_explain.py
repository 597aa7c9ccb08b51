"""Explaining one branch: indicator results, vetoes, caps, requires, and the plan to each star."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from wuxing_cli.engine.explain import explain_row
from wuxing_cli.engine.plan import IndicatorResult, best_points, choose_improvements, plan_star
from wuxing_cli.engine.score import score
from wuxing_cli.models.criteria import Criteria, FieldSpec, Indicator
from wuxing_cli.report.rule_text import rule_text, value_text


def pct_indicator(iid: str, field: str, points: float, **extra: Any) -> dict[str, Any]:
    return {"id": iid, "name": f"指标{iid}", "field": field, "points": points,
            "rule": {"type": "linear", "zero_at": 0, "full_at": 100}, **extra}


CRITERIA = Criteria.model_validate({
    "schema_version": 1, "id": "t", "name": "t", "branch_type": "农村", "version": "1",
    "fields": {
        "a": {"type": "percent"}, "b": {"type": "percent"}, "c": {"type": "percent"}, "d": {"type": "percent"},
        "ok": {"type": "boolean"},
        "grade": {"type": "category", "values": ["好", "较好", "一般", "差"]},
        "income": {"type": "number", "unit": "万元", "min": 0},
        "cases": {"type": "integer", "min": 0, "default": 0},
        "gang": {"type": "integer", "min": 0, "default": 0},
    },
    "stars": [
        {"id": "p", "name": "产业星", "pass_mark": 86, "indicators": [
            pct_indicator("a", "a", 20), pct_indicator("b", "b", 20), pct_indicator("c", "c", 20),
            pct_indicator("d", "d", 40)]},
        {"id": "q", "name": "平安星", "pass_mark": 20, "indicators": [
            {"id": "ok", "name": "网格化", "field": "ok", "points": 10, "rule": {"type": "boolean"}, "required": True},
            {"id": "g", "name": "评议", "field": "grade", "points": 10,
             "rule": {"type": "category", "map": {"好": 10, "较好": 8, "一般": 4, "差": 0}}},
            {"id": "inc", "name": "收入", "field": "income", "points": 20,
             "rule": {"type": "bands", "bands": [{"min": 10, "points": 10}, {"min": 50, "points": 16}]}}],
         "vetoes": [{"id": "crime", "name": "发生刑事案件", "when": "cases > 0"}]},
        {"id": "z", "name": "过硬星", "pass_mark": 10, "requires": ["p", "q"], "indicators": [
            pct_indicator("za", "d", 10)]},
    ],
    "caps": [{"id": "gang", "name": "涉黑涉恶", "when": "gang > 0", "max_stars": 1}],
})


def explain(**values: Any) -> Any:
    defaults: dict[str, Any] = {"branch_id": "x1", "branch_name": "张庄村", "a": 100.0, "b": 100.0, "c": 100.0,
                                "d": 100.0, "ok": True, "grade": "好", "income": 60.0, "cases": 0, "gang": 0}
    defaults.update(values)
    schema = {"branch_id": pl.String, "branch_name": pl.String, "a": pl.Float64, "b": pl.Float64,
              "c": pl.Float64, "d": pl.Float64, "ok": pl.Boolean, "grade": pl.String, "income": pl.Float64,
              "cases": pl.Int64, "gang": pl.Int64}
    frame = pl.DataFrame({k: [v] for k, v in defaults.items()}, schema=schema)
    row = score([(CRITERIA, frame)]).row(0, named=True)
    return explain_row(row, CRITERIA)


def star(exp: Any, sid: str) -> Any:
    return next(s for s in exp.star_results if s.id == sid)


def test_cheapest_plan_is_not_the_single_largest_gap() -> None:
    # a loses 14, b 8, c 7; points 6+12+13+40 = 71, gap 15 to the pass mark 86.
    # One indicator cannot close 15; of the pairs that can, b+c recovers exactly 15 (a+b 22, a+c 21).
    exp = explain(a=30.0, b=60.0, c=65.0)
    p = star(exp, "p")
    assert not p.earned and p.gap == 15
    assert p.plan.status == "plan"
    assert [s.indicator for s in p.plan.steps] == ["b", "c"]
    assert p.plan.recover_total == 15
    assert [(s.points, s.target) for s in p.plan.steps] == [(12, 20), (13, 20)]
    # and the capstone that needs it lists it as a star to win first
    z = star(exp, "z")
    assert z.earned and not z.awarded and z.plan.status == "requires" and z.plan.requires == ("p",)


def test_indicator_results_and_lost_points() -> None:
    exp = explain(a=30.0, grade="较好", income=20.0)
    p = star(exp, "p")
    a = p.indicators[0]
    assert (a.value, a.points, a.max_points, a.lost) == (30.0, 6.0, 20.0, 14.0)
    q = star(exp, "q")
    g, inc = q.indicators[1], q.indicators[2]
    assert (g.points, g.best_points, g.lost, g.recoverable) == (8.0, 10.0, 2.0, 2.0)
    # bands top out at 16 of 20: 4 points can never be won back
    assert (inc.points, inc.best_points, inc.lost, inc.recoverable) == (10.0, 16.0, 10.0, 6.0)


def test_vetoed_star_has_no_plan_and_names_the_input() -> None:
    exp = explain(cases=2)
    q = star(exp, "q")
    assert not q.earned and q.plan.status == "vetoed" and q.plan.vetoes == ("crime",)
    veto = q.fired_vetoes[0]
    assert veto.inputs == {"cases": 2} and not veto.undecided
    # the capstone that requires it is blocked too
    assert star(exp, "z").plan.requires == ("q",)


def test_failed_required_indicator_is_always_in_the_plan_at_full_points() -> None:
    # points 0 + 10 + 16 = 26 ≥ 20, but the required indicator scored 0
    exp = explain(ok=False)
    q = star(exp, "q")
    assert q.required_failed == ("ok",) and not q.earned and q.gap == 0
    assert q.plan.status == "plan"
    assert [(s.indicator, s.required, s.target) for s in q.plan.steps] == [("ok", True, 10)]


def test_required_plus_gap_uses_fewest_then_cheapest() -> None:
    # ok 0 (required, +10), grade 差 0 (+10 possible), income 5 → 0 (+16 possible). points 0, gap 20.
    # ok is forced (+10); 10 more: grade (+10) is enough and cheaper than income (+16).
    exp = explain(ok=False, grade="差", income=5.0)
    q = star(exp, "q")
    assert [s.indicator for s in q.plan.steps] == ["ok", "g"]
    assert q.plan.recover_total == 20


def test_impossible_when_even_the_best_falls_short() -> None:
    c = Criteria.model_validate({
        "schema_version": 1, "id": "t2", "name": "t", "branch_type": "农村", "version": "1",
        "fields": {"x": {"type": "number"}},
        "stars": [{"id": "s", "name": "s", "pass_mark": 15, "indicators": [
            {"id": "i", "name": "i", "field": "x", "points": 20,
             "rule": {"type": "bands", "bands": [{"min": 1, "points": 5}, {"min": 2, "points": 10}]}}]}],
    })
    row = score([(c, pl.DataFrame({"branch_id": ["1"], "x": [0.0]}))]).row(0, named=True)
    s = explain_row(row, c).star_results[0]
    assert s.plan.status == "impossible" and s.plan.shortfall == 5


def test_missing_veto_input_is_undecided_and_fires() -> None:
    exp = explain(cases=None)
    veto = star(exp, "q").vetoes[0]
    assert veto.fired and veto.undecided


def test_caps_reported_with_inputs() -> None:
    exp = explain(gang=1)
    assert exp.awarded == 3 and exp.stars == 1
    cap = exp.fired_caps[0]
    assert cap.id == "gang" and cap.inputs == {"gang": 1} and cap.max_stars == 1


def test_next_star_prefers_fewest_improvements() -> None:
    exp = explain(a=30.0, b=60.0, c=65.0, grade="差", income=0.0)
    # p needs 2 indicators (15 points); q needs 20 − 10 = 10: grade 差→好 (+10), one indicator
    nxt = exp.next_star()
    assert nxt is not None and nxt.id == "q"


def test_choose_improvements_exact_and_greedy() -> None:
    cands = [(0, 14.0), (1, 8.0), (2, 7.0)]
    assert choose_improvements(cands, 15) == (1, 2)
    assert choose_improvements(cands, 14) == (0,)
    assert choose_improvements(cands, 29) == (0, 1, 2)
    assert choose_improvements(cands, 29.01) is None
    assert choose_improvements(cands, 0) == ()
    # ties in total recovery: the earliest indicators win
    assert choose_improvements([(0, 5.0), (1, 5.0), (2, 5.0)], 5) == (0,)
    # beyond the exhaustive limit: greedy by size
    many = [(n, float(n % 7 + 1)) for n in range(30)]
    chosen = choose_improvements(many, 20)
    assert chosen is not None and len(chosen) == 3 and sum(many[n][1] for n in chosen) >= 20


def test_plan_star_direct() -> None:
    star_model = CRITERIA.star("p")
    inds = [IndicatorResult(i.id, i.name, i.field, None, True, 0.0, i.points, best_points(i), i.required)
            for i in star_model.indicators]
    plan = plan_star(star_model, inds, points=0, earned=False, awarded=False, fired_vetoes=[], requires_unmet=[])
    assert plan.status == "plan" and [s.indicator for s in plan.steps] == ["a", "b", "c", "d"]


def indicator(rule: dict[str, Any], points: float = 20) -> Indicator:
    return Indicator.model_validate({"id": "i", "name": "i", "field": "f", "points": points, "rule": rule})


@pytest.mark.parametrize(("rule", "unit", "points", "zh", "en"), [
    ({"type": "bands", "bands": [{"min": 10, "points": 10}, {"min": 50, "points": 20}, {"min": 20, "points": 15}]},
     "万元", 20, "≥50 万元得 20 分；≥20 得 15 分；≥10 得 10 分", "≥50 万元: 20 points; ≥20: 15; ≥10: 10"),
    ({"type": "linear", "zero_at": 60, "full_at": 95}, None, 20, "60→95 线性计分（满分 20）",
     "linear 60→95 (full 20 points)"),
    ({"type": "linear", "zero_at": 10, "full_at": 2}, None, 20, "10→2 线性计分（越低越好，满分 20）",
     "linear 10→2, lower is better (full 20 points)"),
    ({"type": "boolean"}, None, 10, "是 得 10 分", "yes: 10 points"),
    ({"type": "boolean", "expect": False}, None, 10, "否 得 10 分", "no: 10 points"),
    ({"type": "category", "map": {"较好": 8, "好": 10, "一般": 4, "差": 0}}, None, 10,
     "好 10 分 / 较好 8 分 / 一般 4 分 / 差 0 分", "好: 10 / 较好: 8 / 一般: 4 / 差: 0"),
    ({"type": "threshold", "max": 0}, None, 15, "≤0 得满分（15 分）", "≤0: full 15 points"),
    ({"type": "threshold", "min": 90}, "%", 10, "≥90% 得满分（10 分）", "≥90%: full 10 points"),
    ({"type": "bands", "bands": [{"max": 0, "points": 15}, {"max": 1, "points": 5}]}, "起", 15,
     "≤0 起得 15 分；≤1 得 5 分", "≤0 起: 15 points; ≤1: 5"),
])
def test_rule_text(rule: dict[str, Any], unit: str | None, points: float, zh: str, en: str) -> None:
    ind = indicator(rule, points)
    spec = FieldSpec.model_validate({"type": "number", "unit": unit})
    assert rule_text(ind, spec, "zh") == zh
    assert rule_text(ind, spec, "en") == en


def test_value_text() -> None:
    spec = FieldSpec.model_validate({"type": "number", "unit": "万元"})
    assert value_text(12.5, spec) == "12.5 万元"
    assert value_text(None, spec) == "缺失" and value_text(None, spec, "en") == "missing"
    assert value_text(True, None) == "是" and value_text(False, None, "en") == "no"
    assert value_text(85.0, FieldSpec.model_validate({"type": "percent", "unit": "%"})) == "85%"
