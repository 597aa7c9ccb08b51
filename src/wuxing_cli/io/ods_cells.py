"""Cells of an .ods sheet (LibreOffice's format) whose stored value is not what the user sees.

The Excel reader (fastexcel, calamine) reads an .ods file's values but not its cell types:

* a percent cell (``office:value-type="percentage"``, ``office:value="0.92"``, shown as 92 %) comes back
  as 0.92, which a 0–100 ``percent`` field reads as 0.92 %;
* a formula error (``calcext:value-type="error"``, shown as ``#DIV/0!``) comes back as an empty cell;
* a formula with no saved result (no ``office:value-type``) comes back as an empty cell;
* merged cells (``table:number-rows-spanned``) hold their value in the top-left cell only;
* a branch id stored as a number (``office:value-type="float"`` under a 支部编码 header) has lost its leading zeros;
* a hidden sheet (its table style says ``table:display="false"``) is read like any other.

``content.xml`` is read here with the standard library, in one streaming pass (rows are dropped once
read): the same :class:`SheetCells` as for .xlsx, for every sheet, plus which sheets are hidden and how
far each sheet's cells reach. The XML is read safely: a document type declaration (the way to entity
tricks) is refused, and so is a ``content.xml`` larger than :data:`MAX_CONTENT_BYTES`.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from typing import IO
from xml.etree import ElementTree

from wuxing_cli.models.contract import RESERVED_HEADERS, header_key

from .xlsx_cells import SheetCells

__all__ = ["MAX_CONTENT_BYTES", "OdsBook", "OdsRefused", "OdsSheet", "read_ods_book"]

MAX_CONTENT_BYTES = 1 << 30  #: content.xml above this (uncompressed) is refused
_PROLOG_BYTES = 1 << 16
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_CELLS = (f"{_TABLE}table-cell", f"{_TABLE}covered-table-cell")
_ERROR_TEXT = re.compile(r"#(?:DIV/0!|N/A|NAME\?|NULL!|NUM!|REF!|VALUE!)|Err:\d{3}")
_SPECIAL_REPEAT = 10_000  # a repeated block of cells larger than this is not expanded cell by cell
_ID_KEYS = frozenset(header_key(h) for h in RESERVED_HEADERS["branch_id"])
_HEADER_ROWS = 500  # a branch-id header (支部编码) is looked for in this many rows, as the reader does


class OdsRefused(Exception):
    """content.xml cannot be read safely (too large, a document type declaration, not XML)."""


@dataclass
class OdsSheet:
    name: str
    hidden: bool
    cells: SheetCells = field(default_factory=SheetCells)
    low: tuple[int, int] | None = None  # the cell holding a value with the largest row (0-based)
    right: tuple[int, int] | None = None  # … with the largest column
    id_columns: dict[int, int] = field(default_factory=dict)  # column headed 支部编码 → its header row

    def size(self) -> int:
        """Cells of the used range as the reader builds it: from row 1 and the first used column."""
        if self.low is None or self.right is None:
            return 0
        return (self.low[0] + 1) * (self.right[1] - self.cells.first_column + 1)


@dataclass
class OdsBook:
    sheets: list[OdsSheet]


def read_ods_book(path: str) -> OdsBook | None:
    """Every sheet of the .ods file at ``path``; None when it is not an OpenDocument package.

    Raises :class:`OdsRefused` when ``content.xml`` cannot be read safely.
    """
    try:
        with zipfile.ZipFile(path) as package:
            try:
                info = package.getinfo("content.xml")
            except KeyError:
                return None
            if info.file_size > MAX_CONTENT_BYTES:
                raise OdsRefused(f"its content.xml is larger than {MAX_CONTENT_BYTES >> 20} MB")
            with package.open(info) as stream:
                prolog = stream.read(_PROLOG_BYTES)
            root_at = prolog.find(b"<office:document-content")
            if b"<!DOCTYPE" in (prolog if root_at < 0 else prolog[:root_at]) or b"<!ENTITY" in prolog:
                raise OdsRefused("its content.xml declares a document type, which is not allowed")
            with package.open(info) as stream:
                return _parse(_Bounded(stream, MAX_CONTENT_BYTES))
    except (OSError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
        raise OdsRefused(f"its content.xml cannot be read ({exc})") from None
    except ElementTree.ParseError as exc:
        raise OdsRefused(f"its content.xml is not well-formed XML ({exc})") from None


class _Bounded:
    """A binary stream that refuses to yield more than ``limit`` bytes (the size in a zip can lie)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._left = stream, limit

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size if size >= 0 else 1 << 20)
        self._left -= len(data)
        if self._left < 0:
            raise OdsRefused(f"its content.xml is larger than {MAX_CONTENT_BYTES >> 20} MB")
        return data


def _int(value: str | None) -> int:
    try:
        return max(1, int(value)) if value is not None else 1
    except ValueError:
        return 1


def _parse(stream: _Bounded) -> OdsBook:
    hidden_styles: set[str] = set()
    table_style: str | None = None  # the table style being read (automatic styles come first)
    sheets: list[OdsSheet] = []
    sheet: OdsSheet | None = None
    first_column: int | None = None
    row = col = 0
    row_repeat = 1
    stack: list[ElementTree.Element] = []
    for event, elem in ElementTree.iterparse(stream, events=("start", "end")):
        tag = elem.tag
        if event == "start":
            stack.append(elem)
            if tag == f"{_STYLE}style":
                family = elem.get(f"{_STYLE}family")
                table_style = elem.get(f"{_STYLE}name") if family == "table" else None
            elif tag == f"{_STYLE}table-properties" and table_style is not None:
                if elem.get(f"{_TABLE}display") == "false":
                    hidden_styles.add(table_style)
            elif tag == f"{_TABLE}table":
                sheet = OdsSheet(elem.get(f"{_TABLE}name", ""), elem.get(f"{_TABLE}style-name") in hidden_styles)
                sheets.append(sheet)
                row, first_column = 0, None
            elif tag == f"{_TABLE}table-row":
                col, row_repeat = 0, _int(elem.get(f"{_TABLE}number-rows-repeated"))
            continue
        stack.pop()
        if tag in _CELLS and sheet is not None:
            repeat = _int(elem.get(f"{_TABLE}number-columns-repeated"))
            if tag == _CELLS[0]:
                first_column = _cell(sheet, elem, row, col, repeat, row_repeat, first_column)
            col += repeat
        elif tag == f"{_TABLE}table-row":
            row += row_repeat
            elem.clear()
            if stack:
                stack[-1].remove(elem)
        elif tag == f"{_TABLE}table" and sheet is not None:
            sheet.cells.first_column = first_column or 0
            elem.clear()
            sheet = None
    return OdsBook(sheets)


def _cell(
    sheet: OdsSheet, elem: ElementTree.Element, row: int, col: int, repeat: int, row_repeat: int,
    first_column: int | None,
) -> int | None:
    kind = elem.get(f"{_OFFICE}value-type")
    formula = elem.get(f"{_TABLE}formula")
    text = "".join(elem.itertext()).strip()
    if kind is None and formula is None and not text:
        return first_column  # an empty cell
    last = (row + row_repeat - 1, col + repeat - 1)
    if sheet.low is None or last[0] > sheet.low[0]:
        sheet.low = (last[0], col)
    if sheet.right is None or last[1] > sheet.right[1]:
        sheet.right = (row, last[1])
    first_column = col if first_column is None else min(first_column, col)
    spans = (_int(elem.get(f"{_TABLE}number-rows-spanned")), _int(elem.get(f"{_TABLE}number-columns-spanned")))
    if spans != (1, 1):
        sheet.cells.merges.append((row, col, row + spans[0] - 1, col + spans[1] - 1))
    target: dict[tuple[int, int], str] | None = None
    value = ""
    if elem.get(f"{_CALCEXT}value-type") == "error" or (formula and _ERROR_TEXT.fullmatch(text)):
        target, value = sheet.cells.errors, text or "#VALUE!"
    elif formula is not None and (kind is None or (kind != "string" and elem.get(f"{_OFFICE}value") is None
                                                  and kind not in ("date", "time", "boolean"))):
        target, value = sheet.cells.uncomputed, _formula_text(formula)
    elif kind == "percentage" and elem.get(f"{_OFFICE}value") is not None:
        target, value = sheet.cells.percent, elem.get(f"{_OFFICE}value", "")
    elif kind == "float" and elem.get(f"{_OFFICE}value") is not None and sheet.id_columns.get(col, row) < row:
        target, value = sheet.cells.numbers, elem.get(f"{_OFFICE}value", "")  # an id stored as a number
    elif kind in (None, "string") and row < _HEADER_ROWS and repeat == 1 and header_key(text) in _ID_KEYS:
        sheet.id_columns.setdefault(col, row)
    if target is not None and repeat * row_repeat <= _SPECIAL_REPEAT:
        for r in range(row, row + row_repeat):
            for c in range(col, col + repeat):
                target[(r, c)] = value
    return first_column


def _formula_text(formula: str) -> str:
    """``of:=[.A2]*2`` → ``=A2*2`` (the OpenFormula namespace and cell brackets dropped)."""
    text = re.sub(r"^[a-z]+:", "", formula)
    text = re.sub(r"\[\$?[^\]]*?\.(\$?[A-Z]+\$?\d+(?::\.?\$?[A-Z]+\$?\d+)?)\]", r"\1", text)
    return text if text.startswith("=") else "=" + text
