"""Decoding a CSV file: its encoding (UTF-8, UTF-8 with BOM, GB18030 detected, or as named), the
head of the file where the header is looked for, and the errors for undecodable bytes."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from wuxing_cli.errors import DataError, Problem, ProblemCode, UsageError


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


HEAD_BYTES = 1 << 20  #: the header is looked for in the first MiB (and the encoding guessed from it)


@dataclass(frozen=True)
class Source:
    """What polars reads: the path itself (UTF-8 not yet checked past the head) or UTF-8 bytes."""

    data: str | bytes
    encoding: str
    head: list[str]  # the first lines (complete ones only), BOM removed
    checked: bool  # the whole file is known to be valid UTF-8
    offset: int = 0  # added to the line numbers of data rows (the file is a slice of a larger one)


def codec_name(encoding: str | None) -> str | None:
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


def source_of(path: Path, encoding: str | None) -> Source:
    """Decide how to read the CSV without reading all of it when it looks like UTF-8."""
    codec = codec_name(encoding)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES + 1)
    complete = len(head) <= HEAD_BYTES
    old_mac = b"\r" in head and b"\n" not in head
    if codec in (None, "utf-8", "utf-8-sig") and not old_mac:
        try:
            text = codecs.getincrementaldecoder("utf-8")().decode(head[:HEAD_BYTES], final=complete)
        except UnicodeDecodeError:
            pass  # not UTF-8 (GBK, most likely): decode it all below
        else:
            used = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
            return Source(str(path), used, _head_lines(text, complete), checked=False)
    return decode_whole(path, codec, encoding)


def decode_whole(path: Path, codec: str | None, encoding: str | None) -> Source:
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
    if "\n" not in text[:HEAD_BYTES] and "\r" in text[:HEAD_BYTES]:  # old Mac line ends
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    head = text[:HEAD_BYTES]
    return Source(text.encode("utf-8"), used, _head_lines(head, len(text) <= HEAD_BYTES), checked=True)


def is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


#: The most a data file given as a stream (a FIFO, ``<(…)``, a device) may hold: it is copied to a
#: temporary file first (a stream has no size to check and cannot be read twice).
MAX_STREAM_BYTES = 4 << 30
_CHUNK = 1 << 20


def is_stream(path: Path) -> bool:
    """A path that is neither a regular file nor a folder: a FIFO, ``/dev/fd/N`` of ``<(…)``, a device."""
    import os
    import stat

    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def spool_stream(path: Path, target: Path, limit: int | None = None) -> None:
    """Copy the stream ``path`` into ``target``, at most ``limit`` bytes (default :data:`MAX_STREAM_BYTES`).

    Raises DataError naming ``path`` when the stream is longer, or when its first MiB holds NUL bytes
    in what is not a workbook or Parquet file (``/dev/zero``: not text, and endless).
    """
    cap = MAX_STREAM_BYTES if limit is None else limit
    name = str(path)
    total = 0
    try:
        with path.open("rb") as source, target.open("wb") as sink:
            first = True
            while chunk := source.read(_CHUNK):
                if first and b"\x00" in chunk and not chunk.startswith((b"PK\x03\x04", b"PAR1")):
                    raise DataError([Problem(
                        "the input holds NUL bytes, so it is not a CSV text file (is it /dev/zero or a binary file?)",
                        file=name, code=ProblemCode.ENCODING,
                        hint="give a CSV, .xlsx, .ods or Parquet file")])
                first = False
                total += len(chunk)
                if total > cap:
                    raise DataError([Problem(
                        f"the input is a stream longer than {cap / (1 << 30):g} GB, the most read from a pipe "
                        "or device", file=name, code=ProblemCode.IO,
                        hint="save the data to a file and give its path")])
                sink.write(chunk)
    except OSError as exc:
        raise DataError([Problem(f"cannot read the file: {exc.strerror or exc}", file=name,
                                 code=ProblemCode.IO)]) from None


_STREAM_COPIES: dict[str, Path] = {}


def stream_copy(path: Path) -> Path:
    """The temporary copy of the stream ``path`` (:func:`spool_stream`), made once per process: a stream
    can be read only once, and a command may read its input twice (``validate --data``). The copies are
    removed when the process ends."""
    import atexit
    import shutil
    import tempfile

    key = str(path)
    if key in _STREAM_COPIES:
        return _STREAM_COPIES[key]
    folder = Path(tempfile.mkdtemp(prefix="wuxing-stream-"))
    if not _STREAM_COPIES:
        atexit.register(_remove_stream_copies)
    copy = folder / f"input{path.suffix}"
    try:
        spool_stream(path, copy)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _STREAM_COPIES[key] = copy
    return copy


def _remove_stream_copies() -> None:
    import shutil

    for copy in _STREAM_COPIES.values():
        shutil.rmtree(copy.parent, ignore_errors=True)

