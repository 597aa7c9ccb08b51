"""Cells of an .xlsx sheet whose stored value is not what the user sees: percentages and errors.

* Excel and WPS store a cell typed as ``90%`` as the number 0.9 with a percent number format, and the
  Excel reader (fastexcel) returns the bare 0.9. Read as a 0–100 ``percent`` field that is 0.9 %, a
  silently wrong score. Such cells are to be read as the text the user sees, ``90%``.
* A formula error (``#DIV/0!``, ``#N/A``, …) comes back from the reader as an empty cell, so a count
  with ``default: 0`` would silently read as 0. Such cells are to be read as their error text, which
  no field accepts: the run lists them as bad cells.
* A formula with no saved result (openpyxl and web exporters write formulas without computing them)
  also reads as empty: such cells are listed (``uncomputed``) and the file is refused.
* Merged ranges (``<mergeCell ref="C2:C9"/>``) hold their value in the top-left cell only: they are
  listed (``merges``) so the reader can fill them in, and say so.
* A branch id stored as a number (``number_cells``: no ``t=``, or ``t="n"``) has lost its leading zeros
  and shows as 4.15556E+11 when long: the reader warns, naming the cells.

Only the standard library is used. The sheet XML is searched as bytes, a chunk of whole rows at a time
(memory stays bounded however large the sheet), and only when the workbook defines a percent format or
the sheet holds an error cell, a formula without a result or a merged range.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath
from typing import IO
from xml.etree import ElementTree

__all__ = ["SheetCells", "cell_ref", "far_cells", "hidden_sheets", "number_cells", "percent_text", "sheet_cells"]

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_BUILTIN_PERCENT = frozenset({9, 10})  # "0%" and "0.00%"
_REF = re.compile(r"([A-Z]+)(\d+)")
_NON_NUMERIC = frozenset({"s", "str", "inlineStr", "b", "e", "d"})
_UNCOMPUTED = (
    rb"<c\s([^>]*?)>\s*<f\b[^>]*?(?:/>|>([^<]*)</f>)\s*(<v\s*/>|<v>\s*</v>)?\s*</c>"
)  # a cell holding a formula and no (or an empty) value
_MERGE = re.compile(rb"""<mergeCell\s[^>]*?\bref\s*=\s*["']\$?([A-Z]+)\$?(\d+):\$?([A-Z]+)\$?(\d+)["']""")
_ERROR_MARK = re.compile(rb"""\bt\s*=\s*["']e["']""")
# Cheap signs (plain substrings) of a merged range or of a formula with no (or an empty) value: when one
# is seen, the sheet is scanned with the exact patterns.
_MARKS = (b"<mergeCell", b"</f></c>", b"/></c>", b"<v/>", b"<v />", b"<v></v>")
_CHUNK = 1 << 20


@dataclass
class SheetCells:
    """Cells to read differently, by 0-based (row, column) in the sheet, and the first used column.

    ``first_column`` is the leftmost column holding a value: the reader's column 0 when it drops
    empty leading columns.
    """

    percent: dict[tuple[int, int], str] = field(default_factory=dict)  # stored number, e.g. "0.9"
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # error text, e.g. "#DIV/0!"
    uncomputed: dict[tuple[int, int], str] = field(default_factory=dict)  # formula, e.g. "=A2*2"
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # first row, col, last row, col
    first_column: int = 0
    # .ods only: cells stored as numbers in a column headed as the branch id (支部编码), stored value
    numbers: dict[tuple[int, int], str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.percent or self.errors or self.uncomputed or self.merges)

    def shown(self) -> dict[tuple[int, int], str]:
        """(row, column) → the text to read instead of what the reader returned."""
        out = {pos: text for pos, stored in self.percent.items() if (text := percent_text(stored)) is not None}
        out.update(self.errors)
        return out


def percent_text(stored: str) -> str | None:
    """``"0.905"`` → ``"90.5%"``; None when ``stored`` is not a number.

    The stored text is read as the double Excel means (``7.0000000000000007E-2`` is 0.07), written in
    its shortest form, then multiplied by 100 in decimal arithmetic: ``7%``, not ``7.000000000000001%``.
    """
    try:
        value = Decimal(repr(float(stored.strip()))) * 100
    except (InvalidOperation, AttributeError, ValueError):
        return None
    if not value.is_finite():
        return None
    text = format(value.normalize(), "f")
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def sheet_cells(path: str, sheet_index: int) -> SheetCells:
    """Percent-formatted numbers and error cells of the ``sheet_index``-th sheet (workbook order).

    Returns an empty result for anything unexpected (an odd package): the reader then reads the
    cells as it always did.
    """
    try:
        with zipfile.ZipFile(path) as package:
            sheet = _sheet_part(package, sheet_index)
            if sheet is None:
                return SheetCells()
            styles = _percent_styles(package)
            if not styles and not _has_error_cell(package, sheet):
                return SheetCells()
            with package.open(sheet) as stream:
                return _scan(stream, styles)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, RuntimeError):
        return SheetCells()


def _has_error_cell(package: zipfile.ZipFile, member: str) -> bool:
    tail = b""
    with package.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            block = tail + chunk
            if any(mark in block for mark in _MARKS) or _ERROR_MARK.search(block):
                return True
            tail = chunk[-16:]
    return False


def _percent_styles(package: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell formats (``cellXfs``) whose number format shows a percentage."""
    try:
        root = ElementTree.fromstring(package.read("xl/styles.xml"))
    except KeyError:
        return set()
    percent_ids = set(_BUILTIN_PERCENT)
    formats = root.find(f"{_MAIN}numFmts")
    if formats is not None:
        for fmt in formats.findall(f"{_MAIN}numFmt"):
            if _is_percent_code(fmt.get("formatCode", "")):
                percent_ids.add(int(fmt.get("numFmtId", "-1")))
    xfs = root.find(f"{_MAIN}cellXfs")
    if xfs is None:
        return set()
    return {i for i, xf in enumerate(xfs.findall(f"{_MAIN}xf")) if int(xf.get("numFmtId", "0")) in percent_ids}


def _is_percent_code(code: str) -> bool:
    """A format code with a ``%`` outside quotes, brackets and escapes (``0.0%``, not ``"%"`` text)."""
    plain = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", code)
    return "%" in plain.split(";")[0]


def _sheet_part(package: zipfile.ZipFile, index: int) -> str | None:
    """The zip member of the ``index``-th sheet, through workbook.xml and its relationships."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    sheets = workbook.find(f"{_MAIN}sheets")
    if sheets is None:
        return None
    entries = sheets.findall(f"{_MAIN}sheet")
    if not 0 <= index < len(entries):
        return None
    rel_id = entries[index].get(f"{_REL}id")
    rels = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.findall(f"{_PKG_REL}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
    return None


_ROW_FIRST = re.compile(rb"<row\b[^>]*>\s*<c\s[^>]*?\br\s*=\s*\"([A-Z]+)\d+\"")
_ATTR = re.compile(rb"""\b([rst])\s*=\s*["']([^"']*)["']""")
_VALUE = re.compile(rb"<v>([^<]*)</v>")


def _scan(stream: IO[bytes], styles: set[int]) -> SheetCells:
    """Find the candidate cells with one regular expression run in C, a chunk of whole rows at a time."""
    found = SheetCells()
    alternatives = [rb"t\s*=\s*[\"']e[\"']"]
    if styles:
        numbers = b"|".join(str(n).encode() for n in sorted(styles))
        alternatives.append(rb"s\s*=\s*[\"'](?:" + numbers + rb")[\"']")
    # a cell with one of those attributes, not self-closing (an empty cell has no value to take)
    candidate = re.compile(rb"<c\s(?=[^>]*\b(?:" + b"|".join(alternatives) + rb"))([^>]*?)(?<!/)>(.*?)</c>", re.S)
    uncomputed = re.compile(_UNCOMPUTED, re.S)
    first_column: int | None = None
    pending = b""
    while True:
        chunk = stream.read(_CHUNK)
        pending += chunk
        cut = len(pending) if not chunk else pending.rfind(b"</row>") + len(b"</row>")
        if cut < len(b"</row>"):
            continue  # no whole row yet
        block, pending = pending[:cut], pending[cut:]
        for match in candidate.finditer(block):
            _take(found, match.group(1), match.group(2), styles)
        for match in uncomputed.finditer(block):
            _take_formula(found, match.group(1), match.group(2), match.group(3))
        for match in _MERGE.finditer(block):
            a, r1, b, r2 = (g.decode() for g in match.groups())
            rows, cols = sorted((int(r1) - 1, int(r2) - 1)), sorted((_column(a), _column(b)))
            found.merges.append((rows[0], cols[0], rows[1], cols[1]))
        firsts = [_column(m.decode()) for m in _ROW_FIRST.findall(block)]
        if firsts:
            first_column = min(firsts + ([first_column] if first_column is not None else []))
        if not chunk:
            break
    found.first_column = first_column or 0
    return found


def _take(found: SheetCells, head: bytes, body: bytes, styles: set[int]) -> None:
    attrs = {k.decode(): v.decode() for k, v in _ATTR.findall(head)}
    ref = _REF.fullmatch(attrs.get("r", ""))
    value = _VALUE.search(body)
    if ref is None or value is None or not value.group(1):
        return
    row, col = int(ref.group(2)) - 1, _column(ref.group(1))
    text = value.group(1).decode()
    kind = attrs.get("t", "n")
    if kind == "e":
        found.errors[(row, col)] = text
    elif kind not in _NON_NUMERIC and attrs.get("s", "").isdigit() and int(attrs["s"]) in styles:
        found.percent[(row, col)] = text


def _take_formula(found: SheetCells, head: bytes, formula: bytes | None, empty_value: bytes | None) -> None:
    attrs = {k.decode(): v.decode() for k, v in _ATTR.findall(head)}
    ref = _REF.fullmatch(attrs.get("r", ""))
    if ref is None or (attrs.get("t") == "str" and empty_value is not None):  # a formula giving ""
        return
    text = (formula or b"").decode("utf-8", "replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    found.uncomputed[(int(ref.group(2)) - 1, _column(ref.group(1)))] = "=" + text if text else "="


def hidden_sheets(path: str) -> list[bool] | None:
    """For each sheet in workbook order, whether it is hidden (``state="hidden"``/``"veryHidden"``)."""
    try:
        with zipfile.ZipFile(path) as package:
            workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, RuntimeError):
        return None
    sheets = workbook.find(f"{_MAIN}sheets")
    if sheets is None:
        return None
    return [entry.get("state", "visible") != "visible" for entry in sheets.findall(f"{_MAIN}sheet")]


def number_cells(path: str, sheet_index: int, column: int) -> tuple[int, dict[int, str]] | None:
    """The cells of one column stored as numbers (no ``t=`` attribute, or ``t="n"``), not as text.

    ``column`` is 0-based from the first used column, as the reader counts. Returns the column's
    0-based index in the sheet and {0-based row: stored value}; None for anything unexpected. Two
    passes over the sheet XML (the first finds the first used column), so use it only when needed.
    """
    try:
        with zipfile.ZipFile(path) as package:
            sheet = _sheet_part(package, sheet_index)
            if sheet is None:
                return None
            first: int | None = None
            for block in _row_blocks(package, sheet):
                firsts = [_column(m.decode()) for m in _ROW_FIRST.findall(block)]
                if firsts:
                    first = min(firsts + ([first] if first is not None else []))
            target = column + (first or 0)
            letters = cell_ref(0, target)[:-1].encode()
            cells = re.compile(rb"<c\s(?=[^>]*?\br\s*=\s*[\"']" + letters + rb"\d+[\"'])([^>]*?)(?<!/)>(.*?)</c>", re.S)
            out: dict[int, str] = {}
            for block in _row_blocks(package, sheet):
                for match in cells.finditer(block):
                    attrs = {k.decode(): v.decode() for k, v in _ATTR.findall(match.group(1))}
                    ref = _REF.fullmatch(attrs.get("r", ""))
                    value = _VALUE.search(match.group(2))
                    if ref is None or value is None or attrs.get("t", "n") != "n" or not value.group(1).strip():
                        continue
                    out[int(ref.group(2)) - 1] = value.group(1).decode().strip()
            return target, out
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, RuntimeError):
        return None


def _row_blocks(package: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The sheet XML a chunk of whole rows at a time."""
    pending = b""
    with package.open(member) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            pending += chunk
            cut = len(pending) if not chunk else pending.rfind(b"</row>") + len(b"</row>")
            if cut >= len(b"</row>"):
                yield pending[:cut]
                pending = pending[cut:]
            if not chunk:
                return


_DIMENSION = re.compile(rb"""<dimension\s[^>]*?\bref\s*=\s*["']([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?["']""")
_CELL_REF = re.compile(rb"""<c\s[^>]*?\br\s*=\s*["']([A-Z]+)(\d+)["'][^>]*?(?<!/)>""")


def far_cells(path: str, sheet_index: int, limit: int) -> tuple[int, list[tuple[int, int]]] | None:
    """When the used range of the sheet holds more than ``limit`` cells: its size and the cells
    (0-based row, column) that make it so large (the lowest and the rightmost ones); else None.

    The sheet's ``<dimension>`` tells cheaply when all is well; only when it is missing or large are
    the cells themselves looked at (a stray value far from the table, say at XFD1048576).
    """
    try:
        with zipfile.ZipFile(path) as package:
            sheet = _sheet_part(package, sheet_index)
            if sheet is None:
                return None
            with package.open(sheet) as stream:
                head = stream.read(1 << 16)
            dim = _DIMENSION.search(head)
            if dim is not None:
                a, r1, b, r2 = dim.groups()
                last_row = int(r2 or r1)
                columns = abs(_column((b or a).decode()) - _column(a.decode())) + 1
                if last_row * columns <= limit:
                    return None
            return _far_scan(package, sheet, limit)
    except (OSError, KeyError, zipfile.BadZipFile, ElementTree.ParseError, ValueError, RuntimeError):
        return None


def _far_scan(package: zipfile.ZipFile, sheet: str, limit: int) -> tuple[int, list[tuple[int, int]]] | None:
    low: tuple[int, int] | None = None  # the cell with the largest row
    right: tuple[int, int] | None = None  # the cell with the largest column
    left: int | None = None
    pending = b""
    with package.open(sheet) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            pending += chunk
            cut = len(pending) if not chunk else pending.rfind(b">") + 1
            block, pending = pending[:cut], pending[cut:]
            for match in _CELL_REF.finditer(block):
                cell = (int(match.group(2)) - 1, _column(match.group(1).decode()))
                if low is None or cell[0] > low[0]:
                    low = cell
                if right is None or cell[1] > right[1]:
                    right = cell
                left = cell[1] if left is None else min(left, cell[1])
            if not chunk:
                break
    if low is None or right is None or left is None:
        return None
    size = (low[0] + 1) * (right[1] - left + 1)
    if size <= limit:
        return None
    return size, sorted({low, right})


def cell_ref(row: int, column: int) -> str:
    """0-based (row, column) → ``"C7"``."""
    letters = ""
    number = column + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - 64)
    return number - 1
