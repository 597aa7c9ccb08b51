"""Deterministic synthetic assessment tables for any criteria (examples, tests and benchmarks).

:func:`synthesize` builds the table (one row per branch and period, every cell text, as analysts
receive it); :func:`write_table` writes it as CSV (UTF-8 or GB18030), Parquet or Excel. numpy is an
optional dependency (``pip install 'wuxing-cli[synth]'``), imported only by this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from ...models.contract import RESERVED
from ...models.contract import RESERVED_HEADERS as ACCEPTED_HEADERS
from ...models.criteria import Criteria
from .generator import CriteriaGenerator
from .layout import branch_layout
from .streams import Ints, Knobs

#: The reserved columns of a synthetic table: the first Chinese spelling SPEC §3 accepts (as in the forms).
RESERVED_HEADERS: tuple[str, ...] = tuple(ACCEPTED_HEADERS[key][1] for key in RESERVED)


def synthesize(
    criteria: Sequence[Criteria],
    branches: int,
    seed: int,
    *,
    periods: Sequence[str] = ("2024-Q1",),
    county: str | None = None,
    townships: int | None = None,
    missing_rate: float = 0.01,
    veto_rate: float = 0.02,
    quality_mean: float = 0.8,
    quality_sd: float = 0.75,
    star_sd: float = 0.35,
    indicator_sd: float = 0.9,
    star_spread: float = 1.5,
    capstone_offset: float = -1.4,
    improve_rate: float = 0.2,
    decline_rate: float = 0.07,
) -> pl.DataFrame:
    """A synthetic assessment table: one row per branch and period, every column a String.

    Columns: ``支部编码, 支部名称, 县区, 乡镇, 类型, 期间`` then the ``header`` of every input field of
    every criteria (in file order; a header shared by several criteria is one column). Branches are
    split across ``criteria`` (communities ~15 % when village and community criteria are both given;
    ``类型`` holds the criteria's ``branch_type``); a row's cells for another criteria's fields are empty.

    Realism knobs: every branch has a latent quality ``q ~ N(quality_mean, quality_sd)``; each star adds
    a per-branch effect ``N(offset, star_sd)`` and every indicator an ``N(0, indicator_sd)`` effect;
    ``sigmoid(q + star + indicator)`` is the share of the indicator's points the generated value earns.
    Star offsets follow the township plans (DOMAIN §2.1): among stars without ``requires``, in file order,
    the first is hard (``−star_spread/2``, like 产业兴旺), the second average (0), the others easy
    (``+star_spread``); a star with ``requires`` (the capstone) gets ``capstone_offset``. The defaults give
    a county of roughly 2 % 无星, 9 % 一星, 42 % 二星, 32 % 三星, 11 % 四星, 3 % 五星 with the Henan
    criteria (DOMAIN §4.1). Between periods ``q`` takes a random walk: a share ``improve_rate`` of
    branches improves, ``decline_rate`` declines, the rest drift slightly upward; star and indicator
    effects persist (AR(1)).

    Noise for the loader: ``missing_rate`` of cells of fields without a ``default`` are empty (cells
    equal to a field's ``default`` are often blank too); ``veto_rate`` of branches per period get a
    veto/cap input that fires (parsed from ``field > n`` style conditions); percents are written "85" or
    "85%", big numbers sometimes "1,234.5", a few cells use full-width digits, booleans mostly 是/否.

    Deterministic: the same arguments give the same frame (and byte-identical CSV).
    """
    if not criteria:
        raise ValueError("synthesize() needs at least one criteria")
    if branches < 0:
        raise ValueError("branches must be ≥ 0")
    periods = list(periods)
    if not periods or len(set(periods)) != len(periods):
        raise ValueError("periods must be a non-empty list of distinct labels")
    if not 0.0 <= missing_rate <= 1.0 or not 0.0 <= veto_rate <= 1.0:
        raise ValueError("missing_rate and veto_rate must lie in [0, 1]")
    seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF

    knobs = Knobs(
        quality_mean=quality_mean,
        quality_sd=quality_sd,
        star_sd=star_sd,
        indicator_sd=indicator_sd,
        star_spread=star_spread,
        capstone_offset=capstone_offset,
        improve_rate=improve_rate,
        decline_rate=decline_rate,
        missing_rate=missing_rate,
        veto_rate=veto_rate,
    )
    layout = branch_layout(criteria, branches, seed, county, townships)
    n = layout.size
    n_periods = len(periods)
    total = n * n_periods
    tile = np.tile(np.arange(n, dtype=np.int64), n_periods)

    columns: dict[str, pl.Series] = {
        "支部编码": layout.ids.gather(tile),
        "支部名称": layout.names.gather(tile),
        "县区": layout.counties.gather(tile),
        "乡镇": layout.townships.gather(tile),
        "类型": pl.Series([c.branch_type for c in criteria], dtype=pl.String).gather(
            np.tile(layout.crit, n_periods)
        ),
        "期间": pl.Series(periods, dtype=pl.String).gather(
            np.repeat(np.arange(n_periods, dtype=np.int64), n)
        ),
    }

    pieces: dict[str, list[tuple[Ints, pl.Series]]] = {}
    for k, crit in enumerate(criteria):
        positions = np.flatnonzero(layout.crit == k).astype(np.int64)
        rows = (np.arange(n_periods, dtype=np.int64)[:, None] * n + positions[None, :]).ravel()
        generated = CriteriaGenerator(crit, k, seed, positions.size, n_periods, knobs).columns()
        for header, series in generated.items():
            if header in RESERVED_HEADERS:
                header = f"{header}_"  # never shadow a reserved column
            pieces.setdefault(header, []).append((rows, series))

    for header, parts in pieces.items():
        if len(parts) == 1 and parts[0][1].len() == total:
            columns[header] = parts[0][1].rename(header)
            continue
        full = pl.repeat(None, total, dtype=pl.String, eager=True)
        for rows, series in parts:
            if rows.size:
                full = full.scatter(rows, series)
        columns[header] = full.rename(header)

    return pl.DataFrame([s.rename(h) for h, s in columns.items()])


def write_table(
    frame: pl.DataFrame,
    path: Path,
    fmt: Literal["csv", "parquet", "xlsx"],
    encoding: str = "utf-8",
) -> None:
    """Write ``frame`` as an analyst would receive it.

    CSV: ``utf-8`` (LF, no BOM), ``utf-8-sig`` (BOM + CRLF, Excel's "CSV UTF-8"), or
    ``gbk``/``gb18030`` (CRLF, as Excel and WPS save CSV in China; GBK requests are encoded as GB18030,
    its superset, so no character is lost). ``encoding`` is ignored for parquet and xlsx.
    """
    path = Path(path)
    if fmt == "parquet":
        frame.write_parquet(path)
        return
    if fmt == "xlsx":
        frame.write_excel(path, worksheet="评星数据", autofilter=False)
        return
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r}")
    enc = encoding.lower().replace("_", "-")
    if enc in ("utf-8", "utf8"):
        frame.write_csv(path)
        return
    if enc in ("gbk", "gb18030", "gb2312", "cp936", "gb-18030"):
        codec, bom = "gb18030", b""
    elif enc in ("utf-8-sig", "utf8-sig"):
        codec, bom = "utf-8", b"\xef\xbb\xbf"
    else:
        codec, bom = enc, b""
    "".encode(codec)  # unknown codecs fail before the file is touched
    chunk = 100_000
    with path.open("wb") as out:
        out.write(bom)
        for start in range(0, max(frame.height, 1), chunk):
            text = frame.slice(start, chunk).write_csv(
                include_header=start == 0, line_terminator="\r\n"
            )
            out.write(text.encode(codec))
