"""Reading a CSV file into a RawTable: polars parses it; the records of :mod:`csv_lines` give the
line numbers and say why a file cannot be parsed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode
from wuxing_cli.models.contract import LINE

from .csv_lines import (
    check_ragged,
    check_short_rows,
    csv_records,
    line_records,
    one_line_records,
    python_records,
    records_agree,
)
from .decode import HEAD_BYTES, Source, codec_name, decode_whole, is_utf8, source_of
from .header_row import (
    HeadRecord,
    branch_id_index,
    check_duplicate_headers,
    column_name,
    display_header,
    head_records,
    pick_header,
    text_columns,
)
from .raw import RawTable, comment_row_notes, normalise


class _NotUtf8(Exception):
    """polars met a byte that is not UTF-8 past the head we checked."""


def read_csv(path: Path, encoding: str | None, line_offset: int = 0) -> RawTable:
    source = dataclasses.replace(source_of(path, encoding), offset=line_offset)
    delimiter = _other_delimiter(source.head)
    if delimiter is not None:
        return _read_delimited(path, encoding, source, delimiter)
    try:
        return _read_csv_source(str(path), source)
    except _NotUtf8:
        decoded = decode_whole(path, codec_name(encoding), encoding)
        return _read_csv_source(str(path), dataclasses.replace(decoded, offset=line_offset))


#: Separators other than the comma that spreadsheets write into a ".csv" (Excel in many European
#: locales: ';'; "Text (tab-delimited)" and copies from a web page: a tab), with their names.
_DELIMITERS = {"\t": "tab", ";": "semicolon"}


def _header_with(head: list[str], delimiter: str) -> tuple[HeadRecord, int | None] | None:
    """The header record of ``head`` split by ``delimiter``, and its branch-id column."""
    import csv
    import io

    reader = csv.reader(io.StringIO("\n".join(head[:HEADER_LINES]) + "\n", newline=""), delimiter=delimiter)
    records: list[HeadRecord] = []
    prev = 0
    try:
        for row in reader:
            start, end, prev = prev + 1, reader.line_num, reader.line_num
            if any(c.strip() for c in row):
                records.append(HeadRecord(start, end, row))
    except csv.Error:
        return None
    if not records:
        return None
    header = pick_header(records)
    return header, branch_id_index([display_header(c) for c in header.cells])


HEADER_LINES = 200  #: lines of the head in which the delimiter is decided


def _other_delimiter(head: list[str]) -> str | None:
    """A tab or semicolon when the header, split by commas, has no branch-id column and split by that
    separator has one (a comma-separated file is never read otherwise)."""
    comma = _header_with(head, ",")
    if comma is None or comma[1] is not None:
        return None
    for delimiter in _DELIMITERS:
        found = _header_with(head, delimiter)
        if found is not None and found[1] is not None and len(found[0].cells) >= 2:
            return delimiter
    return None


def _read_delimited(path: Path, encoding: str | None, source: Source, delimiter: str) -> RawTable:
    """A tab- or semicolon-separated file, rewritten with commas (each record on the same physical
    lines, so every line number stays the file's) and read as any CSV, with a note saying so."""
    import csv
    import io

    name = str(path)
    whole = source if source.checked else decode_whole(path, codec_name(encoding), encoding)
    assert isinstance(whole.data, bytes)
    text = whole.data.decode("utf-8")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            writer.writerow(row)
    except csv.Error as exc:
        raise DataError([Problem(f"cannot parse the file as {_DELIMITERS[delimiter]}-separated text: {exc}",
                                 file=name, code=ProblemCode.CSV_PARSE,
                                 hint='check the quotes (") : a quote inside a quoted cell must be doubled')]) from None
    del text
    converted = out.getvalue()
    complete = len(converted) <= HEAD_BYTES
    head = converted[:HEAD_BYTES].split("\n")
    if not complete and len(head) > 1:
        head.pop()
    rewritten = Source(converted.encode("utf-8"), whole.encoding, head, checked=True, offset=source.offset)
    del converted
    header = pick_header(head_records(head))
    label = _DELIMITERS[delimiter]
    note = Problem(f"the file is {label}-separated (its header row has {label}s, not commas): read with {label}s "
                   "between the cells", file=name, line=header.start + source.offset, severity="warning",
                   code=ProblemCode.DELIMITER,
                   hint="nothing to fix; saving it as CSV (comma-separated) makes this note go away")
    raw = _read_csv_source(name, rewritten)
    return dataclasses.replace(raw, notes=(note, *raw.notes))


def _polars_csv(
    source: Source, names: list[str], skip: int, line_comments: bool, truncate: bool,
    dtypes: dict[str, pl.DataType],
) -> pl.DataFrame:
    return pl.read_csv(
        source.data,
        has_header=True,
        skip_lines=skip,
        infer_schema=False,
        new_columns=names,
        schema_overrides=dtypes,
        raise_if_empty=False,
        quote_char='"',
        comment_prefix="#" if line_comments else None,
        row_index_name=LINE,
        truncate_ragged_lines=truncate,
        glob=False,  # a file may be named "2024[Q4]*.csv"
    )


def _polars_error_line(message: str, data: pl.Series, first_line: int) -> int | None:
    """Best effort: the line of the text polars quotes in a parse error."""
    start = message.find("could not parse `")
    if start < 0:
        return None
    snippet = message[start + len("could not parse `") :].split("`", 1)[0].split("\n", 1)[0]
    if not snippet:
        return None
    hits = (
        pl.DataFrame({"line": data})
        .with_row_index("i")
        .filter(pl.col("line").str.contains(snippet, literal=True))
    )
    return None if hits.height == 0 else first_line + int(hits.item(0, "i"))


def _odd_quote_line(data: pl.Series, first_line: int) -> int | None:
    """The first line with an odd number of quotes (a stray quote), or None."""
    odd = pl.col("line").str.count_matches('"', literal=True) % 2 == 1
    hits = pl.DataFrame({"line": data}).with_row_index("i").filter(odd)
    return None if hits.height == 0 else first_line + int(hits.item(0, "i"))


def _parse_error(name: str, exc: Exception, data: pl.Series, first_line: int) -> DataError:
    message = str(exc).split("\n", 1)[0]
    line = _polars_error_line(str(exc), data, first_line)
    if line is None:
        odd = _odd_quote_line(data, first_line)
        if odd is not None:
            line, message = odd, f'line {odd} has an unbalanced quote (")'
    return DataError(
        [
            Problem(
                f"cannot parse the file as CSV: {message}",
                file=name,
                line=line,
                hint='check the quotes (") on that line: a quote inside a quoted cell must be doubled',
                code=ProblemCode.CSV_PARSE,
            )
        ]
    )


def _parse_csv(
    name: str, source: Source, names: list[str], header: HeadRecord, comments: bool, line_comments: bool,
    dtypes: dict[str, pl.DataType],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """polars' rows and our records (LINE, blank) for them; raises DataError when unreadable.

    Comment rows are read as records (``line_comments`` False: an Excel-written comment row may
    hold a quoted line break) or skipped as whole lines (True: a hand-written comment may hold
    a stray quote or many commas).
    """
    width = len(names)
    first_line = header.end + 1 + source.offset
    skip = header.start - 1
    try:
        frame = _polars_csv(source, names, skip, line_comments, truncate=False, dtypes=dtypes)
    except Exception as exc:  # polars raises several kinds: find out why, and where
        if not source.checked and not is_utf8(Path(name)):
            raise _NotUtf8 from None
        data = pl.read_lines(source.data, glob=False).get_column("line").slice(header.end)
        recs = csv_records(data, first_line, comments, line_comments)
        exact = recs if recs is not None else python_records(data, first_line, comments, line_comments, name)
        check_ragged(exact, width, name, header.start)
        if "more fields" not in str(exc):
            raise _parse_error(name, exc, data, first_line) from None
        try:  # only comment rows are too long: let polars cut them
            frame = _polars_csv(source, names, skip, line_comments, truncate=True, dtypes=dtypes)
        except Exception:
            raise _parse_error(name, exc, data, first_line) from None
    if frame.width != width + 1:  # pragma: no cover - polars and the header parse disagree
        raise DataError([Problem("cannot parse the header row", file=name, line=header.start)])
    # One physical line a record: line numbers from the row index when no cell holds a line
    # break, else from one pass over the lines; either way the records need no text.
    recs = one_line_records(source, header.end, frame, names, line_comments)
    if recs is None:
        recs = line_records(source, header.end, line_comments)
    if recs is not None and recs.height == frame.height:
        check_short_rows(source, frame, recs, names, comments and not line_comments, name, header.start)
        return frame, recs
    data = pl.read_lines(source.data, glob=False).get_column("line").slice(header.end)
    recs = csv_records(data, first_line, comments, line_comments)
    if recs is None or not records_agree(recs, frame, names):
        recs = python_records(data, first_line, comments, line_comments, name)
        check_ragged(recs, width, name, header.start)
        if not records_agree(recs, frame, names):
            raise DataError(
                [
                    Problem(
                        "cannot split the file into rows reliably",
                        file=name,
                        hint='check the quotes ("): a quote inside a quoted cell must be doubled ("")',
                        code=ProblemCode.CSV_PARSE,
                    )
                ]
            )
    else:
        # polars refuses rows with too many cells but pads short ones: a short row ends in an
        # empty last cell, so only those rows need counting.
        last = pl.col(names[-1])
        short = frame.select(last.is_null() | (last == "")).to_series() & ~recs.get_column("blank")
        if short.any():
            check_ragged(recs.filter(short), width, name, header.start)
    return frame, recs.select(LINE, "blank")


def _read_csv_source(name: str, source: Source) -> RawTable:
    records = head_records(source.head)
    if not records:
        raise DataError([Problem("the file is empty", file=name, code=ProblemCode.EMPTY_FILE)])
    header = pick_header(records)
    headers = [display_header(c) for c in header.cells]
    check_duplicate_headers(name, headers, header.start)
    names = [column_name(headers, i) for i in range(len(headers))]
    id_index = branch_id_index(headers)
    comments = id_index == 0
    first_line = header.end + 1 + source.offset
    categories = pl.Categories.random()
    text = text_columns(headers)
    dtypes: dict[str, pl.DataType] = {
        n: pl.Categorical(categories) for i, n in enumerate(names) if i not in text
    }
    try:
        frame, recs = _parse_csv(name, source, names, header, comments, line_comments=False, dtypes=dtypes)
    except DataError:
        if not comments:
            raise
        try:  # hand-written comment lines may hold what a CSV record may not
            frame, recs = _parse_csv(name, source, names, header, comments, line_comments=True, dtypes=dtypes)
        except DataError:
            pass
        else:
            return _finish_csv(name, source, headers, names, header, id_index, frame, recs, first_line,
                               skipped=_skipped_comment_lines(name, source, header))
        raise
    return _finish_csv(name, source, headers, names, header, id_index, frame, recs, first_line)


def _skipped_comment_lines(name: str, source: Source, header: HeadRecord) -> list[Problem]:
    """The notes for the comment lines polars skipped whole (read with ``comment_prefix``)."""
    from .raw import COMMENT_ROWS_LISTED

    lines = (
        pl.read_lines(source.data, glob=False)
        .with_row_index("i")
        .slice(header.end)
        .filter(pl.col("line").str.starts_with("#"))
        .select((pl.col("i").cast(pl.Int64) + 1 + source.offset).alias(LINE),
                pl.col("line").str.split(",").list.first().str.strip_chars().alias("id"))
    )
    notes = [Problem(f"line {line} starts with '#': left out as a comment row", file=name, line=line, value=value,
                     severity="warning", code=ProblemCode.COMMENT_ROW,
                     hint="if it is a branch, remove the '#' (a branch id may not start with '#')")
             for line, value in lines.head(COMMENT_ROWS_LISTED).iter_rows()]
    if lines.height > COMMENT_ROWS_LISTED:
        notes.append(Problem(f"… and {lines.height - COMMENT_ROWS_LISTED} more comment rows left out", file=name,
                             severity="warning", code=ProblemCode.COMMENT_ROW))
    return notes


def _finish_csv(
    name: str,
    source: Source,
    headers: list[str],
    names: list[str],
    header: HeadRecord,
    id_index: int | None,
    frame: pl.DataFrame,
    recs: pl.DataFrame,
    first_line: int,
    skipped: list[Problem] | None = None,
) -> RawTable:
    """Line numbers, blank rows, normalisation and comment rows of a parsed CSV (``skipped``: the notes of
    comment lines the parser already left out)."""
    lines = recs.get_column(LINE)
    if lines.equals(
        pl.int_range(first_line, first_line + recs.height, dtype=pl.Int64, eager=True).alias(LINE)
    ):
        frame = frame.with_columns(pl.col(LINE).cast(pl.Int64) + first_line)
    else:
        frame = frame.with_columns(pl.lit(lines).gather(pl.col(LINE)).alias(LINE))
    frame = frame.select(LINE, *names)
    blank = recs.get_column("blank")
    if blank.any():
        frame = frame.filter(~blank)
        recs = recs.filter(~blank)
    frame, dictionary = normalise(frame, names)
    notes = list(skipped or [])
    if id_index is not None:
        comment = frame.get_column(names[id_index]).str.starts_with("#").fill_null(False)
        if comment.any():
            notes += comment_row_notes(frame.filter(comment), names[id_index], name)
            frame = frame.filter(~comment)
    if frame.height == 0:
        raise DataError(
            [Problem(f"no data rows below the header (line {header.start})", file=name, code=ProblemCode.NO_DATA)]
        )
    return RawTable(
        path=name,
        headers=headers,
        frame=frame,
        encoding=source.encoding,
        header_line=header.start,
        dictionary=dictionary,
        notes=tuple(notes),
    )
