"""Command ``bulletin``: the periodic 通报 in Markdown or self-contained HTML (SPEC §6)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ..errors import Problem, ProblemCode, UsageError
from . import app
from .common import (
    CriteriaOpt,
    LangOpt,
    LangOption,
    LoadBuilder,
    NearOpt,
    Output,
    OutputOpt,
    QuietOpt,
    VerboseOpt,
    data_options,
    guarded,
    load_options,
    print_warnings,
    progress,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..models.results import ScoreRun

MAX_TEMPLATE_BYTES = 1024 * 1024


class BulletinFormat(StrEnum):
    md = "md"
    html = "html"


@app.command()
@guarded
@data_options("encoding", "sheet", "strict", "skip_invalid")
def bulletin(
    data: Annotated[Path, typer.Argument(help="This period's assessment file (.csv or .xlsx).", show_default=False)],
    previous: Annotated[Path | None, typer.Option(
        "--previous", help="The previous period's file: changes in levels, star rates and ranks, "
        "晋星/降星 branches.", show_default=False)] = None,
    previous_period: Annotated[str | None, typer.Option(
        "--previous-period", help="The period to take from --previous (or from DATA when --previous is not "
        "given) when the file holds several.", show_default=False)] = None,
    by: Annotated[str, typer.Option("--by", help="Group column for the league table and problem list: township "
                                    "(乡镇), county (县区), branch_type (类型).")] = "township",
    title: Annotated[str | None, typer.Option("--title", help="Title (default: area + period + "
                                              "“五星”支部创建情况通报).", show_default=False)] = None,
    area: Annotated[str | None, typer.Option("--area", help="The area reported on, e.g. 示范县.",
                                             show_default=False)] = None,
    period: Annotated[str | None, typer.Option(
        "--period", help="The period: picks it from DATA when the file has a period column, and is shown in "
        "the title.", show_default=False)] = None,
    date: Annotated[str | None, typer.Option("--date", help="Date shown at the end (e.g. 2024-07-05); "
                                             "no date is printed without it.", show_default=False)] = None,
    fmt: Annotated[BulletinFormat, typer.Option("--format", "-f", help="md or html (one self-contained file).")]
    = BulletinFormat.md,
    output: OutputOpt = None,
    template: Annotated[Path | None, typer.Option(
        "--template", help="A Jinja2 template to use instead of the bundled one (rendered sandboxed; it may "
        "{% extends \"bulletin.md\" %} or \"bulletin.html\").", show_default=False)] = None,
    targets: Annotated[Path | None, typer.Option(
        "--targets", help="Annual plan (CSV or YAML): planned 五星/四星/三星 counts per group; adds a "
        "plan-vs-actual section.", show_default=False)] = None,
    history: Annotated[list[Path] | None, typer.Option(
        "--history", help="Earlier periods' files (or a folder, or a file with a period column; repeatable): adds "
        "each group's trend and the stars at risk (降星预警), e.g. for the half-year bulletin.",
        show_default=False)] = None,
    lang: LangOption = LangOpt.zh,
    criteria: CriteriaOpt = None,
    near: NearOpt = 5.0,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Write the periodic bulletin (通报): levels, star rates, league table, 晋星/降星, vetoes, weaknesses,
    near misses, problem list and data-quality notes.

    Examples:

      wuxing bulletin 2024Q2.csv --previous 2024Q1.csv --area 示范县 -o 通报.md

      wuxing bulletin 2024Q2.csv --previous 2024Q1.csv -f html --targets 规划.csv -o 通报.html

      wuxing bulletin all.csv --period 2024-Q2 --previous-period 2024-Q1 --lang en

      wuxing bulletin 2024Q2.csv --previous 2024Q1.csv --history 2024Q1.csv -f html -o 半年通报.html
    """
    from ..io.targets import load_targets
    from ..pipeline.score import concurrently, run_score
    from ..report.bulletin import build_bulletin, render_bulletin
    from ..report.labels import Lang
    from .options import check_by

    group = check_by(by)
    assert group is not None
    if near < 0:
        raise UsageError([Problem("--near must be zero or more", code=ProblemCode.NEAR)])
    inputs = [p for p in (data, previous, template, targets, *(history or [])) if p is not None]
    out = Output(output, inputs=inputs, criteria=criteria)
    template_text = _read_template(template) if template is not None else None
    plan = load_targets(targets) if targets is not None else None

    def scored(path: Path, period_: str | None, columns: Literal["results", "indicators"]) -> ScoreRun:
        """Score ``path``; ``--period`` selects rows only when the file has a period column."""
        try:
            return run_score(path, criteria, load(period=period_), near=near, by=group, columns=columns, order=False)
        except UsageError as exc:
            if period_ is None or not _no_period_column(exc):
                raise
        return run_score(path, criteria, load(), near=near, by=group, columns=columns, order=False)

    # this period's indicator points make the weaknesses and problem list; the previous period is
    # compared by stars and levels only. The bulletin only aggregates and sorts what it lists itself
    # (tests/report/test_bulletin.py shuffles the rows to show it), so the rows are never put in rank order
    calls: list[Callable[[], ScoreRun]] = [lambda: scored(data, period, "indicators")]
    if previous is not None:
        calls.append(lambda: scored(previous, previous_period, "results"))
    elif previous_period is not None:
        calls.append(lambda: run_score(data, criteria, load(period=previous_period), near=near, by=group,
                                       columns="results", order=False))
    with progress(f"wuxing bulletin {data.name}") as step:
        step("reading and scoring")
        runs = concurrently(calls)  # both periods at the same time; problems in either are all reported
    run = runs[0]
    before = runs[1] if len(runs) > 1 else None
    trends = None
    if history:
        from ..pipeline.history import load_history
        from ..report.history import build_history

        series = load_history([*history, data], criteria, load(), near=near)
        trends = build_history(series, by=group)
    print_warnings([*run.warnings, *(before.warnings if before else [])], quiet, verbose)
    language = Lang(lang.value)
    with progress(f"wuxing bulletin {data.name}") as step:
        step("writing the bulletin")
        view = build_bulletin(run, before, by=group, lang=language, title=title, area=area, period=period,
                              date=date, targets=plan, near=near, history=trends)
        text = render_bulletin(view, fmt.value, template_text, language,
                               template_name=str(template) if template is not None else "--template")
    out.text(text)


def _no_period_column(exc: UsageError) -> bool:
    """The loader's complaint that ``--period`` was given for a file without a period column."""
    return bool(exc.problems) and all(p.code == ProblemCode.PERIOD_NO_COLUMN for p in exc.problems)


def _read_template(path: Path) -> str:
    try:
        with path.open("rb") as handle:  # bounded: a pipe or device has no size to check first
            raw = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        raise UsageError([Problem(f"cannot read the template: {exc.strerror or exc}", file=str(path),
                                  code=ProblemCode.TEMPLATE_READ)]) from None
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise UsageError([Problem("the template is larger than 1 MB", file=str(path), code=ProblemCode.TEMPLATE_READ)])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError([Problem("the template is not UTF-8 text", file=str(path), code=ProblemCode.TEMPLATE_READ,
                                  hint="save it as UTF-8")]) from None
