"""Reading a Parquet file into a RawTable."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode
from wuxing_cli.models.contract import LINE

from .header_row import branch_id_index, check_duplicate_headers, column_name, display_header, text_columns
from .raw import RawTable, drop_blank_and_comments, normalise


def read_parquet(path: Path, line_offset: int = 0) -> RawTable:
    """A Parquet file (e.g. from ``wuxing synth -f parquet``): column names are the headers, row N
    of the data is "line" N + 1. Cells are read as text, like CSV cells; the file is scanned and
    coded in one streaming pass, so its text is never all in memory at once."""
    name = str(path)
    try:
        schema = dict(pl.scan_parquet(path, glob=False).collect_schema())
    except Exception as exc:
        raise DataError([Problem(f"cannot read the file as Parquet: {exc}", file=name, code=ProblemCode.PARQUET)]) from None
    headers = [display_header(h) for h in schema]
    if not headers:
        raise DataError([Problem("the file is empty", file=name, code=ProblemCode.EMPTY_FILE)])
    check_duplicate_headers(name, headers, 1)
    names = [column_name(headers, i) for i in range(len(headers))]
    text = text_columns(headers)
    categorical = pl.Categorical(pl.Categories.random())
    try:
        frame = (
            pl.scan_parquet(path, glob=False)
            .select(
                (pl.int_range(pl.len(), dtype=pl.Int64) + 2 + line_offset).alias(LINE),
                *(
                    pl.col(raw).cast(pl.String).cast(pl.String if i in text else categorical).alias(new)
                    for i, (raw, new) in enumerate(zip(schema, names, strict=True))
                ),
            )
            .collect(engine="streaming")
        )
    except Exception as exc:
        raise DataError([Problem(f"cannot read the file as Parquet: {exc}", file=name, code=ProblemCode.PARQUET)]) from None
    frame, dictionary = normalise(frame, names)
    frame = drop_blank_and_comments(frame, names, branch_id_index(headers))
    if frame.height == 0:
        raise DataError([Problem("no data rows in the file", file=name, code=ProblemCode.NO_DATA)])
    return RawTable(path=name, headers=headers, frame=frame, encoding="parquet", header_line=1,
                    dictionary=dictionary)
