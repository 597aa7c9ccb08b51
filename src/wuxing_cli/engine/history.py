"""Scored periods over time (pure polars): tenure, trends, streaks, group trends and 降星预警.

Every function takes a *long* frame: the result frames of :func:`engine.score.score` for several
periods stacked (``how="diagonal_relaxed"``), with ``period`` (the label) and ``period_index`` (Int32,
0-based chronological position in the series) set on every row. One row per branch and period.

Rules (documented for users in docs/history.md):

- **Consecutive** means next in the series. A branch missing from a period breaks its streak, and
  changes against a period it was missing from are null, not zero.
- **Streak**: the number of consecutive periods, ending at a given period, at the same star count.
- **First awarded**: per star, the first period of the series in which the branch was awarded it.
- **Tenure** (``Star.tenure: {level: L, periods: k}``): in period *t* a star that is earned is awarded
  only when the branch held *L* or more stars (after tenure) in each of the *k* previous periods of the
  series. When those periods are not all known — the series starts later, or the branch is missing from
  one of them — the star is awarded on the period's own evidence and marked ``unchecked``: tenure is
  enforced on evidence, never on its absence. A star blocked by tenure is not awarded, and neither is a
  star that ``requires`` it; caps are applied again.
- **At risk (降星预警)**, for every star a branch holds in the latest period:
  ``margin`` — its points are within ``margin`` of the pass mark (points − pass mark ≤ margin);
  ``falling`` — its points fell in each of the last two consecutive periods (p[t−2] > p[t−1] > p[t]);
  ``veto:<id>`` — a veto input is trending toward firing: with every numeric input the star's vetoes
  read moved on by its last change (v + (v − v_prev), clipped to the field's bounds), the veto would
  fire next period (e.g. ``petitions >= 3`` with petitions 0 → 1 → 2). A veto written ``count > 0`` fires
  at the first case, so it has no warning zone.
  A cap trending the same way is reported once per branch (``star_id`` null, reason ``cap:<id>``) when
  it would cut the stars the branch holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from ..errors import Problem, ProblemCode
from ..models.criteria import Criteria, FieldType, Star
from .award import earned, level, star_count, with_awarded
from .columns import cap_col, star_col, veto_col
from .compile import condition_fields, round2
from .rank import league_table
from .score import score_lazy

PERIOD_INDEX = "period_index"
TENURE_OK, TENURE_BLOCKED, TENURE_UNCHECKED = "ok", "blocked", "unchecked"
DEFAULT_MARGIN = 5.0
MAX_LEVEL = 5
_ROW = "__row"


def tenure_col(star: str) -> str:
    """``<star>:tenure``: ok | blocked | unchecked, null when the star was not earned or has no rule."""
    return f"{star}:tenure"


def first_col(star: str) -> str:
    """``first:<star>``: the label of the first period the branch was awarded the star."""
    return f"first:{star}"


def star_ids(criteria: Sequence[Criteria]) -> list[str]:
    """Every star id of the criteria, in file order, without duplicates."""
    return list(dict.fromkeys(s.id for c in criteria for s in c.stars))


def _ids(pairs: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    if not pairs:
        return pl.lit("")
    parts = [pl.when(cond).then(pl.lit(name)) for cond, name in pairs]
    return pl.concat_str(parts, separator=";", ignore_nulls=True).fill_null("")


def _flag(name: str, frame: pl.DataFrame) -> pl.Expr:
    """A boolean column that may be absent (a star of another criteria): false where unknown."""
    if name not in frame.columns:
        return pl.lit(False)
    return pl.col(name).cast(pl.Boolean).fill_null(False)


# --------------------------------------------------------------------------------------------------
# tenure


def last_index(long: pl.DataFrame) -> int:
    """The largest ``period_index`` (−1 for an empty frame)."""
    value = long.select(pl.col(PERIOD_INDEX).max()).item() if long.height else None
    return int(value) if value is not None else -1


def has_tenure(criteria: Iterable[Criteria]) -> bool:
    return any(s.tenure is not None for c in criteria for s in c.stars)


def apply_tenure(long: pl.DataFrame, criteria: Sequence[Criteria]) -> pl.DataFrame:
    """Apply every star's tenure rule period by period (see the module docstring).

    Adds ``<star>:tenure`` for stars with a rule, ``tenure_blocked`` and ``tenure_unchecked`` (star ids
    joined by ``;``), and recomputes ``<star>:awarded``, ``stars`` and ``level`` where tenure blocks.
    """
    base = long.with_columns(pl.lit("").alias("tenure_blocked"), pl.lit("").alias("tenure_unchecked"))
    if not has_tenure(criteria) or base.height == 0:
        return base
    base = base.with_row_index(_ROW)
    count = last_index(base) + 1
    effective: list[pl.DataFrame] = []
    parts: list[pl.DataFrame] = []
    for index in range(count):
        current = base.filter(pl.col(PERIOD_INDEX) == index)
        chunks = []
        for crit in criteria:
            sub = current.filter(pl.col("criteria_id") == crit.id)
            if has_tenure([crit]) and sub.height:
                sub = _tenure_period(sub, crit, index, effective)
            chunks.append(sub)
        chunks.append(current.filter(~pl.col("criteria_id").is_in([c.id for c in criteria])))
        done = pl.concat([c for c in chunks if c.height] or [current.clear()], how="diagonal_relaxed")
        effective.append(done.select("branch_id", pl.col("stars").cast(pl.Int32)))
        parts.append(done)
    return pl.concat(parts, how="diagonal_relaxed").sort(_ROW).drop(_ROW)


def _tenure_period(sub: pl.DataFrame, crit: Criteria, index: int, effective: list[pl.DataFrame]) -> pl.DataFrame:
    for star in crit.stars:
        rule = star.tenure
        if rule is None:
            continue
        earned = pl.col(star_col(star.id, "earned")).fill_null(False)
        status: pl.Expr
        if index < rule.periods:
            status = pl.when(earned).then(pl.lit(TENURE_UNCHECKED))
        else:
            window = pl.concat(effective[index - rule.periods:index])
            held = window.group_by("branch_id").agg(
                pl.len().cast(pl.Int64).alias("__n"),
                (pl.col("stars") >= rule.level).sum().cast(pl.Int64).alias("__ok"),
            )
            sub = sub.join(held, on="branch_id", how="left")
            status = (
                pl.when(earned.not_()).then(pl.lit(None, pl.String))
                .when(pl.col("__n").is_null() | (pl.col("__n") < rule.periods)).then(pl.lit(TENURE_UNCHECKED))
                .when(pl.col("__ok") == rule.periods).then(pl.lit(TENURE_OK))
                .otherwise(pl.lit(TENURE_BLOCKED))
            )
        sub = sub.with_columns(status.cast(pl.String).alias(tenure_col(star.id)))
        sub = sub.drop(["__n", "__ok"], strict=False)
    sub = with_awarded(sub, crit, _earned_within_tenure)
    with_tenure = [s for s in crit.stars if s.tenure is not None]
    return sub.with_columns(
        star_count(crit).alias("stars"),
        _ids([(pl.col(tenure_col(s.id)) == TENURE_BLOCKED, s.id) for s in with_tenure]).alias("tenure_blocked"),
        _ids([((pl.col(tenure_col(s.id)) == TENURE_UNCHECKED) & pl.col(star_col(s.id, "awarded")), s.id)
              for s in with_tenure]).alias("tenure_unchecked"),
    ).with_columns(level(crit).alias("level"))


def _earned_within_tenure(star: Star) -> pl.Expr:
    """Earned, and not blocked by the star's tenure rule (unknown earned counts as not earned)."""
    counts = earned(star).fill_null(False)
    if star.tenure is not None:
        counts = counts & (pl.col(tenure_col(star.id)) != TENURE_BLOCKED).fill_null(True)
    return counts


def unchecked_tenure_warnings(frame: pl.DataFrame, criteria: Sequence[Criteria], *,
                              file: str | None = None) -> list[Problem]:
    """Warnings for a single-period result: stars with a tenure rule were awarded on this period alone.

    Single-period scoring awards such a star on its evidence (tenure needs earlier periods); this says
    how many branches that concerns, so that nobody reads the result as tenure-checked.
    """
    out: list[Problem] = []
    for crit in criteria:
        stars = [(s, s.tenure) for s in crit.stars if s.tenure is not None and star_col(s.id, "awarded") in frame.columns]
        if not stars:
            continue
        # only the awarded columns are filtered, never the whole (possibly wide) frame
        rows = frame.lazy()
        if "criteria_id" in frame.columns:
            rows = rows.filter(pl.col("criteria_id") == crit.id)
        counts = rows.select(pl.col(star_col(s.id, "awarded")).fill_null(False).sum() for s, _ in stars).collect()
        for star, rule in stars:
            awarded = int(counts.get_column(star_col(star.id, "awarded")).item())
            if awarded == 0:
                continue
            out.append(Problem(
                f"{star.name} ({star.id}) requires {rule.level} stars held in the {rule.periods} previous "
                f"period(s); a single period cannot show that, so {awarded} branch(es) were awarded it on "
                "this period's evidence (tenure not checked)",
                file=file, severity="warning", code=ProblemCode.TENURE_UNCHECKED,
                hint="run `wuxing history` with the previous periods to apply the tenure rule",
            ))
    return out


# --------------------------------------------------------------------------------------------------
# per branch


def rerank(long: pl.DataFrame) -> pl.DataFrame:
    """``rank`` within each period (stars, then total points; ties share a rank)."""
    return long.with_columns(
        pl.struct("stars", "total_points").rank("min", descending=True).over(PERIOD_INDEX).cast(pl.Int64)
        .alias("rank")
    )


def branch_history(long: pl.DataFrame, stars: Sequence[str]) -> pl.DataFrame:
    """One row per branch and period, sorted by branch and period, with the changes since the previous one.

    Adds ``consecutive`` (present in the previous period of the series), ``delta_stars``, ``delta_points``
    (null when not consecutive), ``streak``, ``gained`` and ``lost`` (star ids joined by ``;``).
    """
    # One sort, then plain shifts masked by "the previous row is the same branch" (no window functions:
    # they are slow with hundreds of thousands of branches).
    frame = long.sort("branch_id", PERIOD_INDEX)
    same = (pl.col("branch_id") == pl.col("branch_id").shift(1)).fill_null(False)
    frame = frame.with_columns(
        (same & (pl.col(PERIOD_INDEX).shift(1) == pl.col(PERIOD_INDEX) - 1)).fill_null(False).alias("consecutive")
    )
    consecutive = pl.col("consecutive")
    prev_stars = pl.col("stars").shift(1)
    breaks = (consecutive.not_() | (prev_stars != pl.col("stars"))).fill_null(True)
    gained, lost = [], []
    for star in stars:
        column = star_col(star, "awarded")
        if column not in frame.columns:
            continue
        now = pl.col(column).fill_null(False)
        before = pl.col(column).fill_null(False).shift(1)
        gained.append((consecutive & now & before.not_(), star))
        lost.append((consecutive & now.not_() & before, star))
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    frame = frame.with_columns(
        pl.when(consecutive).then(pl.col("stars") - prev_stars).cast(pl.Int32).alias("delta_stars"),
        pl.when(consecutive).then(round2(pl.col("total_points") - pl.col("total_points").shift(1)))
        .alias("delta_points"),
        (row - pl.when(breaks).then(row).forward_fill() + 1).cast(pl.Int32).alias("streak"),
        _ids(gained).alias("gained"),
        _ids(lost).alias("lost"),
    )
    return frame


def branch_summary(history: pl.DataFrame, labels: Sequence[str], stars: Sequence[str]) -> pl.DataFrame:
    """One row per branch: its latest state, the series of stars and points over every period, the
    streak, and ``first:<star>`` (first period awarded).

    ``stars_series``/``points_series`` hold one value per period of the series (null where the branch is
    missing). ``present_latest`` is false for a branch missing from the last period; its other values
    are from the last period it was in. Sorted by latest stars and points (descending), then branch id,
    branches missing from the last period at the end.
    """
    count = len(labels)
    periods = pl.DataFrame({PERIOD_INDEX: pl.Series(range(count), dtype=pl.Int32)})
    branches = history.select("branch_id").unique()
    grid = (
        branches.join(periods, how="cross")
        .join(history.select("branch_id", PERIOD_INDEX, "stars", "total_points"),
              on=["branch_id", PERIOD_INDEX], how="left")
        .sort("branch_id", PERIOD_INDEX)
        .group_by("branch_id", maintain_order=True)
        .agg(pl.col("stars").alias("stars_series"), pl.col("total_points").alias("points_series"))
    )
    label_of = pl.col(PERIOD_INDEX).replace_strict(list(range(count)), list(labels), return_dtype=pl.String)
    firsts = [
        label_of.filter(pl.col(star_col(s, "awarded")).fill_null(False)).first().alias(first_col(s))
        for s in stars if star_col(s, "awarded") in history.columns
    ]
    keep = [c for c in ("branch_name", "county", "township", "branch_type", "criteria_id", "period", "stars",
                        "level", "total_points", "delta_stars", "delta_points", "streak", "gained", "lost",
                        "rank", "tenure_blocked", "tenure_unchecked") if c in history.columns]
    summary = (
        history.sort("branch_id", PERIOD_INDEX)
        .group_by("branch_id", maintain_order=True)
        .agg(
            *(pl.col(c).last() for c in keep),
            pl.col(PERIOD_INDEX).last().alias("last_index"),
            pl.len().cast(pl.Int32).alias("periods_present"),
            *firsts,
        )
        .join(grid, on="branch_id", how="left")
        .with_columns((pl.col("last_index") == count - 1).alias("present_latest"))
    )
    return summary.sort(["present_latest", "stars", "total_points", "branch_id"],
                        descending=[True, True, True, False]).drop("last_index")


# --------------------------------------------------------------------------------------------------
# per group


def group_history(long: pl.DataFrame, by: str, labels: Sequence[str], levels: int = MAX_LEVEL) -> pl.DataFrame:
    """The league table of every period, stacked: ``period_index``, ``period``, then the columns of
    :func:`engine.rank.league_table`, with ``delta_points``, ``delta_stars`` and ``rank_change`` (positive:
    moved up) against the previous period. Sorted by group, then period."""
    frames = []
    for index, label in enumerate(labels):
        part = long.filter(pl.col(PERIOD_INDEX) == index)
        if part.height == 0:
            continue
        table = league_table(part, by=by, levels=levels)
        frames.append(table.with_columns(pl.lit(index, pl.Int32).alias(PERIOD_INDEX), pl.lit(label).alias("period")))
    if not frames:
        return pl.DataFrame()
    stacked = pl.concat(frames, how="vertical_relaxed").sort("group", PERIOD_INDEX)
    consecutive = (pl.col(PERIOD_INDEX).shift(1).over("group") == pl.col(PERIOD_INDEX) - 1).fill_null(False)
    return stacked.with_columns(
        pl.when(consecutive).then(round2(pl.col("mean_points") - pl.col("mean_points").shift(1).over("group")))
        .alias("delta_points"),
        pl.when(consecutive).then(round2(pl.col("mean_stars") - pl.col("mean_stars").shift(1).over("group")))
        .alias("delta_stars"),
        pl.when(consecutive).then(pl.col("rank").shift(1).over("group") - pl.col("rank")).alias("rank_change"),
    ).select(PERIOD_INDEX, "period", *[c for c in stacked.columns if c not in (PERIOD_INDEX, "period")],
             "delta_points", "delta_stars", "rank_change")


def group_summary(groups: pl.DataFrame, count: int) -> pl.DataFrame:
    """One row per group: the latest league-table row plus ``*_series`` lists over every period.

    Sorted by the latest rank, then group name.
    """
    if groups.height == 0:
        return pl.DataFrame()
    periods = pl.DataFrame({PERIOD_INDEX: pl.Series(range(count), dtype=pl.Int32)})
    grid = (
        groups.select("group").unique().join(periods, how="cross")
        .join(groups.select("group", PERIOD_INDEX, "mean_points", "mean_stars", "share_3plus", "rank"),
              on=["group", PERIOD_INDEX], how="left")
        .sort("group", PERIOD_INDEX)
        .group_by("group", maintain_order=True)
        .agg(pl.col("mean_points").alias("points_series"), pl.col("mean_stars").alias("stars_series"),
             pl.col("share_3plus").alias("share_series"), pl.col("rank").alias("rank_series"))
    )
    latest = groups.sort("group", PERIOD_INDEX).group_by("group", maintain_order=True).agg(pl.all().last())
    return (latest.join(grid, on="group", how="left")
            .with_columns((pl.col(PERIOD_INDEX) == count - 1).alias("present_latest"))
            .sort(["present_latest", "rank", "group"], descending=[True, False, False]))


# --------------------------------------------------------------------------------------------------
# 降星预警


def _veto_inputs(crit: Criteria) -> list[str]:
    """Numeric input fields the vetoes and caps read, through derived fields."""
    return [fid for fid in condition_fields(crit) if crit.fields[fid].expr is None and crit.fields[fid].numeric]


def project(current: pl.DataFrame, previous: pl.DataFrame, crit: Criteria) -> pl.DataFrame:
    """The vetoes and caps of ``crit`` one period ahead: every numeric input they read moved on by its
    last change (``v + (v − v_prev)``, clipped to the field's bounds; unchanged when either is missing).

    Returns ``branch_id`` and the ``veto:*`` and ``cap:*`` columns of the projection.
    """
    fields = _veto_inputs(crit)
    inputs = [fid for fid in crit.input_fields() if fid in current.columns]
    if not fields or current.height == 0:
        return current.select("branch_id")
    prev = previous.select("branch_id", *(pl.col(f).alias(f"__prev:{f}") for f in fields if f in previous.columns))
    frame = current.select("branch_id", *inputs).join(prev, on="branch_id", how="left")
    moved = []
    for fid in fields:
        if fid not in frame.columns:
            continue
        spec = crit.fields[fid]
        now = pl.col(fid).cast(pl.Float64)
        before = pl.col(f"__prev:{fid}").cast(pl.Float64) if f"__prev:{fid}" in frame.columns else pl.lit(None)
        value = pl.when(now.is_not_null() & before.is_not_null()).then(now + (now - before)).otherwise(now)
        if spec.lower is not None or spec.upper is not None:
            value = value.clip(spec.lower, spec.upper)
        if spec.type is FieldType.integer:
            value = value.round(0)
        moved.append(value.cast(current.schema[fid]).alias(fid))
    frame = frame.with_columns(moved)
    scored = score_lazy(crit, frame.drop([c for c in frame.columns if c.startswith("__prev:")])).collect()
    keep = [c for c in scored.columns if c.startswith(("veto:", "cap:"))]
    return scored.select("branch_id", *keep)


def _dependents(crit: Criteria) -> dict[str, list[str]]:
    """For each star, the stars that require it directly or through others (lost with it)."""
    requires = {s.id: set(s.requires) for s in crit.stars}
    out: dict[str, list[str]] = {}
    for star in crit.stars:
        found: list[str] = []
        for other in crit.stars:
            seen: set[str] = set()
            frontier = list(requires.get(other.id, ()))
            while frontier:
                cur = frontier.pop()
                if cur in seen:
                    continue
                seen.add(cur)
                frontier.extend(requires.get(cur, ()))
            if star.id in seen and other.id != star.id:
                found.append(other.id)
        out[star.id] = found
    return out


RISK_COLUMNS = ("branch_id", "branch_name", "county", "township", "branch_type", "criteria_id", "stars", "level",
                "star_id", "star_name", "points", "pass_mark", "cushion", "points_prev", "points_prev2",
                "reasons", "dependents")


def at_risk(long: pl.DataFrame, criteria: Sequence[Criteria], *, margin: float = DEFAULT_MARGIN) -> pl.DataFrame:
    """Stars held in the latest period that are at risk (see the module docstring), one row per star.

    ``reasons`` are codes joined by ``;`` (``margin``, ``falling``, ``veto:<id>``, ``cap:<id>``);
    ``dependents`` the held stars that would be lost with it (through ``requires``). Sorted by ``cushion``
    (points − pass mark, smallest first; cap rows, which have none, first), then branch id and the star's
    position in the criteria.
    """
    empty = pl.DataFrame(schema={c: (pl.Float64 if c in ("points", "pass_mark", "cushion", "points_prev",
                                                          "points_prev2") else
                                     pl.Int32 if c == "stars" else pl.String) for c in RISK_COLUMNS})
    if long.height == 0:
        return empty
    latest = last_index(long)
    current = long.filter(pl.col(PERIOD_INDEX) == latest)
    previous = long.filter(pl.col(PERIOD_INDEX) == latest - 1)
    before = long.filter(pl.col(PERIOD_INDEX) == latest - 2)
    frames: list[pl.DataFrame] = []
    for crit in criteria:
        rows = current.filter(pl.col("criteria_id") == crit.id)
        if rows.height == 0:
            continue
        prev_rows = previous.filter(pl.col("criteria_id") == crit.id)
        ahead = project(rows, prev_rows, crit)
        points_cols = [star_col(s.id, "points") for s in crit.stars]
        rows = (
            rows.join(prev_rows.select("branch_id", *(pl.col(c).alias(f"__p1:{c}") for c in points_cols)),
                      on="branch_id", how="left")
            .join(before.filter(pl.col("criteria_id") == crit.id)
                  .select("branch_id", *(pl.col(c).alias(f"__p2:{c}") for c in points_cols)),
                  on="branch_id", how="left")
            .join(ahead.rename({c: f"__ahead:{c}" for c in ahead.columns if c != "branch_id"}),
                  on="branch_id", how="left")
        )
        dependents = _dependents(crit)
        for position, star in enumerate(crit.stars):
            points = pl.col(star_col(star.id, "points"))
            p1 = pl.col(f"__p1:{star_col(star.id, 'points')}")
            p2 = pl.col(f"__p2:{star_col(star.id, 'points')}")
            trending = [
                ((pl.col(veto_col(star.id, v.id)).not_() & pl.col(f"__ahead:{veto_col(star.id, v.id)}"))
                 .fill_null(False), f"veto:{v.id}")
                for v in star.vetoes if f"__ahead:{veto_col(star.id, v.id)}" in rows.columns
            ]
            reasons = _ids([
                (points - star.pass_mark <= margin, "margin"),
                (((p2 > p1) & (p1 > points)).fill_null(False), "falling"),
                *trending,
            ])
            held_after = _ids([(pl.col(star_col(d, "awarded")).fill_null(False), d) for d in dependents[star.id]])
            frames.append(
                rows.filter(pl.col(star_col(star.id, "awarded")).fill_null(False))
                .select(
                    *(pl.col(c) for c in RISK_COLUMNS[:8]),
                    pl.lit(star.id).alias("star_id"),
                    pl.lit(star.name).alias("star_name"),
                    points.cast(pl.Float64).alias("points"),
                    pl.lit(float(star.pass_mark)).alias("pass_mark"),
                    round2(points - star.pass_mark).cast(pl.Float64).alias("cushion"),
                    p1.cast(pl.Float64).alias("points_prev"),
                    p2.cast(pl.Float64).alias("points_prev2"),
                    reasons.alias("reasons"),
                    held_after.alias("dependents"),
                    pl.lit(position).alias("__order"),
                )
                .filter(pl.col("reasons") != "")
            )
        cap_pairs = [
            ((pl.col(cap_col(c.id)).not_() & pl.col(f"__ahead:{cap_col(c.id)}") & (pl.col("stars") > c.max_stars))
             .fill_null(False), f"cap:{c.id}")
            for c in crit.caps if f"__ahead:{cap_col(c.id)}" in rows.columns
        ]
        if cap_pairs:
            frames.append(
                rows.select(
                    *(pl.col(c) for c in RISK_COLUMNS[:8]),
                    pl.lit(None, pl.String).alias("star_id"),
                    pl.lit(None, pl.String).alias("star_name"),
                    *(pl.lit(None, pl.Float64).alias(c) for c in ("points", "pass_mark", "cushion", "points_prev",
                                                                   "points_prev2")),
                    _ids(cap_pairs).alias("reasons"),
                    pl.lit("").alias("dependents"),
                    pl.lit(len(crit.stars)).alias("__order"),
                ).filter(pl.col("reasons") != "")
            )
    frames = [f for f in frames if f.height]
    if not frames:
        return empty
    out = (pl.concat(frames, how="vertical_relaxed")
           .sort(["cushion", "branch_id", "__order"], nulls_last=False).drop("__order"))
    return out.with_columns(pl.col("stars").cast(pl.Int32))
