"""Small text helpers of the forms: numbers in plain words, Excel's length limits."""

from __future__ import annotations


def number_text(value: float) -> str:
    """A number as a form shows it: at most four decimals, no trailing zeros (``85``, ``0.5``)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def clip(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 code units (Excel's measure), ending in … when cut."""
    if utf16_len(text) <= limit:
        return text
    out = ""
    for ch in text:
        if utf16_len(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Excel's limits on prompts and list sources."""
    return len(text.encode("utf-16-le")) // 2
