"""The programme's words (issue 21, point 6): 摘星 never means losing a star, levels are named by the
criteria (三星, not 3星), 封顶 is explained as 限定星级, the bulletin cites the criteria by their own name
(and issuer only when given), and sentences about zero or one item read as an official would write them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.report.bulletin_data import write_fixtures
from tests.support import ROOT, invoke
from wuxing_cli.io.criteria_loader import load_criteria
from wuxing_cli.io.targets import load_targets
from wuxing_cli.models.results import ScoreRun
from wuxing_cli.pipeline.score import LoadOptions, run_score
from wuxing_cli.report.bulletin import build_bulletin, render_bulletin
from wuxing_cli.report.bulletin.lists import _movement_zh
from wuxing_cli.report.bulletin.sections import up_down_zh
from wuxing_cli.report.bulletin.text import cn_quotes
from wuxing_cli.report.bulletin.view import criteria_basis_zh
from wuxing_cli.report.labels import level_name, level_names

GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    return {k: Path(v.name) for k, v in write_fixtures(tmp_path).items()}


def score(path: Path, criteria: Path | str) -> ScoreRun:
    return run_score(path, [str(criteria)], LoadOptions(skip_invalid=True), by="township")


def intro(view: dict[str, Any]) -> str:
    return str(view["intro"][0])


# -- 摘星 means winning a star ------------------------------------------------------------------


def test_no_output_uses_zhaixing_for_a_loss() -> None:
    """No golden output (bulletin, rank, diff, explain, score …) writes 摘星 at all."""
    offenders = [str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()
                 and "摘星" in p.read_text(encoding="utf-8", errors="replace")]
    assert offenders == []


def test_bulletin_movement_words(files: dict[str, Path]) -> None:
    view = build_bulletin(score(files["current"], files["criteria"]), score(files["previous"], files["criteria"]))
    text = render_bulletin(view, "md")
    assert "### （二）降星支部" in text and "摘星" not in text
    assert "| 支部 | 乡镇（街道） | 上期星级 | 本期星级 | 未再获评星 | 原因 |" in text
    assert "| 支部 | 乡镇（街道） | 上期星级 | 本期星级 | 新获评星 |" in text


def test_history_warning_is_jiangxing_yujing() -> None:
    q3, q4 = ROOT / "examples" / "county-2024-Q3.csv", ROOT / "examples" / "county-2024-Q4.csv"
    out = invoke(["history", str(q3), str(q4), "-f", "md", "-q"])
    assert out.exit_code == 0, out.stderr
    assert "## 降星预警（余量≤5分、连续两期下降或否决事项趋近）" in out.stdout
    assert "摘星" not in out.stdout and "连带影响的星" in out.stdout


# -- levels named one way ------------------------------------------------------------------------


def test_level_names_come_from_the_criteria() -> None:
    rural = load_criteria(ROOT / "criteria" / "rural.yaml")
    assert level_names(5, "zh", [rural]) == ["无星", "一星", "二星", "三星", "四星", "五星"]
    assert level_names(2, "en", [rural]) == ["no star", "1 star", "2 stars"]
    custom = rural.model_copy(update={"levels": {3: "三星级"}})
    assert level_names(3, "zh", [custom])[2:] == ["二星", "三星级"]
    assert level_name(6, "zh") == "6星"  # beyond the default names: the count, never an empty cell


def test_rank_and_diff_headers_use_level_names() -> None:
    q3, q4 = str(ROOT / "examples" / "county-2024-Q3.csv"), str(ROOT / "examples" / "county-2024-Q4.csv")
    rank = invoke(["rank", q4, "--by", "township", "-f", "md", "-q"]).stdout
    assert "| 无星 | 一星 | 二星 | 三星 | 四星 | 五星 |" in rank and "3星" not in rank
    diff = invoke(["diff", q3, q4, "-f", "md", "-q"]).stdout
    assert "| 无星 | 一星 | 二星 | 三星 | 四星 | 五星 |" in diff and "| 三星 |" in diff and "1星" not in diff


# -- 封顶 explained as 限定星级 ---------------------------------------------------------------------


def test_cap_is_explained_as_limiting_the_level(files: dict[str, Path]) -> None:
    view = build_bulletin(score(files["current"], files["criteria"]), score(files["previous"], files["criteria"]))
    liu = next(r for r in view["movement"]["down"] if r["branch_id"] == "B004")
    assert "触发封顶事项（村干部涉黑涉恶），限定星级最高为二星" in liu["reasons"]
    assert "| 支部 | 乡镇（街道） | 封顶事项 | 限定最高星级 | 备注 |" in render_bulletin(view, "md")
    out = invoke(["explain", str(ROOT / "examples" / "county-2024-Q4.csv"), "--branch", "戴坡村", "-f", "md", "-q"])
    assert "- 封顶事项：村干部涉黑涉恶或村霸（村干部涉黑涉恶及村霸案件数(起)=1 起），限定星级最高为二星" in out.stdout
    table = invoke(["score", str(ROOT / "examples" / "county-2024-Q4.csv"), "-q"]).stdout
    assert "封顶（限定星级）：" in table


# -- the bulletin's basis ------------------------------------------------------------------------


def test_shipped_criteria_are_cited_by_their_name_without_an_issuer() -> None:
    rural = load_criteria(ROOT / "criteria" / "rural.yaml")
    assert rural.name == "河南省农村“五星”支部创建评分标准（示例，阈值为占位值）"
    assert rural.issuer is None and rural.source is None
    assert criteria_basis_zh([rural]) == "按照《河南省农村“五星”支部创建评分标准（示例，阈值为占位值）》"


def test_issuer_and_source_are_cited_when_given(files: dict[str, Path]) -> None:
    path = files["criteria"]
    text = path.read_text(encoding="utf-8").replace(
        "name: 示范县农村“五星”支部创建评分细则",
        'name: 示范县农村"五星"支部创建评分细则\nissuer: 中共示范县委组织部\nsource: 示组〔2024〕3号')
    path.write_text(text, encoding="utf-8")
    view = build_bulletin(score(files["current"], path), None, area="示范县", period="2024-Q2")
    assert intro(view).startswith("为及时掌握“五星”支部创建工作进展，根据中共示范县委组织部印发的"
                                  "《示范县农村“五星”支部创建评分细则》（示组〔2024〕3号），对示范县")
    assert view["meta"]["criteria"][0]["issuer"] == "中共示范县委组织部"
    english = build_bulletin(score(files["current"], path), None, lang="en")
    assert "scored against 示范县农村\"五星\"支部创建评分细则 (issued by 中共示范县委组织部)" in intro(english)


def test_basis_mixes_issued_and_local_criteria() -> None:
    rural = load_criteria(ROOT / "criteria" / "rural.yaml")
    community = load_criteria(ROOT / "criteria" / "community.yaml")
    issued = rural.model_copy(update={"name": '县"五星"细则', "issuer": "中共××县委组织部"})
    assert criteria_basis_zh([issued, community]) == (
        "根据中共××县委组织部印发的《县“五星”细则》，按照《河南省城市社区“五星”支部创建评分标准（示例，阈值为占位值）》")


def test_straight_quotes_become_chinese_quotes_in_pairs() -> None:
    assert cn_quotes('河南省农村"五星"支部') == "河南省农村“五星”支部"
    assert cn_quotes('"一"和"二"') == "“一”和“二”"
    assert cn_quotes('单个"引号') == '单个"引号'  # unpaired: left as written


# -- sentences about zero or one item ----------------------------------------------------------


@pytest.mark.parametrize(("counts", "expected"), [
    ({"up": 1, "down": 3}, "晋星支部1个，降星支部3个。"),
    ({"up": 2, "down": 0}, "晋星支部2个，无降星支部。"),
    ({"up": 0, "down": 4}, "无晋星支部，降星支部4个。"),
    ({"up": 0, "down": 0}, "无晋星、降星支部。"),
])
def test_overview_names_only_what_moved(counts: dict[str, int], expected: str) -> None:
    assert up_down_zh(counts) == expected


@pytest.mark.parametrize(("matched", "counts", "expected"), [
    (6, {"up": 1, "down": 3, "same": 2}, "与上期相比，两期均参评的6个支部中，晋星1个、降星3个，其余2个星级持平。"),
    (3, {"up": 0, "down": 3, "same": 0}, "与上期相比，两期均参评的3个支部中，降星3个。"),
    (5, {"up": 0, "down": 0, "same": 5}, "与上期相比，两期均参评的5个支部星级均未变动。"),
    (0, {"up": 0, "down": 0, "same": 0}, "本期参评支部与上期无重合，不作星级变动比较。"),
])
def test_movement_sentence(matched: int, counts: dict[str, int], expected: str) -> None:
    assert _movement_zh(matched, counts) == expected


def test_plan_with_one_group_met_names_it(files: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("乡镇,五星,三星\n城关镇,2,1\n合计,2,1\n", encoding="utf-8")
    view = build_bulletin(score(files["current"], files["criteria"]), None, targets=load_targets(path))
    text = next(s for s in view["sections"] if s["id"] == "targets")["paragraphs"][0]
    assert text == "对照创建规划，计划创建五星支部2个、三星及以上支部3个，本期已分别达到2个、3个。城关镇已完成规划目标。"
    assert "均已完成" not in text and "1个乡镇" not in text


def test_plan_levels_planned_at_zero_are_left_out(files: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "plan.csv"
    path.write_text("乡镇,五星,四星,三星\n城关镇,0,0,3\n河口乡,0,0,1\n", encoding="utf-8")
    view = build_bulletin(score(files["current"], files["criteria"]), None, targets=load_targets(path))
    text = next(s for s in view["sections"] if s["id"] == "targets")["paragraphs"][0]
    assert text.startswith("对照创建规划，计划创建三星及以上支部4个，本期已达到3个。")
    assert "支部0个" not in text
