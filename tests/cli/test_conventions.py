"""CLI conventions, checked in real subprocesses: no ANSI codes in pipes or with NO_COLOR, --version,
``-o -``, results on stdout and diagnostics on stderr, and a start-up that does not import polars."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wuxing_cli import __version__
from wuxing_cli.devtools.synth.table import synthesize
from wuxing_cli.io.criteria_loader import load_criteria

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HEAVY = ("polars", "numpy", "pyarrow", "fastexcel", "xlsxwriter", "jinja2")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE", "COLUMNS")}
    base.update({"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"}, **extra)
    return base


def wuxing(*args: str | Path, **extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "wuxing_cli", *map(str, args)], capture_output=True,
                          env=env(**extra), timeout=120)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("conventions") / "county.csv"
    synthesize([load_criteria("rural")], 25, 4, periods=("2024-Q4",)).write_csv(path)
    return path


def test_no_ansi_codes_when_piped(data: Path) -> None:
    for extra in ({}, {"NO_COLOR": "1"}):
        done = wuxing("score", data, "-c", "rural", "-f", "table", **extra)
        assert done.returncode == 0, done.stderr.decode()
        out = done.stdout.decode()
        assert "支部" in out or "branch" in out
        assert not ANSI.search(out), extra
        assert not ANSI.search(done.stderr.decode()), extra
    done = wuxing("--help")
    assert done.returncode == 0 and not ANSI.search(done.stdout.decode())


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_colour_on_a_terminal_with_no_color(data: Path) -> None:
    import pty

    def on_tty(**extra: str) -> str:
        leader, follower = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "wuxing_cli", "score", str(data), "-c", "rural"],
                                stdin=follower, stdout=follower, stderr=follower, env=env(**extra))
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
        os.close(leader)
        assert proc.returncode == 0
        return b"".join(chunks).decode("utf-8", "replace")

    assert ANSI.search(on_tty())  # a terminal gets styles (so the check below means something)
    assert not ANSI.search(on_tty(NO_COLOR="1"))


def test_version() -> None:
    for flag in ("--version", "-V"):
        done = wuxing(flag)
        assert done.returncode == 0
        assert done.stdout.decode() == f"wuxing {__version__}\n"
        assert done.stderr == b""


def test_dash_output_is_stdout(data: Path, tmp_path: Path) -> None:
    piped = wuxing("score", data, "-c", "rural", "-f", "csv", "-o", "-")
    assert piped.returncode == 0
    assert piped.stdout.decode().startswith("rank,branch_id,branch_name")
    assert not (Path.cwd() / "-").exists()
    written = tmp_path / "out.csv"
    assert wuxing("score", data, "-c", "rural", "-f", "csv", "-o", written).returncode == 0
    # a file gets a UTF-8 BOM (for Excel/WPS), stdout none (tests/cli/test_bom.py)
    assert written.read_bytes() == b"\xef\xbb\xbf" + piped.stdout
    assert piped.stdout == wuxing("score", data, "-c", "rural", "-f", "csv").stdout


def test_results_on_stdout_diagnostics_on_stderr(data: Path, tmp_path: Path) -> None:
    lines = data.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    column = next(i for i, h in enumerate(header) if h.endswith("(%)"))

    def with_cell(value: str) -> Path:
        cells = lines[1].split(",")
        cells[column] = value
        path = tmp_path / f"data-{len(value)}.csv"
        path.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n", encoding="utf-8")
        return path

    missing = wuxing("score", with_cell(""), "-c", "rural", "-f", "csv")
    assert missing.returncode == 0
    out, err = missing.stdout.decode(), missing.stderr.decode()
    assert out.startswith("rank,branch_id") and "warning" not in out
    assert "warning" in err and header[column] in err and ":2" in err
    assert len(out.splitlines()) == 26

    quiet = wuxing("score", with_cell(""), "-c", "rural", "-f", "csv", "-q")
    assert quiet.stderr == b"" and quiet.stdout == missing.stdout

    bad = wuxing("score", with_cell("很多"), "-c", "rural", "-f", "csv")
    assert bad.returncode == 1
    assert bad.stdout == b""
    err = bad.stderr.decode()
    assert "error" in err and ":2" in err and "很多" in err and "Traceback" not in err


def test_import_of_the_cli_does_not_import_heavy_modules() -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "from wuxing_cli.cli import app"],
                          capture_output=True, env=env(), timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.decode().splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "wuxing_cli" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("args", [["--help"], ["score", "--help"], ["validate", "rural"],
                                  ["validate", "rural", "community"]])
def test_help_and_validate_do_not_import_polars(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from wuxing_cli.cli import main\n"
        f"sys.argv = ['wuxing', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    status = exc.code or 0\nelse:\n    status = 0\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env(), timeout=60)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    assert "HEAVY=\n" in err, err


def test_every_command_module_is_registered() -> None:
    """Each module in wuxing_cli.cli that defines commands is imported by wuxing_cli.cli itself."""
    code = (
        "import importlib, pkgutil, typer.main\n"
        "import wuxing_cli.cli as cli\n"
        "before = set(typer.main.get_command(cli.app).commands)\n"
        "for m in pkgutil.iter_modules(cli.__path__):\n"
        "    importlib.import_module('wuxing_cli.cli.' + m.name)\n"
        "after = set(typer.main.get_command(cli.app).commands)\n"
        "print(' '.join(sorted(after - before)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env(), timeout=60)
    assert done.returncode == 0, done.stderr.decode()
    missing = done.stdout.decode().split()
    assert not missing, f"commands not registered in wuxing_cli/cli/__init__.py: {missing}"
