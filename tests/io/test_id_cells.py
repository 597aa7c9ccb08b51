"""Branch ids stored as numbers in a spreadsheet (issue 20, point 5): a General/number cell holding
415556004008 loses the leading zeros of 0415556004008 and shows long ids as 4.15556E+11. Such cells get one
warning naming the column, the first few cells and the fix; ids stored as text get none.

Every workbook is built here: .xlsx with xlsxwriter (write_number vs write_string), .ods by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.io.test_sheets import HEADERS, ROWS, Cell, ods
from tests.support import invoke
from wuxing_cli.errors import ProblemCode
from wuxing_cli.io.reader import read_raw

xlsxwriter = pytest.importorskip("xlsxwriter")

HINT = ("format the id column as text (文本) in Excel and type the ids again; ids stored as numbers lose "
        "leading zeros and long ids turn into 4.15556E+11")


def xlsx(path: Path, numeric: set[int], *, column: int = 0, ids: tuple[str, ...] = ()) -> Path:
    """The table as .xlsx starting at ``column``; the ids of the data rows in ``numeric`` (1-based) as numbers."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("汇总表")
    sheet.write_row(0, column, HEADERS)
    for r, row in enumerate(ROWS, start=1):
        values = list(row)
        if ids:
            values[0] = ids[r - 1]
        for c, value in enumerate(values):
            if c == 0 and r in numeric:
                sheet.write_number(r, column, float(str(value)))
            elif isinstance(value, str):
                sheet.write_string(r, column + c, value)
            else:
                sheet.write_number(r, column + c, value)
    book.close()
    return path


def id_warnings(path: Path) -> list[str]:
    return [p.format() for p in read_raw(path).notes if p.code is ProblemCode.ID_NUMERIC]


def test_ids_stored_as_numbers_are_a_warning_naming_the_column_and_cells(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "n.xlsx", {1, 2, 4})
    assert id_warnings(path) == [
        f"{path}:2: warning: 3 branch ids are stored as numbers, not text: 汇总表!A2, 汇总表!A3, 汇总表!A5 "
        f"(rows 2, 3, 5) [column '支部编码', value '1'] — {HINT}"
    ]


def test_one_id_stored_as_a_number_in_a_sheet_not_starting_at_column_a(tmp_path: Path) -> None:
    ids = ("415556004001", "415556004002", "415556004003", "415556004008")
    path = xlsx(tmp_path / "one.xlsx", {4}, column=2, ids=ids)
    assert id_warnings(path) == [
        f"{path}:5: warning: 1 branch id is stored as a number, not text: 汇总表!C5 (row 5) "
        f"[column '支部编码', value '415556004008'] — {HINT}"
    ]


def test_more_than_five_numeric_ids_list_the_first_five(tmp_path: Path) -> None:
    book = xlsxwriter.Workbook(str(tmp_path / "many.xlsx"))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, HEADERS)
    for r in range(1, 8):
        sheet.write_number(r, 0, 415556004000 + r)
        sheet.write_row(r, 1, [f"村{r}", "城关镇", "农村", "2024-Q1", 5, 10, 90, "是", "好", 0])
    book.close()
    (warning,) = id_warnings(tmp_path / "many.xlsx")
    assert warning.split(" [")[0].endswith(
        "7 branch ids are stored as numbers, not text: Sheet1!A2, Sheet1!A3, Sheet1!A4, Sheet1!A5, Sheet1!A6, "
        "… (rows 2, 3, 4, 5, 6, 7, 8)"
    )


def test_ids_stored_as_text_get_no_warning(tmp_path: Path) -> None:
    ids = ("415556004001", "0415556004002", "415556004003", "415556004008")  # digits, but text cells
    assert id_warnings(xlsx(tmp_path / "t.xlsx", set(), ids=ids)) == []
    assert id_warnings(xlsx(tmp_path / "t2.xlsx", set())) == []  # '001' …


def test_the_warning_reaches_the_user_and_the_run_succeeds(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "s.xlsx", {2})
    result = invoke(["validate", "--data", path, "-c", Path(__file__).parents[1] / "corpus" / "base.yaml"])
    assert result.exit_code == 0, result.output
    assert "1 branch id is stored as a number, not text: 汇总表!A3 (row 3)" in result.output


def test_the_filled_template_is_not_warned(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    import wuxing_cli.cli.forms  # noqa: F401  (registers template)

    form = tmp_path / "自评表.xlsx"
    assert invoke(["template", "-c", "rural", "-o", form]).exit_code == 0
    book = openpyxl.load_workbook(form)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert sheet.column_dimensions["A"].number_format == "@"  # the id column is formatted as text
    for r, bid in enumerate(("0415556004001", "415556004002"), start=2):  # typed into the text column
        sheet.cell(row=r, column=headers.index("支部编码") + 1, value=bid)
        sheet.cell(row=r, column=headers.index("支部名称") + 1, value=f"村{r}")
    book.save(tmp_path / "filled.xlsx")
    assert id_warnings(tmp_path / "filled.xlsx") == []


def test_ods_ids_stored_as_numbers_are_a_warning(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(HEADERS)]
    for i, row in enumerate(ROWS):
        rows.append([Cell("float", 415556004000 + i) if i in (1, 3) else row[0], *row[1:]])
    path = ods(tmp_path / "n.ods", [("Sheet1", False, rows)])
    assert id_warnings(path) == [
        f"{path}:3: warning: 2 branch ids are stored as numbers, not text: Sheet1!A3, Sheet1!A5 (rows 3, 5) "
        f"[column '支部编码', value '415556004001'] — {HINT}"
    ]


def test_ods_ids_stored_as_text_get_no_warning(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(HEADERS), *([f"41555600400{i}", *row[1:]] for i, row in enumerate(ROWS))]
    assert id_warnings(ods(tmp_path / "t.ods", [("Sheet1", False, rows)])) == []
