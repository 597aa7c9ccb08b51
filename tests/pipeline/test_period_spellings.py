"""Issue 20, point 4: every spelling of a period that :mod:`wuxing_cli.models.periods` reads is one
period everywhere (loader, ``--period``, streaming, merge, history), shown in canonical form."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.support import EXAMPLES, invoke
from wuxing_cli.errors import ProblemCode, UsageError
from wuxing_cli.forms.merge import merge_files
from wuxing_cli.io.criteria_loader import load_criteria_set
from wuxing_cli.io.period_select import canonical_periods, period_key
from wuxing_cli.pipeline.history import load_history
from wuxing_cli.pipeline.score import LoadOptions, run_score
from wuxing_cli.pipeline.streaming import score_streaming

RURAL = load_criteria_set(["rural"])


def _rows(source: Path, count: int) -> tuple[str, list[str]]:
    lines = source.read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1:1 + count]


def _respelled(line: str, old: str, new: str) -> str:
    assert f",{old}," in line
    return line.replace(f",{old},", f",{new},", 1)


def two_villages(tmp_path: Path, second: str = "2024年第四季度") -> Path:
    """Two villages' rows in one file: 期间 2024-Q4 and the same quarter spelled ``second``."""
    head, rows = _rows(EXAMPLES / "county-2024-Q4.csv", 2)
    path = tmp_path / "two.csv"
    path.write_text("\n".join([head, rows[0], _respelled(rows[1], "2024-Q4", second)]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("label, key", [
    ("2024-Q4", "2024-Q4"), ("2024Q4", "2024-Q4"), ("2024 Q4", "2024-Q4"), ("2024年第四季度", "2024-Q4"),
    ("2024年4季度", "2024-Q4"), ("2024年第4季度", "2024-Q4"), ("2024年四季度", "2024-Q4"),
    ("2024-03", "2024-03"), ("2024年3月", "2024-03"), ("202403", "2024-03"), ("2024/3", "2024-03"),
    ("2024年度", "2024"), ("2024年上半年", "2024-H1"),
    ("第一期", "第一期"), ("Q4 2024", "Q4 2024"),  # not periods: kept as written
])
def test_period_key_is_the_canonical_form(label: str, key: str) -> None:
    assert period_key(label) == key


def test_unread_labels_are_never_merged() -> None:
    column = pl.Series(["Q4 2024", "q4 2024", "2024-Q4", "2024年第四季度", None])
    assert canonical_periods(column) == {"Q4 2024": "Q4 2024", "q4 2024": "q4 2024", "2024-Q4": "2024-Q4",
                                         "2024年第四季度": "2024-Q4"}


@pytest.mark.parametrize("second", ["2024年第四季度", "2024Q4", "2024年4季度", "2024 Q4"])
@pytest.mark.parametrize("period", [None, "2024年第四季度", "2024Q4", "2024-Q4"])
def test_score_reads_both_spellings_as_one_period(tmp_path: Path, second: str, period: str | None) -> None:
    path = two_villages(tmp_path, second)
    run = run_score(path, RURAL, LoadOptions(period=period))
    assert run.frame.height == 2
    assert run.period == "2024-Q4"
    assert run.data.periods == ["2024-Q4"]
    assert run.frame.get_column("period").to_list() == ["2024-Q4", "2024-Q4"]


@pytest.mark.parametrize("args", [[], ["--period", "2024年第四季度"], ["--period", "2024Q4"]])
def test_score_cli_scores_both_villages_as_2024_q4(tmp_path: Path, args: list[str]) -> None:
    path = two_villages(tmp_path)
    result = invoke(["score", path, "-c", "rural", "-f", "json", *args])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["period"] == "2024-Q4"
    assert [b["period"] for b in document["branches"]] == ["2024-Q4", "2024-Q4"]
    assert sorted(b["branch_id"] for b in document["branches"]) == ["415556001001", "415556001002"]


def test_several_and_absent_periods_name_the_canonical_forms(tmp_path: Path) -> None:
    head, rows = _rows(EXAMPLES / "county-2024-Q4.csv", 3)
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([head, _respelled(rows[0], "2024-Q4", "2024年第四季度"), rows[1],
                               _respelled(rows[2], "2024-Q4", "2024年三季度")]) + "\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        run_score(path, RURAL)
    assert [p.format() for p in caught.value.problems] == [
        f"{path}: error: the file holds 2 periods: 2024-Q3, 2024-Q4 — pick one with --period"]
    with pytest.raises(UsageError) as caught:
        run_score(path, RURAL, LoadOptions(period="2024年第二季度"))
    assert [p.format() for p in caught.value.problems] == [
        f"{path}: error: no rows for period '2024年第二季度'; periods in the file: 2024-Q3, 2024-Q4"]
    run = run_score(path, RURAL, LoadOptions(period="2024年第三季度"))
    assert run.frame.get_column("branch_id").to_list() == [rows[2].split(",")[0]]
    assert run.period == "2024-Q3"


def test_streaming_reads_both_spellings_as_one_period(tmp_path: Path) -> None:
    path = two_villages(tmp_path)
    columns = ["branch_id", "period", "stars", "total_points"]
    for period in (None, "2024年第四季度", "2024Q4"):
        normal = run_score(path, RURAL, LoadOptions(period=period))
        with score_streaming(path, RURAL, LoadOptions(period=period), columns=normal.frame.columns,
                             batch_rows=1) as streamed:
            frame = streamed.frame()
            assert streamed.run.period == "2024-Q4"
            assert streamed.run.data.periods == ["2024-Q4"]
        assert frame.select(columns).equals(normal.frame.select(columns))


def test_merge_writes_one_canonical_period(tmp_path: Path) -> None:
    head, rows = _rows(EXAMPLES / "county-2024-Q4.csv", 2)
    (tmp_path / "a.csv").write_text(head + "\n" + rows[0] + "\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(head + "\n" + _respelled(rows[1], "2024-Q4", "2024年第四季度") + "\n",
                                    encoding="utf-8")
    result = merge_files([tmp_path / "a.csv", tmp_path / "b.csv"], RURAL)
    assert result.frame.get_column("期间").to_list() == ["2024-Q4", "2024-Q4"]
    out = tmp_path / "county.csv"
    cli = invoke(["merge", tmp_path / "a.csv", tmp_path / "b.csv", "-c", "rural", "-o", out])
    assert cli.exit_code == 0, cli.output
    merged = run_score(out, RURAL)  # one period: no --period needed
    assert merged.period == "2024-Q4" and merged.frame.height == 2


def test_merge_finds_a_repeat_spelled_differently_and_keeps_unread_labels(tmp_path: Path) -> None:
    head, rows = _rows(EXAMPLES / "county-2024-Q4.csv", 1)
    (tmp_path / "a.csv").write_text(head + "\n" + rows[0] + "\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(head + "\n" + _respelled(rows[0], "2024-Q4", "2024Q4") + "\n", encoding="utf-8")
    (tmp_path / "c.csv").write_text(head + "\n" + _respelled(rows[0], "2024-Q4", "第四期") + "\n", encoding="utf-8")
    result = merge_files([tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"], RURAL)
    assert result.duplicates_dropped == 1
    assert result.frame.get_column("期间").to_list() == ["2024-Q4", "第四期"]
    assert [p.format() for p in result.warnings if p.code == ProblemCode.DUPLICATE_IDENTICAL] == [
        f"{tmp_path / 'a.csv'}:2: warning: branch 415556001001 (期间 2024-Q4) is submitted 2 times with the "
        f"same values: {tmp_path / 'a.csv'}:2, {tmp_path / 'b.csv'}:2; kept once [column '支部编码', value '415556001001']"]


def test_history_reads_spellings_of_a_period_as_one(tmp_path: Path) -> None:
    head, q4 = _rows(EXAMPLES / "county-2024-Q4.csv", 2)
    q3 = [_respelled(r, "2024-Q4", "2024-Q3") for r in q4]
    path = tmp_path / "all.csv"
    path.write_text("\n".join([head, q3[0], _respelled(q3[1], "2024-Q3", "2024年第三季度"),
                               _respelled(q4[0], "2024-Q4", "2024年第四季度"), _respelled(q4[1], "2024-Q4", "2024Q4")])
                    + "\n", encoding="utf-8")
    history = load_history([path], RURAL)
    assert history.labels == ["2024-Q3", "2024-Q4"]
    assert [s.pick for s in history.sources] == ["2024-Q3", "2024-Q4"]
    long = history.long.sort("period", "branch_id")
    assert long.get_column("period").to_list() == ["2024-Q3", "2024-Q3", "2024-Q4", "2024-Q4"]

    # files named and filled in different spellings: shown in canonical form
    one = tmp_path / "county-2024年第三季度.csv"
    one.write_text("\n".join([head, *q3]) + "\n", encoding="utf-8")
    two = tmp_path / "other.csv"
    two.write_text("\n".join([head, *(_respelled(r, "2024-Q4", "2024年4季度") for r in q4)]) + "\n", encoding="utf-8")
    history = load_history([one, two], RURAL)
    assert history.labels == ["2024-Q3", "2024-Q4"]
