"""Incentives (奖补): a hand-computed county to the fen, period conversion and half-up rounding, caps,
budget scaling by largest remainders, rules-file validation with line numbers, CLI formats."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import wuxing_cli.cli.history  # noqa: F401  (registers the commands)
from tests.support import EXAMPLES, invoke
from wuxing_cli.engine.incentives import money, scale_to_budget, to_fen
from wuxing_cli.errors import DataError
from wuxing_cli.io.incentive_rules import IncentivesError, check_rules_text, load_people, load_rules
from wuxing_cli.pipeline.incentives import compute_incentives
from wuxing_cli.pipeline.score import LoadOptions, run_score

CRITERIA = """\
schema_version: 1
id: t-rural
name: 测试标准
branch_type: 农村
version: "1"
fields:
  a: {header: A, type: number, min: 0, max: 100}
  b: {header: B, type: number, min: 0, max: 100}
  petitions: {header: 上访数, type: integer, min: 0, default: 0}
  gang: {header: 涉黑数, type: integer, min: 0, default: 0}
stars:
  - id: s1
    name: 星一
    pass_mark: 60
    indicators: [{id: a, name: A, field: a, points: 100, rule: {type: linear, zero_at: 0, full_at: 100}}]
  - id: s2
    name: 星二
    pass_mark: 60
    requires: [s1]
    indicators: [{id: b, name: B, field: b, points: 100, rule: {type: linear, zero_at: 0, full_at: 100}}]
caps:
  - {id: gang, name: 涉黑涉恶, when: "gang >= 2", max_stars: 1}
"""

DATA = """\
支部编码,支部名称,乡镇,期间,A,B,上访数,涉黑数,老人数
A001,甲一村,甲镇,2025-Q1,70,70,0,0,100
A002,甲二村,甲镇,2025-Q1,70,10,0,0,37
A003,甲三村,甲镇,2025-Q1,10,10,0,0,50
B001,乙一村,乙镇,2025-Q1,90,90,0,0,259
"""
PEOPLE = "支部编码,网格员数\nA001,4\nA002,3\nA003,5\nB001,6\n"
RULES = """\
schema_version: 1
id: test-scheme
name: 测试奖补
rules:
  - id: elders
    name: 老人奖补
    type: per_person_star
    amount: 15
    per: quarter
    people: 老人数
    cap: 5000
  - id: grid
    name: 网格员补助
    type: per_person
    amount: 50
    per: month
    people: 网格员数
  - id: sec
    name: 书记报酬
    type: per_level
    amounts: {1: 300, 二星: 800}
  - id: bonus
    name: 星二奖励
    type: per_star
    per: year
    amounts: {星二: 1000}
branch_cap: 6000
budget: 10000
"""


@pytest.fixture()
def county(tmp_path: Path) -> dict[str, Path]:
    paths = {"criteria": tmp_path / "c.yaml", "data": tmp_path / "data.csv", "people": tmp_path / "people.csv",
             "rules": tmp_path / "rules.yaml"}
    paths["criteria"].write_text(CRITERIA, encoding="utf-8")
    paths["data"].write_text(DATA, encoding="utf-8")
    paths["people"].write_text(PEOPLE, encoding="utf-8")
    paths["rules"].write_text(RULES, encoding="utf-8")
    return paths


def compute(paths: dict[str, Path], rules_text: str | None = None, data_text: str | None = None):  # type: ignore[no-untyped-def]
    if rules_text is not None:
        paths["rules"].write_text(rules_text, encoding="utf-8")
    if data_text is not None:
        paths["data"].write_text(data_text, encoding="utf-8")
    rules = load_rules(paths["rules"])
    run = run_score(paths["data"], [str(paths["criteria"])], LoadOptions())
    counts, _ = load_people(rules, paths["data"], run, [paths["people"]])
    return compute_incentives(rules, run, counts, by="township")


def test_hand_computed_county_to_the_fen(county: dict[str, Path]) -> None:
    result = compute(county)
    rows = {r["branch_id"]: r for r in result.branches.to_dicts()}
    d = Decimal
    # A001, 2 stars: 15×100×2 + 50×4×3 + 800 + 1000/4
    assert (rows["A001"]["elders"], rows["A001"]["grid"], rows["A001"]["sec"], rows["A001"]["bonus"]) == (
        d("3000.00"), d("600.00"), d("800.00"), d("250.00"))
    assert rows["A001"]["due"] == d("4650.00")
    assert rows["A002"]["due"] == d("1305.00")      # 1 star: 15×37 + 50×3×3 + 300
    assert rows["A003"]["due"] == d("750.00")       # no star: only the grid workers, 50×5×3
    # B001, 2 stars: elders 15×259×2 = 7770 capped at 5000; 5000+900+800+250 = 6950, branch cap 6000
    assert rows["B001"]["elders"] == d("5000.00") and rows["B001"]["subtotal"] == d("6950.00")
    assert rows["B001"]["cap_cut"] == d("950.00") and rows["B001"]["due"] == d("6000.00")
    assert result.total_due == d("12705.00") and result.scaled
    # budget 10000: shares 3659.976…, 1027.154…, 590.318…, 4722.550…; floors leave 2 fen,
    # which go to the largest remainders (A003 .877, A001 .639)
    assert [rows[b]["payable"] for b in ("A001", "A002", "A003", "B001")] == [
        d("3659.98"), d("1027.15"), d("590.32"), d("4722.55")]
    assert result.total_payable == d("10000.00") == result.totals["payable"]
    assert result.scale is not None and float(result.scale) == pytest.approx(10000 / 12705)
    groups = {g["group"]: g for g in result.groups.to_dicts()} if result.groups is not None else {}
    assert groups["甲镇"]["payable"] == d("5277.45") and groups["乙镇"]["payable"] == d("4722.55")
    assert groups["甲镇"]["elders_people"] == 187 and groups["甲镇"]["paid_branches"] == 3
    for column in ("elders", "grid", "sec", "bonus", "subtotal", "cap_cut", "due", "payable"):
        assert sum(result.branches.get_column(column).to_list(), d(0)) == result.totals[column]
        assert sum(result.groups.get_column(column).to_list(), d(0)) == result.totals[column]  # type: ignore[union-attr]


def test_no_budget_and_budget_not_exceeded(county: dict[str, Path]) -> None:
    plain = compute(county, RULES.replace("budget: 10000\n", ""))
    assert not plain.scaled and plain.total_payable == plain.total_due == Decimal("12705.00")
    roomy = compute(county, RULES.replace("budget: 10000", "budget: 20000"))
    assert not roomy.scaled and roomy.total_payable == Decimal("12705.00") and roomy.budget == Decimal("20000.00")


def test_monthly_period_converts_exactly_and_rounds_half_up(county: dict[str, Path]) -> None:
    rules = textwrap.dedent("""\
        schema_version: 1
        id: monthly
        name: 月度
        rules:
          - {id: q, name: 季度单价, type: per_person_star, amount: 10, per: quarter, people: 老人数}
          - {id: y, name: 年度单价, type: per_person_star, amount: 0.3, per: year, people: 老人数}
        """)
    data = DATA.replace("2025-Q1", "2025年3月").replace(",100\n", ",7\n").replace(",37\n", ",1\n")
    result = compute(county, rules, data)
    rows = {r["branch_id"]: r for r in result.branches.to_dicts()}
    assert rows["A001"]["q"] == Decimal("46.67")    # 10 × 7 × 2 / 3 = 46.666…
    assert rows["A002"]["q"] == Decimal("3.33")     # 10 × 1 × 1 / 3 = 3.333…
    assert rows["A002"]["y"] == Decimal("0.03")     # 0.3 / 12 = 0.025 → 0.03 (half up, not to even)
    assert result.period == "2025-03"  # shown in canonical form (issue 20, point 4)


def test_money_helpers() -> None:
    from fractions import Fraction

    assert to_fen(Fraction(1, 40)) == 3 and to_fen(Fraction(1, 200)) == 1 and to_fen(Fraction(1, 300)) == 0
    assert money(123456) == Decimal("1234.56") and str(money(5)) == "0.05"
    assert scale_to_budget([10000, 10000, 10000], ["b", "a", "c"], 20000) == [6667, 6667, 6666]
    assert scale_to_budget([100, 0, 300], ["a", "b", "c"], 1000) == [100, 0, 300]
    scaled = scale_to_budget([333, 333, 334, 1], ["d", "c", "b", "a"], 500)
    assert scaled == [166, 166, 167, 1]  # remainders .333, .333, .833, .4995: the 2 fen left go to b and a


def test_rules_file_errors_have_lines(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        schema_version: 1
        id: bad
        name: 坏方案
        rules:
          - id: elders
            name: 老人
            type: per_person_star
            amout: 15
            people: 老人数
          - id: elders
            name: 书记
            type: per_level
            amounts: {六星: 100, 3: 1.005}
            people: 人数
        budget: -5
        """)
    rule_set, problems = check_rules_text(text, "r.yaml")
    assert rule_set is None
    texts = [p.format() for p in problems]
    assert any(t.startswith("r.yaml:8:5: error:") and "unknown key 'amout'" in t and "did you mean 'amount'" in t
               for t in texts), texts
    assert any(t.startswith("r.yaml:13:") and "2 decimal places" in t for t in texts), texts
    assert any(t.startswith("r.yaml:15:") and "budget" in t for t in texts), texts

    text2 = textwrap.dedent("""\
        schema_version: 1
        id: bad
        name: 坏方案
        rules:
          - {id: a, name: 老人, type: per_person_star, people: 老人数}
          - {id: a, name: 书记, type: per_level, amounts: {六星: 100}, people: 人数}
          - {id: c, name: 星, type: per_star, amount: 10}
        """)
    rule_set, problems = check_rules_text(text2, "r.yaml")
    texts = [p.format() for p in problems]
    assert rule_set is None
    assert any(t.startswith("r.yaml:5:5:") and "needs 'amount'" in t for t in texts), texts
    assert any(t.startswith("r.yaml:6:") and "rule id 'a' repeats" in t for t in texts), texts
    assert any(t.startswith("r.yaml:6:") and "'六星' is not a level" in t for t in texts), texts
    assert any(t.startswith("r.yaml:6:") and "'people' does not apply" in t for t in texts), texts
    assert len(problems) == 4


def test_errors_found_against_the_data(county: dict[str, Path]) -> None:
    with pytest.raises(IncentivesError) as info:
        compute(county, RULES.replace("amounts: {星二: 1000}", "amounts: {星三: 1000}")
                .replace("    people: 老人数\n", "    people: 老人数\n    branch_types: [农材]\n"))
    texts = [p.format() for p in info.value.problems]
    assert any("rules.yaml:27:15:" in t and "'星三' is not a star" in t for t in texts), texts
    assert any("rules.yaml:11:" in t and "branch type '农材'" in t for t in texts), texts

    with pytest.raises(IncentivesError) as info:
        compute(county, RULES.replace("people: 网格员数", "people: 网格员人数"))
    (problem,) = info.value.problems
    assert problem.line == 17 and "no column '网格员人数'" in problem.message

    with pytest.raises(DataError) as bad:
        compute(county, None, DATA.replace(",37\n", ",三十七\n"))
    (cell,) = bad.value.problems
    assert cell.line == 3 and cell.header == "老人数" and cell.value == "三十七"

    data = DATA.replace(",2025-Q1,", ",,").replace("期间,", "").replace(",,", ",")
    with pytest.raises(IncentivesError, match="period of the data is unknown"):
        compute(county, RULES, data)


def test_missing_counts_warn_and_pay_nothing(county: dict[str, Path]) -> None:
    result = compute(county, None, DATA.replace(",37\n", ",\n"))
    rows = {r["branch_id"]: r for r in result.branches.to_dicts()}
    assert rows["A002"]["elders"] == Decimal("0.00") and rows["A002"]["elders_people"] is None
    assert any(w.code == "missing-count" and "1 eligible branch" in w.message for w in result.warnings)


def test_incentives_cli(county: dict[str, Path], tmp_path: Path) -> None:
    base = ["incentives", str(county["data"]), "-c", str(county["criteria"]), "--rules", str(county["rules"]),
            "--people", str(county["people"])]
    doc = json.loads(invoke([*base, "-f", "json"]).stdout)
    assert doc["totals"]["payable"] == "10000.00" and doc["scaled"] and doc["scale"] == "2000/2541"
    assert doc["rules"][1]["factor"] == "3" and doc["rules"][3]["factor"] == "1/4"
    assert [b["payable"] for b in doc["branches"]] == ["3659.98", "1027.15", "590.32", "4722.55"]
    csv = invoke([*base, "-f", "csv"]).stdout.splitlines()
    assert csv[0] == ("branch_id,branch_name,county,township,branch_type,stars,level,elders_people,elders,"
                      "grid_people,grid,sec,bonus,subtotal,cap_cut,due,payable")
    assert csv[1].endswith(",4650.00,0.00,4650.00,3659.98")
    groups = invoke([*base, "-f", "csv", "--rows", "groups"]).stdout.splitlines()
    assert groups[0].startswith("group,branches,paid_branches") and len(groups) == 3
    table = invoke([*base])
    assert table.exit_code == 0 and "合计" in table.stdout and "10,000.00" in table.stdout
    out = tmp_path / "奖补.xlsx"
    done = invoke([*base, "-f", "xlsx", "-o", str(out)])
    assert done.exit_code == 0, done.stderr
    import openpyxl

    book = openpyxl.load_workbook(out)
    groups_sheet, branches_sheet, _ = book.worksheets
    last = [c.value for c in list(branches_sheet.iter_rows())[-1]]
    assert last[0] == "合计" and last[-1] == pytest.approx(10000.0)
    assert [c.value for c in list(groups_sheet.iter_rows())[-1]][-1] == pytest.approx(10000.0)
    bad = invoke([*base[:-2], "-f", "json"])  # no --people: the grid column is nowhere
    assert bad.exit_code == 1 and "no column '网格员数'" in bad.stderr


def test_example_county_incentives() -> None:
    args = ["incentives", str(EXAMPLES / "county-2024-Q4.csv"), "--rules",
            str(EXAMPLES / "incentives.yaml"), "--people", str(EXAMPLES / "people-2024.csv"),
            "-f", "json", "-q"]
    done = invoke(args)
    assert done.exit_code == 0, done.stderr
    doc = json.loads(done.stdout)
    assert len(doc["branches"]) == 320 and doc["period"] == "2024-Q4"
    fen = {k: sum(int(Decimal(b[k]) * 100) for b in doc["branches"]) for k in doc["totals"]}
    assert fen == {k: int(Decimal(v) * 100) for k, v in doc["totals"].items()}
    assert doc["totals"]["payable"] == doc["budget"] if doc["scaled"] else True
    assert sum(int(Decimal(g["payable"]) * 100) for g in doc["groups"]) == fen["payable"]
