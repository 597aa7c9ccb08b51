"""Indicators that lost points: the weakest overall and per star, and the per-group problem list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ...models.criteria import Criteria, Indicator, Star
from ..columns import pts_col
from .common import Catalogue, group_expr, has_groups, percent, round_half_up

Order = tuple[int, int, int]  # (star, criteria, indicator within the star): how ties are listed


@dataclass(frozen=True)
class IndicatorLoss:
    """One indicator of one criteria over the branches scored with it: points lost in all, branches
    below full points (``failed``), and the loss as a share of the points there were to earn."""

    criteria_id: str
    star_id: str
    star: str
    owner: str | None
    indicator_id: str
    indicator: str
    points: float
    branches: int
    lost: float
    failed: int
    lost_rate: float | None
    order: Order


@dataclass(frozen=True)
class StarWeakness:
    star_id: str
    star: str
    owner: str | None
    indicators: tuple[IndicatorLoss, ...]


@dataclass(frozen=True)
class Weaknesses:
    """The ``overall`` indicators that lost the most points, and the weakest of each star."""

    overall: tuple[IndicatorLoss, ...]
    per_star: tuple[StarWeakness, ...]


def _scored_indicators(criteria: Criteria, columns: Sequence[str]) -> list[tuple[Star, Indicator, str, int]]:
    """(star, indicator, its points column, its number within the star) for every indicator of
    ``criteria`` whose points are among ``columns``."""
    return [(star, ind, pts_col(star.id, ind.id), number)
            for star in criteria.stars for number, ind in enumerate(star.indicators)
            if pts_col(star.id, ind.id) in columns]


def _below_full(col: str, points: float) -> pl.Expr:
    """A branch below the indicator's full points (no points recorded counts as none)."""
    return pl.col(col).fill_null(0.0) < points


def _points_lost(col: str, points: float) -> pl.Expr:
    """The points a branch lost on the indicator (no points recorded: all of them)."""
    return pl.lit(points) - pl.col(col).fill_null(0.0)


def indicator_losses(frame: pl.DataFrame, catalogue: Catalogue) -> list[IndicatorLoss]:
    """Per indicator of every criteria used: branches, points lost, branches below full points."""
    out: list[IndicatorLoss] = []
    for criteria in catalogue.current:
        keys = _scored_indicators(criteria, frame.columns)
        exprs = [e for _, ind, col, _ in keys
                 for e in (_points_lost(col, ind.points).sum().alias(f"lost|{col}"),
                           _below_full(col, ind.points).sum().alias(f"failed|{col}"))]
        # one lazy pass: the filter reads only the indicator columns instead of copying the wide frame
        sums = frame.lazy().filter(pl.col("criteria_id") == criteria.id).select(
            pl.len().alias("_n"), *exprs).collect().row(0, named=True)
        n = int(sums["_n"])
        if n == 0 or not exprs:
            continue
        for order, (star, ind, col, _) in enumerate(keys):
            lost = round_half_up(float(sums[f"lost|{col}"]), 2)
            out.append(IndicatorLoss(
                criteria_id=criteria.id, star_id=star.id, star=catalogue.star_name(star.id), owner=star.owner,
                indicator_id=ind.id, indicator=ind.name, points=ind.points, branches=n, lost=lost,
                failed=int(sums[f"failed|{col}"]), lost_rate=percent(lost, ind.points * n),
                order=(catalogue.stars[star.id].index, catalogue.crit_index[criteria.id], order),
            ))
    return out


def weaknesses(frame: pl.DataFrame, catalogue: Catalogue, *, overall: int, per_star: int) -> Weaknesses:
    """The ``overall`` indicators that lost most, and up to ``per_star`` for every star scored."""
    items = indicator_losses(frame, catalogue)
    ranked = sorted((i for i in items if i.lost > 0), key=lambda i: (-i.lost, i.order))
    stars = []
    for star in catalogue.stars.values():
        if not any(i.star_id == star.id for i in items):
            continue
        mine = [i for i in ranked if i.star_id == star.id]
        stars.append(StarWeakness(star.id, catalogue.star_name(star.id), star.owner, tuple(mine[:per_star])))
    return Weaknesses(tuple(ranked[:overall]), tuple(stars))


@dataclass(frozen=True)
class ProblemItem:
    """An indicator of a group: branches below full points, points lost, the first branches' names."""

    star_id: str
    star: str
    indicator_id: str
    indicator: str
    owner: str | None
    failed: int
    branches: int
    lost: float
    examples: tuple[str, ...]
    order: Order


@dataclass(frozen=True)
class ProblemGroup:
    group: str
    branches: int
    items: tuple[ProblemItem, ...]


@dataclass(frozen=True)
class Problems:
    """Per group (all branches in one ``""`` group when not ``grouped``), the indicators most often
    below full points."""

    grouped: bool
    groups: tuple[ProblemGroup, ...]


def problems(frame: pl.DataFrame, catalogue: Catalogue, by: str, group_order: Sequence[str] | None, *,
             per_group: int, names: int) -> Problems:
    """``group_order``: the league's order of the groups (None: by name); ``per_group`` indicators per
    group, with up to ``names`` branch names each (by branch id)."""
    grouped = has_groups(frame, by)
    entries: dict[str, list[ProblemItem]] = {}
    sizes: dict[str, int] = {}
    for criteria in catalogue.current:
        # Only the few columns this needs are filtered and sorted (by branch id, the order the
        # example names are listed in), never the wide frame: 4.6 s → 1.5 s at 1,000,000 rows ×
        # 125 indicators. Groups keep their rows in that order; the groups' own order is set below.
        mine = frame.lazy().filter(pl.col("criteria_id") == criteria.id)
        keys = _scored_indicators(criteria, frame.columns)
        below = [_below_full(col, ind.points).alias(f"b|{col}") for _, ind, col, _ in keys]
        lost = [_points_lost(col, ind.points).sum().alias(f"l|{col}") for _, ind, col, _ in keys]
        group = group_expr(frame, by).alias("_group")
        name = pl.col("branch_name").cast(pl.String).fill_null(pl.col("branch_id"))
        flags = mine.select(group, pl.col("branch_id"), name.alias("_name"), *below).sort("branch_id")
        failed = flags.group_by("_group").agg(
            [pl.len().alias("_n")]
            + [e for _, _, col, _ in keys
               for e in (pl.col(f"b|{col}").sum().alias(f"f|{col}"),
                         pl.col("_name").filter(pl.col(f"b|{col}")).head(names).alias(f"n|{col}"))])
        sums = mine.group_by(group).agg(lost or [pl.len().alias("_n")])
        failed_frame, sums_frame = pl.collect_all([failed, sums])
        if failed_frame.height == 0:
            continue
        lost_by_group = {row["_group"]: row for row in sums_frame.iter_rows(named=True)}
        for row in failed_frame.iter_rows(named=True):
            group_key = row["_group"]
            key = group_key if grouped else ""
            sizes[key] = sizes.get(key, 0) + int(row["_n"])
            bucket = entries.setdefault(key, [])
            for star, ind, col, number in keys:
                count = int(row[f"f|{col}"])
                if count == 0:
                    continue
                bucket.append(ProblemItem(
                    star_id=star.id, star=catalogue.star_name(star.id), indicator_id=ind.id, indicator=ind.name,
                    owner=star.owner, failed=count, branches=int(row["_n"]),
                    lost=round_half_up(float(lost_by_group[group_key][f"l|{col}"]), 2),
                    examples=tuple(row[f"n|{col}"]),
                    order=(catalogue.stars[star.id].index, catalogue.crit_index[criteria.id], number),
                ))
    order = list(group_order) if grouped and group_order is not None else sorted(entries)
    order += sorted(g for g in entries if g not in order)
    groups = []
    for key in order:
        items = sorted(entries.get(key, []), key=lambda i: (-i.failed, -i.lost, i.order))
        if not items and key not in sizes:
            continue
        groups.append(ProblemGroup(key, sizes.get(key, 0), tuple(items[:per_group])))
    return Problems(grouped, tuple(groups))
