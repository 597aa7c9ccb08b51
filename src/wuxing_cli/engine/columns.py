"""Names of the result columns that scoring adds per indicator, veto, cap and star (SPEC §4).

One spelling, read by the engine that writes these columns and by every report that reads them.
"""

from __future__ import annotations


def pts_col(star: str, indicator: str) -> str:
    """``pts:<star>:<indicator>``: the indicator's points."""
    return f"pts:{star}:{indicator}"


def veto_col(star: str, veto: str) -> str:
    """``veto:<star>:<veto>``: whether the veto fired."""
    return f"veto:{star}:{veto}"


def cap_col(cap: str) -> str:
    """``cap:<cap>``: whether the cap applies."""
    return f"cap:{cap}"


def star_col(star: str, what: str) -> str:
    """``<star>:<what>``: a star-level result, e.g. ``<star>:awarded``."""
    return f"{star}:{what}"
