"""Reading assessment files (CSV in UTF-8 or GB18030, Excel) into validated, typed frames."""

from __future__ import annotations

import codecs
import csv
import dataclasses
import difflib
import functools
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from wuxing_cli.errors import CriteriaError, DataError, Problem, ProblemCode, UsageError
from wuxing_cli.models.contract import (
    BRANCH_TYPE_ALIASES,
    EXCEL_SUFFIXES,
    LINE,
    MAX_LISTED,
    RESERVED,
    RESERVED_HEADERS,
    branch_type_claims,
    header_key,
)
from wuxing_cli.models.criteria import Criteria, FieldSpec, FieldType
from wuxing_cli.models.results import Assessment, LoadedPart, Rejected

from ..models.contract import STRIP_CHARS
from .cells import EMPTY, describe_reason, needs_normalizing_pattern, normalize_expr, parse_cell, value_expr

__all__ = [
    "BRANCH_TYPE_ALIASES",
    "LINE",
    "MAX_LISTED",
    "RESERVED",
    "RESERVED_HEADERS",
    "Assessment",
    "LoadedPart",
    "RawTable",
    "Rejected",
    "check_headers",
    "header_key",
    "load_assessment",
    "read_raw",
]

HEADER_SEARCH_ROWS = 10  #: the header is looked for among this many non-empty rows
_CRIT = "__criteria"
_RESERVED_LABELS = {
    "branch_id": "branch id",
    "branch_name": "branch name",
    "county": "county",
    "township": "township",
    "branch_type": "branch type",
    "period": "period",
}


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawTable:
    """A data file read as text: every cell NFKC-normalised, trimmed, and null when empty.

    Internally (``dictionary`` set) most columns are *coded*: UInt32 codes into ``dictionary``,
    the file's distinct cell texts, normalised. Normalising and parsing then happen once per
    distinct text rather than once per cell, and the frame takes 4 bytes a cell instead of a
    string's 16. :func:`read_raw` always returns plain String columns (:meth:`decoded`).
    """

    path: str
    headers: list[str]  # as written (trimmed; line breaks inside a header become one space)
    frame: pl.DataFrame  # one String column per header (named by it; "__column_N" when blank) + LINE
    encoding: str  # "utf-8", "utf-8-sig", "gb18030" (or the codec asked for), "xlsx"
    header_line: int = 1  # physical line (or Excel row) of the header
    dictionary: pl.Series | None = None  # the texts of the coded (UInt32) columns, by code

    def column_name(self, index: int) -> str:
        """Name in ``frame`` of the 0-based column ``index``."""
        return _column_name(self.headers, index)

    def is_coded(self, name: str) -> bool:
        return name in self._coded

    @functools.cached_property
    def _coded(self) -> frozenset[str]:
        if self.dictionary is None:
            return frozenset()
        return frozenset(name for name, dtype in self.frame.schema.items() if dtype == pl.UInt32)

    def text(self, name: str) -> pl.Expr:
        """The (normalised) text of column ``name``, coded or not."""
        if self.is_coded(name):
            assert self.dictionary is not None
            return pl.lit(self.dictionary).gather(pl.col(name)).alias(name)
        return pl.col(name)

    def decoded(self) -> RawTable:
        """The same table with every column as text."""
        if self.dictionary is None:
            return self
        names = [c for c in self.frame.columns if c != LINE]
        frame = self.frame.select(pl.col(LINE), *(self.text(c) for c in names))
        return RawTable(self.path, self.headers, frame, self.encoding, self.header_line)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def _key_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`header_key` for already-normalised cells."""
    spaces = "".join(sorted(set(STRIP_CHARS)))
    return col.str.to_lowercase().str.replace_all(f"[\\s{_escape_class(spaces)}]", "")


def _keyed(frame: pl.DataFrame, column: str) -> pl.Expr:
    """:func:`header_key` of a low-cardinality column, computed once per distinct value."""
    values = frame.get_column(column).drop_nulls().unique()
    if values.len() > 10_000:
        return _key_expr(pl.col(column))
    mapping = {v: header_key(v) for v in values.to_list()}
    return pl.col(column).replace_strict(mapping, default=None, return_dtype=pl.String)


def _escape_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):X}}}" for c in chars)


_STRIP = _escape_class(STRIP_CHARS)  #: the white space that trimming removes, as a regex class body
#: A line of a CSV file that holds no cell text: separators, quotes and white space only.
_BLANK_LINE = f'^[,"{_STRIP}]*$'
#: A line that starts a comment row (when the branch id is the first column).
_COMMENT_LINE = '^"?#'


_BRANCH_ID_KEYS = frozenset(header_key(h) for h in RESERVED_HEADERS["branch_id"])


def _display_header(cell: str) -> str:
    cell = cell.strip(STRIP_CHARS)
    if "\n" in cell or "\r" in cell:
        return " ".join(cell.split())
    return cell


def _column_name(headers: Sequence[str], index: int) -> str:
    header = headers[index]
    return header if header and not header.startswith("__") else f"__column_{index + 1}"


def _quote(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _lines_text(lines: Sequence[int], total: int, limit: int = 10) -> str:
    """``line 3`` / ``lines 3, 5, 9, …``."""
    shown = ", ".join(str(n) for n in lines[:limit])
    return ("line " if total == 1 else "lines ") + shown + (", …" if total > len(lines[:limit]) else "")


# --------------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------------


def read_raw(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> RawTable:
    """Read a CSV or Excel file as text: cells NFKC-normalised, trimmed, empty → null (SPEC §3).

    Raises DataError for an unreadable, empty, header-only, badly encoded or ragged file and for
    duplicate headers; UsageError for an unknown ``encoding`` or ``sheet``.
    """
    return _read_coded(path, encoding=encoding, sheet=sheet).decoded()


def _read_coded(
    path: Path, *, encoding: str | None = None, sheet: str | None = None, line_offset: int = 0
) -> RawTable:
    """:func:`read_raw` with the columns other than the branch id and name coded (see RawTable).

    ``line_offset`` is added to the line numbers of the data rows of a CSV file that is a slice
    of a larger one (its first lines, down to the header, copied from it): every message then
    names the line of the larger file.
    """
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError([Problem(f"cannot read the file: {exc.strerror or exc}", file=name)]) from exc
    if path.is_dir():
        raise DataError([Problem("cannot read the file: it is a directory", file=name)])
    suffix = path.suffix.lower()
    if size == 0:
        raise DataError([Problem("the file is empty", file=name, code=ProblemCode.EMPTY_FILE)])
    with path.open("rb") as handle:
        magic = handle.read(8)
    if suffix == ".xls" or magic.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: Excel 97-2003
        raise DataError(
            [
                Problem(
                    "the old Excel 97-2003 format (.xls) is not supported",
                    file=name,
                    hint="open it in Excel or WPS and save it as .xlsx, or as CSV (UTF-8)",
                    code=ProblemCode.XLS,
                )
            ]
        )
    if magic.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(
            [
                Problem(
                    'the file is UTF-16 text (Excel\'s "Unicode text"), which is not supported',
                    file=name,
                    hint="save it as CSV UTF-8 (WPS/Excel: 另存为 → CSV UTF-8) or as .xlsx",
                    code=ProblemCode.ENCODING,
                )
            ]
        )
    if suffix in EXCEL_SUFFIXES or magic.startswith(b"PK\x03\x04"):  # .xlsx is a zip file
        return _encode(_read_excel(path, sheet))
    if magic.startswith(b"PAR1"):
        return _read_parquet(path, line_offset)
    if suffix in (".parquet", ".pq"):
        raise DataError(
            [
                Problem(
                    "the file is named as Parquet but is not a Parquet file (it does not start with PAR1)",
                    file=name,
                    hint="write it again as Parquet, or if it holds CSV text, name it .csv",
                    code=ProblemCode.PARQUET,
                )
            ]
        )
    return _read_csv(path, encoding, line_offset)


# ---- encodings -------------------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode_error(name: str, data: bytes, exc: UnicodeDecodeError, message: str, hint: str) -> DataError:
    line = _line_of(data, exc.start)
    bad = data[exc.start : exc.start + 4].hex(" ")
    return DataError(
        [
            Problem(
                f"{message}: undecodable byte at offset {exc.start} (line {line}, bytes {bad})",
                file=name,
                line=line,
                hint=hint,
                code=ProblemCode.ENCODING,
            )
        ]
    )


_ENCODING_HINT = (
    "save the file as UTF-8 (WPS/Excel: 另存为 → CSV UTF-8), or name its encoding with --encoding"
)


_HEAD_BYTES = 1 << 20  # the header is looked for in the first MiB


@dataclass(frozen=True)
class _Source:
    """What polars reads: the path itself (UTF-8 not yet checked past the head) or UTF-8 bytes."""

    data: str | bytes
    encoding: str
    head: list[str]  # the first lines (complete ones only), BOM removed
    checked: bool  # the whole file is known to be valid UTF-8
    offset: int = 0  # added to the line numbers of data rows (the file is a slice of a larger one)


def _codec(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(
            [Problem(f"unknown encoding '{encoding}'", hint="use utf-8, utf-8-sig, gb18030 or gbk")]
        ) from None


def _head_lines(text: str, complete: bool) -> list[str]:
    lines = text.removeprefix("\ufeff").split("\n")
    if not complete and len(lines) > 1:
        lines.pop()  # cut in the middle
    return [line.removesuffix("\r") for line in lines]


def _source(path: Path, encoding: str | None) -> _Source:
    """Decide how to read the CSV without reading all of it when it looks like UTF-8."""
    codec = _codec(encoding)
    with path.open("rb") as handle:
        head = handle.read(_HEAD_BYTES + 1)
    complete = len(head) <= _HEAD_BYTES
    old_mac = b"\r" in head and b"\n" not in head
    if codec in (None, "utf-8", "utf-8-sig") and not old_mac:
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head[:_HEAD_BYTES], final=complete)
        except UnicodeDecodeError:
            pass  # not UTF-8 (GBK, most likely): decode it all below
        else:
            used = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
            return _Source(str(path), used, _head_lines(text, complete), checked=False)
    return _decoded(path, codec, encoding)


def _decoded(path: Path, codec: str | None, encoding: str | None) -> _Source:
    """Read and decode the whole file in Python (GB18030 detection, exact error positions)."""
    name = str(path)
    data = path.read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    text: str
    used: str
    if codec is not None and codec not in ("utf-8", "utf-8-sig"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise _decode_error(
                name, data, exc, f"the file is not valid {encoding}", _ENCODING_HINT
            ) from None
        used = codec
    else:
        try:
            text = data.decode("utf-8-sig")
            used = "utf-8-sig" if bom else "utf-8"
        except UnicodeDecodeError as exc:
            if bom:
                # the utf-8-sig codec counts positions after the BOM: name the right byte and line
                exc = UnicodeDecodeError(exc.encoding, data, exc.start + 3, exc.end + 3, exc.reason)
                raise _decode_error(
                    name,
                    data,
                    exc,
                    "the file starts with a UTF-8 byte-order mark but is not valid UTF-8 "
                    "(it may mix UTF-8 and GBK)",
                    "re-save it in one encoding, e.g. WPS/Excel: 另存为 → CSV UTF-8",
                ) from None
            if codec is not None:
                raise _decode_error(name, data, exc, "the file is not valid UTF-8", _ENCODING_HINT) from None
            before = data[: exc.start].decode("utf-8")
            if sum(1 for ch in before if ord(ch) > 0x7F) >= 8:
                # Plenty of valid UTF-8 text first: a damaged UTF-8 file, not GBK.
                raise _decode_error(
                    name,
                    data,
                    exc,
                    "the file is UTF-8 up to a damaged or foreign byte",
                    "fix the line, or pass --encoding gb18030 if the file really is GBK",
                ) from None
            try:
                text = data.decode("gb18030")
                used = "gb18030"
            except UnicodeDecodeError as exc2:
                line = _line_of(data, exc.start)
                line2 = _line_of(data, exc2.start)
                raise DataError(
                    [
                        Problem(
                            "cannot tell the file's encoding: it is neither UTF-8 (undecodable byte at "
                            f"offset {exc.start}, line {line}) nor GB18030/GBK (offset {exc2.start}, "
                            f"line {line2})",
                            file=name,
                            line=line,
                            hint=_ENCODING_HINT,
                            code=ProblemCode.ENCODING,
                        )
                    ]
                ) from None
    del data
    text = text.removeprefix("\ufeff")
    if "\n" not in text[:_HEAD_BYTES] and "\r" in text[:_HEAD_BYTES]:  # old Mac line ends
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = text[:_HEAD_BYTES]
    return _Source(text.encode("utf-8"), used, _head_lines(head, len(text) <= _HEAD_BYTES), checked=True)


# ---- header ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _HeadRecord:
    start: int  # first physical line / row (1-based)
    end: int  # last physical line / row
    cells: list[str]


def _head_records(lines: Sequence[str]) -> list[_HeadRecord]:
    """The first non-blank records of the file's first lines."""
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n", newline=""))
    out: list[_HeadRecord] = []
    prev = 0
    try:
        for row in reader:
            start, end = prev + 1, reader.line_num
            prev = end
            if any(c.strip(STRIP_CHARS) for c in row):
                out.append(_HeadRecord(start, end, row))
                if len(out) >= HEADER_SEARCH_ROWS:
                    break
    except csv.Error:
        pass
    return out


def _pick_header(records: Sequence[_HeadRecord]) -> _HeadRecord:
    for record in records:
        if any(header_key(c) in _BRANCH_ID_KEYS for c in record.cells):
            return record
    return records[0]


def _check_duplicate_headers(name: str, headers: Sequence[str], line: int) -> None:
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for i, header in enumerate(headers):
        key = header_key(header)
        if not key:
            continue
        if key in seen:
            j = seen[key]
            problems.append(
                Problem(
                    f"duplicate column header: column {j + 1} '{headers[j]}' and column {i + 1} '{header}'",
                    file=name,
                    line=line,
                    header=header,
                    hint="rename or delete one of them",
                    code=ProblemCode.DUPLICATE_HEADER,
                )
            )
        else:
            seen[key] = i
    if problems:
        raise DataError(problems)


def _branch_id_index(headers: Sequence[str]) -> int | None:
    keys = [header_key(h) for h in headers]
    for candidate in RESERVED_HEADERS["branch_id"]:
        key = header_key(candidate)
        if key in keys:
            return keys.index(key)
    return None


# ---- CSV ---------------------------------------------------------------------------------------


def _csv_records(
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


def _line_records(source: _Source, skip: int, line_comments: bool) -> pl.DataFrame | None:
    """:func:`_csv_records` (LINE, blank) when every record is one line, computed in one
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


def _one_line_records(
    source: _Source, skip: int, frame: pl.DataFrame, names: Sequence[str], line_comments: bool
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


def _check_short_rows(
    source: _Source, frame: pl.DataFrame, recs: pl.DataFrame, names: Sequence[str], comments: bool,
    name: str, header_line: int,
) -> None:
    """:func:`_check_ragged` for one-line records (LINE, blank) known without their text.

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
    _check_ragged(texts, len(names), name, header_line)


def _lines_at(source: _Source, lines: pl.Series) -> pl.DataFrame:
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


def _python_records(
    data: pl.Series, first_line: int, comments: bool, line_comments: bool, name: str
) -> pl.DataFrame:
    """Slow, exact twin of :func:`_csv_records` (Python's csv module) for odd quoting; has "fields"."""
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


def _check_ragged(records: pl.DataFrame, width: int, name: str, header_line: int) -> None:
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
    raise DataError(_capped(problems, bad.height, name))


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


def _agree(records: pl.DataFrame, frame: pl.DataFrame, names: Sequence[str]) -> bool:
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


class _NotUtf8(Exception):
    """polars met a byte that is not UTF-8 past the head we checked."""


def _read_csv(path: Path, encoding: str | None, line_offset: int = 0) -> RawTable:
    source = dataclasses.replace(_source(path, encoding), offset=line_offset)
    try:
        return _read_csv_source(str(path), source)
    except _NotUtf8:
        decoded = _decoded(path, _codec(encoding), encoding)
        return _read_csv_source(str(path), dataclasses.replace(decoded, offset=line_offset))


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _polars_csv(
    source: _Source, names: list[str], skip: int, line_comments: bool, truncate: bool,
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
    name: str, source: _Source, names: list[str], header: _HeadRecord, comments: bool, line_comments: bool,
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
        if not source.checked and not _is_utf8(Path(name)):
            raise _NotUtf8 from None
        data = pl.read_lines(source.data, glob=False).get_column("line").slice(header.end)
        recs = _csv_records(data, first_line, comments, line_comments)
        exact = recs if recs is not None else _python_records(data, first_line, comments, line_comments, name)
        _check_ragged(exact, width, name, header.start)
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
    recs = _one_line_records(source, header.end, frame, names, line_comments)
    if recs is None:
        recs = _line_records(source, header.end, line_comments)
    if recs is not None and recs.height == frame.height:
        _check_short_rows(source, frame, recs, names, comments and not line_comments, name, header.start)
        return frame, recs
    data = pl.read_lines(source.data, glob=False).get_column("line").slice(header.end)
    recs = _csv_records(data, first_line, comments, line_comments)
    if recs is None or not _agree(recs, frame, names):
        recs = _python_records(data, first_line, comments, line_comments, name)
        _check_ragged(recs, width, name, header.start)
        if not _agree(recs, frame, names):
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
            _check_ragged(recs.filter(short), width, name, header.start)
    return frame, recs.select(LINE, "blank")


def _read_csv_source(name: str, source: _Source) -> RawTable:
    records = _head_records(source.head)
    if not records:
        raise DataError([Problem("the file is empty", file=name, code=ProblemCode.EMPTY_FILE)])
    header = _pick_header(records)
    headers = [_display_header(c) for c in header.cells]
    _check_duplicate_headers(name, headers, header.start)
    names = [_column_name(headers, i) for i in range(len(headers))]
    id_index = _branch_id_index(headers)
    comments = id_index == 0
    first_line = header.end + 1 + source.offset
    categories = pl.Categories.random()
    text = _text_columns(headers)
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
            return _finish_csv(name, source, headers, names, header, id_index, frame, recs, first_line)
        raise
    return _finish_csv(name, source, headers, names, header, id_index, frame, recs, first_line)


def _text_columns(headers: Sequence[str]) -> set[int]:
    """Columns kept as text rather than coded: the branch id and name (one distinct value a row)."""
    keys = [header_key(h) for h in headers]
    wanted = {header_key(h) for h in (*RESERVED_HEADERS["branch_id"], *RESERVED_HEADERS["branch_name"])}
    return {i for i, key in enumerate(keys) if key in wanted}


def _finish_csv(
    name: str,
    source: _Source,
    headers: list[str],
    names: list[str],
    header: _HeadRecord,
    id_index: int | None,
    frame: pl.DataFrame,
    recs: pl.DataFrame,
    first_line: int,
) -> RawTable:
    """Line numbers, blank rows, normalisation and comment rows of a parsed CSV."""
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
    frame, dictionary = _normalise(frame, names)
    if id_index is not None:
        comment = frame.get_column(names[id_index]).str.starts_with("#").fill_null(False)
        if comment.any():
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
    )


def _normalised(texts: pl.Series) -> pl.Series:
    return texts.to_frame("t").select(normalize_expr(pl.col("t"))).to_series().rename(texts.name)


def _normalise(frame: pl.DataFrame, names: Sequence[str]) -> tuple[pl.DataFrame, pl.Series | None]:
    """NFKC, trim and empty → null for every cell; Categorical columns become codes (see RawTable).

    A coded column is normalised once per distinct text (its dictionary entry). A text column is
    only touched where a cell may change: empty, or matching :func:`needs_normalizing_pattern` (a
    character NFKC may change, or white space at either end). A column of plain Chinese names
    needs no work. A row whose cells all become empty is dropped.
    """
    schema = frame.schema
    coded = [c for c in names if isinstance(schema[c], pl.Categorical)]
    dictionary: pl.Series | None = None
    emptied = False
    if coded:
        categorical = schema[coded[0]]
        assert isinstance(categorical, pl.Categorical)
        original = categorical.categories.to_series()
        dictionary = _normalised(original)
        # One chunk per column: an eager select on a frame whose columns are chunked differently
        # realigns (copies) every column, even those it does not read.
        frame = frame.with_columns(pl.col(c).to_physical() for c in coded).rechunk()
        lost = original.is_not_null() & dictionary.is_null()
        if lost.any():  # cells of only spaces, or "": now missing
            gone = pl.lit(lost)
            frame = frame.with_columns(
                pl.when(gone.gather(pl.col(c))).then(None).otherwise(pl.col(c)).alias(c) for c in coded
            )
            emptied = True
    for c in names:
        if c in coded:
            continue
        column = frame.get_column(c)
        maybe = (column.str.len_bytes() == 0) | column.str.contains(needs_normalizing_pattern())
        count = maybe.sum()
        if not count:
            continue
        if count * 4 < frame.height:
            where = maybe.arg_true()
            fixed = _normalised(column.gather(where))
            column = column.scatter(where, fixed)
        else:
            fixed = column = _normalised(column)
        emptied = emptied or fixed.null_count() > 0
        frame = frame.with_columns(column.alias(c))
    if emptied:
        frame = frame.filter(~pl.all_horizontal(pl.col(c).is_null() for c in names))
    return frame, dictionary


def _encode(raw: RawTable) -> RawTable:
    """A text RawTable (normalised) with its columns coded as :func:`_read_coded` returns them."""
    text = _text_columns(raw.headers)
    names = [raw.column_name(i) for i in range(len(raw.headers))]
    coded = [n for i, n in enumerate(names) if i not in text and n in raw.frame.columns]
    if not coded:
        return raw
    categories = pl.Categories.random()
    # The texts must be taken while a Categorical column still holds the categories: they are
    # freed with the last column that uses them.
    frame = raw.frame.with_columns(pl.col(c).cast(pl.Categorical(categories)) for c in coded)
    dictionary = categories.to_series()
    frame = frame.with_columns(pl.col(c).to_physical() for c in coded)
    return RawTable(raw.path, raw.headers, frame, raw.encoding, raw.header_line, dictionary=dictionary)


def _drop_blank_and_comments(frame: pl.DataFrame, names: Sequence[str], id_index: int | None) -> pl.DataFrame:
    keep = ~pl.all_horizontal(pl.col(c).is_null() for c in names)
    if id_index is not None:
        keep = keep & ~pl.col(names[id_index]).str.starts_with("#").fill_null(False)
    return frame.filter(keep)


# ---- Parquet -----------------------------------------------------------------------------------


def _read_parquet(path: Path, line_offset: int = 0) -> RawTable:
    """A Parquet file (e.g. from ``wuxing synth -f parquet``): column names are the headers, row N
    of the data is "line" N + 1. Cells are read as text, like CSV cells; the file is scanned and
    coded in one streaming pass, so its text is never all in memory at once."""
    name = str(path)
    try:
        schema = dict(pl.scan_parquet(path, glob=False).collect_schema())
    except Exception as exc:
        raise DataError([Problem(f"cannot read the file as Parquet: {exc}", file=name, code=ProblemCode.PARQUET)]) from None
    headers = [_display_header(h) for h in schema]
    if not headers:
        raise DataError([Problem("the file is empty", file=name, code=ProblemCode.EMPTY_FILE)])
    _check_duplicate_headers(name, headers, 1)
    names = [_column_name(headers, i) for i in range(len(headers))]
    text = _text_columns(headers)
    categorical = pl.Categorical(pl.Categories.random())
    try:
        frame = (
            pl.scan_parquet(path, glob=False)
            .select(
                (pl.int_range(pl.len(), dtype=pl.Int64) + 2 + line_offset).alias(LINE),
                *(
                    pl.col(raw).cast(pl.String).cast(pl.String if i in text else categorical).alias(new)
                    for i, (raw, new) in enumerate(zip(schema, names, strict=True))
                ),
            )
            .collect(engine="streaming")
        )
    except Exception as exc:
        raise DataError([Problem(f"cannot read the file as Parquet: {exc}", file=name, code=ProblemCode.PARQUET)]) from None
    frame, dictionary = _normalise(frame, names)
    frame = _drop_blank_and_comments(frame, names, _branch_id_index(headers))
    if frame.height == 0:
        raise DataError([Problem("no data rows in the file", file=name, code=ProblemCode.NO_DATA)])
    return RawTable(path=name, headers=headers, frame=frame, encoding="parquet", header_line=1,
                    dictionary=dictionary)


# ---- Excel -------------------------------------------------------------------------------------


def _read_excel(path: Path, sheet: str | None) -> RawTable:
    import fastexcel

    name = str(path)
    try:
        reader = fastexcel.read_excel(path)
        sheets = reader.sheet_names
    except Exception as exc:  # calamine reports many kinds of damage
        raise DataError(
            [
                Problem(
                    f"cannot read the file as an Excel file: {str(exc).splitlines()[0] if str(exc) else exc}",
                    file=name,
                    hint="is it a complete .xlsx file? Open it in Excel or WPS and save it again",
                    code=ProblemCode.EXCEL,
                )
            ]
        ) from None
    index = _sheet_index(sheets, sheet, name)
    try:
        loaded = reader.load_sheet(index, header_row=None, skip_rows=0, dtypes="string")
        table = loaded.to_polars()
    except Exception as exc:
        raise DataError(
            [
                Problem(
                    f"cannot read sheet '{sheets[index]}' as an Excel file: {exc}",
                    file=name,
                    hint="open it in Excel or WPS and save it again",
                    code=ProblemCode.EXCEL,
                )
            ]
        ) from None
    if table.width == 0 or table.height == 0:
        raise DataError(
            [Problem(f"the file is empty (sheet '{sheets[index]}')", file=name, code=ProblemCode.EMPTY_FILE)]
        )
    raw_names = table.columns
    table = table.select(pl.col(c).cast(pl.String) for c in raw_names)
    table = _as_shown(table, name, index)
    head_rows = table.head(HEADER_SEARCH_ROWS * 50).rows()
    records: list[_HeadRecord] = []
    for i, row in enumerate(head_rows):
        cells = ["" if v is None else str(v) for v in row]
        if any(c.strip(STRIP_CHARS) for c in cells):
            records.append(_HeadRecord(i + 1, i + 1, cells))
            if len(records) >= HEADER_SEARCH_ROWS:
                break
    if not records:
        raise DataError(
            [Problem(f"the file is empty (sheet '{sheets[index]}')", file=name, code=ProblemCode.EMPTY_FILE)]
        )
    header = _pick_header(records)
    headers = [_display_header(c) for c in header.cells]
    # Trailing columns with no header and no data are formatting leftovers.
    while (
        headers
        and not headers[-1]
        and table.get_column(raw_names[len(headers) - 1]).null_count() == table.height
    ):
        headers.pop()
    _check_duplicate_headers(name, headers, header.start)
    names = [_column_name(headers, i) for i in range(len(headers))]
    frame = table.slice(header.end).select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + header.end + 1).alias(LINE),
        *(
            normalize_expr(pl.col(raw).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1")).alias(new)
            for raw, new in zip(raw_names, names, strict=False)
        ),
    )
    frame = _drop_blank_and_comments(frame, names, _branch_id_index(headers))
    if frame.height == 0:
        raise DataError(
            [Problem(f"no data rows below the header (line {header.start})", file=name, code=ProblemCode.NO_DATA)]
        )
    return RawTable(path=name, headers=headers, frame=frame, encoding="xlsx", header_line=header.start)


def _as_shown(table: pl.DataFrame, name: str, index: int) -> pl.DataFrame:
    """Cells as the user sees them: ``90%`` for a percent-formatted 0.9, ``#DIV/0!`` for a formula error.

    The reader returns the stored 0.9 (read as 0.9 %, a silently wrong score) and an empty cell for an
    error (a count with ``default: 0`` would silently read 0). A cell is changed only where the reader's
    value matches the workbook's (so a misaligned position can never rewrite a wrong cell).
    """
    from wuxing_cli.io.xlsx_cells import sheet_cells

    found = sheet_cells(name, index)
    if not found:
        return table
    shown = found.shown()
    by_column: dict[int, dict[int, str]] = {}
    for (row, col), text in shown.items():
        column = col - found.first_column
        if 0 <= column < table.width and 0 <= row < table.height:
            by_column.setdefault(column, {})[row] = text
    replaced = []
    for column, cells in by_column.items():
        values = table.to_series(column).to_list()
        for row, text in cells.items():
            stored = found.percent.get((row, column + found.first_column))
            if stored is not None and not _same_number(values[row], stored):
                continue
            if stored is None and values[row] is not None:  # an error cell reads as empty
                continue
            values[row] = text
        replaced.append(pl.Series(table.columns[column], values, dtype=pl.String))
    return table.with_columns(replaced)


def _same_number(value: str | None, stored: str) -> bool:
    try:
        return value is not None and float(value) == float(stored)
    except ValueError:
        return False


def _sheet_index(sheets: Sequence[str], sheet: str | None, name: str) -> int:
    if not sheets:
        raise DataError([Problem("the workbook has no sheets", file=name, code=ProblemCode.EMPTY_FILE)])
    if sheet is None:
        return 0
    if sheet in sheets:
        return list(sheets).index(sheet)
    keys = [header_key(s) for s in sheets]
    if header_key(sheet) in keys:
        return keys.index(header_key(sheet))
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(sheets):
        return int(sheet) - 1
    raise UsageError(
        [
            Problem(
                f"no sheet '{sheet}' in the workbook",
                file=name,
                hint=f"sheets: {_quote(sheets)} (or give a 1-based number)",
                code=ProblemCode.SHEET,
            )
        ]
    )


# --------------------------------------------------------------------------------------------
# Headers → reserved columns and fields
# --------------------------------------------------------------------------------------------


@dataclass
class _Resolution:
    reserved: dict[str, int | None]  # reserved name -> column index
    fields: list[dict[str, int | None]]  # per criteria: input field id -> column index
    common: list[Problem]  # file-level problems
    per_criteria: list[list[Problem]]  # header problems of each criteria


def _find(candidates: Sequence[str], index: dict[str, int]) -> list[int]:
    found: list[int] = []
    for candidate in candidates:
        col = index.get(header_key(candidate))
        if col is not None and col not in found:
            found.append(col)
    return found


def _suggest(wanted: Sequence[str], headers: Sequence[str], taken: set[int]) -> str:
    available = [h for i, h in enumerate(headers) if h and i not in taken]
    keys = {header_key(h): h for h in available}
    near: list[str] = []
    for want in wanted:
        for key in difflib.get_close_matches(header_key(want), list(keys), n=1, cutoff=0.6):
            if keys[key] not in near:
                near.append(keys[key])
    text = f"did you mean '{near[0]}'? " if near else ""
    shown = available[:40]
    more = ", …" if len(available) > len(shown) else ""
    return text + (
        "columns in the file: " + _quote(shown) + more if shown else "the file has no named columns"
    )


def _resolve(raw: RawTable, criteria: Sequence[Criteria]) -> _Resolution:
    name, line, headers = raw.path, raw.header_line, raw.headers
    index = {header_key(h): i for i, h in enumerate(headers) if header_key(h)}
    common: list[Problem] = []
    reserved: dict[str, int | None] = {}
    for column in RESERVED:
        found = _find(RESERVED_HEADERS[column], index)
        reserved[column] = found[0] if found else None
        if len(found) > 1:
            common.append(
                Problem(
                    f"columns {_quote(headers[i] for i in found)} all look like the {_RESERVED_LABELS[column]}; "
                    f"using '{headers[found[0]]}'",
                    file=name,
                    line=line,
                    header=headers[found[0]],
                    severity="warning",
                    code=ProblemCode.AMBIGUOUS_COLUMN,
                )
            )
    if reserved["branch_id"] is None:
        common.append(
            Problem(
                "no branch id column: expected one of " + ", ".join(RESERVED_HEADERS["branch_id"]),
                file=name,
                line=line,
                hint=_suggest(RESERVED_HEADERS["branch_id"], headers, set()),
                code=ProblemCode.MISSING_COLUMN,
            )
        )
    reserved_cols = {i: col for col, i in reserved.items() if i is not None}
    all_fields: list[dict[str, int | None]] = []
    per_criteria: list[list[Problem]] = []
    for crit in criteria:
        problems: list[Problem] = []
        chosen: dict[str, int | None] = {}
        users: dict[int, str] = {}
        for fid, spec in crit.input_fields().items():
            wanted = [crit.header_of(fid), *spec.aliases]
            found = _find(wanted, index)
            if not found:
                chosen[fid] = None
                if spec.default is not None:
                    problems.append(
                        Problem(
                            f"no column '{wanted[0]}' (field '{fid}' of {crit.id}): "
                            f"every row takes its default {_default_text(spec.default)}",
                            file=name,
                            line=line,
                            header=wanted[0],
                            severity="warning",
                            code=ProblemCode.DEFAULT_COLUMN,
                        )
                    )
                else:
                    also = f" (or {_quote(wanted[1:])})" if len(wanted) > 1 else ""
                    problems.append(
                        Problem(
                            f"missing column '{wanted[0]}'{also} for field '{fid}' of {crit.id}",
                            file=name,
                            line=line,
                            header=wanted[0],
                            hint=_suggest(wanted, headers, set(reserved_cols)),
                            code=ProblemCode.MISSING_COLUMN,
                        )
                    )
                continue
            col = found[0]
            chosen[fid] = col
            if len(found) > 1:
                problems.append(
                    Problem(
                        f"columns {_quote(headers[i] for i in found)} all match field '{fid}' of {crit.id}; "
                        f"using '{headers[col]}'",
                        file=name,
                        line=line,
                        header=headers[col],
                        severity="warning",
                        code=ProblemCode.AMBIGUOUS_COLUMN,
                    )
                )
            if col in reserved_cols:
                problems.append(
                    Problem(
                        f"column '{headers[col]}' is both the {_RESERVED_LABELS[reserved_cols[col]]} and "
                        f"field '{fid}' of {crit.id}",
                        file=name,
                        line=line,
                        header=headers[col],
                        hint="give the field another header in the criteria file",
                        code=ProblemCode.COLUMN_CONFLICT,
                    )
                )
            elif col in users:
                problems.append(
                    Problem(
                        f"column '{headers[col]}' matches two fields of {crit.id}: '{users[col]}' and '{fid}'",
                        file=name,
                        line=line,
                        header=headers[col],
                        hint="give the fields distinct headers and aliases in the criteria file",
                        code=ProblemCode.COLUMN_CONFLICT,
                    )
                )
            else:
                users[col] = fid
        all_fields.append(chosen)
        per_criteria.append(problems)
    return _Resolution(reserved, all_fields, common, per_criteria)


def _default_text(value: float | bool | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------------
# Branch types
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Validation of headers (wuxing validate --data)
# --------------------------------------------------------------------------------------------


def check_headers(raw: RawTable, criteria: Sequence[Criteria]) -> list[Problem]:
    """Problems with the columns of ``raw`` for ``criteria`` (errors and warnings).

    With several criteria and a branch-type column, only the criteria that some row's branch
    type belongs to are checked (a rural-only file need not carry the community columns).
    """
    problems: list[Problem] = []
    try:
        claims, _ = branch_type_claims(criteria)
    except DataError as exc:
        problems.extend(exc.problems)
        claims = {}
    res = _resolve(raw, criteria)
    problems.extend(res.common)
    relevant = list(range(len(criteria)))
    type_col = res.reserved["branch_type"]
    if len(criteria) > 1 and type_col is None:
        problems.append(
            Problem(
                "several criteria were given but the file has no branch type column "
                "(" + ", ".join(RESERVED_HEADERS["branch_type"]) + ")",
                file=raw.path,
                line=raw.header_line,
                hint="add a 类型 column (农村/社区), or score each type separately",
                code=ProblemCode.MISSING_COLUMN,
            )
        )
    elif len(criteria) > 1 and type_col is not None and claims:
        keys = (
            raw.frame.select(_key_expr(pl.col(raw.column_name(type_col))).unique().drop_nulls())
            .to_series()
            .to_list()
        )
        used = sorted({claims[k] for k in keys if k in claims})
        if used:
            relevant = used
    for i in relevant:
        problems.extend(res.per_criteria[i])
    return problems


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


_DTYPES: dict[FieldType, type[pl.DataType]] = {
    FieldType.number: pl.Float64,
    FieldType.integer: pl.Int64,
    FieldType.percent: pl.Float64,
    FieldType.boolean: pl.Boolean,
    FieldType.category: pl.String,
    FieldType.text: pl.String,
}


def _dtype(spec: FieldSpec) -> type[pl.DataType]:
    return _DTYPES[spec.type]


def _default_value(crit: Criteria, fid: str, spec: FieldSpec) -> float | int | bool | str | None:
    if spec.default is None:
        return None
    try:
        return parse_cell(_default_text(spec.default), spec)
    except ValueError as exc:
        raise CriteriaError(
            [
                Problem(
                    f"field '{fid}' of {crit.id}: default {_default_text(spec.default)!r} is not valid: {exc}",
                    key=f"fields.{fid}.default",
                    code=ProblemCode.BAD_DEFAULT,
                )
            ]
        ) from None


def _typed_value(raw: RawTable, lookups: _Lookups, spec: FieldSpec, col: int) -> pl.Expr:
    """The typed value of field column ``col`` (``__c<col>``); a coded column is parsed once per
    distinct text, then looked up by code."""
    if raw.is_coded(raw.column_name(col)):
        return pl.lit(lookups.values(spec)).gather(pl.col(f"__c{col}"))
    return value_expr(pl.col(f"__c{col}"), spec)


class _Lookups:
    """Typed values of a coded table's dictionary, per kind of field (type, bounds, allowed values)."""

    def __init__(self, dictionary: pl.Series | None) -> None:
        self._texts = pl.DataFrame({"t": dictionary if dictionary is not None else pl.Series([], dtype=pl.String)})
        self._done: dict[tuple[object, ...], pl.Series] = {}

    @staticmethod
    def _key(spec: FieldSpec) -> tuple[object, ...]:
        return (spec.type, spec.lower, spec.upper, tuple(spec.values or ()))

    def prepare(self, specs: Iterable[FieldSpec]) -> None:
        """Parse the dictionary for all these kinds of field in one query."""
        todo = {self._key(spec): spec for spec in specs if self._key(spec) not in self._done}
        if not todo:
            return
        names = [f"k{i}" for i in range(len(todo))]
        done = self._texts.select(
            value_expr(pl.col("t"), spec).alias(name) for name, spec in zip(names, todo.values(), strict=True)
        )
        for name, key in zip(names, todo, strict=True):
            self._done[key] = done.get_column(name)

    def values(self, spec: FieldSpec) -> pl.Series:
        key = self._key(spec)
        if key not in self._done:
            self.prepare([spec])
        return self._done[key]


@dataclass
class _Cell:
    """One bad cell, before it becomes a Problem or a rejection reason."""

    line: int
    order: int  # column position in the file (reserved problems sort first in their row)
    branch_id: str | None
    header: str
    value: str | None
    reason: str


class _Reasons:
    """Memoised describe_reason (bad values repeat a lot in a broken file)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, str], str] = {}

    def __call__(self, value: str | None, spec: FieldSpec) -> str:
        if value is None:
            return EMPTY + " (no default)"
        key = (id(spec), value)
        found = self._memo.get(key)
        if found is None:
            found = describe_reason(value, spec) or "invalid value"
            self._memo[key] = found
        return found


def load_assessment(
    path: Path,
    criteria: Sequence[Criteria],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    period: str | None = None,
    strict: bool = False,
    skip_invalid: bool = False,
    line_offset: int = 0,
    partial: bool = False,
) -> Assessment:
    """Read, check and type an assessment file against ``criteria`` (SPEC §3).

    ``line_offset``: see :func:`_read_coded`; ``partial``: the file is one slice of a larger one
    (scoring a large file in slices), so a ``period`` it lacks is not an error.

    Raises DataError listing every problem (bad cells, duplicate ids, missing columns…),
    UsageError when the command line must change (several periods and no ``period``, several
    criteria and no branch-type column), CriteriaError for a field default that is not valid.
    With ``skip_invalid`` rows with bad cells are left out and listed in ``rejected`` instead.
    """
    if not criteria:
        raise UsageError([Problem("no criteria given")])
    claims, spellings = branch_type_claims(criteria)
    defaults = [
        {fid: _default_value(crit, fid, spec) for fid, spec in crit.input_fields().items()}
        for crit in criteria
    ]
    for crit in criteria:
        for fid in crit.input_fields():
            if fid in RESERVED or fid.startswith("__"):
                raise CriteriaError(
                    [
                        Problem(
                            f"field id '{fid}' of {crit.id} is reserved for a data column",
                            key=f"fields.{fid}",
                        )
                    ]
                )
    raw = _read_coded(path, encoding=encoding, sheet=sheet, line_offset=line_offset)
    name = raw.path
    res = _resolve(raw, criteria)
    errors = [p for p in res.common if p.is_error]
    if errors:
        raise DataError(errors)
    warnings = [p for p in res.common if not p.is_error]
    if len(criteria) > 1 and res.reserved["branch_type"] is None:
        raise UsageError(
            [
                Problem(
                    f"{len(criteria)} criteria were given but the file has no branch type column "
                    "(" + ", ".join(RESERVED_HEADERS["branch_type"]) + ") to match rows to them",
                    file=name,
                    line=raw.header_line,
                    hint="add a 类型 column (农村/社区), or give one criteria",
                    code=ProblemCode.MISSING_COLUMN,
                )
            ]
        )

    def raw_col(index: int | None) -> pl.Expr:
        if index is None:
            return pl.lit(None, pl.String)
        return raw.text(raw.column_name(index))

    def cell_text(index: int) -> pl.Expr:
        """The text of the cells of field column ``index`` (``__c<index>`` of ``base``)."""
        column = pl.col(f"__c{index}")
        if raw.is_coded(raw.column_name(index)):
            assert raw.dictionary is not None
            return pl.lit(raw.dictionary).gather(column)
        return column

    lookups = _Lookups(raw.dictionary)

    # ---- reserved columns, period selection ----
    base = raw.frame.select(
        pl.col(LINE),
        *(raw_col(res.reserved[c]).alias(c) for c in RESERVED),
        *(
            pl.col(raw.column_name(i)).alias(f"__c{i}")
            for i in sorted({i for chosen in res.fields for i in chosen.values() if i is not None})
        ),
    )
    periods, selected, base = _select_period(
        base, period, res.reserved["period"] is not None, name, partial=partial
    )
    rows_read = base.height

    # ---- which criteria each row belongs to ----
    type_key = _keyed(base, "branch_type")
    if len(criteria) == 1:
        crit_expr = (
            pl.when(pl.col("branch_type").is_null() | type_key.is_in(list(claims)))
            .then(pl.lit(0, pl.Int32))
            .otherwise(pl.lit(None, pl.Int32))
        )
    else:
        crit_expr = type_key.replace_strict(claims, default=None, return_dtype=pl.Int32)
    base = base.with_columns(crit_expr.alias(_CRIT))

    # ---- fatal: duplicate ids (across slices, the caller checks them: see ``partial``) ----
    fatal: list[Problem] = []
    fatal_total = 0
    if not partial:
        fatal, fatal_total = duplicate_id_problems(
            base.select(LINE, "branch_id"), name, _header_of(raw, res.reserved["branch_id"])
        )

    # ---- bad reserved cells ----
    limit = None if skip_invalid else MAX_LISTED
    cells: list[_Cell] = []
    bad_total = 0
    checks: list[tuple[str, pl.Expr, str]] = [("branch_id", pl.col("branch_id").is_null(), "empty branch id")]
    if res.reserved["branch_type"] is not None:
        claimed = ", ".join(spellings)
        if len(criteria) > 1:
            checks.append(
                (
                    "branch_type",
                    pl.col("branch_type").is_null(),
                    f"empty branch type (expected one of {claimed})",
                )
            )
        checks.append(
            (
                "branch_type",
                pl.col("branch_type").is_not_null() & pl.col(_CRIT).is_null(),
                f"not a branch type of the criteria given ({claimed})",
            )
        )
    if periods:
        checks.append(("period", pl.col("period").is_null(), "empty period (other rows have one)"))
    for column, flag, reason in checks:
        hit = base.lazy().filter(flag).select(LINE, "branch_id", pl.col(column).alias("__value")).collect()
        bad_total += hit.height
        header = _header_of(raw, res.reserved[column])
        for line, bid, value in _head(hit, limit).iter_rows():
            cells.append(_Cell(line, -1, bid, header, value, reason))

    # ---- fields: one pass per criteria ----
    reasons = _Reasons()
    header_errors: list[Problem] = []
    typed_parts: list[tuple[int, pl.DataFrame, dict[str, str], list[tuple[str, int]]]] = []
    for k, crit in enumerate(criteria):
        if len(criteria) == 1 and base.get_column(_CRIT).null_count() == 0:
            rows = base.lazy()
        else:
            rows = base.lazy().filter(pl.col(_CRIT) == k)
        fields = crit.input_fields()
        read = [(fid, col) for fid in fields if (col := res.fields[k].get(fid)) is not None]
        lookups.prepare(fields[fid] for fid, col in read if raw.is_coded(raw.column_name(col)))

        # Stage 1: the value of every field and where its cells are empty. The text of the cells
        # is not kept: it is fetched again for the bad cells only.
        stage1 = [
            pl.col(LINE),
            *(pl.col(c) for c in RESERVED),
            *(pl.col(f"__c{col}").is_null().alias(f"__e_{fid}") for fid, col in read),
            *(_typed_value(raw, lookups, fields[fid], col).alias(f"__v_{fid}") for fid, col in read),
        ]
        # Stage 2: bad flags, defaults for empty cells.
        stage2: list[pl.Expr] = []
        for fid, spec in fields.items():
            col = res.fields[k].get(fid)
            default = defaults[k][fid]
            dtype = _dtype(spec)
            if col is None:
                stage2.append(pl.lit(default, dtype).alias(fid))
                continue
            empty, value = pl.col(f"__e_{fid}"), pl.col(f"__v_{fid}")
            bad = ~empty & value.is_null()
            if default is not None:
                value = pl.when(empty).then(pl.lit(default, dtype)).otherwise(value)
            elif strict:
                bad = value.is_null()
            stage2.extend([value.alias(fid), bad.alias(f"__bad_{fid}")])
        # One streaming query: the intermediate values are never all in memory at once.
        typed = (
            rows.select(stage1)
            .with_columns(stage2)
            .drop(f"__v_{fid}" for fid, _ in read)
            .collect(engine="streaming")
        )
        if typed.height == 0:
            continue
        for problem in res.per_criteria[k]:
            (header_errors if problem.is_error else warnings).append(problem)
        if read:
            counts = typed.select(pl.col(f"__bad_{fid}").sum() for fid, _ in read).row(0)
            for (fid, col), count in zip(read, counts, strict=True):
                if not count:
                    continue
                bad_total += count
                spec = fields[fid]
                hit = _head(typed.select(LINE, "branch_id").filter(typed.get_column(f"__bad_{fid}")), limit)
                texts = (
                    base.lazy()
                    .filter(pl.col(LINE).is_in(hit.get_column(LINE).implode()))
                    .select(LINE, cell_text(col).alias("__value"))
                )
                hit = hit.join(texts.collect(), on=LINE, how="left", maintain_order="left")
                for line, bid, value in hit.iter_rows():
                    cells.append(_Cell(line, col, bid, raw.headers[col], value, reasons(value, spec)))
        typed_parts.append((k, typed, {fid: raw.headers[col] for fid, col in read}, read))

    cells.sort(key=lambda c: (c.line, c.order))
    cell_problems = [
        Problem(c.reason, file=name, line=c.line, header=c.header, value=c.value, code=ProblemCode.BAD_CELL)
        for c in cells[:MAX_LISTED]
    ] if partial else []
    if partial and cells and not skip_invalid and not header_errors:
        # A slice: its bad cells are listed with those of the other slices (and the duplicate ids
        # across all of them), so they are returned rather than raised.
        return Assessment(
            path=name,
            encoding=raw.encoding,
            parts=[],
            rows_read=rows_read,
            periods=periods,
            period=selected,
            warnings=warnings,
            ids=base.select(LINE, "branch_id"),
            id_header=_header_of(raw, res.reserved["branch_id"]),
            problems=cell_problems,
            problem_total=bad_total,
        )
    if header_errors or fatal or (cells and not skip_invalid):
        fatal = header_errors + fatal
        fatal_total += len(header_errors)
        listed = fatal + [
            Problem(c.reason, file=name, line=c.line, header=c.header, value=c.value, code=ProblemCode.BAD_CELL)
            for c in cells[:MAX_LISTED]
        ]
        raise DataError(_capped(listed, fatal_total + bad_total, name))

    # ---- skip_invalid: reject the rows with a bad cell ----
    by_line: dict[int, list[_Cell]] = {}
    for c in cells:
        by_line.setdefault(c.line, []).append(c)
    rejected = [
        Rejected(
            line,
            group[0].branch_id,
            tuple(f"column '{c.header}' value '{c.value or ''}': {c.reason}" for c in group),
        )
        for line, group in by_line.items()
    ]
    dropped = pl.Series(LINE, sorted(by_line), dtype=pl.Int64)

    parts: list[LoadedPart] = []
    for k, typed, headers, read in typed_parts:
        kept = typed.filter(~pl.col(LINE).is_in(dropped.implode())) if by_line else typed
        if kept.height == 0:
            continue
        if not strict:
            missing = [(fid, col) for fid, col in read if defaults[k][fid] is None]
            warnings.extend(_missing_warnings(kept, criteria[k], missing, raw))
        frame = kept.select(
            pl.col(LINE),
            pl.col("branch_id"),
            pl.coalesce("branch_name", "branch_id").alias("branch_name"),
            *(pl.col(c) for c in RESERVED[2:]),
            *(pl.col(fid) for fid in criteria[k].input_fields()),
        )
        parts.append(LoadedPart(criteria=criteria[k], frame=frame, headers=headers))
    return Assessment(
        path=name,
        encoding=raw.encoding,
        parts=parts,
        rows_read=rows_read,
        periods=periods,
        period=selected,
        warnings=warnings,
        rejected=rejected,
        ids=base.select(LINE, "branch_id") if partial else None,
        id_header=_header_of(raw, res.reserved["branch_id"]),
        problems=cell_problems,
        problem_total=bad_total if partial else 0,
    )


def duplicate_id_problems(ids: pl.DataFrame, path: str, header: str) -> tuple[list[Problem], int]:
    """Problems for branch ids that appear more than once in ``ids`` (LINE, branch_id), at most
    MAX_LISTED, and how many ids repeat."""
    dupes = (
        ids.filter(pl.col("branch_id").is_duplicated() & pl.col("branch_id").is_not_null())
        .group_by("branch_id")
        .agg(pl.col(LINE).sort())
        .filter(pl.col(LINE).list.len() > 1)
        .sort(pl.col(LINE).list.first())
    )
    problems = [
        Problem(
            f"branch id '{bid}' appears {len(lines)} times: lines {', '.join(str(n) for n in lines)}",
            file=path,
            line=lines[0],
            header=header,
            value=bid,
            hint="each branch must appear once per period (full-width and half-width characters count as the same)",
            code=ProblemCode.DUPLICATE_ID,
        )
        for bid, lines in dupes.head(MAX_LISTED).iter_rows()
    ]
    return problems, dupes.height


def _capped(problems: list[Problem], total: int, name: str | None) -> list[Problem]:
    """At most MAX_LISTED problems, then "… and N more" when ``total`` is larger."""
    shown = problems[:MAX_LISTED]
    if total > len(shown):
        shown.append(Problem(f"… and {total - len(shown)} more", file=name, code=ProblemCode.MORE,
                             count=total - len(shown)))
    return shown


def _head(frame: pl.DataFrame, limit: int | None) -> pl.DataFrame:
    return frame if limit is None else frame.head(limit)


def _header_of(raw: RawTable, index: int | None) -> str:
    return raw.headers[index] if index is not None else ""


def _missing_warnings(
    typed: pl.DataFrame, crit: Criteria, todo: Sequence[tuple[str, int]], raw: RawTable
) -> list[Problem]:
    """One warning per column with empty cells (no default): the count and the first lines."""
    if not todo or typed.height == 0:
        return []
    nulls = typed.select(pl.col(f"__e_{fid}").sum() for fid, _ in todo).row(0)
    out: list[Problem] = []
    for (fid, col), count in zip(todo, nulls, strict=True):
        if not count:
            continue
        lines = typed.select(pl.col(LINE).filter(pl.col(f"__e_{fid}")).head(10)).to_series().to_list()
        out.append(missing_value_warning(raw.path, raw.headers[col], fid, crit.id, count, lines))
    return out


def missing_value_warning(path: str, header: str, fid: str, criteria_id: str, count: int,
                          lines: Sequence[int]) -> Problem:
    """The warning for ``count`` empty cells of a column (no default); ``lines``: the first ones."""
    return Problem(
        f"{count} empty cell{'s' if count > 1 else ''} ({_lines_text(lines, count)})",
        file=path,
        line=lines[0],
        header=header,
        hint=f"field '{fid}' of {criteria_id}: an empty cell scores 0; fill it in, "
        "or give the field a default in the criteria file",
        severity="warning",
        code=ProblemCode.MISSING_VALUE,
    )


def _select_period(
    base: pl.DataFrame, period: str | None, has_column: bool, name: str, partial: bool = False
) -> tuple[list[str], str | None, pl.DataFrame]:
    """Distinct periods, the selected one, and the rows kept (SPEC §3 ``--period``).

    ``partial``: the file is a slice of a larger one, which may hold ``period`` elsewhere.
    """
    if not has_column:
        if period is not None:
            raise UsageError(
                [
                    Problem(
                        f"--period {period} was given but the file has no period column "
                        "(" + ", ".join(RESERVED_HEADERS["period"]) + ")",
                        file=name,
                        code=ProblemCode.PERIOD_NO_COLUMN,
                    )
                ]
            )
        return [], None, base
    found = (
        base.select(pl.col("period"), _keyed(base, "period").alias("key"))
        .drop_nulls()
        .unique(subset="key", keep="first", maintain_order=True)
    )
    spelled = dict(zip(found.get_column("key").to_list(), found.get_column("period").to_list(), strict=True))
    periods = sorted(spelled.values())
    if period is None:
        if len(periods) > 1 and not partial:
            raise UsageError(
                [
                    Problem(
                        f"the file holds {len(periods)} periods: {', '.join(periods)}",
                        file=name,
                        hint="pick one with --period",
                        code=ProblemCode.PERIOD_SEVERAL,
                    )
                ]
            )
        return periods, (periods[0] if periods else None), base
    wanted = header_key(period)
    if wanted not in spelled and partial:
        return periods, None, base.filter(pl.col("period").is_null())
    if wanted not in spelled:
        present = ", ".join(periods) if periods else "none (the period column is empty)"
        raise UsageError(
            [
                Problem(
                    f"no rows for period '{period}'; periods in the file: {present}", file=name, code=ProblemCode.PERIOD_ABSENT
                )
            ]
        )
    keep = (_keyed(base, "period") == wanted) | pl.col("period").is_null()
    return periods, spelled[wanted], base.filter(keep)
