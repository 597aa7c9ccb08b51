"""Parsing of option values shared by several commands."""

from __future__ import annotations

from ..errors import Problem, ProblemCode, UsageError

GROUP_ALIASES = {
    "township": "township", "乡镇": "township", "街道": "township", "乡镇(街道)": "township",
    "county": "county", "县区": "county", "县": "county",
    "branch_type": "branch_type", "类型": "branch_type",
    "period": "period", "期间": "period",
}


def check_by(by: str | None) -> str | None:
    """The reserved column to group by (``township``, ``county``, …, or their Chinese names)."""
    if by is None:
        return None
    key = GROUP_ALIASES.get(by.strip().lower()) or GROUP_ALIASES.get(by.strip())
    if key is None:
        raise UsageError([Problem(f"cannot group by '{by}'", code=ProblemCode.BY,
                                  hint="use township (乡镇), county (县区), branch_type (类型) or period (期间)")])
    return key
