"""The rows under a form: none (the empty form), or the branches to pre-fill, read from a file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import DataError, Problem, ProblemCode
from ..io.raw import RawTable
from ..io.reader import read_raw
from ..models.contract import LINE, RESERVED, RESERVED_HEADERS, header_key
from .layout import RESERVED_FORM_HEADERS, Form


def empty_rows(form: Form) -> pl.DataFrame:
    """No rows, the form's columns (all text)."""
    return pl.DataFrame({h: pl.Series(h, [], dtype=pl.String) for h in form.headers})


def read_branches(
    path: Path,
    form: Form,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    period: str | None = None,
) -> pl.DataFrame:
    """The rows to pre-fill from a file of branches (reserved columns, under any accepted header).

    Only the reserved columns are taken. With one criteria an empty 类型 is filled with its branch
    type; ``period`` fills an empty 期间. Raises DataError for a file without a branch id column,
    rows without an id, or an id listed twice (for one period).
    """
    raw = read_raw(path, encoding=encoding, sheet=sheet)
    found = _reserved_columns(raw)
    if "branch_id" not in found:
        raise DataError([Problem("no branch id column: expected one of " + ", ".join(RESERVED_HEADERS["branch_id"]),
                                 file=raw.path, line=raw.header_line, code=ProblemCode.MISSING_COLUMN)])
    frame = raw.frame.select(
        pl.col(LINE),
        *(
            (pl.col(raw.column_name(found[key])) if key in found else pl.lit(None, pl.String)).alias(key)
            for key in RESERVED
        ),
    )
    if len(form.criteria) == 1:
        frame = frame.with_columns(pl.col("branch_type").fill_null(form.criteria[0].branch_type))
    if period is not None:
        frame = frame.with_columns(pl.col("period").fill_null(period))
    problems = [
        Problem("the row has no branch id", file=raw.path, line=line, header=RESERVED_FORM_HEADERS["branch_id"],
                code=ProblemCode.MISSING_ID)
        for line in frame.filter(pl.col("branch_id").is_null())[LINE].to_list()
    ]
    dups = frame.filter(pl.col("branch_id").is_not_null() & (pl.len().over("branch_id", "period") > 1))
    for (bid, per), group in dups.group_by(["branch_id", "period"], maintain_order=True):
        lines = group[LINE].to_list()
        problems.append(Problem(f"branch id listed {len(lines)} times (lines {', '.join(map(str, lines))})",
                                file=raw.path, line=lines[1], header=RESERVED_FORM_HEADERS["branch_id"],
                                value=str(bid) + (f" / {per}" if per else ""), code=ProblemCode.DUPLICATE_ID))
    if problems:
        raise DataError(problems)
    rows = frame.select(pl.col(key).alias(RESERVED_FORM_HEADERS[key]) for key in RESERVED)
    return rows.with_columns(pl.lit(None, pl.String).alias(h) for h in form.headers if h not in rows.columns).select(
        form.headers)


def _reserved_columns(raw: RawTable) -> dict[str, int]:
    """Reserved column name → index of its column in ``raw`` (the first accepted header found)."""
    index: dict[str, int] = {}
    for i, h in enumerate(raw.headers):
        index.setdefault(header_key(h), i)
    found: dict[str, int] = {}
    for key in RESERVED:
        for candidate in RESERVED_HEADERS[key]:
            col = index.get(header_key(candidate))
            if col is not None:
                found[key] = col
                break
    return found
