"""How a sheet is laid out, as counties send them: merged group cells, formulas without a result, stray
cells far from the table. The problems and notes the Excel reader gives for them, naming ``Sheet!C7``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode
from wuxing_cli.models.contract import LINE, RESERVED_HEADERS, header_key

from .data_problems import lines_text
from .xlsx_cells import SheetCells, cell_ref

if TYPE_CHECKING:
    from .headers import Resolution
    from .raw import RawTable

__all__ = [
    "GROUP_COLUMNS",
    "blank_group_problem",
    "blank_group_warnings",
    "blank_sheet_groups",
    "fill_merged",
    "is_group_header",
    "numeric_id_problem",
    "numeric_ids_possible",
    "sheet_label",
    "size_problem",
    "uncomputed_problems",
]

#: Reserved columns that group branches (ranking by township, criteria by type, …): a block of them
#: merged over several rows means one value for every row of the block.
GROUP_COLUMNS = ("county", "township", "branch_type", "period")
#: Group columns whose blank cells are a warning (a blank period or type is an error elsewhere).
BLANK_WARNED = ("county", "township")
_MERGES_LISTED = 5
_CELLS_LISTED = 5


def is_group_header(header: str, columns: Sequence[str] = GROUP_COLUMNS) -> bool:
    key = header_key(header)
    return bool(key) and any(key == header_key(h) for c in columns for h in RESERVED_HEADERS[c])


def blank_group_problem(name: str, header: str, lines: Sequence[int], total: int,
                        cells: Sequence[str] = ()) -> Problem:
    """The warning for ``total`` blank cells of a group column (乡镇, 县区) that other rows fill in."""
    where = f": {', '.join(cells[:_CELLS_LISTED])}{', …' if total > len(cells[:_CELLS_LISTED]) else ''}" if cells else ""
    return Problem(
        f"{total} empty cell{'s' if total > 1 else ''} in a column that groups branches{where} "
        f"({lines_text(lines, total).replace('line', 'row') if cells else lines_text(lines, total)})",
        file=name,
        line=lines[0],
        header=header,
        hint="these rows have no group: a ranking by this column (rank --by township) would put them in a group "
        "of their own (（未填写）); fill in every row, or merge the cell with the block it belongs to",
        severity="warning",
        code=ProblemCode.BLANK_GROUP,
    )


def blank_sheet_groups(frame: pl.DataFrame, names: Sequence[str], headers: Sequence[str], name: str, label: str,
                       first_column: int) -> list[Problem]:
    """Blank cells (not merged) of a sheet's 乡镇/县区 column that other rows fill in, named ``Sheet!C5``."""
    out = []
    for i, header in enumerate(headers):
        if not is_group_header(header, BLANK_WARNED) or names[i] not in frame.columns:
            continue
        column = pl.col(names[i])
        blank = frame.filter(column.is_null()).get_column(LINE)
        if blank.len() == 0 or blank.len() == frame.height:
            continue
        lines = blank.head(10).to_list()
        cells = [f"{label}!{cell_ref(line - 1, i + first_column)}" for line in lines[:_CELLS_LISTED]]
        out.append(blank_group_problem(name, header, lines, blank.len(), cells))
    return out


def blank_group_warnings(raw: RawTable, res: Resolution, base: pl.DataFrame) -> list[Problem]:
    """Blank 乡镇/县区 cells of a text file (a spreadsheet's reader reports them itself, by cell)."""
    if raw.encoding == "xlsx":
        return []
    out = []
    for column in BLANK_WARNED:
        index = res.reserved.get(column)
        if index is None or column not in base.columns:
            continue
        blank = base.filter(pl.col(column).is_null()).get_column(LINE)
        if blank.len() == 0 or blank.len() == base.height:
            continue
        out.append(blank_group_problem(raw.path, raw.headers[index], blank.head(10).to_list(), blank.len()))
    return out


_NUMBER_TEXT = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
NUMERIC_ID_HINT = ("format the id column as text (文本) in Excel and type the ids again; ids stored as numbers "
                   "lose leading zeros and long ids turn into 4.15556E+11")


def numeric_ids_possible(frame: pl.DataFrame, id_name: str) -> bool:
    """Whether any branch id reads as a plain number: only then can a cell hold it as a number."""
    if id_name not in frame.columns:
        return False
    return bool(frame.select(pl.col(id_name).str.contains(_NUMBER_TEXT).any()).item())


def numeric_id_problem(frame: pl.DataFrame, id_name: str, header: str, stored: dict[int, str], column: int,
                       name: str, label: str) -> list[Problem]:
    """One warning for the branch-id cells of a sheet stored as numbers, not text, naming the first few.

    ``stored``: 0-based sheet row → the number stored in the id column (sheet column ``column``). Only
    cells whose number is the id the reader gave for that row are counted (never a misaligned cell).
    """
    if not stored or id_name not in frame.columns:
        return []
    lines = []
    for line, value in frame.select(LINE, id_name).iter_rows():
        number = stored.get(line - 1)
        if number is not None and value is not None and _same_number(value, number):
            lines.append(line)
    if not lines:
        return []
    total = len(lines)
    cells = [f"{label}!{cell_ref(line - 1, column)}" for line in lines[:_CELLS_LISTED]]
    more = ", …" if total > len(cells) else ""
    first = frame.filter(pl.col(LINE) == lines[0]).get_column(id_name).item()
    return [
        Problem(
            f"{total} branch id{'s are' if total > 1 else ' is'} stored as {'numbers' if total > 1 else 'a number'}, "
            f"not text: {', '.join(cells)}{more} ({lines_text(lines, total).replace('line', 'row')})",
            file=name,
            line=lines[0],
            header=header,
            value=first,
            hint=NUMERIC_ID_HINT,
            severity="warning",
            code=ProblemCode.ID_NUMERIC,
        )
    ]


def _same_number(text: str, stored: str) -> bool:
    try:
        return float(text) == float(stored)
    except ValueError:
        return False


def sheet_label(sheet: str) -> str:
    """The sheet name as a cell reference shows it: ``Sheet1``, ``'2024 Q4'``."""
    if re.fullmatch(r"[^\s!'\-+,;:()\[\]{}<>=&%#@\"]+", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


def size_problem(name: str, label: str, size: int, far: Sequence[tuple[int, int]], limit: int) -> Problem:
    refs = " and ".join(cell_ref(r, c) for r, c in far)
    where = ", ".join(f"{label}!{cell_ref(r, c)}" for r, c in far)
    return Problem(
        f"the sheet reaches cell {refs}, far from the table: its used range would be {size:,} cells, "
        f"more than the {limit:,} that can be read ({where})",
        file=name,
        line=far[0][0] + 1 if far else None,
        hint="delete the stray cell (or clear every row and column below and right of the table), "
        "save the file and try again",
        code=ProblemCode.SHEET_TOO_LARGE,
    )


def uncomputed_problems(name: str, label: str, found: SheetCells, headers: Sequence[str]) -> list[Problem]:
    """One error per formula cell without a saved result, in sheet order."""
    out = []
    for (row, col), formula in sorted(found.uncomputed.items()):
        index = col - found.first_column
        header = headers[index] if 0 <= index < len(headers) else None
        out.append(
            Problem(
                f"formula cell {label}!{cell_ref(row, col)} has no saved result",
                file=name,
                line=row + 1,
                header=header,
                value=formula,
                hint="the program that wrote the file did not compute its formulas: open it in Excel, WPS or "
                "LibreOffice and save it again, or paste the values instead of the formulas",
                code=ProblemCode.FORMULA_UNCOMPUTED,
            )
        )
    return out


def fill_merged(
    table: pl.DataFrame, found: SheetCells, headers: Sequence[str], header_end: int, name: str, label: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """Merged blocks of data rows over a group column (乡镇, 类型, 期间, 县区) filled down from their
    top-left cell, with one warning saying which; a merged block over any other column is an error.

    ``table``: the sheet as read, row ``i`` is the sheet's row ``i + 1``, column ``j`` its column
    ``j + found.first_column``; ``header_end``: the (1-based) last row of the header.
    """
    columns: dict[int, list[str | None]] = {}
    filled: list[tuple[str, str, int, int, str]] = []  # range, value, first row, last row, header
    errors: list[Problem] = []
    for r1, c1, r2, c2 in sorted(found.merges):
        first = c1 - found.first_column
        if r2 <= r1 or r1 < header_end or not 0 <= first < min(table.width, len(headers)):
            continue  # one row only, or in the header: read as before
        if r1 >= table.height:
            continue
        last_row = min(r2, table.height - 1)
        span = f"{label}!{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"
        value = _column(table, columns, first)[r1]
        if value is None or not value.strip():
            continue  # an empty block: its rows are empty either way
        if not is_group_header(headers[first]):
            errors.append(
                Problem(
                    f"cells {span} are merged: only {label}!{cell_ref(r1, c1)} holds the value, the other rows "
                    "would read as empty",
                    file=name,
                    line=r1 + 1,
                    header=headers[first],
                    value=value,
                    hint="unmerge the cells (取消合并单元格) and fill in the value of every row",
                    code=ProblemCode.MERGED_CELLS,
                )
            )
            continue
        for c in range(first, min(c2 - found.first_column, table.width - 1) + 1):
            cells = _column(table, columns, c)
            for r in range(r1, last_row + 1):
                if cells[r] is None:
                    cells[r] = value
        filled.append((span, value, r1 + 1, r2 + 1, headers[first]))
    if errors:
        from wuxing_cli.errors import DataError

        raise DataError(errors)
    if not filled:
        return table, []
    table = table.with_columns(
        pl.Series(table.columns[c], values, dtype=pl.String) for c, values in columns.items()
    )
    parts = [f"{span} is merged: its value '{value}' is used for rows {a}–{b}" for span, value, a, b, _ in filled]
    shown = "; ".join(parts[:_MERGES_LISTED])
    if len(parts) > _MERGES_LISTED:
        shown += f"; … ({len(parts)} merged ranges in all)"
    header_names = sorted({h for *_, h in filled})
    note = Problem(
        shown,
        file=name,
        line=filled[0][2],
        header=header_names[0] if len(header_names) == 1 else None,
        hint="merged cells were filled in from their first cell; check that each block belongs to one group",
        severity="warning",
        code=ProblemCode.MERGED_CELLS,
    )
    return table, [note]


def _column(table: pl.DataFrame, columns: dict[int, list[str | None]], index: int) -> list[str | None]:
    if index not in columns:
        columns[index] = table.to_series(index).to_list()
    return columns[index]
