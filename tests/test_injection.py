"""Spreadsheet injection (issue 6 §3, SPEC §7) and markup injection in reports.

Branch names, ids and townships that a spreadsheet would run as a formula (``= + - @``, tab, CR) go
through every CSV and Excel writer: ``score -f csv/xlsx``, ``rank -f csv/xlsx`` (both row kinds) and
``diff -f csv`` (both row kinds). In CSV such a cell must start with an apostrophe; in .xlsx it must be a
text cell holding the value as written (read back with openpyxl, an independent reader), never a
formula. Numbers such as -3.5 stay numbers. The HTML bulletin must escape names; Markdown tables
must not break on ``|``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.support import CORPUS, invoke

openpyxl = pytest.importorskip("openpyxl")

HEADER = ["支部编码", "支部名称", "县区", "乡镇", "类型", "期间", "集体收入(万元)", "户数", "完成率(%)", "网格化",
          "评议等次", "案件数"]
HYPERLINK = '=HYPERLINK("http://x","点我")'
HOSTILE_NAMES = [HYPERLINK, "+1+2", "-3+4", "@SUM(A1:A9)", "=cmd|' /C calc'!A0", "=1+1", "-2"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(income: int) -> list[list[str]]:
    out = []
    for n, name in enumerate(HOSTILE_NAMES, start=1):
        township = "=HYPERLINK(\"http://evil\",\"镇\")" if n % 2 else "@乡镇"
        branch_id = f"=10{n}" if n == 1 else f"+10{n}" if n == 2 else f"10{n}"
        out.append([branch_id, name, "-示范县", township, "农村", "2024-Q1", str(income + 10 * n), "150", "90", "是",
                    "好", "0"])
    out.append(["200", "正常村", "-示范县", "城关镇", "农村", "2024-Q1", "-0" if income < 0 else "12", "150", "90", "是",
                "好", "0"])
    return out


def write_csv(path: Path, body: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([HEADER, *body])
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_csv(tmp_path / "old.csv", rows(5))
    write_csv(tmp_path / "new.csv", rows(40))
    return tmp_path


def wuxing(*args: str) -> str:
    result = invoke([*args, "-c", str(CORPUS / "base.yaml"), "-q"])
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def check_csv(text: str) -> list[dict[str, str]]:
    """No cell may start like a formula unless it is an apostrophe-prefixed text; returns the records."""
    records = list(csv.DictReader(io.StringIO(text)))
    assert records
    for record in records:
        for header, value in record.items():
            if value.startswith(FORMULA_START) and not _is_number(value):
                raise AssertionError(f"{header}={value!r} would run as a formula")
    return records


def _is_number(text: str) -> bool:
    """A plain number such as -2.67: a spreadsheet reads it as a number, not a formula."""
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and "(" not in text


def check_xlsx(path: Path) -> list[list[object]]:
    """Every cell is a value (text, number or boolean), none a formula; returns all cell values."""
    book = openpyxl.load_workbook(path)  # data_only=False: formulas would show as type 'f'
    values = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                    assert cell.data_type in ("s", "inlineStr"), cell.coordinate
                values.append(cell.value)
    return [values]


def test_score_csv_neutralises_every_formula_like_cell(work: Path) -> None:
    records = check_csv(wuxing("score", "new.csv", "-f", "csv"))
    names = {r["branch_name"] for r in records}
    assert "'" + HYPERLINK in names and "'+1+2" in names and "'-3+4" in names and "'@SUM(A1:A9)" in names
    assert {r["branch_id"] for r in records} >= {"'=101", "'+102", "103"}
    assert {r["county"] for r in records} == {"'-示范县"}
    assert any(r["township"].startswith("'=HYPERLINK") for r in records)
    assert all(not r["total_points"].startswith("'") for r in records)  # numbers stay numbers


def test_score_xlsx_writes_text_cells_not_formulas(work: Path) -> None:
    wuxing("score", "new.csv", "-f", "xlsx", "-o", "score.xlsx")
    values = check_xlsx(work / "score.xlsx")[0]
    assert HYPERLINK in values and "=1+1" in values and "-2" in values  # as written, as text
    sheet = openpyxl.load_workbook(work / "score.xlsx").worksheets[0]
    header = [c.value for c in sheet[2]]  # row 1 is the report's title row
    points = header.index("总分") + 1
    assert all(isinstance(sheet.cell(r, points).value, int | float) for r in range(3, sheet.max_row + 1))


@pytest.mark.parametrize("rows_kind", ["groups", "branches"])
def test_rank_csv_neutralises_groups_and_branches(work: Path, rows_kind: str) -> None:
    records = check_csv(wuxing("rank", "new.csv", "--by", "township", "-f", "csv", "--rows", rows_kind))
    if rows_kind == "groups":
        assert any(r["group"].startswith("'=HYPERLINK") for r in records)
        assert any(r["group"] == "'@乡镇" for r in records)
    else:
        assert any(r["branch_name"] == "'" + HYPERLINK for r in records)


def test_rank_xlsx_writes_text_cells_not_formulas(work: Path) -> None:
    wuxing("rank", "new.csv", "--by", "county", "-f", "xlsx", "-o", "rank.xlsx")
    values = check_xlsx(work / "rank.xlsx")[0]
    assert "-示范县" in values and HYPERLINK in values


@pytest.mark.parametrize("extra", [[], ["--by", "township", "--rows", "groups"], ["--all"]])
def test_diff_csv_neutralises_every_formula_like_cell(work: Path, extra: list[str]) -> None:
    records = check_csv(wuxing("diff", "old.csv", "new.csv", "-f", "csv", *extra))
    text = "".join("".join(r.values()) for r in records)
    assert "'=HYPERLINK" in text or "'@乡镇" in text


def test_diff_sources_csv_neutralises_groups(work: Path) -> None:
    check_csv(wuxing("diff", "old.csv", "new.csv", "--sources", "-f", "csv", "--rows", "groups"))


def test_level_labels_from_criteria_are_neutralised_too(work: Path) -> None:
    """Labels come from the criteria file, another hand: `levels: {0: "=1+1"}` must not become a formula."""
    text = (CORPUS / "base.yaml").read_text(encoding="utf-8").replace(
        'version: "1"\n', 'version: "1"\nlevels: {0: "=0+0", 1: "+一星", 2: "@二星"}\n')
    (work / "labels.yaml").write_text(text, encoding="utf-8")
    result = invoke(["score", "new.csv", "-c", "labels.yaml", "-f", "csv", "-q"])
    assert result.exit_code == 0, result.stderr
    levels = {r["level"] for r in check_csv(result.stdout)}
    assert levels <= {"'=0+0", "'+一星", "'@二星"}
    result = invoke(["score", "new.csv", "-c", "labels.yaml", "-f", "xlsx", "-o", "l.xlsx", "-q"])
    assert result.exit_code == 0, result.stderr
    check_xlsx(work / "l.xlsx")


def test_input_cells_with_leading_tab_or_cr_are_trimmed_not_written(work: Path) -> None:
    """Cells are trimmed on input (SPEC §3), so a leading tab or CR never reaches an output."""
    body = rows(40)
    body[0][1] = "\t=1+2"
    body[1][1] = "\r@x"
    write_csv(work / "tabs.csv", body)
    records = check_csv(wuxing("score", "tabs.csv", "-f", "csv"))
    assert {"'=1+2", "'@x"} <= {r["branch_name"] for r in records}


def test_html_bulletin_escapes_names_and_markdown_tables_hold(work: Path) -> None:
    body = rows(40)
    body[0][1] = "<script>alert(1)</script>"
    body[1][3] = "<img src=x onerror=alert(1)>"
    body[2][1] = "甲|乙 村"
    write_csv(work / "xss.csv", body)
    html = wuxing("bulletin", "xss.csv", "-f", "html")
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = wuxing("score", "xss.csv", "-f", "md")
    assert "乙 村" in markdown
    for line in markdown.splitlines():
        if "乙 村" in line:
            assert "甲\\|乙" in line  # the pipe is escaped, the table keeps its columns


def test_csv_writer_neutralises_list_cells_after_joining_them() -> None:
    """A list column is joined with ';' before writing; the joined text must be checked, not the list."""
    import polars as pl

    from wuxing_cli.report.tabular import csv_bytes

    frame = pl.DataFrame({"names": [["=1+1", "a"], ["b", "@c"], []], "n": [-1.5, 2.0, 3.0]})
    records = list(csv.reader(io.StringIO(csv_bytes(frame).decode("utf-8"))))
    assert records[1:] == [["'=1+1;a", "-1.5"], ["b;@c", "2.0"], ["", "3.0"]]
