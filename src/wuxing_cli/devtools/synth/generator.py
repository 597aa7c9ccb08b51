"""The input columns of one criteria for many branches and periods, driven by latent quality.

Every branch has a quality that takes a random walk between periods; each star and indicator adds a
persistent effect; the share of an indicator's points a value earns follows ``sigmoid`` of their sum.
Ratio fields (``a / b * 100``) get a numerator that hits the target ratio; vetoes and caps fire for a
set share of branches.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from ...models.criteria import Criteria, FieldSpec, Indicator
from .render import format_column
from .streams import Bools, Floats32, Knobs, ar_paths, random_bits, sigmoid, stream, stream_key
from .values import RATIO, Values, free_values, grid_bounds, grid_decimals, rule_values, triggers


class CriteriaGenerator:
    """Generates the input columns of one criteria for ``size`` branches × ``n_periods`` periods."""

    def __init__(
        self, crit: Criteria, index: int, seed: int, size: int, n_periods: int, knobs: Knobs
    ) -> None:
        self.crit = crit
        self.size = size
        self.n_periods = n_periods
        self.knobs = knobs
        self.base = [seed, index, stream_key(crit.id)]
        self.quality = self._quality()
        self.star_effects = self._star_effects()

    def rng(self, *keys: int | str) -> np.random.Generator:
        return stream(*self.base, *(k if isinstance(k, int) else stream_key(k) for k in keys))

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
            + ar_paths(self.rng("star", s.id), self.n_periods, self.size, k.star_sd)
            for s in stars
        }

    def _g(self, fid: str, star: str | None) -> Floats32:
        noise = ar_paths(self.rng("indicator", fid), self.n_periods, self.size, self.knobs.indicator_sd)
        z = self.quality + noise
        if star is not None:
            z = z + self.star_effects[star]
        return sigmoid(z).ravel()

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
            m = RATIO.match(spec.expr or "")
            if (
                m
                and m.group(1) in inputs
                and m.group(2) in inputs
                and m.group(1) != m.group(2)
                and m.group(1) not in driver
                and m.group(1) not in numerators
            ):
                numerators[m.group(1)] = (fid, m.group(2), float(m.group(3) or 1.0))

        values: dict[str, Values] = {}
        for fid, spec in inputs.items():
            if fid in numerators:
                continue
            rng = self.rng("value", fid)
            got: Values | None = None
            if fid in driver:
                ind, star = driver[fid]
                got = rule_values(ind, spec, self._g(fid, star), rng)
            elif spec.default is not None and spec.numeric:
                dec = grid_decimals(spec)
                grid = np.full(total, round(float(spec.default) * 10**dec), dtype=np.int64)
                got = Values("grid", grid, dec)
            values[fid] = got if got is not None else free_values(spec, fid, rng, total)
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
        values: dict[str, Values],
    ) -> Values:
        spec = self.crit.fields[fid]
        rng = self.rng("value", fid)
        ind, star = driver[derived]
        target = rule_values(ind, self.crit.fields[derived], self._g(derived, star), rng)
        den = values[denominator]
        if target is None or target.kind != "grid" or den.kind != "grid":
            return free_values(spec, fid, rng, self.size * self.n_periods)
        ratio = target.data.astype(np.float64) / 10**target.decimals / scale
        den_value = den.data.astype(np.float64) / 10**den.decimals
        dec = grid_decimals(spec)
        grid = np.round(ratio * den_value * 10**dec).astype(np.int64)
        kl, ku = grid_bounds(spec, dec)
        if kl is not None or ku is not None:
            grid = np.clip(grid, kl, ku)
        return Values("grid", grid, dec)

    def _fire_vetoes(self, values: dict[str, Values]) -> dict[str, Bools]:
        """Set veto/cap inputs so that one fires for ``veto_rate`` of branches in each period."""
        targets: list[tuple[str, int, int]] = []  # (field, grid value that fires, direction of "worse")
        conditions = [v.when for s in self.crit.stars for v in s.vetoes] + [c.when for c in self.crit.caps]
        for when in conditions:
            for name, op, number in triggers(when):
                spec = self.crit.fields.get(name)
                got = values.get(name)
                if spec is None or spec.derived or got is None or got.kind != "grid":
                    continue
                x = number * 10**got.decimals
                fire = {">": math.floor(x) + 1, ">=": math.ceil(x), "<": math.ceil(x) - 1,
                        "<=": math.floor(x)}[op]
                kl, ku = grid_bounds(spec, got.decimals)
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
            kl, ku = grid_bounds(self.crit.fields[name], got.decimals)
            if kl is not None or ku is not None:
                data = np.clip(data, kl, ku)
            values[name] = Values("grid", data, got.decimals)
            fired[name] = fired.get(name, np.zeros(total, dtype=np.bool_)) | sel
        return fired

    def _format(self, fid: str, spec: FieldSpec, got: Values, protected: Bools | None) -> pl.Series:
        bits = random_bits(self.rng("format", fid), self.size * self.n_periods)
        return format_column(spec, got, bits, self.knobs.missing_rate, protected)
