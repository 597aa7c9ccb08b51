"""Generated values as text cells, spelled as people type them: 85 or 85%, 1,234.5, full-width ８５,
是/否 or 有/无, a stray space, a blank cell now and then."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import polars as pl

from ...models.criteria import FieldSpec, FieldType
from .streams import Bools, Ints, coin
from .values import Values

_PERCENT_SIGN_RATE = 0.3  # percent cells written "85%" rather than "85"
_THOUSANDS_RATE = 0.5  # numbers ≥ 1000 written "1,234"
_FULLWIDTH_RATE = 0.003  # numeric cells typed with full-width digits "８５"
_SPACE_RATE = 0.003  # category cells with a stray space
_BLANK_DEFAULT_RATE = 0.35  # cells equal to the field default left empty ("blank means none")
_BOOL_VARIANT_RATE = 0.06  # booleans not written 是/否

_TRUE_WORDS = ("是", "有", "√", "1", "已完成", "达标")
_FALSE_WORDS = ("否", "无", "×", "0", "未完成", "不达标")
_FULLWIDTH_DIGITS = [chr(0xFF10 + d) for d in range(10)]
_ASCII_DIGITS = [str(d) for d in range(10)]


def format_column(
    spec: FieldSpec, got: Values, bits: npt.NDArray[np.uint64], missing_rate: float, protected: Bools | None
) -> pl.Series:
    """A generated column as the text cells an analyst receives: spellings varied, some cells blank.

    ``bits`` (64 random bits per cell) decide every coin flip; cells in ``protected`` (a firing veto or
    cap input) are never left blank.
    """
    # bit slots: 0 blank cell, 1 spelling (percent sign / boolean word / stray space),
    # 2 second spelling choice (thousands separators / which boolean word), 3 full-width digits
    if got.kind == "bool":
        flags = np.asarray(got.data, dtype=np.bool_)
        word = ((bits >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64)
        other = 1 + word % (len(_TRUE_WORDS) - 1)
        variant = np.where(coin(bits, 1, _BOOL_VARIANT_RATE), other, 0)
        words = pl.Series([w for pair in zip(_TRUE_WORDS, _FALSE_WORDS, strict=True) for w in pair])
        series = words.gather(variant * 2 + (~flags).astype(np.int64))
    elif got.kind == "label":
        series = pl.Series(list(got.labels), dtype=pl.String).gather(np.asarray(got.data, dtype=np.int64))
        spaced = np.flatnonzero(coin(bits, 1, _SPACE_RATE))
        if spaced.size:
            series = series.scatter(spaced, series.gather(spaced) + " ")
    else:
        series = format_grid(np.asarray(got.data, dtype=np.int64), got.decimals,
                              spec.type is FieldType.percent, bits)

    if spec.default is None:
        blank = coin(bits, 0, missing_rate)
    elif got.kind == "grid" and not isinstance(spec.default, bool | str):
        # a cell equal to the default ("0 incidents") is often simply left blank
        default = round(float(spec.default) * 10**got.decimals)
        blank = (np.asarray(got.data) == default) & coin(bits, 0, _BLANK_DEFAULT_RATE)
    else:
        blank = np.zeros(bits.size, dtype=np.bool_)
    if protected is not None:
        blank &= ~protected
    idx = np.flatnonzero(blank)
    if idx.size:
        series = series.scatter(idx, None)
    return series


def _render(values: Ints, decimals: int, *, percent: bool, seps: bool, wide: bool) -> pl.Series:
    """Grid integers as text in one spelling: "85", "85.5", "85%", "1,234.5", full-width "８５"."""
    neg = values < 0
    mag = np.abs(values)
    ip, fd = (mag // 10**decimals, mag % 10**decimals) if decimals else (mag, np.zeros_like(mag))
    frame = pl.DataFrame({"ip": ip, "fd": fd, "neg": neg})
    ip_col = pl.col("ip")

    def z3(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.String).str.zfill(3)

    int_text: pl.Expr = ip_col.cast(pl.String)
    if seps:
        int_text = (
            pl.when(ip_col >= 1_000_000)
            .then(pl.concat_str([(ip_col // 1_000_000).cast(pl.String), z3((ip_col // 1000) % 1000),
                                 z3(ip_col % 1000)], separator=","))
            .when(ip_col >= 1000)
            .then(pl.concat_str([(ip_col // 1000).cast(pl.String), z3(ip_col % 1000)], separator=","))
            .otherwise(int_text)
        )
    frac_text = (
        pl.when(pl.col("fd") != 0)
        .then(pl.lit(".") + pl.col("fd").cast(pl.String).str.zfill(decimals).str.strip_chars_end("0"))
        .otherwise(pl.lit(""))
    )
    text = pl.concat_str(
        [pl.when(pl.col("neg")).then(pl.lit("-")).otherwise(pl.lit("")), int_text, frac_text,
         pl.lit("%" if percent else "")]
    )
    series = frame.select(text.alias("v")).to_series()
    if wide:
        series = series.str.replace_many(_ASCII_DIGITS, _FULLWIDTH_DIGITS)
    return series


_SPELLINGS = (  # (percent sign, thousands separators, full-width digits)
    (False, False, False),
    (True, False, False),
    (False, True, False),
    (True, True, False),
    (False, False, True),
)


def format_grid(grid: Ints, decimals: int, percent: bool, bits: npt.NDArray[np.uint64]) -> pl.Series:
    """Grid integers as text, each distinct value rendered once per spelling and gathered."""
    total = grid.size
    if total == 0:
        return pl.Series([], dtype=pl.String)
    spelling = np.zeros(total, dtype=np.int64)
    if percent:
        spelling += coin(bits, 1, _PERCENT_SIGN_RATE)
    big = np.abs(grid) >= 1000 * 10**decimals
    spelling += 2 * (big & coin(bits, 2, _THOUSANDS_RATE))
    spelling[coin(bits, 3, _FULLWIDTH_RATE)] = 4

    lo, hi = int(grid.min()), int(grid.max())
    if hi - lo + 1 <= 2 * total + 4096:
        distinct = np.arange(lo, hi + 1, dtype=np.int64)
        position = grid - lo
    else:
        distinct, inverse = np.unique(grid, return_inverse=True)
        position = inverse.astype(np.int64).ravel()
    table = pl.concat(
        [_render(distinct, decimals, percent=pct, seps=sep, wide=wide) for pct, sep, wide in _SPELLINGS]
    )
    return table.gather(position + distinct.size * spelling)
