"""Shared CLI plumbing: option types, consoles, the error funnel and output destinations.

Only the CLI prints or exits. Heavy modules (polars, the engine, renderers) are imported inside
command bodies so that ``wuxing --help`` and ``wuxing validate`` start fast.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import io
import math
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, Protocol, TypeVar

import typer

from ..errors import Problem, ProblemCode, UsageError, WuxingError

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console, RenderableType

    from ..pipeline.score import LoadOptions
    from ..report.grid import Doc

P = ParamSpec("P")
R = TypeVar("R")

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class LangOpt(StrEnum):
    zh = "zh"
    en = "en"


CriteriaOpt = Annotated[
    list[str] | None,
    typer.Option("--criteria", "-c", help="Criteria file or built-in name (rural, community); repeatable. "
                 "Default: both built-ins, rows matched by branch_type.", show_default=False),
]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write here (atomically) instead of stdout; '-' is stdout.",
                 show_default=False),
]
LangOption = Annotated[LangOpt, typer.Option("--lang", help="Report language.")]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="Input CSV encoding (default: detect UTF-8/BOM/GB18030).",
                             show_default=False)
]
SheetOpt = Annotated[
    str | None, typer.Option("--sheet", help="Excel sheet name or 1-based number (default: first).",
                             show_default=False)
]
PeriodOpt = Annotated[
    str | None, typer.Option("--period", help="Use only this period when the file holds several.",
                             show_default=False)
]
NoBomOpt = Annotated[bool, typer.Option(
    "--no-bom", help="CSV written to a file (-o FILE) starts with a UTF-8 BOM so that Excel and WPS open it "
    "by double-click; --no-bom leaves it out (CSV on stdout never has one).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat missing values (empty cells) as errors.")]
SkipInvalidOpt = Annotated[
    bool, typer.Option("--skip-invalid", help="Reject invalid rows, score the rest and list the rejected rows.")
]
#: The data-loading options (SPEC §3), declared once: name → (option type, default).
_LOAD_OPTIONS: dict[str, tuple[Any, Any]] = {
    "encoding": (EncodingOpt, None),
    "sheet": (SheetOpt, None),
    "period": (PeriodOpt, None),
    "strict": (StrictOpt, False),
    "skip_invalid": (SkipInvalidOpt, False),
}


class LoadBuilder(Protocol):
    """Builds the pipeline's ``LoadOptions`` from a command's options; ``period`` overrides ``--period``
    (``load(period=previous_period)`` reads a second file with another period)."""

    def __call__(self, *, period: str | None = None) -> LoadOptions: ...


def load_options(*, encoding: str | None = None, sheet: str | None = None, period: str | None = None,
                 strict: bool = False, skip_invalid: bool = False) -> LoadOptions:
    """The one place a command's options become ``LoadOptions`` (imported here: it pulls in polars)."""
    from ..pipeline.score import LoadOptions

    return LoadOptions(encoding=encoding, sheet=sheet, period=period, strict=strict, skip_invalid=skip_invalid)


def data_options(*names: str) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command the data-loading options ``names`` (of encoding, sheet, period, strict, skip_invalid).

    The command declares one parameter ``load: LoadBuilder``; typer sees the options in its place (so
    ``--help`` lists them there, in the order given), and the command receives a :class:`LoadBuilder`
    holding their values: ``options = load()``.
    """
    unknown = [name for name in names if name not in _LOAD_OPTIONS]
    if unknown:
        raise ValueError(f"unknown data options: {unknown}")

    def decorate(func: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(func)
        params = [p for p in signature.parameters.values() if p.name != "load"]
        at = list(signature.parameters).index("load")
        # typer reads the annotations from this signature: evaluate the module's string annotations
        params = [p.replace(annotation=eval(p.annotation, func.__globals__) if isinstance(p.annotation, str)
                            else p.annotation) for p in params]
        added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=_LOAD_OPTIONS[name][0],
                                   default=_LOAD_OPTIONS[name][1]) for name in names]
        params[at:at] = added

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            given = {name: kwargs.pop(name, _LOAD_OPTIONS[name][1]) for name in names}
            return func(*args, load=functools.partial(load_options, **given), **kwargs)

        wrapper.__signature__ = signature.replace(parameters=params, return_annotation=inspect.Signature.empty)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate


def _near_points(value: float) -> float:
    """``--near`` is a number of points: finite and not negative (nan would silently list no near miss)."""
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"{value:g} is not a number of points (0 or more)")
    return value


NearOpt = Annotated[float, typer.Option("--near", help="Points from the pass mark that count as within reach.",
                                        callback=_near_points)]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print no warnings, only results and errors.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="List every warning (default: the first 10).")]
WARNINGS_SHOWN = 10
_FILE_WIDTH = 200  #: columns of a terminal document written to a file (-o report.txt)


def make_console(*, stderr: bool, width: int | None = None) -> Console:
    """A console that respects NO_COLOR and pipes (no ANSI codes when not a terminal)."""
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, no_color=no_color, highlight=False, soft_wrap=False, width=width,
                   color_system=None if no_color else "auto", emoji=False)


def report_problems(problems: Sequence[Problem], *, quiet: bool = False) -> None:
    """Print problems to stderr, one per line; warnings are hidden with ``--quiet``."""
    out = sys.stderr
    for problem in problems:
        if quiet and not problem.is_error:
            continue
        out.write(problem.format() + "\n")
    out.flush()


class _Interrupted:
    """Whether Ctrl-C was pressed: a library may turn the KeyboardInterrupt into an error of its own
    (pydantic building a validator raises SchemaError), which is still an interruption, not a bug."""

    pressed = False


def on_sigint(signum: int, frame: object) -> None:
    """The SIGINT handler of the command line: Python's own, remembering that it happened."""
    _Interrupted.pressed = True
    raise KeyboardInterrupt


class _Terminated(BaseException):
    """SIGTERM turned into an exception so that atomic writes clean up."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated()


def guarded(func: Callable[P, int | None]) -> Callable[P, None]:
    """The one error funnel, which alone decides exit codes: a command returns nothing (exit 0) or its
    exit status (``validate`` with invalid files: 1); user mistakes exit 1/2 with messages, bugs exit 3,
    Ctrl-C exits 130."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        previous = None
        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not in the main thread (e.g. some test runners)
            previous = None
        try:
            status = func(*args, **kwargs)
        except WuxingError as exc:
            report_problems(exc.problems)
            raise typer.Exit(exc.exit_code) from None
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            sys.stderr.write("interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except _Terminated:
            sys.stderr.write("terminated\n")
            raise typer.Exit(143) from None
        except BrokenPipeError:
            raise typer.Exit(EXIT_OK) from None
        except OSError as exc:
            status = output_failure(exc)
            if status is None:
                raise typer.Exit(_bug(exc)) from None
            raise typer.Exit(status) from None
        except MemoryError:
            sys.stderr.write("wuxing: error: out of memory — the input is too large for this computer; "
                             "split the file (e.g. by county) or use a machine with more memory\n")
            raise typer.Exit(EXIT_INVALID) from None
        except Exception as exc:  # the bug funnel: everything else is our fault
            if _Interrupted.pressed:  # a KeyboardInterrupt a library re-raised as its own error
                sys.stderr.write("interrupted\n")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            raise typer.Exit(_bug(exc)) from None
        except BaseException as exc:  # a Rust panic in polars (pyo3 PanicException) is a BaseException
            if isinstance(exc, SystemExit | GeneratorExit):
                raise
            raise typer.Exit(_bug(exc)) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        if status:
            raise typer.Exit(status)

    return wrapper


#: errno values that mean the output cannot be written (a full disk or device, a closed or broken stream).
_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EBADF, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EPIPE})


class _ClosedStdout(io.TextIOBase):
    """What ``sys.stdout`` is when wuxing starts with standard output closed (``wuxing score x.csv >&-``):
    writing to it fails as writing to a closed descriptor does, and the funnel says so."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    @property
    def buffer(self) -> _ClosedStdout:
        return self


def guard_stdout() -> None:
    """Give a closed standard output (``sys.stdout`` None) a stand-in whose writes fail cleanly."""
    if sys.stdout is None:
        sys.stdout = _ClosedStdout()


def output_failure(exc: OSError) -> int | None:
    """An error writing the output (``> /dev/full``, ``>&-``) as one line and exit 2; None for other errors."""
    if exc.errno not in _OUTPUT_ERRNOS:
        return None
    reason = exc.strerror or str(exc)
    with contextlib.suppress(OSError, ValueError):  # what is still buffered for stdout goes nowhere
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
    with contextlib.suppress(OSError, ValueError):
        hint = ("standard output is closed: run the command without '>&-', or write to a file with -o FILE"
                if exc.errno == errno.EBADF else "check the disk space, or write to a file with -o FILE")
        report_problems([Problem(f"cannot write output: {reason}", code=ProblemCode.OUTPUT_WRITE, hint=hint)])
    return EXIT_USAGE


def _bug(exc: BaseException) -> int:
    """Save the traceback to a file and print ONE line: it is a bug, where the traceback is, how to report it."""
    from .._version import __version__

    summary = " ".join(str(exc).split())  # a multi-line message stays on the one line
    summary = f"{type(exc).__name__}: {summary[:200]}" if summary else type(exc).__name__
    try:
        fd, path = tempfile.mkstemp(prefix="wuxing-crash-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"wuxing {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n")
            handle.write("command: wuxing " + " ".join(sys.argv[1:]) + "\n\n")
            traceback.print_exception(exc, file=handle)
        where = f"the full traceback is in {path}"
    except OSError as err:  # no writable temp folder: still one line, still no traceback on screen
        where = f"the traceback could not be saved ({err.strerror or err})"
    sys.stderr.write(
        f"wuxing: internal error ({summary}) — this is a bug in wuxing {__version__}, not in your files; "
        f"{where}; please report it to the wuxing maintainers with that file and the command you ran.\n"
    )
    return EXIT_BUG


def criteria_files(names: Sequence[str] | None) -> list[Path]:
    """The ``-c`` names that are files (not built-in names such as ``rural``): inputs ``-o`` must not overwrite."""
    return [Path(name) for name in names or () if Path(name).exists()]


class Output:
    """Where a command's result goes: stdout, or a file written atomically after rendering succeeded."""

    def __init__(self, path: Path | None, inputs: Sequence[Path] = (), *,
                 criteria: Sequence[str] | None = None, no_bom: bool = False) -> None:
        """``inputs``: the files read; ``criteria``: the ``-c`` names (those that are files are inputs too);
        ``no_bom``: ``--no-bom`` was given."""
        self.path = None if path is None or str(path) == "-" else path
        self.no_bom = no_bom
        self.inputs = [*inputs, *criteria_files(criteria)]
        if self.path is not None:
            from ..io.writers import check_output_path

            check_output_path(self.path, self.inputs)

    @property
    def is_stdout(self) -> bool:
        return self.path is None

    def text(self, text: str) -> None:
        from ..io.writers import write_bytes

        write_bytes(self.path, text.encode("utf-8"))

    def data(self, data: bytes) -> None:
        from ..io.writers import write_bytes

        write_bytes(self.path, data)

    @property
    def csv_bom(self) -> bool:
        """The one BOM rule of every CSV wuxing writes (SPEC §5): a CSV written to a file (``-o FILE``)
        starts with a UTF-8 BOM, so that Excel/WPS open it by double-click, unless ``--no-bom``; a CSV on
        stdout (no ``-o``, or ``-o -``) never has one, for pipes."""
        return self.path is not None and not self.no_bom

    def csv(self, frame: pl.DataFrame) -> None:
        """A table as CSV (:func:`~wuxing_cli.report.tabular.csv_bytes`), with a BOM by :attr:`csv_bom`."""
        from ..report.tabular import csv_bytes

        self.data(csv_bytes(frame, bom=self.csv_bom))

    def chunks(self, chunks: Iterable[str]) -> None:
        """Text written piece by piece as it is produced (large JSON documents)."""
        from ..io.writers import write_chunks

        write_chunks(self.path, chunks)

    def file(self, writer: Callable[[Path], None], fmt: str) -> None:
        """Binary formats (xlsx, parquet) need a real file."""
        if self.path is None:
            raise UsageError([Problem(f"-f {fmt} writes a binary file; give --output FILE", code=ProblemCode.NEEDS_OUTPUT)])
        from ..io.writers import write_with

        write_with(self.path, writer)

    def renderable(self, renderable: RenderableType | Doc) -> None:
        """A terminal document: to the terminal, or as plain text to a file.

        A :class:`~wuxing_cli.report.grid.Doc` that fits the width is written directly (what rich
        would print, without its layout cost); anything else is printed by rich.
        """
        from ..report.grid import Doc, render

        if self.path is None:
            console = make_console(stderr=False)
            if not console.is_terminal:  # a pipe: do not squeeze the table into 80 columns
                console.width = 160
            if isinstance(renderable, Doc):
                text = render(renderable, console.width, styled=console.color_system is not None)
                if text is not None:
                    console.file.write(text)
                    console.file.flush()
                    return
                renderable = renderable.rich()
            console.print(renderable)
            return
        if isinstance(renderable, Doc):
            text = render(renderable, _FILE_WIDTH, styled=False)
            if text is not None:
                self.text(text)
                return
            renderable = renderable.rich()
        from rich.console import Console

        console = Console(record=True, width=_FILE_WIDTH, file=open(os.devnull, "w"), color_system=None,  # noqa: SIM115
                          emoji=False)
        console.print(renderable)
        self.text(console.export_text())


def check_format(fmt: str, allowed: Sequence[str]) -> str:
    if fmt not in allowed:
        raise UsageError([Problem(f"unknown format '{fmt}'", code=ProblemCode.FORMAT, hint=f"use one of: {', '.join(allowed)}")])
    return fmt


def format_option(default: str, allowed: Sequence[str]) -> Any:
    return typer.Option(default, "--format", "-f", help=f"Output format: {', '.join(allowed)}.")


def print_warnings(warnings: Sequence[Problem], quiet: bool, verbose: bool = False) -> None:
    """Warnings to stderr: none with ``--quiet``, the first few by default, all with ``--verbose``."""
    if quiet or not warnings:
        return
    shown = list(warnings) if verbose else list(warnings)[:WARNINGS_SHOWN]
    report_problems(shown)
    if len(shown) < len(warnings):
        sys.stderr.write(f"… and {len(warnings) - len(shown)} more warnings (--verbose lists them all)\n")


class _Progress:
    """A transient spinner with the elapsed time on stderr, shown only once a step runs long."""

    def __init__(self, label: str, delay: float) -> None:
        import threading

        self._label = label
        self._started = time.monotonic()
        self._text = ""
        self._lock = threading.Lock()
        self._live: Any = None
        self._task: Any = None
        timer = threading.Timer(delay, self._start)
        timer.daemon = True
        self._timer: threading.Timer | None = timer
        timer.start()

    def __call__(self, text: str) -> None:
        """Name the current step (``reading``, ``scoring``, ``writing`` …)."""
        with self._lock:
            self._text = text
            if self._live is not None:
                self._live.update(self._task, description=self._description())

    def _description(self) -> str:
        return f"{self._label}: {self._text}" if self._text else self._label

    def _start(self) -> None:
        from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
        from rich.text import Text

        started = self._started

        class Elapsed(ProgressColumn):
            def render(self, task: Task) -> Text:
                return Text(f"{time.monotonic() - started:.0f} s", style="progress.elapsed")

        with self._lock:
            if self._timer is None:  # already closed
                return
            live = Progress(SpinnerColumn(), TextColumn("{task.description}"), Elapsed(),
                            console=make_console(stderr=True), transient=True,
                            redirect_stdout=False, redirect_stderr=False)
            self._task = live.add_task(self._description(), total=None)
            live.start()
            self._live = live

    def close(self) -> None:
        with self._lock:
            timer, self._timer = self._timer, None
            live, self._live = self._live, None
        if timer is not None:
            timer.cancel()
        if live is not None:
            live.stop()


def _no_progress(text: str) -> None:
    del text


@contextlib.contextmanager
def progress(label: str, *, delay: float = 1.0, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """Show a spinner on stderr while the block runs, if it runs longer than ``delay`` seconds.

    Yields a function naming the current step. Off (and rich not even imported) when stderr is
    not a terminal, so pipes, CI logs and tests see nothing; ``WUXING_PROGRESS=0`` turns it off too,
    ``WUXING_PROGRESS_DELAY=S`` changes the delay.
    Nothing else may write to the terminal inside the block (print warnings after it; pass
    ``enabled=False`` around output written to stdout).
    """
    if not enabled or not sys.stderr.isatty() or os.environ.get("WUXING_PROGRESS", "1") == "0":
        yield _no_progress
        return
    with contextlib.suppress(ValueError):  # WUXING_PROGRESS_DELAY: seconds before it appears
        delay = max(0.0, float(os.environ.get("WUXING_PROGRESS_DELAY", delay)))
    indicator = _Progress(label, delay)
    try:
        yield indicator
    finally:
        indicator.close()
