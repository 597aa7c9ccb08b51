"""Scoring files larger than memory (``wuxing score --streaming``).

The data file is cut into slices of rows. Each slice is read, checked, typed and scored by the
very code that handles a whole file, so every branch gets exactly the result it gets in the
normal run; only the result columns the output needs are kept, on disk. What needs the whole file
is done across slices: duplicate branch ids, the periods present, the "empty cells" warnings, the
list of problems (capped as for one file) and the ranking, which needs only each branch's key
(stars, points, id: about 40 bytes). The ranked table is then written chunk by chunk (CSV,
Parquet); nothing is written unless every slice is valid.

Memory: one slice's working set (about 6 KB a row for 125 indicators: 0.3 GB for the default
50,000 rows) plus 40-80 bytes a branch, instead of about 3 times the CSV size. Each slice costs a
fixed ~0.15 s (query planning), so the slices are large. ``WUXING_SLICE_ROWS`` sets their size.

CSV (UTF-8 or GB18030, as the normal path detects them from the file's first MiB) and Parquet are
sliced; other inputs (Excel) are read whole.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import polars as pl

from ..engine.columns import star_col
from ..engine.rank import rank_branches
from ..engine.score import stack_scores
from ..errors import DataError, Problem, ProblemCode, WuxingError
from ..io.assessment import load_assessment
from ..io.data_problems import capped, duplicate_id_problems, missing_value_warning
from ..io.decode import HEAD_BYTES, codec_name, is_stream, stream_copy
from ..io.header_row import head_records, pick_header
from ..io.period_select import absent_period, period_key, several_periods
from ..models.contract import DEFAULT_NEAR, LINE
from ..models.criteria import Criteria
from ..models.periods import sort_labels
from ..models.results import Assessment, LoadedPart, Rejected, ScoreRun
from .score import LoadOptions

#: Rows a slice holds (a slice may hold more when a quoted cell spans lines); the environment
#: variable WUXING_SLICE_ROWS overrides it.
BATCH_ROWS = 50_000

OPTIONAL = ("county", "township", "branch_type", "period")  # as wuxing_cli.report.score_out


@contextlib.contextmanager
def score_streaming(
    data: Path,
    criteria: Sequence[Criteria],
    options: LoadOptions | None = None,
    *,
    near: float = DEFAULT_NEAR,
    by: str | None = None,
    columns: Sequence[str],
    batch_rows: int | None = None,
) -> Iterator[Streamed]:
    """Load, check and score ``data`` slice by slice (a context: the slices' results live in a
    temporary folder until it ends). The scores are those of the normal run
    (:func:`wuxing_cli.pipeline.run_score` with the same ``columns``), in the same order."""
    options = options or LoadOptions()
    if batch_rows is None:
        batch_rows = int(os.environ.get("WUXING_SLICE_ROWS") or BATCH_ROWS)
    data = Path(data)
    with tempfile.TemporaryDirectory(prefix="wuxing-slices-") as tmp:
        # a FIFO, <(…) or device: sliced from its bounded copy (messages still name ``data``)
        source = stream_copy(data) if is_stream(data) else data
        slices = _slices(source, options.encoding, batch_rows, Path(tmp))
        if slices is None:  # not sliceable (Excel): read it whole
            from .score import run_score

            run = run_score(data, list(criteria), options, near=near, by=by, columns=columns)
            frame = run.frame
            present = [c for c in OPTIONAL if c in frame.columns and frame[c].null_count() < frame.height]
            yield Streamed(run, None, Path(tmp), frame.columns, batch_rows, present=present)
            return
        yield _score_slices(data, slices, criteria, options, near=near, by=by, columns=columns,
                            tmp=Path(tmp), batch_rows=batch_rows)


@dataclasses.dataclass
class Streamed:
    """A streamed score: ``run`` holds everything but the rows (its ``frame`` is empty), which
    :meth:`chunks` yields in rank order, a bounded number at a time."""

    run: ScoreRun
    keys: pl.DataFrame | None  # slice, row, rank (and group_rank) of every branch, in rank order
    folder: Path
    order: list[str]  # the columns of the ranked frame, as the normal run has them
    chunk_rows: int
    present: list[str] = dataclasses.field(default_factory=list)  # optional columns with a value somewhere

    def chunks(self) -> Iterator[pl.DataFrame]:
        """The ranked frame of the normal run, cut into consecutive pieces."""
        if self.keys is None:
            yield self.run.frame
            return
        keys = self.keys.with_row_index("__position").with_columns(
            (pl.col("__position") // self.chunk_rows).alias("__chunk")
        )
        count = (keys.height - 1) // self.chunk_rows + 1
        # One pass over the slices' results, sorting rows into per-chunk buckets on disk…
        for path in sorted(self.folder.glob("scored-*.arrow")):
            index = int(path.stem.split("-")[1])
            rows = keys.filter(pl.col("__slice") == index).drop("__slice")
            scored = pl.read_ipc(path).join(rows, on="__row", how="inner")
            for (chunk,), bucket in scored.partition_by("__chunk", as_dict=True).items():
                bucket.write_ipc(self.folder / f"bucket-{chunk:06d}-{index:06d}.arrow")
            del scored
        # … then each chunk from its buckets.
        for chunk in range(count):
            pieces = [pl.read_ipc(p) for p in sorted(self.folder.glob(f"bucket-{chunk:06d}-*"))]
            frame = pl.concat(pieces, how="diagonal_relaxed").sort("__position")
            yield frame.select(
                pl.col(c) if c in frame.columns else pl.lit(None, dtype=self.run.frame.schema[c]).alias(c)
                for c in self.order
            )
            for p in self.folder.glob(f"bucket-{chunk:06d}-*"):
                p.unlink()

    def frame(self) -> pl.DataFrame:
        """All of the ranked frame (for the formats that need it whole)."""
        return pl.concat(list(self.chunks()))

    def write_csv(self, path: Path, to_table: Callable[[ScoreRun], pl.DataFrame], *, bom: bool = False) -> None:
        """Write ``to_table`` (e.g. ``score_frame``) of the ranked frame as CSV, chunk by chunk; with ``bom``,
        the file starts with one UTF-8 BOM (the CLI decides, as for every CSV: ``Output.csv_bom``)."""
        from ..report.tabular import UTF8_BOM

        with path.open("wb") as out:
            if bom:
                out.write(UTF8_BOM)
            for i, chunk in enumerate(self._tables(to_table)):
                out.write(_csv(chunk, header=i == 0))

    def write_parquet(self, path: Path, to_table: Callable[[ScoreRun], pl.DataFrame]) -> None:
        parts = []
        for i, chunk in enumerate(self._tables(to_table)):
            part = self.folder / f"out-{i:06d}.parquet"
            chunk.write_parquet(part, statistics=False)
            parts.append(part)
        pl.scan_parquet(parts, glob=False).sink_parquet(path, statistics=False)

    def _tables(self, to_table: Callable[[ScoreRun], pl.DataFrame]) -> Iterator[pl.DataFrame]:
        """``to_table`` of each chunk, with the columns of the whole (a column the whole has may
        be empty in one chunk: a renderer that leaves out empty columns must not drop it there)."""
        layout: list[str] | None = None
        for chunk in self.chunks():
            if layout is None:
                probe = chunk.head(1).with_columns(pl.lit("x").alias(c) for c in self.present)
                layout = to_table(dataclasses.replace(self.run, frame=probe)).columns
            table_ = to_table(dataclasses.replace(self.run, frame=chunk))
            yield table_.select(
                pl.col(c) if c in table_.columns else pl.lit(None, dtype=pl.String).alias(c) for c in layout
            )


def _csv(frame: pl.DataFrame, *, header: bool) -> bytes:
    """``csv_bytes`` of one piece of a table (with or without the header line)."""
    from ..io.writers import neutralise
    from ..report.tabular import stringify_lists

    buffer = io.BytesIO()
    stringify_lists(neutralise(frame)).write_csv(buffer, include_header=header, float_precision=None)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Cutting the file


@dataclasses.dataclass(frozen=True)
class _Slice:
    path: Path
    offset: int  # added to the slice's data line numbers to get the file's
    encoding: str | None


def _slices(data: Path, encoding: str | None, rows: int, tmp: Path) -> Iterator[_Slice] | None:
    try:
        with data.open("rb") as handle:
            magic = handle.read(8)
    except OSError:
        return None  # the normal path words the error
    if magic.startswith(b"PAR1"):
        return _parquet_slices(data, rows, tmp)
    if magic.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")) or data.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        return None
    return _csv_slices(data, encoding, rows, tmp)


_NOT_OURS = "normal path"  # a head the slicer should not decide on: the normal reader words the problem


def _csv_encoding(head: bytes, encoding: str | None) -> str | None:
    """The codec to read every slice with: as given, else UTF-8 if the head is, else GB18030.

    A head that is UTF-8 with a BOM, or plenty of UTF-8, up to a bad byte is a damaged or mixed file,
    not GBK: the normal reader reports it (same message and line as without --streaming).
    """
    if encoding is not None:
        return codec_name(encoding)  # an unknown name is a usage error, as without --streaming
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        before = head[: exc.start].decode("utf-8", errors="replace")
        if head.startswith(codecs.BOM_UTF8) or sum(1 for ch in before if ord(ch) > 0x7F) >= 8:
            return _NOT_OURS
        return "gb18030"
    return None  # let the reader tell UTF-8 from UTF-8 with BOM


def _csv_slices(data: Path, encoding: str | None, rows: int, tmp: Path) -> Iterator[_Slice] | None:
    with data.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if b"\n" not in head:
        return None  # one line, or old Mac line ends: small enough, or not ours to cut
    codec = _csv_encoding(head, encoding)
    if codec == _NOT_OURS:
        return None
    text = head.decode(codec or "utf-8", errors="replace").removeprefix("\ufeff")
    lines = text.split("\n")
    if len(head) == HEAD_BYTES:
        lines.pop()  # cut in the middle
    records = head_records([line.removesuffix("\r") for line in lines])
    if not records:
        return None  # empty: the normal path says so
    header_end = pick_header(records).end  # physical lines down to the header

    def generate() -> Iterator[_Slice]:
        with data.open("rb") as handle:
            top = b"".join(handle.readline() for _ in range(header_end))
            number = header_end  # physical lines read so far
            batch: list[bytes] = []
            quotes = 0
            first = number + 1
            index = 0
            for line in handle:
                number += 1
                if not batch:
                    first = number
                batch.append(line)
                quotes += line.count(b'"')
                if len(batch) >= rows and quotes % 2 == 0:
                    yield _write(tmp, index, top, batch, first - (header_end + 1), codec)
                    index += 1
                    batch, quotes = [], 0
            if batch or index == 0:
                yield _write(tmp, index, top, batch, first - (header_end + 1), codec)

    return generate()


def _write(tmp: Path, index: int, top: bytes, lines: list[bytes], offset: int, codec: str | None) -> _Slice:
    path = tmp / f"slice-{index:05d}.csv"
    with path.open("wb") as out:
        out.write(top)
        if top and not top.endswith(b"\n"):
            out.write(b"\n")
        out.writelines(lines)
    return _Slice(path, offset, codec)


def _parquet_slices(data: Path, rows: int, tmp: Path) -> Iterator[_Slice]:
    total = pl.scan_parquet(data, glob=False).select(pl.len()).collect().item()
    for index, start in enumerate(range(0, max(total, 1), rows)):
        path = tmp / f"slice-{index:05d}.parquet"
        pl.scan_parquet(data, glob=False).slice(start, rows).sink_parquet(path)
        yield _Slice(path, start, None)


# ---------------------------------------------------------------------------------------------
# Scoring the slices


def _score_slices(
    data: Path,
    slices: Iterator[_Slice],
    criteria: Sequence[Criteria],
    options: LoadOptions,
    *,
    near: float,
    by: str | None,
    columns: Sequence[str],
    tmp: Path,
    batch_rows: int,
) -> Streamed:
    name = str(data)
    keys: list[pl.DataFrame] = []
    ids: list[pl.DataFrame] = []
    header_errors: list[Problem] = []
    read_total = 0
    seen: set[tuple[object, ...]] = set()
    errors: list[Problem] = []
    error_total = 0
    id_header = ""
    warnings: dict[tuple[object, ...], Problem] = {}
    missing: dict[tuple[str, str], tuple[str, int, list[int]]] = {}
    rejected: list[Rejected] = []
    periods: set[str] = set()
    selected: str | None = None
    rows_read = 0
    encoding = ""
    used: dict[str, LoadedPart] = {}
    present: set[str] = set()
    tenure: list[pl.DataFrame] = []
    tenure_columns = [star_col(s.id, "awarded") for c in criteria for s in c.stars if s.tenure is not None]
    for index, part in enumerate(slices):
        try:
            loaded = load_assessment(
                part.path,
                criteria,
                encoding=part.encoding,
                sheet=options.sheet,
                period=options.period,
                strict=options.strict,
                skip_invalid=options.skip_invalid,
                line_offset=part.offset,
                partial=True,
            )
        except DataError as exc:
            # The file's columns, or a slice that cannot be read (ragged rows, bad quotes or bytes):
            # the normal path stops at those, before checking cells.
            for p in exc.problems:
                p = _renamed(p, part.path, name)
                if p.code == ProblemCode.MORE:
                    read_total += p.count or 0
                elif (p.code, p.message, p.header) not in seen:
                    seen.add((p.code, p.message, p.header))
                    header_errors.append(p)
                    read_total += 1
            continue
        except WuxingError as exc:
            raise type(exc)([_renamed(p, part.path, name) for p in exc.problems]) from None
        finally:
            part.path.unlink(missing_ok=True)
        encoding = encoding or loaded.encoding
        rows_read += loaded.rows_read
        periods.update(loaded.periods)
        doomed = options.period is None and len(periods) > 1  # an error (below) that lists every period
        selected = selected or loaded.period
        rejected.extend(loaded.rejected)
        if loaded.ids is not None:
            ids.append(loaded.ids)
            id_header = id_header or loaded.id_header
        errors.extend(_renamed(p, part.path, name) for p in loaded.problems)
        error_total += loaded.problem_total
        for p in loaded.warnings:
            if p.code == ProblemCode.MISSING_VALUE:
                continue  # counted over all slices below
            p = _renamed(p, part.path, name)
            warnings.setdefault((p.code, p.message, p.header), p)
        for loaded_part in loaded.parts:
            used.setdefault(loaded_part.criteria.id, loaded_part)
            if not options.strict:
                _count_missing(loaded_part, missing)
        if loaded.parts and not doomed and not header_errors and (options.skip_invalid or not errors):
            scored = (
                stack_scores([(p.criteria, p.frame) for p in loaded.parts], near=near, by=by, columns=columns)
                .collect(engine="in-memory")
                .with_row_index("__row")
            )
            del loaded
            present.update(c for c in OPTIONAL if scored.get_column(c).null_count() < scored.height)
            keys.append(scored.select(
                pl.lit(index, pl.UInt32).alias("__slice"), "__row", "stars", "total_points", "branch_id",
                *([by] if by else []),
            ))
            if tenure_columns:
                tenure.append(scored.select(c for c in ["criteria_id", *tenure_columns] if c in scored.columns))
            scored.write_ipc(tmp / f"scored-{index:06d}.arrow")
            del scored

    if header_errors:
        raise DataError(capped(header_errors, read_total, name))
    _check_periods(sort_labels(periods), options.period, name)
    dupes, total = duplicate_id_problems(pl.concat(ids), name, id_header) if ids else ([], 0)
    del ids
    if dupes or (errors and not options.skip_invalid):
        # as for one file: duplicate ids, then the bad cells (even those --skip-invalid would reject)
        raise DataError(capped(dupes + errors, total + error_total, name))
    if not keys:
        if rejected:
            from .score import all_rejected_problems

            raise DataError(all_rejected_problems(Assessment(name, encoding, [], rows_read, [], None, rejected=rejected)))
        raise DataError([Problem("no data rows below the header", file=name, code=ProblemCode.NO_DATA)])

    # The rank of every branch, from its key alone (as the normal run ranks the whole frame).
    ranked_keys = (
        rank_branches(pl.concat(keys, how="diagonal_relaxed").lazy(), by=by)
        .select("__slice", "__row", "rank", *(["group_rank"] if by else []))
        .collect(engine="in-memory")
    )
    del keys
    chosen = [c for c in criteria if c.id in used] or list(criteria)
    # The columns of the normal run's frame: every criteria used, in the criteria's order.
    empty = rank_branches(stack_scores([(c, used[c.id].frame.clear()) for c in chosen if c.id in used],
                                       near=near, by=by, columns=columns), by=by).collect()
    order = {c.id: i for i, c in enumerate(criteria)}
    notes = list(warnings.values())
    for (crit_id, fid), (header, count, lines) in sorted(
        missing.items(), key=lambda kv: (order.get(kv[0][0], 0), _field_index(criteria, kv[0]))
    ):
        notes.append(missing_value_warning(name, header, fid, crit_id, count, lines))
    if tenure:
        from ..engine.history import unchecked_tenure_warnings

        notes += unchecked_tenure_warnings(pl.concat(tenure, how="diagonal_relaxed"), chosen, file=name)
    parts = [dataclasses.replace(p, frame=p.frame.clear()) for p in used.values()]
    assessment = Assessment(name, encoding, parts, rows_read, sort_labels(periods), selected,
                            warnings=notes, rejected=rejected)
    run = ScoreRun(criteria=chosen, data=assessment, frame=empty, near=near, by=by, warnings=notes)
    return Streamed(run, ranked_keys, tmp, empty.columns, batch_rows,
                    present=[c for c in OPTIONAL if c in present])


def _renamed(problem: Problem, old: Path, new: str) -> Problem:
    return dataclasses.replace(problem, file=new) if problem.file == str(old) else problem


def _count_missing(part: LoadedPart, missing: dict[tuple[str, str], tuple[str, int, list[int]]]) -> None:
    """Add this slice's empty cells of fields without a default (as the loader counts them)."""
    crit = part.criteria
    todo = [
        fid for fid, spec in crit.input_fields().items() if spec.default is None and fid in part.headers
    ]
    if not todo or part.frame.height == 0:
        return
    counts = part.frame.select(pl.col(fid).null_count() for fid in todo).row(0)
    for fid, count in zip(todo, counts, strict=True):
        if not count:
            continue
        key = (crit.id, fid)
        header, total, lines = missing.get(key, (part.headers[fid], 0, []))
        if len(lines) < 10:
            lines = lines + part.frame.select(pl.col(LINE).filter(pl.col(fid).is_null()).head(10 - len(lines))
                                              ).to_series().to_list()
        missing[key] = (header, total + count, lines)


def _field_index(criteria: Sequence[Criteria], key: tuple[str, str]) -> int:
    for crit in criteria:
        if crit.id == key[0]:
            return list(crit.input_fields()).index(key[1])
    return 0


def _check_periods(periods: list[str], period: str | None, name: str) -> None:
    """The whole file's period rules (a slice sees only its own periods)."""
    if period is None and len(periods) > 1:
        raise several_periods(periods, name)
    if period is not None and periods and period_key(period) not in periods:  # canonical forms
        raise absent_period(period, periods, name)


__all__ = ["BATCH_ROWS", "Streamed", "score_streaming"]
