"""Random streams of the generator: one per purpose, so changing one knob does not reshuffle the rest.

Also the knobs of a run and the array types the modules share.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats32 = npt.NDArray[np.float32]
AnyFloats = npt.NDArray[np.floating[Any]]
Bools = npt.NDArray[np.bool_]

_AR = 0.93  # period-to-period persistence of star and indicator effects


def stream_key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def stream(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def sigmoid(z: Floats32) -> Floats32:
    # logistic ≈ standard normal CDF with the 1.702 factor
    out: Floats32 = np.float32(1.0) / (np.float32(1.0) + np.exp(np.float32(-1.702) * z))
    return out


def random_bits(rng: np.random.Generator, size: int) -> npt.NDArray[np.uint64]:
    """64 random bits per cell: four independent 16-bit uniforms for cheap per-cell coin flips."""
    return rng.bit_generator.random_raw(size)


def coin(bits: npt.NDArray[np.uint64], slot: int, rate: float) -> Bools:
    """A coin with probability ``rate`` (resolution 1/65536) from the 16-bit ``slot`` (0–3) of ``bits``."""
    threshold = np.uint64(min(65536, round(rate * 65536)))
    return ((bits >> np.uint64(16 * slot)) & np.uint64(0xFFFF)) < threshold


@dataclass(frozen=True, slots=True)
class Knobs:
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



def ar_paths(rng: np.random.Generator, n_periods: int, size: int, sd: float) -> Floats32:
    """(periods, size) AR(1) noise with stationary sd ``sd``."""
    eps = rng.standard_normal((n_periods, size), dtype=np.float32) * np.float32(sd)
    out = np.empty_like(eps)
    out[0] = eps[0]
    ar, inno = np.float32(_AR), np.float32(math.sqrt(1.0 - _AR * _AR))
    for p in range(1, n_periods):
        out[p] = ar * out[p - 1] + inno * eps[p]
    return out
