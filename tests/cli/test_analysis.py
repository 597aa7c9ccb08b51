"""``wuxing rank``, ``diff`` and ``explain`` end to end on tiny crafted files, with golden outputs.

Regenerate the golden files with ``WUXING_UPDATE_GOLDEN=1 pytest tests/cli/test_analysis.py``.

The tiny criteria (80 points): 产业星 cy = income bands (20) + rate linear 60→100 (20) + coops bands (10),
pass 40; 平安星 pa = grid yes/no (10, required) + grade category (10), pass 15, vetoed by any criminal
case; 过硬星 zb = rate ≥ 90 (10), pass 10, requires cy and pa. A gang case caps a branch at one star.

Archetype rows: FULL (80 points, 3★), MID (73, 3★: cy 45 just above 40), LOW (10, 0★), V (45, 1★).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import check_golden, invoke

CRITERIA = """\
schema_version: 1
id: tiny
name: 测试标准
branch_type: 农村
version: "{version}"
fields:
  income: {{header: 集体收入(万元), type: number, min: 0, unit: 万元}}
  rate: {{header: 落实率(%), type: percent, unit: "%"}}
  coops: {{header: 合作社数(个), type: integer, min: 0, unit: 个}}
  grid: {{header: 网格化管理, type: boolean}}
  grade: {{header: 述职评议, type: category, values: [好, 较好, 一般, 差]}}
  cases: {{header: 刑事案件数, type: integer, min: 0, default: 0, unit: 起}}
  gang: {{header: 涉黑案件数, type: integer, min: 0, default: 0, unit: 起}}
stars:
  - id: cy
    name: 产业星
    pass_mark: {cy_pass}
    indicators:
      - {{id: inc, name: 集体收入, field: income, points: 20,
          rule: {{type: bands, bands: [{{min: 50, points: 20}}, {{min: 20, points: 15}}, {{min: 10, points: 10}}]}}}}
      - {{id: rate, name: 落实率, field: rate, points: 20, rule: {{type: linear, zero_at: 60, full_at: 100}}}}
      - {{id: coop, name: 合作社, field: coops, points: 10,
          rule: {{type: bands, bands: [{{min: 5, points: 10}}, {{min: 2, points: 6}}, {{min: 1, points: 3}}]}}}}
  - id: pa
    name: 平安星
    pass_mark: 15
    indicators:
      - {{id: grid, name: 网格化管理, field: grid, points: 10, rule: {{type: boolean}}, required: true}}
      - {{id: grade, name: 述职评议, field: grade, points: 10,
          rule: {{type: category, map: {{好: 10, 较好: 8, 一般: 4, 差: 0}}}}}}
    vetoes:
      - {{id: crime, name: 发生刑事案件, when: "cases > 0"}}
  - id: zb
    name: 过硬星
    pass_mark: 10
    requires: [cy, pa]
    indicators:
      - {{id: rate2, name: 落实率达标, field: rate, points: 10, rule: {{type: threshold, min: 90}}}}
caps:
  - {{id: gang, name: 涉黑涉恶, when: "gang > 0", max_stars: 1}}
"""

HEADER = "支部编码,支部名称,乡镇,集体收入(万元),落实率(%),合作社数(个),网格化管理,述职评议,刑事案件数,涉黑案件数"
FULL = "60,100,5,是,好,0,0"
MID = "25,100,5,是,较好,0,0"
LOW = "5,60,0,是,差,0,0"
V = "25,74,1,是,好,0,0"

# This quarter: 甲镇 59 (rank 1), 乙镇 45 and 丙镇 45 (tied, rank 2), 丁镇 10 (rank 4: the next rank skips).
# Branches: T2 and T3 tie (group rank 2, 2, then T4 is 4); 丙镇 and 丁镇 are groups of one.
# U1 had a criminal case: its 平安星 is vetoed, and with it the capstone 过硬星.
Q4 = [
    f"T1,东村,甲镇,{FULL}",
    f"T2,西村,甲镇,{MID}",
    f"T3,南村,甲镇,{MID}",
    f"T4,北村,甲镇,{LOW}",
    "U1,上村,乙镇,60,100,5,是,好,1,0",
    f"U2,下村,乙镇,{LOW}",
    f"V1,孤村,丙镇,{V}",
    f"W1,新村,丁镇,{LOW}",
]
# Last quarter: T1 was LOW, T4 was in 乙镇, U1 had no case, W1 did not exist, R1 (丁镇) was later merged away.
# 丁镇 80 (1), 甲镇 52 (2), 丙镇 45 (3), 乙镇 33.33 (4).
Q3 = [
    f"R1,旧村,丁镇,{FULL}",
    f"T1,东村,甲镇,{LOW}",
    f"T2,西村,甲镇,{MID}",
    f"T3,南村,甲镇,{MID}",
    f"T4,北村,乙镇,{LOW}",
    f"U1,上村,乙镇,{FULL}",
    f"U2,下村,乙镇,{LOW}",
    f"V1,孤村,丙镇,{V}",
]
# Self-assessment vs verification of the same quarter: T4 and U2 claimed more than was verified.
SELF = [f"T1,东村,甲镇,{FULL}", f"T2,西村,甲镇,{MID}", f"T4,北村,甲镇,{MID}",
        f"U1,上村,乙镇,{FULL}", f"U2,下村,乙镇,{V}", f"V1,孤村,丙镇,{V}"]
VERIFIED = [f"T1,东村,甲镇,{FULL}", f"T2,西村,甲镇,{MID}", f"T4,北村,甲镇,{LOW}",
            f"U1,上村,乙镇,{FULL}", f"U2,下村,乙镇,{LOW}", f"V1,孤村,丙镇,{V}"]
# Explain: E1 loses 10 on income (12 万元 → 10 of 20), 8 on rate (84% → 12 of 20) and 4 on coops
# (2 → 6 of 10): 28 points, 12 short of 40. No single indicator closes 12; rate + coops recovers exactly
# 12, cheaper than income + anything, though income is the largest single loss.
EXPLAIN = [
    "E1,张庄村,甲镇,12,84,2,是,好,0,0",
    "E2,李庄村,甲镇,60,100,5,是,好,2,0",
    "E3,新村,乙镇,60,100,5,否,好,0,1",
    "E4,新村,丙镇,5,60,0,是,差,0,0",
]


def write(path: Path, rows: list[str]) -> Path:
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "tiny.yaml").write_text(CRITERIA.format(version="2024", cy_pass=40), encoding="utf-8")
    (tmp_path / "tiny2025.yaml").write_text(CRITERIA.format(version="2025", cy_pass=46), encoding="utf-8")
    return {
        "criteria": tmp_path / "tiny.yaml",
        "criteria2025": tmp_path / "tiny2025.yaml",
        "q3": write(tmp_path / "2024Q3.csv", Q3),
        "q4": write(tmp_path / "2024Q4.csv", Q4),
        "self": write(tmp_path / "self.csv", SELF),
        "verified": write(tmp_path / "verified.csv", VERIFIED),
        "explain": write(tmp_path / "explain.csv", EXPLAIN),
    }


def run(files: dict[str, Path], *args: Any, code: int = 0) -> Any:
    argv = [str(a) for a in args] + ["-c", str(files["criteria"])]
    result = invoke(argv, env={"COLUMNS": "180", "NO_COLOR": "1"}, catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def golden(name: str, text: str, files: dict[str, Path] | None = None) -> None:
    """Compare with tests/golden/analysis/<name>; WUXING_UPDATE_GOLDEN=1 rewrites it."""
    if files is not None:  # temporary paths never belong in a golden file
        text = text.replace(str(files["criteria"].parent) + os.sep, "")
    check_golden(f"analysis/{name}", text)


# -- rank -------------------------------------------------------------------------------------------


def test_rank_json_ties_groups_of_one_and_rank_change(files: dict[str, Path]) -> None:
    out = run(files, "rank", files["q4"], "--by", "township", "--previous", files["q3"], "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["by"] == "township" and doc["metric"] == "mean_points"
    groups = {g["group"]: g for g in doc["groups"]}
    assert (doc["groups"][0]["group"], doc["groups"][0]["rank"]) == ("甲镇", 1)
    assert groups["乙镇"]["rank"] == groups["丙镇"]["rank"] == 2 and groups["丁镇"]["rank"] == 4
    assert groups["甲镇"]["mean_points"] == 59 and groups["乙镇"]["mean_points"] == 45
    assert groups["丙镇"]["branches"] == 1 and groups["丁镇"]["branches"] == 1  # groups of one
    assert groups["甲镇"]["levels"] == {"0": 1, "1": 0, "2": 0, "3": 3, "4": 0, "5": 0}
    assert groups["甲镇"]["share_3plus"] == 0.75
    # last quarter 丁 1, 甲 2, 丙 3, 乙 4
    assert {g: groups[g]["rank_change"] for g in groups} == {"甲镇": 1, "乙镇": 2, "丙镇": 1, "丁镇": -3}
    branches = {b["branch_id"]: b for b in doc["branches"]}
    assert (branches["T2"]["group_rank"], branches["T3"]["group_rank"], branches["T4"]["group_rank"]) == (2, 2, 4)
    assert (branches["T2"]["rank"], branches["T3"]["rank"], branches["U1"]["rank"]) == (2, 2, 4)
    assert branches["V1"]["group_rank"] == 1 and branches["W1"]["group_rank"] == 1
    # branches listed in league order, then by group rank
    assert [b["branch_id"] for b in doc["branches"]][:4] == ["T1", "T2", "T3", "T4"]
    golden("rank.json", out.stdout)


def test_rank_metric_and_top(files: dict[str, Path]) -> None:
    out = run(files, "rank", files["q4"], "--by", "乡镇", "--metric", "share_3plus", "--top", "1", "-f", "json")
    doc = json.loads(out.stdout)
    assert [g["group"] for g in doc["groups"]] == ["甲镇"]
    assert {b["branch_id"] for b in doc["branches"]} == {"T1", "T2", "T3", "T4"}
    assert "rank_change" not in doc["groups"][0]


@pytest.mark.parametrize(("fmt", "name"), [("table", "rank.txt"), ("md", "rank.md"), ("csv", "rank.csv")])
def test_rank_formats_golden(files: dict[str, Path], fmt: str, name: str) -> None:
    out = run(files, "rank", files["q4"], "--by", "township", "--previous", files["q3"], "-f", fmt)
    golden(name, out.stdout)


def test_rank_csv_branches_and_english(files: dict[str, Path]) -> None:
    out = run(files, "rank", files["q4"], "-f", "csv", "--rows", "branches")
    lines = out.stdout.splitlines()
    assert lines[0].startswith("rank,group_rank,branch_id,branch_name")
    golden("rank_branches.csv", out.stdout)
    out = run(files, "rank", files["q4"], "-f", "md", "--lang", "en")
    golden("rank_en.md", out.stdout)


def test_rank_xlsx(files: dict[str, Path], tmp_path: Path) -> None:
    import openpyxl

    target = tmp_path / "rank.xlsx"
    run(files, "rank", files["q4"], "-f", "xlsx", "-o", target)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["乡镇（街道）排名", "支部排名"]
    assert book["乡镇（街道）排名"]["B2"].value == "乡镇（街道）"  # row 1 is the report's title row
    assert book["乡镇（街道）排名"]["B3"].value == "甲镇"


def test_rank_bad_by_is_usage_error(files: dict[str, Path]) -> None:
    out = run(files, "rank", files["q4"], "--by", "village", code=2)
    assert "cannot group by" in out.stderr


# -- diff: periods ----------------------------------------------------------------------------------


def test_diff_periods_json(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["q3"], files["q4"], "--by", "township", "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["mode"] == "periods" and doc["from"] == "2024Q3" and doc["to"] == "2024Q4"
    s = doc["summary"]
    assert (s["up"], s["down"], s["same"], s["new"], s["removed"]) == (1, 1, 5, 1, 1)
    assert s["transitions"] == {"0->0": 2, "0->3": 1, "1->1": 1, "3->1": 1, "3->3": 2}
    assert sum(s["transitions"].values()) == s["matched"] == 7
    assert sum(sum(row) for row in s["matrix"]) == 7 and len(s["matrix"]) == 6
    b = {x["branch_id"]: x for x in doc["branches"]}
    assert list(b) == sorted(b)
    assert b["T1"]["status"] == "up" and b["T1"]["gained"] == ["cy", "pa", "zb"] and b["T1"]["delta_points"] == 70
    assert b["U1"]["status"] == "down" and b["U1"]["lost"] == ["pa", "zb"] and b["U1"]["delta_points"] == 0
    assert b["W1"]["status"] == "new" and b["W1"]["stars_old"] is None
    assert b["R1"]["status"] == "removed" and b["R1"]["stars_new"] is None and b["R1"]["township"] == "丁镇"
    assert b["T4"]["status"] == "same" and (b["T4"]["township_old"], b["T4"]["township"]) == ("乙镇", "甲镇")
    spec_keys = ["branch_id", "branch_name", "status", "stars_old", "stars_new", "delta_stars", "points_old",
                 "points_new", "delta_points", "gained", "lost"]
    assert list(b["T1"])[:11] == spec_keys
    groups = {g["group"]: g for g in doc["groups"]}
    assert groups["丁镇"]["rank_old"] == 1 and groups["丁镇"]["rank_new"] == 4 and groups["丁镇"]["rank_change"] == -3
    assert groups["甲镇"]["delta_mean_points"] == 7
    golden("diff.json", out.stdout)


@pytest.mark.parametrize(("fmt", "name"), [("table", "diff.txt"), ("md", "diff.md"), ("csv", "diff.csv")])
def test_diff_formats_golden(files: dict[str, Path], fmt: str, name: str) -> None:
    out = run(files, "diff", files["q3"], files["q4"], "--by", "township", "-f", fmt)
    golden(name, out.stdout)


def test_diff_one_file_two_periods(files: dict[str, Path], tmp_path: Path) -> None:
    both = tmp_path / "both.csv"
    lines = ["期间," + HEADER] + [f"2024-Q3,{r}" for r in Q3] + [f"2024-Q4,{r}" for r in Q4]
    both.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run(files, "diff", both, "--from", "2024-Q3", "--to", "2024-Q4", "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["from"] == "2024-Q3" and doc["to"] == "2024-Q4"
    assert doc["summary"]["up"] == 1 and doc["summary"]["removed"] == 1


def test_rank_previous_period_from_one_file(files: dict[str, Path], tmp_path: Path) -> None:
    both = tmp_path / "both.csv"
    lines = ["期间," + HEADER] + [f"2024-Q3,{r}" for r in Q3] + [f"2024-Q4,{r}" for r in Q4]
    both.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = run(files, "rank", both, "--period", "2024-Q4", "--previous", both, "--previous-period", "2024-Q3",
              "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["period"] == "2024-Q4"
    assert {g["group"]: g["rank_change"] for g in doc["groups"]} == {"甲镇": 1, "乙镇": 2, "丙镇": 1, "丁镇": -3}


def test_diff_all_lists_unchanged_branches(files: dict[str, Path]) -> None:
    short = run(files, "diff", files["q3"], files["q4"], "-f", "md")
    full = run(files, "diff", files["q3"], files["q4"], "-f", "md", "--all")
    assert "| T2 |" not in short.stdout and "| T2 |" in full.stdout
    assert "--all" in short.stdout and "--all" not in full.stdout


def test_diff_needs_two_files_or_periods(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["q3"], code=2)
    assert "--from" in out.stderr


@pytest.mark.parametrize("command", [["diff"], ["rank", "--previous"], ["bulletin", "--previous"]])
def test_two_files_read_together_report_the_problems_of_both(files: dict[str, Path], tmp_path: Path,
                                                             command: list[str]) -> None:
    # the two files are read and scored at the same time (pipeline.concurrently): a mistake in each
    # is reported in the same run, the later file's too, each with its file and line
    bad_new = write(tmp_path / "new.csv", [*Q4[:2], "T9,坏村,甲镇,很多,100,5,是,好,0,0", *Q4[3:]])
    bad_old = write(tmp_path / "old.csv", [*Q3[:4], "T4,北村,乙镇,5,60,0,也许,差,0,0", *Q3[5:]])
    first, second = (bad_old, bad_new) if command == ["diff"] else (bad_new, bad_old)
    out = run(files, *command[:1], first, *command[1:], second, code=1)
    assert f"{bad_new.name}:4" in out.stderr and "很多" in out.stderr
    assert f"{bad_old.name}:6" in out.stderr and "也许" in out.stderr


def test_concurrently_runs_the_calls_at_once_and_keeps_their_order() -> None:
    import threading

    from wuxing_cli.errors import DataError, UsageError
    from wuxing_cli.pipeline.score import concurrently

    both = threading.Barrier(2, timeout=10)  # passes only if the two calls are running at the same time
    assert concurrently([lambda: (both.wait(), "a")[1], lambda: (both.wait(), "b")[1]]) == ["a", "b"]
    assert concurrently([lambda: 1]) == [1] and concurrently([]) == []

    def fail(error: Exception) -> Any:
        def call() -> Any:
            raise error
        return call

    with pytest.raises(DataError) as caught:
        concurrently([fail(DataError("first")), lambda: 2, fail(UsageError("third"))])
    assert [p.message for p in caught.value.problems] == ["first", "third"]
    with pytest.raises(ZeroDivisionError):  # a bug is raised as it is, never folded into problems
        concurrently([fail(DataError("first")), lambda: 1 // 0])


def test_diff_groups_csv(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["q3"], files["q4"], "--by", "township", "-f", "csv", "--rows", "groups")
    assert out.stdout.splitlines()[0].startswith("group,rank_old,rank_new,rank_change")


# -- diff: self-assessment vs verification ----------------------------------------------------------


def test_diff_self_vs_verified(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["self"], files["verified"], "--label-old", "自评", "--label-new", "复核",
              "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["mode"] == "sources" and doc["from"] == "自评" and doc["to"] == "复核"
    over = doc["overstatement"]
    assert over["summary"] == {"matched": 6, "overstated": 2, "share_overstated": 0.3333, "mean_over_points": 16.33}
    branches = over["branches"]
    assert [b["branch_id"] for b in branches[:2]] == ["T4", "U2"]
    t4 = branches[0]
    assert (t4["stars_claimed"], t4["stars_verified"], t4["over_stars"], t4["over_points"]) == (3, 0, 3, 63)
    assert t4["indicators"][0] == {"id": "cy:rate", "diff": 20}
    assert [i["id"] for i in t4["indicators"]] == ["cy:rate", "cy:inc", "cy:coop"]
    towns = [(g["group"], g["rank"], g["share_overstated"], g["mean_over_points"]) for g in over["groups"]]
    assert towns == [("乙镇", 1, 0.5, 17.5), ("甲镇", 2, 0.3333, 21), ("丙镇", 3, 0, 0)]
    golden("sources.json", out.stdout)


@pytest.mark.parametrize(("fmt", "name"), [("table", "sources.txt"), ("md", "sources.md"),
                                           ("csv", "sources.csv")])
def test_diff_self_vs_verified_formats(files: dict[str, Path], fmt: str, name: str) -> None:
    out = run(files, "diff", files["self"], files["verified"], "--label-old", "自评", "--label-new", "复核",
              "-f", fmt)
    golden(name, out.stdout)


# -- diff: criteria change --------------------------------------------------------------------------


def test_diff_criteria_change_flips_a_known_branch(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["q4"], "--criteria-new", files["criteria2025"], "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["mode"] == "criteria" and doc["from"] == "tiny 2024" and doc["to"] == "tiny 2025"
    b = {x["branch_id"]: x for x in doc["branches"]}
    # T2 and T3 (产业星 45 points) pass at 40 but not at 46; the capstone goes with it
    for bid in ("T2", "T3"):
        assert b[bid]["status"] == "down" and b[bid]["lost"] == ["cy", "zb"]
        assert b[bid]["delta_stars_rule"] == -2 and b[bid]["delta_stars_performance"] == 0
        assert b[bid]["delta_points"] == 0
    assert b["T1"]["status"] == "same"
    assert doc["summary"]["down"] == 2 and doc["summary"]["transitions"]["3->1"] == 2
    golden("criteria.json", out.stdout)
    table = run(files, "diff", files["q4"], "--criteria-new", files["criteria2025"], "-f", "md")
    golden("criteria.md", table.stdout)


def test_diff_criteria_change_with_two_periods_separates_performance(files: dict[str, Path]) -> None:
    out = run(files, "diff", files["q3"], files["q4"], "--criteria-new", files["criteria2025"], "-f", "json")
    b = {x["branch_id"]: x for x in json.loads(out.stdout)["branches"]}
    # T1 LOW → FULL: +3 stars from performance, nothing from the rule change
    assert b["T1"]["delta_stars_performance"] == 3 and b["T1"]["delta_stars_rule"] == 0
    assert b["T2"]["delta_stars_performance"] == 0 and b["T2"]["delta_stars_rule"] == -2
    assert b["T2"]["delta_stars"] == -2


# -- explain ----------------------------------------------------------------------------------------


def test_explain_plan_is_not_the_single_largest_gap(files: dict[str, Path]) -> None:
    out = run(files, "explain", files["explain"], "--branch", "E1", "-f", "json")
    doc = json.loads(out.stdout)
    cy = next(s for s in doc["star_results"] if s["id"] == "cy")
    assert cy["points"] == 28 and cy["gap"] == 12
    assert [(i["id"], i["lost"]) for i in cy["indicators"]] == [("inc", 10), ("rate", 8), ("coop", 4)]
    assert cy["plan"]["status"] == "plan"
    assert [s["indicator"] for s in cy["plan"]["steps"]] == ["rate", "coop"]
    assert cy["plan"]["recover_total"] == 12
    assert cy["indicators"][0]["rule"] == "≥50 万元得 20 分；≥20 得 15 分；≥10 得 10 分"
    assert cy["indicators"][1]["rule"] == "60%→100% 线性计分（满分 20）"
    zb = next(s for s in doc["star_results"] if s["id"] == "zb")
    assert zb["plan"]["requires"] == ["cy"] and zb["requires_unmet"] == ["cy"]
    golden("explain.json", out.stdout)


def test_explain_vetoed_star_says_no_plan(files: dict[str, Path]) -> None:
    out = run(files, "explain", files["explain"], "--branch", "李庄村", "-f", "json")
    doc = json.loads(out.stdout)
    pa = next(s for s in doc["star_results"] if s["id"] == "pa")
    assert pa["plan"]["status"] == "vetoed" and pa["plan"]["vetoes"] == ["crime"]
    assert pa["vetoes"][0]["inputs"] == {"cases": 2}
    assert "任何提分都不能获评此星" in pa["plan"]["text"]
    md = run(files, "explain", files["explain"], "--branch", "E2", "-f", "md")
    assert "发生刑事案件（刑事案件数=2 起）" in md.stdout
    golden("explain_vetoed.md", md.stdout)
    en = run(files, "explain", files["explain"], "--branch", "E2", "-f", "md", "--lang", "en")
    assert "no improvement can award this star until the veto clears" in en.stdout


@pytest.mark.parametrize(("fmt", "name"), [("table", "explain.txt"), ("md", "explain.md")])
def test_explain_formats_golden(files: dict[str, Path], fmt: str, name: str) -> None:
    out = run(files, "explain", files["explain"], "--branch", "张庄村", "-f", fmt)
    golden(name, out.stdout)


def test_explain_required_and_cap(files: dict[str, Path]) -> None:
    out = run(files, "explain", files["explain"], "--branch", "E3", "-f", "json")
    doc = json.loads(out.stdout)
    assert doc["capped_by"] == ["gang"] and doc["stars"] == 1
    pa = next(s for s in doc["star_results"] if s["id"] == "pa")
    assert pa["required_failed"] == ["grid"]
    assert [(s["indicator"], s["required"]) for s in pa["plan"]["steps"]] == [("grid", True)]


def test_explain_ambiguous_and_unknown_names(files: dict[str, Path]) -> None:
    out = run(files, "explain", files["explain"], "--branch", "新村", code=2)
    assert "matches 2 branches" in out.stderr and "E3" in out.stderr and "E4" in out.stderr
    out = run(files, "explain", files["explain"], "--branch", "张庄", code=2)
    assert "no branch '张庄'" in out.stderr and "张庄村 (E1)" in out.stderr
