"""Writing a form as an Excel workbook: the form sheet (自评表) and the guide sheet (填表说明).

The header cells carry each column's rule as a comment, every column has data validation
(dropdowns, numeric bounds; long dropdown lists live on a hidden sheet), the header row is frozen
with the id and name columns, and the page is set up for printing on A4. The same inputs give a
byte-identical file.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import polars as pl

from ..report.xlsx import CREATED, TEXT_ONLY, display_width
from .layout import Form, FormColumn
from .rows import empty_rows
from .text import utf16_len

FORM_SHEET = "自评表"
GUIDE_SHEET = "填表说明"
LISTS_SHEET = "选项"
LAST_ROW = 1_048_575  # Excel's last row (0-based): validation covers the whole column
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def write_form_xlsx(path: Path, form: Form, rows: pl.DataFrame | None = None) -> None:
    """Write ``form`` (with ``rows`` under it, all text cells keyed by header) as an .xlsx workbook.

    Sheet 1 (自评表) is the form: the header row with a comment on every cell, data validation
    on every column, the header frozen with the id and name columns; sheet 2 (填表说明) explains
    every column. Byte-identical for the same inputs.
    """
    import xlsxwriter

    rows = rows if rows is not None else empty_rows(form)
    workbook = xlsxwriter.Workbook(str(path), TEXT_ONLY)
    workbook.set_properties({"title": form.title, "author": "wuxing", "created": CREATED})
    sheet = workbook.add_worksheet(FORM_SHEET)
    guide = workbook.add_worksheet(GUIDE_SHEET)
    lists = None

    base = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
    header_formats: dict[str, Any] = {}
    text_format = workbook.add_format({**base, "num_format": "@"})
    plain_format = workbook.add_format(base)
    number_format = workbook.add_format({**base, "num_format": "General"})

    def header_format(fill: str) -> Any:
        if fill not in header_formats:
            header_formats[fill] = workbook.add_format(
                {**base, "bold": True, "text_wrap": True, "align": "center", "border": 1, "bg_color": fill}
            )
        return header_formats[fill]

    sheet.set_row(0, 48)
    sheet.set_comments_author("wuxing")
    list_row = 0
    for col, column in enumerate(form.columns):
        sheet.write_string(0, col, column.header, header_format(column.fill))
        sheet.set_column(col, col, _column_width(column), text_format if column.text else plain_format)
        sheet.write_comment(0, col, column.note, _comment_options(column.note))
        options = dict(column.validation or {})
        if options.get("validate") == "list" and utf16_len(",".join(column.values)) > 250:
            if lists is None:
                lists = workbook.add_worksheet(LISTS_SHEET)
                lists.hide()
            for i, value in enumerate(column.values):
                lists.write_string(list_row + i, 0, value)
            options["source"] = f"='{LISTS_SHEET}'!$A${list_row + 1}:$A${list_row + len(column.values)}"
            list_row += len(column.values)
        if options:
            sheet.data_validation(1, col, LAST_ROW, col, options)

    for r, row in enumerate(rows.select(form.headers).iter_rows(), start=1):
        for col, (column, value) in enumerate(zip(form.columns, row, strict=True)):
            if value is None:
                continue
            text = str(value)
            number = _as_number(text) if column.numeric else None
            if number is not None:
                sheet.write_number(r, col, number, number_format)
            else:
                sheet.write_string(r, col, text, text_format if column.text else plain_format)

    sheet.freeze_panes(1, 2)
    sheet.hide_gridlines(0)  # show and print the grid: the form is also printed and filled by hand
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(0)
    sheet.repeat_columns(0, 1)
    sheet.set_header(f"&C&\"等线,Bold\"{_escape_header(form.title)}")
    sheet.set_footer("&C第 &P 页，共 &N 页")
    sheet.activate()
    _write_guide(workbook, guide, form, base, header_format)
    workbook.close()


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def _as_number(text: str) -> float | int | None:
    cleaned = text.replace(",", "")
    if not _PLAIN_NUMBER.match(cleaned):
        return None
    value = float(cleaned)
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 2**53 and "." not in cleaned and "e" not in cleaned.lower():
        return int(value)
    return value


def _column_width(column: FormColumn) -> float:
    width = display_width(column.header)
    if column.key == "branch_id":
        return 16
    if width <= 16:
        return max(width + 3, 9)
    return min(max(math.ceil(width / 2) + 3, 12), 22)


def _wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapping cell ``width`` characters wide (CJK counts 2)."""
    per_line = max(int(width * 1.1) - 1, 1)
    return sum(max(1, math.ceil(display_width(line) / per_line)) for line in text.splitlines() or [""])


def _comment_options(note: str) -> dict[str, Any]:
    width_px = 400
    per_line = width_px // 7  # half-width characters per line at 9 pt
    lines = sum(max(1, math.ceil(display_width(line) / per_line)) for line in note.splitlines())
    return {"width": width_px, "height": min(20 + 15 * lines, 600), "font_size": 9, "font_name": "等线"}


def _write_guide(workbook: Any, guide: Any, form: Form, base: dict[str, Any], header_format: Any) -> None:
    title = workbook.add_format({**base, "bold": True, "font_size": 14})
    wrap = workbook.add_format({**base, "text_wrap": True, "valign": "top", "border": 1})
    bold_wrap = workbook.add_format({**base, "text_wrap": True, "valign": "top", "border": 1, "bold": True})
    plain = workbook.add_format({**base, "text_wrap": True, "valign": "top"})
    widths = (36, 40, 22, 90)
    for col, width in enumerate(widths):
        guide.set_column(col, col, width)
    guide.write_string(0, 0, f"{form.title} · 填表说明", title)
    versions = "；".join(f"{c.name}（{c.id}，{c.version} 版）" for c in form.criteria)
    notes = [
        f"适用标准：{versions}",
        "1. 每个支部填写一行；“支部编码”必填，同一期间内不得重复，请按文本填写并保留开头的 0。",
        "2. 请勿修改、删除或调换第一行的列名，不要合并单元格；需要备注时，在“支部编码”列以 # 开头写一行，汇总时会跳过。",
        "3. 数值只填数字（可带千分位）；百分比填 0–100 的数，例如 85 表示 85%，不要输入 % 号。",
        "4. “是/否”和等次类的列请从下拉列表中选择；超出范围的数值会被拒绝。",
        "5. 把鼠标停在列名上可查看该列的填写要求和计分规则；下表列出全部列。",
        "6. 空白单元格视为缺失，相关指标不得分；注明“空白视为 0”的计数类列没有发生时可留空。",
    ]
    row = 1
    for text in notes:
        guide.merge_range(row, 0, row, 3, text, plain)
        row += 1
    if form.legend:
        row += 1
        guide.write_string(row, 0, "列名底色表示该列主要用于哪颗星：", plain)
        for i, (name, fill) in enumerate(form.legend):
            guide.write_string(row + 1 + i // 4, i % 4, name, header_format(fill))
        row += 2 + (len(form.legend) - 1) // 4
    row += 1
    for col, label in enumerate(("列名", "填写要求", "空白时", "计分用途")):
        guide.write_string(row, col, label, bold_wrap)
    guide.freeze_panes(row + 1, 0)
    for column in form.columns:
        row += 1
        lines = [f"说明：{column.description}"] if column.description else []
        lines += [f"• {u}" for u in column.uses]
        if not lines and not column.reserved:
            lines = ["本标准暂未用于计分"]
        uses = "\n".join(lines)
        cells = (column.header, column.requirement, column.blank, uses)
        guide.write_string(row, 0, column.header, header_format(column.fill))
        for col, text in enumerate(cells[1:], start=1):
            guide.write_string(row, col, text, wrap)
        guide.set_row(row, 15 * max(_wrapped_lines(text, width) for text, width in zip(cells, widths, strict=True)))
    guide.set_landscape()
    guide.set_paper(9)
    guide.fit_to_pages(1, 0)
