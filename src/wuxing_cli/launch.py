"""The ``wuxing`` entry point: answers the commands whose output depends only on their inputs
(``--help``, ``--version``, ``validate`` of criteria files, ``score`` of a small file printed to
the terminal) without starting the CLI framework.

``wuxing --help``, ``wuxing validate criteria/*.yaml`` and ``wuxing score county.csv`` run in
editors and pre-commit hooks, again and again on the same files. Their output is a pure function
of: the program (version and source files), the arguments, the working directory (messages name
files relative to it), the files read (their bytes), and how the terminal renders (width,
colour, environment). ``score`` is cached only when it prints (no ``-o``, not ``--streaming``)
and its files are small (:data:`SCORE_MAX_INPUT`): a county or a township, not a province. The
first run goes through the CLI as usual and its output (stdout, stderr, exit code) is stored
under that key; later runs replay it in a few milliseconds,
without importing typer, pydantic or polars. Any change to a file, the program, the arguments or
the terminal is a different key. ``WUXING_NO_CACHE=1`` turns the cache off; it lives in
``$WUXING_CACHE_DIR``, else ``$XDG_CACHE_HOME/wuxing``, else ``~/.cache/wuxing``.

Everything else starts the CLI (:func:`wuxing_cli.cli.main`) directly.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import cache

#: Environment variables that change how help and messages are rendered.
_RENDERING_ENV = ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM", "COLORTERM", "TTY_COMPATIBLE",
                  "TTY_INTERACTIVE", "CLICOLOR", "CLICOLOR_FORCE", "LANG", "LC_ALL", "PYTHONIOENCODING",
                  "GITHUB_ACTIONS", "CI", "_TYPER_FORCE_DISABLE_TERMINAL")
_VALIDATE_FLAGS = {"-q", "--quiet"}
_VALIDATE_OPTIONS = {"-f", "--format", "-c", "--criteria"}
_SCORE_FLAGS = {"-q", "--quiet", "-v", "--verbose", "--strict", "--skip-invalid"}
_SCORE_OPTIONS = {"-c", "--criteria", "-f", "--format", "--by", "--near", "--lang", "--encoding", "--sheet",
                  "--period"}
_SCORE_TEXT_FORMATS = {"table", "csv", "json", "md"}
#: ``score`` is replayed only when its data and criteria files together are at most this big: the
#: cache is for the county file of a pre-commit hook or an analyst's repeated look, not for
#: national files.
SCORE_MAX_INPUT = 4 * 1024 * 1024
#: An answer (stdout and stderr) is stored only when at most this big.
MAX_STORED_OUTPUT = 16 * 1024 * 1024


def main() -> None:
    """Console-script entry point."""
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        from ._version import __version__

        sys.stdout.write(f"wuxing {__version__}\n")
        return
    key = _cache_key(argv)
    if key is not None and _replay(key):
        return
    from .cli import main as cli_main

    if key is None:
        cli_main()
        return
    _run_and_store(cli_main, key)


# ---------------------------------------------------------------------------------------------
# What can be cached


def _cache_key(argv: list[str]) -> str | None:
    """The key of a cacheable command line, or None."""
    if not cache.enabled() or any(k.startswith(("_WUXING", "_TYPER")) for k in os.environ):
        return None
    inputs = _inputs(argv)
    if inputs is None:
        return None
    try:
        if argv[:1] == ["score"] and sum(path.stat().st_size for path in inputs) > SCORE_MAX_INPUT:
            return None
        digest = hashlib.sha256()
        for part in (cache.program_fingerprint(), json.dumps([Path(sys.argv[0]).name, *argv]), os.getcwd(),
                     _terminal()):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        for path in inputs:
            digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None  # a file that cannot be read: let the CLI say so
    return digest.hexdigest()


def _inputs(argv: list[str]) -> list[Path] | None:
    """The files a cacheable command reads (none for help), or None when it is not cacheable."""
    if len(argv) <= 2 and (not argv or argv[-1] in ("--help", "-h")):
        return []  # wuxing, wuxing --help, wuxing COMMAND --help
    if argv[0] == "score":  # DATA, criteria files; text to stdout only
        parsed = _parse(argv[1:], _SCORE_FLAGS, _SCORE_OPTIONS, formats=_SCORE_TEXT_FORMATS)
        if parsed is None or len(parsed[0]) != 1:
            return None
        return [Path(parsed[0][0]), *_criteria_paths(parsed[1])]
    if argv[0] != "validate":
        return None
    parsed = _parse(argv[1:], _VALIDATE_FLAGS, _VALIDATE_OPTIONS)
    if parsed is None:
        return None
    return _criteria_paths([*parsed[0], *parsed[1]])


def _parse(args: list[str], flags: set[str], options: set[str],
           formats: set[str] | None = None) -> tuple[list[str], list[str]] | None:
    """The positional arguments and the ``-c`` criteria of a command line made only of these
    flags and options (each option with its value, ``-f`` one of ``formats`` if given), else None:
    anything else (``--data``, ``-o``, ``--streaming``, ``--opt=value`` …) is not a pure function
    of the files named, or is for the CLI to refuse."""
    positional: list[str] = []
    criteria: list[str] = []
    rest = iter(args)
    for arg in rest:
        if arg in flags:
            continue
        if arg in options:
            value = next(rest, None)
            if value is None:
                return None
            if arg in ("-c", "--criteria"):
                criteria.append(value)
            elif arg in ("-f", "--format") and formats is not None and value not in formats:
                return None  # xlsx, parquet: files, not text
            continue
        if arg.startswith("-"):
            return None
        positional.append(arg)
    return positional, criteria


def _criteria_paths(names: list[str]) -> list[Path]:
    """The files of the criteria named (file paths or built-in names; none: the built-in defaults)."""
    from .io.resources import DEFAULT_CRITERIA, builtin_criteria_path

    paths = []
    for name in names or DEFAULT_CRITERIA:
        path = Path(name)
        found = None if path.exists() else builtin_criteria_path(name)
        paths.append(found or path)
    return paths


# ---------------------------------------------------------------------------------------------
# The key's parts


def _terminal() -> str:
    streams = []
    for stream in (sys.stdout, sys.stderr):
        try:
            tty = stream.isatty()
            size = os.get_terminal_size(stream.fileno()) if tty else None
        except (AttributeError, OSError, ValueError):
            tty, size = False, None
        streams.append(f"{tty}:{size}")
    env = [f"{k}={os.environ.get(k)}" for k in _RENDERING_ENV]
    return "|".join(streams + env)


# ---------------------------------------------------------------------------------------------
# Storing and replaying


def _replay(key: str) -> bool:
    try:
        data = cache.read(f"{key}.json", trusted_only=True)  # printed as ours: only our own entries
        if data is None:
            return False
        entry = json.loads(data.decode("utf-8"))
        out = bytes.fromhex(entry["stdout"])
        err = bytes.fromhex(entry["stderr"])
        code = int(entry["code"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    sys.stdout.flush()
    sys.stdout.buffer.write(out)
    sys.stdout.buffer.flush()
    sys.stderr.flush()
    sys.stderr.buffer.write(err)
    sys.stderr.buffer.flush()
    if code:
        raise SystemExit(code)
    return True


class _Record(bytearray):
    """What a stream was given; ``failed`` once a write to the real stream failed."""

    failed = False

    def through(self, call: Any, *args: Any) -> Any:
        """``call(*args)`` on the real stream; a closed pipe (``| head``) or a failed flush marks
        the record as not the whole answer."""
        try:
            return call(*args)
        except OSError:
            self.failed = True
            raise


class _Tee(io.TextIOBase):
    """A text stream that also records, as bytes and in order, what is written to it."""

    def __init__(self, stream: Any, record: _Record) -> None:
        self._stream = stream
        self._record = record
        self.buffer = _TeeBytes(stream.buffer, record)

    def write(self, text: str) -> int:
        written = self._record.through(self._stream.write, text)
        self._record += text.encode(self._stream.encoding or "utf-8", self._stream.errors or "strict")
        return int(written)

    def flush(self) -> None:
        self._record.through(self._stream.flush)

    def isatty(self) -> bool:
        return bool(self._stream.isatty())

    def fileno(self) -> int:
        return int(self._stream.fileno())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(self._stream.encoding)

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _TeeBytes(io.RawIOBase):
    def __init__(self, stream: Any, record: _Record) -> None:
        self._stream = stream
        self._record = record

    def write(self, data: Any) -> int:
        written = int(self._record.through(self._stream.write, data))
        self._record += bytes(data)
        return written

    def flush(self) -> None:
        self._record.through(self._stream.flush)

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _run_and_store(cli_main: Any, key: str) -> None:
    # A progress display belongs to this run only: it is not part of the answer to replay.
    os.environ["WUXING_PROGRESS"] = "0"
    out, err = _Record(), _Record()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Tee(real_out, out), _Tee(real_err, err)
    code: int | str | None = 0
    try:
        cli_main()
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError):  # marked as failed: nothing is stored
                stream.flush()
        sys.stdout, sys.stderr = real_out, real_err
        whole = not out.failed and not err.failed and len(out) + len(err) <= MAX_STORED_OUTPUT
        if whole and isinstance(code, int | None) and (code or 0) in (0, 1, 2):  # not crashes or interruptions
            _store(key, bytes(out), bytes(err), code or 0)


def _store(key: str, out: bytes, err: bytes, code: int) -> None:
    cache.write(f"{key}.json", json.dumps({"stdout": out.hex(), "stderr": err.hex(), "code": code}).encode("utf-8"))
