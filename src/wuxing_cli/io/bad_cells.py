"""The bad cells of an assessment file: empty or invalid reserved cells (branch id, type, period) and
field cells, each with its reason; as problems, or as the rejected rows of ``--skip-invalid``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode
from wuxing_cli.models.contract import LINE
from wuxing_cli.models.criteria import Criteria, FieldSpec
from wuxing_cli.models.results import Rejected

from .cells import EMPTY, describe_reason
from .headers import Resolution
from .raw import RawTable

CRITERIA_INDEX = "__criteria"  #: column of the index of the criteria a row belongs to (null: none)

#: A number in scientific notation (``4.15556E+11``): what Excel writes for a long id in a column it
#: took for numbers when it saves the sheet as CSV. The digits after the sixth are lost.
SCIENTIFIC = r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$"
_SCIENTIFIC_HINT = (
    "the id column was saved as a number: format the column as text in Excel and save again "
    "(the digits Excel dropped cannot be recovered from this file: type or paste the ids again)"
)


def scientific_id() -> pl.Expr:
    """Whether the branch id is a number in scientific notation (see :data:`SCIENTIFIC`)."""
    return pl.col("branch_id").str.contains(SCIENTIFIC).fill_null(False)


@dataclass
class BadCell:
    """One bad cell, before it becomes a Problem or a rejection reason."""

    line: int
    order: int  # column position in the file (reserved problems sort first in their row)
    branch_id: str | None
    header: str
    value: str | None
    reason: str
    hint: str | None = None
    code: ProblemCode = ProblemCode.BAD_CELL


class Reasons:
    """Memoised describe_reason (bad values repeat a lot in a broken file)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str], str] = {}

    def __call__(self, value: str | None, spec: FieldSpec) -> str:
        if value is None:
            return EMPTY + " (no default)"
        key = (id(spec), value)
        found = self._memo.get(key)
        if found is None:
            found = describe_reason(value, spec) or "invalid value"
            self._memo[key] = found
        return found


def bad_reserved_cells(
    raw: RawTable, res: Resolution, base: pl.DataFrame, criteria_count: int, spellings: Sequence[str],
    periods: Sequence[str], limit: int | None,
) -> tuple[list[BadCell], int]:
    """Bad cells of the reserved columns (at most ``limit`` per check) and how many there are."""
    bad = ProblemCode.BAD_CELL
    checks: list[tuple[str, pl.Expr, str, ProblemCode, str | None]] = [
        ("branch_id", pl.col("branch_id").is_null(), "empty branch id", bad, None),
        ("branch_id", scientific_id(), "branch id in scientific notation: Excel changed the id",
         ProblemCode.ID_SCIENTIFIC, _SCIENTIFIC_HINT),
    ]
    if res.reserved["branch_type"] is not None:
        claimed = ", ".join(spellings)
        if criteria_count > 1:
            checks.append(
                (
                    "branch_type",
                    pl.col("branch_type").is_null(),
                    f"empty branch type (expected one of {claimed})",
                    bad,
                    None,
                )
            )
        checks.append(
            (
                "branch_type",
                pl.col("branch_type").is_not_null() & pl.col(CRITERIA_INDEX).is_null(),
                f"not a branch type of the criteria given ({claimed})",
                bad,
                None,
            )
        )
    if periods:
        checks.append(("period", pl.col("period").is_null(), "empty period (other rows have one)", bad, None))
    cells: list[BadCell] = []
    total = 0
    for column, flag, reason, code, hint in checks:
        hit = base.lazy().filter(flag).select(LINE, "branch_id", pl.col(column).alias("__value")).collect()
        total += hit.height
        header = header_of(raw, res.reserved[column])
        for line, bid, value in head_rows(hit, limit).iter_rows():
            cells.append(BadCell(line, -1, bid, header, value, reason, hint=hint, code=code))
    return cells, total


def bad_field_cells(
    raw: RawTable, base: pl.DataFrame, frame: pl.DataFrame, read: Sequence[tuple[str, int]], crit: Criteria,
    limit: int | None, reasons: Reasons,
) -> tuple[list[BadCell], int]:
    """Bad cells of the fields (at most ``limit`` per field, with their text) and how many there are.

    ``frame``: the typed rows, with a ``__bad_<fid>`` flag per field ``read`` (field id, column index);
    ``base``: the rows as read, where the text of a bad cell is looked up.
    """
    if not read:
        return [], 0
    fields = crit.input_fields()
    counts = frame.select(pl.col(f"__bad_{fid}").sum() for fid, _ in read).row(0)
    cells: list[BadCell] = []
    total = 0
    for (fid, col), count in zip(read, counts, strict=True):
        if not count:
            continue
        total += count
        spec = fields[fid]
        hit = head_rows(frame.select(LINE, "branch_id").filter(frame.get_column(f"__bad_{fid}")), limit)
        texts = (
            base.lazy()
            .filter(pl.col(LINE).is_in(hit.get_column(LINE).implode()))
            .select(LINE, _cell_text(raw, col).alias("__value"))
        )
        hit = hit.join(texts.collect(), on=LINE, how="left", maintain_order="left")
        for line, bid, value in hit.iter_rows():
            cells.append(BadCell(line, col, bid, raw.headers[col], value, reasons(value, spec)))
    return cells, total


def _cell_text(raw: RawTable, index: int) -> pl.Expr:
    """The text of the cells of field column ``index`` (``__c<index>`` of the base frame)."""
    column = pl.col(f"__c{index}")
    if raw.is_coded(raw.column_name(index)):
        assert raw.dictionary is not None
        return pl.lit(raw.dictionary).gather(column)
    return column


def cell_problem(cell: BadCell, name: str) -> Problem:
    return Problem(cell.reason, file=name, line=cell.line, header=cell.header, value=cell.value,
                   hint=cell.hint, code=cell.code)


def rejections(cells: Sequence[BadCell]) -> tuple[list[Rejected], pl.Series]:
    """``--skip-invalid``: the rows with a bad cell, each with its reasons, and their lines."""
    by_line: dict[int, list[BadCell]] = {}
    for c in cells:
        by_line.setdefault(c.line, []).append(c)
    rejected = [
        Rejected(
            line,
            group[0].branch_id,
            tuple(f"column '{c.header}' value '{c.value or ''}': {c.reason}" for c in group),
        )
        for line, group in by_line.items()
    ]
    return rejected, pl.Series(LINE, sorted(by_line), dtype=pl.Int64)


def head_rows(frame: pl.DataFrame, limit: int | None) -> pl.DataFrame:
    return frame if limit is None else frame.head(limit)


def header_of(raw: RawTable, index: int | None) -> str:
    return raw.headers[index] if index is not None else ""


