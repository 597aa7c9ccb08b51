"""Write outputs atomically, and neutralise spreadsheet formulas in cells written to CSV/Excel."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..errors import Problem, ProblemCode, UsageError

if TYPE_CHECKING:  # polars is imported where frames are handled: `wuxing validate` starts without it
    import polars as pl

#: A text cell starting with one of these would run as a formula in a spreadsheet (SPEC §7).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_LIKE = "^[" + "".join(FORMULA_START).replace("-", "\\-") + "]"


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to text cells that a spreadsheet would run as a formula (SPEC §7).

    The one neutralising policy of every CSV wuxing writes (results, forms and merged forms): any
    text cell starting with ``= + - @``, a tab or a CR, so text such as ``-3.5`` or ``+1`` is shown as
    text too. Only String columns are touched: number columns such as -3.5 stay numbers.
    """
    import polars as pl

    exprs = [
        pl.when(_formula_like(pl.col(name)))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    ]
    return frame.with_columns(exprs) if exprs else frame


def _formula_like(col: pl.Expr) -> pl.Expr:
    return col.str.contains(_FORMULA_LIKE)


def check_output_path(output: Path, inputs: Sequence[Path]) -> None:
    """Refuse to overwrite an input file, and explain a missing output folder (exit 2)."""
    target = output.resolve()
    for item in inputs:
        try:
            same = item.exists() and target.exists() and os.path.samefile(item, target)
        except OSError:
            same = False
        if same or item.resolve() == target:
            raise UsageError([Problem(f"refusing to overwrite the input file '{item}' with the output",
                                      code=ProblemCode.OUTPUT_IS_INPUT, hint="choose another --output path")])
    parent = target.parent
    if not parent.is_dir():
        raise UsageError([Problem(f"the output folder '{output.parent}' does not exist", code=ProblemCode.OUTPUT_DIR,
                                  hint="create it first (mkdir -p) or choose another --output path")])
    if target.is_dir():
        raise UsageError([Problem(f"the output path '{output}' is a folder", code=ProblemCode.OUTPUT_DIR,
                                  hint="give a file name, e.g. -o result.csv")])


@contextlib.contextmanager
def atomic_path(output: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``output``; rename it into place only if the block succeeds.

    An exception, Ctrl-C or SIGTERM (turned into an exception by the CLI) leaves the old file intact
    and no temporary file behind. An existing target that is not a regular file (``-o /dev/null``,
    ``/dev/stdout``, a FIFO) cannot be replaced by a rename — that would swap the device for a file —
    so the finished temporary file is copied into it instead. A folder that cannot be written, a full
    disk or a closed pipe is a usage error naming the path, not a crash.
    """
    if _special_file(output):
        with _copied_into(output) as tmp:
            yield tmp
        return
    output = output.resolve()
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".wuxing-tmp", dir=output.parent)
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(output, exc) from None
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            if output.exists():
                with contextlib.suppress(OSError):
                    os.chmod(tmp, output.stat().st_mode & 0o777)
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, output)
        except OSError as exc:
            raise _cannot_write(output, exc) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _special_file(path: Path) -> bool:
    """An existing path that is neither a regular file nor a folder: a device, FIFO, socket or terminal."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


@contextlib.contextmanager
def _copied_into(output: Path) -> Iterator[Path]:
    """Build the output in the temporary folder, then copy it into the device or pipe ``output``."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix="wuxing-out-", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise _cannot_write(Path(tempfile.gettempdir()), exc) from None
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
            with open(tmp, "rb") as source, open(output, "wb") as target:
                shutil.copyfileobj(source, target)
        except OSError as exc:
            raise _cannot_write(output, exc) from None
    finally:
        tmp.unlink(missing_ok=True)


def _cannot_write(path: Path, exc: OSError) -> UsageError:
    return UsageError([Problem(f"cannot write '{path}': {exc.strerror or exc}", code=ProblemCode.OUTPUT_WRITE,
                               hint="check that the folder exists and is writable, and that the disk has space")])


def write_bytes(output: Path | None, data: bytes) -> None:
    """Write to ``output`` atomically, or to stdout when ``output`` is None or '-'."""
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with atomic_path(output) as tmp:
        tmp.write_bytes(data)


#: Pieces of a streamed output are collected up to about this many characters, then written at once.
_WRITE_BATCH = 1 << 20


def write_chunks(output: Path | None, chunks: Iterable[str]) -> None:
    """Write the UTF-8 text ``chunks`` as they come: to ``output`` atomically (the temporary file
    grows; the old file stays until the last piece is written), or to stdout when ``output`` is None
    or '-'. Memory holds about one batch of pieces, never the whole text."""
    if output is None or str(output) == "-":
        _write_batched(sys.stdout.buffer, chunks)
        sys.stdout.flush()
        return
    with atomic_path(output) as tmp, open(tmp, "wb") as handle:
        _write_batched(handle, chunks)


def _write_batched(handle: BinaryIO, chunks: Iterable[str]) -> None:
    batch: list[str] = []
    size = 0
    for chunk in chunks:
        batch.append(chunk)
        size += len(chunk)
        if size >= _WRITE_BATCH:
            handle.write("".join(batch).encode("utf-8"))
            batch.clear()
            size = 0
    if batch:
        handle.write("".join(batch).encode("utf-8"))


def write_with(output: Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` produce the file at a temporary path, then move it into place."""
    with atomic_path(output) as tmp:
        writer(tmp)
