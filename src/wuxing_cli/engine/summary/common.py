"""Shared pieces of the summaries: rounding as reports show figures, the star catalogue, grouping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from ...models.criteria import Criteria


def round_half_up(value: float, places: int) -> float:
    """``value`` rounded to ``places`` decimals, half away from zero like the engine (not banker's)."""
    quant = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(quant, rounding=ROUND_HALF_UP))


def percent(count: int | float, total: int | float) -> float | None:
    """count / total as a percentage rounded to one decimal (None when total is 0)."""
    return round_half_up(count * 100.0 / total, 1) if total else None


def rounded_mean(value: float | None) -> float | None:
    """A mean as reports show it: two decimals, None when there was nothing to average."""
    return None if value is None else round_half_up(float(value), 2)


def pp(now: float | None, before: float | None) -> float | None:
    """A change in percentage points between two rounded percentages."""
    if now is None or before is None:
        return None
    return round_half_up(now - before, 1)


def split_ids(value: object) -> list[str]:
    """The ids of a ``;``-joined result cell (``vetoes``, ``capped_by``, ``missing``…)."""
    return [v for v in str(value or "").split(";") if v]


@dataclass(frozen=True)
class StarInfo:
    """A star as the summaries list it: first name seen, first lead unit given, order of appearance."""

    id: str
    name: str
    owner: str | None
    index: int


@dataclass(frozen=True)
class Catalogue:
    """The criteria of this period (and the previous one): their stars merged by id, in order.

    ``current`` is this period's criteria; ``criteria`` is this period's then the previous period's,
    which is also the order criteria are looked up in.
    """

    current: tuple[Criteria, ...]
    criteria: tuple[Criteria, ...]
    stars: Mapping[str, StarInfo]
    crit_index: Mapping[str, int]
    max_level: int

    @classmethod
    def build(cls, current: Sequence[Criteria], previous: Sequence[Criteria] | None = None) -> Catalogue:
        everything = [*current, *(previous or [])]
        crit_index: dict[str, int] = {}
        names: dict[str, tuple[str, str | None]] = {}
        for criteria in everything:
            crit_index.setdefault(criteria.id, len(crit_index))
            for star in criteria.stars:
                known = names.get(star.id)
                if known is None:
                    names[star.id] = (star.name, star.owner)
                elif known[1] is None and star.owner:
                    names[star.id] = (known[0], star.owner)
        stars = {sid: StarInfo(sid, name, owner, n) for n, (sid, (name, owner)) in enumerate(names.items())}
        max_level = max((len(c.stars) for c in everything), default=5)
        return cls(tuple(current), tuple(everything), stars, crit_index, max_level)

    def star_name(self, star_id: str) -> str:
        star = self.stars.get(star_id)
        return star.name if star else star_id

    def find(self, criteria_id: str) -> Criteria | None:
        """The criteria with this id (this period's first)."""
        for criteria in self.criteria:
            if criteria.id == criteria_id:
                return criteria
        return None

    def current_star_ids(self) -> set[str]:
        return {s.id for c in self.current for s in c.stars}


def group_expr(frame: pl.DataFrame, by: str) -> pl.Expr:
    """The group of each row as text ("" when blank or when the frame has no ``by`` column)."""
    if by in frame.columns:
        return pl.col(by).cast(pl.String).fill_null("")
    return pl.lit("")


def has_groups(frame: pl.DataFrame, by: str) -> bool:
    """Whether ``frame`` has rows and a ``by`` column that is not entirely blank."""
    return by in frame.columns and frame.height > 0 and frame[by].null_count() < frame.height


def name_or_id() -> pl.Expr:
    """The branch's name, or its id when the name is empty: how a branch is listed."""
    name = pl.col("branch_name").cast(pl.String)
    return pl.when(name.is_null() | (name == "")).then(pl.col("branch_id").cast(pl.String)).otherwise(name) \
        .alias("branch_name")


def criteria_used(frame: pl.DataFrame) -> set[str]:
    """The ids of the criteria the rows of ``frame`` were scored with."""
    return {str(v) for v in frame["criteria_id"].unique().to_list()} if frame.height else set()


def single_county(frame: pl.DataFrame) -> str | None:
    """The county's name when every branch of the data is in the same one."""
    if "county" not in frame.columns or frame.height == 0:
        return None
    names = frame["county"].cast(pl.String).drop_nulls().unique().to_list()
    names = [n.strip() for n in names if n and n.strip()]
    return names[0] if len(set(names)) == 1 else None
