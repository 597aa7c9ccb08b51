"""The award rule (SPEC §4): earned ∧ requires → caps → level.

A star is awarded when it is earned and every star it ``requires`` is awarded (resolved in dependency
order); the branch's star count is the awarded stars, limited by every cap that applies; the count
names the level. One implementation, used by single-period scoring (:mod:`.score`) and again by the
tenure pass over a series (:mod:`.history`), which narrows what counts as earned.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ..models.criteria import Criteria, Star
from .columns import cap_col, star_col
from .rank import FrameT


def earned(star: Star) -> pl.Expr:
    """``<star>:earned`` as scoring computed it."""
    return pl.col(star_col(star.id, "earned"))


def with_awarded(frame: FrameT, criteria: Criteria, counts: Callable[[Star], pl.Expr] = earned) -> FrameT:
    """Set ``<star>:awarded`` for every star: ``counts(star)`` (by default: earned) and every required
    star awarded, one star at a time in dependency order (a star reads the awarded columns before it)."""
    for star in criteria.star_order():
        awarded = counts(star)
        for req in star.requires:
            awarded = awarded & pl.col(star_col(req, "awarded"))
        frame = frame.with_columns(awarded.alias(star_col(star.id, "awarded")))
    return frame


def star_count(criteria: Criteria) -> pl.Expr:
    """The stars a branch holds (Int32): its awarded stars, at most ``max_stars`` of each cap that applies."""
    held = pl.sum_horizontal(pl.col(star_col(s.id, "awarded")).cast(pl.Int32) for s in criteria.stars)
    limit: pl.Expr = pl.lit(len(criteria.stars))
    for cap in criteria.caps:
        limit = pl.min_horizontal(limit, pl.when(pl.col(cap_col(cap.id))).then(cap.max_stars).otherwise(limit))
    return pl.min_horizontal(held, limit).cast(pl.Int32)


def level(criteria: Criteria) -> pl.Expr:
    """The level label (String) of the ``stars`` column's count."""
    labels = [criteria.level_label(n) for n in range(len(criteria.stars) + 1)]
    return pl.col("stars").replace_strict(list(range(len(labels))), labels, return_dtype=pl.String)
