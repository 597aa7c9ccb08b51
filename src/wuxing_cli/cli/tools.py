"""Commands for producing files: ``synth`` (realistic test data)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ..errors import Problem, ProblemCode, UsageError
from . import app
from .common import CriteriaOpt, Output, OutputOpt, guarded


class SynthFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    xlsx = "xlsx"


@app.command()
@guarded
def synth(
    criteria: CriteriaOpt = None,
    branches: Annotated[int, typer.Option("--branches", "-n", min=1, max=10_000_000,
                                          help="Number of branches.")] = 300,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same file.")] = 1,
    periods: Annotated[list[str] | None, typer.Option("--period", help="Period label; repeat for several "
                                                       "periods of the same branches.", show_default=False)] = None,
    county: Annotated[str | None, typer.Option("--county", help="County name.", show_default=False)] = None,
    townships: Annotated[int | None, typer.Option("--townships", min=1, help="Number of townships/streets "
                                                  "(default: by size).", show_default=False)] = None,
    missing_rate: Annotated[float, typer.Option("--missing-rate", min=0.0, max=1.0,
                                                help="Share of cells left empty.")] = 0.01,
    veto_rate: Annotated[float, typer.Option("--veto-rate", min=0.0, max=1.0,
                                             help="Share of branches with a veto or cap firing.")] = 0.02,
    fmt: Annotated[SynthFormat, typer.Option("--format", "-f", help="Output format.")] = SynthFormat.csv,
    encoding: Annotated[str, typer.Option("--encoding", help="CSV encoding, written exactly so (test data "
                                          "for the readers): utf-8 (no BOM), utf-8-sig (with a BOM, Excel's "
                                          "\"CSV UTF-8\") or gb18030 (as Excel saves it in China).")] = "utf-8",
    output: OutputOpt = None,
) -> None:
    """Write realistic synthetic assessment data for any criteria (Chinese names, townships, some
    missing cells, some vetoes firing).

    Examples:

      wuxing synth -c rural -c community -n 300 --seed 7 -o county.csv

      wuxing synth -c benchmarks/criteria-wide.yaml -n 1000000 -f parquet -o national.parquet

      wuxing synth -c rural --period 2024-Q1 --period 2024-Q2 -o county-{period}.csv   (one file per period)
    """
    import polars as pl

    try:  # numpy is the synth extra, imported by devtools/synth only
        import numpy  # noqa: F401
    except ImportError:
        raise UsageError([Problem("wuxing synth needs numpy, which is not installed", code=ProblemCode.USAGE,
                                  hint="pip install 'wuxing-cli[synth]'")]) from None
    from ..devtools.synth.table import synthesize, write_table
    from ..io.criteria_loader import load_criteria_set
    from ..pipeline.score import criteria_names

    models = load_criteria_set(criteria_names(criteria))
    frame = synthesize(models, branches, seed, periods=tuple(periods or ("2024-Q4",)), county=county,
                       townships=townships, missing_rate=missing_rate, veto_rate=veto_rate)
    if output is not None and "{period}" in str(output):
        for (period,), part in frame.group_by("期间", maintain_order=True):
            target = Path(str(output).replace("{period}", str(period)))

            def write_part(path: Path, part: pl.DataFrame = part) -> None:
                write_table(part, path, fmt.value, encoding=encoding)

            Output(target, criteria=criteria).file(write_part, fmt.value)
        return
    out = Output(output, criteria=criteria)
    if out.is_stdout and fmt is SynthFormat.csv:
        import io

        buffer = io.BytesIO()
        frame.write_csv(buffer)
        out.data(buffer.getvalue().decode("utf-8").encode(encoding))
        return
    out.file(lambda path: write_table(frame, path, fmt.value, encoding=encoding), fmt.value)
