"""Choosing the rows of one period (SPEC §3 ``--period``) and the problems when it cannot be chosen."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import RESERVED_HEADERS
from wuxing_cli.models.periods import sort_labels, try_parse_period


def select_period(
    base: pl.DataFrame, period: str | None, has_column: bool, name: str, partial: bool = False
) -> tuple[list[str], str | None, pl.DataFrame]:
    """Distinct periods, the selected one, and the rows kept (SPEC §3 ``--period``).

    Periods are compared in canonical form (:func:`period_key`): ``2024-Q4``, ``2024Q4`` and
    ``2024年第四季度`` are one period, and the kept rows' period cells are rewritten in that form.

    ``partial``: the file is a slice of a larger one, which may hold ``period`` elsewhere.
    """
    if not has_column:
        if period is not None:
            raise UsageError(
                [
                    Problem(
                        f"--period {period} was given but the file has no period column "
                        "(" + ", ".join(RESERVED_HEADERS["period"]) + ")",
                        file=name,
                        code=ProblemCode.PERIOD_NO_COLUMN,
                    )
                ]
            )
        return [], None, base
    spelled = canonical_periods(base.get_column("period"))
    if spelled:
        base = base.with_columns(pl.col("period").replace_strict(spelled, default=None, return_dtype=pl.String))
    periods = sort_labels(dict.fromkeys(spelled.values()))
    if period is None:
        if len(periods) > 1 and not partial:
            raise several_periods(periods, name)
        return periods, (periods[0] if periods else None), base
    wanted = period_key(period)
    if wanted not in periods and partial:
        return periods, None, base.filter(pl.col("period").is_null())
    if wanted not in periods:
        raise absent_period(period, periods, name)
    return periods, wanted, base.filter((pl.col("period") == wanted) | pl.col("period").is_null())


def period_key(text: str) -> str:
    """One period however it is spelled: the canonical form (``2024年第四季度``, ``2024Q4`` → ``2024-Q4``)
    when :mod:`wuxing_cli.models.periods` reads it, else the text as written (never equal to a canonical
    form, so an unread label is never merged with another period)."""
    parsed = try_parse_period(text)
    return parsed.canonical if parsed is not None else text.strip()


def canonical_periods(column: pl.Series) -> dict[str, str]:
    """Each distinct cell of a period column → :func:`period_key` (parsed once per distinct value)."""
    return {v: period_key(v) for v in column.drop_nulls().unique(maintain_order=True).to_list()}


def several_periods(periods: Sequence[str], name: str) -> UsageError:
    """The error for a file (or all the slices of one) holding several periods and no ``--period``."""
    return UsageError(
        [
            Problem(
                f"the file holds {len(periods)} periods: {', '.join(periods)}",
                file=name,
                hint="pick one with --period",
                code=ProblemCode.PERIOD_SEVERAL,
            )
        ]
    )


def absent_period(period: str, periods: Sequence[str], name: str) -> UsageError:
    """The error for a ``--period`` no row of the file has; ``periods``: those it has."""
    present = ", ".join(periods) if periods else "none (the period column is empty)"
    return UsageError(
        [Problem(f"no rows for period '{period}'; periods in the file: {present}", file=name,
                 code=ProblemCode.PERIOD_ABSENT)]
    )
