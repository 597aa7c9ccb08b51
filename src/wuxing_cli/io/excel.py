"""Reading an Excel workbook (.xlsx, .xlsm, .xlsb, .ods) into a RawTable, cells as the user sees them.

Before the reader (fastexcel) is asked for a sheet, the workbook's own XML is read (xlsx_cells, ods_cells):
which sheets are hidden (the first visible one is read by default), whether a stray cell far from the
table would make the sheet too large to read, which cells are percentages, formula errors, formulas
without a saved result (refused) and merged ranges (group columns filled in from their first cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import LINE, MAX_LISTED, STRIP_CHARS, header_key

from .cells import normalize_expr
from .data_problems import capped, quote_list
from .header_row import (
    HEADER_SEARCH_ROWS,
    HeadRecord,
    branch_id_index,
    check_duplicate_headers,
    column_name,
    display_header,
    pick_header,
)
from .raw import RawTable, comment_row_notes, drop_blank_and_comments
from .sheet_layout import (
    blank_sheet_groups,
    fill_merged,
    numeric_id_problem,
    numeric_ids_possible,
    sheet_label,
    size_problem,
    uncomputed_problems,
)
from .xlsx_cells import SheetCells, number_cells

#: A sheet whose used range holds more cells than this is refused (the reader would build it whole).
MAX_SHEET_CELLS = 50_000_000


def read_excel(path: Path, sheet: str | None) -> RawTable:
    import fastexcel

    from .ods_cells import OdsRefused, read_ods_book
    from .xlsx_cells import far_cells, hidden_sheets, sheet_cells

    name = str(path)
    book = None
    if _is_ods(path):
        try:
            book = read_ods_book(name)
        except OdsRefused as exc:
            raise DataError(
                [
                    Problem(
                        f"cannot read the file as an .ods spreadsheet: {exc}",
                        file=name,
                        hint="open it in LibreOffice, WPS or Excel and save it again (as .xlsx, or as CSV UTF-8)",
                        code=ProblemCode.EXCEL,
                    )
                ]
            ) from None
    if book is not None:  # the reader reads every sheet of an .ods at once: each must be small enough
        for part in book.sheets:
            if part.size() > MAX_SHEET_CELLS:
                stray = sorted({c for c in (part.low, part.right) if c})
                raise DataError([size_problem(name, sheet_label(part.name), part.size(), stray, MAX_SHEET_CELLS)])
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
    if book is not None and [s.name for s in book.sheets] != list(sheets):
        book = None  # not the sheets the reader sees: read the cells as the reader gives them
    hidden = [s.hidden for s in book.sheets] if book is not None else hidden_sheets(name)
    if hidden is not None and len(hidden) != len(sheets):
        hidden = None
    index, notes = _sheet_index(sheets, sheet, name, hidden)
    label = sheet_label(sheets[index])
    if book is not None:
        found = book.sheets[index].cells
    else:
        found = sheet_cells(name, index)
        far = far_cells(name, index, MAX_SHEET_CELLS)
        if far is not None:
            raise DataError([size_problem(name, label, far[0], far[1], MAX_SHEET_CELLS)])
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
    table = _as_shown(table, found)
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
    if found.uncomputed:
        listed = uncomputed_problems(name, label, found, headers)
        raise DataError(capped(listed[:MAX_LISTED], len(listed), name))
    if found.merges:
        table, merged = fill_merged(table, found, headers, header.end, name, label)
        notes.extend(merged)
    names = [column_name(headers, i) for i in range(len(headers))]
    frame = table.slice(header.end).select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + header.end + 1).alias(LINE),
        *(
            normalize_expr(pl.col(raw).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")).alias(new)
            for raw, new in zip(raw_names, names, strict=False)
        ),
    )
    if (id_index := branch_id_index(headers)) is not None:  # '#' rows are left out, with a note each
        notes.extend(comment_row_notes(frame, names[id_index], name, where="row"))
    frame = drop_blank_and_comments(frame, names, id_index)
    if frame.height == 0:
        raise DataError(
            [Problem(f"no data rows below the header (line {header.start})", file=name, code=ProblemCode.NO_DATA)]
        )
    notes.extend(blank_sheet_groups(frame, names, headers, name, label, found.first_column))
    if id_index is not None and numeric_ids_possible(frame, names[id_index]):  # ids stored as numbers
        column = found.first_column + id_index
        numbers = {r: v for (r, c), v in found.numbers.items() if c == column} if book is not None else None
        if book is None and (scanned := number_cells(name, index, id_index)) is not None:
            column, numbers = scanned
        if numbers:
            notes.extend(numeric_id_problem(frame, names[id_index], headers[id_index], numbers, column, name, label))
    return RawTable(path=name, headers=headers, frame=frame, encoding="xlsx", header_line=header.start,
                    notes=tuple(notes))


def _is_ods(path: Path) -> bool:
    """An OpenDocument spreadsheet: its first zip member is ``mimetype`` naming it, or it is named .ods."""
    if path.suffix.lower() in (".ods", ".fods"):
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
    except OSError:
        return False
    return b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in head


def _as_shown(table: pl.DataFrame, found: SheetCells) -> pl.DataFrame:
    """Cells as the user sees them: ``90%`` for a percent-formatted 0.9, ``#DIV/0!`` for a formula error.

    The reader returns the stored 0.9 (read as 0.9 %, a silently wrong score) and an empty cell for an
    error (a count with ``default: 0`` would silently read 0). A cell is changed only where the reader's
    value matches the workbook's (so a misaligned position can never rewrite a wrong cell).
    """
    if not found.percent and not found.errors:
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
            if stored is None and values[row] not in (None, ""):  # an error cell reads as empty
                continue
            values[row] = text
        replaced.append(pl.Series(table.columns[column], values, dtype=pl.String))
    return table.with_columns(replaced)


def _same_number(value: str | None, stored: str) -> bool:
    try:
        return value is not None and float(value) == float(stored)
    except ValueError:
        return False


def _sheet_index(
    sheets: Sequence[str], sheet: str | None, name: str, hidden: Sequence[bool] | None = None
) -> tuple[int, list[Problem]]:
    """The sheet to read and, when it was chosen among several, a note saying which.

    By default that is the first visible sheet (a hidden one often keeps last quarter's data);
    ``--sheet`` reaches any sheet, hidden or not.
    """
    if not sheets:
        raise DataError([Problem("the workbook has no sheets", file=name, code=ProblemCode.EMPTY_FILE)])
    if sheet is None:
        flags = list(hidden) if hidden is not None else [False] * len(sheets)
        visible = [i for i, flag in enumerate(flags) if not flag]
        index = visible[0] if visible else 0
        if len(sheets) == 1:
            return index, []
        skipped = [s for s, flag in zip(sheets, flags, strict=True) if flag]
        message = f"the workbook has {len(sheets)} sheets: read sheet '{sheets[index]}'"
        if skipped and visible:
            message += f" (the first visible one; hidden: {quote_list(skipped)})"
        elif not visible:
            message += " (every sheet is hidden)"
        note = Problem(message, file=name, hint="give --sheet NAME to read another sheet",
                       severity="warning", code=ProblemCode.SHEET_CHOSEN)
        return index, [note]
    if sheet in sheets:
        return list(sheets).index(sheet), []
    keys = [header_key(s) for s in sheets]
    if header_key(sheet) in keys:
        return keys.index(header_key(sheet)), []
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(sheets):
        return int(sheet) - 1, []
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
