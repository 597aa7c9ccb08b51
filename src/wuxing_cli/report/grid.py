"""Terminal documents: box tables and lines, written straight to text when they fit the width.

The terminal reports (``score``, ``rank``, ``diff``, ``explain``, ``history``, ``incentives``) are a
few tables and lines of text. Laying them out with rich costs about 0.4 ms a row (0.14 s for a
320-branch county, a third of the whole run), although almost always every column simply gets its
natural width. :func:`render` writes exactly what rich would print in that case (same box
characters, padding, centred titles, and bold/italic codes on a colour terminal) in a few
milliseconds, and returns ``None`` when something needs rich's layout: a table wider than the
terminal (columns must fold), a line that must wrap, control characters. The caller then prints
:meth:`Doc.rich`, the same document as rich renderables. Cells are always plain text: rich markup
(``[bold]``) or emoji codes in a branch name are shown as written.

Pure: no printing, no I/O; rich is imported only to measure character widths and by :meth:`Doc.rich`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

__all__ = ["Column", "Doc", "Grid", "Line", "render"]

_BOLD, _ITALIC, _DIM_ITALIC, _RESET = "\x1b[1m", "\x1b[3m", "\x1b[2;3m", "\x1b[0m"
#: Text rich treats specially (control codes, tabs, line breaks; spaces at either end, which its
#: wrapping trims): such text goes to rich.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|^\s|\s$")


@dataclass(frozen=True)
class Column:
    """A column: right-aligned when ``numeric``; ``fold``: may wrap when the table is too wide,
    down to ``min_width`` (rich's ``overflow="fold"``); otherwise it never wraps."""

    header: str
    numeric: bool = False
    fold: bool = False
    min_width: int = 0


@dataclass(frozen=True)
class Grid:
    """A table with a bold header row (rich's default ``HEAVY_HEAD`` box), an optional centred title
    above and caption below."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[str]]
    title: str | None = None
    caption: str | None = None

    def rich(self) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=_text(self.title, "table.title"), caption=_text(self.caption, "table.caption"),
                      header_style="bold")
        for col in self.columns:
            table.add_column(Text(col.header), justify="right" if col.numeric else "left",
                             overflow="fold" if col.fold else "ellipsis", no_wrap=not col.fold,
                             min_width=col.min_width or None)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table


@dataclass(frozen=True)
class Line:
    """One paragraph of text (bold when ``bold``); ``""`` is an empty line."""

    text: str
    bold: bool = False


@dataclass
class Doc:
    """What a terminal renderer returns: grids and lines, in order."""

    parts: list[Grid | Line] = field(default_factory=list)

    def add(self, part: Grid | Line | str) -> Doc:
        self.parts.append(Line(part) if isinstance(part, str) else part)
        return self

    def rich(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        return Group(*(p.rich() if isinstance(p, Grid) else Text(p.text, style="bold" if p.bold else "")
                       for p in self.parts))


def _text(value: str | None, style: str) -> Any:
    """Plain text (never markup) in the style rich gives a string title or caption."""
    if value is None:
        return None
    from rich.text import Text

    return Text(value, style=style)


def render(doc: Doc, width: int, *, styled: bool) -> str | None:
    """``doc`` as rich prints it on a console ``width`` columns wide (with ``styled``: the bold and
    italic codes of a colour terminal), or None when it needs rich's layout (see the module doc)."""
    from rich.cells import cell_len

    out: list[str] = []
    for part in doc.parts:
        if isinstance(part, Line):
            if _UNSAFE.search(part.text) or cell_len(part.text) > width:
                return None
            out.append(f"{_BOLD}{part.text}{_RESET}\n" if styled and part.bold and part.text else f"{part.text}\n")
            continue
        text = _grid(part, width, styled, cell_len)
        if text is None:
            return None
        out.append(text)
    return "".join(out)


def _grid(grid: Grid, width: int, styled: bool, cell_len: Any) -> str | None:
    ncols = len(grid.columns)
    if ncols == 0 or any(len(row) != ncols for row in grid.rows) or not all(c.header for c in grid.columns):
        return None
    texts = [c.header for c in grid.columns]
    for row in grid.rows:
        texts.extend(row)
    if any(_UNSAFE.search(t) for t in texts if t):
        return None
    widths = [max(cell_len(c.header), c.min_width) for c in grid.columns]
    for row in grid.rows:
        for i, cell in enumerate(row):
            if cell:
                n = cell_len(cell)
                if n > widths[i]:
                    widths[i] = n
    if 0 in widths:  # a column only zero-width text (a lone combining mark): rich drops that text
        return None
    total = sum(widths) + 3 * ncols + 1
    if total > width:
        return None
    lines: list[str] = []

    def annotation(text: str | None, style: str) -> bool:
        if not text:
            return True
        if _UNSAFE.search(text):
            return False
        n = cell_len(text)
        if n > total:
            return False
        left = (total - n) // 2
        line = " " * left + text + " " * (total - n - left)
        lines.append(f"{style}{line}{_RESET}" if styled else line)
        return True

    if not annotation(grid.title, _ITALIC):
        return None
    lines.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    heads = []
    for col, w in zip(grid.columns, widths, strict=True):
        cell = _pad(col.header, w - cell_len(col.header), col.numeric)
        heads.append(f"{_BOLD} {_RESET}{_BOLD}{cell}{_RESET}{_BOLD} {_RESET}" if styled else f" {cell} ")
    lines.append("┃" + "┃".join(heads) + "┃")
    lines.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    right = [c.numeric for c in grid.columns]
    for row in grid.rows:
        cells = [
            " " + _pad(cell, w - (cell_len(cell) if cell else 0), r) + " "
            for cell, w, r in zip(row, widths, right, strict=True)
        ]
        lines.append("│" + "│".join(cells) + "│")
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    if not annotation(grid.caption, _DIM_ITALIC):
        return None
    return "\n".join(lines) + "\n"


def _pad(text: str, spaces: int, right: bool) -> str:
    return " " * spaces + text if right else text + " " * spaces
