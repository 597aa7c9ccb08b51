"""The ``wuxing`` command line: a thin typer layer over the library."""

from __future__ import annotations

import sys

try:  # Ctrl-C while the modules load (before any command runs): one word and 130, not a traceback
    import typer

    from .._version import __version__
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    raise SystemExit(130) from None

app = typer.Typer(
    name="wuxing",
    help="Score, rank and report Henan's \"五星\"支部 (five-star party branch) assessments.\n\n"
    "Criteria are YAML files (built-ins: rural, community); data are CSV or Excel files, one row per branch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"wuxing {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", "-V", callback=_version, is_eager=True,
                                 help="Show the version and exit."),
) -> None:
    """wuxing: 河南"五星"支部评星、排名与通报工具."""


# Command modules register themselves on `app` when imported.
try:
    from . import analysis, bulletin, core, forms, history, tools  # noqa: F401
except KeyboardInterrupt:
    sys.stderr.write("interrupted\n")
    raise SystemExit(130) from None


def _app_for(args: list[str]) -> typer.Typer:
    """The app with only the command being run, when its name comes first.

    typer builds every command's options (evaluating their type hints) before it runs one; a command
    never sees its siblings, so building just the one it runs gives the same parsing, help and errors,
    and a faster start. Anything else (``--help``, ``--version``, a mistyped command) gets the whole app.
    """
    if args:
        import copy

        from typer.main import get_command_name

        chosen = [c for c in app.registered_commands
                  if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == args[0]]
        if chosen:
            one = copy.copy(app)
            one.registered_commands = chosen
            return one
    return app


def main() -> None:
    """Console-script entry point.

    Commands funnel their own errors (``cli.common.guarded``); this net catches what escapes before a
    command runs (option parsing, imports), so that even then a bug is one line, not a traceback.
    """
    import signal

    from .common import EXIT_INTERRUPTED, _bug, _Interrupted, guard_stdout, on_sigint, output_failure

    guard_stdout()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_sigint)
    try:
        try:
            _app_for(sys.argv[1:])()
        finally:
            sys.stdout.flush()  # what is still buffered fails here, not in the interpreter's last flush
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except OSError as exc:
        status = output_failure(exc)
        sys.exit(status if status is not None else _bug(exc))
    except Exception as exc:
        if _Interrupted.pressed:
            sys.stderr.write("interrupted\n")
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(_bug(exc))
