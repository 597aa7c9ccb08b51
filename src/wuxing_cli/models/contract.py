"""The data contract (SPEC §3): reserved columns, their accepted headers, branch-type spellings,
the matching key of headers and values, and the file kinds read as data. Pure Python: no polars."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import DataError, Problem, ProblemCode

if TYPE_CHECKING:
    from .criteria import Criteria

RESERVED = ("branch_id", "branch_name", "county", "township", "branch_type", "period")

#: Headers accepted for each reserved column (SPEC §3), best first; matched by :func:`header_key`.
RESERVED_HEADERS: dict[str, tuple[str, ...]] = {
    "branch_id": ("branch_id", "支部编码", "组织编码", "编码", "代码"),
    "branch_name": (
        "branch_name", "支部名称", "党组织名称", "名称", "村(社区)", "村(社区)名称", "党支部名称",
        "村名", "村名称", "社区名称", "村(居)名称", "村(社区)党组织名称", "村(社区)党支部名称",
    ),
    "county": ("county", "县区", "县(市、区)", "县(市,区)", "所属县区", "县区名称", "所属县(市、区)"),
    "township": (
        "township", "乡镇", "乡镇(街道)", "街道", "所属乡镇", "乡镇名称", "乡镇(街道)名称", "所属乡镇(街道)",
        "所属街道",
    ),
    "branch_type": ("branch_type", "类型", "支部类型"),
    "period": ("period", "期间", "月份", "季度"),
}

#: Spellings of the two standard branch types; a criteria whose ``branch_type`` (or one of its
#: aliases) is among them claims them all.
BRANCH_TYPE_ALIASES: dict[str, tuple[str, ...]] = {
    "农村": ("农村", "村", "行政村", "rural", "village"),
    "社区": ("社区", "城市社区", "community", "urban"),
}

LINE = "__line"  #: column of the 1-based physical line (or Excel row) of a record
MAX_LISTED = 200  #: problems listed before "… and N more"
DEFAULT_NEAR = 5.0  #: points below a pass mark that count as a near miss (``--near``)

#: File kinds read as assessment data, and so the files a folder given as input stands for.
DATA_SUFFIXES = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xlsb", ".ods"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".ods"})

#: Characters trimmed from both ends of a cell: Unicode White_Space (what Rust's ``trim`` uses,
#: spelled out so Python and polars agree), plus the zero-width space and a stray BOM.
STRIP_CHARS = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
)


def header_key(text: str) -> str:
    """Matching key of a header or a branch type / period value: NFKC, lower case, no spaces."""
    norm = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in norm if not (ch.isspace() or ch in STRIP_CHARS)).lower()


def branch_type_claims(criteria: Sequence[Criteria]) -> tuple[dict[str, int], list[str]]:
    """Branch-type key -> criteria index, and the claimed spellings (for messages).

    Raises :class:`DataError` when two criteria claim the same branch type.
    """
    claims: dict[str, int] = {}
    spellings: list[str] = []
    clashes: dict[tuple[int, int], list[str]] = {}
    for i, crit in enumerate(criteria):
        names = [crit.branch_type, *crit.branch_type_aliases]
        keys = {header_key(n) for n in names}
        for canonical, aliases in BRANCH_TYPE_ALIASES.items():
            group = [canonical, *aliases]
            if keys & {header_key(a) for a in group}:
                names.extend(group)
        seen: set[str] = set()
        for spelling in names:
            key = header_key(spelling)
            if not key or key in seen:
                continue
            seen.add(key)
            owner = claims.get(key)
            if owner is None:
                claims[key] = i
                spellings.append(spelling)
            elif owner != i:
                clashes.setdefault((owner, i), []).append(spelling)
    if clashes:
        raise DataError(
            [
                Problem(
                    f"criteria '{criteria[a].id}' and '{criteria[b].id}' both claim branch type "
                    + ", ".join(f"'{t}'" for t in types),
                    hint="give each branch type to one criteria file",
                    code=ProblemCode.BRANCH_TYPE_CONFLICT,
                )
                for (a, b), types in clashes.items()
            ]
        )
    return claims, spellings
