"""Cell parsers (wuxing_cli.io.cells): every field type, vectorised and scalar, and that they agree."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wuxing_cli.io.cells import (
    _NFKC_UNSTABLE,
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    _parse_ranges,
    bounded_expr,
    compute_nfkc_unstable_ranges,
    describe_reason,
    needs_normalizing_pattern,
    normalize_expr,
    normalize_text,
    parse_cell,
    parse_expr,
    plain_cast_expr,
    value_expr,
)
from wuxing_cli.models.criteria import FieldSpec

NUMBER = FieldSpec(type="number")
INTEGER = FieldSpec(type="integer")
PERCENT = FieldSpec(type="percent")
BOOLEAN = FieldSpec(type="boolean")
GRADE = FieldSpec(type="category", values=["好", "较好", "一般", "差"])
TEXT = FieldSpec(type="text")
ALL_SPECS = [
    NUMBER,
    INTEGER,
    PERCENT,
    BOOLEAN,
    GRADE,
    TEXT,
    FieldSpec(type="number", min=0, max=50),
    FieldSpec(type="integer", min=1),
    FieldSpec(type="percent", min=60),
    FieldSpec(type="category"),
]


def vec(values: list[str | None], spec: FieldSpec) -> list[tuple[Any, bool]]:
    """(value, bad) per cell, through the vectorised parser (cells normalised first, as read_raw does)."""
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String}).select(normalize_expr(pl.col("s")))
    value, bad = parse_expr(pl.col("s"), spec)
    out = frame.lazy().select(value.alias("v"), bad.alias("b")).collect()
    return list(zip(out.get_column("v").to_list(), out.get_column("b").to_list(), strict=True))


def one(text: str | None, spec: FieldSpec) -> tuple[Any, bool]:
    return vec([text], spec)[0]


# ---- normalisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  12 ", "12"),
        ("１２", "12"),
        ("\u3000好\u3000", "好"),
        ("８５％", "85%"),
        ("\ufeffA01", "A01"),
        ("\xa0 \t", None),
        ("", None),
        ("Ａ０１", "A01"),
        ("a\nb", "a\nb"),  # inner line breaks stay
    ],
)
def test_normalize_expr_and_text_agree(raw: str, expected: str | None) -> None:
    assert normalize_text(raw) == expected
    got = pl.DataFrame({"s": [raw]}).select(normalize_expr(pl.col("s"))).item()
    assert got == expected


def test_unstable_table_covers_every_character_nfkc_changes() -> None:
    """The embedded table must cover Python's and polars' NFKC (regenerate it when this fails)."""
    embedded = set()
    for lo, hi in _parse_ranges(_NFKC_UNSTABLE):
        embedded.update(range(lo, hi + 1))
    computed = set()
    for lo, hi in compute_nfkc_unstable_ranges():
        computed.update(range(lo, hi + 1))
    assert computed <= embedded


@pytest.mark.parametrize(
    ("line", "needs"),
    [
        ("A01,东村,12,是", False),
        ("A01,东村,１２,是", True),
        ("A01, 东村,12", True),
        ("A01,东村 ,12", True),
        (" A01,东村", True),
        ('A01,"东村 ",12', True),
        ('A01,"",12', True),
        ("A01,东 村,12", False),
        ("A01,东村,12,是\u3000", True),
        ("A01,Ⅱ组,12", True),
    ],
)
def test_needs_normalizing_pattern(line: str, needs: bool) -> None:
    found = pl.DataFrame({"l": [line]}).select(pl.col("l").str.contains(needs_normalizing_pattern())).item()
    assert found is needs


# ---- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12.0),
        ("+5", 5.0),
        ("-3.5", -3.5),
        ("1,234.5", 1234.5),
        ("12,345,678", 12345678.0),
        ("-1,234", -1234.0),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("1.5E+06", 1500000.0),
        ("１，２３４．５", 1234.5),  # full-width digits, comma and point
    ],
)
def test_number_accepts(text: str, expected: float) -> None:
    assert one(text, NUMBER) == (expected, False)
    assert parse_cell(text, NUMBER) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e400",
        "1,23",
        "1,2345",
        "12,34.5",
        "1 234",
        "1_000",
        "12元",
        "--1",
        "0x10",
    ],
)
def test_number_rejects(text: str) -> None:
    assert one(text, NUMBER) == (None, True)
    with pytest.raises(ValueError, match="not a number"):
        parse_cell(text, NUMBER)
    assert describe_reason(text, NUMBER) == "not a number"


def test_number_bounds() -> None:
    spec = FieldSpec(type="number", min=0, max=50)
    assert vec(["0", "50", "-0.01", "50.5", None], spec) == [
        (0.0, False),
        (50.0, False),
        (None, True),
        (None, True),
        (None, False),
    ]
    assert describe_reason("-0.01", spec) == "below the minimum 0"
    assert describe_reason("50.5", spec) == "above the maximum 50"
    assert describe_reason("1", FieldSpec(type="number", min=1.5)) == "below the minimum 1.5"


# ---- integers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("12.0", 12),
        ("+7", 7),
        ("-0", 0),
        ("1,234", 1234),
        ("1e3", 1000),
        ("１２", 12),
        ("00012", 12),
    ],
)
def test_integer_accepts(text: str, expected: int) -> None:
    value, bad = one(text, INTEGER)
    assert (value, bad) == (expected, False)
    assert isinstance(value, int)
    assert parse_cell(text, INTEGER) == expected


@pytest.mark.parametrize("text", ["12.5", "abc", "nan", "1e400", "9223372036854775808", "1,23", "十二"])
def test_integer_rejects(text: str) -> None:
    assert one(text, INTEGER) == (None, True)
    assert describe_reason(text, INTEGER) == "not a whole number"


def test_integer_bounds_and_dtype() -> None:
    spec = FieldSpec(type="integer", min=1)
    frame = pl.DataFrame({"s": ["0", "1", None]})
    value, bad = parse_expr(pl.col("s"), spec)
    out = frame.select(value.alias("v"), bad.alias("b"))
    assert out.schema["v"] == pl.Int64
    assert out.rows() == [(None, True), (1, False), (None, False)]
    assert describe_reason("0", spec) == "below the minimum 1"


# ---- percentages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("85%", 85.0),
        ("85 %", 85.0),
        ("85", 85.0),
        ("８５％", 85.0),
        ("0", 0.0),
        ("100%", 100.0),
        ("99.5%", 99.5),
    ],
)
def test_percent_accepts(text: str, expected: float) -> None:
    assert one(text, PERCENT) == (expected, False)
    assert parse_cell(text, PERCENT) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("101", "above the maximum 100"),
        ("120%", "above the maximum 100"),
        ("-1%", "below the minimum 0"),
        ("%", "not a percentage (e.g. 85 or 85%)"),
        ("85%%", "not a percentage (e.g. 85 or 85%)"),
        ("nan%", "not a percentage (e.g. 85 or 85%)"),
        ("八十五", "not a percentage (e.g. 85 or 85%)"),
    ],
)
def test_percent_rejects(text: str, reason: str) -> None:
    assert one(text, PERCENT) == (None, True)
    assert describe_reason(text, PERCENT) == reason


# ---- booleans -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", sorted(BOOLEAN_TRUE | {"YES", "Yes", "TRUE", "True", "Y"}))
def test_boolean_true_spellings(text: str) -> None:
    assert one(text, BOOLEAN) == (True, False)
    assert parse_cell(text, BOOLEAN) is True


@pytest.mark.parametrize("text", sorted(BOOLEAN_FALSE | {"NO", "No", "FALSE", "False", "N"}))
def test_boolean_false_spellings(text: str) -> None:
    assert one(text, BOOLEAN) == (False, False)
    assert parse_cell(text, BOOLEAN) is False


def test_boolean_spec_spellings_are_all_there() -> None:
    for word in ["是", "有", "已完成", "达标", "√", "✓", "yes", "y", "true", "1", "1.0"]:
        assert word in BOOLEAN_TRUE
    for word in ["否", "无", "未完成", "不达标", "×", "✗", "no", "n", "false", "0", "0.0"]:
        assert word in BOOLEAN_FALSE


@pytest.mark.parametrize("text", ["maybe", "2", "是的吧", "ok", "x", "yess"])
def test_boolean_rejects(text: str) -> None:
    assert one(text, BOOLEAN) == (None, True)
    assert describe_reason(text, BOOLEAN) == "not a yes/no value (是/否, 有/无, √/×, …)"


# ---- categories and text --------------------------------------------------------------------------


def test_category_values() -> None:
    assert vec(["好", " 较好 ", "极好", None], GRADE) == [
        ("好", False),
        ("较好", False),
        (None, True),
        (None, False),
    ]
    assert describe_reason("极好", GRADE) == "not one of 好, 较好, 一般, 差"


def test_category_compares_after_normalising_both_sides() -> None:
    spec = FieldSpec(type="category", values=["Ａ级", "B级"])
    # both spellings of A级 read as the criteria's own spelling
    assert vec(["A级", "Ａ级", "Ｂ级", "C级"], spec) == [
        ("Ａ级", False),
        ("Ａ级", False),
        ("B级", False),
        (None, True),
    ]
    assert parse_cell("A级", spec) == "Ａ级"


def test_category_without_values_and_text_accept_anything() -> None:
    for spec in (TEXT, FieldSpec(type="category")):
        assert vec(["anything", "１２", None], spec) == [("anything", False), ("12", False), (None, False)]


def test_parse_cell_empty_raises() -> None:
    for spec in ALL_SPECS:
        with pytest.raises(ValueError, match="empty cell"):
            parse_cell("  ", spec)


def test_plain_cast_then_bounded_equals_value_expr_when_the_cast_reads_everything() -> None:
    cells = ["12", "0", "-3", "100", "55.5", None]
    for spec in [NUMBER, INTEGER, PERCENT, FieldSpec(type="integer", min=0, max=50)]:
        frame = pl.DataFrame({"s": cells})
        fast = frame.select(bounded_expr(plain_cast_expr(pl.col("s"), spec), spec)).to_series().to_list()
        full = frame.select(value_expr(pl.col("s"), spec)).to_series().to_list()
        plain = frame.select(plain_cast_expr(pl.col("s"), spec)).to_series()
        if plain.null_count() == 1:  # the cast read every non-empty cell
            assert fast == full


# ---- vectorised and scalar agree --------------------------------------------------------------------


def _agree(texts: list[str], spec: FieldSpec) -> None:
    normalised = [normalize_text(t) for t in texts]
    cells = [t for t in normalised if t is not None]
    if not cells:
        return
    frame = pl.DataFrame({"s": cells}, schema={"s": pl.String})
    value, bad = parse_expr(pl.col("s"), spec)
    out = frame.lazy().select(value.alias("v"), bad.alias("b")).collect()
    for text, got, is_bad in zip(
        cells, out.get_column("v").to_list(), out.get_column("b").to_list(), strict=True
    ):
        try:
            expected = parse_cell(text, spec)
        except ValueError:
            assert is_bad, (text, spec.type, got)
            assert got is None
            continue
        assert not is_bad, (text, spec.type, expected)
        if isinstance(expected, float):
            assert isinstance(got, float)
            assert got == expected or (math.isnan(got) and math.isnan(expected)), (text, got, expected)
        else:
            assert got == expected, (text, got, expected)
            assert type(got) is type(expected), (text, got, expected)


numeric_looking = st.from_regex(
    r"\A[ +\-]{0,2}[0-9０-９]{0,5}([,，][0-9]{1,4}){0,3}([.．][0-9]{0,4})?([eE][+\-]?[0-9]{1,3})?[ ]?[%％]?\Z"
) | st.sampled_from(
    [
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "1e400",
        "-1e-400",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "9007199254740993",
        "1.0",
        "0.0",
        "+.5",
        "5.",
        ".",
        "+",
        "1e",
        "e5",
        "12.50",
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(numeric_looking, min_size=1, max_size=20))
def test_vectorised_and_scalar_agree_on_numeric_looking_text(texts: list[str]) -> None:
    for spec in ALL_SPECS:
        _agree(texts, spec)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_vectorised_and_scalar_agree_on_random_unicode(texts: list[str]) -> None:
    for spec in ALL_SPECS:
        _agree(texts, spec)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(sorted(BOOLEAN_TRUE | BOOLEAN_FALSE)).map(lambda w: w.upper()), min_size=1))
def test_boolean_agrees_in_any_case(texts: list[str]) -> None:
    _agree(texts, BOOLEAN)


def test_scalar_normalises_like_the_reader() -> None:
    assert parse_cell("\u3000１２\u3000", INTEGER) == 12
    assert unicodedata.normalize("NFKC", "８５％") == "85%"
    assert parse_cell("８５％", PERCENT) == 85.0
