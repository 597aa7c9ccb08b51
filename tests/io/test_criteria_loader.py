"""Criteria validation: every SPEC §2 check, each with the reported line and column."""

from __future__ import annotations

import textwrap

import pytest

from wuxing_cli.errors import CriteriaError, Problem
from wuxing_cli.io.criteria_loader import check_criteria_text, load_criteria, load_criteria_set

GOOD = textwrap.dedent(
    """\
    schema_version: 1
    id: t
    name: 测试标准
    branch_type: 农村
    version: "2024"
    fields:
      income: {header: 村集体经济年收入(万元), type: number, min: 0, unit: 万元}
      households: {header: 户数, type: integer, min: 1}
      toilets: {header: 已完成改厕户数, type: integer, min: 0}
      toilet_rate: {expr: "toilets / households * 100", type: percent}
      grid: {header: 是否建立网格化管理, type: boolean}
      grade: {header: 年度述职评议等次, type: category, values: [好, 较好, 一般, 差]}
      cases: {header: 刑事案件数, type: integer, min: 0, default: 0}
    stars:
      - id: a
        name: 甲星
        pass_mark: 30
        requires: [b]
        indicators:
          - {id: income, name: 收入, field: income, points: 20,
             rule: {type: bands, bands: [{min: 50, points: 20}, {min: 20, points: 15}]}}
          - {id: grade, name: 评议, field: grade, points: 20,
             rule: {type: category, map: {好: 20, 较好: 15, 一般: 5, 差: 0}}}
        vetoes:
          - {id: crime, name: 刑事案件, when: "cases > 0"}
      - id: b
        name: 乙星
        pass_mark: 20
        indicators:
          - {id: toilet, name: 改厕, field: toilet_rate, points: 20, rule: {type: linear, zero_at: 60, full_at: 95}}
          - {id: grid, name: 网格, field: grid, points: 10, rule: {type: boolean}, required: true}
    caps:
      - {id: gang, name: 涉黑, when: "cases > 5", max_stars: 1}
    """
)


def problems_of(text: str) -> list[Problem]:
    return check_criteria_text(text, "c.yaml").problems


def errors_of(text: str) -> list[Problem]:
    return [p for p in problems_of(text) if p.is_error]


def only_error(text: str) -> Problem:
    errors = errors_of(text)
    assert len(errors) == 1, [e.format() for e in errors]
    return errors[0]


def test_good_file_has_no_problems() -> None:
    loaded = check_criteria_text(GOOD, "c.yaml")
    assert loaded.ok, [p.format() for p in loaded.problems]
    assert loaded.criteria is not None and [s.id for s in loaded.criteria.stars] == ["a", "b"]


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_unknown_key_with_suggestion_and_position() -> None:
    text = GOOD.replace("pass_mark: 20", "pass_mrk: 20")
    errors = errors_of(text)
    unknown = [e for e in errors if "unknown key 'pass_mrk'" in e.message]
    assert unknown and unknown[0].line == line_of(text, "pass_mrk") and unknown[0].column == 5
    assert unknown[0].hint == "did you mean 'pass_mark'?"
    assert any("missing required key 'pass_mark'" in e.message for e in errors)


def test_wrong_type_names_key_path() -> None:
    text = GOOD.replace("pass_mark: 30", "pass_mark: 三十")
    error = only_error(text)
    assert error.key == "stars[0].pass_mark"
    assert (error.line, error.column) == (line_of(text, "三十"), 16)


def test_duplicate_key_and_malformed_yaml_and_tabs() -> None:
    error = only_error(GOOD.replace("version: \"2024\"", "version: \"2024\"\nversion: \"2025\""))
    assert "duplicate key 'version'" in error.message and error.line == 6
    bad = problems_of("stars: [\n")
    assert bad[0].code == "yaml-syntax" and bad[0].line is not None
    tab = problems_of("schema_version: 1\nfields:\n\tx: 1\n")
    assert tab[0].line == 3 and tab[0].hint and "tab" in tab[0].hint


def test_unknown_field_in_indicator() -> None:
    text = GOOD.replace("field: grade,", "field: grades,")
    error = only_error(text)
    assert "unknown field 'grades'" in error.message and error.hint == "did you mean 'grade'?"
    assert error.line == line_of(text, "field: grades")


def test_rule_that_does_not_fit_field_type() -> None:
    text = GOOD.replace("field: grid, points: 10, rule: {type: boolean}", "field: grid, points: 10, rule: {type: linear, zero_at: 0, full_at: 1}")
    error = only_error(text)
    assert "linear rule cannot score field 'grid' of type boolean" in error.message


@pytest.mark.parametrize(
    "bands, message",
    [
        ("[{min: 50, points: 20}, {min: 50, points: 15}]", "bound 50 is repeated"),
        ("[{min: 50, points: 10}, {min: 20, points: 15}]", "gives more points (15) than the better band ≥50"),
        ("[{min: 50, points: 25}, {min: 20, points: 15}]", "more than the indicator's 20"),
        ("[{min: 50, points: 20}, {max: 20, points: 15}]", "mix 'min' and 'max'"),
    ],
)
def test_bad_bands(bands: str, message: str) -> None:
    text = GOOD.replace("[{min: 50, points: 20}, {min: 20, points: 15}]", bands)
    errors = errors_of(text)
    assert any(message in e.message for e in errors), [e.format() for e in errors]
    assert all(e.line == line_of(text, "bands: [") or e.line == line_of(text, "bands: [") for e in errors)


def test_bands_in_any_order_are_fine() -> None:
    text = GOOD.replace("[{min: 50, points: 20}, {min: 20, points: 15}]", "[{min: 20, points: 15}, {min: 50, points: 20}]")
    assert errors_of(text) == []


def test_linear_zero_equals_full() -> None:
    assert "zero_at and full_at are both 60" in only_error(GOOD.replace("full_at: 95", "full_at: 60")).message


def test_pass_mark_above_max_and_declared_max_points() -> None:
    assert "pass_mark 45 exceeds the star's maximum 40" in only_error(GOOD.replace("pass_mark: 30", "pass_mark: 45")).message
    error = only_error(GOOD.replace("pass_mark: 30", "pass_mark: 30\n    max_points: 100"))
    assert "max_points 100 differs from the sum of the indicators' points (40)" in error.message
    assert error.line == 18


def test_requires_unknown_and_cycle() -> None:
    assert "requires unknown star 'c'" in only_error(GOOD.replace("requires: [b]", "requires: [c]")).message
    text = GOOD.replace("pass_mark: 20\n", "pass_mark: 20\n    requires: [a]\n")
    error = only_error(text)
    assert "cycle" in error.message and "a → b → a" in error.message


def test_expression_errors() -> None:
    error = only_error(GOOD.replace('when: "cases > 0"', 'when: "cases >"'))
    assert error.code == "expr-syntax" and error.line == line_of(GOOD, "cases > 0")
    error = only_error(GOOD.replace('when: "cases > 0"', 'when: "casess > 0"'))
    assert "unknown field 'casess'" in error.message and error.hint == "did you mean 'cases'?"
    error = only_error(GOOD.replace('when: "cases > 0"', 'when: "cases + 1"'))
    assert "gives a number" in error.message
    error = only_error(GOOD.replace('when: "cases > 0"', 'when: "__import__(1) > 0"'))
    assert error.code == "expr-syntax"


def test_derived_field_cycle() -> None:
    text = GOOD.replace('expr: "toilets / households * 100"', 'expr: "other * 2"').replace(
        "  grid:", '  other: {expr: "toilet_rate + 1", type: number}\n  grid:')
    error = only_error(text)
    assert error.code == "derived-cycle" and "other → toilet_rate → other" in error.message


def test_shared_header_between_fields_and_with_reserved_columns() -> None:
    error = only_error(GOOD.replace("header: 户数", "header: 已完成改厕户数"))
    assert error.code == "shared-header" and "已完成改厕户数" in error.message
    error = only_error(GOOD.replace("header: 户数", "header: 乡镇"))
    assert "reserved column 'township'" in error.message


def test_repeated_ids() -> None:
    error = only_error(GOOD.replace("id: b\n", "id: a\n").replace("requires: [b]", "requires: []"))
    assert "star id 'a' repeats (first at line 15)" in error.message


def test_warnings_unearnable_star_and_unscored_category_value() -> None:
    text = GOOD.replace("一般: 5, 差: 0", "一般: 5").replace("pass_mark: 30", "pass_mark: 39.5")
    problems = problems_of(text)
    assert not [p for p in problems if p.is_error]
    messages = [p.message for p in problems]
    assert any("category value '差'" in m for m in messages)
    # bands reach at most 20 + category 20 = 40 ≥ 39.5: earnable; lower the bands to make it unearnable
    text = text.replace("{min: 50, points: 20}", "{min: 50, points: 18}")
    assert any("cannot be earned" in p.message for p in problems_of(text))


def test_every_problem_in_one_pass() -> None:
    text = GOOD.replace("full_at: 95", "full_at: 60").replace("field: grade,", "field: nope,").replace(
        "requires: [b]", "requires: [zz]")
    codes = sorted(e.code for e in errors_of(text))
    assert codes == ["linear", "requires-unknown", "unknown-field"]


def test_bomb_and_depth_and_size_are_refused_fast() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    assert problems_of(bomb)[0].code in {"yaml-too-large", "yaml-aliases"}
    deep = "a: " + "[" * 200 + "]" * 200
    assert problems_of(deep)[0].code == "yaml-too-deep"


def test_builtin_names_load_and_conflicting_branch_types() -> None:
    rural = load_criteria("rural")
    assert rural.branch_type == "农村" and len(rural.stars) == 5
    with pytest.raises(CriteriaError, match="both claim branch type"):
        load_criteria_set(["rural", "rural"])
