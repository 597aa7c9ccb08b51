"""Issue 20, point 12: the rows ``--skip-invalid`` leaves out are named (line, branch id, reasons) in
every format: a section after the tables (table, md), the JSON documents, a sheet (xlsx), and one
warning line each on stderr where the output has no room (CSV, Parquet: stdout stays a clean table)."""

from __future__ import annotations

import json
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from tests.support import EXAMPLES, invoke

BID = "415556001001"
REASON = "column '三会一课及主题党日落实率(%)' value '八十': not a percentage (e.g. 85 or 85%)"
WARNING = ("{path}:2: warning: row of branch '415556001001' rejected (--skip-invalid), not scored: " + REASON
           + " — fix the cells and score again to include it")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Three villages; the first (line 2) has a percentage written in words."""
    rows = [line.split(",") for line in (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()[:4]]
    assert rows[0][6] == "三会一课及主题党日落实率(%)" and rows[1][0] == BID
    rows[1][6] = "八十"
    path = tmp_path / "县.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def run(*args: str | Path) -> tuple[int, str, str]:
    result = invoke(args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("command", [["score"], ["rank", "--by", "township"]])
def test_table_and_markdown_name_each_rejected_row(data: Path, command: list[str]) -> None:
    for fmt in ("table", "md"):
        code, out, err = run(*command, data, "-c", "rural", "--skip-invalid", "-f", fmt)
        assert code == 0, err
        assert "被剔除的行（--skip-invalid，未评分）" in out
        assert BID in out.split("被剔除的行")[-1]
        assert REASON in out
        assert "rejected (--skip-invalid)" not in err  # listed in the output, not again on stderr
    code, out, _ = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "md")
    assert out.endswith("\n## 被剔除的行（--skip-invalid，未评分）\n\n| 行号 | 支部编码 | 原因 |\n| ---: | --- | --- |\n"
                        f"| 2 | {BID} | {REASON} |\n")
    code, out, _ = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "md", "--lang", "en")
    assert out.endswith("\n## Rejected rows (--skip-invalid, not scored)\n\n| Line | Branch ID | Reasons |\n"
                        f"| ---: | --- | --- |\n| 2 | {BID} | {REASON} |\n")


@pytest.mark.parametrize("command", [["score"], ["rank", "--by", "township", "--rows", "branches"]])
def test_csv_stays_clean_and_lists_each_rejected_row_on_stderr(data: Path, command: list[str]) -> None:
    code, out, err = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "csv")
    assert code == 0
    assert BID not in out and "rejected" not in out
    assert WARNING.format(path=data) in err.splitlines()
    # even with --quiet: the option asks for the list
    code, out, err = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "csv", "-q")
    assert err.splitlines() == [WARNING.format(path=data)]


def test_parquet_lists_each_rejected_row_on_stderr(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "结果.parquet"
    code, _, err = run("score", data, "-c", "rural", "--skip-invalid", "-f", "parquet", "-o", out)
    assert code == 0
    assert WARNING.format(path=data) in err.splitlines()
    assert BID not in pl.read_parquet(out).get_column("branch_id").to_list()
    # --streaming writes the file slice by slice: the same lines
    code, _, err = run("score", data, "-c", "rural", "--skip-invalid", "-f", "csv", "-o", tmp_path / "s.csv",
                       "--streaming")
    assert code == 0 and WARNING.format(path=data) in err.splitlines()


@pytest.mark.parametrize("command, first", [(["score"], ["评星结果"]), (["rank", "--by", "township"], ["乡镇（街道）排名", "支部排名"])])
def test_xlsx_has_a_sheet_of_rejected_rows(data: Path, tmp_path: Path, command: list[str], first: list[str]) -> None:
    out = tmp_path / "结果.xlsx"
    code, _, err = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "xlsx", "-o", out)
    assert code == 0, err
    book = fastexcel.read_excel(out)
    assert book.sheet_names == [*first, "被剔除的行"]
    sheet = book.load_sheet("被剔除的行").to_polars()
    assert sheet.columns == ["行号", "支部编码", "原因"]  # a data sheet: the header in row 1, no title row
    assert sheet.rows() == [(2, BID, REASON)]
    # none rejected: no extra sheet
    clean, source = tmp_path / "clean.xlsx", tmp_path / "clean.csv"
    source.write_text("\n".join((EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()[:4]) + "\n",
                      encoding="utf-8")
    assert run(*command, source, "-c", "rural", "--skip-invalid", "-f", "xlsx", "-o", clean)[0] == 0
    assert fastexcel.read_excel(clean).sheet_names == first


@pytest.mark.parametrize("command, where", [(["score"], ("summary", "rejected")), (["rank", "--by", "township"], ("rejected",))])
def test_json_lists_each_rejected_row(data: Path, command: list[str], where: tuple[str, ...]) -> None:
    code, out, err = run(*command, data, "-c", "rural", "--skip-invalid", "-f", "json")
    assert code == 0, err
    document = json.loads(out)
    for key in where:
        document = document[key]
    assert document == [{"line": 2, "branch_id": BID, "reasons": [REASON]}]


def test_diff_and_history_name_each_rejected_row(data: Path, tmp_path: Path) -> None:
    code, out, err = run("diff", data, data, "-c", "rural", "--skip-invalid", "-f", "csv")
    assert code == 0, err
    assert err.splitlines().count(WARNING.format(path=data)) == 1  # once, though both sides read the file
    later = tmp_path / "县-2025-Q1.csv"
    later.write_text(data.read_text(encoding="utf-8").replace(",2024-Q4,", ",2025-Q1,"), encoding="utf-8")
    code, out, err = run("history", data, later, "-c", "rural", "--skip-invalid", "-f", "json")
    assert code == 0, err
    warnings = json.loads(out)["warnings"]
    rows = [(w["file"], w["line"], w["message"]) for w in warnings if w["code"] == "rejected" and w.get("line")]
    message = f"row of branch '{BID}' rejected (--skip-invalid), not scored: {REASON}"
    assert rows == [(str(data), 2, message), (str(later), 2, message)]
