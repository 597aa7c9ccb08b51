"""Commands for producing files: ``synth`` (realistic test data)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

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
    fmt: Annotated[SynthFormat, typer.Option("--format", "-f", help="Output format.")] = SynthFormat.csv,
    encoding: Annotated[str, typer.Option("--encoding", help="CSV encoding: utf-8 or gb18030 (as Excel "
                                          "saves it in China).")] = "utf-8",
    output: OutputOpt = None,
) -> None:
    """Write realistic synthetic assessment data for any criteria (Chinese names, townships, some
    missing cells, some vetoes firing).

    Examples:

      wuxing synth -c rural -c community -n 300 --seed 7 -o county.csv

      wuxing synth -c benchmarks/criteria-wide.yaml -n 1000000 -f parquet -o national.parquet
    """
    from ..io.criteria_loader import load_criteria_set
    from ..pipeline import criteria_names
    from ..synth import synthesize, write_table

    models = load_criteria_set(criteria_names(criteria))
    frame = synthesize(models, branches, seed, periods=tuple(periods or ("2024-Q4",)), county=county)
    out = Output(output)
    if out.is_stdout and fmt is SynthFormat.csv:
        import io

        buffer = io.BytesIO()
        frame.write_csv(buffer)
        out.data(buffer.getvalue())
        return
    out.file(lambda path: write_table(frame, path, fmt.value, encoding=encoding), fmt.value)
