"""Where an input field counts, in plain words: the indicators, vetoes and caps that read it.

The form's header comments and its guide sheet say, for every column, which indicator (and rule),
veto or cap uses the value, following derived fields back to the inputs they read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import expr as ex
from ..models.criteria import Criteria, FieldSpec
from ..report.rule_text import rule_text
from .text import number_text

_IDENT = re.compile(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*")
_OPERATORS = ((">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("==", "="))
_WORDS = {"and": "且", "or": "或", "not": "非"}


@dataclass(frozen=True)
class Use:
    """One way an input field counts: an indicator, a veto or a cap (directly or via derived fields)."""

    star: str | None
    text: str


def field_uses(criteria: Criteria) -> dict[str, list[Use]]:
    """Input field id → where it counts, in plain words, in the order of the criteria file."""
    uses: dict[str, list[Use]] = {}

    def add(fields: Sequence[str], use: Use) -> None:
        for fid in fields:
            uses.setdefault(fid, []).append(use)

    for star in criteria.stars:
        for ind in star.indicators:
            spec = criteria.fields.get(ind.field)
            via = ""
            if spec is not None and spec.derived and spec.expr:
                via = f"（由 {describe_expr(spec.expr, criteria)} 算出{_unit_suffix(spec)}）"
            required = "，必达" if ind.required else ""
            text = f"{star.name} › {ind.name}（满分 {number_text(ind.points)}{required}）：{rule_text(ind, spec)}{via}"
            add(input_sources(criteria, [ind.field]), Use(star.name, text))
        for veto in star.vetoes:
            text = f"{star.name} › 一票否决：{veto.name}（{describe_expr(veto.when, criteria)} 时该星不得）"
            add(input_sources(criteria, _names(veto.when, criteria)), Use(star.name, text))
    for cap in criteria.caps:
        text = (f"封顶（限定星级）：{cap.name}（{describe_expr(cap.when, criteria)} 时星级最高为"
                f"{criteria.level_label(cap.max_stars)}）")
        add(input_sources(criteria, _names(cap.when, criteria)), Use(None, text))
    return uses


def input_sources(criteria: Criteria, field_ids: Sequence[str]) -> list[str]:
    """The input fields that ``field_ids`` read, following derived fields (in first-seen order)."""
    out: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(field_ids))
    while stack:
        fid = stack.pop()
        if fid in seen:
            continue
        seen.add(fid)
        spec = criteria.fields.get(fid)
        if spec is None:
            continue
        if spec.derived and spec.expr:
            stack.extend(reversed(_names(spec.expr, criteria)))
        else:
            out.append(fid)
    return out


def _names(text: str, criteria: Criteria) -> list[str]:
    """Field ids an expression reads, in order of appearance."""
    try:
        found = ex.names(ex.parse(text))
    except Exception:  # an invalid expression: validation reports it; the form just says less
        return []
    order = {m.group(0): m.start() for m in reversed(list(_IDENT.finditer(text)))}
    return sorted((n for n in found if n in criteria.fields), key=lambda n: order.get(n, 0))


def describe_expr(text: str, criteria: Criteria) -> str:
    """An expression with field ids replaced by their column headers, e.g. ``刑事案件数 > 0``."""

    def label(match: re.Match[str]) -> str:
        word = match.group(0)
        spec = criteria.fields.get(word)
        if spec is not None:
            return short_header(spec.header or spec.name or word, spec.unit)
        return _WORDS.get(word, word)

    out = _IDENT.sub(label, text)
    for op, sign in _OPERATORS:
        out = out.replace(op, sign)
    return out.replace("*", "×").replace("/", "÷")


def short_header(header: str, unit: str | None) -> str:
    """A header without its trailing unit, e.g. ``刑事案件数(起)`` → ``刑事案件数``."""
    if unit:
        for left, right in (("(", ")"), ("（", "）")):
            if header.endswith(f"{left}{unit}{right}") and len(header) > len(unit) + 2:
                return header[: -len(unit) - 2]
    return header


def _unit_suffix(spec: FieldSpec) -> str:
    return f"，单位 {spec.unit}" if spec.unit and spec.unit != "%" else ""
