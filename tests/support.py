"""Paths and helpers shared by the tests.

A plain module rather than fixtures because parametrize lists and module constants use these names at
import time. ``invoke`` is the one way to run the CLI in-process (typer's runner) and ``check_golden``
the one golden-file comparison: ``WUXING_UPDATE_GOLDEN=1 pytest`` rewrites the golden files instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
EXAMPLES = ROOT / "examples"
CRITERIA_DIR = ROOT / "criteria"  # the built-in criteria files
WIDE = ROOT / "benchmarks" / "criteria-wide.yaml"  # 125 indicators
TESTS = ROOT / "tests"
CORPUS = TESTS / "corpus"
GOLDEN = TESTS / "golden"
ASSETS = TESTS / "assets" / "data"

_RUNNER = CliRunner()


def invoke(args: Sequence[str | Path], **kwargs: Any) -> Result:
    """Run ``wuxing ARGS`` in-process; keyword arguments go to ``CliRunner.invoke`` (env, input, …)."""
    from wuxing_cli.cli import app  # imported late: importing this module must stay cheap

    return _RUNNER.invoke(app, [str(a) for a in args], **kwargs)


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/<name>``; with ``WUXING_UPDATE_GOLDEN=1``, write it instead."""
    path = GOLDEN / name
    if os.environ.get("WUXING_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"missing golden file {path}; run with WUXING_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; WUXING_UPDATE_GOLDEN=1 accepts the change"
