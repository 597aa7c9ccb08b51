"""Result types as plain data: a loaded assessment, a scored run, a scored series of periods.

Built by :mod:`wuxing_cli.io` and :mod:`wuxing_cli.pipeline`, read by the renderers; no behaviour
beyond simple lookups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from ..errors import Problem
from .contract import DEFAULT_NEAR
from .criteria import Criteria
from .periods import Period


@dataclass(frozen=True)
class Rejected:
    """A data row left out by ``skip_invalid``, with every reason."""

    line: int
    branch_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LoadedPart:
    """The rows of one criteria: LINE, the RESERVED columns, then one typed column per input field."""

    criteria: Criteria
    frame: pl.DataFrame
    headers: dict[str, str]  # field id -> header found in the file


@dataclass(frozen=True)
class Assessment:
    """A loaded, validated assessment file."""

    path: str
    encoding: str
    parts: list[LoadedPart]
    rows_read: int
    periods: list[str]
    period: str | None
    warnings: list[Problem] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ids: pl.DataFrame | None = None  # with ``partial``: LINE and branch_id of every row read
    id_header: str = ""  # the header of the branch id column
    problems: list[Problem] = field(default_factory=list)  # with ``partial``: bad cells (not raised;
    # with ``skip_invalid`` their rows are also in ``rejected``)
    problem_total: int = 0  # how many bad cells, listed or not


@dataclass(frozen=True)
class ScoreRun:
    """Everything one scored file produced: criteria, the loaded data and the ranked result frame
    (in rank order, unless ``ordered`` is False: then in the file's order, for reports that only
    aggregate and sort what they list themselves)."""

    criteria: list[Criteria]
    data: Assessment
    frame: pl.DataFrame
    near: float = DEFAULT_NEAR
    by: str | None = None
    warnings: list[Problem] = field(default_factory=list)
    ordered: bool = True

    @property
    def period(self) -> str | None:
        return self.data.period

    def criteria_for(self, criteria_id: str) -> Criteria:
        for c in self.criteria:
            if c.id == criteria_id:
                return c
        raise KeyError(criteria_id)


@dataclass(frozen=True)
class Source:
    """Where one period's rows come from: a file, and the ``--period`` to pick it when it holds several."""

    path: Path
    period: Period
    pick: str | None  # the period label to select in the file, None when the file holds one period


@dataclass(frozen=True)
class History:
    """Every period of a series, scored, in chronological order, stacked in ``long`` (tenure applied)."""

    criteria: list[Criteria]
    periods: list[Period]
    sources: list[Source]
    long: pl.DataFrame
    warnings: list[Problem] = field(default_factory=list)
    near: float = DEFAULT_NEAR

    @property
    def labels(self) -> list[str]:
        return [str(p) for p in self.periods]

    @property
    def stars(self) -> list[str]:
        """Every star id of the criteria, in file order, without duplicates."""
        return list(dict.fromkeys(s.id for c in self.criteria for s in c.stars))

    def star_name(self, star_id: str) -> str:
        for crit in self.criteria:
            for star in crit.stars:
                if star.id == star_id:
                    return star.name
        return star_id
