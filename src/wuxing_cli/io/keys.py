"""Matching keys of cells as polars expressions (the vectorised :func:`header_key`)."""

from __future__ import annotations

import polars as pl

from wuxing_cli.models.contract import STRIP_CHARS, header_key


def escape_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):X}}}" for c in chars)


def key_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`header_key` for already-normalised cells."""
    spaces = "".join(sorted(set(STRIP_CHARS)))
    return col.str.to_lowercase().str.replace_all(f"[\\s{escape_class(spaces)}]", "")


def keyed(frame: pl.DataFrame, column: str) -> pl.Expr:
    """:func:`header_key` of a low-cardinality column, computed once per distinct value."""
    values = frame.get_column(column).drop_nulls().unique()
    if values.len() > 10_000:
        return key_expr(pl.col(column))
    mapping = {v: header_key(v) for v in values.to_list()}
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)
