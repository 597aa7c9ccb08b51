"""The one Excel writer of the reports (score, rank, incentives): sheets that read and print.

Every sheet gets the same setup: a bold header row (frozen, with an autofilter), column widths that fit
the text (a CJK character counts 2), number formats by kind (points ``0.00``, shares as ``%``, money
``#,##0.00``), 是/否 (yes/no) for booleans, landscape A4 fitted to one page wide with the header row
repeated on every printed page and the page number in the footer.

Two kinds of sheet:

- a **report** sheet (``title`` given) starts with a title row naming what it shows, the area, the
  period and the criteria; the header is row 2. Reports are for reading and printing, not re-reading.
- a **data** sheet (``title=None``) has the header in row 1 and nothing above it, so that a program can
  read it back. The forms (``template``, ``merge -f xlsx``) are data sheets and are written by
  :mod:`wuxing_cli.forms.xlsx` with the form's own headers.

Text cells are always text, never formulas (SPEC §7); the same inputs give a byte-identical file (the
workbook's creation date is fixed).
"""

from __future__ import annotations

import datetime as _dt
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from .labels import Lang, label

#: The fixed creation date that keeps workbooks byte-identical between runs.
CREATED = _dt.datetime(2000, 1, 1)
#: Workbook options of every workbook wuxing writes: text cells stay text, never formulas, links or
#: numbers (the xlsx side of the one neutralising policy, SPEC §7).
TEXT_ONLY = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
FONT = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
MAX_WIDTH = 40
#: Excel's rows per sheet (title and header rows included): a longer sheet cannot be opened, so it is refused.
XLSX_MAX_ROWS = 1_048_576
WIDTH_SAMPLE = 2_000  # rows looked at to size a column


class Kind(StrEnum):
    """How a column's cells are written and formatted."""

    text = "text"
    int = "int"  # whole numbers: ranks, counts
    points = "points"  # two decimals, 0.00
    percent = "percent"  # a share 0…1 shown as 76.9%
    money = "money"  # #,##0.00 (Decimal or float)
    yesno = "yesno"  # a boolean shown as 是/否 (yes/no)
    number = "number"  # any number, Excel's General format


NUM_FORMATS = {Kind.int: "0", Kind.points: "0.00", Kind.percent: "0.0%", Kind.money: "#,##0.00"}


@dataclass(frozen=True)
class Col:
    header: str
    kind: Kind = Kind.text


@dataclass
class Sheet:
    """One sheet: its name, columns, the cells column by column (``values[c][r]``) and, for a report, a title."""

    name: str
    columns: Sequence[Col]
    values: Sequence[Sequence[Any]]
    title: str | None = None
    total_row: bool = False  # the last row is a total (bold, with a rule above)

    @property
    def height(self) -> int:
        return len(self.values[0]) if self.values else 0

    @property
    def header_row(self) -> int:
        return 1 if self.title else 0


def display_width(text: str) -> int:
    """Width in half-width character cells (CJK counts 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def sheet_name(text: str) -> str:
    """A valid sheet name: no ``[]:*?/\\``, at most 31 characters."""
    for ch in "[]:*?/\\":
        text = text.replace(ch, "_")
    return text[:31] or "Sheet"


def check_rows(sheets: Sequence[Sheet], output: Path | None = None) -> None:
    """Refuse (exit 2) a sheet with more rows than Excel holds, before any of the workbook is built."""
    from ..errors import Problem, ProblemCode, UsageError

    limit = XLSX_MAX_ROWS
    for sheet in sheets:
        head = sheet.header_row + 1
        if sheet.height + head > limit:
            included = "the title and header rows" if sheet.title else "the header"
            raise UsageError([Problem(
                f"-f xlsx cannot hold {sheet.height:,} rows in sheet '{sheet.name}': Excel's limit is "
                f"{limit:,} rows per sheet, {included} included ({limit - head:,} rows of data)",
                file=None if output is None else str(output), code=ProblemCode.XLSX_ROWS,
                hint="write -f csv or -f parquet instead, or split the data (e.g. by county or --period)")])


def _shown(value: Any, kind: Kind, lang: Lang) -> str:
    """The text a cell shows, for sizing its column."""
    if value is None:
        return ""
    if kind is Kind.yesno:
        return label("yes" if value else "no", lang)
    if kind in (Kind.points, Kind.money) and isinstance(value, int | float | Decimal):
        return f"{float(value):,.2f}"
    if kind is Kind.percent and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    return str(value)


def _width(col: Col, values: Sequence[Any], lang: Lang) -> float:
    header = display_width(col.header)
    cells = max((display_width(_shown(v, col.kind, lang)) for v in values[:WIDTH_SAMPLE]), default=0)
    # a long header wraps onto two lines rather than widening a column of short values
    head = header if header <= max(cells, 8) else max(math.ceil(header / 2), cells)
    return float(min(max(head, cells, 4) + 2, MAX_WIDTH))


def write_workbook(path: Path, sheets: Sequence[Sheet], lang: Lang | str) -> None:
    """Write ``sheets`` to ``path`` (byte-identical for the same inputs)."""
    import xlsxwriter

    lang = Lang(str(lang))
    check_rows(sheets)
    # constant_memory: each row goes to a temporary file as soon as the next row begins, so a sheet of
    # 200,000 branches is never held as a table of cells (rows are written strictly in order below;
    # strings are then stored inline rather than in the shared-strings table — same cells, same bytes
    # for the same inputs)
    book = xlsxwriter.Workbook(
        str(path), {**TEXT_ONLY, "constant_memory": True}
    )
    book.set_properties({"author": "wuxing", "created": CREATED})
    formats: dict[tuple[str, bool], Any] = {}

    def fmt(kind: str, total: bool = False) -> Any:
        key = (kind, total)
        if key not in formats:
            spec: dict[str, Any] = dict(FONT)
            if kind == "title":
                spec.update(bold=True, font_size=14, align="left")
            elif kind == "header":
                spec.update(bold=True, bg_color="#F2F2F2", border=1, text_wrap=True, align="center")
            else:
                number_format = NUM_FORMATS.get(Kind(kind))
                if number_format:
                    spec["num_format"] = number_format
                if kind == Kind.yesno:
                    spec["align"] = "center"
                if total:
                    spec.update(bold=True, top=1)
            formats[key] = book.add_format(spec)
        return formats[key]

    for sheet in sheets:
        ws = book.add_worksheet(sheet_name(sheet.name))
        head = sheet.header_row
        last_col = max(len(sheet.columns) - 1, 0)
        for c, col in enumerate(sheet.columns):
            ws.set_column(c, c, _width(col, sheet.values[c], lang))
        if sheet.title:
            ws.set_row(0, 24)
            if last_col > 0:
                ws.merge_range(0, 0, 0, last_col, sheet.title, fmt("title"))
            else:
                ws.write_string(0, 0, sheet.title, fmt("title"))
        for c, col in enumerate(sheet.columns):
            ws.write_string(head, c, col.header, fmt("header"))
        # row by row (constant_memory): every cell of a row before the next row
        kinds = [col.kind for col in sheet.columns]
        plain = [fmt(kind) for kind in kinds]
        last = sheet.height - 1 if sheet.total_row else -1
        for r, cells in enumerate(zip(*sheet.values, strict=True)):
            formats_of_row = [fmt(kind, True) for kind in kinds] if r == last else plain
            for c, value in enumerate(cells):
                _write_cell(ws, head + 1 + r, c, value, kinds[c], lang, formats_of_row[c])
        ws.freeze_panes(head + 1, 0)
        if sheet.columns:
            ws.autofilter(head, 0, head + max(sheet.height - (1 if sheet.total_row else 0), 1), last_col)
        ws.hide_gridlines(0)  # the grid shows and prints
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
        ws.repeat_rows(head)
        ws.set_footer("&C" + ("第 &P 页，共 &N 页" if lang == Lang.zh else "Page &P of &N"))
    book.close()


def _write_cell(ws: Any, row: int, col: int, value: Any, kind: Kind, lang: Lang, cell_format: Any) -> None:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        ws.write_string(row, col, label("yes" if value else "no", lang), cell_format)
    elif isinstance(value, Decimal):
        ws.write_number(row, col, float(value), cell_format)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, cell_format)
    else:
        ws.write_string(row, col, str(value), cell_format)


def report_title(what: str, lang: Lang | str, *, area: str | None = None, period: str | None = None,
                 criteria: Sequence[Any] = ()) -> str:
    """The title row of a report sheet: what it shows, the area, the period and the criteria it applied."""
    parts = [what]
    if area:
        parts.append(area)
    if period:
        parts.append(period)
    if criteria:
        names = "、" if str(lang) == Lang.zh else "; "
        versions = names.join(label("criteria_version", lang, name=c.name, version=c.version) for c in criteria)
        parts.append(label("criteria_applied", lang, criteria=versions))
    return " · ".join(parts)


def single_area(values: Sequence[Any] | None) -> str | None:
    """The area a report covers: the one county of its rows, or None when they span none or several."""
    if values is None:
        return None
    found = {v for v in values if v}
    return next(iter(found)) if len(found) == 1 else None


def column_major(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Row-major cells (``rows[r][c]``) as the column-major lists :class:`Sheet` holds."""
    return [[row[c] for row in rows] for c in range(width)]
