"""Reading a data file as text: which reader a file goes to (CSV, Excel, Parquet), by content and name."""

from __future__ import annotations

import codecs
from pathlib import Path

from wuxing_cli.errors import DataError, Problem, ProblemCode, WuxingError
from wuxing_cli.models.contract import EXCEL_SUFFIXES

from .csv_reader import read_csv
from .decode import is_stream, stream_copy
from .excel import read_excel
from .parquet import read_parquet
from .raw import RawTable, encode_columns


def read_raw(path: Path, *, encoding: str | None = None, sheet: str | None = None) -> RawTable:
    """Read a CSV or Excel file as text: cells NFKC-normalised, trimmed, empty → null (SPEC §3).

    Raises DataError for an unreadable, empty, header-only, badly encoded or ragged file and for
    duplicate headers; UsageError for an unknown ``encoding`` or ``sheet``.
    """
    return read_coded(path, encoding=encoding, sheet=sheet).decoded()


def read_coded(
    path: Path, *, encoding: str | None = None, sheet: str | None = None, line_offset: int = 0
) -> RawTable:
    """:func:`read_raw` with the columns other than the branch id and name coded (see RawTable).

    ``line_offset`` is added to the line numbers of the data rows of a CSV file that is a slice
    of a larger one (its first lines, down to the header, copied from it): every message then
    names the line of the larger file.
    """
    path = Path(path)
    name = str(path)
    if is_stream(path):  # a FIFO, <(…) or a device: read once, bounded, into a file
        return _read_stream(path, encoding=encoding, sheet=sheet, line_offset=line_offset)
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
        return encode_columns(read_excel(path, sheet))
    if magic.startswith(b"PAR1"):
        return read_parquet(path, line_offset)
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
    return read_csv(path, encoding, line_offset)


def _read_stream(path: Path, *, encoding: str | None, sheet: str | None, line_offset: int) -> RawTable:
    """:func:`read_coded` of a stream: copied (bounded, once) into a temporary file that keeps its suffix,
    read from there, every problem naming the stream as given."""
    import dataclasses

    name = str(path)
    copy = stream_copy(path)
    try:
        raw = read_coded(copy, encoding=encoding, sheet=sheet, line_offset=line_offset)
    except WuxingError as exc:
        exc.problems = [dataclasses.replace(p, file=name) if p.file == str(copy) else p for p in exc.problems]
        raise
    return dataclasses.replace(raw, path=name)
