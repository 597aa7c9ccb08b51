"""Commands for the analysts' spreadsheets and folders: ``template``, ``merge`` and ``init``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, assert_never

import typer

from ..errors import Problem, ProblemCode, UsageError
from . import app
from .common import (
    CriteriaOpt,
    LoadBuilder,
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


class TableFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


def _format(fmt: TableFormat | None, output: Path | None, default: TableFormat) -> TableFormat:
    """The format asked for, else the one the output's suffix names, else ``default``."""
    if fmt is not None:
        return fmt
    if output is not None and str(output) != "-":
        suffix = output.suffix.lower().lstrip(".")
        if suffix in ("xlsx", "xlsm"):
            return TableFormat.xlsx
        if suffix == "csv":
            return TableFormat.csv
    return default


def _note(text: str, quiet: bool) -> None:
    if not quiet:
        sys.stderr.write(text + "\n")


@app.command()
@guarded
@data_options("encoding", "sheet")
def template(
    criteria: CriteriaOpt = None,
    fmt: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="xlsx (dropdowns, bounds, rules as comments) or csv (the header row). "
        "Default: from the --output suffix, else xlsx.", show_default=False)] = None,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    branches: Annotated[Path | None, typer.Option(
        "--branches", "-b", help="Pre-fill one row per branch from this CSV/Excel file "
        "(支部编码, 支部名称, 县区, 乡镇, 类型, 期间).", show_default=False)] = None,
    period: Annotated[str | None, typer.Option(
        "--period", help="Fill 期间 of the pre-filled rows, e.g. 2024-Q4.", show_default=False)] = None,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
) -> None:
    """Write the self-assessment form (自评表) that branches fill in.

    One column per reserved column (支部编码 … 期间) and per input field of the criteria, headed
    exactly as `wuxing score` reads it back. In the .xlsx form every header carries its rule in
    plain words as a comment, yes/no and graded columns have dropdown lists, numbers are checked
    against their bounds, the header row is frozen, and a second sheet (填表说明) explains every column.

    Examples:

      wuxing template -c rural -o 自评表.xlsx

      wuxing template -c rural --branches 支部名单.xlsx --period 2024-Q4 -o 自评表-2024Q4.xlsx

      wuxing template -c community -f csv -o 社区自评表.csv
    """
    from ..forms.layout import build_form
    from ..forms.rows import empty_rows, read_branches
    from ..forms.xlsx import write_form_xlsx
    from ..io.criteria_loader import load_criteria_set
    from ..pipeline.score import criteria_names

    kind = _format(fmt, output, TableFormat.xlsx)
    out = Output(output, inputs=[branches] if branches is not None else [], criteria=criteria, no_bom=no_bom)
    form = build_form(load_criteria_set(criteria_names(criteria)))
    if branches is not None:
        options = load()
        rows = read_branches(branches, form, encoding=options.encoding, sheet=options.sheet, period=period)
    else:
        rows = empty_rows(form)
    if kind is TableFormat.xlsx:
        out.file(lambda path: write_form_xlsx(path, form, rows), kind.value)
    elif kind is TableFormat.csv:
        out.csv(rows)
    else:
        assert_never(kind)
    if not out.is_stdout:
        _note(f"wrote {output}: {len(form.columns)} columns, {rows.height} pre-filled rows", quiet)


@app.command()
@guarded
@data_options("encoding", "sheet")
def merge(
    inputs: Annotated[list[Path], typer.Argument(
        help="Filled-in forms (.csv in UTF-8 or GBK, .xlsx) or folders of them (searched recursively).",
        show_default=False)],
    criteria: CriteriaOpt = None,
    fmt: Annotated[TableFormat | None, typer.Option(
        "--format", "-f", help="csv (UTF-8) or xlsx (the form, filled). Default: from the --output suffix, "
        "else csv.", show_default=False)] = None,
    output: OutputOpt = None,
    no_bom: NoBomOpt = False,
    lenient: Annotated[bool, typer.Option(
        "--lenient", help="Merge forms that lack some of the criteria's columns (their cells stay empty) "
        "instead of stopping.")] = False,
    load: LoadBuilder = load_options,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Stack the branches' filled-in forms into one table for score, rank and bulletin.

    Headers are matched after normalisation, so column order, full-width characters and accepted
    aliases may differ between forms. Stops (exit 1) listing every problem: a branch submitted twice
    with different values (same 支部编码 and 期间; files and lines named), and forms made for another
    version of the criteria (missing columns named per file). A branch submitted twice with the same
    values is kept once, with a warning; columns the criteria do not know are kept, with a warning.

    Examples:

      wuxing merge 提交/2024-Q4/ -c rural -o 2024-Q4.csv

      wuxing merge 东庄村.xlsx 西庄村.xlsx 南庄村.csv -o 汇总.xlsx
    """
    from ..forms.merge import merge_files, merged_form
    from ..forms.xlsx import write_form_xlsx
    from ..io.criteria_loader import load_criteria_set
    from ..io.inputs import expand_inputs
    from ..pipeline.score import criteria_names

    kind = _format(fmt, output, TableFormat.csv)
    exclude = [output] if output is not None and str(output) != "-" else []
    files = expand_inputs(inputs, recursive=True, exclude=exclude)
    out = Output(output, inputs=files, criteria=criteria, no_bom=no_bom)
    models = load_criteria_set(criteria_names(criteria))
    options = load()
    result = merge_files(files, models, encoding=options.encoding, sheet=options.sheet, lenient=lenient)
    print_warnings(result.warnings, quiet, verbose)
    if kind is TableFormat.xlsx:
        form = merged_form(result)
        out.file(lambda path: write_form_xlsx(path, form, result.frame), kind.value)
    elif kind is TableFormat.csv:
        out.csv(result.frame)
    else:
        assert_never(kind)
    dropped = f", {result.duplicates_dropped} repeated rows kept once" if result.duplicates_dropped else ""
    _note(f"merged {result.frame.height} rows from {result.files} files{dropped}", quiet)


class InitCriteria(StrEnum):
    rural = "rural"
    community = "community"
    both = "both"


@app.command()
@guarded
def init(
    directory: Annotated[Path, typer.Argument(help="The folder to create (it must be empty or new).",
                                              show_default=False)],
    criteria: Annotated[list[str] | None, typer.Option(
        "--criteria", "-c", help="Standards to copy: rural, community, both, or a criteria file; repeatable.",
        show_default="both")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty "
                                        "(files of the same name are replaced).")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Create a county's working folder: criteria to adapt, the empty form, a README and a Makefile.

    The folder gets criteria/ (copies of the chosen standards, with the JSON schema beside them for
    editors), 自评表.xlsx (the empty form), submissions/ for the branches' forms, README.md (the
    monthly routine in Chinese: collect → validate → score → rank → bulletin → diff), and a
    Makefile and run.sh that run that routine.

    Examples:

      wuxing init 某某县五星支部

      wuxing init 某某区 -c community
    """
    from ..forms.scaffold import init_folder

    names: list[str] = []
    for name in criteria or ["both"]:
        names.extend(["rural", "community"] if name.strip().lower() == InitCriteria.both else [name])
    if directory.exists() and not directory.is_dir():
        raise UsageError([Problem(f"'{directory}' is a file, not a folder", code=ProblemCode.INIT_DIR)])
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UsageError([Problem(f"the folder '{directory}' is not empty", code=ProblemCode.INIT_DIR,
                                  hint="choose a new folder, or add --force to write into it")])
    written = init_folder(directory, list(dict.fromkeys(names)))
    _note(f"created {directory}/ with " + ", ".join(str(p.relative_to(directory)) for p in written), quiet)
    _note(f"next: cd {directory} && less README.md", quiet)
