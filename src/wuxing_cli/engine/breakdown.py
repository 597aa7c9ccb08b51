"""The aggregations the rank, diff, history and score renderers show, computed once here.

Renderers in :mod:`wuxing_cli.report` only format frames and numbers; every group-by, join and
window over the scored frames lives in the engine. Pure functions of polars frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from .columns import star_col
from .rank import Metric, league_table


def league_with_previous(frame: pl.DataFrame, *, by: str, metric: Metric, levels: int,
                         previous: pl.DataFrame | None = None, top: int | None = None) -> pl.DataFrame:
    """The league table by ``by``; with ``previous`` adds ``previous_rank`` and ``rank_change``
    (positive: moved up; null: a group new this period); ``top`` keeps the groups ranked ``top`` or better."""
    table = league_table(frame, by=by, metric=metric, levels=levels)
    if previous is not None:
        before = league_table(previous, by=by, metric=metric, levels=levels).select(
            "group", pl.col("rank").alias("previous_rank"))
        table = table.join(before, on="group", how="left", maintain_order="left").with_columns(
            (pl.col("previous_rank") - pl.col("rank")).alias("rank_change"))
    if top is not None:
        table = table.filter(pl.col("rank") <= top)
    return table


def branches_in_league(frame: pl.DataFrame, *, by: str, groups: pl.DataFrame) -> pl.DataFrame:
    """The rows of the groups in ``groups`` (a league table), in league order, then by ``group_rank``."""
    order = groups.select("group", pl.col("rank").alias("__group_rank_order"))
    return (
        frame.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("__group"))
        .join(order, left_on="__group", right_on="group", how="inner")
        .sort(["__group_rank_order", "__group", "group_rank", "branch_id"])
        .drop("__group_rank_order", "__group")
    )


def with_overstatement(branches: pl.DataFrame, over: pl.DataFrame) -> pl.DataFrame:
    """Per-branch comparison rows with the overstatement columns of :func:`compare.overstatement`
    (``top_diffs`` as text, for CSV)."""
    extra = over.select("branch_id", "over_stars", "over_points", "overstated", "top_indicators",
                        pl.col("top_diffs").list.eval(pl.element().cast(pl.String)))
    return branches.join(extra, on="branch_id", how="left", maintain_order="left")


def at_risk_per_group(group_summary: pl.DataFrame, risk: pl.DataFrame, *, by: str) -> pl.DataFrame:
    """``group_summary`` with ``at_risk``: how many distinct branches of each group have a star at risk."""
    counts = (risk.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("group"))
              .group_by("group").agg(pl.col("branch_id").n_unique().cast(pl.Int64).alias("at_risk")))
    return group_summary.join(counts, on="group", how="left").with_columns(pl.col("at_risk").fill_null(0))


def level_counts(frame: pl.DataFrame, levels: int) -> dict[str, int]:
    """Branches per number of stars held, ``"0"`` … ``str(levels)`` (and any level above, as found)."""
    counts = {str(n): 0 for n in range(levels + 1)}
    for stars, count in frame.group_by("stars").len().iter_rows():
        counts[str(stars)] = int(count)
    return counts


def star_counts(frame: pl.DataFrame, stars: Sequence[str]) -> dict[str, dict[str, int]]:
    """Per star: how many branches earned it and how many were awarded it."""
    return {
        sid: {
            "earned": int(frame[star_col(sid, "earned")].fill_null(False).sum()),
            "awarded": int(frame[star_col(sid, "awarded")].fill_null(False).sum()),
        }
        for sid in stars
    }
