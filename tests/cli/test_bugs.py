"""Bugs (issue 6 §8): an unexpected exception exits 3 with ONE line — it is a bug, where the full
traceback was written, how to report it — and never a traceback or a wall of locals on screen.

Faults are injected by monkeypatching an engine function: in-process through typer's CliRunner, and in
real subprocesses that patch the module before calling the console entry point (no test hook lives in
the production code).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import polars as pl
import pytest

import wuxing_cli.cli.common as common
from tests.support import CORPUS, SRC, invoke
from wuxing_cli.cli import app

DATA = str(CORPUS / "data" / "ok.csv")
BASE = str(CORPUS / "base.yaml")
SECRET = "local-variable-that-must-not-be-shown"
CRASH_LINE = re.compile(r"^wuxing: internal error \((?P<what>.*)\) — this is a bug in wuxing \S+, not in your "
                        r"files; the full traceback is in (?P<path>\S+wuxing-crash-\S+\.txt); please report it "
                        r"to the wuxing maintainers with that file and the command you ran\.$")

COMMANDS = {
    "score": ["score", DATA, "-c", BASE, "-f", "json"],
    "rank": ["rank", DATA, "-c", BASE, "--by", "township"],
    "diff": ["diff", DATA, DATA, "-c", BASE],
    "explain": ["explain", DATA, "-c", BASE, "--branch", "001"],
    "bulletin": ["bulletin", DATA, "-c", BASE],
}


def boom(*args: object, **kwargs: object) -> None:
    secret = SECRET  # a local that a "pretty" traceback with locals would print
    raise RuntimeError(f"injected fault\nsecond line of the message ({len(secret)})")


def check_one_line(stdout: str, stderr: str, exception: str = "RuntimeError") -> Path:
    """Exactly one line on stderr, matching the promise; nothing on stdout; the file holds the traceback."""
    assert stdout == "", stdout
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and SECRET not in stderr
    match = CRASH_LINE.match(lines[0])
    assert match, lines[0]
    assert match["what"].startswith(exception)
    crash = Path(match["path"])
    text = crash.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and exception in text
    assert "command: wuxing" in text
    assert SECRET not in text  # the traceback file has the stack, not the values of locals
    crash.unlink()
    return crash


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bug_in_the_engine_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    import wuxing_cli.pipeline.score as pipeline

    monkeypatch.setattr(pipeline, "score_assessment", boom)
    result = invoke(COMMANDS[command])
    assert result.exit_code == 3, result.stderr
    check_one_line(result.stdout, result.stderr)


def test_a_bug_in_validate_is_one_line_and_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    import wuxing_cli.io.criteria_loader as loader

    monkeypatch.setattr(loader, "check_criteria_text", boom)
    result = invoke(["validate", BASE])
    assert result.exit_code == 3
    check_one_line(result.stdout, result.stderr)


def test_a_polars_panic_is_a_bug_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyo3's PanicException derives from BaseException, not Exception: the funnel must still catch it."""
    import wuxing_cli.pipeline.score as pipeline

    def panic(*args: object, **kwargs: object) -> None:
        raise pl.exceptions.PanicException("index out of bounds: the len is 3 but the index is 7")

    monkeypatch.setattr(pipeline, "score_assessment", panic)
    result = invoke(COMMANDS["score"])
    assert result.exit_code == 3, (result.stderr, result.exception)
    check_one_line(result.stdout, result.stderr, "PanicException")


def test_running_out_of_memory_is_a_clear_error_not_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import wuxing_cli.pipeline.score as pipeline

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(pipeline, "score_assessment", exhausted)
    result = invoke(COMMANDS["score"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "out of memory" in result.stderr and "Traceback" not in result.stderr


def test_no_writable_temp_folder_still_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import wuxing_cli.pipeline.score as pipeline

    def no_temp(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pipeline, "score_assessment", boom)
    monkeypatch.setattr(tempfile, "mkstemp", no_temp)
    result = invoke(COMMANDS["score"])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1, result.stderr
    assert "this is a bug in wuxing" in result.stderr and "could not be saved (Permission denied)" in result.stderr


def test_every_command_goes_through_the_error_funnel() -> None:
    funnel = common.guarded(lambda: None).__code__
    for command in app.registered_commands:
        callback = command.callback
        assert callback is not None
        assert callback.__code__ is funnel, f"{callback.__name__} is not wrapped by @guarded"


def test_only_the_funnel_sets_exit_codes() -> None:
    """No command exits by itself: ``sys.exit`` and ``typer.Exit(code)`` appear only in the funnel
    (``guarded``) and the entry point's net (``main``); ``--version`` exits with no code."""
    import ast

    allowed = {("common.py", "guarded"), ("__init__.py", "main")}
    found = []
    for path in sorted((SRC / "wuxing_cli" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for top in tree.body:
            name = getattr(top, "name", "")
            if (path.name, name) in allowed:
                continue
            for node in ast.walk(top):
                if isinstance(node, ast.Call):
                    called = ast.unparse(node.func)
                    if called == "sys.exit" or (called == "typer.Exit" and (node.args or node.keywords)):
                        found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not found, found


SUBPROCESS = textwrap.dedent(
    """
    import sys
    import wuxing_cli.pipeline.score as pipeline

    def boom(*args, **kwargs):
        secret = "local-variable-that-must-not-be-shown"
        raise ZeroDivisionError("injected in a subprocess")

    pipeline.score_assessment = boom
    if sys.argv[1] == "--before-command":  # a fault before any command runs: typer building the CLI
        import typer.main
        def broken(*args, **kwargs):
            raise LookupError("injected while building the command line")
        typer.main.get_command = broken
        sys.argv[1:2] = []
    from wuxing_cli.cli import main
    sys.argv[0] = "wuxing"
    main()
    """
)


@pytest.mark.parametrize(("where", "exception"), [("--in-command", "ZeroDivisionError"),
                                                  ("--before-command", "LookupError")])
def test_a_bug_through_a_real_process_and_the_console_entry_point(tmp_path: Path, where: str,
                                                                   exception: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(SRC), TMPDIR=str(tmp_path), NO_COLOR="1")
    flag = [where] if where == "--before-command" else []
    done = subprocess.run([sys.executable, "-c", SUBPROCESS, *flag, "score", DATA, "-c", BASE],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    crash = check_one_line(done.stdout, done.stderr, exception)
    assert crash.parent == tmp_path  # written where the system keeps temporary files
