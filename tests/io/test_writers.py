"""Atomic writes, refusing to overwrite inputs, and spreadsheet-formula neutralisation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import polars as pl
import pytest

from tests.support import SRC
from wuxing_cli.errors import UsageError
from wuxing_cli.io.writers import atomic_path, check_output_path, neutralise, write_bytes, write_with
from wuxing_cli.report.tabular import csv_bytes
from wuxing_cli.report.xlsx import Col, Kind, Sheet, write_workbook


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    write_bytes(target, b"new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_output_may_not_be_an_input_or_in_a_missing_folder(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x")
    with pytest.raises(UsageError, match="refusing to overwrite the input file"):
        check_output_path(data, [data])
    with pytest.raises(UsageError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "out.csv", [data])
    check_output_path(tmp_path / "out.csv", [data])


def test_neutralise_formula_cells_only_in_text_columns() -> None:
    frame = pl.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "正常"],
                          "points": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0]})
    out = neutralise(frame)
    assert out["name"].to_list() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "正常"]
    assert out["points"].to_list() == frame["points"].to_list()
    assert b"'=HYPERLINK" in csv_bytes(frame)


def test_xlsx_writes_formula_like_text_as_text(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "x.xlsx"
    write_workbook(path, [Sheet("score", [Col("branch_name"), Col("n", Kind.int)],
                                [["=HYPERLINK(\"http://evil\",\"点我\")"], [1]])], "zh")
    cell = openpyxl.load_workbook(path)["score"]["A2"]
    assert cell.data_type == "s"
    assert cell.value == "=HYPERLINK(\"http://evil\",\"点我\")"


def test_xlsx_is_deterministic(tmp_path: Path) -> None:
    sheets = [Sheet("s", [Col("a"), Col("b", Kind.points)], [["x", "y"], [1.5, 2.0]])]
    write_workbook(tmp_path / "1.xlsx", sheets, "zh")
    write_workbook(tmp_path / "2.xlsx", sheets, "zh")
    assert (tmp_path / "1.xlsx").read_bytes() == (tmp_path / "2.xlsx").read_bytes()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_write_keeps_old_file_and_no_litter(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "big.csv"
    target.write_text("old content")
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from wuxing_cli.cli.common import guarded
        from wuxing_cli.io.writers import atomic_path

        @guarded
        def run():
            with atomic_path(Path({str(target)!r})) as tmp:
                with open(tmp, "w") as handle:
                    handle.write("partial")
                    handle.flush()
                    print("writing", flush=True)
                    time.sleep(30)

        try:
            run()
        except BaseException as exc:  # typer.Exit carries the code
            sys.exit(getattr(exc, "exit_code", 99))
        """
    )
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"writing"
    time.sleep(0.2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143)
    assert b"Traceback" not in err
    assert target.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_cli_run_keeps_old_output_and_no_litter(tmp_path: Path, sig: int) -> None:
    """A real `wuxing score -f xlsx -o` interrupted while it writes a large workbook (issue 6 §4).

    The signal is sent once the temporary file exists beside the target, i.e. during the write.
    """
    env = dict(os.environ, PYTHONPATH=str(SRC), NO_COLOR="1")
    wuxing = [sys.executable, "-m", "wuxing_cli"]
    subprocess.run([*wuxing, "synth", "-n", "15000", "--seed", "5", "-o", "big.csv"], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=120)
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old workbook")
    proc = subprocess.Popen([*wuxing, "score", "big.csv", "-f", "xlsx", "-o", "out.xlsx", "-q"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.xlsx.*.wuxing-tmp")):
        assert proc.poll() is None, "the run ended before it started writing: make the input larger"
        assert time.monotonic() < deadline, "no temporary file appeared"
        time.sleep(0.01)
    time.sleep(0.2)  # well inside the write (it takes seconds)
    assert proc.poll() is None, "the write finished before the signal: make the input larger"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert b"Traceback" not in err and out == b""
    assert err.decode().strip() == ("interrupted" if sig == signal.SIGINT else "terminated")
    assert target.read_bytes() == b"old workbook"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "out.xlsx"]


def test_a_device_or_pipe_target_is_written_into_not_replaced(tmp_path: Path) -> None:
    """`-o /dev/null` must not swap the device for a regular file (as root it could); a FIFO gets the bytes."""
    import stat
    import threading

    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null")
    write_bytes(Path("/dev/null"), b"discarded")
    write_with(Path("/dev/null"), lambda path: path.write_bytes(b"workbook"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_bytes(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_an_unwritable_folder_or_a_full_disk_is_a_usage_error(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import tempfile

    target = tmp_path / "out.csv"
    target.write_text("old")

    def full(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(UsageError, match="No space left on device"):
        write_with(target, full)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    if Path("/dev/full").exists():
        with pytest.raises(UsageError, match="cannot write '/dev/full'"):
            write_bytes(Path("/dev/full"), b"x" * 100_000)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(UsageError, match="Permission denied"):
        write_bytes(target, b"new")
    assert target.read_text() == "old"
