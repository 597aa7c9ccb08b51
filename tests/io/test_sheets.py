"""Spreadsheets as counties really send them (issue 20, points 1, 2, 3, 7 and 16): merged group cells,
formulas without a result and formula errors, .ods percent cells, hidden sheets, a stray cell at XFD1048576.

Every workbook is built here: .xlsx with xlsxwriter/openpyxl, .ods by hand (mimetype, manifest, content.xml).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest

from tests.support import CORPUS, invoke
from wuxing_cli.errors import DataError, ProblemCode
from wuxing_cli.io.ods_cells import read_ods_book
from wuxing_cli.io.reader import read_raw

xlsxwriter = pytest.importorskip("xlsxwriter")

CRITERIA = CORPUS / "base.yaml"
HEADERS = ["支部编码", "支部名称", "乡镇", "类型", "期间", "集体收入(万元)", "户数", "完成率(%)", "网格化", "评议等次", "案件数"]
ROWS = [
    ["001", "甲村", "城关镇", "农村", "2024-Q1", 55, 300, 0.9, "是", "好", 0],
    ["002", "乙村", "城关镇", "农村", "2024-Q1", 25, 80, 0.7, "否", "较好", 0],
    ["003", "丙村", "南关镇", "农村", "2024-Q1", 5, 120, 0.96, "是", "差", 1],
    ["004", "丁村", "南关镇", "农村", "2024-Q1", 60, 150, 0.92, "是", "好", 0],
]
RATE = HEADERS.index("完成率(%)")
TOWN = HEADERS.index("乡镇")


# ---- building workbooks -------------------------------------------------------------------------


def xlsx(path: Path, rows: Sequence[Sequence[object]] = ROWS, *, merge_town: bool = False,
         hidden_first: Sequence[Sequence[object]] | None = None) -> Path:
    """The table as .xlsx: the percent column formatted '0%'; 乡镇 merged per township if asked."""
    book = xlsxwriter.Workbook(str(path))
    if hidden_first is not None:
        old = book.add_worksheet("上季度")
        for r, row in enumerate(hidden_first):
            old.write_row(r, 0, row)
        old.hide()
    sheet = book.add_worksheet("Sheet1")
    sheet.activate()
    percent = book.add_format({"num_format": "0%"})
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if c == RATE and isinstance(value, float):
                sheet.write_number(r, c, value, percent)
            elif not (merge_town and c == TOWN):
                sheet.write(r, c, value)
    if merge_town:
        start = 1
        for r in range(1, len(rows) + 1):
            if r == len(rows) or rows[r][TOWN] != rows[start - 1][TOWN]:
                if r > start:
                    sheet.merge_range(start, TOWN, r, TOWN, rows[start - 1][TOWN])
                else:
                    sheet.write(start, TOWN, rows[start - 1][TOWN])
                start = r + 1
    book.close()
    return path


class Cell:
    """An .ods cell: ``kind`` string, float, percentage, error, formula (no result) or covered."""

    def __init__(self, kind: str, value: object = None, *, formula: str | None = None, rows: int = 1) -> None:
        self.kind, self.value, self.formula, self.rows = kind, value, formula, rows

    def xml(self) -> str:
        attrs = f" table:formula={quoteattr(self.formula)}" if self.formula else ""
        if self.rows > 1:
            attrs += f' table:number-rows-spanned="{self.rows}" table:number-columns-spanned="1"'
        if self.kind == "covered":
            return "<table:covered-table-cell/>"
        if self.kind == "formula":
            return f"<table:table-cell{attrs}/>"
        if self.kind == "error":
            return (f'<table:table-cell{attrs} office:value-type="string" office:string-value="" '
                    f'calcext:value-type="error"><text:p>{escape(str(self.value))}</text:p></table:table-cell>')
        if self.kind == "percentage":
            shown = f"{float(self.value) * 100:g}%"  # type: ignore[arg-type]
            return (f'<table:table-cell{attrs} table:style-name="ce1" office:value-type="percentage" '
                    f'office:value="{self.value}"><text:p>{shown}</text:p></table:table-cell>')
        if self.kind == "float":
            return (f'<table:table-cell{attrs} office:value-type="float" office:value="{self.value}">'
                    f"<text:p>{self.value}</text:p></table:table-cell>")
        return f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(str(self.value))}</text:p></table:table-cell>'


def as_cell(value: object) -> Cell:
    if isinstance(value, Cell):
        return value
    if value is None:
        return Cell("formula")  # no formula and no value: an empty cell
    if isinstance(value, int | float):
        return Cell("float", value)
    return Cell("string", value)


def ods(path: Path, sheets: Sequence[tuple[str, bool, Sequence[Sequence[object]]]], *, stray: bool = False) -> Path:
    """A minimal valid .ods: ``sheets`` as (name, hidden, rows), each followed by empty rows down to the last
    row (as LibreOffice writes them); with ``stray``, one value at XFD1048576 of the last sheet."""
    tables = []
    for name, hidden, rows in sheets:
        body = "".join(
            "<table:table-row>" + "".join(as_cell(v).xml() for v in row) + "</table:table-row>" for row in rows
        )
        filler = len(rows) + 1 if stray else 1048500
        if stray:
            body += (f'<table:table-row table:number-rows-repeated="{1048575 - len(rows)}"><table:table-cell '
                     'table:number-columns-repeated="16384"/></table:table-row><table:table-row><table:table-cell '
                     'table:number-columns-repeated="16383"/><table:table-cell office:value-type="string">'
                     "<text:p>x</text:p></table:table-cell></table:table-row>")
        style = "ta2" if hidden else "ta1"
        tables.append(f'<table:table table:name={quoteattr(name)} table:style-name="{style}">'
                      f'<table:table-column table:number-columns-repeated="{max(len(r) for r in rows)}"/>{body}'
                      f'<table:table-row table:number-rows-repeated="{filler}"><table:table-cell '
                      'table:number-columns-repeated="16384"/></table:table-row></table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" office:version="1.3">'
        "<office:automatic-styles>"
        '<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/></style:style>'
        '<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>'
        '<number:percentage-style style:name="N10"><number:number number:decimal-places="0" '
        'number:min-integer-digits="1"/><number:text>%</number:text></number:percentage-style>'
        '<style:style style:name="ce1" style:family="table-cell" style:data-style-name="N10"/>'
        f"</office:automatic-styles><office:body><office:spreadsheet>{''.join(tables)}"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as package:
        package.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        package.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def ods_rows(rows: Sequence[Sequence[object]] = ROWS) -> list[list[object]]:
    return [list(HEADERS)] + [
        [Cell("percentage", v) if c == RATE and isinstance(v, float) else v for c, v in enumerate(row)] for row in rows
    ]


def score_csv(path: Path, *extra: str) -> str:
    result = invoke(["score", path, "-c", CRITERIA, "-f", "csv", *extra])
    assert result.exit_code == 0, result.output
    return result.stdout


def errors_of(path: Path) -> list[str]:
    with pytest.raises(DataError) as caught:
        read_raw(path)
    return [p.format() for p in caught.value.problems]


# ---- 3: .ods percent cells read as in .xlsx -----------------------------------------------------------


def test_ods_percent_cells_score_exactly_as_the_same_xlsx(tmp_path: Path) -> None:
    book = xlsx(tmp_path / "t.xlsx")
    sheet = ods(tmp_path / "t.ods", [("Sheet1", False, ods_rows())])
    assert read_raw(sheet).frame.get_column("完成率(%)").to_list() == ["90%", "70%", "96%", "92%"]
    from_xlsx = score_csv(book)
    assert from_xlsx == score_csv(sheet)
    as_text = tmp_path / "t.csv"  # the rates typed as 90, 70, …: 92 %, not 0.92 %
    as_text.write_text("\n".join(",".join(str(round(v * 100) if c == RATE and isinstance(v, float) else v) for c, v in enumerate(row))
                                  for row in [HEADERS, *ROWS]) + "\n", encoding="utf-8")
    assert from_xlsx == score_csv(as_text)


def test_ods_cells_are_found_by_position(tmp_path: Path) -> None:
    rows = [[None, None, *HEADERS], [None, None, *ods_rows()[1]]]
    book = read_ods_book(str(ods(tmp_path / "o.ods", [("S", False, rows)])))
    assert book is not None
    cells = book.sheets[0].cells
    assert cells.percent == {(1, RATE + 2): "0.9"} and cells.first_column == 2
    assert read_raw(tmp_path / "o.ods").frame.get_column("完成率(%)").to_list() == ["90%"]


def test_an_ods_with_a_document_type_is_refused(tmp_path: Path) -> None:
    path = ods(tmp_path / "d.ods", [("Sheet1", False, ods_rows())])
    with zipfile.ZipFile(path) as package:
        content = package.read("content.xml").decode()
    bad = content.replace("<office:document-content", '<!DOCTYPE x [<!ENTITY a "aaaa">]><office:document-content', 1)
    with zipfile.ZipFile(tmp_path / "e.ods", "w") as package:
        package.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        package.writestr("content.xml", bad)
    assert errors_of(tmp_path / "e.ods") == [
        f"{tmp_path / 'e.ods'}: error: cannot read the file as an .ods spreadsheet: its content.xml declares a "
        "document type, which is not allowed — open it in LibreOffice, WPS or Excel and save it again (as .xlsx, "
        "or as CSV UTF-8)"
    ]


# ---- 2: formulas without a result, formula errors ------------------------------------------------------


def test_a_formula_without_a_saved_result_is_an_error_naming_the_cell(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append([*HEADERS, "备注", "合计"])
    for row in ROWS:
        sheet.append([*row[:RATE], row[RATE] * 100, *row[RATE + 1:]])
    sheet["M2"] = "=F2*2"
    sheet["M3"] = 5
    path = tmp_path / "openpyxl.xlsx"
    book.save(path)
    result = invoke(["score", path, "-c", CRITERIA, "-f", "csv"])
    assert result.exit_code == 1
    assert f"{path}:2: error: formula cell Sheet1!M2 has no saved result [column '合计', value '=F2*2'] — the " \
           "program that wrote the file did not compute its formulas: open it in Excel, WPS or LibreOffice and " \
           "save it again, or paste the values instead of the formulas" in result.output


def test_a_formula_giving_an_empty_text_is_not_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty-text.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, [*HEADERS, "备注"])
    for r, row in enumerate(ROWS, start=1):
        sheet.write_row(r, 0, [*row[:RATE], row[RATE] * 100, *row[RATE + 1:]])
        sheet.write_formula(r, len(HEADERS), '=""', None, "")
    book.close()
    # as Excel saves a formula whose result is the empty text: t="str" and an empty value
    with zipfile.ZipFile(path) as package:
        parts = {n: package.read(n) for n in package.namelist()}
    sheet_xml = "xl/worksheets/sheet1.xml"
    parts[sheet_xml] = parts[sheet_xml].replace(b'"><f>""</f><v></v>', b'" t="str"><f>""</f><v></v>')
    assert parts[sheet_xml].count(b't="str"') == 4
    with zipfile.ZipFile(path, "w") as package:
        for member, data in parts.items():
            package.writestr(member, data)
    assert read_raw(path).frame.height == 4


def test_ods_formula_errors_and_formulas_without_result_name_the_cell(tmp_path: Path) -> None:
    rows = ods_rows()
    rows[1][-1] = Cell("error", "#DIV/0!", formula="of:=1/0")
    rows[2][-1] = Cell("error", "#N/A", formula="of:=NA()")
    result = invoke(["score", ods(tmp_path / "err.ods", [("Sheet1", False, rows)]), "-c", CRITERIA])
    assert result.exit_code == 1
    name = tmp_path / "err.ods"
    assert f"{name}:2: error: not a whole number [column '案件数', value '#DIV/0!']" in result.output
    assert f"{name}:3: error: not a whole number [column '案件数', value '#N/A']" in result.output
    rows = ods_rows()
    rows[3][-1] = Cell("formula", formula="of:=[.G4]*2")
    assert errors_of(ods(tmp_path / "f.ods", [("Sheet1", False, rows)])) == [
        f"{tmp_path / 'f.ods'}:4: error: formula cell Sheet1!K4 has no saved result [column '案件数', value "
        "'=G4*2'] — the program that wrote the file did not compute its formulas: open it in Excel, WPS or "
        "LibreOffice and save it again, or paste the values instead of the formulas"
    ]


# ---- 1: merged cells ---------------------------------------------------------------------------------------


MERGED_NOTE = (
    "{name}:2: warning: Sheet1!C2:C3 is merged: its value '城关镇' is used for rows 2–3; Sheet1!C4:C5 is merged: "
    "its value '南关镇' is used for rows 4–5 [column '乡镇'] — merged cells were filled in from their first cell; "
    "check that each block belongs to one group"
)


def test_merged_township_cells_are_filled_down_with_a_note(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "merged.xlsx", merge_town=True)
    raw = read_raw(path)
    assert raw.frame.get_column("乡镇").to_list() == ["城关镇", "城关镇", "南关镇", "南关镇"]
    assert [n.format() for n in raw.notes] == [MERGED_NOTE.format(name=path)]
    assert raw.notes[0].code is ProblemCode.MERGED_CELLS
    plain = xlsx(tmp_path / "plain.xlsx")
    assert score_csv(path, "--by", "township") == score_csv(plain, "--by", "township")
    result = invoke(["rank", path, "-c", CRITERIA, "--by", "township"])
    assert result.exit_code == 0, result.output
    assert "共 2 个乡镇（街道），4 个支部" in result.stdout and "未填写" not in result.output  # no phantom group
    assert MERGED_NOTE.format(name=path) in result.output


def test_merged_township_cells_in_ods_are_filled_down(tmp_path: Path) -> None:
    rows = ods_rows()
    rows[1][TOWN] = Cell("string", "城关镇", rows=2)
    rows[2][TOWN] = Cell("covered")
    rows[3][TOWN] = Cell("string", "南关镇", rows=2)
    rows[4][TOWN] = Cell("covered")
    path = ods(tmp_path / "merged.ods", [("Sheet1", False, rows)])
    raw = read_raw(path)
    assert raw.frame.get_column("乡镇").to_list() == ["城关镇", "城关镇", "南关镇", "南关镇"]
    assert [n.format() for n in raw.notes] == [MERGED_NOTE.format(name=path)]
    assert score_csv(path) == score_csv(xlsx(tmp_path / "plain.xlsx"))


def test_a_blank_township_cell_that_is_not_merged_is_a_warning_naming_the_cell(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][TOWN] = None
    path = xlsx(tmp_path / "blank.xlsx", rows)
    result = invoke(["rank", path, "-c", CRITERIA, "--by", "township"])
    assert result.exit_code == 0, result.output
    assert (f"{path}:3: warning: 1 empty cell in a column that groups branches: Sheet1!C3 (row 3) [column '乡镇'] "
            "— these rows have no group: a ranking by this column (rank --by township) would put them in a group "
            "of their own (（未填写）); fill in every row, or merge the cell with the block it belongs to") \
        in result.output


def test_a_blank_township_cell_in_a_csv_is_a_warning_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text((CORPUS / "data" / "ok.csv").read_text(encoding="utf-8").replace(",乙村,城关镇,", ",乙村,,"),
                    encoding="utf-8")
    result = invoke(["score", path, "-c", CRITERIA])
    assert f"{path}:3: warning: 1 empty cell in a column that groups branches (line 3) [column '乡镇']" in result.output


def test_a_merged_block_over_a_field_column_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "merged-field.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(ROWS, start=1):
        sheet.write_row(r, 0, [*row[:RATE], row[RATE] * 100, *row[RATE + 1:]])
    sheet.merge_range(1, 6, 2, 6, 300)
    book.close()
    assert errors_of(path) == [
        f"{path}:2: error: cells Sheet1!G2:G3 are merged: only Sheet1!G2 holds the value, the other rows would read "
        "as empty [column '户数', value '300'] — unmerge the cells (取消合并单元格) and fill in the value of every row"
    ]


# ---- 7: hidden sheets ----------------------------------------------------------------------------------------


OLD = [HEADERS, ["001", "甲村", "城关镇", "农村", "2023-Q4", 1, 300, 10, "否", "差", 0]]


def test_a_hidden_first_sheet_is_skipped_and_the_note_says_which_sheet_was_read(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "hidden.xlsx", hidden_first=OLD)
    raw = read_raw(path)
    assert raw.frame.height == 4
    assert [n.format() for n in raw.notes] == [
        f"{path}: warning: the workbook has 2 sheets: read sheet 'Sheet1' (the first visible one; hidden: '上季度') "
        "— give --sheet NAME to read another sheet"
    ]
    assert read_raw(path, sheet="上季度").frame.height == 1  # --sheet still reaches it
    assert score_csv(path) == score_csv(xlsx(tmp_path / "plain.xlsx"))


def test_a_hidden_first_sheet_of_an_ods_is_skipped(tmp_path: Path) -> None:
    path = ods(tmp_path / "hidden.ods", [("上季度", True, OLD), ("Sheet1", False, ods_rows())])
    raw = read_raw(path)
    assert raw.frame.height == 4
    assert [n.code for n in raw.notes] == [ProblemCode.SHEET_CHOSEN]
    assert "read sheet 'Sheet1' (the first visible one; hidden: '上季度')" in raw.notes[0].message
    assert read_raw(path, sheet="上季度").frame.height == 1


# ---- 16: a stray cell at XFD1048576 ------------------------------------------------------------------------


def test_a_stray_cell_at_xfd1048576_is_refused_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "stray.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, HEADERS)
    for r, row in enumerate(ROWS, start=1):
        sheet.write_row(r, 0, [*row[:RATE], row[RATE] * 100, *row[RATE + 1:]])
    sheet.write(1048575, 16383, "x")
    book.close()
    done = subprocess.run([sys.executable, "-m", "wuxing_cli", "score", str(path), "-c", str(CRITERIA)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"{path}:1048576: error: the sheet reaches cell XFD1048576, far from the table: its used range would be "
        "17,179,869,184 cells, more than the 50,000,000 that can be read (Sheet1!XFD1048576) — delete the stray "
        "cell (or clear every row and column below and right of the table), save the file and try again"
    ]


def test_a_stray_cell_at_xfd1048576_of_an_ods_is_refused(tmp_path: Path) -> None:
    path = ods(tmp_path / "stray.ods", [("Sheet1", False, ods_rows())], stray=True)
    assert errors_of(path) == [
        f"{path}:1048576: error: the sheet reaches cell XFD1048576, far from the table: its used range would be "
        "17,179,869,184 cells, more than the 50,000,000 that can be read (Sheet1!XFD1048576) — delete the stray "
        "cell (or clear every row and column below and right of the table), save the file and try again"
    ]
