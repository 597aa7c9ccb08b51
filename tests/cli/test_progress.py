"""The progress spinner: on stderr when it is a terminal and a run is slow, never in pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import ROOT, WIDE
from wuxing_cli.cli import common


class _TTY:
    """A stand-in stderr that is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def fileno(self) -> int:
        raise OSError("no descriptor")


def test_spinner_shows_the_step_on_a_terminal_after_the_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("WUXING_PROGRESS", raising=False)
    with common.progress("wuxing rank big.csv", delay=0.05) as step:
        step("reading and scoring")
        time.sleep(0.6)
    shown = "".join(tty.parts)
    assert "wuxing rank big.csv: reading and scoring" in shown


def test_no_spinner_when_quick_or_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    tty = _TTY()
    monkeypatch.setattr(sys, "stderr", tty)
    with common.progress("wuxing score x.csv", delay=5) as step:
        step("reading")
    assert "".join(tty.parts) == ""  # finished before the delay
    monkeypatch.setenv("WUXING_PROGRESS", "0")
    with common.progress("wuxing score x.csv", delay=0) as step:
        step("reading")
        time.sleep(0.2)
    assert "".join(tty.parts) == ""


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_real_command_on_a_pseudo_terminal_shows_the_spinner(tmp_path: Path) -> None:
    """A real `wuxing rank` with stderr on a pty: the spinner appears once a step passes the delay."""
    data = tmp_path / "big.csv"
    result = subprocess.run([sys.executable, "-m", "wuxing_cli", "synth", "-c", str(WIDE), "-n", "30000", "--seed",
                             "3", "-o", str(data)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "WUXING_PROGRESS")}
    env.update(TERM="xterm", COLUMNS="120", WUXING_PROGRESS_DELAY="0.2")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "wuxing_cli", "rank", str(data), "-c", str(WIDE), "--previous", str(data),
                             "-q", "-f", "csv", "-o", str(tmp_path / "rank.csv")], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0
    if time.monotonic() - started < 0.8:
        pytest.skip("the run was too quick to show the spinner on this machine")
    assert b"wuxing rank big.csv: reading and scoring" in seen
