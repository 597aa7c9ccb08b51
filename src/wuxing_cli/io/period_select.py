"""Choosing the rows of one period (SPEC §3 ``--period``) and the problems when it cannot be chosen."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import RESERVED_HEADERS, header_key

from .keys import keyed


def select_period(
    base: pl.DataFrame, period: str | None, has_column: bool, name: str, partial: bool = False
) -> tuple[list[str], str | None, pl.DataFrame]:
    """Distinct periods, the selected one, and the rows kept (SPEC §3 ``--period``).

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
    found = (
        base.select(pl.col("period"), keyed(base, "period").alias("key"))
        .drop_nulls()
        .unique(subset="key", keep="first", maintain_order=True)
    )
    spelled = dict(zip(found.get_column("key").to_list(), found.get_column("period").to_list(), strict=True))
    periods = sorted(spelled.values())
    if period is None:
        if len(periods) > 1 and not partial:
            raise several_periods(periods, name)
        return periods, (periods[0] if periods else None), base
    wanted = header_key(period)
    if wanted not in spelled and partial:
        return periods, None, base.filter(pl.col("period").is_null())
    if wanted not in spelled:
        raise absent_period(period, periods, name)
    keep = (keyed(base, "period") == wanted) | pl.col("period").is_null()
    return periods, spelled[wanted], base.filter(keep)


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
