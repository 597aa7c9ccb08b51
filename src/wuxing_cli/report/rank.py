"""Shape ``rank`` results: the league table by group and the branches of each group, as JSON, CSV,
Markdown and terminal tables. Pure: the engine ranked and aggregated; this module only formats.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..engine.breakdown import branches_in_league, league_with_previous
from ..engine.rank import MAX_LEVEL, Metric
from ..models.results import ScoreRun
from .grid import Doc, Line
from .labels import Lang, by_label, clause_sep, label, level_cell, num, pct, period_suffix, rank_change_text
from .score import rejected_markdown, score_document, score_frame, with_rejected
from .tabular import markdown_table, narrow_table


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


def rank_document(report: RankReport) -> dict[str, Any]:
    """``rank -f json`` (SPEC §5)."""
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
    document = score_document(_branch_run(report))
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
    if compact:
        headers.append(label("levels_compact", lang, n=report.levels))
    else:
        headers += [label("level_0", lang) if n == 0 else label("level_n", lang, n=n)
                    for n in range(report.levels + 1)]
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


def _branch_rows(report: RankReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    headers = [by_label(report.by, lang), label("group_rank", lang), label("branch_id", lang),
               label("branch_name", lang), label("level", lang), label("total_points", lang), label("rank", lang)]
    numeric = [False, True, False, False, False, True, True]
    rows = []
    for row in report.branches.iter_rows(named=True):
        rows.append([row[report.by] or "—", row["group_rank"], row["branch_id"], row["branch_name"],
                     level_cell(row["stars"], row["level"], lang), num(row["total_points"]), row["rank"]])
    return headers, rows, numeric


def _rank_note(report: RankReport, lang: Lang) -> str:
    note = label("groups_shown", lang, n=report.groups.height, by=by_label(report.by, lang),
                 b=report.branches.height)
    if report.top is not None:
        note += clause_sep(lang) + label("top_note", lang, top=report.top)
    metric = label(report.metric.value, lang)
    note += clause_sep(lang) + label("ranked_by", lang, metric=metric if lang == Lang.zh else metric.lower())
    return note


def rank_markdown(report: RankReport, lang: Lang) -> str:
    by_word = by_label(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang)
    out = [f"# {label('rank_title', lang, by=by_word)}{period_suffix(report.run.period, lang)}", "",
           _rank_note(report, lang), "",
           markdown_table(rows, headers, ["---:" if n else "---" for n in numeric])]
    out += [f"## {label('rank_branches_title', lang, by=by_word)}", ""]
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    current: Any = object()
    chunk: list[list[Any]] = []

    def flush() -> None:
        if chunk:
            out.append(f"### {current or '—'}\n")
            out.append(markdown_table([r[1:] for r in chunk], bheaders[1:],
                                      ["---:" if n else "---" for n in bnumeric[1:]]))

    for row in brows:
        if row[0] != current:
            flush()
            current, chunk = row[0], []
        chunk.append(row)
    flush()
    return "\n".join(out).rstrip("\n") + "\n" + rejected_markdown(report.run, lang)


def rank_renderable(report: RankReport, lang: Lang) -> Doc:
    by_word = by_label(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang, compact=True)
    title = label("rank_title", lang, by=by_word) + (f" {report.run.period}" if report.run.period else "")
    groups = narrow_table(rows, headers, title=title, numeric=numeric)
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    branches = narrow_table(brows, bheaders, title=label("rank_branches_title", lang, by=by_word), numeric=bnumeric)
    return with_rejected(Doc([groups, Line(_rank_note(report, lang)), Line(""), branches]), report.run, lang)


