"""Unit tests of the scoring engine on tiny frames: every rule kind and edge of SPEC §4."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from wuxing_cli.engine.award import earned, level, star_count, with_awarded
from wuxing_cli.engine.compile import condition_fields, referenced_fields
from wuxing_cli.engine.rank import Metric, league_table, rank_branches
from wuxing_cli.engine.score import score, score_lazy
from wuxing_cli.models.criteria import Criteria


def make_criteria(**overrides: Any) -> Criteria:
    base: dict[str, Any] = {
        "schema_version": 1,
        "id": "t",
        "name": "test",
        "branch_type": "农村",
        "version": "1",
        "fields": {"x": {"type": "number"}},
        "stars": [
            {"id": "s1", "name": "一号星", "pass_mark": 10,
             "indicators": [{"id": "i1", "name": "i1", "field": "x", "points": 10,
                             "rule": {"type": "threshold", "min": 5}}]}
        ],
    }
    base.update(overrides)
    return Criteria.model_validate(base)


def one_indicator(rule: dict[str, Any], field: dict[str, Any], values: list[Any], points: float = 20) -> list[float]:
    c = make_criteria(
        fields={"x": field},
        stars=[{"id": "s", "name": "s", "pass_mark": 0,
                "indicators": [{"id": "i", "name": "i", "field": "x", "points": points, "rule": rule}]}],
    )
    frame = pl.DataFrame({"branch_id": [str(n) for n in range(len(values))], "x": values},
                         schema_overrides={"x": _dtype(field["type"])})
    out = score_lazy(c, frame).collect()
    return out["pts:s:i"].to_list()


def _dtype(kind: str) -> type[pl.DataType]:
    return {"number": pl.Float64, "integer": pl.Int64, "percent": pl.Float64, "boolean": pl.Boolean,
            "category": pl.String, "text": pl.String}[kind]


NUM = {"type": "number"}


def test_threshold_min_max_and_range() -> None:
    assert one_indicator({"type": "threshold", "min": 5}, NUM, [4.99, 5, 6, None]) == [0, 20, 20, 0]
    assert one_indicator({"type": "threshold", "max": 0}, NUM, [0, 1, -1, None]) == [20, 0, 20, 0]
    assert one_indicator({"type": "threshold", "min": 1, "max": 3}, NUM, [0, 1, 3, 4]) == [0, 20, 20, 0]


def test_linear_ascending_descending_clipped_and_rounded() -> None:
    assert one_indicator({"type": "linear", "zero_at": 60, "full_at": 95}, NUM, [50, 60, 77.5, 95, 120]) == [
        0, 0, 10, 20, 20]
    # lower is better: full at 2, zero at 10
    assert one_indicator({"type": "linear", "zero_at": 10, "full_at": 2}, NUM, [0, 2, 6, 10, 11]) == [20, 20, 10, 0, 0]
    # 20 * (70-60)/35 = 5.714285… → 5.71
    assert one_indicator({"type": "linear", "zero_at": 60, "full_at": 95}, NUM, [70]) == [5.71]


def test_rounding_is_half_away_from_zero() -> None:
    # 10 * 0.0125 / 1 = 0.125 → 0.13 (banker's rounding would give 0.12)
    assert one_indicator({"type": "linear", "zero_at": 0, "full_at": 1}, NUM, [0.0125], points=10) == [0.13]
    assert one_indicator({"type": "linear", "zero_at": 0, "full_at": 8}, NUM, [1], points=1) == [0.13]


def test_bands_min_unordered_and_below_all() -> None:
    rule = {"type": "bands", "bands": [{"min": 10, "points": 10}, {"min": 50, "points": 20}, {"min": 20, "points": 15}]}
    assert one_indicator(rule, NUM, [60, 50, 49.9, 20, 10, 9.99, None]) == [20, 20, 15, 15, 10, 0, 0]


def test_bands_max_lowest_band_whose_max_is_above() -> None:
    rule = {"type": "bands", "bands": [{"max": 1, "points": 5}, {"max": 0, "points": 15}]}
    assert one_indicator(rule, {"type": "integer"}, [0, 1, 2, None]) == [15, 5, 0, 0]


def test_boolean_expect_true_and_false() -> None:
    field = {"type": "boolean"}
    assert one_indicator({"type": "boolean"}, field, [True, False, None]) == [20, 0, 0]
    assert one_indicator({"type": "boolean", "expect": False}, field, [True, False, None]) == [0, 20, 0]


def test_category_map_and_value_outside_map() -> None:
    field = {"type": "category", "values": ["好", "较好", "一般", "差"]}
    rule = {"type": "category", "map": {"好": 20, "较好": 16, "一般": 8}}
    assert one_indicator(rule, field, ["好", "较好", "一般", "差", None]) == [20, 16, 8, 0, 0]


def star_frame(**cols: list[Any]) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    return pl.DataFrame({"branch_id": [f"b{i}" for i in range(n)], **cols})


def test_earned_needs_pass_mark_required_and_no_veto() -> None:
    c = make_criteria(
        fields={"a": {"type": "number"}, "g": {"type": "boolean"}, "cases": {"type": "integer", "default": 0}},
        stars=[{"id": "s", "name": "s", "pass_mark": 25,
                "indicators": [
                    {"id": "a", "name": "a", "field": "a", "points": 20, "rule": {"type": "linear", "zero_at": 0, "full_at": 10}},
                    {"id": "g", "name": "g", "field": "g", "points": 10, "rule": {"type": "boolean"}, "required": True},
                ],
                "vetoes": [{"id": "crime", "name": "crime", "when": "cases > 0"}]}],
    )
    frame = star_frame(a=[10.0, 10.0, 10.0, 5.0, 10.0], g=[True, False, True, True, True], cases=[0, 0, 1, 0, None])
    out = score_lazy(c, frame).collect()
    assert out["s:points"].to_list() == [30, 20, 30, 20, 30]
    assert out["s:earned"].to_list() == [True, False, False, False, False]
    assert out["s:required_failed"].to_list() == ["", "g", "", "", ""]
    assert out["s:vetoes"].to_list() == ["", "", "crime", "", "crime"]  # undecidable veto counts as fired
    assert out["missing"].to_list() == ["", "", "", "", "cases"]
    assert out["s:near"].to_list() == [False, True, False, True, False]  # SPEC §4: vetoed stars are never near
    assert out["stars"].to_list() == [1, 0, 0, 0, 0]


def test_missing_value_scores_zero_and_is_reported() -> None:
    c = make_criteria()
    out = score_lazy(c, star_frame(x=[None, 7.0])).collect()
    assert out["pts:s1:i1"].to_list() == [0, 10]
    assert out["missing"].to_list() == ["x", ""]


def capstone_criteria(caps: list[dict[str, Any]] | None = None) -> Criteria:
    def star(sid: str, field: str, requires: list[str] | None = None) -> dict[str, Any]:
        return {"id": sid, "name": sid, "pass_mark": 1, "requires": requires or [],
                "indicators": [{"id": "i", "name": "i", "field": field, "points": 1, "rule": {"type": "boolean"}}]}

    return make_criteria(
        fields={f: {"type": "boolean"} for f in ("a", "b", "c")} | {"gang": {"type": "integer", "default": 0}},
        # the capstone is listed first on purpose: requires must be resolved in dependency order
        stars=[star("cap", "c", ["a", "b"]), star("a", "a"), star("b", "b")],
        caps=caps or [],
    )


def test_requires_capstone_in_dependency_order() -> None:
    c = capstone_criteria()
    out = score_lazy(c, star_frame(a=[True, True, False], b=[True, False, True], c=[True, True, True])).collect()
    assert out["cap:earned"].to_list() == [True, True, True]
    assert out["cap:awarded"].to_list() == [True, False, False]
    assert out["stars"].to_list() == [3, 1, 1]
    assert out["level"].to_list() == ["三星", "一星", "一星"]


def test_caps_lower_stars_and_fire_on_missing_input() -> None:
    c = capstone_criteria(caps=[{"id": "gang", "name": "涉黑", "when": "gang > 0", "max_stars": 1}])
    out = score_lazy(c, star_frame(a=[True] * 3, b=[True] * 3, c=[True] * 3, gang=[0, 2, None])).collect()
    assert out["stars"].to_list() == [3, 1, 1]
    assert out["capped_by"].to_list() == ["", "gang", "gang"]
    assert out["missing"].to_list() == ["", "", "gang"]


def test_derived_field_division_by_zero_is_missing() -> None:
    c = make_criteria(
        fields={"done": {"type": "integer"}, "households": {"type": "integer"},
                "rate": {"type": "percent", "expr": "done / households * 100"}},
        stars=[{"id": "s", "name": "s", "pass_mark": 10, "indicators": [
            {"id": "r", "name": "r", "field": "rate", "points": 10, "rule": {"type": "threshold", "min": 90}}]}],
    )
    out = score_lazy(c, star_frame(done=[95, 10, 5], households=[100, 0, None])).collect()
    assert out["pts:s:r"].to_list() == [10, 0, 0]
    assert out["missing"].to_list() == ["", "rate", "households;rate"]


def test_condition_and_referenced_fields_read_through_derived_fields() -> None:
    c = make_criteria(
        fields={"x": NUM, "done": {"type": "integer"}, "homes": {"type": "integer"}, "unused": NUM,
                "rate": {"type": "percent", "expr": "done / homes * 100"},
                "risky": {"type": "boolean", "expr": "rate < 50"}},
        caps=[{"id": "low", "name": "低", "when": "risky", "max_stars": 0}],
    )
    assert condition_fields(c) == ["done", "homes", "rate", "risky"]
    assert referenced_fields(c) == ["x", "done", "homes", "rate", "risky"]


def test_award_rule_with_a_narrower_earned_and_caps() -> None:
    """The award rule as history uses it: what counts as earned is given, requires and caps follow."""
    c = capstone_criteria(caps=[{"id": "gang", "name": "涉黑", "when": "gang > 0", "max_stars": 1}])
    frame = pl.DataFrame({"a:earned": [True, True, True], "b:earned": [True, True, True],
                          "cap:earned": [True, True, True], "cap:gang": [False, False, True]})
    blocked = {"b"}
    out = with_awarded(frame, c, lambda s: pl.lit(s.id not in blocked) & earned(s))
    out = out.with_columns(star_count(c).alias("stars")).with_columns(level(c).alias("level"))
    assert out["b:awarded"].to_list() == [False] * 3
    assert out["cap:awarded"].to_list() == [False] * 3  # requires b
    assert out["stars"].to_list() == [1, 1, 1]
    assert out["level"].to_list() == ["一星"] * 3
    assert with_awarded(frame, c).with_columns(star_count(c).alias("stars"))["stars"].to_list() == [3, 3, 1]


def test_total_points_and_level_labels_from_criteria() -> None:
    c = make_criteria(levels={0: "零", 1: "壹"})
    out = score_lazy(c, star_frame(x=[1.0, 9.0])).collect()
    assert out["level"].to_list() == ["零", "壹"]
    assert out["total_points"].to_list() == [0, 10]


def test_competition_ranking_ties_share_and_skip() -> None:
    frame = pl.DataFrame({
        "branch_id": ["d", "c", "b", "a", "e"],
        "stars": [3, 3, 3, 4, 1],
        "total_points": [300.0, 310.0, 300.0, 100.0, 400.0],
        "township": ["x", "y", "x", "x", None],
    })
    out = rank_branches(frame, by="township")
    assert out["branch_id"].to_list() == ["a", "c", "b", "d", "e"]
    assert out["rank"].to_list() == [1, 2, 3, 3, 5]
    assert out["group_rank"].to_list() == [1, 1, 2, 2, 1]


def test_league_table_ranks_groups_with_ties_by_name() -> None:
    frame = pl.DataFrame({
        "branch_id": list("abcdef"),
        "stars": [5, 1, 3, 3, 2, 4],
        "total_points": [400.0, 100.0, 300.0, 200.0, 250.0, 250.0],
        "township": ["乙", "乙", "甲", "甲", "丙", "丙"],
    })
    table = league_table(frame, by="township")
    assert table["group"].to_list() == ["丙", "乙", "甲"]  # all tie at 250: listed by name (code-point order)
    assert table["rank"].to_list() == [1, 1, 1]
    assert table["mean_stars"].to_list() == [3.0, 3.0, 3.0]
    assert table["share_3plus"].to_list() == [0.5, 0.5, 1.0]
    by_stars = league_table(frame, by="township", metric=Metric.share_3plus)
    assert by_stars["group"].to_list() == ["甲", "丙", "乙"]
    assert by_stars["rank"].to_list() == [1, 2, 2]
    assert table["level_3"].to_list() == [0, 0, 2]


def test_score_stacks_several_criteria_and_ranks_together() -> None:
    rural = make_criteria(id="r")
    community = make_criteria(id="c", branch_type="社区", stars=[{"id": "s2", "name": "二", "pass_mark": 1,
        "indicators": [{"id": "i", "name": "i", "field": "x", "points": 5, "rule": {"type": "threshold", "min": 1}}]}])
    out = score([(rural, star_frame(x=[9.0])), (community, pl.DataFrame({"branch_id": ["z"], "x": [2.0]}))])
    assert out["branch_id"].to_list() == ["b0", "z"]
    assert out["criteria_id"].to_list() == ["r", "c"]
    assert out["rank"].to_list() == [1, 2]
    assert out["s1:points"].to_list() == [10, None]


@pytest.mark.parametrize("near, expected", [(5.0, [True, False]), (0.5, [False, False])])
def test_near_miss_threshold(near: float, expected: list[bool]) -> None:
    c = make_criteria(stars=[{"id": "s", "name": "s", "pass_mark": 10, "indicators": [
        {"id": "i", "name": "i", "field": "x", "points": 20, "rule": {"type": "linear", "zero_at": 0, "full_at": 20}}]}])
    out = score_lazy(c, star_frame(x=[6.0, 2.0]), near=near).collect()
    assert out["s:near"].to_list() == expected
