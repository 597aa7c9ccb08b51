"""Load a series of periods — many files, a folder, or one file with a period column — and score each
(orchestration for ``wuxing history`` and the bulletin's ``--history``; no presentation)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from ..engine import history as hist
from ..errors import DataError, Problem, ProblemCode, UsageError
from ..io.assessment import load_assessment
from ..io.criteria_loader import load_criteria_set
from ..io.inputs import expand_inputs
from ..io.reader import read_raw
from ..models.contract import DEFAULT_NEAR, RESERVED_HEADERS, header_key
from ..models.criteria import Criteria
from ..models.periods import ACCEPTED_FORMS, Period, find_period_in, order_periods, try_parse_period
from ..models.results import Assessment, History, ScoreRun, Source
from .id_match import id_mismatch_problems
from .score import LoadOptions, criteria_names, rejected_warnings, score_assessment


def _file_periods(path: Path, options: LoadOptions) -> list[str]:
    """The distinct period labels of a file's period column, in file order."""
    raw = read_raw(path, encoding=options.encoding, sheet=options.sheet)
    keys = {header_key(h) for h in RESERVED_HEADERS["period"]}
    for index, header in enumerate(raw.headers):
        if header_key(header) in keys:
            values = raw.frame.get_column(raw.column_name(index)).drop_nulls()
            return list(dict.fromkeys(str(v) for v in values.to_list()))
    return []


def _is_multi_period(exc: UsageError) -> bool:
    return any(p.code == ProblemCode.PERIOD_SEVERAL for p in exc.problems)


def load_history(
    paths: Sequence[Path],
    criteria: Sequence[str] | Sequence[Criteria] | None = None,
    options: LoadOptions | None = None,
    *,
    near: float = DEFAULT_NEAR,
) -> History:
    """Load and score every period of ``paths`` (files or folders); see :mod:`wuxing_cli.engine.history`.

    A file without a period column takes its period from its name (``county-2025-Q1.csv``). Periods must
    be recognisable (:mod:`wuxing_cli.periods`) and each may come from one file only. Data errors of
    every file are reported together.
    """
    options = options or LoadOptions()
    models = _models(criteria)
    files = expand_inputs(paths)
    problems: list[Problem] = []
    loaded: list[tuple[Source, Assessment | None]] = []
    for path in files:
        opts = LoadOptions(encoding=options.encoding, sheet=options.sheet, period=None, strict=options.strict,
                           skip_invalid=options.skip_invalid)
        try:
            data = load_assessment(path, models, encoding=opts.encoding, sheet=opts.sheet, strict=opts.strict,
                                   skip_invalid=opts.skip_invalid)
        except UsageError as exc:
            if not _is_multi_period(exc):
                raise
            labels = _file_periods(path, options)
            bad = [label for label in labels if try_parse_period(label) is None]
            if bad:
                problems.extend(_unrecognised(path, bad))
                continue
            # one Source per period, however many spellings of it the file holds (--period picks them all)
            by_canonical = {_parse(label).canonical: _parse(label) for label in labels}
            loaded.extend((Source(path, period, canonical), None) for canonical, period in by_canonical.items())
            continue
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        if data.period is not None:
            period = try_parse_period(data.period)
            if period is None:
                problems.extend(_unrecognised(path, [data.period]))
                continue
        else:
            found = find_period_in(path.stem)
            if found is None:
                problems.append(Problem(
                    "cannot tell which period this file is: it has no period column and its name names no period",
                    file=str(path), code=ProblemCode.PERIOD,
                    hint="add a 期间 column, or put the period in the file name (e.g. county-2025-Q1.csv)"))
                continue
            period = found
        loaded.append((Source(path, period, None), data))
    if problems:
        raise DataError(problems)

    by_period: dict[Period, Source] = {}
    for source, _ in loaded:
        other = by_period.get(source.period)
        if other is not None:
            problems.append(Problem(
                f"period {source.period} is given twice: in {other.path} ({other.period}) and in "
                f"{source.path} ({source.period})", file=str(source.path), code=ProblemCode.PERIOD_TWICE,
                hint="give each period once (a folder must not hold both the quarterly files and a combined file)"))
        else:
            by_period[source.period] = source
    if problems:
        raise DataError(problems)
    # outputs show every period in its canonical form (2024年第四季度 → 2024-Q4), as score does
    loaded = [(dataclasses.replace(source, period=canonical(source.period)), data) for source, data in loaded]

    ordered = order_periods([s.period for s, _ in loaded])
    position = {p: i for i, p in enumerate(ordered.periods)}
    warnings = [Problem(note, severity="warning", code=ProblemCode.PERIODS) for note in ordered.notes()]
    frames: list[pl.DataFrame] = []
    runs: list[ScoreRun] = []
    for source, preloaded in sorted(loaded, key=lambda item: position[item[0].period]):
        try:
            assessment = preloaded
            if assessment is None:
                assessment = load_assessment(source.path, models, encoding=options.encoding, sheet=options.sheet,
                                       period=source.pick, strict=options.strict,
                                       skip_invalid=options.skip_invalid)
            run = score_assessment(models, assessment, near=near)
        except DataError as exc:
            problems.extend(exc.problems)
            continue
        runs.append(run)
        # a single period's "tenure not checked" warning does not apply: the series applies tenure
        warnings.extend(w for w in run.warnings if w.code != ProblemCode.TENURE_UNCHECKED)
        if assessment.rejected:
            warnings.append(Problem(f"{len(assessment.rejected)} invalid row(s) rejected (--skip-invalid)",
                                    file=str(source.path), severity="warning", code=ProblemCode.REJECTED))
            warnings.extend(rejected_warnings(assessment))  # each row, with its line and reasons
        label = str(source.period)
        frame = run.frame.select([c for c in run.frame.columns if not c.startswith("pts:")])
        frames.append(frame.with_columns(pl.lit(label).alias("period"),
                                         pl.lit(position[source.period], pl.Int32).alias(hist.PERIOD_INDEX),
                                         pl.lit(str(source.path)).alias("source")))
    if problems:
        raise DataError(problems)
    for before, after in itertools.pairwise(frames):  # ids changed between two periods (leading zeros lost …)
        warnings.extend(id_mismatch_problems(before, after, str(before.get_column("source").first()),
                                             str(after.get_column("source").first())))
    long = pl.concat(frames, how="diagonal_relaxed")
    long = hist.rerank(hist.apply_tenure(long, models))
    used = [c for c in models if c.id in set(long.get_column("criteria_id").unique().to_list())]
    return History(criteria=used or list(models), periods=ordered.periods,
                   sources=sorted((s for s, _ in loaded), key=lambda s: position[s.period]),
                   long=long, warnings=warnings, near=near)


def canonical(period: Period) -> Period:
    """``period`` labelled with its canonical form (``2024年第四季度`` → ``2024-Q4``)."""
    return dataclasses.replace(period, label=period.canonical)


def _parse(label: str) -> Period:
    period = try_parse_period(label)
    assert period is not None
    return period


def _unrecognised(path: Path, labels: Sequence[str]) -> list[Problem]:
    return [Problem(f"'{label}' is not a recognised period", file=str(path), header="期间", value=label,
                    code=ProblemCode.PERIOD_LABEL, hint=f"write periods as {ACCEPTED_FORMS}") for label in labels]


def _models(criteria: Sequence[str] | Sequence[Criteria] | None) -> list[Criteria]:
    if criteria and all(isinstance(c, Criteria) for c in criteria):
        return [c for c in criteria if isinstance(c, Criteria)]
    return load_criteria_set(criteria_names([str(c) for c in criteria] if criteria else None))
