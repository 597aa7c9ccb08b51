"""Commands ``history`` (trends, streaks, 降星预警 over many periods) and ``incentives`` (奖补)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, assert_never

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
    VerboseOpt,
    data_options,
    guarded,
    load_options,
    print_warnings,
)


class HistoryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"


class HistoryRows(StrEnum):
    branches = "branches"
    summary = "summary"
    groups = "groups"
    risk = "risk"


class IncentivesFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


class IncentiveRows(StrEnum):
    branches = "branches"
    groups = "groups"


ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Group column: township (乡镇), county (县区) or branch_type (类型).",
                 show_default=False),
]


@app.command()
@guarded
@data_options("encoding", "sheet", "strict", "skip_invalid")
def history(
    files: Annotated[list[Path], typer.Argument(help="Assessment files, one per period, or a folder of them, or "
                                                "one file with a period column (期间).", show_default=False)],
    criteria: CriteriaOpt = None,
    by: ByOpt = None,
    margin: Annotated[float, typer.Option("--margin", min=0, help="A held star within this many points of its "
                                          "pass mark is at risk (降星预警).")] = 5.0,
    fmt: Annotated[HistoryFormat, typer.Option("--format", "-f", help="Output format.")] = HistoryFormat.table,
    rows: Annotated[HistoryRows, typer.Option("--rows", help="With -f csv: branches (one row per branch and "
                                              "period), summary (one per branch), groups (per group and period, "
                                              "needs --by) or risk (stars at risk).")] = HistoryRows.branches,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    near: NearOpt = 5.0,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Score many periods and show each branch's and group's trend, streaks and the stars at risk (降星预警).

    Periods come from the period column (期间) or the file name, and are ordered by date: 2025-01…2025-12,
    2025-Q1…Q4, 2025H1/H2, 2025 and Chinese forms (2025年3月, 2025年第一季度, 2025年上半年). A star is at
    risk when its points are within --margin of the pass mark, when they fell two periods in a row, or
    when a veto input is trending toward firing. Tenure rules (tenure: in the criteria) are applied.

    Examples:

      wuxing history examples/county-2024-Q*.csv --by township

      wuxing history 2025年报表/ -f csv --rows risk -o 降星预警.csv

      wuxing history examples/county-2024.csv -f json -o history.json
    """
    from ..pipeline.history import load_history
    from ..report import history as history_report
    from ..report.labels import Lang
    from ..report.tabular import json_text
    from .options import check_by

    group = check_by(by)
    out = Output(output, inputs=files, criteria=criteria, no_bom=no_bom)
    loaded = load_history(files, criteria, load(), near=near)
    if group is not None:
        column = loaded.long.get_column(group) if group in loaded.long.columns else None
        if column is None or column.null_count() == column.len():
            raise UsageError([Problem(f"the data has no '{group}' column to group by", code=ProblemCode.BY,
                                      hint="add the column (e.g. 乡镇) or choose another --by")])
    print_warnings(loaded.warnings, quiet, verbose)
    report = history_report.build_history(loaded, by=group, margin=margin)
    language = Lang(lang.value)
    if fmt is HistoryFormat.table:
        out.renderable(history_report.history_renderable(report, language))
    elif fmt is HistoryFormat.md:
        out.text(history_report.history_markdown(report, language))
    elif fmt is HistoryFormat.json:
        out.text(json_text(history_report.history_document(report)))
    elif fmt is HistoryFormat.csv:
        if rows is HistoryRows.groups and report.groups is None:
            raise UsageError([Problem("--rows groups needs --by", code=ProblemCode.USAGE)])
        frame = {
            HistoryRows.branches: history_report.series_frame,
            HistoryRows.summary: history_report.summary_frame,
            HistoryRows.groups: history_report.groups_frame,
            HistoryRows.risk: history_report.risk_frame,
        }[rows](report)
        out.csv(frame)
    else:
        assert_never(fmt)


@app.command()
@guarded
@data_options("encoding", "sheet", "period", "strict", "skip_invalid")
def incentives(
    data: Annotated[Path, typer.Argument(help="Assessment file (.csv or .xlsx) of the period to pay for.",
                                         show_default=False)],
    rules: Annotated[Path, typer.Option("--rules", "-r", help="Incentives rules (YAML; see docs/incentives.md).",
                                        show_default=False)],
    people: Annotated[list[Path] | None, typer.Option(
        "--people", help="CSV/Excel with branch_id (支部编码) and the person-count columns the rules name, "
        "when the assessment file lacks them (repeatable).", show_default=False)] = None,
    criteria: CriteriaOpt = None,
    by: ByOpt = "township",
    fmt: Annotated[IncentivesFormat, typer.Option("--format", "-f", help="Output format.")] = IncentivesFormat.table,
    rows: Annotated[IncentiveRows, typer.Option("--rows", help="With -f csv: one row per branch or per group.")]
    = IncentiveRows.branches,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Compute the incentives (奖补) each branch earns from its stars, per branch and per group, with totals.

    Rules pay per star × per eligible person (e.g. 67–79岁老人 15 元/人/星/季度), a fixed amount per level, a
    bonus per star, with caps per branch and an optional budget scaled down pro rata. Money is exact to
    the fen (0.01 元): totals always equal the sum of the rows.

    Examples:

      wuxing incentives examples/county-2024-Q4.csv --rules examples/incentives.yaml --people examples/people-2024.csv

      wuxing incentives 2025Q1.xlsx -c rural --rules 奖补.yaml -f xlsx -o 奖补明细.xlsx
    """
    from ..pipeline.incentives import run_incentives
    from ..report import incentives as incentives_report
    from ..report.labels import Lang
    from ..report.tabular import json_text
    from .options import check_by

    group = check_by(by)
    out = Output(output, inputs=[data, rules, *(people or [])], criteria=criteria, no_bom=no_bom)
    done = run_incentives(data, criteria, load(), rules=rules, people=people or [], by=group)
    result = done.result
    print_warnings(done.warnings, quiet, verbose)
    language = Lang(lang.value)
    if fmt is IncentivesFormat.table:
        out.renderable(incentives_report.incentives_renderable(result, language))
    elif fmt is IncentivesFormat.csv:
        frame = (incentives_report.groups_frame(result) if rows is IncentiveRows.groups
                 else incentives_report.branches_frame(result))
        out.csv(frame)
    elif fmt is IncentivesFormat.json:
        out.text(json_text(incentives_report.incentives_document(result)))
    elif fmt is IncentivesFormat.xlsx:
        out.file(lambda path: incentives_report.xlsx_write(result, path, language), fmt.value)
    else:
        assert_never(fmt)
