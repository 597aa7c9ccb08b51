"""The bulletin (通报): view model sections on crafted data, targets, templates, escaping and golden files.

Golden files live in tests/golden/bulletin/; regenerate them with ``WUXING_UPDATE_GOLDEN=1 pytest``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.report.bulletin_data import CURRENT_ROWS, HEADER, PREVIOUS_ROWS, csv_text, write_fixtures
from tests.support import EXAMPLES, SRC, check_golden, invoke
from wuxing_cli.errors import DataError, UsageError
from wuxing_cli.io.targets import level_of, load_targets
from wuxing_cli.models.results import ScoreRun
from wuxing_cli.pipeline.score import LoadOptions, run_score
from wuxing_cli.report import svg
from wuxing_cli.report.bulletin import (
    build_bulletin,
    date_label,
    fmt_points,
    md_escape,
    period_label,
    render_bulletin,
)
from wuxing_cli.report.labels import Lang

# ------------------------------------------------------------------------------------------------
# helpers


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    return {k: Path(v.name) for k, v in write_fixtures(tmp_path).items()}


def score(path: Path, criteria: Path, *, period: str | None = None, skip: bool = True) -> ScoreRun:
    return run_score(path, [str(criteria)], LoadOptions(period=period, skip_invalid=skip), by="township")


@pytest.fixture
def runs(files: dict[str, Path]) -> tuple[ScoreRun, ScoreRun]:
    return score(files["current"], files["criteria"]), score(files["previous"], files["criteria"])


@pytest.fixture
def view(runs: tuple[ScoreRun, ScoreRun]) -> dict[str, Any]:
    current, previous = runs
    return build_bulletin(current, previous, by="township", lang="zh", area="示范县", period="2024-Q2",
                          date="2024-07-05")


def cli(*args: str) -> tuple[int, str]:
    result = invoke(["bulletin", *args])
    return result.exit_code, result.output


def section(text: str, heading: str) -> str:
    """The Markdown from a heading line containing ``heading`` to the next heading of the same or higher level."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("#") and heading in line)
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next((j for j in range(start + 1, len(lines))
                if lines[j].startswith("#") and len(lines[j]) - len(lines[j].lstrip("#")) <= level), len(lines))
    return "\n".join(lines[start:end])


def by_id(items: list[dict[str, Any]], branch_id: str) -> dict[str, Any]:
    return next(i for i in items if i["branch_id"] == branch_id)


# ------------------------------------------------------------------------------------------------
# the view model, section by section


def test_view_is_plain_json_with_the_documented_keys(view: dict[str, Any]) -> None:
    assert list(view) == ["schema", "lang", "meta", "labels", "intro", "sections", "closing", "overview", "stars",
                          "league", "movement", "vetoes", "weaknesses", "near_misses", "problems", "targets",
                          "data_quality"]
    assert json.loads(json.dumps(view, ensure_ascii=False)) == view
    headings = [s["heading"] for s in view["sections"]]
    assert headings == ["一、总体情况", "二、各星获评情况", "三、乡镇（街道）排名", "四、星级变动情况",
                        "五、一票否决及封顶事项", "六、共性短板指标", "七、冲星潜力支部", "八、问题清单",
                        "九、数据质量说明"]


def test_title_names_area_and_period(view: dict[str, Any]) -> None:
    meta = view["meta"]
    assert meta["title"] == "示范县2024年第二季度“五星”支部创建情况通报"
    assert meta["subtitle"] is None and meta["period"] == "2024-Q2"
    assert meta["date_label"] == "2024年7月5日"


def test_overview_counts_shares_and_change(view: dict[str, Any]) -> None:
    ov = view["overview"]
    assert ov["branches"] == 7
    levels = {lv["stars"]: lv for lv in ov["levels"]}
    assert [lv["stars"] for lv in ov["levels"]] == [5, 4, 3, 2, 1, 0]
    assert {n: lv["count"] for n, lv in levels.items()} == {5: 2, 4: 0, 3: 1, 2: 2, 1: 2, 0: 0}
    assert levels[5]["pct"] == 28.6
    assert levels[2]["count_previous"] == 3 and levels[2]["count_delta"] == -1
    assert ov["three_plus"] == {"count": 3, "pct": 42.9, "count_delta": 0, "pct_delta": 0.0}
    assert ov["previous"]["branches"] == 7 and ov["branches_delta"] == 0
    text = view["sections"][0]["paragraphs"]
    assert "共评定村党组织7个" in text[0] and "五星支部2个，占28.6%" in text[0]
    assert "晋星支部1个，降星支部3个" in text[1]


def test_star_award_rates_and_change(view: dict[str, Any]) -> None:
    stars = {s["id"]: s for s in view["stars"]}
    assert [s["id"] for s in view["stars"]] == ["zbgy", "cyxw", "stjy", "pafz", "wmxf"]
    pafz = stars["pafz"]
    assert (pafz["branches"], pafz["earned"], pafz["awarded"], pafz["vetoed"]) == (7, 4, 4, 2)
    assert pafz["rate"] == 57.1 and pafz["previous"]["rate"] == 85.7 and pafz["rate_delta"] == -28.6
    # the capstone: earned by 5, awarded only where the other four are awarded
    assert (stars["zbgy"]["earned"], stars["zbgy"]["awarded"]) == (5, 3)
    assert stars["stjy"]["owner"] == "住建局"


def test_league_table_rank_change_and_bottom_named(view: dict[str, Any]) -> None:
    league = view["league"]
    assert [(g["rank"], g["group"]) for g in league["groups"]] == [(1, "城关镇"), (2, "河口乡"), (3, "石桥镇")]
    assert league["bottom"] == ["石桥镇"] and league["top"] == ["城关镇"]
    assert all(g["rank_change"] == 0 for g in league["groups"])
    text = "\n".join(view["sections"][2]["paragraphs"])
    assert "石桥镇排名靠后" in text


def test_rank_change_is_previous_minus_current(files: dict[str, Path]) -> None:
    # previously 石桥镇 was best: swap the data so the league order changes
    swapped = [r.replace("城关镇", "X").replace("石桥镇", "城关镇").replace("X", "石桥镇") for r in PREVIOUS_ROWS]
    Path("old.csv").write_text(csv_text(swapped), encoding="utf-8")
    current = score(files["current"], files["criteria"])
    before = score(Path("old.csv"), files["criteria"])
    league = build_bulletin(current, before, by="township")["league"]
    change = {g["group"]: (g["rank_previous"], g["rank"], g["rank_change"]) for g in league["groups"]}
    assert change["城关镇"][2] == change["城关镇"][0] - change["城关镇"][1] > 0
    assert change["石桥镇"][2] < 0


def test_lost_star_is_listed_under_down_with_the_star_name(view: dict[str, Any]) -> None:
    down = view["movement"]["down"]
    wang = by_id(down, "B001")
    assert [s["name"] for s in wang["lost"]] == ["支部过硬星", "平安法治星"]
    assert wang["level_old"] == "五星" and wang["level_new"] == "三星"
    assert any("一票否决（发生刑事案件）" in r for r in wang["reasons"])
    text = render_bulletin(view, "md")
    block = section(text, "降星支部")
    row = next(line for line in block.splitlines() if "王庄村" in line)
    assert "平安法治星" in row and "支部过硬星" in row
    # a capped branch lost no star flag but its level: the cap is the reason
    liu = by_id(down, "B004")
    assert liu["lost"] == [] and "触发封顶事项（村干部涉黑涉恶），限定星级最高为二星" in liu["reasons"]


def test_gained_star_is_listed_under_up(view: dict[str, Any]) -> None:
    up = view["movement"]["up"]
    assert [u["branch_id"] for u in up] == ["B002"]
    assert [s["name"] for s in up[0]["gained"]] == ["支部过硬星", "产业兴旺星"]
    block = section(render_bulletin(view, "md"), "晋星支部")
    assert "李寨村" in block and "支部过硬星、产业兴旺星" in block
    counts = view["movement"]["counts"]
    assert counts == {"up": 1, "down": 3, "same": 2, "new": 1, "removed": 1}
    assert [r["branch_name"] for r in view["movement"]["removed"]] == ["周营村"]


def test_vetoed_branch_appears_under_veto_events(view: dict[str, Any]) -> None:
    events = view["vetoes"]["events"]
    assert [(e["branch_name"], e["star"], e["veto"], e["by_missing"]) for e in events] == [
        ("王庄村", "平安法治星", "发生刑事案件", False),
        ("张湾村", "平安法治星", "发生刑事案件", True),   # 刑事案件数 left blank
    ]
    caps = view["vetoes"]["caps"]
    assert [(c["branch_name"], c["cap"], c["max_level"]) for c in caps] == [("刘楼村", "村干部涉黑涉恶", "二星")]
    block = section(render_bulletin(view, "md"), "一票否决")
    assert "| 王庄村 | 城关镇 | 平安法治星 | 发生刑事案件 |" in block
    assert "因数据缺失按触发处理" in block


def test_weaknesses_rank_indicators_by_points_lost(view: dict[str, Any]) -> None:
    overall = view["weaknesses"]["overall"]
    # 卫生户厕普及率: 20 points × 7 branches − scored (20+18.29+6.29+20+14.29+0+16) = 45.13 lost
    assert overall[0]["indicator"] == "卫生户厕普及率"
    assert overall[0]["lost"] == pytest.approx(45.13)
    assert overall[0]["failed"] == 5 and overall[0]["branches"] == 7
    assert overall[1]["indicator"] == "村集体经济收入" and overall[1]["lost"] == 40
    lost = [i["lost"] for i in overall]
    assert lost == sorted(lost, reverse=True)
    per_star = {s["star_id"]: s for s in view["weaknesses"]["per_star"]}
    assert per_star["pafz"]["indicators"][0]["indicator"] == "网格化管理"


def test_near_misses_with_the_gap(view: dict[str, Any]) -> None:
    near = {b["branch_id"]: b for b in view["near_misses"]["branches"]}
    chen = near["B005"]["reach"]
    assert [(r["star"], r["gap"]) for r in chen] == [("生态宜居星", 1.71)]
    assert "陈岗村" in section(render_bulletin(view, "md"), "冲星潜力") and "差1.71分" in render_bulletin(view, "md")
    # a vetoed star is never "within reach"
    assert all(r["star_id"] != "pafz" for b in near.values() for r in b["reach"] if b["branch_id"] in ("B001", "B003"))


def test_near_respects_the_threshold(runs: tuple[ScoreRun, ScoreRun]) -> None:
    current, _ = runs
    assert build_bulletin(current, None, near=1.0)["near_misses"]["count"] < \
        build_bulletin(current, None, near=5.0)["near_misses"]["count"]


def test_problem_list_per_township_with_lead_unit(view: dict[str, Any]) -> None:
    groups = {g["group"]: g for g in view["problems"]["groups"]}
    assert list(groups) == ["城关镇", "河口乡", "石桥镇"]  # league order
    shiqiao = groups["石桥镇"]["items"]
    assert shiqiao[0]["failed"] == 2 and shiqiao[0]["branches"] == 2
    owners = {i["indicator"]: i["owner"] for i in shiqiao}
    assert owners["卫生户厕普及率"] == "住建局" and owners["网格化管理"] == "政法委"
    counts = [(i["failed"], i["lost"]) for i in shiqiao]
    assert counts == sorted(counts, reverse=True)
    block = section(render_bulletin(view, "md"), "问题清单")
    assert "| 石桥镇 | 1 |" in block and "牵头单位" in block


def test_problem_examples_are_the_first_failing_branches_by_id_and_lost_points_add_up(
        files: dict[str, Path], tmp_path: Path) -> None:
    # eight 石桥镇 branches below full 网格化管理 points (否), written out of id order, the higher ids
    # with more income (so ranked first); one has no name
    ids = ["C08", "C03", "C07", "C01", "C06", "C02", "C05", "C04"]
    rows = [f"{bid},{'' if bid == 'C02' else '村' + bid},石桥镇,{int(bid[1:]) * 7},85,否,是,较好,0,0" for bid in ids]
    rows += ["C00,满分村,石桥镇,30,85,是,是,较好,0,0", "D01,城关村,城关镇,30,85,否,是,较好,0,0"]
    path = tmp_path / "many.csv"
    path.write_text(csv_text(rows), encoding="utf-8")
    view = build_bulletin(score(path, files["criteria"]), None, by="township")
    groups = {g["group"]: g for g in view["problems"]["groups"]}
    grid = next(i for i in groups["石桥镇"]["items"] if i["indicator_id"] == "grid")
    assert grid["failed"] == 8 and grid["branches"] == 9 and grid["lost"] == 80
    assert grid["examples"] == ["村C01", "C02", "村C03", "村C04", "村C05"]
    town = next(i for i in groups["城关镇"]["items"] if i["indicator_id"] == "grid")
    assert (town["failed"], town["branches"], town["examples"]) == (1, 1, ["城关村"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bulletin_does_not_depend_on_the_order_of_the_rows(runs: tuple[ScoreRun, ScoreRun], seed: int,
                                                               files: dict[str, Path]) -> None:
    # `wuxing bulletin` scores with order=False (no sort of the wide frame into rank order): every
    # section must aggregate, or sort what it lists itself. Shuffled rows must give the same bulletin.
    import dataclasses

    county = (run_score(EXAMPLES / "county-2024-Q4.csv", columns="indicators", by="township"),
              run_score(EXAMPLES / "county-2024-Q3.csv", columns="results", by="township"))
    plan = load_targets(files["targets_yaml"])
    for (current, previous), targets in ((runs, plan), (county, None)):
        assert current.ordered and current.frame["rank"].is_sorted()

        def shuffled(run: ScoreRun, salt: int) -> ScoreRun:
            frame = run.frame.sample(fraction=1.0, shuffle=True, seed=seed * 10 + salt)
            assert not frame["rank"].is_sorted()
            return dataclasses.replace(run, frame=frame, ordered=False)

        for before in (previous, None):
            for options in ({"by": "township", "lang": "zh", "targets": targets}, {"by": "county", "lang": "en"}):
                expected = build_bulletin(current, before, **options)
                assert expected["targets"] if options.get("targets") else True
                got = build_bulletin(shuffled(current, 1), shuffled(before, 2) if before else None, **options)
                assert got == expected
                assert render_bulletin(got, "html") == render_bulletin(expected, "html")


def test_bulletin_command_scores_without_sorting_and_prints_the_same(files: dict[str, Path]) -> None:
    code, text = cli(str(files["current"]), "--previous", str(files["previous"]), "-c", str(files["criteria"]),
                     "--skip-invalid", "-q", "--date", "2024-07-05")
    assert code == 0
    current = score(files["current"], files["criteria"])
    previous = score(files["previous"], files["criteria"])
    assert text == render_bulletin(build_bulletin(current, previous, by="township", date="2024-07-05"), "md")
    unordered = run_score(files["current"], [str(files["criteria"])], LoadOptions(skip_invalid=True),
                          by="township", columns="indicators", order=False)
    assert not unordered.ordered and unordered.frame.height == current.frame.height
    assert unordered.frame.sort("rank", "branch_id").equals(current.frame.select(unordered.frame.columns))


def test_data_quality_missing_values_and_rejected_rows(view: dict[str, Any]) -> None:
    dq = view["data_quality"]
    assert {m["field"]: m["branches"] for m in dq["missing"]} == {"刑事案件数": 1, "卫生户厕普及率(%)": 1}
    assert dq["branches_with_missing"] == 2
    assert [(r["line"], r["branch_id"]) for r in dq["rejected"]] == [(9, "B009")]
    assert dq["rejected"][0]["reasons"]
    block = section(render_bulletin(view, "md"), "数据质量")
    assert "剔除无效行1行" in block and "| 9 | B009 |" in block


def test_without_previous_the_bulletin_says_so(runs: tuple[ScoreRun, ScoreRun]) -> None:
    current, _ = runs
    view = build_bulletin(current, None)
    assert view["movement"]["available"] is False
    text = render_bulletin(view, "md")
    assert "未提供上期数据" in text and "上期" not in section(text, "总体情况")


def test_english_bulletin(runs: tuple[ScoreRun, ScoreRun]) -> None:
    current, previous = runs
    view = build_bulletin(current, previous, lang="en", area="Shifan County", period="2024-Q2")
    text = render_bulletin(view, "md", lang="en")
    assert text.startswith("# Shifan County: Five-Star Branch Bulletin, 2024 Q2")
    assert "## 4. Changes in star level" in text and "### 4.2 Branches that lost stars" in text
    assert "1 branch gained stars" in text
    assert not re.search(r"[一二三四五六七八九十]、", text)


# ------------------------------------------------------------------------------------------------
# targets (plan vs actual)


def test_plan_vs_actual_arithmetic(runs: tuple[ScoreRun, ScoreRun], files: dict[str, Path]) -> None:
    current, _ = runs
    plan = load_targets(files["targets_csv"])
    view = build_bulletin(current, None, targets=plan)
    tg = view["targets"]
    rows = {g["group"]: {r["level"]: (r["planned"], r["achieved"], r["gap"]) for r in g["levels"]}
            for g in tg["groups"]}
    # 城关镇 plans 2 五星 + 1 四星 (cumulative 3 at ≥4); it has 2 五星 and 1 三星
    assert rows["城关镇"] == {5: (2, 2, 0), 4: (3, 2, 1), 3: (3, 3, 0)}
    # 河口乡 plans 1 五星 + 1 三星; it has 二星 and 一星 only
    assert rows["河口乡"] == {5: (1, 0, 1), 4: (1, 0, 1), 3: (2, 0, 2)}
    assert rows["石桥镇"] == {5: (0, 0, 0), 4: (0, 0, 0), 3: (1, 0, 1)}
    assert [g["on_track"] for g in tg["groups"]] == [False, False, False]
    total = {r["level"]: (r["planned"], r["achieved"], r["gap"]) for r in tg["total"]["levels"]}
    assert total == {5: (3, 2, 1), 4: (4, 2, 2), 3: (6, 3, 3)}
    headings = [s["heading"] for s in view["sections"]]
    assert headings[-2] == "九、年度创建规划完成情况" and headings[-1] == "十、数据质量说明"
    block = section(render_bulletin(view, "md"), "规划完成情况")
    assert "| **城关镇** | **2/2** | **2/3** | **3/3** | **四星及以上差1个** | **未完成** |" in block
    assert "| 合计 | 2/3 | 2/4 | 3/6 | 五星差1个；四星及以上差2个；三星及以上差3个 | 未完成 |" in block


def test_plan_met_is_on_track(runs: tuple[ScoreRun, ScoreRun], tmp_path: Path) -> None:
    current, _ = runs
    path = tmp_path / "plan.csv"
    path.write_text("乡镇,五星,三星\n城关镇,2,1\n合计,2,1\n", encoding="utf-8")
    tg = build_bulletin(current, None, targets=load_targets(path))["targets"]
    assert [g["on_track"] for g in tg["groups"]] == [True]
    assert tg["total"]["declared"] is True and tg["unplanned"] == ["河口乡", "石桥镇"]


def test_targets_yaml_equals_csv(files: dict[str, Path]) -> None:
    from_csv = load_targets(files["targets_csv"])
    from_yaml = load_targets(files["targets_yaml"])
    assert {g: {k: v for k, v in c.items() if v} for g, c in from_csv.groups.items()} == from_yaml.groups
    assert from_yaml.year == "2024"


def test_targets_gbk_csv_and_level_spellings(tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_bytes("乡镇（街道）,五星支部(个),4星,三星级\n城关镇,１,2,\n".encode("gb18030"))
    plan = load_targets(path)
    assert plan.groups == {"城关镇": {5: 1, 4: 2, 3: 0}}
    assert [level_of(h) for h in ("五星", "5", "five", "5 stars", "计划五星", "三星及以上", "备注")] == [
        5, 5, 5, 5, 5, None, None]


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("乡镇,五星\n城关镇,2\n城关镇,3\n", 3, "planned twice"),
    ("乡镇,五星\n城关镇,两个\n", 2, "whole number"),
    ("乡镇,五星\n城关镇,-1\n", 2, "negative"),
    ("乡镇,五星,六星\n城关镇,1,1\n", 1, "unknown column"),
    ("备注,五星\n城关镇,1\n", 1, "no group column"),
    ("乡镇\n城关镇\n", 1, "no level column"),
    ("乡镇,五星\n,2\n", 2, "group name is empty"),
    ("", 1, "empty"),
])
def test_targets_csv_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = tmp_path / "plan.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_targets(path)
    problem = info.value.problems[0]
    assert problem.file == str(path) and problem.line == line and fragment in problem.message


def test_targets_yaml_errors_have_lines(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("groups:\n  城关镇: {五星: 2}\n  河口乡: {七星: 1}\n  石桥镇: {三星: x}\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_targets(path)
    assert [(p.line, p.header) for p in info.value.problems] == [(3, "七星"), (4, "三星")]


def test_targets_reject_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "plan.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(DataError, match="cannot read targets"):
        load_targets(path)


# ------------------------------------------------------------------------------------------------
# escaping and templates


def test_html_escapes_a_script_in_a_branch_name(files: dict[str, Path], tmp_path: Path) -> None:
    rows = [r.replace("王庄村", "<script>alert(1)</script>") for r in CURRENT_ROWS[:-1]]
    Path("evil.csv").write_text(csv_text(rows), encoding="utf-8")
    code, out = cli("evil.csv", "-c", str(files["criteria"]), "--previous", str(files["previous"]),
                    "-f", "html", "-o", "evil.html")
    assert code == 0, out
    html = Path("evil.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render_bulletin(build_bulletin(score(Path("evil.csv"), files["criteria"]), None), "md")
    assert "<script>" not in markdown and r"\<script\>alert(1)\</script\>" in markdown


def test_markdown_cells_cannot_break_tables() -> None:
    assert md_escape("a|b\nc") == r"a\|b c"
    assert md_escape("[x](y) `z` *w*") == r"\[x\](y) \`z\` \*w\*"


def test_user_template_reads_the_view_and_may_extend_the_bundled_one(view: dict[str, Any]) -> None:
    out = render_bulletin(view, "md", "{{ meta.title }}|{{ overview.branches }}|{{ stars[0].name }}")
    assert out == "示范县2024年第二季度“五星”支部创建情况通报|7|支部过硬星"
    extended = render_bulletin(view, "html", '{% extends "bulletin.html" %}{% block closing %}<p>附件：{{ '
                                             'meta.area }}</p>{% endblock %}')
    assert "<p>附件：示范县</p>" in extended and "<svg" in extended
    escaped = render_bulletin(view, "html", "{{ '<b>' }}")
    assert escaped == "&lt;b&gt;"


@pytest.mark.parametrize(("template", "fragment"), [
    ("{{ ''.__class__ }}", "unsafe"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "unsafe"),
    ("{{ cycler.__init__.__globals__.os }}", "unsafe"),
    ("{{ os.system('id') }}", "unknown name"),
    ("{{ sections.append(1) }}", "unsafe"),
    ("{{ 'x' * 100000000 }}", "too long"),
    ("{{ nothing_here }}", "unknown name"),
    ("{% for %}", "syntax error"),
    ("{{ 1 / 0 }}", "ZeroDivisionError"),
])
def test_user_template_is_sandboxed(view: dict[str, Any], template: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        render_bulletin(view, "html", template)
    assert fragment in info.value.problems[0].message


def test_unsafe_template_fails_cleanly_through_the_cli(files: dict[str, Path], tmp_path: Path) -> None:
    Path("evil.j2").write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run(
        [sys.executable, "-m", "wuxing_cli", "bulletin", str(files["current"]), "-c", str(files["criteria"]),
         "--skip-invalid", "--template", "evil.j2", "-o", "out.md"],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode in (1, 2), proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "evil.j2" in proc.stderr and "unsafe" in proc.stderr
    assert not Path("out.md").exists()


# ------------------------------------------------------------------------------------------------
# the command


def test_cli_writes_markdown_and_is_deterministic(files: dict[str, Path]) -> None:
    args = [str(files["current"]), "-c", str(files["criteria"]), "--previous", str(files["previous"]),
            "--skip-invalid", "--area", "示范县"]
    assert cli(*args, "-o", "a.md")[0] == 0
    assert cli(*args, "-o", "b.md")[0] == 0
    first = Path("a.md").read_text(encoding="utf-8")
    assert first == Path("b.md").read_text(encoding="utf-8")
    assert not re.search(r"20\d\d年\d+月\d+日", first)  # no clock without --date
    assert cli(*args, "--date", "2024-07-05", "-o", "c.md")[0] == 0
    assert Path("c.md").read_text(encoding="utf-8").rstrip().endswith("2024年7月5日")


def test_cli_period_selects_from_a_multi_period_file(files: dict[str, Path]) -> None:
    code, out = cli(str(files["both"]), "-c", str(files["criteria"]), "--period", "2024-Q2",
                    "--previous-period", "2024-Q1", "--area", "示范县", "-o", "p.md")
    assert code == 0, out
    text = Path("p.md").read_text(encoding="utf-8")
    assert text.startswith("# 示范县2024年第二季度“五星”支部创建情况通报")
    assert "| 王庄村 | 城关镇 | 五星 | 三星 |" in text


def test_cli_period_without_a_period_column_is_shown_in_the_title(files: dict[str, Path]) -> None:
    code, out = cli(str(files["current"]), "-c", str(files["criteria"]), "--skip-invalid", "--period", "2024-06",
                    "--title", "关于2024年6月份“五星”支部创建情况的通报", "--area", "示范县", "-o", "t.md")
    assert code == 0, out
    head = Path("t.md").read_text(encoding="utf-8").splitlines()[:3]
    assert head == ["# 关于2024年6月份“五星”支部创建情况的通报", "", "示范县"]


def test_cli_targets_and_bad_targets(files: dict[str, Path]) -> None:
    code, out = cli(str(files["current"]), "-c", str(files["criteria"]), "--skip-invalid", "--targets",
                    str(files["targets_yaml"]), "-o", "t.md")
    assert code == 0, out
    assert "年度创建规划完成情况" in Path("t.md").read_text(encoding="utf-8")
    Path("bad.csv").write_text("乡镇,五星\n城关镇,x\n", encoding="utf-8")
    code, out = cli(str(files["current"]), "-c", str(files["criteria"]), "--skip-invalid", "--targets", "bad.csv")
    assert code == 1 and "bad.csv:2" in out


def test_cli_refuses_to_overwrite_an_input(files: dict[str, Path]) -> None:
    code, out = cli(str(files["current"]), "-c", str(files["criteria"]), "--skip-invalid",
                    "-o", str(files["current"]))
    assert code == 2 and "refusing to overwrite" in out


def test_cli_without_skip_invalid_lists_the_bad_cell(files: dict[str, Path]) -> None:
    code, out = cli(str(files["current"]), "-c", str(files["criteria"]), "-o", "x.md")
    assert code == 1 and "十万" in out and not Path("x.md").exists()


# ------------------------------------------------------------------------------------------------
# formatting helpers and charts


def test_period_and_date_labels() -> None:
    assert period_label("2024-Q2", Lang.zh) == "2024年第二季度"
    assert period_label("2024Q4", Lang.en) == "2024 Q4"
    assert period_label("2024-06", Lang.zh) == "2024年6月"
    assert period_label("2024-06", Lang.en) == "June 2024"
    assert period_label("2024H1", Lang.zh) == "2024年上半年"
    assert period_label("2024", Lang.zh) == "2024年度"
    assert period_label("第三次观摩", Lang.zh) == "第三次观摩"
    assert date_label("2024-07-05", Lang.zh) == "2024年7月5日"
    assert date_label("2024-07-05", Lang.en) == "5 July 2024"
    assert fmt_points(86.25) == "86.25" and fmt_points(410.0) == "410" and fmt_points(0.125) == "0.13"


def test_svg_charts_are_deterministic_and_escaped() -> None:
    series = [svg.Series("本期", [3, 0, 1.5]), svg.Series("上期", [2, None, 1], svg.PREVIOUS)]
    first = svg.column_chart(["五星", "<四星>", "三星"], series, title="各星级 & 数量")
    assert first == svg.column_chart(["五星", "<四星>", "三星"], series, title="各星级 & 数量")
    assert "&lt;四星&gt;" in first and "各星级 &amp; 数量" in first and "<script" not in first
    assert "Noto Sans CJK SC" in first
    bars = svg.bar_chart(["城关镇", "河口乡"], [svg.Series("本期", [64.1, 52.65])], title="平均得分", highlight=[1])
    assert bars.count("<rect") == 2 and svg.HIGHLIGHT in bars
    assert svg.nice_max(64.1) == (80.0, 20.0) and svg.nice_max(3) == (3.0, 1.0) and svg.nice_max(0) == (1.0, 1.0)


# ------------------------------------------------------------------------------------------------
# golden files (md and html, zh and en, with and without --previous)

GOLDEN_CASES = [
    (fmt, lang, prev) for fmt in ("md", "html") for lang in ("zh", "en") for prev in (True, False)
]


@pytest.mark.parametrize(("fmt", "lang", "prev"), GOLDEN_CASES,
                         ids=[f"{f}-{lang}-{'prev' if p else 'single'}" for f, lang, p in GOLDEN_CASES])
def test_golden(files: dict[str, Path], fmt: str, lang: str, prev: bool) -> None:
    name = f"{lang}-{'prev' if prev else 'single'}.{fmt}"
    args = [str(files["current"]), "-c", str(files["criteria"]), "--skip-invalid", "-f", fmt, "--lang", lang,
            "--area", "示范县" if lang == "zh" else "Shifan County", "--period", "2024-Q2", "--date", "2024-07-05",
            "-o", name]
    if prev:
        args += ["--previous", str(files["previous"]), "--targets", str(files["targets_csv"])]
    code, out = cli(*args)
    assert code == 0, out
    got = Path(name).read_text(encoding="utf-8")
    check_golden(f"bulletin/{name}", got)



def test_area_defaults_to_the_single_county_and_previous_period_is_named(files: dict[str, Path]) -> None:
    header = "县区,期间," + HEADER
    Path("cur.csv").write_text(csv_text([f"示范县,2024-Q2,{r}" for r in CURRENT_ROWS[:-1]], header), encoding="utf-8")
    Path("old.csv").write_text(csv_text([f"示范县,2024-Q1,{r}" for r in PREVIOUS_ROWS], header), encoding="utf-8")
    view = build_bulletin(score(Path("cur.csv"), files["criteria"]), score(Path("old.csv"), files["criteria"]))
    assert view["meta"]["title"] == "示范县2024年第二季度“五星”支部创建情况通报"
    assert view["sections"][0]["paragraphs"][1].startswith("与上期（2024年第一季度）相比")
