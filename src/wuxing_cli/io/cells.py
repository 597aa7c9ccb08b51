"""Cell parsers for assessment data: vectorised polars expressions and their scalar twins."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING

from wuxing_cli.models.contract import STRIP_CHARS
from wuxing_cli.models.criteria import FieldSpec, FieldType

if TYPE_CHECKING:
    import polars as pl

# polars is imported inside the functions that build expressions: the scalar parsers serve
# `wuxing validate` on criteria files, which must start without loading polars.

__all__ = [
    "BOOLEAN_FALSE",
    "BOOLEAN_TRUE",
    "STRIP_CHARS",
    "bounded_expr",
    "compute_nfkc_unstable_ranges",
    "describe_reason",
    "needs_normalizing_pattern",
    "normalize_expr",
    "normalize_text",
    "parse_cell",
    "parse_expr",
    "plain_cast_expr",
    "value_expr",
]

# --------------------------------------------------------------------------------------------
# Normalisation: NFKC, then trim, then "" -> missing.
# --------------------------------------------------------------------------------------------

# Code points (hex, "A-B" for ranges) that NFKC may change, in isolation or next to their
# neighbours: characters with a compatibility/canonical mapping (per Python's unicodedata and
# polars' own normaliser), combining marks, and the second halves of canonical compositions.
# A string holding none of them is already NFKC. Regenerate with compute_nfkc_unstable_ranges().
_NFKC_UNSTABLE = """
A0 A8 AA AF B2-B5 B8-BA BC-BE 132-133 13F-140 149 17F 1C4-1CC 1F1-1F3 2B0-2B8 2D8-2DD 2E0-2E4
300-34E 350-36F 374 37A 37E 384-385 387 3D0-3D6 3F0-3F2 3F4-3F5 3F9 483-487 587 591-5BD 5BF 5C1-5C2
5C4-5C5 5C7 610-61A 64B-65F 670 675-678 6D6-6DC 6DF-6E4 6E7-6E8 6EA-6ED 711 730-74A 7EB-7F3 7FD
816-819 81B-823 825-827 829-82D 859-85B 898-89F 8CA-8E1 8E3-8FF 93C 94D 951-954 958-95F 9BC 9BE 9CD
9D7 9DC-9DD 9DF 9FE A33 A36 A3C A4D A59-A5B A5E ABC ACD B3C B3E B4D B56-B57 B5C-B5D BBE BCD BD7 C3C
C4D C55-C56 CBC CC2 CCD CD5-CD6 D3B-D3C D3E D4D D57 DCA DCF DDF E33 E38-E3A E48-E4B EB3 EB8-EBA
EC8-ECB EDC-EDD F0C F18-F19 F35 F37 F39 F43 F4D F52 F57 F5C F69 F71-F7D F80-F84 F86-F87 F93 F9D FA2
FA7 FAC FB5 FB7 FB9 FC6 102E 1037 1039-103A 108D 10FC 1161-1175 11A8-11C2 135D-135F 1714-1715 1734
17D2 17DD 18A9 1939-193B 1A17-1A18 1A60 1A75-1A7C 1A7F 1AB0-1ABD 1ABF-1ACE 1B34-1B35 1B44 1B6B-1B73
1BAA-1BAB 1BE6 1BF2-1BF3 1C37 1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4 1CF8-1CF9 1D2C-1D2E 1D30-1D3A
1D3C-1D4D 1D4F-1D6A 1D78 1D9B-1DFF 1E9A-1E9B 1F71 1F73 1F75 1F77 1F79 1F7B 1F7D 1FBB 1FBD-1FC1 1FC9
1FCB 1FCD-1FCF 1FD3 1FDB 1FDD-1FDF 1FE3 1FEB 1FED-1FEF 1FF9 1FFB 1FFD-1FFE 2000-200A 2011 2017
2024-2026 202F 2033-2034 2036-2037 203C 203E 2047-2049 2057 205F 2070-2071 2074-208E 2090-209C 20A8
20D0-20DC 20E1 20E5-20F0 2100-2103 2105-2107 2109-2113 2115-2116 2119-211D 2120-2122 2124 2126 2128
212A-212D 212F-2131 2133-2139 213B-2140 2145-2149 2150-217F 2189 222C-222D 222F-2230 2329-232A
2460-24EA 2A0C 2A74-2A76 2ADC 2C7C-2C7D 2CEF-2CF1 2D6F 2D7F 2DE0-2DFF 2E9F 2EF3 2F00-2FD5 3000
302A-302F 3036 3038-303A 3099-309C 309F 30FF 3131-318E 3192-319F 3200-321E 3220-3247 3250-327E
3280-33FF A66F A674-A67D A69C-A69F A6F0-A6F1 A770 A7F1-A7F4 A7F8-A7F9 A806 A82C A8C4 A8E0-A8F1
A92B-A92D A953 A9B3 A9C0 AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAF6 AB5C-AB5F AB69 ABED F900-FA0D
FA10 FA12 FA15-FA1E FA20 FA22 FA25-FA26 FA2A-FA6D FA70-FAD9 FB00-FB06 FB13-FB17 FB1D-FB36 FB38-FB3C
FB3E FB40-FB41 FB43-FB44 FB46-FBB1 FBD3-FD3D FD50-FD8F FD92-FDC7 FDF0-FDFC FE10-FE19 FE20-FE44
FE47-FE52 FE54-FE66 FE68-FE6B FE70-FE72 FE74 FE76-FEFC FF01-FFBE FFC2-FFC7 FFCA-FFCF FFD2-FFD7
FFDA-FFDC FFE0-FFE6 FFE8-FFEE 101FD 102E0 10376-1037A 10781-10785 10787-107B0 107B2-107BA 10A0D
10A0F 10A38-10A3A 10A3F 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10F46-10F50 10F82-10F85 11046 11070
1107F 110B9-110BA 11100-11102 11127 11133-11134 11173 111C0 111CA 11235-11236 112E9-112EA
1133B-1133C 1133E 1134D 11357 11366-1136C 11370-11374 11442 11446 1145E 114B0 114BA 114BD
114C2-114C3 115AF 115BF-115C0 1163F 116B6-116B7 1172B 11839-1183A 11930 1193D-1193E 11943 119E0
11A34 11A47 11A99 11C3F 11D42 11D44-11D45 11D97 16AF0-16AF4 16B30-16B36 16FF0-16FF1 1BC9E
1CCD6-1CCF9 1D15E-1D169 1D16D-1D172 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D1BB-1D1C0 1D242-1D244
1D400-1D454 1D456-1D49C 1D49E-1D49F 1D4A2 1D4A5-1D4A6 1D4A9-1D4AC 1D4AE-1D4B9 1D4BB 1D4BD-1D4C3
1D4C5-1D505 1D507-1D50A 1D50D-1D514 1D516-1D51C 1D51E-1D539 1D53B-1D53E 1D540-1D544 1D546
1D54A-1D550 1D552-1D6A5 1D6A8-1D7CB 1D7CE-1D7FF 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024
1E026-1E02A 1E030-1E06D 1E130-1E136 1E2AE 1E2EC-1E2EF 1E8D0-1E8D6 1E944-1E94A 1EE00-1EE03
1EE05-1EE1F 1EE21-1EE22 1EE24 1EE27 1EE29-1EE32 1EE34-1EE37 1EE39 1EE3B 1EE42 1EE47 1EE49 1EE4B
1EE4D-1EE4F 1EE51-1EE52 1EE54 1EE57 1EE59 1EE5B 1EE5D 1EE5F 1EE61-1EE62 1EE64 1EE67-1EE6A
1EE6C-1EE72 1EE74-1EE77 1EE79-1EE7C 1EE7E 1EE80-1EE89 1EE8B-1EE9B 1EEA1-1EEA3 1EEA5-1EEA9
1EEAB-1EEBB 1F100-1F10A 1F110-1F12E 1F130-1F14F 1F16A-1F16C 1F190 1F200-1F202 1F210-1F23B
1F240-1F248 1F250-1F251 1FBF0-1FBF9 2F800-2FA1D
"""


def _parse_ranges(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for item in text.split():
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return out


def compute_nfkc_unstable_ranges() -> list[tuple[int, int]]:
    """Recompute the code points NFKC may change (slow; used by the tests and to regenerate)."""
    import polars as pl

    cps = [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]
    series = pl.Series([chr(c) for c in cps])
    changed = {ord(c) for c in series.filter(series.str.normalize("NFKC") != series)}
    for cp in cps:
        ch = chr(cp)
        if unicodedata.normalize("NFKC", ch) != ch or unicodedata.combining(ch):
            changed.add(cp)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                changed.add(int(parts[1], 16))
    changed.update(range(0x1161, 0x1176))  # Hangul medial vowels and final consonants compose
    changed.update(range(0x11A8, 0x11C3))
    ranges: list[list[int]] = []
    for cp in sorted(changed):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return [(a, b) for a, b in ranges]


def _rust_class(ranges: list[tuple[int, int]]) -> str:
    parts = [f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def needs_normalizing_pattern(separator: str = ",") -> str:
    """A (Rust) regex matching a raw CSV line that holds a cell normalisation would change.

    It finds a character NFKC may change anywhere, trimmable space at the start or end of a
    cell (next to the line's ends, a separator or a quote), or ``""`` (a quoted empty cell, which
    must become null). A line it does not match needs no work; a match may be a false alarm
    (a space after a comma inside a quoted cell).
    """
    space = _rust_class([(ord(c), ord(c)) for c in STRIP_CHARS])
    sep = re.escape(separator)
    unstable = _rust_class(_parse_ranges(_NFKC_UNSTABLE))
    return f'{unstable}|(?:^|[{sep}"]){space}|{space}(?:[{sep}"]|$)|""'


def normalize_expr(col: pl.Expr) -> pl.Expr:
    """NFKC-normalise and trim a String column; empty cells become null."""
    import polars as pl

    text = col.str.normalize("NFKC").str.strip_chars(STRIP_CHARS)
    return pl.when(text.str.len_bytes() > 0).then(text)  # keeps the column's name


def normalize_text(text: str) -> str | None:
    """Scalar twin of :func:`normalize_expr`: NFKC, trim, and ``None`` for an empty result."""
    out = unicodedata.normalize("NFKC", text).strip(STRIP_CHARS)
    return out or None


# --------------------------------------------------------------------------------------------
# Spellings
# --------------------------------------------------------------------------------------------

#: Accepted spellings of yes / no (compared after NFKC, trimming and lower-casing).
BOOLEAN_TRUE: frozenset[str] = frozenset(
    {"是", "有", "已完成", "完成", "达标", "√", "✓", "✔", "yes", "y", "true", "1", "1.0"}
)
BOOLEAN_FALSE: frozenset[str] = frozenset(
    {"否", "无", "未完成", "不达标", "×", "✗", "✘", "no", "n", "false", "0", "0.0"}
)
_BOOLEAN_MAP: dict[str, bool] = {**dict.fromkeys(BOOLEAN_TRUE, True), **dict.fromkeys(BOOLEAN_FALSE, False)}


def _case_variants(word: str) -> list[str]:
    out = [""]
    for ch in word:
        options = {ch, ch.upper()} if ch.isascii() else {ch}
        out = [prefix + o for prefix in out for o in sorted(options)]
    return out


# Every upper/lower-case spelling of the tokens: a lookup without lower-casing the column first.
# (No non-ASCII letter lower-cases to an ASCII letter of these words, so this equals .lower().)
_BOOLEAN_LOOKUP: dict[str, bool] = {
    variant: flag for word, flag in _BOOLEAN_MAP.items() for variant in _case_variants(word)
}

_FLOAT_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT_RE = re.compile(r"[+-]?[0-9]+")
_THOUSANDS = r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?"
_THOUSANDS_RE = re.compile(_THOUSANDS)
_INT64_LIMIT = 2.0**63

NOT_A_NUMBER = "not a number"
NOT_WHOLE = "not a whole number"
NOT_PERCENT = "not a percentage (e.g. 85 or 85%)"
NOT_BOOLEAN = "not a yes/no value (是/否, 有/无, √/×, …)"
EMPTY = "empty cell"


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --------------------------------------------------------------------------------------------
# Vectorised parsers
# --------------------------------------------------------------------------------------------


def _finite(value: pl.Expr) -> pl.Expr:
    import polars as pl

    return pl.when(value.is_finite()).then(value).otherwise(pl.lit(None, pl.Float64))


def _number_expr(text: pl.Expr, thousands: bool) -> pl.Expr:
    """Float64 or null; accepts thousands separators, rejects NaN and infinities."""
    import polars as pl

    if thousands:
        text = (
            pl.when(text.str.contains(f"^{_THOUSANDS}$"))
            .then(text.str.replace_all(",", "", literal=True))
            .otherwise(text)
        )
    return _finite(text.cast(pl.Float64, strict=False))


def _percent_text(text: pl.Expr) -> pl.Expr:

    return text.str.strip_suffix("%").str.strip_chars_end(" ")


def _integer_expr(text: pl.Expr, thousands: bool) -> pl.Expr:
    import polars as pl

    exact = text.cast(pl.Int64, strict=False)
    value = _number_expr(text, thousands)
    whole = (value == value.floor()) & (value.abs() < _INT64_LIMIT)
    return pl.coalesce(exact, pl.when(whole).then(value.cast(pl.Int64)).otherwise(pl.lit(None, pl.Int64)))


def plain_cast_expr(col: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """The cheap first try for a numeric field: a plain cast (Int64 or Float64, null on failure).

    Where it succeeds on every non-empty cell of a column, ``bounded_expr`` of it equals
    ``value_expr`` of the column; otherwise use ``value_expr``.
    """
    import polars as pl

    if spec.type is FieldType.integer:
        return col.cast(pl.Int64, strict=False)
    if spec.type is FieldType.percent:
        col = col.str.strip_suffix("%")
    return col.cast(pl.Float64, strict=False)


def bounded_expr(value: pl.Expr, spec: FieldSpec) -> pl.Expr:
    """A numeric value with NaN/infinities (for floats) and out-of-bounds values made null."""
    import polars as pl

    if spec.type is not FieldType.integer:
        value = _finite(value)
    lower, upper = spec.lower, spec.upper
    inside: pl.Expr | None = None
    if lower is not None:
        inside = value >= lower
    if upper is not None:
        inside = value <= upper if inside is None else inside & (value <= upper)
    if inside is None:
        return value
    dtype = pl.Int64 if spec.type is FieldType.integer else pl.Float64
    return pl.when(inside).then(value).otherwise(pl.lit(None, dtype))


def _category_map(spec: FieldSpec) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in spec.values or []:
        key = normalize_text(value)
        if key is not None:
            mapping.setdefault(key, value)
    return mapping


def value_expr(col: pl.Expr, spec: FieldSpec, *, thousands: bool = True) -> pl.Expr:
    """The typed value of a normalised String column read as ``spec``; null when empty or bad.

    ``thousands=False`` skips looking for thousands separators (a speed-up for a column known to
    hold no comma: the result is the same).
    """
    import polars as pl

    kind = spec.type
    if kind is FieldType.number:
        return bounded_expr(_number_expr(col, thousands), spec)
    if kind is FieldType.percent:
        return bounded_expr(_number_expr(_percent_text(col), thousands), spec)
    if kind is FieldType.integer:
        return bounded_expr(_integer_expr(col, thousands), spec)
    if kind is FieldType.boolean:
        return col.replace_strict(_BOOLEAN_LOOKUP, default=None, return_dtype=pl.Boolean)
    if kind is FieldType.category and spec.values is not None:
        return col.replace_strict(_category_map(spec), default=None, return_dtype=pl.String)
    return col.cast(pl.String)  # text, or a category with no closed list


def parse_expr(col: pl.Expr, spec: FieldSpec, *, thousands: bool = True) -> tuple[pl.Expr, pl.Expr]:
    """Typed value and "bad" flag for a normalised String column read as ``spec``.

    The value is null where the cell is empty or bad; "bad" is true where the cell is not
    empty but cannot be read, breaks the bounds ``spec.lower``/``spec.upper``, or is not one of
    ``spec.values`` -- that is, exactly where the cell is set and the value is null. (Polars
    evaluates a repeated sub-expression once only in lazy mode: select these through
    ``frame.lazy()``, or materialise the value first and derive "bad" from it.)
    """
    value = value_expr(col, spec, thousands=thousands)
    return value, col.is_not_null() & value.is_null()


# --------------------------------------------------------------------------------------------
# Scalar parsers
# --------------------------------------------------------------------------------------------


def _parse_number(text: str, reason: str) -> float:
    plain = text.replace(",", "") if _THOUSANDS_RE.fullmatch(text) else text
    if not _FLOAT_RE.fullmatch(plain):
        raise ValueError(reason)
    value = float(plain)
    if not math.isfinite(value):
        raise ValueError(reason)
    return value


def _parse_integer(text: str) -> int:
    if _INT_RE.fullmatch(text):
        exact = int(text)
        if -(2**63) <= exact < 2**63:
            return exact
    value = _parse_number(text, NOT_WHOLE)
    if not value.is_integer() or abs(value) >= _INT64_LIMIT:
        raise ValueError(NOT_WHOLE)
    return int(value)


def _percent_scalar(text: str) -> str:
    return text[:-1].rstrip(" ") if text.endswith("%") else text


def _check_bounds(value: float, spec: FieldSpec) -> None:
    lower, upper = spec.lower, spec.upper
    if lower is not None and value < lower:
        raise ValueError(f"below the minimum {_fmt(lower)}")
    if upper is not None and value > upper:
        raise ValueError(f"above the maximum {_fmt(upper)}")


def parse_cell(text: str, spec: FieldSpec) -> float | int | bool | str:
    """Read one cell (normalised here) as ``spec``; raises ``ValueError(reason)`` when it is bad.

    An empty cell raises ``ValueError("empty cell")``: the caller decides what a blank means.
    """
    cell = normalize_text(text)
    if cell is None:
        raise ValueError(EMPTY)
    kind = spec.type
    if kind is FieldType.number:
        number = _parse_number(cell, NOT_A_NUMBER)
        _check_bounds(number, spec)
        return number
    if kind is FieldType.percent:
        number = _parse_number(_percent_scalar(cell), NOT_PERCENT)
        _check_bounds(number, spec)
        return number
    if kind is FieldType.integer:
        whole = _parse_integer(cell)
        _check_bounds(whole, spec)
        return whole
    if kind is FieldType.boolean:
        flag = _BOOLEAN_MAP.get(cell.lower())
        if flag is None:
            raise ValueError(NOT_BOOLEAN)
        return flag
    if kind is FieldType.category and spec.values is not None:
        found = _category_map(spec).get(cell)
        if found is None:
            raise ValueError("not one of " + ", ".join(spec.values))
        return found
    return cell


def describe_reason(text: str, spec: FieldSpec) -> str:
    """Why ``text`` is not a valid ``spec`` value (``""`` when it is valid)."""
    try:
        parse_cell(text, spec)
    except ValueError as exc:
        return str(exc)
    return ""
