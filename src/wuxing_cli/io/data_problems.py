"""Problems the readers and the loader share: a capped list ("… and N more"), lists of lines and
values in messages, repeated branch ids, empty cells."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode
from wuxing_cli.models.contract import LINE, MAX_LISTED


def quote_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def lines_text(lines: Sequence[int], total: int, limit: int = 10) -> str:
    """``line 3`` / ``lines 3, 5, 9, …``."""
    shown = ", ".join(str(n) for n in lines[:limit])
    return ("line " if total == 1 else "lines ") + shown + (", …" if total > len(lines[:limit]) else "")


def capped(problems: list[Problem], total: int, name: str | None) -> list[Problem]:
    """At most MAX_LISTED problems, then "… and N more" when ``total`` is larger."""
    shown = problems[:MAX_LISTED]
    if total > len(shown):
        shown.append(Problem(f"… and {total - len(shown)} more", file=name, code=ProblemCode.MORE,
                             count=total - len(shown)))
    return shown


def duplicate_id_problems(ids: pl.DataFrame, path: str, header: str) -> tuple[list[Problem], int]:
    """Problems for branch ids that appear more than once in ``ids`` (LINE, branch_id), at most
    MAX_LISTED, and how many ids repeat."""
    dupes = (
        ids.filter(pl.col("branch_id").is_duplicated() & pl.col("branch_id").is_not_null())
        .group_by("branch_id")
        .agg(pl.col(LINE).sort())
        .filter(pl.col(LINE).list.len() > 1)
        .sort(pl.col(LINE).list.first())
    )
    problems = [
        Problem(
            f"branch id '{bid}' appears {len(lines)} times: lines {', '.join(str(n) for n in lines)}",
            file=path,
            line=lines[0],
            header=header,
            value=bid,
            hint="each branch must appear once per period (full-width and half-width characters count as the same)",
            code=ProblemCode.DUPLICATE_ID,
        )
        for bid, lines in dupes.head(MAX_LISTED).iter_rows()
    ]
    return problems, dupes.height


def missing_value_warning(path: str, header: str, fid: str, criteria_id: str, count: int,
                          lines: Sequence[int]) -> Problem:
    """The warning for ``count`` empty cells of a column (no default); ``lines``: the first ones."""
    return Problem(
        f"{count} empty cell{'s' if count > 1 else ''} ({lines_text(lines, count)})",
        file=path,
        line=lines[0],
        header=header,
        hint=f"field '{fid}' of {criteria_id}: an empty cell scores 0; fill it in, "
        "or give the field a default in the criteria file",
        severity="warning",
        code=ProblemCode.MISSING_VALUE,
    )


def id_mismatch_warning(
    old_path: str, new_path: str, *, old: int, new: int, by_id: int, by_name: int, renamed: int, zeros: int,
    examples: Sequence[tuple[str, str, str]],
) -> Problem:
    """The warning for two files that match almost nothing by branch id but mostly by name and township
    (the counts of :class:`wuxing_cli.engine.compare.IdMatch`)."""
    shown = ", ".join(f"{name}: '{a}' → '{b}'" for a, b, name in examples) + (", …" if renamed > len(examples) else "")
    if zeros:
        hint = (f"{zeros} of them differ only in leading zeros: the ids were stored as numbers (Excel drops "
                "leading zeros); format the id column as text in Excel, type the ids again and save")
    else:
        hint = "use the same branch ids (支部编码) in both files: the comparison matches branches by id only"
    return Problem(
        f"only {by_id} of {min(old, new)} branches have the same branch id here and in {old_path}, but {by_name} "
        f"match by name and township ({shown}): they show as new and removed branches",
        file=new_path,
        hint=hint,
        severity="warning",
        code=ProblemCode.IDS_UNMATCHED,
    )
