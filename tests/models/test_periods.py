"""Period labels: every accepted spelling, chronological order, mixed kinds, gaps, file names."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from wuxing_cli.models.periods import (
    Period,
    PeriodError,
    PeriodKind,
    find_period_in,
    order_periods,
    parse_period,
    sort_labels,
    try_parse_period,
    unrecognised,
)


@pytest.mark.parametrize("label, canonical", [
    ("2025-01", "2025-01"), ("2025-1", "2025-01"), ("2025/12", "2025-12"), ("2025.03", "2025-03"),
    ("202503", "2025-03"), ("2025M03", "2025-03"), ("2025-10", "2025-10"),
    ("2025年3月", "2025-03"), ("2025年03月", "2025-03"), ("2025年三月", "2025-03"), ("2025年十月", "2025-10"),
    ("2025年十二月", "2025-12"), ("２０２５年３月", "2025-03"),
    ("2025-Q1", "2025-Q1"), ("2025Q4", "2025-Q4"), ("2025 q2", "2025-Q2"), ("2025/Q3", "2025-Q3"),
    ("2025年第一季度", "2025-Q1"), ("2025年一季度", "2025-Q1"), ("2025年第1季度", "2025-Q1"),
    ("2025年4季度", "2025-Q4"), ("2025年Q3", "2025-Q3"), ("２０２５－Ｑ２", "2025-Q2"),
    ("2025H1", "2025-H1"), ("2025-H2", "2025-H2"), ("2025年上半年", "2025-H1"), ("2025年下半年", "2025-H2"),
    ("2025", "2025"), ("2025年", "2025"), ("2025年度", "2025"), ("2025年全年", "2025"),
])
def test_every_listed_form_parses(label: str, canonical: str) -> None:
    period = parse_period(label)
    assert period.canonical == canonical
    assert str(period) == label.strip()  # the spelling is kept for display


@pytest.mark.parametrize("label", ["2025-13", "2025-Q5", "2025年第五季度", "2025年十三月", "20253", "2025年3",
                                   "Q1", "一季度", "abc", "", "2025-00", "1800-Q1"])
def test_unrecognised_labels_are_errors(label: str) -> None:
    assert try_parse_period(label) is None
    with pytest.raises(PeriodError) as info:
        parse_period(label)
    assert "2025年第一季度" in str(info.value)  # the message lists the accepted forms
    assert unrecognised(["2025-Q1", label]) == [label]


def test_spellings_of_one_period_are_equal() -> None:
    assert parse_period("2025-Q1") == parse_period("2025年第一季度") == parse_period("2025年一季度")
    assert len({parse_period("2025-03"), parse_period("2025年3月"), parse_period("202503")}) == 1


@pytest.mark.parametrize("labels", [
    [f"2025-{m}" for m in range(1, 13)],
    [f"2025年{m}月" for m in range(1, 13)],
    ["2025年一季度", "2025年第二季度", "2025年3季度", "2025-Q4", "2026年第一季度"],
    ["2024H2", "2025年上半年", "2025-H2"],
    ["2023", "2024年度", "2025"],
])
def test_order_is_chronological_not_textual(labels: list[str]) -> None:
    shuffled = labels[:]
    random.Random(7).shuffle(shuffled)
    ordered = order_periods(shuffled)
    assert [str(p) for p in ordered.periods] == labels
    assert not ordered.mixed_kinds and ordered.gaps == []
    assert sort_labels(shuffled) == labels


def test_mixed_kinds_order_by_end_then_shorter_first_and_are_reported() -> None:
    ordered = order_periods(["2025", "2025H2", "2025-Q4", "2025-12", "2025-Q2", "2025H1", "2025-06", "2025-01"])
    assert [p.canonical for p in ordered.periods] == [
        "2025-01", "2025-06", "2025-Q2", "2025-H1", "2025-12", "2025-Q4", "2025-H2", "2025"]
    assert ordered.mixed_kinds
    assert "mix kinds" in ordered.notes()[0]


def test_gaps_are_reported() -> None:
    ordered = order_periods(["2024-Q1", "2024-Q2", "2024-Q4", "2025-Q1"])
    assert [(str(a), str(b)) for a, b in ordered.gaps] == [("2024-Q2", "2024-Q4")]
    assert ordered.notes() == ["no data between 2024-Q2 and 2024-Q4; the two are treated as consecutive"]
    assert parse_period("2025-Q1").follows(parse_period("2024-Q4"))
    assert parse_period("2025-01").follows(parse_period("2024-12"))


def test_sort_labels_puts_unknown_labels_last() -> None:
    assert sort_labels(["第二期", "2025-02", "第一期", "2025-01"]) == ["2025-01", "2025-02", "第一期", "第二期"]


@pytest.mark.parametrize("name, canonical", [
    ("county-2024-Q1", "2024-Q1"), ("县-2025年第二季度-复核", "2025-Q2"), ("data_2025_03", "2025-03"),
    ("2025年3月自评", "2025-03"), ("c-2024H2", "2024-H2"), ("2024年度汇总", "2024"), ("report-20240315", None),
    ("自评表", None),
])
def test_period_in_a_file_name(name: str, canonical: str | None) -> None:
    found = find_period_in(name)
    assert (found.canonical if found else None) == canonical


def test_lengths_and_shares() -> None:
    quarter = parse_period("2025-Q3")
    assert (quarter.start_month, quarter.end_month, quarter.months) == (7, 9, 3)
    assert quarter.share_of(PeriodKind.month) == 3
    assert quarter.share_of(PeriodKind.year) == Fraction(1, 4)
    assert parse_period("2025-03").share_of(PeriodKind.quarter) == Fraction(1, 3)
    assert Period(2025, PeriodKind.quarter, 1).zh() == "2025年第一季度"
    assert parse_period("2025H2").zh() == "2025年下半年"
