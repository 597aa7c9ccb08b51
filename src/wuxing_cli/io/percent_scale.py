"""Percent cells that look written as fractions: ``0.9`` (meaning 90 %) in a column of ``85``, ``92`` …

A ``percent`` field reads ``0.9`` as 0.9 % (SPEC §3: percentages are 0–100, ``85`` or ``85%``). When
most of a column is above 1 and a few cells are between 0 and 1, those few were most likely typed as
fractions (or pasted from a sheet that stored 90 % as 0.9). They are still scored as written — the file
may mean it — but each such column gets one warning naming the cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode
from wuxing_cli.models.contract import LINE
from wuxing_cli.models.criteria import Criteria, FieldType

from .data_problems import lines_text
from .raw import RawTable

MIN_VALUES = 5  #: a column needs this many values before its scale can be judged
_LISTED = 10


def percent_scale_warnings(
    raw: RawTable, base: pl.DataFrame, typed: pl.DataFrame, crit: Criteria, read: Sequence[tuple[str, int]]
) -> list[Problem]:
    """One warning per percent column where some values are in (0, 1] while most are above 1.

    ``typed``: the typed rows (the field values and ``__e_<fid>``, empty cell); ``base``: the rows as
    read, for the text of the cells named; ``read``: (field id, column index) of the fields read.
    Zero is never named (it is 0 % either way), nor a cell written with a ``%`` sign (``0.9%`` says
    what it means).
    """
    fields = crit.input_fields()
    todo = [(fid, col) for fid, col in read if fields[fid].type is FieldType.percent]
    if not todo or typed.height < MIN_VALUES:
        return []

    def given(fid: str) -> pl.Expr:
        return ~pl.col(f"__e_{fid}") & pl.col(fid).is_not_null()

    def small(fid: str) -> pl.Expr:
        return given(fid) & (pl.col(fid) > 0) & (pl.col(fid) <= 1)

    counts = typed.select(
        pl.concat_list(
            given(fid).sum().cast(pl.Int64), (given(fid) & (pl.col(fid) > 1)).sum().cast(pl.Int64),
            small(fid).sum().cast(pl.Int64),
        ).alias(fid)
        for fid, _ in todo
    ).row(0)
    out: list[Problem] = []
    for (fid, col), (values, above, few) in zip(todo, counts, strict=True):
        if values < MIN_VALUES or not few or above * 2 <= values:
            continue
        hit = typed.lazy().filter(small(fid)).select(LINE)
        text = _coded_text(raw, col) if raw.is_coded(raw.column_name(col)) else pl.col(f"__c{col}")
        cells = (
            base.lazy().select(LINE, text.alias("__value"))
            .join(hit, on=LINE, how="semi")
            .filter(~pl.col("__value").str.ends_with("%"))
            .sort(LINE)
            .collect()
        )
        if cells.height == 0:
            continue
        lines = cells.get_column(LINE).head(_LISTED).to_list()
        shown = cells.get_column("__value").head(_LISTED).to_list()
        header = raw.headers[col]
        count = cells.height
        out.append(
            Problem(
                f"{count} value{'s' if count > 1 else ''} between 0 and 1 in a percent column where {above} of "
                f"{values} values are above 1 ({lines_text(lines, count)}: "
                + ", ".join(shown) + (", …" if count > len(shown) else "")
                + f"): {shown[0]} is scored as {shown[0]} %, not {_times_100(shown[0])} %",
                file=raw.path,
                line=lines[0],
                header=header,
                value=shown[0],
                hint=f"field '{fid}' of {crit.id} is in percent (0–100): if {shown[0]} means "
                f"{_times_100(shown[0])} %, write {_times_100(shown[0])} or {_times_100(shown[0])}% "
                "(in Excel, format the cells as a percentage)",
                severity="warning",
                code=ProblemCode.PERCENT_SCALE,
            )
        )
    return out


def _coded_text(raw: RawTable, col: int) -> pl.Expr:
    assert raw.dictionary is not None
    return pl.lit(raw.dictionary).gather(pl.col(f"__c{col}"))


def _times_100(text: str) -> str:
    """``"0.9"`` → ``"90"``, ``"0.925"`` → ``"92.5"`` (in decimal, so no ``90.00000000000001``)."""
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text.replace(",", "")) * 100
    except InvalidOperation:
        return text
    plain = format(value.normalize(), "f")
    return plain.rstrip("0").rstrip(".") if "." in plain else plain
