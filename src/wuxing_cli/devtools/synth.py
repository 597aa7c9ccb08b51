"""Deterministic synthetic assessment tables for any criteria (examples, tests and benchmarks)."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from ..models.criteria import (
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    FieldSpec,
    FieldType,
    Indicator,
    LinearRule,
    ThresholdRule,
)

__all__ = ["RESERVED_HEADERS", "synthesize", "write_table"]

RESERVED_HEADERS: tuple[str, ...] = ("支部编码", "支部名称", "县区", "乡镇", "类型", "期间")

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Floats32 = npt.NDArray[np.float32]
AnyFloats = npt.NDArray[np.floating[Any]]
Bools = npt.NDArray[np.bool_]

# ---------------------------------------------------------------------------------------------
# Knobs that are not worth a keyword argument

_BRANCHES_PER_COUNTY = 500  # a county has 100–700 branches (SPEC §1)
_VILLAGES_PER_TOWNSHIP = 20
_COMMUNITIES_PER_STREET = 8
_COMMUNITY_SHARE = 0.15  # Henan: ~46,000 villages, ~5,000 communities (rounded up: mixed files)
_AR = 0.93  # period-to-period persistence of star and indicator effects
_PERCENT_SIGN_RATE = 0.3  # percent cells written "85%" rather than "85"
_THOUSANDS_RATE = 0.5  # numbers ≥ 1000 written "1,234"
_FULLWIDTH_RATE = 0.003  # numeric cells typed with full-width digits "８５"
_SPACE_RATE = 0.003  # category cells with a stray space
_BLANK_DEFAULT_RATE = 0.35  # cells equal to the field default left empty ("blank means none")
_BOOL_VARIANT_RATE = 0.06  # booleans not written 是/否
_LINEAR_STRETCH = 1.3  # quality → linear value: g·1.3 − 0.15, so the ramp saturates at both ends

_TRUE_WORDS = ("是", "有", "√", "1", "已完成", "达标")
_FALSE_WORDS = ("否", "无", "×", "0", "未完成", "不达标")
_TEXT_WORDS = ("无", "见附件", "已整改到位", "正常")
_FULLWIDTH_DIGITS = [chr(0xFF10 + d) for d in range(10)]
_ASCII_DIGITS = [str(d) for d in range(10)]

# Real Henan county-level divisions and their codes; synthetic counties beyond these get codes 415xxx.
_COUNTIES: tuple[tuple[str, str], ...] = (
    ("源汇区", "411102"), ("郾城区", "411103"), ("召陵区", "411104"), ("舞阳县", "411121"),
    ("临颍县", "411122"), ("扶沟县", "411621"), ("西华县", "411622"), ("商水县", "411623"),
    ("沈丘县", "411624"), ("郸城县", "411625"), ("太康县", "411627"), ("鹿邑县", "411628"),
    ("西平县", "411721"), ("上蔡县", "411722"), ("平舆县", "411723"), ("正阳县", "411724"),
    ("确山县", "411725"), ("泌阳县", "411726"), ("汝南县", "411727"), ("遂平县", "411728"),
    ("新蔡县", "411729"), ("南召县", "411321"), ("方城县", "411322"), ("西峡县", "411323"),
    ("镇平县", "411324"), ("内乡县", "411325"), ("淅川县", "411326"), ("社旗县", "411327"),
    ("唐河县", "411328"), ("新野县", "411329"), ("桐柏县", "411330"), ("新乡县", "410721"),
    ("获嘉县", "410724"), ("原阳县", "410725"), ("延津县", "410726"), ("封丘县", "410727"),
    ("卫辉市", "410781"), ("辉县市", "410782"), ("长垣市", "410783"), ("修武县", "410821"),
    ("博爱县", "410822"), ("武陟县", "410823"), ("温县", "410825"), ("民权县", "411421"),
    ("睢县", "411422"), ("宁陵县", "411423"), ("柘城县", "411424"), ("虞城县", "411425"),
    ("夏邑县", "411426"), ("永城市", "411481"), ("卢氏县", "411224"), ("巩义市", "410181"),
    ("新郑市", "410184"), ("登封市", "410185"),
)
_COUNTY_ROOT_A = "东西南北大小新清安长永丰宁平汝淮沙颍洪商"
_COUNTY_ROOT_B = "川阳城丘陵水河山宁安平乡源华康武"

_TOWNSHIP_ROOTS = (
    "城关", "清河", "马厂", "翟坡", "韭园", "七里营", "王屯", "司寨", "巩营", "永兴", "赵集", "付井", "北杨集", "辛店", "郇封",
    "大冯营", "东夏亭", "皇后", "张弓", "黄口", "练集", "崔桥", "江村", "白潭", "曹里", "柴岗", "固城", "汴岗", "包屯", "大新",
    "吕潭", "城郊", "问十", "空冢郭", "问店", "干河陈", "叶庄", "大王庄", "阳城", "黄桥", "留庄", "老城", "刘店", "姚集", "胡桥",
    "大李庄", "马头", "孙营", "小吴", "邢庄", "黄泛区", "三里桥", "朱阁", "郭庄", "李集", "丁集", "石槽", "新安集", "冯庄", "郑郭",
    "高寺", "周堂", "莲池", "袁老", "槐店", "纸店", "范营", "付庄", "洪山庙", "大路李", "冯塘", "老丘", "周营", "赵村", "白寺",
    "汤庄", "王桥", "古城", "双庙", "石桥", "龙湖", "青龙", "柳林", "桃园", "杨桥", "沙河", "高庄", "后河",
)
_STREET_ROOTS = (
    "东城", "西城", "南关", "北关", "新华", "人民", "解放", "建设", "文化", "胜利", "车站", "雪松", "北大街", "苹果园", "城东",
    "城西", "城南", "城北", "老城", "东风", "和平", "中山", "五一", "红旗", "向阳", "朝阳", "花园", "滨河", "龙湖", "铁西", "站前",
    "东大街", "西大街", "南大街", "顺河", "沙北", "天桥", "湖滨", "金水", "淮河", "嵩山", "黄河", "西关", "东关", "新城", "开发区",
    "干河", "老街", "马村", "颍河",
)
_COMMUNITY_ROOTS = (
    "幸福", "和平", "建设", "光明", "人民", "文化", "朝阳", "新华", "花园", "滨河", "龙湖", "锦绣", "金水", "许寨", "庞桥", "前罗堂",
    "钟楼", "鼓楼", "书院", "文庙", "府前", "阳光", "锦华", "康宁", "安居", "和谐", "丰收", "东苑", "西苑", "南苑", "北苑", "翠园",
    "桂园", "兰园", "梅园", "竹园", "青年", "劳动", "团结", "友谊", "育才", "学府", "水岸", "湖畔", "香山", "紫荆", "银杏", "槐树",
    "柳林", "桃园", "永安", "繁荣", "振兴", "新村", "站北", "电厂", "化肥厂", "纺织", "运河", "沙河", "铁路", "交通", "供销", "粮站",
    "工农", "红星",
)
_SURNAMES = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
    "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎常武乔贺"
)
_VILLAGE_SUFFIXES = "庄寨楼营屯集店桥湾岗洼坡园堂岭沟铺湖口台庙河圩城"
_VILLAGE_PREFIXES = ("", "前", "后", "东", "西", "大", "小")


def _dedupe(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


_TOWNSHIP_NAMES = _dedupe([*_TOWNSHIP_ROOTS, *(a + b for a in "东西南北大小新老高石龙金马杨柳" for b in "店集庄营寨桥湖岗河坡楼屯庙城")])
_STREET_NAMES = _dedupe([*_STREET_ROOTS, *(a + b for a in "东西南北中新老" for b in "城关街苑园湖河站门山")])
_COMMUNITY_NAMES = _dedupe([p + r for p in ("", "东", "西", "南", "北") for r in _COMMUNITY_ROOTS])
_VILLAGE_NAMES = _dedupe([p + s + x for p in _VILLAGE_PREFIXES for s in _SURNAMES for x in _VILLAGE_SUFFIXES])


# ---------------------------------------------------------------------------------------------
# Public API


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

    knobs = _Knobs(
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
    layout = _layout(criteria, branches, seed, county, townships)
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
        generated = _CriteriaGenerator(crit, k, seed, positions.size, n_periods, knobs).columns()
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


# ---------------------------------------------------------------------------------------------
# Random streams: one per purpose, so changing one knob does not reshuffle everything else


def _key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _sigmoid(z: Floats32) -> Floats32:
    # logistic ≈ standard normal CDF with the 1.702 factor
    out: Floats32 = np.float32(1.0) / (np.float32(1.0) + np.exp(np.float32(-1.702) * z))
    return out


def _bits(rng: np.random.Generator, size: int) -> npt.NDArray[np.uint64]:
    """64 random bits per cell: four independent 16-bit uniforms for cheap per-cell coin flips."""
    return rng.bit_generator.random_raw(size)


def _flag(bits: npt.NDArray[np.uint64], slot: int, rate: float) -> Bools:
    """A coin with probability ``rate`` (resolution 1/65536) from the 16-bit ``slot`` (0–3) of ``bits``."""
    threshold = np.uint64(min(65536, round(rate * 65536)))
    return ((bits >> np.uint64(16 * slot)) & np.uint64(0xFFFF)) < threshold


@dataclass(frozen=True, slots=True)
class _Knobs:
    quality_mean: float
    quality_sd: float
    star_sd: float
    indicator_sd: float
    star_spread: float
    capstone_offset: float
    improve_rate: float
    decline_rate: float
    missing_rate: float
    veto_rate: float


# ---------------------------------------------------------------------------------------------
# Layout: counties, townships, branches, ids and names


@dataclass(frozen=True, slots=True)
class _Layout:
    crit: Ints  # criteria index per branch, rows in branch-id order
    ids: pl.Series
    names: pl.Series
    counties: pl.Series
    townships: pl.Series

    @property
    def size(self) -> int:
        return int(self.crit.size)


def _is_community(crit: Criteria) -> bool:
    return any("社区" in t or "community" in t.lower() for t in [crit.branch_type, *crit.branch_type_aliases])


def _coprime_step(size: int, near: int) -> int:
    step = max(1, near % max(size, 1))
    while math.gcd(step, size) != 1:
        step += 1
    return step


def _counties(n_counties: int, county: str | None, seed: int) -> tuple[list[str], list[str]]:
    if county is not None:
        codes = dict(_COUNTIES)
        return [county], [codes.get(county, str(415000 + _key(county) % 1000))]
    names: list[str] = []
    codes_out: list[str] = []
    taken = {name for name, _ in _COUNTIES}
    start = seed % len(_COUNTIES)
    a, b = _COUNTY_ROOT_A, _COUNTY_ROOT_B
    j = 0  # synthetic names: two characters + 县/区, skipping real names
    for i in range(n_counties):
        if i < len(_COUNTIES):
            name, code = _COUNTIES[(start + i) % len(_COUNTIES)]
        else:
            while True:
                name = a[j % len(a)] + b[(j // len(a)) % len(b)] + ("区" if j % 4 == 0 else "县")
                if j >= len(a) * len(b):
                    name = f"{name}{j // (len(a) * len(b)) + 1}"
                j += 1
                if name not in taken:
                    break
            taken.add(name)
            code = str(415000 + i - len(_COUNTIES))
        names.append(name)
        codes_out.append(code)
    return names, codes_out


def _layout(
    criteria: Sequence[Criteria], branches: int, seed: int, county: str | None, townships: int | None
) -> _Layout:
    k_count = len(criteria)
    community = [_is_community(c) for c in criteria]
    weights = np.array([_COMMUNITY_SHARE if c else 1.0 - _COMMUNITY_SHARE for c in community])
    weights = weights / weights.sum()
    bounds = np.round(np.cumsum(weights) * branches).astype(np.int64)
    bounds[-1] = branches
    counts = np.diff(np.concatenate([[0], bounds]))

    n_counties = 1 if county is not None else max(1, math.ceil(branches / _BRANCHES_PER_COUNTY))
    county_names, county_codes = _counties(n_counties, county, seed)
    cidx = np.arange(n_counties + 1, dtype=np.int64)

    # townships per county and criteria; villages' townships are numbered before communities' streets
    order = sorted(range(k_count), key=lambda k: (community[k], k))
    sizes: dict[int, Ints] = {}
    n_towns: dict[int, Ints] = {}
    for k in order:
        n_k = int(counts[k])
        start = (cidx * n_k + n_counties - 1) // n_counties
        size = np.diff(start)
        if townships is not None:
            share = weights[k] if k_count > 1 else 1.0
            t = np.full(n_counties, max(1, round(townships * share)), dtype=np.int64)
        else:
            per = _COMMUNITIES_PER_STREET if community[k] else _VILLAGES_PER_TOWNSHIP
            t = -(-size // per)
        sizes[k] = size
        n_towns[k] = np.where(size == 0, 0, np.clip(t, 1, np.maximum(size, 1)))
    offset = np.zeros(n_counties, dtype=np.int64)
    offsets: dict[int, Ints] = {}
    for k in order:
        offsets[k] = offset.copy()
        offset = offset + n_towns[k]

    parts_c, parts_t, parts_b, parts_k = [], [], [], []
    for k in order:
        n_k = int(counts[k])
        if n_k == 0:
            continue
        # townships of unequal size (gamma weights, at least one branch each), in county order
        towns = n_towns[k]
        town_county = np.repeat(np.arange(n_counties, dtype=np.int64), towns)
        weight = _rng(seed, _key("townships"), k).gamma(4.0, 1.0, town_county.size)
        share = weight / np.bincount(town_county, weights=weight, minlength=n_counties)[town_county]
        spare = (sizes[k] - towns)[town_county]
        alloc = 1 + np.floor(share * spare).astype(np.int64)
        short = sizes[k] - np.bincount(town_county, weights=alloc, minlength=n_counties).astype(np.int64)
        last = np.cumsum(towns)[towns > 0] - 1
        alloc[last] += short[towns > 0]
        town_end = np.cumsum(alloc)
        first_town = np.cumsum(towns) - towns

        j = np.arange(n_k, dtype=np.int64)  # branches of this kind, county by county
        town = np.searchsorted(town_end, j, side="right")
        c = town_county[town]
        parts_c.append(c)
        parts_t.append(offsets[k][c] + (town - first_town[c]) + 1)
        parts_b.append(j - (town_end[town] - alloc[town]) + 1)
        parts_k.append(np.full(n_k, k, dtype=np.int64))
    if not parts_c:
        empty = pl.Series([], dtype=pl.String)
        return _Layout(np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
    c_all = np.concatenate(parts_c)
    t_all = np.concatenate(parts_t)
    b_all = np.concatenate(parts_b)
    k_all = np.concatenate(parts_k)
    t_width = max(3, len(str(int(t_all.max()))))
    b_width = max(3, len(str(int(b_all.max()))))
    sort_key = (c_all * 10**t_width + t_all) * 10**b_width + b_all
    perm = np.argsort(sort_key, kind="stable")
    c_all, t_all, b_all, k_all = c_all[perm], t_all[perm], b_all[perm], k_all[perm]
    is_comm = np.array(community, dtype=np.bool_)[k_all]

    code_series = pl.Series(county_codes, dtype=pl.String)
    ids = pl.select(
        pl.concat_str(
            [
                pl.lit(code_series.gather(c_all)),
                pl.lit(pl.Series(t_all)).cast(pl.String).str.zfill(t_width),
                pl.lit(pl.Series(b_all)).cast(pl.String).str.zfill(b_width),
            ]
        )
    ).to_series()

    # township names: unique within a county for up to len(list) townships of each kind
    base = (c_all * 7919 + seed % 104729) % 1_000_003
    town_idx = (base + t_all * _coprime_step(len(_TOWNSHIP_NAMES), 37)) % len(_TOWNSHIP_NAMES)
    street_idx = (base + t_all * _coprime_step(len(_STREET_NAMES), 13)) % len(_STREET_NAMES)
    town_suffix = np.where((town_idx * 2654435761 >> 7) % 10 < 6, 0, 1)
    town_names = pl.Series(_TOWNSHIP_NAMES, dtype=pl.String).gather(town_idx) + pl.Series(
        ["镇", "乡"], dtype=pl.String
    ).gather(town_suffix)
    street_names = pl.Series(_STREET_NAMES, dtype=pl.String).gather(street_idx) + "街道"
    township_names = pl.select(
        pl.when(pl.lit(pl.Series(is_comm))).then(pl.lit(street_names)).otherwise(pl.lit(town_names))
    ).to_series()

    # branch names: unique within a township for up to len(list) branches
    tbase = (c_all * 1_000_003 + t_all * 7919 + seed % 65521) * 31
    village_idx = (tbase + b_all * _coprime_step(len(_VILLAGE_NAMES), 4391)) % len(_VILLAGE_NAMES)
    community_idx = (tbase + b_all * _coprime_step(len(_COMMUNITY_NAMES), 97)) % len(_COMMUNITY_NAMES)
    villages = pl.Series(_VILLAGE_NAMES, dtype=pl.String).gather(village_idx) + "村"
    communities = pl.Series(_COMMUNITY_NAMES, dtype=pl.String).gather(community_idx) + "社区"
    names = pl.select(
        pl.when(pl.lit(pl.Series(is_comm))).then(pl.lit(communities)).otherwise(pl.lit(villages))
    ).to_series()

    counties = pl.Series(county_names, dtype=pl.String).gather(c_all)
    return _Layout(k_all, ids, names, counties, township_names)


# ---------------------------------------------------------------------------------------------
# Field values


_RATIO = re.compile(r"^\s*([A-Za-z_]\w*)\s*/\s*([A-Za-z_]\w*)\s*(?:\*\s*(\d+(?:\.\d+)?))?\s*$")
_TRIGGER = re.compile(r"^\s*\(?\s*([A-Za-z_]\w*)\s*(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)\s*\)?\s*$")
_OR = re.compile(r"\bor\b")


def _triggers(when: str) -> list[tuple[str, str, float]]:
    """``(field, op, number)`` per part of ``a > 0 or b >= 2``; empty unless every part is that simple."""
    parts = [_TRIGGER.match(part) for part in _OR.split(when)]
    if not all(parts):
        return []
    return [(m.group(1), m.group(2), float(m.group(3))) for m in parts if m]


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One region of values an indicator maps to ``frac`` of its points (grid units)."""

    frac: float
    lo: int | None
    hi: int | None
    tail: float = 1.0  # mean width of an open-ended region


@dataclass(slots=True)
class _Values:
    """A generated column before formatting: grid integers, booleans or label indices."""

    kind: Literal["grid", "bool", "label"]
    data: npt.NDArray[np.int64] | npt.NDArray[np.bool_]
    decimals: int = 0
    labels: tuple[str, ...] = ()


def _decimals(spec: FieldSpec) -> int:
    return 0 if spec.type is FieldType.integer else 1


def _grid_bounds(spec: FieldSpec, decimals: int) -> tuple[int | None, int | None]:
    scale = 10**decimals
    lo = None if spec.lower is None else math.ceil(spec.lower * scale - 1e-9)
    hi = None if spec.upper is None else math.floor(spec.upper * scale + 1e-9)
    return lo, hi


def _span(bounds: list[float], edge: float, scale: int, minimum: int) -> float:
    gaps = np.diff(sorted(bounds)) if len(bounds) > 1 else np.array([0.0])
    return max(float(np.median(gaps)) * scale, abs(edge) * 0.3 * scale, float(minimum))


def _band_outcomes(
    bands: list[tuple[float, float]], direction: Literal["min", "max"], points: float, spec: FieldSpec
) -> list[_Outcome]:
    """Regions between band bounds, best first; ``bands`` = [(bound, points)]."""
    dec = _decimals(spec)
    scale = 10**dec
    kl, ku = _grid_bounds(spec, dec)
    minimum = 1 if dec == 0 else 5
    ordered = sorted(bands)
    values = [b for b, _ in ordered]
    out: list[_Outcome] = []
    if direction == "min":
        ts = [math.ceil(b * scale - 1e-9) for b in values]
        span = _span(values, values[-1], scale, minimum)
        # best: at or above the top bound
        out.append(_Outcome(ordered[-1][1] / points, ts[-1], None, span))
        for i in range(len(ts) - 2, -1, -1):
            out.append(_Outcome(ordered[i][1] / points, ts[i], ts[i + 1] - 1))
        low_span = _span(values, values[0], scale, minimum)
        out.append(_Outcome(0.0, ts[0] - max(1, round(low_span)), ts[0] - 1))
    else:
        ts = [math.floor(b * scale + 1e-9) for b in values]
        span = _span(values, values[0], scale, minimum)
        out.append(_Outcome(ordered[0][1] / points, ts[0] - max(0, round(span)), ts[0]))
        for i in range(1, len(ts)):
            out.append(_Outcome(ordered[i][1] / points, ts[i - 1] + 1, ts[i]))
        out.append(_Outcome(0.0, ts[-1] + 1, None, _span(values, values[-1], scale, 1)))
    clipped: list[_Outcome] = []
    for o in out:
        lo = o.lo if kl is None or o.lo is None else max(o.lo, kl)
        hi = o.hi if ku is None or o.hi is None else min(o.hi, ku)
        if lo is not None and hi is not None and lo > hi:
            continue
        if hi is None and ku is not None and lo is not None and ku - lo <= 3 * o.tail:
            hi = ku  # bounded above and narrow: uniform up to the bound
        clipped.append(_Outcome(o.frac, lo, hi, o.tail))
    return clipped or [_Outcome(1.0, kl if kl is not None else 0, kl if kl is not None else 0)]


def _threshold_outcomes(rule: ThresholdRule, spec: FieldSpec) -> list[_Outcome]:
    if rule.min is not None and rule.max is None:
        return _band_outcomes([(rule.min, 1.0)], "min", 1.0, spec)
    if rule.max is not None and rule.min is None:
        return _band_outcomes([(rule.max, 1.0)], "max", 1.0, spec)
    if rule.min is None or rule.max is None:  # a bare threshold: anything passes
        dec = _decimals(spec)
        kl, ku = _grid_bounds(spec, dec)
        lo = kl if kl is not None else 0
        return [_Outcome(1.0, lo, ku if ku is not None else lo + 10 * 10**dec)]
    dec = _decimals(spec)
    scale = 10**dec
    kl, ku = _grid_bounds(spec, dec)
    tmin, tmax = math.ceil(rule.min * scale - 1e-9), math.floor(rule.max * scale + 1e-9)
    width = max(1, tmax - tmin)
    outs = [_Outcome(1.0, tmin, tmax)]
    below = _Outcome(0.0, max(tmin - width, kl) if kl is not None else tmin - width, tmin - 1)
    above = _Outcome(0.0, tmax + 1, min(tmax + width, ku) if ku is not None else tmax + width)
    for o in (below, above):
        if o.lo is not None and o.hi is not None and o.lo <= o.hi:
            outs.append(o)
            break
    return outs


def _pick(g: AnyFloats, fracs: Sequence[float]) -> Ints:
    """Index of the outcome whose share of points is nearest to ``g`` (at a midpoint: the higher share)."""
    f = np.asarray(fracs, dtype=np.float64)
    if f.size == 1:
        return np.zeros(g.size, dtype=np.int64)
    order = np.argsort(f, kind="stable")
    ascending = f[order]
    slot = np.searchsorted((ascending[1:] + ascending[:-1]) / 2.0, g, side="right")
    return order[slot].astype(np.int64)


def _sample_regions(outcomes: list[_Outcome], choice: Ints, rng: np.random.Generator, size: int) -> Ints:
    """Sample each row's value uniformly in its chosen region, or with an exponential tail if open-ended."""
    lo = np.array([o.lo if o.lo is not None else (o.hi or 0) for o in outcomes], dtype=np.int64)
    hi = np.array([o.hi if o.hi is not None else lo[i] for i, o in enumerate(outcomes)], dtype=np.int64)
    # 0: uniform in [lo, hi]; 1: open above (lo + tail); -1: open below (hi − tail)
    mode = np.array([(o.hi is None) - (o.lo is None) if (o.lo is None) != (o.hi is None) else 0
                     for o in outcomes])
    tail = np.array([o.tail for o in outcomes])
    # float32 is exact enough for regions up to 2^20 grid steps (percents, counts, areas)
    span = hi - lo + 1
    if span.max() <= 2**20:
        offset = (rng.random(size, dtype=np.float32) * span.astype(np.float32)[choice]).astype(np.int64)
    else:
        offset = (rng.random(size) * span.astype(np.float64)[choice]).astype(np.int64)
    out: Ints = lo[choice] + offset  # truncation = floor (u ≥ 0)
    if (mode != 0).any():
        open_rows = np.flatnonzero(mode[choice] != 0)
        if open_rows.size:
            picked = choice[open_rows]
            step = (rng.exponential(1.0, open_rows.size) * tail[picked]).astype(np.int64)
            out[open_rows] = np.where(mode[picked] == 1, lo[picked] + step, hi[picked] - step)
    return out


def _rule_values(
    indicator: Indicator, spec: FieldSpec, g: AnyFloats, rng: np.random.Generator
) -> _Values | None:
    """Values of ``spec`` whose score under ``indicator`` tracks ``g`` (share of points); None: no fit."""
    rule = indicator.rule
    size = g.size
    if spec.type is FieldType.boolean:
        if not isinstance(rule, BooleanRule):
            return None
        return _Values("bool", np.where(g >= 0.5, rule.expect, not rule.expect))
    if spec.type is FieldType.category:
        labels = tuple(spec.values or (rule.map.keys() if isinstance(rule, CategoryRule) else ()))
        if not labels:
            return None
        if isinstance(rule, CategoryRule):
            fracs = [rule.map.get(v, 0.0) / indicator.points for v in labels]
            order = sorted(range(len(labels)), key=lambda i: -fracs[i])
            idx = np.asarray(order, dtype=np.int64)[_pick(g, [fracs[i] for i in order])]
        else:
            idx = rng.integers(0, len(labels), size)
        return _Values("label", idx.astype(np.int64), labels=labels)
    if not spec.numeric:
        return None
    dec = _decimals(spec)
    if isinstance(rule, LinearRule):
        scale = 10**dec
        v = rule.zero_at + (rule.full_at - rule.zero_at) * (_LINEAR_STRETCH * g - (_LINEAR_STRETCH - 1) / 2)
        v = v + rng.normal(0.0, abs(rule.full_at - rule.zero_at) * 0.02, size)
        grid = np.round(v * scale).astype(np.int64)
        kl, ku = _grid_bounds(spec, dec)
        if kl is not None or ku is not None:
            grid = np.clip(grid, kl, ku)
        return _Values("grid", grid, dec)
    if isinstance(rule, BandsRule):
        outcomes = _band_outcomes(
            [(b.bound, b.points) for b in rule.bands], rule.direction, indicator.points, spec
        )
    elif isinstance(rule, ThresholdRule):
        outcomes = _threshold_outcomes(rule, spec)
    else:
        return None
    choice = _pick(g, [o.frac for o in outcomes])
    grid = _sample_regions(outcomes, choice, rng, size)
    kl, ku = _grid_bounds(spec, dec)
    if kl is not None or ku is not None:
        grid = np.clip(grid, kl, ku)  # open-ended tails stop at the field's bounds
    return _Values("grid", grid, dec)


def _magnitude(spec: FieldSpec, fid: str) -> float:
    text = f"{spec.header or ''}{spec.name or ''}{spec.unit or ''}{fid}"
    if "人口" in text or "population" in fid:
        return 4000.0
    if "户" in (spec.unit or "") or "户数" in text or "household" in fid:
        return 450.0
    if (spec.unit or "") in ("人", "名") or "人数" in text:
        return 120.0
    if "万元" in text:
        return 20.0
    if "㎡" in text or "面积" in text:
        return 300.0
    return 50.0


def _free_values(spec: FieldSpec, fid: str, rng: np.random.Generator, size: int) -> _Values:
    """Plausible values of a field no indicator drives (denominators, unscored inputs)."""
    if spec.type is FieldType.boolean:
        return _Values("bool", rng.random(size) < 0.75)
    if spec.type is FieldType.category:
        labels = tuple(spec.values or ("无",))
        return _Values("label", rng.integers(0, len(labels), size).astype(np.int64), labels=labels)
    if spec.type is FieldType.text:
        return _Values("label", rng.integers(0, len(_TEXT_WORDS), size).astype(np.int64), labels=_TEXT_WORDS)
    dec = _decimals(spec)
    scale = 10**dec
    kl, ku = _grid_bounds(spec, dec)
    if spec.type is FieldType.percent:
        v = rng.uniform(50.0, 100.0, size)
    elif kl is not None and ku is not None and (ku - kl) <= 1000 * scale:
        v = rng.uniform(kl / scale, ku / scale, size)
    else:
        v = _magnitude(spec, fid) * np.exp(rng.normal(0.0, 0.5, size))
    grid = np.round(v * scale).astype(np.int64)
    if kl is not None or ku is not None:
        grid = np.clip(grid, kl, ku)
    return _Values("grid", grid, dec)


def _ar_paths(rng: np.random.Generator, n_periods: int, size: int, sd: float) -> Floats32:
    """(periods, size) AR(1) noise with stationary sd ``sd``."""
    eps = rng.standard_normal((n_periods, size), dtype=np.float32) * np.float32(sd)
    out = np.empty_like(eps)
    out[0] = eps[0]
    ar, inno = np.float32(_AR), np.float32(math.sqrt(1.0 - _AR * _AR))
    for p in range(1, n_periods):
        out[p] = ar * out[p - 1] + inno * eps[p]
    return out


class _CriteriaGenerator:
    """Generates the input columns of one criteria for ``size`` branches × ``n_periods`` periods."""

    def __init__(
        self, crit: Criteria, index: int, seed: int, size: int, n_periods: int, knobs: _Knobs
    ) -> None:
        self.crit = crit
        self.size = size
        self.n_periods = n_periods
        self.knobs = knobs
        self.base = [seed, index, _key(crit.id)]
        self.quality = self._quality()
        self.star_effects = self._star_effects()

    def rng(self, *keys: int | str) -> np.random.Generator:
        return _rng(*self.base, *(k if isinstance(k, int) else _key(k) for k in keys))

    def _quality(self) -> Floats32:
        k = self.knobs
        rng = self.rng("quality")
        q = np.empty((self.n_periods, self.size), dtype=np.float32)
        q[0] = rng.normal(k.quality_mean, k.quality_sd, self.size)
        for p in range(1, self.n_periods):
            u = rng.random(self.size)
            step = rng.normal(0.03, 0.06, self.size)
            step = np.where(u < k.improve_rate, rng.normal(0.35, 0.12, self.size), step)
            step = np.where(
                (u >= k.improve_rate) & (u < k.improve_rate + k.decline_rate),
                rng.normal(-0.4, 0.12, self.size),
                step,
            )
            q[p] = q[p - 1] + step
        return q

    def _star_effects(self) -> dict[str, Floats32]:
        k = self.knobs
        stars = self.crit.stars
        plain = [s for s in stars if not s.requires]
        offsets: dict[str, float] = {}
        # Township plans (DOMAIN §2.1, §4.1): one hard star (产业兴旺: ~10–15 % of villages), one
        # middling (生态宜居), the rest held by most branches (平安法治, 文明幸福) — so most branches sit at
        # 二星/三星. Plain stars in file order: first hard (−spread/2), second average (0), others easy (+spread).
        for i, s in enumerate(plain):
            if len(plain) == 1:
                offsets[s.id] = 0.0
            else:
                offsets[s.id] = -0.5 * k.star_spread if i == 0 else k.star_spread * min(i - 1, 1)
        for s in stars:
            if s.requires:
                offsets[s.id] = k.capstone_offset
        return {
            s.id: np.float32(offsets[s.id])
            + _ar_paths(self.rng("star", s.id), self.n_periods, self.size, k.star_sd)
            for s in stars
        }

    def _g(self, fid: str, star: str | None) -> Floats32:
        noise = _ar_paths(self.rng("indicator", fid), self.n_periods, self.size, self.knobs.indicator_sd)
        z = self.quality + noise
        if star is not None:
            z = z + self.star_effects[star]
        return _sigmoid(z).ravel()

    def columns(self) -> dict[str, pl.Series]:
        crit = self.crit
        fields = crit.fields
        inputs = crit.input_fields()
        total = self.size * self.n_periods

        # which indicator drives which field (first wins), and ratio-derived fields
        driver: dict[str, tuple[Indicator, str]] = {}
        for star_spec in crit.stars:
            for ind in star_spec.indicators:
                driver.setdefault(ind.field, (ind, star_spec.id))
        numerators: dict[str, tuple[str, str, float]] = {}  # numerator -> (derived, denominator, scale)
        for fid, spec in fields.items():
            if not spec.derived or fid not in driver:
                continue
            m = _RATIO.match(spec.expr or "")
            if (
                m
                and m.group(1) in inputs
                and m.group(2) in inputs
                and m.group(1) != m.group(2)
                and m.group(1) not in driver
                and m.group(1) not in numerators
            ):
                numerators[m.group(1)] = (fid, m.group(2), float(m.group(3) or 1.0))

        values: dict[str, _Values] = {}
        for fid, spec in inputs.items():
            if fid in numerators:
                continue
            rng = self.rng("value", fid)
            got: _Values | None = None
            if fid in driver:
                ind, star = driver[fid]
                got = _rule_values(ind, spec, self._g(fid, star), rng)
            elif spec.default is not None and spec.numeric:
                dec = _decimals(spec)
                grid = np.full(total, round(float(spec.default) * 10**dec), dtype=np.int64)
                got = _Values("grid", grid, dec)
            values[fid] = got if got is not None else _free_values(spec, fid, rng, total)
        for fid, (derived, denominator, scale) in numerators.items():
            values[fid] = self._numerator(fid, derived, denominator, scale, driver, values)

        fired = self._fire_vetoes(values)
        out: dict[str, pl.Series] = {}
        for fid, spec in inputs.items():
            out[crit.header_of(fid)] = self._format(fid, spec, values[fid], fired.get(fid))
        return out

    def _numerator(
        self,
        fid: str,
        derived: str,
        denominator: str,
        scale: float,
        driver: dict[str, tuple[Indicator, str]],
        values: dict[str, _Values],
    ) -> _Values:
        spec = self.crit.fields[fid]
        rng = self.rng("value", fid)
        ind, star = driver[derived]
        target = _rule_values(ind, self.crit.fields[derived], self._g(derived, star), rng)
        den = values[denominator]
        if target is None or target.kind != "grid" or den.kind != "grid":
            return _free_values(spec, fid, rng, self.size * self.n_periods)
        ratio = target.data.astype(np.float64) / 10**target.decimals / scale
        den_value = den.data.astype(np.float64) / 10**den.decimals
        dec = _decimals(spec)
        grid = np.round(ratio * den_value * 10**dec).astype(np.int64)
        kl, ku = _grid_bounds(spec, dec)
        if kl is not None or ku is not None:
            grid = np.clip(grid, kl, ku)
        return _Values("grid", grid, dec)

    def _fire_vetoes(self, values: dict[str, _Values]) -> dict[str, Bools]:
        """Set veto/cap inputs so that one fires for ``veto_rate`` of branches in each period."""
        targets: list[tuple[str, int, int]] = []  # (field, grid value that fires, direction of "worse")
        conditions = [v.when for s in self.crit.stars for v in s.vetoes] + [c.when for c in self.crit.caps]
        for when in conditions:
            for name, op, number in _triggers(when):
                spec = self.crit.fields.get(name)
                got = values.get(name)
                if spec is None or spec.derived or got is None or got.kind != "grid":
                    continue
                x = number * 10**got.decimals
                fire = {">": math.floor(x) + 1, ">=": math.ceil(x), "<": math.ceil(x) - 1,
                        "<=": math.floor(x)}[op]
                kl, ku = _grid_bounds(spec, got.decimals)
                if (kl is not None and fire < kl) or (ku is not None and fire > ku):
                    continue
                targets.append((name, fire, 1 if op.startswith(">") else -1))
        total = self.size * self.n_periods
        if not targets or self.knobs.veto_rate <= 0 or total == 0:
            return {}
        rng = self.rng("veto")
        hit = rng.random(total) < self.knobs.veto_rate
        which = rng.integers(0, len(targets), total)
        extra = (rng.random(total) < 0.25).astype(np.int64)  # now and then two incidents, not one
        fired: dict[str, Bools] = {}
        for i, (name, fire, direction) in enumerate(targets):
            sel = hit & (which == i)
            if not sel.any():
                continue
            got = values[name]
            data = np.array(got.data, dtype=np.int64)  # a copy
            data[sel] = fire + direction * extra[sel]
            kl, ku = _grid_bounds(self.crit.fields[name], got.decimals)
            if kl is not None or ku is not None:
                data = np.clip(data, kl, ku)
            values[name] = _Values("grid", data, got.decimals)
            fired[name] = fired.get(name, np.zeros(total, dtype=np.bool_)) | sel
        return fired

    # ---- formatting -------------------------------------------------------------------------

    def _format(self, fid: str, spec: FieldSpec, got: _Values, protected: Bools | None) -> pl.Series:
        # bit slots: 0 blank cell, 1 spelling (percent sign / boolean word / stray space),
        # 2 second spelling choice (thousands separators / which boolean word), 3 full-width digits
        bits = _bits(self.rng("format", fid), self.size * self.n_periods)
        if got.kind == "bool":
            flags = np.asarray(got.data, dtype=np.bool_)
            word = ((bits >> np.uint64(32)) & np.uint64(0xFFFF)).astype(np.int64)
            other = 1 + word % (len(_TRUE_WORDS) - 1)
            variant = np.where(_flag(bits, 1, _BOOL_VARIANT_RATE), other, 0)
            words = pl.Series([w for pair in zip(_TRUE_WORDS, _FALSE_WORDS, strict=True) for w in pair])
            series = words.gather(variant * 2 + (~flags).astype(np.int64))
        elif got.kind == "label":
            series = pl.Series(list(got.labels), dtype=pl.String).gather(np.asarray(got.data, dtype=np.int64))
            spaced = np.flatnonzero(_flag(bits, 1, _SPACE_RATE))
            if spaced.size:
                series = series.scatter(spaced, series.gather(spaced) + " ")
        else:
            series = _format_grid(np.asarray(got.data, dtype=np.int64), got.decimals,
                                  spec.type is FieldType.percent, bits)

        if spec.default is None:
            blank = _flag(bits, 0, self.knobs.missing_rate)
        elif got.kind == "grid" and not isinstance(spec.default, bool | str):
            # a cell equal to the default ("0 incidents") is often simply left blank
            default = round(float(spec.default) * 10**got.decimals)
            blank = (np.asarray(got.data) == default) & _flag(bits, 0, _BLANK_DEFAULT_RATE)
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


def _format_grid(grid: Ints, decimals: int, percent: bool, bits: npt.NDArray[np.uint64]) -> pl.Series:
    """Grid integers as text, each distinct value rendered once per spelling and gathered."""
    total = grid.size
    if total == 0:
        return pl.Series([], dtype=pl.String)
    spelling = np.zeros(total, dtype=np.int64)
    if percent:
        spelling += _flag(bits, 1, _PERCENT_SIGN_RATE)
    big = np.abs(grid) >= 1000 * 10**decimals
    spelling += 2 * (big & _flag(bits, 2, _THOUSANDS_RATE))
    spelling[_flag(bits, 3, _FULLWIDTH_RATE)] = 4

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
