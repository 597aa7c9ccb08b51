"""Counts per level, per-star award rates, the group league table and progress against a plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from ..columns import star_col
from ..rank import league_table
from .common import has_groups, percent, rounded_mean


@dataclass(frozen=True)
class LevelCounts:
    """Branches per level (``counts``: stars → branches, every level from 0 to the top listed)."""

    branches: int
    counts: Mapping[int, int]
    mean_points: float | None
    mean_stars: float | None

    def count(self, stars: int) -> int:
        return self.counts.get(stars, 0)

    @property
    def three_plus(self) -> int:
        """Branches with three stars or more."""
        return sum(c for n, c in self.counts.items() if n >= 3)


def level_counts(frame: pl.DataFrame, max_level: int) -> LevelCounts:
    counts = dict.fromkeys(range(max_level + 1), 0)
    if frame.height:
        for stars, n in frame.group_by("stars").len().iter_rows():
            if stars is not None:
                counts[int(stars)] = counts.get(int(stars), 0) + int(n)
    total = frame.height
    return LevelCounts(
        branches=total,
        counts=counts,
        mean_points=_mean(frame["total_points"]) if total else None,
        mean_stars=_mean(frame["stars"]) if total else None,
    )


def _mean(series: pl.Series) -> float | None:
    if not series.len():
        return None
    value = series.cast(pl.Float64).mean()
    return rounded_mean(value if isinstance(value, float) else None)


@dataclass(frozen=True)
class StarStats:
    """One star over the branches it applies to; ``rate`` is awarded / branches in percent."""

    branches: int
    earned: int
    awarded: int
    vetoed: int
    mean_points: float | None
    rate: float | None


def star_stats(frame: pl.DataFrame, star_id: str) -> StarStats:
    awarded_col = star_col(star_id, "awarded")
    if awarded_col not in frame.columns or frame.height == 0:
        return StarStats(0, 0, 0, 0, None, None)
    # one pass of aggregates over the rows the star applies to: filtering the (wide, possibly
    # many-chunked) frame first would copy it
    applies = pl.col(awarded_col).is_not_null()
    stats = frame.select(
        applies.sum().alias("n"),
        *(pl.col(star_col(star_id, what)).filter(applies).sum().alias(what) for what in ("earned", "awarded", "vetoed")),
        pl.col(star_col(star_id, "points")).filter(applies).cast(pl.Float64).mean().alias("mean"),
    ).row(0, named=True)
    n = int(stats["n"])
    awarded = int(stats["awarded"])
    return StarStats(
        branches=n,
        earned=int(stats["earned"]),
        awarded=awarded,
        vetoed=int(stats["vetoed"]),
        mean_points=rounded_mean(stats["mean"]) if n else None,
        rate=percent(awarded, n),
    )


@dataclass(frozen=True)
class LeagueRow:
    """One group of the league table; ``levels[n]`` is its branches at ``n`` stars."""

    rank: int
    group: str
    branches: int
    mean_points: float | None
    mean_stars: float | None
    share_3plus: float | None
    levels: tuple[int, ...]
    rank_previous: int | None
    rank_change: int | None
    bottom: bool


@dataclass(frozen=True)
class League:
    """Groups ranked by mean points; ``bottom``/``top`` name the groups at either end."""

    available: bool
    has_previous: bool
    groups: tuple[LeagueRow, ...]
    bottom: tuple[str, ...]
    top: tuple[str, ...]


def bottom_count(n_groups: int) -> int:
    """How many groups at the bottom of a league of ``n_groups`` are named."""
    if n_groups < 3:
        return 0
    if n_groups < 6:
        return 1
    if n_groups < 10:
        return 2
    return 3


def league(frame: pl.DataFrame, previous: pl.DataFrame | None, by: str, max_level: int) -> League:
    if not has_groups(frame, by):
        return League(False, False, (), (), ())
    table = league_table(frame, by=by, levels=max_level)
    prev_rank: dict[str, int] = {}
    has_prev = previous is not None and has_groups(previous, by)
    if previous is not None and has_prev:
        for row in league_table(previous, by=by, levels=max_level).iter_rows(named=True):
            prev_rank[row["group"]] = int(row["rank"])
    rows = []
    for row in table.iter_rows(named=True):
        rank = int(row["rank"])
        before = prev_rank.get(row["group"]) if has_prev else None
        rows.append((rank, row, before))
    n_bottom = bottom_count(len(rows))
    threshold = rows[-n_bottom][0] if n_bottom else 0
    at_bottom = n_bottom > 0 and threshold > 1
    groups = tuple(
        LeagueRow(
            rank=rank,
            group=row["group"],
            branches=int(row["branches"]),
            mean_points=row["mean_points"],
            mean_stars=row["mean_stars"],
            share_3plus=percent(row["share_3plus"], 1.0),
            levels=tuple(int(row[f"level_{n}"]) for n in range(max_level + 1)),
            rank_previous=before,
            rank_change=(before - rank) if before is not None else None,
            bottom=at_bottom and rank >= threshold,
        )
        for rank, row, before in rows
    )
    bottom = tuple(g.group for g in groups if g.bottom)
    top = tuple(g.group for g in groups if g.rank == 1) if len(groups) > 1 else ()
    return League(True, has_prev, groups, bottom, top)


@dataclass(frozen=True)
class PlanRow:
    """Branches at ``level`` stars or more: planned, achieved, and how many are still missing."""

    level: int
    planned: int
    achieved: int
    gap: int


@dataclass(frozen=True)
class PlanProgress:
    group: str
    has_data: bool
    levels: tuple[PlanRow, ...]

    @property
    def on_track(self) -> bool:
        return all(r.gap == 0 for r in self.levels)


@dataclass(frozen=True)
class TargetsProgress:
    """Each planned group's progress, and the whole area's (``total``, its ``group`` left empty)."""

    levels: tuple[int, ...]
    groups: tuple[PlanProgress, ...]
    total: PlanProgress
    no_data: tuple[str, ...]
    unplanned: tuple[str, ...]

    @property
    def on_track(self) -> int:
        return sum(1 for g in self.groups if g.on_track)

    @property
    def behind(self) -> int:
        return sum(1 for g in self.groups if not g.on_track)


def targets_progress(plan_levels: Sequence[int], plan: Mapping[str, Mapping[int, int]],
                     total_plan: Mapping[int, int] | None, actual: Mapping[str, Mapping[int, int]],
                     whole: Mapping[int, int] | None, max_level: int) -> TargetsProgress:
    """Compare a plan (planned branches per group and level) with the branches per level achieved.

    Counts are cumulative: a five-star branch counts towards four stars or more. ``actual`` maps the
    (normalised) group names to branches per level; ``whole`` is the area's counts (None: the sum of
    ``actual``); ``total_plan`` is a declared area-wide plan (None: the sum of the groups' plans).
    """
    levels = tuple(lv for lv in plan_levels if lv <= max_level) or (5, 4, 3)

    def cumulative(counts: Mapping[int, int], level: int) -> int:
        return sum(v for k, v in counts.items() if k >= level)

    def compare(name: str, planned: Mapping[int, int], have: Mapping[int, int] | None) -> PlanProgress:
        rows = []
        for level in levels:
            want = cumulative(planned, level)
            got = cumulative(have, level) if have is not None else 0
            rows.append(PlanRow(level, want, got, max(want - got, 0)))
        return PlanProgress(name, have is not None, tuple(rows))

    groups = tuple(compare(name, counts, actual.get(name)) for name, counts in plan.items())
    plan_total: dict[int, int] = {}
    for counts in plan.values():
        for level, n in counts.items():
            plan_total[level] = plan_total.get(level, 0) + n
    if whole is None:
        summed: dict[int, int] = dict.fromkeys(range(max_level + 1), 0)
        for counts in actual.values():
            for level, n in counts.items():
                summed[level] = summed.get(level, 0) + n
        whole = summed
    total = compare("", total_plan if total_plan is not None else plan_total, whole)
    return TargetsProgress(
        levels=levels,
        groups=groups,
        total=total,
        no_data=tuple(g.group for g in groups if not g.has_data),
        unplanned=tuple(sorted(g for g in actual if g not in plan)),
    )
