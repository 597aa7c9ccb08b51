"""What every part of the bulletin needs to know: the runs, the language, the grouping, the limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...engine.summary.common import Catalogue, criteria_used
from ..labels import Lang, clause_sep, level_label, list_sep
from .text import STAR_GLOSS, group_column_label, phrase

if TYPE_CHECKING:
    from ...models.criteria import Criteria
    from ...models.results import ScoreRun


@dataclass(frozen=True)
class Limits:
    """How long the bulletin's lists get (see :mod:`.view` for the values)."""

    lists: int
    weak_overall: int
    weak_per_star: int
    problems_per_group: int
    names_per_problem: int


@dataclass
class Ctx:
    run: ScoreRun
    previous: ScoreRun | None
    lang: Lang
    by: str
    near: float
    limits: Limits
    catalogue: Catalogue
    zh_levels: dict[int, str] = field(default_factory=dict)
    prev_label: str | None = None

    @classmethod
    def make(cls, run: ScoreRun, previous: ScoreRun | None, lang: Lang, by: str, near: float,
             limits: Limits) -> Ctx:
        catalogue = Catalogue.build(run.criteria, previous.criteria if previous else None)
        first = run.criteria[0] if run.criteria else None
        zh_levels = {n: first.level_label(n) if first else str(n) for n in range(catalogue.max_level + 1)}
        return cls(run, previous, lang, by, near, limits, catalogue, zh_levels)

    @property
    def zh(self) -> bool:
        return self.lang == Lang.zh

    @property
    def max_level(self) -> int:
        return self.catalogue.max_level

    def t(self, key: str, **params: object) -> str:
        return phrase(key, self.lang, **params)

    def by_label(self) -> str:
        return group_column_label(self.by, self.lang)

    def level(self, stars: int | None) -> str:
        if stars is None:
            return "—"
        return level_label(stars, self.lang, self.zh_levels.get(stars, str(stars)))

    def star_name(self, star_id: str) -> str:
        return self.catalogue.star_name(star_id)

    def star_display(self, star_id: str) -> str:
        """The star's name, with an English gloss of the known Henan names in English."""
        name = self.star_name(star_id)
        if not self.zh and name in STAR_GLOSS:
            return f"{name} ({STAR_GLOSS[name]})"
        return name

    def n(self, count: int, noun: str, plural: str | None = None) -> str:
        """English count with a plural: 1 branch, 2 branches."""
        return f"{count} {noun if count == 1 else (plural or noun + 's')}"

    def group_name(self, group: str | None) -> str:
        return group if group else self.t("blank_group")

    def criteria(self, criteria_id: str) -> Criteria | None:
        return self.catalogue.find(criteria_id)

    def join(self, items: Iterable[str]) -> str:
        return list_sep(self.lang).join(items)

    def semi(self) -> str:
        return clause_sep(self.lang)

    def cut(self, items: list[dict[str, Any]], total: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """The first ``limits.lists`` items, and a note when there are more (``total``: how many
        there are when ``items`` is already cut)."""
        limit = self.limits.lists
        total = len(items) if total is None else total
        if total <= limit:
            return items, None
        note = f"仅列出前{limit}项（共{total}项）。" if self.zh else f"Only the first {limit} of {total} are listed."
        return items[:limit], note

    def branch_kind(self) -> str:
        """村党组织 / 社区党组织 / 村（社区）党组织 (or the English equivalent) from the criteria used."""
        used = criteria_used(self.run.frame)
        kinds = set()
        for criteria in self.run.criteria:
            if criteria.id in used:
                kinds.add("community" if "社区" in criteria.branch_type else "rural")
        if kinds == {"rural"}:
            return "村党组织" if self.zh else "village branches"
        if kinds == {"community"}:
            return "社区党组织" if self.zh else "community branches"
        return "村（社区）党组织" if self.zh else "village and community branches"
