"""History over crafted series: streaks, first awards, group trends, 降星预警 rules, tenure, and the loader
and CLI on small files (one run on the example county)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import wuxing_cli.cli.history  # noqa: F401  (registers the commands)
from tests.support import EXAMPLES, invoke
from wuxing_cli.engine import history as hist
from wuxing_cli.engine.score import score
from wuxing_cli.errors import DataError
from wuxing_cli.io.criteria_loader import check_criteria_text
from wuxing_cli.models.criteria import Criteria
from wuxing_cli.pipeline.history import load_history
from wuxing_cli.report.history import sparkline

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
    vetoes: [{id: petition, name: 上访过多, when: "petitions >= 3"}]
  - id: s2
    name: 星二
    pass_mark: 60
    requires: [s1]
    {tenure}
    indicators: [{id: b, name: B, field: b, points: 100, rule: {type: linear, zero_at: 0, full_at: 100}}]
caps:
  - {id: gang, name: 涉黑涉恶, when: "gang >= 2", max_stars: 1}
"""


def criteria(tenure: str = "") -> Criteria:
    loaded = check_criteria_text(CRITERIA.replace("{tenure}", tenure), "t.yaml")
    assert loaded.criteria is not None and loaded.ok, [p.format() for p in loaded.problems]
    return loaded.criteria


Row = tuple[float, float] | tuple[float, float, int, int]


def long_frame(crit: Criteria, periods: list[dict[str, Row]], groups: dict[str, str] | None = None) -> pl.DataFrame:
    """Score each period's rows {branch: (a, b[, petitions, gang])} and stack them like the loader does."""
    frames = []
    for index, rows in enumerate(periods):
        data = pl.DataFrame({
            "branch_id": list(rows),
            "branch_name": [f"村{b}" for b in rows],
            "township": [(groups or {}).get(b, "甲镇") for b in rows],
            "a": [float(v[0]) for v in rows.values()],
            "b": [float(v[1]) for v in rows.values()],
            "petitions": [int(v[2]) if len(v) > 2 else 0 for v in rows.values()],  # type: ignore[misc]
            "gang": [int(v[3]) if len(v) > 3 else 0 for v in rows.values()],  # type: ignore[misc]
        })
        frame = score([(crit, data)])
        frames.append(frame.with_columns(pl.lit(f"2025-Q{index + 1}" if index < 4 else f"2026-Q{index - 3}")
                                         .alias("period"), pl.lit(index, pl.Int32).alias(hist.PERIOD_INDEX)))
    return hist.rerank(hist.apply_tenure(pl.concat(frames, how="diagonal_relaxed"), [crit]))


def rows_of(frame: pl.DataFrame, branch: str) -> list[dict[str, Any]]:
    return frame.filter(pl.col("branch_id") == branch).sort(hist.PERIOD_INDEX).to_dicts()


# --------------------------------------------------------------------------------------------------
# trends and streaks


def test_streaks_changes_and_first_awards() -> None:
    crit = criteria()
    long = long_frame(crit, [
        {"A": (70, 70), "B": (70, 10), "C": (10, 10)},
        {"A": (70, 70), "B": (70, 70), "C": (70, 10)},
        {"A": (70, 70), "B": (70, 70)},               # C missing from the third period
        {"A": (50, 70), "B": (70, 70), "C": (70, 10)},
    ])
    series = hist.branch_history(long, ["s1", "s2"])
    a = rows_of(series, "A")
    assert [r["stars"] for r in a] == [2, 2, 2, 0]
    assert [r["streak"] for r in a] == [1, 2, 3, 1]
    assert [r["delta_stars"] for r in a] == [None, 0, 0, -2]
    assert a[3]["lost"] == "s1;s2" and a[3]["gained"] == ""
    b = rows_of(series, "B")
    assert [r["streak"] for r in b] == [1, 1, 2, 3]
    assert b[1]["gained"] == "s2"
    c = rows_of(series, "C")
    assert [r["period"] for r in c] == ["2025-Q1", "2025-Q2", "2025-Q4"]
    assert [r["streak"] for r in c] == [1, 1, 1]          # a missing period breaks the streak
    assert c[2]["delta_stars"] is None and c[2]["gained"] == ""

    labels = ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    summary = {r["branch_id"]: r for r in hist.branch_summary(series, labels, ["s1", "s2"]).to_dicts()}
    assert summary["A"]["stars_series"] == [2, 2, 2, 0]
    assert summary["C"]["stars_series"] == [0, 1, None, 1]
    assert summary["C"]["present_latest"] and summary["C"]["periods_present"] == 3
    assert summary["B"]["first:s2"] == "2025-Q2" and summary["B"]["first:s1"] == "2025-Q1"
    assert summary["C"]["first:s1"] == "2025-Q2" and summary["C"]["first:s2"] is None
    assert sparkline(summary["C"]["stars_series"]) == "▁▂·▂"
    assert sparkline([0, 1, 2, 3, 4, 5]) == "▁▂▄▅▇█"


def test_group_trends_rank_and_change() -> None:
    crit = criteria()
    groups = {"A": "甲镇", "B": "乙镇"}
    long = long_frame(crit, [{"A": (90, 90), "B": (60, 60)}, {"A": (50, 50), "B": (80, 80)}], groups)
    table = hist.group_history(long, "township", ["2025-Q1", "2025-Q2"])
    second = {r["group"]: r for r in table.filter(pl.col("period") == "2025-Q2").to_dicts()}
    assert second["乙镇"]["rank"] == 1 and second["乙镇"]["rank_change"] == 1
    assert second["甲镇"]["rank_change"] == -1 and second["甲镇"]["delta_points"] == -80.0
    summary = hist.group_summary(table, 2)
    assert summary.get_column("group").to_list() == ["乙镇", "甲镇"]
    assert summary.row(0, named=True)["points_series"] == [120.0, 160.0]


# --------------------------------------------------------------------------------------------------
# 降星预警


def risk_of(frame: pl.DataFrame) -> dict[tuple[str, str | None], str]:
    return {(r["branch_id"], r["star_id"]): r["reasons"] for r in frame.to_dicts()}


def test_at_risk_rules_on_crafted_series() -> None:
    crit = criteria()
    long = long_frame(crit, [
        {"M": (90, 70), "F": (95, 20), "S": (70, 20), "V": (90, 20, 0, 0), "W": (90, 20, 2, 0),
         "E": (65, 20), "G": (90, 90, 0, 0)},
        {"M": (80, 70), "F": (90, 20), "S": (75, 20), "V": (90, 20, 1, 0), "W": (90, 20, 2, 0),
         "E": (65, 20), "G": (90, 90, 0, 0)},
        {"M": (64, 70), "F": (85, 20), "S": (90, 20), "V": (90, 20, 2, 0), "W": (90, 20, 2, 0),
         "E": (65, 20), "G": (90, 90, 1, 1)},
    ])
    risk = hist.at_risk(long, [crit], margin=5)
    found = risk_of(risk)
    assert found[("M", "s1")] == "margin;falling"      # 4 points above the mark, and two falls in a row
    assert found[("F", "s1")] == "falling"             # 95 → 90 → 85: falling, far from the mark
    assert found[("V", "s1")] == "veto:petition"       # petitions 0 → 1 → 2, the veto fires at 3
    assert found[("E", "s1")] == "margin"              # exactly at the margin counts (65 − 60 = 5)
    assert found[("G", None)] == "cap:gang"            # gang 0 → 1 heads for the cap (≥ 2 → 1 star)
    assert ("S", "s1") not in found and ("W", "s1") not in found  # rising; a steady count is no trend
    assert ("M", "s2") not in found
    row = risk.filter((pl.col("branch_id") == "M") & (pl.col("star_id") == "s1")).row(0, named=True)
    assert row["dependents"] == "s2" and row["cushion"] == 4.0
    assert (row["points_prev2"], row["points_prev"], row["points"]) == (90.0, 80.0, 64.0)
    assert risk.get_column("cushion").to_list()[0] is None  # cap rows first, then by cushion
    assert risk_of(hist.at_risk(long, [crit], margin=3)).get(("E", "s1")) is None


def test_at_risk_needs_history_for_trends() -> None:
    crit = criteria()
    long = long_frame(crit, [{"A": (62, 20, 2, 1)}])
    assert risk_of(hist.at_risk(long, [crit])) == {("A", "s1"): "margin"}


# --------------------------------------------------------------------------------------------------
# tenure


def test_tenure_blocks_unchecks_and_cascades() -> None:
    crit = criteria("tenure: {level: 1, periods: 2}")
    long = long_frame(crit, [
        {"X": (70, 70), "Y": (10, 70), "Z": (70, 70)},
        {"X": (70, 70), "Y": (70, 70)},
        {"X": (70, 70), "Y": (70, 70), "Z": (70, 70)},
        {"X": (70, 70), "Y": (70, 70), "Z": (70, 70)},
    ])
    x, y, z = rows_of(long, "X"), rows_of(long, "Y"), rows_of(long, "Z")
    assert [r["s2:tenure"] for r in x] == ["unchecked", "unchecked", "ok", "ok"]
    assert [r["stars"] for r in x] == [2, 2, 2, 2]
    assert [r["tenure_unchecked"] for r in x] == ["s2", "s2", "", ""]
    # Y: no star in the first period, so its third period lacks two periods at one star or more
    assert [r["stars"] for r in y] == [0, 2, 1, 2]
    assert [r["s2:tenure"] for r in y] == ["unchecked", "unchecked", "blocked", "ok"]
    assert y[2]["tenure_blocked"] == "s2" and y[2]["level"] == "一星" and not y[2]["s2:awarded"]
    # Z is missing from the second period: its tenure cannot be checked in the third
    assert [r["s2:tenure"] for r in z] == ["unchecked", "unchecked", "unchecked"]
    assert [r["stars"] for r in z] == [2, 2, 2]


def test_tenure_on_a_required_star_blocks_its_dependents_and_caps_still_apply() -> None:
    text = CRITERIA.replace("{tenure}", "").replace(
        "    name: 星一\n    pass_mark: 60\n", "    name: 星一\n    pass_mark: 60\n    tenure: {level: 2, periods: 1}\n")
    loaded = check_criteria_text(text, "t.yaml")
    assert loaded.criteria is not None
    crit = loaded.criteria
    long = long_frame(crit, [{"A": (70, 10), "B": (70, 70, 0, 2)}, {"A": (70, 70), "B": (70, 70, 0, 2)}])
    a = rows_of(long, "A")
    assert a[1]["s1:tenure"] == "blocked" and not a[1]["s2:awarded"] and a[1]["stars"] == 0
    b = rows_of(long, "B")  # capped at 1 star in the first period: s1 is then blocked (needs 2)
    assert [r["stars"] for r in b] == [1, 0]


def test_single_period_tenure_warning() -> None:
    crit = criteria("tenure: {level: 1, periods: 2}")
    frame = score([(crit, pl.DataFrame({"branch_id": ["A", "B"], "a": [70.0, 70.0], "b": [70.0, 10.0],
                                        "petitions": [0, 0], "gang": [0, 0]}))])
    warnings = hist.unchecked_tenure_warnings(frame, [crit], file="d.csv")
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "1 branch(es)" in warnings[0].message and "tenure not checked" in warnings[0].message
    assert hist.unchecked_tenure_warnings(frame, [criteria()]) == []


# --------------------------------------------------------------------------------------------------
# loader and CLI on small files


def write_criteria(tmp_path: Path, tenure: str = "") -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CRITERIA.replace("{tenure}", tenure), encoding="utf-8")
    return path


def write_period(path: Path, rows: dict[str, Row], period: str | None = None, encoding: str = "utf-8") -> Path:
    head = "支部编码,支部名称,乡镇," + ("期间," if period else "") + "A,B,上访数,涉黑数"
    lines = [head] + [
        f"{b},村{b},{'甲镇' if b < 'M' else '乙镇'}," + (f"{period}," if period else "")
        + ",".join(str(x) for x in (*v, 0, 0)[:4]) for b, v in rows.items()]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_loader_orders_files_by_period_and_reads_a_combined_file(tmp_path: Path) -> None:
    c = write_criteria(tmp_path)
    files = [
        write_period(tmp_path / "x-2025-10.csv", {"A": (90, 90)}),
        write_period(tmp_path / "x-2025-9.csv", {"A": (50, 90)}),
        write_period(tmp_path / "third.csv", {"A": (70, 90)}, period="2025年11月", encoding="gb18030"),
    ]
    loaded = load_history(files, [str(c)])
    assert loaded.labels == ["2025-09", "2025-10", "2025-11"]  # canonical forms (issue 20, point 4)
    assert rows_of(loaded.long, "A")[0]["stars"] == 0

    combined = tmp_path / "all.csv"
    text = "支部编码,期间,A,B\nA,2025年第二季度,70,70\nA,2025年第一季度,50,50\nB,2025年第二季度,80,80\n"
    combined.write_text(text, encoding="utf-8")
    loaded = load_history([combined], [str(c)])
    assert loaded.labels == ["2025-Q1", "2025-Q2"]
    assert loaded.long.height == 3


def test_loader_errors(tmp_path: Path) -> None:
    c = write_criteria(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("支部编码,期间,A,B\nA,第一期,70,70\nA,第二期,50,50\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_history([bad], [str(c)])
    messages = [p.format() for p in info.value.problems]
    assert any("'第一期' is not a recognised period" in m for m in messages)
    assert any("'第二期'" in m for m in messages)

    unnamed = write_period(tmp_path / "自评表.csv", {"A": (70, 70)})
    with pytest.raises(DataError, match="cannot tell which period"):
        load_history([unnamed], [str(c)])

    one = write_period(tmp_path / "a-2025-Q1.csv", {"A": (70, 70)})
    two = write_period(tmp_path / "b.csv", {"A": (70, 70)}, period="2025年一季度")
    with pytest.raises(DataError, match="period 2025-Q1 is given twice"):
        load_history([one, two], [str(c)])


def test_history_cli_formats(tmp_path: Path) -> None:
    c = write_criteria(tmp_path)
    folder = tmp_path / "series"
    folder.mkdir()
    write_period(folder / "2025-Q1.csv", {"A": (90, 70), "N": (70, 10)})
    write_period(folder / "2025-Q2.csv", {"A": (80, 70), "N": (70, 70)})
    write_period(folder / "2025-Q3.csv", {"A": (64, 70), "N": (70, 70)})
    result = invoke(["history", str(folder), "-c", str(c), "--by", "乡镇", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [p["canonical"] for p in doc["periods"]] == ["2025-Q1", "2025-Q2", "2025-Q3"]
    assert len(doc["series"]) == 6 and doc["summary"]["at_risk_branches"] == 1
    assert doc["at_risk"][0]["reasons"] == ["margin", "falling"] and doc["at_risk"][0]["dependents"] == ["s2"]
    branch = next(b for b in doc["branches"] if b["branch_id"] == "N")
    assert branch["stars_series"] == [1, 2, 2] and branch["streak"] == 2 and branch["sparkline"] == "▂▄▄"
    assert branch["first_awarded"] == {"s1": "2025-Q1", "s2": "2025-Q2"}

    csv = invoke(["history", str(folder), "-c", str(c), "-f", "csv"])
    assert csv.exit_code == 0
    lines = csv.stdout.splitlines()
    assert lines[0].startswith("period,branch_id,branch_name,county,township,branch_type,rank,stars,level")
    assert len(lines) == 7 and lines[1].startswith("2025-Q1,A,")

    table = invoke(["history", str(folder), "-c", str(c), "--by", "township"])
    assert table.exit_code == 0
    assert "降星预警" in table.stdout and "▂▄▄" in table.stdout and "接近达标线；连续两期下降" in table.stdout
    md = invoke(["history", str(folder), "-c", str(c), "-f", "md", "--lang", "en"])
    assert md.exit_code == 0 and "| Branch |" in md.stdout and "fell twice in a row" in md.stdout
    usage = invoke(["history", str(folder), "-c", str(c), "-f", "csv", "--rows", "groups"])
    assert usage.exit_code == 2 and "--rows groups needs --by" in usage.stderr


def test_bulletin_history_section(tmp_path: Path) -> None:
    c = write_criteria(tmp_path)
    folder = tmp_path / "series"
    folder.mkdir()
    write_period(folder / "2025-Q1.csv", {"A": (90, 70), "N": (70, 10)})
    write_period(folder / "2025-Q2.csv", {"A": (80, 70), "N": (70, 70)})
    latest = write_period(folder / "2025-Q3.csv", {"A": (64, 70), "N": (70, 70)})
    md = invoke(["bulletin", str(latest), "-c", str(c), "--history", str(folder), "-q"])
    assert md.exit_code == 0, md.stderr
    assert "、星级走势与降星预警" in md.stdout and "村A" in md.stdout.split("星级走势与降星预警")[1]
    html = invoke(["bulletin", str(latest), "-c", str(c), "--history", str(folder / "2025-Q1.csv"),
                   "--history", str(folder / "2025-Q2.csv"), "-f", "html", "-q"])
    assert html.exit_code == 0, html.stderr
    assert "平均分走势</title>" in html.stdout and "<polyline" in html.stdout
    plain = invoke(["bulletin", str(latest), "-c", str(c), "-q"])
    assert "降星预警" not in plain.stdout


@pytest.fixture(scope="module")
def county() -> dict[str, Any]:
    files = [str(p) for p in sorted(EXAMPLES.glob("county-2024-Q*.csv"))]
    result = invoke(["history", *files, "--by", "township", "-f", "json", "-q"])
    assert result.exit_code == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_example_county_history(county: dict[str, Any]) -> None:
    assert [p["label"] for p in county["periods"]] == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]
    assert len(county["branches"]) == 320 and len(county["series"]) == 1280
    assert {g["period"] for g in county["groups"]} == {"2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"}
    for item in county["at_risk"]:
        if item["star_id"] is None:
            continue
        assert item["points"] >= item["pass_mark"]
        assert "margin" in item["reasons"] or "falling" in item["reasons"] or any(
            r.startswith("veto:") for r in item["reasons"])
        if "margin" in item["reasons"]:
            assert item["cushion"] <= 5
