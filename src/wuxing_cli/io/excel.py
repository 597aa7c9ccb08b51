"""Reading an Excel workbook (.xlsx, .xlsm, .xlsb, .ods) into a RawTable, cells as the user sees them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import LINE, STRIP_CHARS, header_key

from .cells import normalize_expr
from .data_problems import quote_list
from .header_row import (
    HEADER_SEARCH_ROWS,
    HeadRecord,
    branch_id_index,
    check_duplicate_headers,
    column_name,
    display_header,
    pick_header,
)
from .raw import RawTable, drop_blank_and_comments


def read_excel(path: Path, sheet: str | None) -> RawTable:
    import fastexcel

    name = str(path)
    try:
        reader = fastexcel.read_excel(path)
        sheets = reader.sheet_names
    except Exception as exc:  # calamine reports many kinds of damage
        raise DataError(
            [
                Problem(
                    f"cannot read the file as an Excel file: {str(exc).splitlines()[0] if str(exc) else exc}",
                    file=name,
                    hint="is it a complete .xlsx file? Open it in Excel or WPS and save it again",
                    code=ProblemCode.EXCEL,
                )
            ]
        ) from None
    index = _sheet_index(sheets, sheet, name)
    try:
        loaded = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
        table = loaded.to_polars()
    except Exception as exc:
        raise DataError(
            [
                Problem(
                    f"cannot read sheet '{sheets[index]}' as an Excel file: {exc}",
                    file=name,
                    hint="open it in Excel or WPS and save it again",
                    code=ProblemCode.EXCEL,
                )
            ]
        ) from None
    if table.width == 0 or table.height == 0:
        raise DataError(
            [Problem(f"the file is empty (sheet '{sheets[index]}')", file=name, code=ProblemCode.EMPTY_FILE)]
        )
    raw_names = table.columns
    table = table.select(pl.col(c).cast(pl.String) for c in raw_names)
    table = _as_shown(table, name, index)
    head_rows = table.head(HEADER_SEARCH_ROWS * 50).rows()
    records: list[HeadRecord] = []
    for i, row in enumerate(head_rows):
        cells = ["" if v is None else str(v) for v in row]
        if any(c.strip(STRIP_CHARS) for c in cells):
            records.append(HeadRecord(i + 1, i + 1, cells))
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    if not records:
        raise DataError(
            [Problem(f"the file is empty (sheet '{sheets[index]}')", file=name, code=ProblemCode.EMPTY_FILE)]
        )
    header = pick_header(records)
    headers = [display_header(c) for c in header.cells]
    # Trailing columns with no header and no data are formatting leftovers.
    while (
        headers
        and not headers[-1]
        and table.get_column(raw_names[len(headers) - 1]).null_count() == table.height
    ):
        headers.pop()
    check_duplicate_headers(name, headers, header.start)
    names = [column_name(headers, i) for i in range(len(headers))]
    frame = table.slice(header.end).select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + header.end + 1).alias(LINE),
        *(
            normalize_expr(pl.col(raw).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")).alias(new)
            for raw, new in zip(raw_names, names, strict=False)
        ),
    )
    frame = drop_blank_and_comments(frame, names, branch_id_index(headers))
    if frame.height == 0:
        raise DataError(
            [Problem(f"no data rows below the header (line {header.start})", file=name, code=ProblemCode.NO_DATA)]
        )
    return RawTable(path=name, headers=headers, frame=frame, encoding="xlsx", header_line=header.start)


def _as_shown(table: pl.DataFrame, name: str, index: int) -> pl.DataFrame:
    """Cells as the user sees them: ``90%`` for a percent-formatted 0.9, ``#DIV/0!`` for a formula error.

    The reader returns the stored 0.9 (read as 0.9 %, a silently wrong score) and an empty cell for an
    error (a count with ``default: 0`` would silently read 0). A cell is changed only where the reader's
    value matches the workbook's (so a misaligned position can never rewrite a wrong cell).
    """
    from wuxing_cli.io.xlsx_cells import sheet_cells

    found = sheet_cells(name, index)
    if not found:
        return table
    shown = found.shown()
    by_column: dict[int, dict[int, str]] = {}
    for (row, col), text in shown.items():
        column = col - found.first_column
        if 0 <= column < table.width and 0 <= row < table.height:
            by_column.setdefault(column, {})[row] = text
    replaced = []
    for column, cells in by_column.items():
        values = table.to_series(column).to_list()
        for row, text in cells.items():
            stored = found.percent.get((row, column + found.first_column))
            if stored is not None and not _same_number(values[row], stored):
                continue
            if stored is None and values[row] is not None:  # an error cell reads as empty
                continue
            values[row] = text
        replaced.append(pl.Series(table.columns[column], values, dtype=pl.String))
    return table.with_columns(replaced)


def _same_number(value: str | None, stored: str) -> bool:
    try:
        return value is not None and float(value) == float(stored)
    except ValueError:
        return False


def _sheet_index(sheets: Sequence[str], sheet: str | None, name: str) -> int:
    if not sheets:
        raise DataError([Problem("the workbook has no sheets", file=name, code=ProblemCode.EMPTY_FILE)])
    if sheet is None:
        return 0
    if sheet in sheets:
        return list(sheets).index(sheet)
    keys = [header_key(s) for s in sheets]
    if header_key(sheet) in keys:
        return keys.index(header_key(sheet))
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(sheets):
        return int(sheet) - 1
    raise UsageError(
        [
            Problem(
                f"no sheet '{sheet}' in the workbook",
                file=name,
                hint=f"sheets: {quote_list(sheets)} (or give a 1-based number)",
                code=ProblemCode.SHEET,
            )
        ]
    )
