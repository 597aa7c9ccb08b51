"""Shape ``rank`` results: the league table by group and the branches of each group, as JSON, CSV,
Markdown and terminal tables. Pure: the engine ranked and aggregated; this module only formats.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..engine.breakdown import branches_in_league, league_with_previous
from ..engine.rank import MAX_LEVEL, Metric
from ..models.results import ScoreRun
from .grid import Doc, Line
from .labels import (
    Lang,
    by_label,
    clause_sep,
    label,
    level_cell,
    level_names,
    num,
    pct,
    period_suffix,
    rank_change_text,
)
from .score import rejected_markdown, score_document, score_frame, with_rejected
from .tabular import ending_in_one_newline, markdown_lines, markdown_table, narrow_table


@dataclass(frozen=True)
class RankReport:
    """A league table by ``by`` and the branches it covers, in league order."""

    run: ScoreRun
    by: str
    metric: Metric
    groups: pl.DataFrame  # league_table + previous_rank, rank_change (when a previous run is given)
    branches: pl.DataFrame  # the run's frame: rows of the shown groups, league order then group_rank
    levels: int
    has_previous: bool
    top: int | None = None


def build_rank(run: ScoreRun, by: str, metric: Metric, *, previous: ScoreRun | None = None,
               top: int | None = None) -> RankReport:
    levels = max([MAX_LEVEL, *(len(c.stars) for c in run.criteria)])
    groups = league_with_previous(run.frame, by=by, metric=metric, levels=levels,
                                  previous=previous.frame if previous is not None else None, top=top)
    branches = branches_in_league(run.frame, by=by, groups=groups)
    return RankReport(run=run, by=by, metric=metric, groups=groups, branches=branches, levels=levels,
                      has_previous=previous is not None, top=top)


def _branch_run(report: RankReport) -> ScoreRun:
    return dataclasses.replace(report.run, frame=report.branches)


def rank_groups_frame(report: RankReport) -> pl.DataFrame:
    """``rank -f csv``: one row per group, ranked."""
    return report.groups


def rank_branches_frame(report: RankReport) -> pl.DataFrame:
    """``rank -f csv --rows branches``: the score CSV columns, in league order, with ``group_rank``."""
    return score_frame(_branch_run(report))


def rank_document(report: RankReport, *, stream: bool = False) -> dict[str, Any]:
    """``rank -f json`` (SPEC §5); ``stream``: the branches as a :class:`~.json_stream.Streamed` array."""
    groups = []
    for row in report.groups.iter_rows(named=True):
        item: dict[str, Any] = {
            "rank": row["rank"],
            "group": row["group"],
            "branches": row["branches"],
            "mean_points": num(row["mean_points"]),
            "mean_stars": num(row["mean_stars"]),
            "share_3plus": num(row["share_3plus"]),
            "levels": {str(n): row[f"level_{n}"] for n in range(report.levels + 1)},
        }
        if report.has_previous:
            item["previous_rank"] = row["previous_rank"]
            item["rank_change"] = row["rank_change"]
        groups.append(item)
    document = score_document(_branch_run(report), stream=stream)
    return {
        "by": report.by,
        "metric": report.metric.value,
        "period": report.run.period,
        "top": report.top,
        "criteria": document["criteria"],
        "groups": groups,
        "branches": document["branches"],
        "rejected": document["summary"]["rejected"],
        "warnings": document["warnings"],
    }


def _group_rows(report: RankReport, lang: Lang, *, compact: bool = False
                ) -> tuple[list[str], list[list[Any]], list[bool]]:
    """League table rows; ``compact`` puts the count per level in one column (for terminals)."""
    headers = [label("rank", lang), by_label(report.by, lang), label("branches", lang),
               label("mean_points", lang), label("mean_stars", lang), label("share_3plus", lang)]
    names = level_names(report.levels, lang, report.run.criteria)
    if compact:
        headers.append(label("levels_compact", lang, n=report.levels, first=names[0], second=names[1],
                             last=names[-1]))
    else:
        headers += names
    numeric = [True, False, True, True, True, True] + [True] * (1 if compact else report.levels + 1)
    if report.has_previous:
        headers += [label("previous_rank", lang), label("rank_change", lang)]
        numeric += [True, True]
    rows = []
    for row in report.groups.iter_rows(named=True):
        cells: list[Any] = [row["rank"], row["group"] or "—", row["branches"], num(row["mean_points"]),
                            num(row["mean_stars"]), pct(row["share_3plus"])]
        counts = [row[f"level_{n}"] for n in range(report.levels + 1)]
        cells += ["/".join(str(c) for c in counts)] if compact else counts
        if report.has_previous:
            cells += [row["previous_rank"] if row["previous_rank"] is not None else "", rank_change_text(row.get("rank_change"), lang)]
        rows.append(cells)
    return headers, rows, numeric


def _branch_rows(report: RankReport, lang: Lang) -> tuple[list[str], Iterator[list[Any]], list[bool]]:
    """The branches' headers, rows (made as they are read) and numeric flags."""
    headers = [by_label(report.by, lang), label("group_rank", lang), label("branch_id", lang),
               label("branch_name", lang), label("level", lang), label("total_points", lang), label("rank", lang)]
    numeric = [False, True, False, False, False, True, True]

    def rows() -> Iterator[list[Any]]:
        columns = [report.by, "group_rank", "branch_id", "branch_name", "stars", "level", "total_points", "rank"]
        for group, group_rank, branch_id, name, stars, level, points, rank in (
                report.branches.select(columns).iter_rows()):
            yield [group or "—", group_rank, branch_id, name, level_cell(stars, level, lang), num(points), rank]

    return headers, rows(), numeric


def _rank_note(report: RankReport, lang: Lang) -> str:
    note = label("groups_shown", lang, n=report.groups.height, by=by_label(report.by, lang),
                 b=report.branches.height)
    if report.top is not None:
        note += clause_sep(lang) + label("top_note", lang, top=report.top)
    metric = label(report.metric.value, lang)
    note += clause_sep(lang) + label("ranked_by", lang, metric=metric if lang == Lang.zh else metric.lower())
    return note


def rank_markdown(report: RankReport, lang: Lang) -> str:
    """``rank -f md`` as one string (the pieces of :func:`rank_markdown_chunks` joined)."""
    return "".join(rank_markdown_chunks(report, lang))


def rank_markdown_chunks(report: RankReport, lang: Lang) -> Iterator[str]:
    """``rank -f md`` piece by piece: the league table, then each group's branches a row at a time."""
    yield from ending_in_one_newline(_rank_markdown_pieces(report, lang))
    yield rejected_markdown(report.run, lang)


def _rank_markdown_pieces(report: RankReport, lang: Lang) -> Iterator[str]:
    by_word = by_label(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang)
    yield f"# {label('rank_title', lang, by=by_word)}{period_suffix(report.run.period, lang)}\n\n"
    yield _rank_note(report, lang) + "\n\n"
    yield markdown_table(rows, headers, ["---:" if n else "---" for n in numeric]) + "\n"
    yield f"## {label('rank_branches_title', lang, by=by_word)}\n\n"
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    align = ["---:" if n else "---" for n in bnumeric[1:]]
    for group, chunk in itertools.groupby(brows, key=lambda row: row[0]):
        yield f"### {group or '—'}\n\n"
        yield from markdown_lines((r[1:] for r in chunk), bheaders[1:], align)
        yield "\n"


def rank_renderable(report: RankReport, lang: Lang) -> Doc:
    by_word = by_label(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang, compact=True)
    title = label("rank_title", lang, by=by_word) + (f" {report.run.period}" if report.run.period else "")
    groups = narrow_table(rows, headers, title=title, numeric=numeric)
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    branches = narrow_table(list(brows), bheaders, title=label("rank_branches_title", lang, by=by_word), numeric=bnumeric)
    return with_rejected(Doc([groups, Line(_rank_note(report, lang)), Line(""), branches]), report.run, lang)




# ---- xlsx: the league table and the branches, as report sheets -----------------------------------


def rank_sheets(report: RankReport, lang: Lang) -> list[Any]:
    """``rank -f xlsx``: the league table (乡镇（街道）排名), the branches of each group (支部排名), both
    report sheets with a title row, and the rejected rows, if any."""
    from .score import rejected_sheets, score_sheet_columns, sheet_title
    from .xlsx import Col, Kind, Sheet

    by_word = by_label(report.by, lang)
    groups = report.groups
    columns = [Col(label("rank", lang), Kind.int), Col(by_word), Col(label("branches", lang), Kind.int),
               Col(label("mean_points", lang), Kind.points), Col(label("mean_stars", lang), Kind.points),
               Col(label("share_3plus", lang), Kind.percent)]
    values: list[list[Any]] = [groups[c].to_list() for c in
                               ("rank", "group", "branches", "mean_points", "mean_stars", "share_3plus")]
    for n, name in enumerate(level_names(report.levels, lang, report.run.criteria)):
        columns.append(Col(name, Kind.int))
        values.append(groups[f"level_{n}"].to_list())
    if report.has_previous:
        columns += [Col(label("previous_rank", lang), Kind.int), Col(label("rank_change", lang), Kind.int)]
        values += [groups["previous_rank"].to_list(),
                   [label("new_group", lang) if c is None else c for c in groups["rank_change"].to_list()]]
    league = Sheet(label("rank_groups_sheet", lang, by=by_word), columns, values,
                   title=sheet_title(label("rank_title", lang, by=by_word), report.run, lang))
    # the branches: the group first, then the score sheet's columns (the group's column not repeated)
    bcols, bvalues = score_sheet_columns(report.run, report.branches, lang)
    keep = [i for i, col in enumerate(bcols) if col.header != by_word]
    branches = Sheet(label("rank_branches_sheet", lang),
                     [Col(by_word), *(bcols[i] for i in keep)],
                     [report.branches[report.by].to_list(), *(bvalues[i] for i in keep)],
                     title=sheet_title(label("rank_branches_title", lang, by=by_word), report.run, lang))
    return [league, branches, *rejected_sheets(report.run, lang)]
