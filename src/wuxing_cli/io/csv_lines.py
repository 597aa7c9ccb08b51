"""Records of a CSV file and the physical lines they start on (four ways to know them, fastest
first), and the checks on them: rows shorter or longer than the header."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

import polars as pl

from wuxing_cli.errors import DataError, Problem, ProblemCode
from wuxing_cli.models.contract import LINE, MAX_LISTED, STRIP_CHARS

from .data_problems import capped
from .decode import Source
from .keys import escape_class

_STRIP = escape_class(STRIP_CHARS)  #: the white space that trimming removes, as a regex class body


#: A line of a CSV file that holds no cell text: separators, quotes and white space only.
_BLANK_LINE = f'^[,"{_STRIP}]*$'


#: A line that starts a comment row (when the branch id is the first column).
_COMMENT_LINE = '^"?#'


def csv_records(
    data: pl.Series, first_line: int, comments: bool, line_comments: bool
) -> pl.DataFrame | None:
    """Per record of the data lines: LINE, text, extra lines, blank, comment.

    Vectorised: a line starts a record when the quotes before it balance (polars reads quotes
    the same way, and refuses the files this would get wrong). Returns None when unsure, so the
    caller uses Python. ``comments``: a record starting with "#" is a comment (the branch id is
    the first column); ``line_comments``: such lines are skipped whole, as polars'
    ``comment_prefix`` does, instead of being read as records.
    """
    frame = pl.DataFrame({"text": data})
    text = pl.col("text")
    quotes = text.str.count_matches('"', literal=True).cast(pl.Int64)
    if line_comments:
        if frame.select((text.str.starts_with("#") & (quotes > 0)).any()).item():
            return None  # is that quote in a comment or in a cell? Python can tell
        quotes = pl.when(text.str.starts_with("#")).then(0).otherwise(quotes)
    frame = frame.with_columns(quotes.alias("q"), pl.int_range(pl.len(), dtype=pl.Int64).alias("i"))
    total = frame.get_column("q").sum()
    if total % 2:
        return None
    extra: pl.Expr = pl.lit(0, pl.Int64)
    if total:
        frame = frame.with_columns(((pl.col("q").cum_sum() - pl.col("q")) % 2 == 0).alias("start"))
        if not frame.get_column("start").all():
            frame = frame.group_by(pl.col("start").cum_sum().alias("rec"), maintain_order=True).agg(
                text.str.join("\n"), pl.col("i").first(), (pl.len() - 1).cast(pl.Int64).alias("extra")
            )
            extra = pl.col("extra")
    if line_comments:
        frame = frame.filter(~text.str.starts_with("#"))
    comment = text.str.contains(_COMMENT_LINE) if comments and not line_comments else pl.lit(False)
    return frame.select(
        (pl.col("i") + first_line).alias(LINE),
        text,
        extra.alias("extra"),
        text.str.contains(_BLANK_LINE).alias("blank"),
        comment.alias("comment"),
    )


def line_records(source: Source, skip: int, line_comments: bool) -> pl.DataFrame | None:
    """:func:`csv_records` (LINE, blank) when every record is one line, computed in one
    streaming pass over the lines without keeping their text (the file may be large).

    None when a line holds an odd number of quotes (a quoted line break, or a stray quote) or a
    skipped comment line holds a quote: the exact, text-keeping path decides those.
    """
    text = pl.col("line")
    flags = (
        pl.scan_lines(source.data, row_index_name="i", glob=False)
        .slice(skip)
        .select(
            pl.col("i"),
            (text.str.count_matches('"', literal=True) % 2 == 1).alias("odd"),
            text.str.starts_with("#").alias("hash"),
            text.str.contains('"', literal=True).alias("quoted"),
            text.str.contains(_BLANK_LINE).alias("blank"),
        )
        .collect(engine="streaming")
    )
    if line_comments:
        hashed = flags.get_column("hash")
        if (hashed & flags.get_column("quoted")).any():
            return None
        flags = flags.filter(~hashed)
    if flags.get_column("odd").any():
        return None
    return flags.select((pl.col("i").cast(pl.Int64) + 1 + source.offset).alias(LINE), "blank")


def one_line_records(
    source: Source, skip: int, frame: pl.DataFrame, names: Sequence[str], line_comments: bool
) -> pl.DataFrame | None:
    """LINE and blank of polars' rows when each is exactly one physical line, else None.

    polars reads every line after the header as a row, empty ones included (as nulls), and a
    record spans more than one line only through a line break inside a quoted cell. So when no
    cell holds a line break (a look at the file's distinct cell texts, and its name and id
    columns), row i is line ``skip + 1 + i``, and no line of the file need be read again. Not so
    when comment lines are skipped (``line_comments``): polars drops those rows. A row is blank
    when all its cells are missing; rows of white space alone are dropped later, when their
    cells normalise to missing. A cell of only commas and quotes (a quoted ``","``) makes a
    blank line to the text-reading path, which sees only the line: such a file goes that way,
    to read alike.
    """
    if line_comments:
        return None
    quotes = f'^[,"{_STRIP}]*[,"][,"{_STRIP}]*$'
    schema = frame.schema
    coded = [c for c in names if isinstance(schema[c], pl.Categorical)]
    if coded:
        categorical = schema[coded[0]]
        assert isinstance(categorical, pl.Categorical)
        cells = categorical.categories.to_series()
        if (cells.str.contains(quotes) | cells.str.contains("\n", literal=True)).any():
            return None
    texts = [c for c in names if c not in coded]
    odd = (pl.col(c).str.contains(quotes) | pl.col(c).str.contains("\n", literal=True) for c in texts)
    if texts and frame.select(pl.any_horizontal(odd).any()).item():
        return None
    first = skip + 1 + source.offset
    return frame.select(
        (pl.col(LINE).cast(pl.Int64) + first).alias(LINE),
        pl.all_horizontal(pl.col(c).is_null() for c in names).alias("blank"),
    )


def check_short_rows(
    source: Source, frame: pl.DataFrame, recs: pl.DataFrame, names: Sequence[str], comments: bool,
    name: str, header_line: int,
) -> None:
    """:func:`check_ragged` for one-line records (LINE, blank) known without their text.

    polars refuses rows with too many cells but pads short ones: a short row ends in an empty
    last cell, so only those rows are read back from the file and counted. ``comments``: a line
    starting with "#" is a comment row, not a short one.
    """
    last = pl.col(names[-1])
    short = frame.select(last.is_null() | (last == "")).to_series() & ~recs.get_column("blank")
    if not short.any():
        return
    text = pl.col("text")
    texts = _lines_at(source, recs.filter(short).get_column(LINE)).with_columns(
        text.str.contains(_BLANK_LINE).alias("blank"),
        (text.str.contains(_COMMENT_LINE) if comments else pl.lit(False)).alias("comment"),
    )
    check_ragged(texts, len(names), name, header_line)


def _lines_at(source: Source, lines: pl.Series) -> pl.DataFrame:
    """LINE and "text" of the given 1-based physical lines (one streaming pass over the file)."""
    wanted = (lines - 1 - source.offset).cast(pl.UInt32)
    return (
        pl.scan_lines(source.data, name="text", row_index_name=LINE, glob=False)
        .filter(pl.col(LINE).is_in(wanted.implode()))
        .select((pl.col(LINE).cast(pl.Int64) + 1 + source.offset).alias(LINE), "text")
        .collect(engine="streaming")
    )


def _with_field_counts(records: pl.DataFrame) -> pl.DataFrame:
    """Add "fields": the number of cells of each record (commas outside quotes, plus one)."""
    text = pl.col("text")
    outside = (
        pl.when(text.str.contains('"', literal=True))
        .then(text.str.replace_all('"[^"]*"', ""))
        .otherwise(text)
    )
    return records.with_columns((outside.str.count_matches(",", literal=True) + 1).alias("fields"))


def python_records(
    data: pl.Series, first_line: int, comments: bool, line_comments: bool, name: str
) -> pl.DataFrame:
    """Slow, exact twin of :func:`csv_records` (Python's csv module) for odd quoting; has "fields"."""
    lines = data.to_list()
    starts: list[int] = []
    texts: list[str] = []
    counts: list[int] = []
    blanks: list[bool] = []
    extras: list[int] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if line_comments and line.startswith("#"):
            i += 1
            continue
        start = i
        buffer = line
        if '"' not in line:
            cells = line.split(",")
        else:
            while True:
                try:
                    rows = list(csv.reader(io.StringIO(buffer + "\n", newline=""), strict=True))
                    break
                except csv.Error as exc:
                    unterminated = "unexpected end of data" in str(exc)
                    if unterminated and i + 1 < n:
                        i += 1
                        buffer += "\n" + lines[i]
                        continue
                    message = (
                        "a quoted cell starting on this line is never closed"
                        if unterminated
                        else f"malformed quotes: {exc}"
                    )
                    raise DataError(
                        [
                            Problem(
                                message,
                                file=name,
                                line=first_line + start,
                                hint='a quote (") inside a quoted cell must be doubled ("")',
                                code=ProblemCode.CSV_QUOTES,
                            )
                        ]
                    ) from None
            cells = rows[0] if rows else [""]
        starts.append(first_line + start)
        texts.append(buffer)
        counts.append(len(cells))
        blanks.append(not any(c.strip(STRIP_CHARS + '"') for c in cells))
        extras.append(i - start)
        i += 1
    frame = pl.DataFrame(
        {LINE: starts, "text": texts, "extra": extras, "blank": blanks, "fields": counts},
        schema={
            LINE: pl.Int64,
            "text": pl.String,
            "extra": pl.Int64,
            "blank": pl.Boolean,
            "fields": pl.Int64,
        },
    )
    text = pl.col("text")
    return frame.with_columns(
        (text.str.contains(_COMMENT_LINE) if comments and not line_comments else pl.lit(False)).alias("comment"),
    )


def check_ragged(records: pl.DataFrame, width: int, name: str, header_line: int) -> None:
    """Raise for the records with more or fewer cells than the header (blank rows and comments aside)."""
    if "fields" not in records.columns:
        records = _with_field_counts(records)
    bad = records.filter(~pl.col("blank") & ~pl.col("comment") & (pl.col("fields") != width))
    if bad.height == 0:
        return
    problems = [
        Problem(
            f"line {line} has {fields} cells but the header (line {header_line}) has {width}",
            file=name,
            line=line,
            hint="a cell holding a comma must be quoted; check for a missing or extra separator",
            code=ProblemCode.RAGGED_ROW,
        )
        for line, fields in bad.head(MAX_LISTED).select(LINE, "fields").iter_rows()
    ]
    raise DataError(capped(problems, bad.height, name))


def records_agree(records: pl.DataFrame, frame: pl.DataFrame, names: Sequence[str]) -> bool:
    """Do our records match the rows polars read: their number, and the line breaks in cells?

    Blank and comment records are left out of the line-break count: when one of them is longer than
    the header, polars is asked to cut it (it is never data), and a line break in a cut cell is gone.
    """
    if records.height != frame.height:
        return False
    extra = records.get_column("extra")
    if not (extra > 0).any():  # no quoted line break: each record is one line
        return True
    inside = frame.select(
        pl.sum_horizontal(
            pl.col(c).cast(pl.String).str.count_matches("\n", literal=True).fill_null(0) for c in names
        )
    ).to_series()
    ignored = records.get_column("blank") | records.get_column("comment")
    return bool(((extra == inside.cast(pl.Int64)) | ignored).all())
