"""Loading an assessment file: read, check and type it against criteria (SPEC §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from wuxing_cli.errors import CriteriaError, DataError, Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import LINE, MAX_LISTED, RESERVED, RESERVED_HEADERS, branch_type_claims
from wuxing_cli.models.criteria import Criteria
from wuxing_cli.models.results import Assessment, LoadedPart

from .bad_cells import (
    CRITERIA_INDEX,
    Reasons,
    bad_field_cells,
    bad_reserved_cells,
    cell_problem,
    header_of,
    rejections,
    scientific_id,
)
from .data_problems import capped, duplicate_id_problems, missing_value_warning
from .field_values import Lookups, field_default, field_dtype, typed_value
from .headers import Resolution, resolve_headers
from .keys import keyed
from .percent_scale import percent_scale_warnings
from .period_select import select_period
from .raw import RawTable
from .reader import read_coded
from .sheet_layout import blank_group_warnings


@dataclass
class _Typed:
    """The typed rows of the branches of one criteria."""

    index: int  # of the criteria
    frame: pl.DataFrame  # LINE, the reserved columns, each field's value, __e_<fid> (empty), __bad_<fid>
    read: list[tuple[str, int]]  # (field id, column index) of the fields the file has a column for


def load_assessment(
    path: Path,
    criteria: Sequence[Criteria],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    period: str | None = None,
    strict: bool = False,
    skip_invalid: bool = False,
    line_offset: int = 0,
    partial: bool = False,
) -> Assessment:
    """Read, check and type an assessment file against ``criteria`` (SPEC §3).

    ``line_offset``: see :func:`read_coded`; ``partial``: the file is one slice of a larger one
    (scoring a large file in slices), so a ``period`` it lacks is not an error.

    Raises DataError listing every problem (bad cells, duplicate ids, missing columns…),
    UsageError when the command line must change (several periods and no ``period``, several
    criteria and no branch-type column), CriteriaError for a field default that is not valid.
    With ``skip_invalid`` rows with bad cells are left out and listed in ``rejected`` instead.
    """
    if not criteria:
        raise UsageError([Problem("no criteria given")])
    claims, spellings = branch_type_claims(criteria)
    defaults = _field_defaults(criteria)
    raw = read_coded(path, encoding=encoding, sheet=sheet, line_offset=line_offset)
    name = raw.path
    res = resolve_headers(raw, criteria)
    warnings = [*raw.notes, *_column_warnings(raw, res, len(criteria))]
    base = _columns(raw, res)
    base, totals = _without_totals(raw, res, base)
    warnings.extend(totals)
    periods, selected, base = select_period(base, period, res.reserved["period"] is not None, name, partial=partial)
    rows_read = base.height
    warnings.extend(blank_group_warnings(raw, res, base))
    base = base.with_columns(_criteria_index(base, len(criteria), claims).alias(CRITERIA_INDEX))
    id_header = header_of(raw, res.reserved["branch_id"])

    # fatal: duplicate ids (across slices, the caller checks them: see ``partial``)
    fatal: list[Problem] = []
    fatal_total = 0
    if not partial:
        fatal, fatal_total = duplicate_id_problems(_ids(base), name, id_header)

    limit = None if skip_invalid else MAX_LISTED
    cells, bad_total = bad_reserved_cells(raw, res, base, len(criteria), spellings, periods, limit)
    reasons = Reasons()
    lookups = Lookups(raw.dictionary)
    header_errors: list[Problem] = []
    typed_parts: list[_Typed] = []
    for k, crit in enumerate(criteria):
        typed = _typed_rows(raw, res, base, k, crit, defaults[k], strict, lookups, single=len(criteria) == 1)
        if typed.frame.height == 0:
            continue
        for problem in res.per_criteria[k]:
            (header_errors if problem.is_error else warnings).append(problem)
        found, count = bad_field_cells(raw, base, typed.frame, typed.read, crit, limit, reasons)
        cells.extend(found)
        bad_total += count
        typed_parts.append(typed)

    cells.sort(key=lambda c: (c.line, c.order))
    cell_problems = [cell_problem(c, name) for c in cells[:MAX_LISTED]] if partial else []
    if partial and cells and not skip_invalid and not header_errors:
        # A slice: its bad cells are listed with those of the other slices (and the duplicate ids
        # across all of them), so they are returned rather than raised.
        return Assessment(
            path=name,
            encoding=raw.encoding,
            parts=[],
            rows_read=rows_read,
            periods=periods,
            period=selected,
            warnings=warnings,
            ids=_ids(base),
            id_header=id_header,
            problems=cell_problems,
            problem_total=bad_total,
        )
    if header_errors or fatal or (cells and not skip_invalid):
        listed = header_errors + fatal + [cell_problem(c, name) for c in cells[:MAX_LISTED]]
        if not strict:  # the empty cells too, so that one run lists everything to fix (validate --data)
            for typed in typed_parts:
                missing = [(fid, col) for fid, col in typed.read if defaults[typed.index][fid] is None]
                warnings.extend(_missing_warnings(typed.frame, criteria[typed.index], missing, raw))
        raise DataError(capped(listed, fatal_total + len(header_errors) + bad_total, name), warnings=warnings)

    rejected, dropped = rejections(cells)
    parts: list[LoadedPart] = []
    for typed in typed_parts:
        crit = criteria[typed.index]
        kept = typed.frame.filter(~pl.col(LINE).is_in(dropped.implode())) if rejected else typed.frame
        if kept.height == 0:
            continue
        if not strict:
            missing = [(fid, col) for fid, col in typed.read if defaults[typed.index][fid] is None]
            warnings.extend(_missing_warnings(kept, crit, missing, raw))
        warnings.extend(percent_scale_warnings(raw, base, kept, crit, typed.read))
        parts.append(_loaded_part(crit, kept, {fid: raw.headers[col] for fid, col in typed.read}))
    return Assessment(
        path=name,
        encoding=raw.encoding,
        parts=parts,
        rows_read=rows_read,
        periods=periods,
        period=selected,
        warnings=warnings,
        rejected=rejected,
        ids=_ids(base) if partial else None,
        id_header=id_header,
        problems=cell_problems,
        problem_total=bad_total if partial else 0,
    )


# ---- the steps of load_assessment ----------------------------------------------------------------


def _field_defaults(criteria: Sequence[Criteria]) -> list[dict[str, float | int | bool | str | None]]:
    """The typed default of every input field, per criteria; raises CriteriaError for a default that
    is not valid and for a field id that is a reserved column's."""
    defaults = [
        {fid: field_default(crit, fid, spec) for fid, spec in crit.input_fields().items()}
        for crit in criteria
    ]
    for crit in criteria:
        for fid in crit.input_fields():
            if fid in RESERVED or fid.startswith("__"):
                raise CriteriaError(
                    [
                        Problem(
                            f"field id '{fid}' of {crit.id} is reserved for a data column",
                            key=f"fields.{fid}",
                        )
                    ]
                )
    return defaults


def _column_warnings(raw: RawTable, res: Resolution, criteria_count: int) -> list[Problem]:
    """The file-level column warnings; raises for its column errors, and for several criteria
    without a branch-type column to match rows to them."""
    errors = [p for p in res.common if p.is_error]
    if errors:
        raise DataError(errors, warnings=[p for p in res.common if not p.is_error])
    if criteria_count > 1 and res.reserved["branch_type"] is None:
        raise UsageError(
            [
                Problem(
                    f"{criteria_count} criteria were given but the file has no branch type column "
                    "(" + ", ".join(RESERVED_HEADERS["branch_type"]) + ") to match rows to them",
                    file=raw.path,
                    line=raw.header_line,
                    hint="add a 类型 column (农村/社区), or give one criteria",
                    code=ProblemCode.MISSING_COLUMN,
                )
            ]
        )
    return [p for p in res.common if not p.is_error]


def _columns(raw: RawTable, res: Resolution) -> pl.DataFrame:
    """LINE, the reserved columns as text (null when the file has none), and every field column
    read as ``__c<index>`` (codes when coded)."""

    def reserved(index: int | None) -> pl.Expr:
        if index is None:
            return pl.lit(None, pl.String)
        return raw.text(raw.column_name(index))

    return raw.frame.select(
        pl.col(LINE),
        *(reserved(res.reserved[c]).alias(c) for c in RESERVED),
        *(
            pl.col(raw.column_name(i)).alias(f"__c{i}")
            for i in sorted({i for chosen in res.fields for i in chosen.values() if i is not None})
        ),
    )


#: A totals row's label (NFKC, no spaces): 合计 / 总计 / 小计 / 共计, maybe after a place (城关镇小计,
#: 全县合计) and before a colon; 总数 / 汇总 alone; Total / Subtotal / Sum.
_TOTALS_LABEL = r"^(?:.{0,12}(?:合计|总计|小计|共计)[:：]?|总数|汇总|(?i:total|subtotal|grandtotal|sum)[:：]?)$"
_TOTALS_COLUMNS = ("branch_id", "branch_name", "township", "county")
_TOTALS_LISTED = 20


def _without_totals(raw: RawTable, res: Resolution, base: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """``base`` without its totals rows (合计 / 总计 / 小计 …), and a warning naming each one.

    A totals row has a totals label as its branch id, or no branch id and a totals label in the
    name, township or county column or the file's first column (序号). Left in, it would be scored
    as a branch (or fail with unrelated "empty branch type" / "empty period" errors).
    """
    if res.reserved["branch_id"] is None:
        return base, []
    headers = [header_of(raw, res.reserved[c]) for c in _TOTALS_COLUMNS if res.reserved[c] is not None]
    rows = base.select(
        LINE, "branch_id",
        *(pl.col(c).alias(f"__t{i}") for i, c in enumerate(c for c in _TOTALS_COLUMNS if res.reserved[c] is not None)),
    )
    if raw.headers and 0 not in res.reserved.values():  # the first column (序号) of the file
        first = raw.frame.select(raw.text(raw.column_name(0)).alias(f"__t{len(headers)}")).to_series()
        rows = rows.with_columns(first)
        headers.append(raw.headers[0])

    def label(text: pl.Expr) -> pl.Expr:
        return text.str.replace_all(r"\s+", "").str.contains(_TOTALS_LABEL).fill_null(False)

    flags = [label(pl.col(f"__t{i}")) for i in range(len(headers))]
    is_total = label(pl.col("branch_id")) | (pl.col("branch_id").is_null() & pl.any_horizontal(flags))
    where = pl.coalesce([pl.when(f).then(pl.lit(i, pl.Int32)) for i, f in enumerate(flags)])
    hits = rows.with_columns(where.alias("__where")).filter(is_total)
    if hits.height == 0:
        return base, []
    problems: list[Problem] = []
    for row in hits.head(_TOTALS_LISTED).iter_rows(named=True):
        index = row["__where"] if row["__where"] is not None else 0
        header, value = headers[index], row[f"__t{index}"]
        problems.append(
            Problem(
                f"left out as a totals row ('{value}'): it is not a branch and is not scored",
                file=raw.path,
                line=row[LINE],
                header=header,
                value=value,
                hint="a 合计/小计 row is not needed: wuxing adds up the branches itself; delete the row "
                "to silence this note",
                severity="warning",
                code=ProblemCode.TOTALS_ROW,
            )
        )
    if hits.height > _TOTALS_LISTED:
        problems.append(Problem(f"… and {hits.height - _TOTALS_LISTED} more totals rows left out", file=raw.path,
                                severity="warning", code=ProblemCode.MORE, count=hits.height - _TOTALS_LISTED))
    return base.filter(~pl.col(LINE).is_in(hits.get_column(LINE).implode())), problems


def _ids(base: pl.DataFrame) -> pl.DataFrame:
    """LINE and the branch ids for the duplicate check: an id in scientific notation is left out (it is an
    error of its own, and ids Excel rounded alike would each be reported again as duplicates)."""
    return base.select(LINE, pl.when(scientific_id()).then(None).otherwise(pl.col("branch_id")).alias("branch_id"))


def _criteria_index(base: pl.DataFrame, criteria_count: int, claims: dict[str, int]) -> pl.Expr:
    """Which criteria each row belongs to (by its branch type), null for none."""
    type_key = keyed(base, "branch_type")
    if criteria_count == 1:
        return (
            pl.when(pl.col("branch_type").is_null() | type_key.is_in(list(claims)))
            .then(pl.lit(0, pl.Int32))
            .otherwise(pl.lit(None, pl.Int32))
        )
    return type_key.replace_strict(claims, default=None, return_dtype=pl.Int32)


def _typed_rows(
    raw: RawTable, res: Resolution, base: pl.DataFrame, k: int, crit: Criteria,
    defaults: dict[str, float | int | bool | str | None], strict: bool, lookups: Lookups, *, single: bool,
) -> _Typed:
    """The rows of criteria ``k`` with every field typed, defaults filled in and bad cells flagged.

    Stage 1: the value of every field and where its cells are empty. The text of the cells is not
    kept: it is fetched again for the bad cells only. Stage 2: bad flags, defaults for empty cells.
    """
    if single and base.get_column(CRITERIA_INDEX).null_count() == 0:
        rows = base.lazy()
    else:
        rows = base.lazy().filter(pl.col(CRITERIA_INDEX) == k)
    fields = crit.input_fields()
    read = [(fid, col) for fid in fields if (col := res.fields[k].get(fid)) is not None]
    lookups.prepare(fields[fid] for fid, col in read if raw.is_coded(raw.column_name(col)))
    stage1 = [
        pl.col(LINE),
        *(pl.col(c) for c in RESERVED),
        *(pl.col(f"__c{col}").is_null().alias(f"__e_{fid}") for fid, col in read),
        *(typed_value(raw, lookups, fields[fid], col).alias(f"__v_{fid}") for fid, col in read),
    ]
    stage2: list[pl.Expr] = []
    for fid, spec in fields.items():
        col = res.fields[k].get(fid)
        default = defaults[fid]
        dtype = field_dtype(spec)
        if col is None:
            stage2.append(pl.lit(default, dtype).alias(fid))
            continue
        empty, value = pl.col(f"__e_{fid}"), pl.col(f"__v_{fid}")
        bad = ~empty & value.is_null()
        if default is not None:
            value = pl.when(empty).then(pl.lit(default, dtype)).otherwise(value)
        elif strict:
            bad = value.is_null()
        stage2.extend([value.alias(fid), bad.alias(f"__bad_{fid}")])
    # One streaming query: the intermediate values are never all in memory at once.
    frame = (
        rows.select(stage1)
        .with_columns(stage2)
        .drop(f"__v_{fid}" for fid, _ in read)
        .collect(engine="streaming")
    )
    return _Typed(k, frame, read)


def _loaded_part(crit: Criteria, kept: pl.DataFrame, headers: dict[str, str]) -> LoadedPart:
    frame = kept.select(
        pl.col(LINE),
        pl.col("branch_id"),
        pl.coalesce("branch_name", "branch_id").alias("branch_name"),
        *(pl.col(c) for c in RESERVED[2:]),
        *(pl.col(fid) for fid in crit.input_fields()),
    )
    return LoadedPart(criteria=crit, frame=frame, headers=headers)


def _missing_warnings(
    typed: pl.DataFrame, crit: Criteria, todo: Sequence[tuple[str, int]], raw: RawTable
) -> list[Problem]:
    """One warning per column with empty cells (no default): the count and the first lines."""
    if not todo or typed.height == 0:
        return []
    nulls = typed.select(pl.col(f"__e_{fid}").sum() for fid, _ in todo).row(0)
    out: list[Problem] = []
    for (fid, col), count in zip(todo, nulls, strict=True):
        if not count:
            continue
        lines = typed.select(pl.col(LINE).filter(pl.col(f"__e_{fid}")).head(10)).to_series().to_list()
        out.append(missing_value_warning(raw.path, raw.headers[col], fid, crit.id, count, lines))
    return out
