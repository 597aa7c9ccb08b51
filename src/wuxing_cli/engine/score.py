"""Score branches into stars and levels with one polars query per criteria (SPEC §4).

Result columns (one row per branch), besides the reserved columns and the input fields:

- ``pts:<star>:<indicator>`` indicator points (Float64, 0 when the value is missing)
- ``veto:<star>:<veto>`` / ``cap:<cap>`` whether it fired (missing input counts as fired)
- ``<star>:points``, ``<star>:earned``, ``<star>:awarded``, ``<star>:vetoed``, ``<star>:near``,
  ``<star>:gap`` (pass mark − points), ``<star>:vetoes`` and ``<star>:required_failed`` (ids joined by ``;``)
- ``stars``, ``level``, ``total_points``, ``vetoes``, ``capped_by``, ``missing``, ``criteria_id``
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ..models.contract import DEFAULT_NEAR, RESERVED
from ..models.criteria import Criteria
from .award import level, star_count, with_awarded
from .columns import cap_col, pts_col, star_col, veto_col
from .compile import (
    compile_expression,
    compile_rule,
    derived_order,
    field_column,
    referenced_fields,
    round2,
)
from .rank import rank_branches

_ID_CHUNK = 6  # ids looked up together: a mask of 6 flags indexes a table of 63 joined strings


def _join_ids(pairs: Sequence[tuple[pl.Expr, str]]) -> pl.Expr:
    """``a;b`` of the ids whose condition holds (in the given order); empty string when none.

    A row-wise string concatenation of one column per id is slow for the ~130 ids of ``missing``.
    Instead the conditions are packed, a few at a time, into a small integer mask that indexes a
    precomputed table of the joined ids; only those few pieces are concatenated per row. Pure
    expressions, so it works unchanged in the streaming engine.
    """
    if not pairs:
        return pl.lit("")
    pieces: list[pl.Expr] = []
    for start in range(0, len(pairs), _ID_CHUNK):
        chunk = pairs[start : start + _ID_CHUNK]
        mask = pl.sum_horizontal(
            cond.fill_null(False).cast(pl.Int32) * (1 << bit) for bit, (cond, _) in enumerate(chunk)
        )
        keys = list(range(1, 1 << len(chunk)))
        joined = [";".join(name for bit, (_, name) in enumerate(chunk) if key >> bit & 1) for key in keys]
        pieces.append(mask.replace_strict(keys, joined, default=None, return_dtype=pl.String))
    if len(pieces) == 1:
        return pieces[0].fill_null("")
    return pl.concat_str(pieces, separator=";", ignore_nulls=True).fill_null("")


def score_lazy(criteria: Criteria, frame: pl.LazyFrame | pl.DataFrame, *, near: float = DEFAULT_NEAR) -> pl.LazyFrame:
    """The scoring query for one criteria over a frame of its branches (input fields typed, by field id)."""
    lf = frame.lazy()
    schema = lf.collect_schema()
    missing_cols = [
        fid for fid, spec in criteria.fields.items() if spec.expr is None and fid not in schema
    ]
    if missing_cols:
        lf = lf.with_columns(pl.lit(None).alias(fid) for fid in missing_cols)
    # Derived fields, each after what it reads; a value that cannot be computed is null (missing).
    for fid in derived_order(criteria):
        spec = criteria.fields[fid]
        assert spec.expr is not None
        lf = lf.with_columns(compile_expression(spec.expr, criteria).alias(fid))

    step1: list[pl.Expr] = []
    for star in criteria.stars:
        for ind in star.indicators:
            step1.append(compile_rule(field_column(criteria, ind.field), ind).alias(pts_col(star.id, ind.id)))
        for veto in star.vetoes:
            step1.append(compile_expression(veto.when, criteria).fill_null(True).alias(veto_col(star.id, veto.id)))
    for cap in criteria.caps:
        step1.append(compile_expression(cap.when, criteria).fill_null(True).alias(cap_col(cap.id)))
    used = referenced_fields(criteria)
    step1.append(_join_ids([(pl.col(f).is_null(), f) for f in used]).alias("missing"))
    lf = lf.with_columns(step1)

    step2: list[pl.Expr] = []
    for star in criteria.stars:
        points = round2(pl.sum_horizontal(pl.col(pts_col(star.id, i.id)) for i in star.indicators))
        vetoed = (
            pl.any_horizontal(pl.col(veto_col(star.id, v.id)) for v in star.vetoes) if star.vetoes else pl.lit(False)
        )
        required = [i for i in star.indicators if i.required]
        req_failed = [(pl.col(pts_col(star.id, i.id)) < i.points, i.id) for i in required]
        req_ok = pl.all_horizontal(c.not_() for c, _ in req_failed) if req_failed else pl.lit(True)
        step2 += [
            points.alias(star_col(star.id, "points")),
            vetoed.alias(star_col(star.id, "vetoed")),
            _join_ids([(pl.col(veto_col(star.id, v.id)), v.id) for v in star.vetoes]).alias(star_col(star.id, "vetoes")),
            _join_ids(req_failed).alias(star_col(star.id, "required_failed")),
            (vetoed.not_() & (points >= star.pass_mark) & req_ok).alias(star_col(star.id, "earned")),
            round2(pl.lit(star.pass_mark) - points).alias(star_col(star.id, "gap")),
        ]
    lf = lf.with_columns(step2)

    lf = with_awarded(lf, criteria)
    all_vetoes = [(pl.col(veto_col(s.id, v.id)), v.id) for s in criteria.stars for v in s.vetoes]
    near_exprs = [
        (
            pl.col(star_col(s.id, "earned")).not_()
            & pl.col(star_col(s.id, "vetoed")).not_()
            & (pl.col(star_col(s.id, "gap")) <= near)
        ).alias(star_col(s.id, "near"))
        for s in criteria.stars
    ]
    lf = lf.with_columns(
        star_count(criteria).alias("stars"),
        round2(pl.sum_horizontal(pl.col(star_col(s.id, "points")) for s in criteria.stars)).alias("total_points"),
        _join_ids(all_vetoes).alias("vetoes"),
        _join_ids([(pl.col(cap_col(c.id)), c.id) for c in criteria.caps]).alias("capped_by"),
        pl.lit(criteria.id).alias("criteria_id"),
        *near_exprs,
    ).with_columns(level(criteria).alias("level"))
    return lf


#: Star-level result columns (``<star>:<what>``) and branch-level ones: what reports of a score read.
STAR_RESULTS = ("points", "earned", "awarded", "vetoed", "vetoes", "required_failed", "near", "gap")
BRANCH_RESULTS = ("criteria_id", "stars", "level", "total_points", "vetoes", "capped_by", "missing")


def result_columns(
    criteria: Sequence[Criteria], *, star_results: Sequence[str] = STAR_RESULTS, indicators: bool = False
) -> list[str]:
    """The reserved, branch-level and star-level result columns of ``criteria``, and with
    ``indicators`` the indicator points and veto/cap flags (never the input fields): pass as
    ``score(columns=…)`` when only these are read."""
    stars: dict[str, None] = {}
    for crit in criteria:
        for star in crit.stars:
            stars.setdefault(star.id, None)
    detail = [
        name
        for crit in criteria
        for name in (
            *(pts_col(s.id, i.id) for s in crit.stars for i in s.indicators),
            *(veto_col(s.id, v.id) for s in crit.stars for v in s.vetoes),
            *(cap_col(c.id) for c in crit.caps),
        )
    ] if indicators else []
    return [
        *RESERVED,
        *BRANCH_RESULTS,
        *(star_col(sid, what) for sid in stars for what in star_results),
        *dict.fromkeys(detail),
    ]


def score(
    parts: Sequence[tuple[Criteria, pl.DataFrame | pl.LazyFrame]],
    *,
    near: float = DEFAULT_NEAR,
    by: str | None = None,
    columns: Sequence[str] | None = None,
    order: bool = True,
) -> pl.DataFrame:
    """Score every part with its criteria, stack them and rank all branches (and within ``by`` groups).

    With ``columns``, the result keeps only those (that exist) besides ``rank``/``group_rank``: the
    indicator-level columns are then computed but never materialised, and sorting into rank order
    moves far less data (a wide frame's random gather dominates the run time on large files).
    ``order=False`` keeps the rows in input order (ranks still added): for a caller that only
    aggregates, it saves that gather (3.3 s and 2.5 GB at 1,000,000 rows with the indicator columns).
    """
    ranked = rank_branches(stack_scores(parts, near=near, by=by, columns=columns), by=by, order=order)
    return ranked.collect(engine="in-memory")


def stack_scores(
    parts: Sequence[tuple[Criteria, pl.DataFrame | pl.LazyFrame]],
    *,
    near: float = DEFAULT_NEAR,
    by: str | None = None,
    columns: Sequence[str] | None = None,
) -> pl.LazyFrame:
    """The scores of every part, stacked and not yet ranked (``columns``: as in :func:`score`)."""
    if not parts:
        raise ValueError("nothing to score")
    if columns is None:
        frames = [score_lazy(c, f, near=near) for c, f in parts]
    else:
        keep = {*columns, "branch_id", "stars", "total_points", *([by] if by else [])}
        frames = [_narrow_scores(c, f, near, keep) for c, f in parts]
    stacked = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    for name in RESERVED:
        if name not in stacked.collect_schema():
            stacked = stacked.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    return stacked


#: Rows scored at a time when only some result columns are kept: the indicator-level columns of
#: one batch (≈ 125 × 8 bytes a row for a wide criteria) are all that is ever in memory at once.
SCORE_BATCH = 131_072


def _narrow_scores(
    criteria: Criteria, frame: pl.DataFrame | pl.LazyFrame, near: float, keep: set[str]
) -> pl.LazyFrame:
    """The kept columns of the scores of ``frame``, computed in row batches (scoring is row-wise)."""
    def narrow(part: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
        lf = score_lazy(criteria, part, near=near)
        return lf.select([c for c in lf.collect_schema() if c in keep])

    if isinstance(frame, pl.LazyFrame) or frame.height <= SCORE_BATCH:
        return narrow(frame)
    done = [narrow(frame.slice(start, SCORE_BATCH)).collect(engine="in-memory")
            for start in range(0, frame.height, SCORE_BATCH)]
    return pl.concat(done, rechunk=False).lazy()
