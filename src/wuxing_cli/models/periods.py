"""Period labels: parse, order and compare the periods of an assessment series (pure, no I/O).

Accepted spellings (after NFKC normalisation, so full-width digits work; spaces are ignored):

=========  ===========================================================================================
kind       spellings
=========  ===========================================================================================
month      ``2025-03``, ``2025-3``, ``2025/03``, ``2025.03``, ``202503``, ``2025M03``, ``2025年3月``,
           ``2025年03月``, ``2025年三月``, ``2025年十二月``
quarter    ``2025-Q1``, ``2025Q1``, ``2025 q1``, ``2025/Q1``, ``2025年第一季度``, ``2025年一季度``,
           ``2025年第1季度``, ``2025年1季度``, ``2025年Q1``
half-year  ``2025H1``, ``2025-H2``, ``2025年上半年``, ``2025年下半年``
year       ``2025``, ``2025年``, ``2025年度``, ``2025年全年``
=========  ===========================================================================================

Ordering: every period is a span of months. Periods are ordered by the month they end in, then
the shorter span first (a summary comes after its last part), so any mix of kinds has one
well-defined order: 2025-03 < 2025-Q1 (Jan–Mar) < 2025-04 … < 2025-06 < 2025-Q2 < 2025H1 … < 2025-12
< 2025-Q4 < 2025H2 < 2025 (the year).
Mixing kinds in one series is allowed but reported (:func:`order_periods` returns a note), because
"consecutive periods" (streaks, tenure, two falls in a row) then count list positions, not equal
lengths of time. An unrecognised label is an error (:class:`PeriodError`): text order would silently
put "2025-10" before "2025-9" and "二季度" before "一季度".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise


class PeriodKind(StrEnum):
    month = "month"
    quarter = "quarter"
    half = "half"
    year = "year"


MONTHS_IN: dict[PeriodKind, int] = {PeriodKind.month: 1, PeriodKind.quarter: 3, PeriodKind.half: 6,
                                    PeriodKind.year: 12}
COUNT_IN_YEAR: dict[PeriodKind, int] = {k: 12 // v for k, v in MONTHS_IN.items()}

ACCEPTED_FORMS = ("2025-03, 2025年3月 (month); 2025-Q1, 2025年第一季度, 2025年一季度 (quarter); "
                  "2025H1, 2025年上半年 (half-year); 2025, 2025年度 (year)")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9, "十": 10}


class PeriodError(ValueError):
    """A label that is not a recognised period."""

    def __init__(self, label: str) -> None:
        self.label = label
        super().__init__(f"'{label}' is not a recognised period; use e.g. {ACCEPTED_FORMS}")


@dataclass(frozen=True)
class Period:
    """One period: ``kind``, ``year`` and ``index`` (month 1–12, quarter 1–4, half 1–2, 1 for a year).

    ``label`` is the spelling it was parsed from (kept for display); equality and hashing use the
    canonical identity only, so ``2025-Q1`` and ``2025年第一季度`` are the same period.
    """

    year: int
    kind: PeriodKind
    index: int
    label: str = field(default="", compare=False, hash=False)

    @property
    def canonical(self) -> str:
        """``2025-03``, ``2025-Q1``, ``2025-H1`` or ``2025``."""
        if self.kind is PeriodKind.month:
            return f"{self.year}-{self.index:02d}"
        if self.kind is PeriodKind.quarter:
            return f"{self.year}-Q{self.index}"
        if self.kind is PeriodKind.half:
            return f"{self.year}-H{self.index}"
        return str(self.year)

    @property
    def months(self) -> int:
        return MONTHS_IN[self.kind]

    @property
    def start_month(self) -> int:
        """1-based month of the year the period starts in."""
        return (self.index - 1) * self.months + 1

    @property
    def end_month(self) -> int:
        return self.index * self.months

    @property
    def ordinal(self) -> int:
        """Position among periods of the same kind (consecutive periods differ by 1)."""
        return self.year * COUNT_IN_YEAR[self.kind] + self.index - 1

    def sort_key(self) -> tuple[int, int]:
        """(end month, −start month), counted from year 0: chronological for any mix of kinds."""
        return (self.year * 12 + self.end_month, -(self.year * 12 + self.start_month))

    def follows(self, other: Period) -> bool:
        """True when this period comes right after ``other`` (same kind, no gap)."""
        return self.kind is other.kind and self.ordinal == other.ordinal + 1

    def share_of(self, per: PeriodKind) -> Fraction:
        """This period's length as a multiple of ``per`` (a quarter is 3 months, ¼ of a year)."""
        return Fraction(self.months, MONTHS_IN[per])

    def zh(self) -> str:
        """Chinese display form: 2025年3月, 2025年第一季度, 2025年上半年, 2025年度."""
        if self.kind is PeriodKind.month:
            return f"{self.year}年{self.index}月"
        if self.kind is PeriodKind.quarter:
            return f"{self.year}年第{'一二三四'[self.index - 1]}季度"
        if self.kind is PeriodKind.half:
            return f"{self.year}年{'上下'[self.index - 1]}半年"
        return f"{self.year}年度"

    def __str__(self) -> str:
        return self.label or self.canonical


def _cn_number(text: str) -> int | None:
    """1–12 written with Chinese numerals (一 … 十二) or digits."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGITS for ch in text):
        return None
    if text == "十":
        return 10
    if len(text) == 1:
        return _CN_DIGITS[text]
    if len(text) == 2 and text[0] == "十":
        return 10 + _CN_DIGITS[text[1]]
    if len(text) == 2 and text[1] == "十":
        return _CN_DIGITS[text[0]] * 10
    if len(text) == 3 and text[1] == "十":
        return _CN_DIGITS[text[0]] * 10 + _CN_DIGITS[text[2]]
    return None


_Y = r"(?P<year>(?:19|20|21)\d{2})"
_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    (PeriodKind.year, re.compile(rf"^{_Y}(?:年(?:度|全年)?)?$")),
    (PeriodKind.quarter, re.compile(rf"^{_Y}(?:年|[-/._])?(?:q|第?(?P<cq>[一二三四1-4])季度?)(?P<q>[1-4])?$")),
    (PeriodKind.half, re.compile(rf"^{_Y}(?:年|[-/._])?(?:h(?P<h>[12])|(?P<ch>[上下])半年)$")),
    (PeriodKind.month, re.compile(rf"^{_Y}(?:[-/._]|m|年)?(?P<m>0?[1-9]|1[0-2]|[一二三四五六七八九十]{{1,3}})月?$")),
)


def _clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def try_parse_period(text: str) -> Period | None:
    """The period ``text`` spells, or None."""
    cleaned = _clean(text)
    for kind, pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        year = int(match["year"])
        groups = match.groupdict()
        if kind is PeriodKind.year:
            return Period(year, kind, 1, text.strip())
        if kind is PeriodKind.quarter:
            if groups.get("cq") is not None:
                if groups.get("q") is not None:
                    continue
                index = _cn_number(groups["cq"])
            else:
                if groups.get("q") is None:
                    continue
                index = int(groups["q"])
            if index is None or not 1 <= index <= 4:
                continue
            return Period(year, kind, index, text.strip())
        if kind is PeriodKind.half:
            index = int(groups["h"]) if groups.get("h") else (1 if groups.get("ch") == "上" else 2)
            return Period(year, kind, index, text.strip())
        raw = groups["m"]
        # A bare month needs a separator or a 年…月 spelling, except the 6-digit form 202503.
        if raw.isdigit() and not re.search(r"[-/._m年]", cleaned) and len(cleaned) != 6:
            continue
        if not raw.isdigit() and "年" not in cleaned:
            continue
        if "年" in cleaned and not cleaned.endswith("月"):
            continue
        month = _cn_number(raw)
        if month is None or not 1 <= month <= 12:
            continue
        return Period(year, kind, month, text.strip())
    return None


def parse_period(text: str) -> Period:
    """The period ``text`` spells; :class:`PeriodError` when it spells none."""
    period = try_parse_period(text)
    if period is None:
        raise PeriodError(text)
    return period


_IN_NAME = re.compile(
    r"(?:19|20|21)\d{2}(?:年(?:第?[一二三四1-4]季度|[上下]半年|\d{1,2}月|[一二三四五六七八九十]{1,3}月|度)"
    r"|[-_. ]?(?:[qQ][1-4]|[hH][12])|[-_.](?:0[1-9]|1[0-2])(?![0-9])|[-_.][1-9](?![0-9]))?"
)


def find_period_in(text: str) -> Period | None:
    """The most specific period named inside ``text`` (e.g. a file name ``县-2025-Q1-复核``), or None."""
    cleaned = unicodedata.normalize("NFKC", text)
    best: Period | None = None
    for match in _IN_NAME.finditer(cleaned):
        start, end = match.span()
        if (start > 0 and cleaned[start - 1].isdigit()) or (end < len(cleaned) and cleaned[end].isdigit()):
            continue
        period = try_parse_period(match.group(0))
        if period is not None and (best is None or period.months < best.months):
            best = period
    return best


@dataclass(frozen=True)
class Ordered:
    """Periods in chronological order, with notes on mixed kinds and gaps (for warnings)."""

    periods: list[Period]
    mixed_kinds: bool
    gaps: list[tuple[Period, Period]]  # (before, after) pairs of the same kind with periods missing between

    def notes(self) -> list[str]:
        out = []
        if self.mixed_kinds:
            kinds = ", ".join(sorted({p.kind.value for p in self.periods}))
            out.append(f"the periods mix kinds ({kinds}); they are ordered by the month each ends in, "
                       "and 'consecutive' means next in this order")
        for before, after in self.gaps:
            out.append(f"no data between {before} and {after}; the two are treated as consecutive")
        return out


def order_periods(labels: Iterable[str | Period]) -> Ordered:
    """Parse and order labels; raises :class:`PeriodError` for the first unrecognised one.

    Use :func:`unrecognised` first to report every bad label at once.
    """
    periods = [p if isinstance(p, Period) else parse_period(p) for p in labels]
    periods.sort(key=Period.sort_key)
    kinds = {p.kind for p in periods}
    gaps = [(a, b) for a, b in pairwise(periods)
            if a.kind is b.kind and a != b and not b.follows(a)]
    return Ordered(periods, len(kinds) > 1, gaps if len(kinds) == 1 else [])


def unrecognised(labels: Sequence[str]) -> list[str]:
    """The labels that are not periods, in the given order."""
    return [label for label in labels if try_parse_period(label) is None]


def sort_labels(labels: Iterable[str]) -> list[str]:
    """Labels in chronological order; unrecognised labels last, in text order (never raises)."""
    known: list[tuple[tuple[int, int], str]] = []
    unknown: list[str] = []
    for label in labels:
        period = try_parse_period(label)
        if period is None:
            unknown.append(label)
        else:
            known.append((period.sort_key(), label))
    return [label for _, label in sorted(known)] + sorted(unknown)
