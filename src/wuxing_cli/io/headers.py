"""Headers → reserved columns and criteria fields: matching, suggestions for a missing column, and
the header checks of ``wuxing validate --data``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode
from wuxing_cli.models.contract import RESERVED, RESERVED_HEADERS, branch_type_claims, header_key
from wuxing_cli.models.criteria import Criteria

from .data_problems import quote_list
from .keys import key_expr
from .raw import RawTable

_RESERVED_LABELS = {
    "branch_id": "branch id",
    "branch_name": "branch name",
    "county": "county",
    "township": "township",
    "branch_type": "branch type",
    "period": "period",
}


@dataclass
class Resolution:
    reserved: dict[str, int | None]  # reserved name -> column index
    fields: list[dict[str, int | None]]  # per criteria: input field id -> column index
    common: list[Problem]  # file-level problems
    per_criteria: list[list[Problem]]  # header problems of each criteria


def _find(candidates: Sequence[str], index: dict[str, int]) -> list[int]:
    found: list[int] = []
    for candidate in candidates:
        col = index.get(header_key(candidate))
        if col is not None and col not in found:
            found.append(col)
    return found


def _suggest(wanted: Sequence[str], headers: Sequence[str], taken: set[int]) -> str:
    available = [h for i, h in enumerate(headers) if h and i not in taken]
    keys = {header_key(h): h for h in available}
    near: list[str] = []
    for want in wanted:
        for key in difflib.get_close_matches(header_key(want), list(keys), n=1, cutoff=0.6):
            if keys[key] not in near:
                near.append(keys[key])
    text = f"did you mean '{near[0]}'? " if near else ""
    shown = available[:40]
    more = ", …" if len(available) > len(shown) else ""
    return text + (
        "columns in the file: " + quote_list(shown) + more if shown else "the file has no named columns"
    )


def resolve_headers(raw: RawTable, criteria: Sequence[Criteria]) -> Resolution:
    name, line, headers = raw.path, raw.header_line, raw.headers
    index = {header_key(h): i for i, h in enumerate(headers) if header_key(h)}
    common: list[Problem] = []
    reserved: dict[str, int | None] = {}
    for column in RESERVED:
        found = _find(RESERVED_HEADERS[column], index)
        reserved[column] = found[0] if found else None
        if len(found) > 1:
            common.append(
                Problem(
                    f"columns {quote_list(headers[i] for i in found)} all look like the {_RESERVED_LABELS[column]}; "
                    f"using '{headers[found[0]]}'",
                    file=name,
                    line=line,
                    header=headers[found[0]],
                    severity="warning",
                    code=ProblemCode.AMBIGUOUS_COLUMN,
                )
            )
    if reserved["branch_id"] is None:
        common.append(
            Problem(
                "no branch id column: expected one of " + ", ".join(RESERVED_HEADERS["branch_id"]),
                file=name,
                line=line,
                hint=_suggest(RESERVED_HEADERS["branch_id"], headers, set()),
                code=ProblemCode.MISSING_COLUMN,
            )
        )
    reserved_cols = {i: col for col, i in reserved.items() if i is not None}
    all_fields: list[dict[str, int | None]] = []
    per_criteria: list[list[Problem]] = []
    for crit in criteria:
        problems: list[Problem] = []
        chosen: dict[str, int | None] = {}
        users: dict[int, str] = {}
        for fid, spec in crit.input_fields().items():
            wanted = [crit.header_of(fid), *spec.aliases]
            found = _find(wanted, index)
            if not found:
                chosen[fid] = None
                if spec.default is not None:
                    problems.append(
                        Problem(
                            f"no column '{wanted[0]}' (field '{fid}' of {crit.id}): "
                            f"every row takes its default {default_text(spec.default)}",
                            file=name,
                            line=line,
                            header=wanted[0],
                            severity="warning",
                            code=ProblemCode.DEFAULT_COLUMN,
                        )
                    )
                else:
                    also = f" (or {quote_list(wanted[1:])})" if len(wanted) > 1 else ""
                    problems.append(
                        Problem(
                            f"missing column '{wanted[0]}'{also} for field '{fid}' of {crit.id}",
                            file=name,
                            line=line,
                            header=wanted[0],
                            hint=_suggest(wanted, headers, set(reserved_cols)),
                            code=ProblemCode.MISSING_COLUMN,
                        )
                    )
                continue
            col = found[0]
            chosen[fid] = col
            if len(found) > 1:
                problems.append(
                    Problem(
                        f"columns {quote_list(headers[i] for i in found)} all match field '{fid}' of {crit.id}; "
                        f"using '{headers[col]}'",
                        file=name,
                        line=line,
                        header=headers[col],
                        severity="warning",
                        code=ProblemCode.AMBIGUOUS_COLUMN,
                    )
                )
            if col in reserved_cols:
                problems.append(
                    Problem(
                        f"column '{headers[col]}' is both the {_RESERVED_LABELS[reserved_cols[col]]} and "
                        f"field '{fid}' of {crit.id}",
                        file=name,
                        line=line,
                        header=headers[col],
                        hint="give the field another header in the criteria file",
                        code=ProblemCode.COLUMN_CONFLICT,
                    )
                )
            elif col in users:
                problems.append(
                    Problem(
                        f"column '{headers[col]}' matches two fields of {crit.id}: '{users[col]}' and '{fid}'",
                        file=name,
                        line=line,
                        header=headers[col],
                        hint="give the fields distinct headers and aliases in the criteria file",
                        code=ProblemCode.COLUMN_CONFLICT,
                    )
                )
            else:
                users[col] = fid
        all_fields.append(chosen)
        per_criteria.append(problems)
    common.extend(_no_name_column(raw, reserved, criteria))
    return Resolution(reserved, all_fields, common, per_criteria)


def _no_name_column(
    raw: RawTable, reserved: dict[str, int | None], criteria: Sequence[Criteria]
) -> list[Problem]:
    """A warning when no column is the branch name but a column no header rule knows holds text
    (not numbers): most likely the names under a header the contract does not know. The name column
    itself is optional (SPEC §3), so a file of ids and numbers only gets no warning."""
    if reserved["branch_name"] is not None or reserved["branch_id"] is None:
        return []
    known = {header_key(h) for column in RESERVED for h in RESERVED_HEADERS[column]}
    for crit in criteria:
        for fid, spec in crit.input_fields().items():
            known |= {header_key(h) for h in (crit.header_of(fid), *spec.aliases)}
    unknown = [i for i, h in enumerate(raw.headers) if header_key(h) and header_key(h) not in known]
    if not unknown:
        return []
    sample = raw.frame.head(1000).select(
        (raw.text(raw.column_name(i)).cast(pl.Float64, strict=False).is_null()
         & raw.text(raw.column_name(i)).is_not_null()).mean().alias(str(i))
        for i in unknown
    ).row(0)
    texts = [raw.headers[i] for i, share in zip(unknown, sample, strict=True) if share is not None and share > 0.5]
    if not texts:
        return []
    return [
        Problem(
            "no branch name column (a header such as " + ", ".join(RESERVED_HEADERS["branch_name"][1:7])
            + "): reports show the branch ids instead of names; columns holding text that no rule reads: "
            + quote_list(texts[:20]) + (", …" if len(texts) > 20 else ""),
            file=raw.path,
            line=raw.header_line,
            header=texts[0],
            hint=_name_hint(texts),
            severity="warning",
            code=ProblemCode.NO_NAME_COLUMN,
        )
    ]


def _name_hint(unused: Sequence[str]) -> str:
    keys = {header_key(h): h for h in unused}
    near: list[str] = []
    for want in RESERVED_HEADERS["branch_name"]:
        for key in difflib.get_close_matches(header_key(want), list(keys), n=1, cutoff=0.6):
            if keys[key] not in near:
                near.append(keys[key])
    rename = f"if '{near[0]}' holds the names, " if near else "if one of them holds the names, "
    return rename + "rename its header to 支部名称 (or 村(社区)名称)"


def default_text(value: float | bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_headers(raw: RawTable, criteria: Sequence[Criteria]) -> list[Problem]:
    """Problems with the columns of ``raw`` for ``criteria`` (errors and warnings).

    With several criteria and a branch-type column, only the criteria that some row's branch
    type belongs to are checked (a rural-only file need not carry the community columns).
    """
    problems: list[Problem] = []
    try:
        claims, _ = branch_type_claims(criteria)
    except DataError as exc:
        problems.extend(exc.problems)
        claims = {}
    res = resolve_headers(raw, criteria)
    problems.extend(res.common)
    relevant = list(range(len(criteria)))
    type_col = res.reserved["branch_type"]
    if len(criteria) > 1 and type_col is None:
        problems.append(
            Problem(
                "several criteria were given but the file has no branch type column "
                "(" + ", ".join(RESERVED_HEADERS["branch_type"]) + ")",
                file=raw.path,
                line=raw.header_line,
                hint="add a 类型 column (农村/社区), or score each type separately",
                code=ProblemCode.MISSING_COLUMN,
            )
        )
    elif len(criteria) > 1 and type_col is not None and claims:
        keys = (
            raw.frame.select(key_expr(pl.col(raw.column_name(type_col))).unique().drop_nulls())
            .to_series()
            .to_list()
        )
        used = sorted({claims[k] for k in keys if k in claims})
        if used:
            relevant = used
    for i in relevant:
        problems.extend(res.per_criteria[i])
    return problems
