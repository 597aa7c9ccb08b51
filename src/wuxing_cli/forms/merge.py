"""Merging the branches' submitted forms into one table (``wuxing merge``).

Headers are matched after normalisation, so forms may differ in spelling and column order; repeats
of a branch and period are kept once when identical and reported when they differ; forms made for
another version of the criteria are named per file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ..errors import DataError, Problem, ProblemCode, UsageError
from ..io.headers import check_headers
from ..io.period_select import canonical_periods
from ..io.reader import read_raw
from ..models.contract import LINE, RESERVED, RESERVED_HEADERS, header_key
from ..models.criteria import Criteria
from .layout import RESERVED_FORM_HEADERS, UNUSED_FILL, Form, FormColumn, build_form


@dataclass
class MergeResult:
    """The stacked table (text cells under the form's headers) and what was found on the way."""

    frame: pl.DataFrame
    form: Form
    columns: list[FormColumn]
    files: int
    duplicates_dropped: int = 0
    warnings: list[Problem] = field(default_factory=list)


def merge_files(
    paths: Sequence[Path],
    criteria: Sequence[Criteria],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    lenient: bool = False,
) -> MergeResult:
    """Stack the rows of ``paths`` under the headers of the criteria's form.

    Headers are matched after normalisation (NFKC, case, spaces; aliases and every accepted
    reserved header), so forms may differ in spelling and column order. Raises DataError listing
    every problem of every file: unreadable files, missing columns (a form made for another
    version of the criteria; only warnings with ``lenient``), and branches submitted twice with
    different values (same 支部编码 and 期间). Identical repeats are kept once, with a warning.
    Columns no criteria knows are kept at the end, with a warning naming them per file.
    """
    if not paths:
        raise UsageError([Problem("no input files", code=ProblemCode.NO_FILES)])
    form = build_form(criteria)
    catalog = _catalog(criteria)
    problems: list[Problem] = []
    frames: list[pl.DataFrame] = []
    extra: dict[str, None] = {}
    for path in paths:
        try:
            raw = read_raw(path, encoding=encoding, sheet=sheet)
        except (DataError, UsageError) as exc:
            problems.extend(exc.problems)
            continue
        for p in check_headers(raw, criteria):
            if lenient and p.is_error and p.code == ProblemCode.MISSING_COLUMN and _is_field_header(p.header, catalog):
                p = replace(p, message=p.message + "; its cells are left empty", severity="warning")
            problems.append(p)
        selected: list[pl.Expr] = [pl.col(LINE), pl.lit(raw.path).alias(_FILE)]
        used: set[str] = set()
        unknown: list[str] = []
        for i, header in enumerate(raw.headers):
            target = catalog.get(header_key(header)) if header else None
            if target is None:
                if header:
                    unknown.append(header)
                    target = header
                else:
                    continue
            if target in used:
                continue
            used.add(target)
            selected.append(pl.col(raw.column_name(i)).alias(target))
        if unknown:
            problems.append(Problem(
                "columns not in the criteria (" + _criteria_label(criteria) + "): "
                + ", ".join(f"'{h}'" for h in unknown)
                + " — a form made for another version of the criteria? They are kept at the end but not scored",
                file=raw.path, line=raw.header_line, severity="warning", code=ProblemCode.UNKNOWN_COLUMN))
            extra.update(dict.fromkeys(unknown))
        frames.append(raw.frame.select(selected))
    if not frames:
        raise DataError(problems)
    stacked = pl.concat(frames, how="diagonal")
    known = [c for c in form.columns if c.header in stacked.columns]
    plain = [FormColumn(key=h, header=h, requirement="不在评分标准中的列（不计分）", fill=UNUSED_FILL)
             for h in extra if h not in {c.header for c in known}]
    columns = known + plain
    headers = [c.header for c in columns]
    stacked = _canonical_periods(stacked.select(LINE, _FILE, *headers))
    stacked, dropped, dup_problems = _deduplicate(stacked, headers)
    problems.extend(dup_problems)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DataError(problems)
    return MergeResult(frame=stacked.select(headers), form=form, columns=columns, files=len(frames),
                       duplicates_dropped=dropped, warnings=problems)


_FILE = "__file"


def _is_field_header(header: str | None, catalog: Mapping[str, str]) -> bool:
    """A header of an input field (not of a reserved column)."""
    if not header:
        return False
    target = catalog.get(header_key(header))
    return target is not None and target not in RESERVED_FORM_HEADERS.values()


def _criteria_label(criteria: Sequence[Criteria]) -> str:
    return ", ".join(f"{c.id} {c.version}" for c in criteria)


def _catalog(criteria: Sequence[Criteria]) -> dict[str, str]:
    """header_key of every accepted header → the form's header for it."""
    catalog: dict[str, str] = {}
    for key in RESERVED:
        for spelling in RESERVED_HEADERS[key]:
            catalog.setdefault(header_key(spelling), RESERVED_FORM_HEADERS[key])
    for crit in criteria:
        for fid, spec in crit.input_fields().items():
            header = crit.header_of(fid)
            for spelling in (header, *spec.aliases):
                catalog.setdefault(header_key(spelling), header)
    return catalog


def _canonical_periods(frame: pl.DataFrame) -> pl.DataFrame:
    """The period column in canonical form (``2024年第四季度`` and ``2024Q4`` → ``2024-Q4``): one period
    however the forms spell it; a label that is not a period stays as written."""
    per = RESERVED_FORM_HEADERS["period"]
    if per not in frame.columns or frame.schema[per] != pl.String:
        return frame
    spelled = canonical_periods(frame.get_column(per))
    if all(k == v for k, v in spelled.items()):
        return frame
    return frame.with_columns(pl.col(per).replace_strict(spelled, default=None, return_dtype=pl.String))


def _deduplicate(frame: pl.DataFrame, headers: Sequence[str]) -> tuple[pl.DataFrame, int, list[Problem]]:
    """Keep one of identical repeats of a branch and period; report conflicting repeats as errors."""
    bid, per = RESERVED_FORM_HEADERS["branch_id"], RESERVED_FORM_HEADERS["period"]
    if bid not in frame.columns:
        return frame, 0, []
    keys = [bid, per] if per in frame.columns else [bid]
    values = [h for h in headers if h not in keys]
    frame = frame.with_columns(pl.int_range(pl.len()).alias("__order"))
    repeated = frame.filter(pl.col(bid).is_not_null() & (pl.len().over(keys) > 1))
    problems: list[Problem] = []
    drop: list[int] = []
    for key_values, group in repeated.group_by(keys, maintain_order=True):
        where = [f"{f}:{ln}" for f, ln in zip(group[_FILE].to_list(), group[LINE].to_list(), strict=True)]
        label = str(key_values[0]) + (f" ({per} {key_values[1]})" if len(keys) > 1 and key_values[1] else "")
        differing = [h for h in values if group[h].n_unique() > 1] if values else []
        first_file, first_line = group[_FILE][0], group[LINE][0]
        if differing:
            details = "; ".join(f"'{h}': " + _versus(group[h]) for h in differing[:5])
            details += "; …" if len(differing) > 5 else ""
            problems.append(Problem(
                f"branch {label} is submitted {group.height} times with different values: "
                + ", ".join(where) + f" — {details}",
                file=first_file, line=first_line, header=bid, value=str(key_values[0]), code=ProblemCode.DUPLICATE_CONFLICT,
                hint="keep the right row and delete the others, then merge again"))
        else:
            problems.append(Problem(
                f"branch {label} is submitted {group.height} times with the same values: "
                + ", ".join(where) + "; kept once",
                file=first_file, line=first_line, header=bid, value=str(key_values[0]), severity="warning",
                code=ProblemCode.DUPLICATE_IDENTICAL))
            drop.extend(group["__order"].to_list()[1:])
    if drop:
        frame = frame.filter(~pl.col("__order").is_in(drop))
    return frame.drop("__order"), len(drop), problems


def _versus(values: pl.Series) -> str:
    return " vs ".join(repr(v) if v is not None else "empty" for v in values.unique(maintain_order=True).to_list())


def merged_form(result: MergeResult) -> Form:
    """The form whose columns are the merged table's (for writing it as .xlsx)."""
    return Form(title=result.form.title.removesuffix(" 自评表") + " 汇总表", criteria=result.form.criteria,
                columns=tuple(result.columns), legend=result.form.legend)
