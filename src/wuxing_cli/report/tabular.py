"""Generic writers for tables: CSV, JSON, Markdown, Excel, Parquet and terminal tables."""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..io.writers import neutralise
from .grid import Column, Grid
from .labels import num


def json_text(document: Any) -> str:
    """Deterministic, human-readable JSON (UTF-8, no ASCII escaping, stable key order as built)."""
    return json.dumps(document, ensure_ascii=False, indent=2, default=_default) + "\n"


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


#: The UTF-8 byte order mark: Excel and WPS read a CSV that starts with it as UTF-8 (without it, as the
#: local code page: mojibake on Chinese Windows). Whether a CSV gets one is decided in one place, the
#: CLI's ``Output.csv_bom`` (files yes, stdout no, ``--no-bom`` no).
UTF8_BOM = codecs.BOM_UTF8


def csv_bytes(frame: pl.DataFrame, *, bom: bool = False) -> bytes:
    """CSV in UTF-8, formula-like cells neutralised; with ``bom``, preceded by :data:`UTF8_BOM`."""
    buffer = io.BytesIO()
    if bom:
        buffer.write(UTF8_BOM)
    neutralise(stringify_lists(frame)).write_csv(buffer, float_precision=None)
    return buffer.getvalue()


def stringify_lists(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = [
        pl.col(name).list.join(";").alias(name)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    ]
    return frame.with_columns(exprs) if exprs else frame


def parquet_write(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, statistics=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, float):
        return f"{num(value)}"
    return str(value)


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], align: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells is escaped."""
    return "".join(markdown_lines(rows, headers, align))


def markdown_lines(rows: Iterable[Sequence[Any]], headers: Sequence[str],
                   align: Sequence[str] | None = None) -> Iterator[str]:
    """The lines of :func:`markdown_table` (each ending in a newline) as the rows come: no column is
    padded to a width, so a table of any length is written a row at a time."""

    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    align = align or ["---"] * len(headers)
    yield "| " + " | ".join(esc(h) for h in headers) + " |\n"
    yield "| " + " | ".join(align) + " |\n"
    for row in rows:
        yield "| " + " | ".join(esc(_cell(v)) for v in row) + " |\n"


def ending_in_one_newline(chunks: Iterable[str]) -> Iterator[str]:
    """``"".join(chunks).rstrip("\n") + "\n"`` piece by piece: the line breaks at the very end of a
    piece are held back until a piece with more text follows, so a long document is written as it
    is produced, with the same bytes as the joined string."""
    pending = ""  # line breaks not written yet: dropped if nothing but line breaks follows
    for chunk in chunks:
        body = chunk.rstrip("\n")
        if body:
            yield pending + body
            pending = chunk[len(body):]
        else:
            pending += chunk
    yield "\n"


def grid_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, title: str | None = None,
               numeric: Sequence[bool] | None = None, caption: str | None = None) -> Grid:
    """A terminal table; numeric columns are right-aligned and never squeezed; only the last column wraps."""
    from rich.cells import cell_len

    numeric = numeric or [False] * len(headers)
    texts = [[_cell(v) for v in row] for row in rows]
    columns = []
    for index, (header, is_num) in enumerate(zip(headers, numeric, strict=True)):
        width = max([cell_len(header)] + [cell_len(r[index]) for r in texts])
        last = index == len(headers) - 1
        columns.append(Column(header, numeric=is_num, fold=last, min_width=min(width, 10) if last else width))
    return Grid(columns, texts, title=title, caption=caption)


def narrow_table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, title: str | None = None,
                 numeric: Sequence[bool] | None = None, keep: Sequence[int] = ()) -> Grid:
    """A table for narrow terminals too: numbers (and ``keep`` columns) are never cut, text folds."""
    from rich.cells import cell_len

    numeric = numeric or [False] * len(headers)
    texts = [[_cell(v) for v in row] for row in rows]
    columns = []
    for n, (header, is_num) in enumerate(zip(headers, numeric, strict=True)):
        width = max([cell_len(r[n]) for r in texts] + [1])
        # kept and numeric columns: the header may fold onto two lines; the value is never cut
        columns.append(Column(header, numeric=is_num, fold=True,
                              min_width=width if n in keep or is_num else min(width, 10)))
    return Grid(columns, texts, title=title or None)
