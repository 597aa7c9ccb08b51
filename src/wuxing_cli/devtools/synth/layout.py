"""Where the synthetic branches sit: counties, townships of unequal size, branch ids and names."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from ...models.criteria import Criteria
from .names import (
    COMMUNITY_NAMES,
    COUNTIES,
    COUNTY_ROOT_A,
    COUNTY_ROOT_B,
    STREET_NAMES,
    TOWNSHIP_NAMES,
    VILLAGE_NAMES,
)
from .streams import Ints, stream, stream_key

_BRANCHES_PER_COUNTY = 500  # a county has 100–700 branches (SPEC §1)
_VILLAGES_PER_TOWNSHIP = 20
_COMMUNITIES_PER_STREET = 8
_COMMUNITY_SHARE = 0.15  # Henan: ~46,000 villages, ~5,000 communities (rounded up: mixed files)


@dataclass(frozen=True, slots=True)
class Layout:
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
        codes = dict(COUNTIES)
        return [county], [codes.get(county, str(415000 + stream_key(county) % 1000))]
    names: list[str] = []
    codes_out: list[str] = []
    taken = {name for name, _ in COUNTIES}
    start = seed % len(COUNTIES)
    a, b = COUNTY_ROOT_A, COUNTY_ROOT_B
    j = 0  # synthetic names: two characters + 县/区, skipping real names
    for i in range(n_counties):
        if i < len(COUNTIES):
            name, code = COUNTIES[(start + i) % len(COUNTIES)]
        else:
            while True:
                name = a[j % len(a)] + b[(j // len(a)) % len(b)] + ("区" if j % 4 == 0 else "县")
                if j >= len(a) * len(b):
                    name = f"{name}{j // (len(a) * len(b)) + 1}"
                j += 1
                if name not in taken:
                    break
            taken.add(name)
            code = str(415000 + i - len(COUNTIES))
        names.append(name)
        codes_out.append(code)
    return names, codes_out


def branch_layout(
    criteria: Sequence[Criteria], branches: int, seed: int, county: str | None, townships: int | None
) -> Layout:
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
        weight = stream(seed, stream_key("townships"), k).gamma(4.0, 1.0, town_county.size)
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
        return Layout(np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
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
    town_idx = (base + t_all * _coprime_step(len(TOWNSHIP_NAMES), 37)) % len(TOWNSHIP_NAMES)
    street_idx = (base + t_all * _coprime_step(len(STREET_NAMES), 13)) % len(STREET_NAMES)
    town_suffix = np.where((town_idx * 2654435761 >> 7) % 10 < 6, 0, 1)
    town_names = pl.Series(TOWNSHIP_NAMES, dtype=pl.String).gather(town_idx) + pl.Series(
        ["镇", "乡"], dtype=pl.String
    ).gather(town_suffix)
    street_names = pl.Series(STREET_NAMES, dtype=pl.String).gather(street_idx) + "街道"
    township_names = pl.select(
        pl.when(pl.lit(pl.Series(is_comm))).then(pl.lit(street_names)).otherwise(pl.lit(town_names))
    ).to_series()

    # branch names: unique within a township for up to len(list) branches
    tbase = (c_all * 1_000_003 + t_all * 7919 + seed % 65521) * 31
    village_idx = (tbase + b_all * _coprime_step(len(VILLAGE_NAMES), 4391)) % len(VILLAGE_NAMES)
    community_idx = (tbase + b_all * _coprime_step(len(COMMUNITY_NAMES), 97)) % len(COMMUNITY_NAMES)
    villages = pl.Series(VILLAGE_NAMES, dtype=pl.String).gather(village_idx) + "村"
    communities = pl.Series(COMMUNITY_NAMES, dtype=pl.String).gather(community_idx) + "社区"
    names = pl.select(
        pl.when(pl.lit(pl.Series(is_comm))).then(pl.lit(communities)).otherwise(pl.lit(villages))
    ).to_series()

    counties = pl.Series(county_names, dtype=pl.String).gather(c_all)
    return Layout(k_all, ids, names, counties, township_names)
