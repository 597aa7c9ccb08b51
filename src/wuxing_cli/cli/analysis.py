"""Commands ``rank``, ``diff`` and ``explain``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, assert_never

import typer

from ..errors import Problem, ProblemCode, UsageError
from . import app
from .common import (
    CriteriaOpt,
    LangOpt,
    LangOption,
    LoadBuilder,
    NearOpt,
    NoBomOpt,
    Output,
    OutputOpt,
    QuietOpt,
    data_options,
    guarded,
    load_options,
    print_warnings,
    progress,
    report_problems,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from ..models.results import ScoreRun


class RankFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    xlsx = "xlsx"


class DiffFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"
    md = "md"


class MetricOpt(StrEnum):
    mean_points = "mean_points"
    mean_stars = "mean_stars"
    share_3plus = "share_3plus"


class RowsOpt(StrEnum):
    groups = "groups"
    branches = "branches"


MetricOption = Annotated[
    MetricOpt, typer.Option("--metric", help="What groups are ranked by (ties share a rank).")
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Group column: township (乡镇), county (县区), branch_type (类型) or period (期间).",
                 show_default=False),
]


@app.command()
@guarded
@data_options("encoding", "sheet", "period", "strict", "skip_invalid")
def rank(
    data: Annotated[Path, typer.Argument(help="Assessment file (.csv or .xlsx).", show_default=False)],
    by: Annotated[str, typer.Option("--by", help="Group column: township (乡镇), county (县区), "
                                    "branch_type (类型) or period (期间).")] = "township",
    metric: MetricOption = MetricOpt.mean_points,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Only the groups ranked N or better "
                                            "(ties at N included), and their branches.", show_default=False)] = None,
    previous: Annotated[Path | None, typer.Option("--previous", help="The previous period's file: show each "
                                                  "group's rank change (↑2 / ↓1 / —).", show_default=False)] = None,
    previous_period: Annotated[str | None, typer.Option("--previous-period", help="Period to use from the "
                                                        "--previous file when it holds several.",
                                                        show_default=False)] = None,
    criteria: CriteriaOpt = None,
    fmt: Annotated[RankFormat, typer.Option("--format", "-f", help="Output format.")] = RankFormat.table,
    rows: Annotated[RowsOpt, typer.Option("--rows", help="With -f csv: one row per group (the league table) "
                                          "or per branch (with group_rank).")] = RowsOpt.groups,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    near: NearOpt = 5.0,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
) -> None:
    """Rank groups (townships, counties, …) against each other, and branches within each group.

    Examples:

      wuxing rank examples/county-2024-Q4.csv --by township

      wuxing rank data.csv --by county --metric share_3plus --top 5 -f md

      wuxing rank 2024Q4.csv --previous 2024Q3.csv -f json

      wuxing rank all.csv --period 2024-Q4 --previous all.csv --previous-period 2024-Q3
    """
    from ..engine.rank import Metric
    from ..pipeline.score import concurrently, run_score
    from ..report import rank as rank_report
    from ..report.json_stream import json_chunks
    from ..report.labels import Lang
    from ..report.xlsx import check_rows, write_workbook
    from .options import check_by

    group = check_by(by)
    assert group is not None
    inputs = [data] + ([previous] if previous is not None else [])
    out = Output(output, inputs=inputs, criteria=criteria, no_bom=no_bom)
    options = load()
    calls = [lambda: run_score(data, criteria, options, near=near, by=group, columns="results")]
    if previous is not None:
        earlier = load(period=previous_period)
        calls.append(lambda: run_score(previous, criteria, earlier, near=near, by=group, columns="results"))
    with progress(f"wuxing rank {data.name}") as step:
        step("reading and scoring")
        runs = concurrently(calls)  # both files at the same time; problems in either are all reported
    run = runs[0]
    _check_group_column(run.frame, group, data)
    before = None
    if previous is not None:
        before = runs[1]
        _check_group_column(before.frame, group, previous)
    print_warnings([*run.warnings, *(before.warnings if before else [])], quiet)
    if fmt is RankFormat.csv and run.data.rejected:  # CSV has no room for them: one stderr line each
        from ..pipeline.score import rejected_warnings

        report_problems(rejected_warnings(run.data))
    report = rank_report.build_rank(run, group, Metric(metric.value), previous=before, top=top)
    language = Lang(lang.value)
    if fmt is RankFormat.table:
        out.renderable(rank_report.rank_renderable(report, language))
    elif fmt is RankFormat.csv:
        frame = (rank_report.rank_groups_frame(report) if rows is RowsOpt.groups
                 else rank_report.rank_branches_frame(report))
        out.csv(frame)
    elif fmt is RankFormat.json:
        out.chunks(json_chunks(rank_report.rank_document(report, stream=True)))
    elif fmt is RankFormat.md:
        out.chunks(rank_report.rank_markdown_chunks(report, language))
    elif fmt is RankFormat.xlsx:
        sheets = rank_report.rank_sheets(report, language)
        check_rows(sheets, out.path)
        out.file(lambda path: write_workbook(path, sheets, language), fmt.value)
    else:
        assert_never(fmt)


def _check_group_column(frame: pl.DataFrame, by: str, path: Path) -> None:
    if by not in frame.columns or frame[by].null_count() == frame.height:
        raise UsageError([Problem(f"the data has no '{by}' column to group by", file=str(path), code=ProblemCode.BY,
                                  hint="add the column (e.g. 乡镇) or choose another --by")])


@app.command()
@guarded
@data_options("encoding", "sheet", "strict", "skip_invalid")
def diff(
    old: Annotated[Path, typer.Argument(help="The earlier file (or the self-assessment).", show_default=False)],
    new: Annotated[Path | None, typer.Argument(help="The later file (or the verification). Omit it to compare "
                                               "two periods of OLD (--from/--to) or two criteria versions "
                                               "(--criteria-new).", show_default=False)] = None,
    from_period: Annotated[str | None, typer.Option("--from", help="Period of OLD to compare.",
                                                    show_default=False)] = None,
    to_period: Annotated[str | None, typer.Option("--to", help="Period of NEW (or of OLD when NEW is omitted).",
                                                  show_default=False)] = None,
    criteria: CriteriaOpt = None,
    criteria_new: Annotated[list[str] | None, typer.Option(
        "--criteria-new", help="Score NEW (or OLD again) under these criteria instead: what the rule change "
        "alone did to each branch, separated from the change in performance. Repeatable.",
        show_default=False)] = None,
    label_old: Annotated[str | None, typer.Option("--label-old", help="Name of OLD (e.g. 自评). With either "
                                                  "label, or --sources, the report checks where OLD overstated "
                                                  "NEW.", show_default=False)] = None,
    label_new: Annotated[str | None, typer.Option("--label-new", help="Name of NEW (e.g. 复核).",
                                                  show_default=False)] = None,
    sources: Annotated[bool, typer.Option("--sources", help="OLD and NEW are two sources for one period "
                                          "(self-assessment, verification): report overstatement.")] = False,
    by: ByOption = None,
    metric: MetricOption = MetricOpt.mean_points,
    show_all: Annotated[bool, typer.Option("--all", help="Table/md: list unchanged branches too.")] = False,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help="Output format.")] = DiffFormat.table,
    rows: Annotated[RowsOpt, typer.Option("--rows", help="With -f csv: per branch, or per group "
                                          "(--by changes, or overstatement by township).")] = RowsOpt.branches,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    near: NearOpt = 5.0,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
) -> None:
    """Compare two periods, two sources (self-assessment vs verification) or two criteria versions.

    Examples:

      wuxing diff 2024Q3.csv 2024Q4.csv --by township

      wuxing diff all.xlsx --from 2024-Q3 --to 2024-Q4 -f json

      wuxing diff 自评.xlsx 复核.xlsx --label-old 自评 --label-new 复核

      wuxing diff data.csv -c criteria-2023.yaml --criteria-new criteria-2024.yaml
    """
    from ..engine.rank import Metric
    from ..pipeline.id_match import id_mismatch_problems
    from ..pipeline.score import concurrently, criteria_names, run_score
    from ..report import diff as diff_report
    from ..report.json_stream import json_chunks
    from ..report.labels import Lang, label
    from .options import check_by

    group = check_by(by)
    language = Lang(lang.value)
    mode: diff_report.DiffMode = "sources" if (sources or label_old or label_new) else "periods"
    if criteria_new:
        if mode == "sources":
            raise UsageError([Problem("--criteria-new compares criteria versions; it cannot be combined with "
                                      "--sources/--label-old/--label-new", code=ProblemCode.USAGE)])
        mode = "criteria"
    if new is None and mode != "criteria" and not (from_period and to_period):
        raise UsageError([Problem("give two files (OLD NEW), or one file with --from P --to P, or one file with "
                                  "--criteria-new FILE", code=ProblemCode.USAGE)])
    new_path = new if new is not None else old
    new_period = to_period if (new is not None or to_period) else from_period
    inputs = [old] + ([new] if new is not None else [])
    out = Output(output, inputs=inputs, criteria=[*(criteria or []), *(criteria_new or [])], no_bom=no_bom)

    def scoring(path: Path, period: str | None, names: list[str] | None) -> Callable[[], ScoreRun]:
        opts = load(period=period)
        # only the self-assessment comparison reads indicator points (which indicators differ most)
        return lambda: run_score(path, names, opts, near=near, by=group,
                                 columns="indicators" if mode == "sources" else "results")

    old_names = criteria_names(criteria)
    same_data = new_path == old and new_period == from_period
    calls = [scoring(old, from_period, old_names)]
    if mode == "criteria":
        assert criteria_new is not None
        if not same_data:
            calls.append(scoring(new_path, new_period, old_names))
        calls.append(scoring(new_path, new_period, list(criteria_new)))
    else:
        calls.append(scoring(new_path, new_period, old_names))
    # the files are read and scored at the same time; problems in either are all reported
    with progress(f"wuxing diff {new_path.name}") as step:
        step("reading and scoring")
        runs = concurrently(calls)
    old_run, new_run = runs[0], runs[-1]
    same_rules = (old_run if same_data else runs[1]) if mode == "criteria" else None
    warnings = [*old_run.warnings, *new_run.warnings]
    if same_rules is not None and same_rules is not old_run:
        warnings += same_rules.warnings
    warnings += id_mismatch_problems(old_run.frame, new_run.frame, old, new_path)
    print_warnings(warnings, quiet)
    # the diff formats have no room for the rows --skip-invalid left out: one stderr line each
    from ..pipeline.score import rejected_warnings

    report_problems(list(dict.fromkeys(p for r in (old_run, new_run) for p in rejected_warnings(r.data))))
    if group is not None:
        _check_group_column(old_run.frame, group, old)
        _check_group_column(new_run.frame, group, new_path)

    if mode == "criteria":
        default_old = _criteria_label(old_run)
        default_new = _criteria_label(new_run)
        if default_old == default_new:
            default_old, default_new = " + ".join(old_names), " + ".join(criteria_new or [])
    elif mode == "sources":
        default_old = label("self", language)
        default_new = label("verified", language)
    else:
        default_old = old_run.period or from_period or old.stem
        default_new = new_run.period or new_period or new_path.stem
        if default_old == default_new and new is not None:
            default_old, default_new = old.stem, new_path.stem
    report = diff_report.build_diff(
        mode, old_run, new_run, label_old=label_old or default_old, label_new=label_new or default_new,
        by=group, metric=Metric(metric.value), same_rules=same_rules, show_all=show_all,
    )
    if fmt is DiffFormat.table:
        out.renderable(diff_report.diff_renderable(report, language))
    elif fmt is DiffFormat.csv:
        if rows is RowsOpt.groups:
            if report.over_groups is None and report.groups is None:
                raise UsageError([Problem("--rows groups needs --by (or a self-assessment/verification "
                                          "comparison)", code=ProblemCode.USAGE)])
            out.csv(diff_report.diff_groups_frame(report))
        else:
            out.csv(diff_report.diff_frame(report))
    elif fmt is DiffFormat.json:
        out.chunks(json_chunks(diff_report.diff_document(report, stream=True)))
    elif fmt is DiffFormat.md:
        out.chunks(diff_report.diff_markdown_chunks(report, language))
    else:
        assert_never(fmt)


def _criteria_label(run: Any) -> str:
    return " + ".join(f"{c.id} {c.version}" for c in run.criteria)


@app.command()
@guarded
@data_options("encoding", "sheet", "period", "skip_invalid")
def explain(
    data: Annotated[Path, typer.Argument(help="Assessment file (.csv or .xlsx).", show_default=False)],
    branch: Annotated[str, typer.Option("--branch", "-b", help="Branch id (支部编码) or name.",
                                        show_default=False)],
    criteria: CriteriaOpt = None,
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", help="Output format.")] = ExplainFormat.table,
    output: OutputOpt = None,
    near: NearOpt = 5.0,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
) -> None:
    """Explain one branch indicator by indicator, and what it takes to win each star it lacks.

    Examples:

      wuxing explain examples/county-2024-Q4.csv --branch 415556004008

      wuxing explain data.csv --branch 后石庙村 -f md -o 后石庙村.md
    """
    from ..engine.explain import explain_row
    from ..pipeline.score import run_score
    from ..report import explain as explain_report
    from ..report.labels import Lang
    from ..report.tabular import json_text

    out = Output(output, inputs=[data], criteria=criteria)
    run = run_score(data, criteria, load(), near=near)
    print_warnings(run.warnings, quiet)
    row = find_branch(run.frame, branch)
    model = run.criteria_for(row["criteria_id"])
    exp = explain_row(row, model)
    language = Lang(lang.value)
    if fmt is ExplainFormat.table:
        out.renderable(explain_report.explain_renderable(exp, model, language))
    elif fmt is ExplainFormat.json:
        out.text(json_text(explain_report.explain_document(exp, model, language)))
    elif fmt is ExplainFormat.md:
        out.text(explain_report.explain_markdown(exp, model, language))
    else:
        assert_never(fmt)


def _norm(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).strip().casefold()


def find_branch(frame: pl.DataFrame, query: str) -> dict[str, Any]:
    """The one row whose id, else whose name, is ``query``; a usage error when none or several match."""
    import difflib

    wanted = _norm(query)
    ids = [str(v) for v in frame["branch_id"].to_list()]
    names = [str(v) if v is not None else "" for v in frame["branch_name"].to_list()]
    by_id = [n for n, v in enumerate(ids) if _norm(v) == wanted]
    hits = by_id or [n for n, v in enumerate(names) if _norm(v) == wanted]
    if len(hits) == 1:
        return frame.row(hits[0], named=True)
    if len(hits) > 1:
        listed = "; ".join(f"{names[n]} ({ids[n]})" for n in sorted(hits, key=lambda n: ids[n]))
        raise UsageError([Problem(f"the name '{query}' matches {len(hits)} branches: {listed}", code=ProblemCode.BRANCH,
                                  hint="give the branch id (支部编码) with --branch")])
    partial = [n for n in range(len(ids)) if wanted and (wanted in _norm(ids[n]) or wanted in _norm(names[n]))]
    close = difflib.get_close_matches(query, names + ids, n=5, cutoff=0.5)
    suggestions: list[str] = []
    for n in sorted(partial, key=lambda n: ids[n])[:5]:
        suggestions.append(f"{names[n]} ({ids[n]})")
    for text in close:
        for n in range(len(ids)):
            if text in (names[n], ids[n]):
                item = f"{names[n]} ({ids[n]})"
                if item not in suggestions:
                    suggestions.append(item)
    hint = ("did you mean: " + "; ".join(suggestions[:5])) if suggestions else "check the id (支部编码) or name"
    raise UsageError([Problem(f"no branch '{query}' in the data", code=ProblemCode.BRANCH, hint=hint)])
