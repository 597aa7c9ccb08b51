"""Commands ``validate``, ``score`` and ``schema``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, assert_never

import typer

from ..report.validate import ValidateFormat
from . import app
from .common import (
    EXIT_INVALID,
    EXIT_OK,
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
    progress,
    report_problems,
)


class ScoreFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    md = "md"
    xlsx = "xlsx"
    parquet = "parquet"


@app.command()
@guarded
@data_options("encoding", "sheet", "period", "strict")
def validate(
    files: Annotated[list[str] | None, typer.Argument(help="Criteria files or built-in names (default: the built-ins).",
                                                      show_default=False)] = None,
    criteria: CriteriaOpt = None,
    data: Annotated[list[Path] | None, typer.Option("--data", "-d", help="Also check this data file (repeatable).",
                                                    show_default=False)] = None,
    fmt: Annotated[ValidateFormat, typer.Option("--format", "-f", help="text, json or github annotations.")]
    = ValidateFormat.text,
    output: OutputOpt = None,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
) -> int:
    """Check criteria files (and data files against them); exit 1 listing every problem.

    Examples:

      wuxing validate criteria/*.yaml

      wuxing validate -c rural --data 自评表.xlsx -f github
    """
    from ..pipeline.validate import run_validation
    from ..report.validate import render_validation

    names = list(files or []) + list(criteria or [])
    result = run_validation(names, data or [], load() if data else None)
    out = Output(output, inputs=[*(Path(n) for n in names), *(data or [])])
    out.text(render_validation(result, fmt, quiet=quiet))
    return EXIT_OK if result.ok else EXIT_INVALID


@app.command()
@guarded
@data_options("encoding", "sheet", "period", "strict", "skip_invalid")
def score(
    data: Annotated[Path, typer.Argument(help="Assessment file (.csv or .xlsx), one row per branch.",
                                         show_default=False)],
    criteria: CriteriaOpt = None,
    fmt: Annotated[ScoreFormat, typer.Option("--format", "-f", help="Output format.")] = ScoreFormat.table,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    by: Annotated[str | None, typer.Option("--by", help="Also rank within groups of this column "
                                           "(township, county, …).", show_default=False)] = None,
    near: NearOpt = 5.0,
    lang: LangOption = LangOpt.zh,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    streaming: Annotated[bool, typer.Option(
        "--streaming", help="For files larger than memory: read, check and score the file in slices of "
        "rows (same results; memory stays about the size of one slice plus the results).")] = False,
) -> None:
    """Score every branch into stars, a level and points, ranked.

    Examples:

      wuxing score examples/county-2024-Q2.csv

      wuxing score 自评表.xlsx -c rural -f csv -o 结果.csv

      wuxing score data.csv --by township -f json
    """
    from ..engine.score import STAR_RESULTS, result_columns
    from ..io.criteria_loader import load_criteria_set
    from ..pipeline.score import criteria_names, run_score
    from ..report.labels import Lang
    from .options import check_by

    out = Output(output, inputs=[data], criteria=criteria, no_bom=no_bom)
    models = load_criteria_set(criteria_names(criteria))
    # Keep only the result columns the format reads: sorting into rank order then moves less data.
    tabular = fmt in (ScoreFormat.csv, ScoreFormat.xlsx, ScoreFormat.parquet)
    columns = result_columns(models, star_results=("points", "earned", "awarded") if tabular else STAR_RESULTS)
    options = load()
    language = Lang(lang.value)
    if streaming:
        _score_streaming(data, models, options, near=near, by=check_by(by), columns=columns, out=out, fmt=fmt,
                         language=language, quiet=quiet, verbose=verbose)
        return
    with progress(f"wuxing score {data.name}") as step:
        step("reading and scoring")
        run = run_score(data, models, options, near=near, by=check_by(by), columns=columns)
    print_warnings(run.warnings, quiet, verbose)
    _list_rejected(run, fmt)
    with progress(f"wuxing score {data.name}", enabled=not out.is_stdout) as step:
        step("writing")
        _write_score(run, fmt, out, language)


def _list_rejected(run: Any, fmt: ScoreFormat) -> None:
    """CSV and Parquet have no room for the rows ``--skip-invalid`` left out: one stderr line each (even
    with ``--quiet``: the option asks for them); the other formats list them in the output."""
    if fmt in (ScoreFormat.csv, ScoreFormat.parquet) and run.data.rejected:
        from ..pipeline.score import rejected_warnings

        report_problems(rejected_warnings(run.data))


def _write_score(run: Any, fmt: ScoreFormat, out: Output, language: Any) -> None:
    from ..report.json_stream import json_chunks
    from ..report.score import (
        score_document,
        score_frame,
        score_markdown_chunks,
        score_renderable,
        score_sheets,
    )
    from ..report.tabular import parquet_write
    from ..report.xlsx import check_rows, write_workbook

    if fmt is ScoreFormat.table:
        out.renderable(score_renderable(run, language))
    elif fmt is ScoreFormat.csv:
        out.csv(score_frame(run))
    elif fmt is ScoreFormat.json:
        out.chunks(json_chunks(score_document(run, stream=True)))
    elif fmt is ScoreFormat.md:
        out.chunks(score_markdown_chunks(run, language))
    elif fmt is ScoreFormat.xlsx:
        sheets = score_sheets(run, language)
        check_rows(sheets, out.path)
        out.file(lambda path: write_workbook(path, sheets, language), fmt.value)
    elif fmt is ScoreFormat.parquet:
        frame = score_frame(run)
        out.file(lambda path: parquet_write(frame, path), fmt.value)
    else:
        assert_never(fmt)


def _score_streaming(data: Path, models: Any, options: Any, *, near: float, by: str | None, columns: Any,
                     out: Output, fmt: ScoreFormat, language: Any, quiet: bool, verbose: bool) -> None:
    """``score --streaming``: CSV and Parquet are written chunk by chunk; other formats need the
    whole table in memory (the reading and scoring still happen in slices)."""
    import dataclasses

    from ..pipeline.streaming import score_streaming
    from ..report.score import score_frame

    with progress(f"wuxing score {data.name}") as step:
        step("reading and scoring in slices")
        with score_streaming(data, models, options, near=near, by=by, columns=columns) as streamed:
            step("ranking and writing")
            if fmt in (ScoreFormat.csv, ScoreFormat.parquet) and not out.is_stdout:
                if fmt is ScoreFormat.csv:  # the BOM rule of every CSV (Output.csv_bom), written once at the start
                    out.file(lambda path: streamed.write_csv(path, score_frame, bom=out.csv_bom), fmt.value)
                else:
                    out.file(lambda path: streamed.write_parquet(path, score_frame), fmt.value)
                run = streamed.run
            else:
                run = dataclasses.replace(streamed.run, frame=streamed.frame())
    print_warnings(run.warnings, quiet, verbose)
    _list_rejected(run, fmt)
    if not (fmt in (ScoreFormat.csv, ScoreFormat.parquet) and not out.is_stdout):
        _write_score(run, fmt, out, language)


@app.command()
@guarded
def schema(output: OutputOpt = None) -> None:
    """Print the JSON Schema of criteria files (for editors and CI).

    Example:

      wuxing schema -o schema/criteria.schema.json
    """
    from ..models.schema import criteria_schema_text

    Output(output).text(criteria_schema_text())
