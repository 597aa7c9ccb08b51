"""Veto events and caps that fired, and branches within reach of a star (near misses)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ... import expr as ex
from ..columns import cap_col, star_col, veto_col
from .common import Catalogue, group_expr, name_or_id, round_half_up, split_ids


@dataclass(frozen=True)
class VetoEvent:
    branch_id: str
    branch_name: str
    group: str
    star_id: str
    star: str
    veto_id: str
    veto: str
    by_missing: bool


@dataclass(frozen=True)
class CapEvent:
    branch_id: str
    branch_name: str
    group: str
    cap_id: str
    cap: str
    max_stars: int
    stars: int
    by_missing: bool


@dataclass(frozen=True)
class VetoCount:
    star: str
    veto: str
    count: int


@dataclass(frozen=True)
class Vetoes:
    """Counts cover every event; ``events``/``caps`` list at most ``limit`` of each, ordered by
    group, branch and criteria order. ``fired_by_missing``: events and caps that fired on a gap."""

    events: tuple[VetoEvent, ...]
    caps: tuple[CapEvent, ...]
    event_count: int
    cap_count: int
    branches: int
    cap_branches: int
    per_veto: tuple[VetoCount, ...]
    fired_by_missing: int


def _expr_names(text: str) -> set[str]:
    try:
        return set(ex.names(ex.parse(text)))
    except Exception:  # a validated file always parses; be lenient in a report
        return set()


def _by_missing(inputs: set[str]) -> pl.Expr:
    """Whether one of ``inputs`` is among the row's missing fields (so the veto or cap fired on a gap)."""
    if not inputs:
        return pl.lit(False)
    return pl.col("missing").fill_null("").str.split(";").list.set_intersection(sorted(inputs)).list.len() > 0


def vetoes(frame: pl.DataFrame, catalogue: Catalogue, by: str, limit: int) -> Vetoes:
    group = group_expr(frame, by).alias("group")
    name = name_or_id()
    event_parts: list[pl.LazyFrame] = []
    cap_parts: list[pl.LazyFrame] = []
    for criteria in catalogue.current:
        mine = frame.lazy().filter(pl.col("criteria_id") == criteria.id)
        for star in criteria.stars:
            for number, veto in enumerate(star.vetoes):
                col = veto_col(star.id, veto.id)
                if col not in frame.columns:
                    continue
                event_parts.append(mine.filter(pl.col(col).fill_null(False)).select(
                    pl.col("branch_id").cast(pl.String), name, group,
                    pl.lit(star.id).alias("star_id"), pl.lit(veto.id).alias("veto_id"),
                    pl.lit(catalogue.star_name(star.id)).alias("star"), pl.lit(veto.name).alias("veto"),
                    _by_missing(_expr_names(veto.when)).alias("by_missing"),
                    pl.lit(catalogue.stars[star.id].index).alias("_o1"),
                    pl.lit(catalogue.crit_index[criteria.id]).alias("_o2"), pl.lit(number).alias("_o3"),
                ))
        for number, cap in enumerate(criteria.caps):
            col = cap_col(cap.id)
            if col not in frame.columns:
                continue
            cap_parts.append(mine.filter(pl.col(col).fill_null(False)).select(
                pl.col("branch_id").cast(pl.String), name, group, pl.lit(cap.id).alias("cap_id"),
                pl.lit(cap.name).alias("cap"), pl.lit(cap.max_stars).alias("max_stars"),
                pl.col("stars"), _by_missing(_expr_names(cap.when)).alias("by_missing"),
                pl.lit(catalogue.crit_index[criteria.id]).alias("_o1"), pl.lit(number).alias("_o2"),
            ))

    def stacked(parts: list[pl.LazyFrame], order: list[str]) -> pl.DataFrame | None:
        if not parts:
            return None
        return pl.concat(parts).sort(["group", "branch_id", *order]).collect()

    events_all = stacked(event_parts, ["_o1", "_o2", "_o3"])
    caps_all = stacked(cap_parts, ["_o1", "_o2"])
    events: list[VetoEvent] = []
    caps: list[CapEvent] = []
    per_veto: list[VetoCount] = []
    event_count = cap_count = branches = cap_branches = fired_by_missing = 0
    if events_all is not None and events_all.height:
        event_count, branches = events_all.height, events_all["branch_id"].n_unique()
        for star, veto, n in events_all.group_by("star", "veto", maintain_order=True).len().iter_rows():
            per_veto.append(VetoCount(star, veto, int(n)))
        fired_by_missing += int(events_all["by_missing"].sum())
        for row in events_all.head(limit).iter_rows(named=True):
            events.append(VetoEvent(row["branch_id"], row["branch_name"], row["group"], row["star_id"], row["star"],
                                    row["veto_id"], row["veto"], row["by_missing"]))
    if caps_all is not None and caps_all.height:
        cap_count, cap_branches = caps_all.height, caps_all["branch_id"].n_unique()
        fired_by_missing += int(caps_all["by_missing"].sum())
        for row in caps_all.head(limit).iter_rows(named=True):
            caps.append(CapEvent(row["branch_id"], row["branch_name"], row["group"], row["cap_id"], row["cap"],
                                 row["max_stars"], row["stars"], row["by_missing"]))
    return Vetoes(tuple(events), tuple(caps), event_count, cap_count, branches, cap_branches, tuple(per_veto),
                  fired_by_missing)


@dataclass(frozen=True)
class Reach:
    """A star a branch is within reach of: its points, the gap (≥ 0, two decimals), the required
    indicators (names) it still fails."""

    star_id: str
    star: str
    points: float | None
    gap: float
    required_failed: tuple[str, ...]


@dataclass(frozen=True)
class NearBranch:
    branch_id: str
    branch_name: str
    group: str
    stars: int
    reach: tuple[Reach, ...]

    @property
    def min_gap(self) -> float:
        return min(r.gap for r in self.reach)


@dataclass(frozen=True)
class NearMisses:
    """Branches within ``near`` points of a star (no veto). ``count``/``stars`` cover them all;
    ``branches`` lists at most ``limit``, by group, smallest gap, branch id."""

    near: float
    branches: tuple[NearBranch, ...]
    count: int
    stars: int


def near_misses(frame: pl.DataFrame, catalogue: Catalogue, by: str, near: float, limit: int) -> NearMisses:
    group = group_expr(frame, by).alias("_group")
    parts = []
    for number, star in enumerate(catalogue.stars.values()):
        earned = star_col(star.id, "earned")
        if earned not in frame.columns:
            continue
        parts.append(frame.lazy().filter(
            pl.col(earned).is_not_null() & pl.col(earned).not_() & pl.col(star_col(star.id, "vetoed")).not_()
            & (pl.col(star_col(star.id, "gap")) <= near)
        ).select(
            pl.col("branch_id").cast(pl.String), name_or_id(), group, "stars",
            pl.col("criteria_id").cast(pl.String), pl.lit(star.id).alias("star_id"), pl.lit(number).alias("_star"),
            pl.col(star_col(star.id, "points")).cast(pl.Float64).alias("points"),
            pl.col(star_col(star.id, "gap")).cast(pl.Float64).alias("gap"),
            pl.col(star_col(star.id, "required_failed")).cast(pl.String).alias("required_failed"),
        ))
    if not parts:
        return NearMisses(near, (), 0, 0)
    hits = pl.concat(parts).collect()
    # the gap shown is rounded (2 places, half up) and never negative; branches sort by the smallest
    per_branch = (
        hits.lazy().group_by("branch_id").agg(pl.col("_group").first(), pl.col("gap").clip(lower_bound=0).min()
                                              .alias("_min"))
        .sort("_group", "_min", "branch_id").collect()
    )
    listed = per_branch.head(limit)["branch_id"]
    position = {bid: n for n, bid in enumerate(listed.to_list())}
    heads: dict[str, tuple[str, str, int]] = {}
    reach: dict[str, list[Reach]] = {}
    rows = hits.filter(pl.col("branch_id").is_in(listed.implode())).sort("_star")
    for row in rows.iter_rows(named=True):
        branch_id = row["branch_id"]
        heads.setdefault(branch_id, (row["branch_name"], row["_group"], row["stars"]))
        criteria = catalogue.find(row["criteria_id"])
        failed = split_ids(row["required_failed"])
        names: list[str] = []
        if criteria is not None and failed:
            names = [i.name for i in criteria.star(row["star_id"]).indicators if i.id in failed]
        reach.setdefault(branch_id, []).append(Reach(
            star_id=row["star_id"], star=catalogue.star_name(row["star_id"]), points=row["points"],
            gap=max(round_half_up(row["gap"], 2), 0.0), required_failed=tuple(names),
        ))
    branches = tuple(NearBranch(bid, *heads[bid], tuple(reach[bid])) for bid in sorted(heads, key=position.__getitem__))
    return NearMisses(near, branches, per_branch.height, hits.height)
