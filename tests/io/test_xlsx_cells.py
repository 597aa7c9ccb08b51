"""Excel cells whose stored value is not what the user sees: percent-formatted numbers and formula errors.

A cell typed as ``90%`` in Excel/WPS is stored as 0.9; read bare it would score as 0.9 %. A ``#DIV/0!``
cell comes back from the reader as empty, so a count with ``default: 0`` would silently read 0.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.support import CORPUS, invoke
from wuxing_cli.io import xlsx_cells
from wuxing_cli.io.xlsx_cells import percent_text, sheet_cells

openpyxl = pytest.importorskip("openpyxl")


@pytest.mark.parametrize(("stored", "shown"), [("0.9", "90%"), ("0.705", "70.5%"), ("0.07", "7%"), ("1", "100%"),
                                               ("1E-3", "0.1%"), ("-0.5", "-50%"), ("0", "0%"),
                                               ("7.0000000000000007E-2", "7%"), ("0.30000000000000004", "30.000000000000004%"),
                                               ("abc", None),
                                               ("NaN", None)])
def test_percent_text_is_exact(stored: str, shown: str | None) -> None:
    assert percent_text(stored) == shown


def workbook(path: Path, *, offset: tuple[int, int] = (0, 0), second_sheet_first: bool = False) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    if second_sheet_first:
        sheet.title = "说明"
        sheet["A1"] = "填表说明"
        sheet = book.create_sheet("数据")
    r0, c0 = offset
    rows = [["支部编码", "完成率(%)", "满意度", "案件数", "备注"],
            ["001", 0.9, 0.705, 0, "0%"],
            ["002", 0.07, 85, "#DIV/0!", "x"]]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = sheet.cell(r0 + r + 1, c0 + c + 1, value)
            if r and c == 1:
                cell.number_format = "0%"
            if r == 1 and c == 2:
                cell.number_format = "0.0%"
            if r == 2 and c == 2:
                cell.number_format = '0"%"'  # a literal % sign after a plain number: not a percentage
            if value == "#DIV/0!":
                cell.data_type = "e"
    book.save(path)
    return path


def test_percent_and_error_cells_are_found(tmp_path: Path) -> None:
    found = sheet_cells(str(workbook(tmp_path / "a.xlsx")), 0)
    assert {k: float(v) for k, v in found.percent.items()} == {(1, 1): 0.9, (2, 1): 0.07, (1, 2): 0.705}
    assert found.errors == {(2, 3): "#DIV/0!"}
    assert found.first_column == 0
    assert found.shown() == {(1, 1): "90%", (2, 1): "7%", (1, 2): "70.5%", (2, 3): "#DIV/0!"}


def test_positions_count_from_the_sheet_corner_and_the_first_used_column(tmp_path: Path) -> None:
    found = sheet_cells(str(workbook(tmp_path / "b.xlsx", offset=(2, 3))), 0)
    assert set(found.percent) == {(3, 4), (4, 4), (3, 5)}
    assert found.first_column == 3


def test_the_sheet_is_found_through_the_workbook_order(tmp_path: Path) -> None:
    path = str(workbook(tmp_path / "c.xlsx", second_sheet_first=True))
    assert not sheet_cells(path, 0)
    assert sheet_cells(path, 1).percent[(1, 1)] == "0.9"
    assert not sheet_cells(path, 7)


def test_a_plain_workbook_and_a_damaged_file_give_nothing(tmp_path: Path) -> None:
    corpus = CORPUS / "data"
    assert not sheet_cells(str(corpus / "ok.xlsx"), 0)
    assert not sheet_cells(str(corpus / "truncated.xlsx"), 0)
    assert not sheet_cells(str(corpus / "zip-not-workbook.xlsx"), 0)
    assert not sheet_cells(str(tmp_path / "missing.xlsx"), 0)


def test_chunks_split_only_between_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sheet is read a few bytes at a time here: cells cut across chunks are still found once."""
    xml = (b'<worksheet><sheetData><row r="1"><c r="B1" s="3"/><c r="C1" s="1"><v>0.25</v></c>'
           b'<c r="D1" s="3"><v>0.5</v></c><c r="E1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
           b'<row r="2"><c r="B2" s="3" t="n"><v>1.5</v></c></row></sheetData></worksheet>')
    for size in (1, 7, 64, 1 << 20):
        monkeypatch.setattr(xlsx_cells, "_CHUNK", size)
        found = xlsx_cells._scan(io.BytesIO(xml), {3})
        assert found.percent == {(0, 3): "0.5", (1, 1): "1.5"}, size
        assert found.errors == {(0, 4): "#DIV/0!"}
        assert found.first_column == 1


def test_a_percent_formatted_workbook_scores_like_the_csv(tmp_path: Path) -> None:
    """End to end: 完成率 typed as 90% in Excel (stored 0.9) scores exactly as "90" in a CSV."""
    lines = (CORPUS / "data" / "ok.csv").read_text(encoding="utf-8").splitlines()
    book = openpyxl.Workbook()
    sheet = book.active
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line.split(","), start=1):
            if r > 1 and c == 8:  # 完成率(%)
                cell = sheet.cell(r, c, float(value.rstrip("%")) / 100)
                cell.number_format = "0.0%"
            elif value:
                sheet.cell(r, c, value)
    book.save(tmp_path / "rates.xlsx")
    args = ["-c", str(CORPUS / "base.yaml"), "-f", "csv", "-q"]
    from_excel = invoke(["score", str(tmp_path / "rates.xlsx"), *args])
    from_csv = invoke(["score", str(CORPUS / "data" / "ok.csv"), *args])
    assert from_excel.exit_code == 0, from_excel.stderr
    assert from_excel.stdout == from_csv.stdout


def test_formulas_without_a_result_and_merged_ranges_are_found(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["支部编码", "乡镇", "案件数", "合计"])
    sheet.append(["001", "城关镇", 3, "=C2*2"])
    sheet.append(["002", None, 4, 8])
    sheet.merge_cells("B2:B3")
    path = tmp_path / "f.xlsx"
    book.save(path)
    found = sheet_cells(str(path), 0)
    assert found.uncomputed == {(1, 3): "=C2*2"}
    assert found.merges == [(1, 1, 2, 1)]


def test_hidden_sheets_and_cell_refs(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "旧"
    book.active.sheet_state = "hidden"
    book.create_sheet("新")
    path = tmp_path / "h.xlsx"
    book.save(path)
    assert xlsx_cells.hidden_sheets(str(path)) == [True, False]
    assert [xlsx_cells.cell_ref(*rc) for rc in ((0, 0), (6, 2), (0, 25), (0, 26), (1048575, 16383))] == [
        "A1", "C7", "Z1", "AA1", "XFD1048576"]


def test_far_cells_look_at_the_cells_only_when_the_dimension_is_large(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "far.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["支部编码", "x"])
    sheet.write(2, 0, "001")
    sheet.write(70000, 3, "stray")
    book.close()
    assert xlsx_cells.far_cells(str(path), 0, 10**6) is None
    assert xlsx_cells.far_cells(str(path), 0, 1000) == (70001 * 4, [(70000, 3)])
