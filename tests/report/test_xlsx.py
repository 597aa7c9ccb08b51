"""Issue 21, points 3 and 5: the Excel reports speak Chinese (English with --lang en) and print.

Read back with openpyxl (an independent reader): sheet names, the title and header rows, 是/否 cells,
names instead of ids, frozen header, column widths for CJK text, number formats and the print setup
(landscape A4, one page wide, the header row repeated). Report sheets (score, rank, incentives) have a
title row above the header; data sheets (the rejected rows; the forms of template/merge) have the
header in row 1. ``tests/golden/xlsx/*-headers.txt`` lists every sheet's name and header row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support import EXAMPLES, check_golden, invoke
from wuxing_cli.report.xlsx import display_width

openpyxl = pytest.importorskip("openpyxl")

Q4, Q3 = EXAMPLES / "county-2024-Q4.csv", EXAMPLES / "county-2024-Q3.csv"
INCENTIVES = ["--rules", str(EXAMPLES / "incentives.yaml"), "--people", str(EXAMPLES / "people-2024.csv")]


def write(tmp_path: Path, name: str, *args: str | Path) -> Path:
    out = tmp_path / name
    result = invoke([*(str(a) for a in args), "-f", "xlsx", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    return out


def row(ws: Any, n: int) -> list[Any]:
    return [c.value for c in ws[n]]


def headers_text(path: Path) -> str:
    """Each sheet: its name, whether it is a report (title row) or a data sheet, and its header row."""
    lines = []
    for ws in openpyxl.load_workbook(path).worksheets:
        report = ws.freeze_panes == "A3"
        lines.append(f"[{ws.title}] {'report (title row 1, header row 2)' if report else 'data (header row 1)'}")
        lines.append(" | ".join(str(v) for v in row(ws, 2 if report else 1)))
    return "\n".join(lines) + "\n"


def assert_prints(ws: Any, header_row: int) -> None:
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0  # one page wide
    assert ws.print_title_rows == f"${header_row}:${header_row}"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(f"A{header_row}:")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_score_xlsx_speaks_the_language_and_prints(tmp_path: Path, lang: str) -> None:
    path = write(tmp_path, "结果.xlsx", "score", Q4, "--lang", lang)
    check_golden(f"xlsx/score-headers{'-en' if lang == 'en' else ''}.txt", headers_text(path))
    book = openpyxl.load_workbook(path)
    ws = book.worksheets[0]
    zh = lang == "zh"
    assert book.sheetnames == (["评星结果"] if zh else ["Results"])
    title = row(ws, 1)[0]
    assert title.startswith("“五星”支部评星结果 · 示例县 · 2024-Q4 · 评分标准：" if zh
                            else "Five-star branch results · 示例县 · 2024-Q4 · criteria: ")
    assert ("（2024 版）" if zh else "(version 2024)") in title
    header = row(ws, 2)
    assert header[:10] == (["排名", "支部编码", "支部名称", "县（市、区）", "乡镇（街道）", "类型", "期间", "星数", "星级", "总分"]
                           if zh else ["Rank", "Branch ID", "Branch", "County", "Township", "Type", "Period",
                                       "Stars", "Level", "Total points"])
    assert header[10:12] == (["支部过硬星 得分", "支部过硬星 是否获评"] if zh
                             else ["支部过硬星 points", "支部过硬星 awarded"])
    assert header[-3:] == (["否决事项", "封顶事项", "缺失数据"] if zh else ["Vetoes", "Capped by", "Missing"])
    assert row(ws, 3)[:12] == [1, "415556005008", "小丁堂村", "示例县", "小店镇", "农村", "2024-Q4", 5,
                               "五星" if zh else "5 stars", 500, 100, "是" if zh else "yes"]
    cells = [v for r in ws.iter_rows(min_row=3, values_only=True) for v in r]
    assert not any(isinstance(v, bool) for v in cells)  # no TRUE/FALSE
    awarded = {r[11] for r in ws.iter_rows(min_row=3, values_only=True)}
    assert awarded == ({"是", "否"} if zh else {"yes", "no"})
    # vetoes, caps and missing fields by name (the field's header), never by id
    notes = {v for r in ws.iter_rows(min_row=3, values_only=True) for v in r[-3:] if v}
    assert "查实营商环境投诉" in notes and "党群服务中心面积(㎡)" in notes
    assert not any(re.search(r"\b[a-z]+_[a-z_]+\b", v) for v in notes), notes
    assert_prints(ws, 2)
    assert ws["J3"].number_format == "0.00" and ws["K3"].number_format == "0.00"  # points
    assert ws["A3"].number_format == "0" and ws["H3"].number_format == "0"  # rank, stars
    assert ws["A1"].font.bold and ws["A2"].font.bold
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:AC1"]  # the title spans the table


def test_column_widths_count_a_cjk_character_as_two(tmp_path: Path) -> None:
    assert display_width("支部过硬星") == 10 and display_width("2024-Q4") == 7 and display_width("（）") == 4
    ws = openpyxl.load_workbook(write(tmp_path, "s.xlsx", "score", Q4)).worksheets[0]
    longest = max(display_width(r[2]) for r in ws.iter_rows(min_row=3, values_only=True))
    assert ws.column_dimensions["C"].width >= longest  # 支部名称
    assert ws.column_dimensions["B"].width >= 12  # 支部编码: 12 digits
    # a long header wraps rather than widening a column of short values (是/否)
    assert ws.column_dimensions["L"].width < display_width("支部过硬星 是否获评")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rank_xlsx_league_and_branches(tmp_path: Path, lang: str) -> None:
    path = write(tmp_path, "排名.xlsx", "rank", Q4, "--by", "township", "--previous", Q3, "--lang", lang)
    check_golden(f"xlsx/rank-headers{'-en' if lang == 'en' else ''}.txt", headers_text(path))
    book = openpyxl.load_workbook(path)
    zh = lang == "zh"
    assert book.sheetnames == (["乡镇（街道）排名", "支部排名"] if zh else ["League table", "Branches"])
    league, branches = book.worksheets
    assert row(league, 1)[0].startswith("乡镇（街道）排名 · 示例县 · 2024-Q4 · 评分标准：" if zh
                                         else "League table by Township · 示例县 · 2024-Q4 · criteria: ")
    header = row(league, 2)
    assert header[:6] == (["排名", "乡镇（街道）", "支部数", "平均分", "平均星数", "三星及以上占比"] if zh
                          else ["Rank", "Township", "Branches", "Mean points", "Mean stars", "Share 3★+"])
    assert header[-2:] == (["上期排名", "名次变化"] if zh else ["Previous rank", "Rank change"])
    assert row(league, 3)[:6] == [1, "南桥镇", 13, 391.14, 3.23, 0.7692]
    assert league["D3"].number_format == "0.00" and league["E3"].number_format == "0.00"
    assert league["F3"].number_format == "0.0%"  # the share is a fraction shown as a percentage
    assert row(branches, 2)[:4] == (["乡镇（街道）", "排名", "组内排名", "支部编码"] if zh
                                    else ["Township", "Rank", "Group rank", "Branch ID"])
    for ws in (league, branches):
        assert_prints(ws, 2)


def test_incentives_xlsx_is_a_report_with_money_formats(tmp_path: Path) -> None:
    path = write(tmp_path, "奖补.xlsx", "incentives", Q4, *INCENTIVES, "--by", "township")
    check_golden("xlsx/incentives-headers.txt", headers_text(path))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["按乡镇（街道）汇总", "各支部奖补明细", "奖补项目"]
    groups, branches, rules = book.worksheets
    assert row(groups, 1)[0].startswith("“五星”支部创建奖补测算 · ")
    assert row(groups, 1)[0].endswith(" · 示例县 · 2024-Q4")
    last = list(branches.iter_rows())[-1]
    assert last[0].value == "合计" and last[0].font.bold and last[-1].number_format == "#,##0.00"
    assert branches["J3"].number_format == "#,##0.00"
    for ws in (groups, branches, rules):
        assert_prints(ws, 2)


def test_rejected_rows_sheet_is_a_data_sheet(tmp_path: Path) -> None:
    lines = Q4.read_text(encoding="utf-8").splitlines()[:4]
    cells = lines[1].split(",")
    cells[6] = "八十"
    data = tmp_path / "d.csv"
    data.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
    path = write(tmp_path, "r.xlsx", "score", data, "-c", "rural", "--skip-invalid")
    ws = openpyxl.load_workbook(path)["被剔除的行"]
    assert row(ws, 1) == ["行号", "支部编码", "原因"] and row(ws, 2)[:2] == [2, "415556001001"]
    assert_prints(ws, 1)


def test_forms_stay_data_sheets_with_the_form_headers(tmp_path: Path) -> None:
    """template/merge -f xlsx: the form's own headers in row 1 (merge output is read back by score)."""
    form = tmp_path / "表.xlsx"
    assert invoke(["template", "-c", "rural", "-o", str(form)]).exit_code == 0
    ws = openpyxl.load_workbook(form)["自评表"]
    assert row(ws, 1)[:2] == ["支部编码", "支部名称"] and ws.freeze_panes == "C2"
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"


@pytest.mark.parametrize("args", [["score", str(Q4)], ["rank", str(Q4), "--by", "county"],
                                  ["incentives", str(Q4), *INCENTIVES]])
def test_xlsx_reports_are_byte_identical(tmp_path: Path, args: list[str]) -> None:
    first = write(tmp_path, "1.xlsx", *args).read_bytes()
    assert write(tmp_path, "2.xlsx", *args).read_bytes() == first
