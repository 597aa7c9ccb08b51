"""The bad-input corpus (issue 6 §1): one parametrised test runs every case of tests/corpus/cases*.yaml
(cases.yaml, and one cases-<topic>.yaml per topic, e.g. cases-sheets.yaml).

Each case is a command run in a copy of tests/corpus/. It must exit with the expected code (1 for bad
criteria or data, 2 for usage), print no traceback and no "internal error", print every expected
message fragment (and, for ``lines``, each group of fragments within one output line), report exactly
``errors`` problems when that is given, write nothing to stdout (no partial output; ``validate``'s
report excepted) and leave the folder exactly as it was (no output file, no temporary litter).

Cases run in-process through typer's CliRunner; ``WUXING_CORPUS_SUBPROCESS=1`` runs each one as a real
``python -m wuxing_cli`` subprocess instead. How to add a case: docs/robustness.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import CORPUS, invoke

CASES: list[dict[str, Any]] = [
    case
    for manifest in sorted(CORPUS.glob("cases*.yaml"))
    for case in yaml.safe_load(manifest.read_text(encoding="utf-8"))["cases"]
]
SUBPROCESS = os.environ.get("WUXING_CORPUS_SUBPROCESS") == "1"
ERROR_LINE = re.compile(r"(^|: )error: ")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the corpus: a case that wrongly wrote a file cannot damage the repository."""
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    env = {"NO_COLOR": "1", "COLUMNS": "100", "WUXING_LANG": "", "LC_ALL": "C.UTF-8"}
    if SUBPROCESS:
        done = subprocess.run([sys.executable, "-m", "wuxing_cli", *args], cwd=cwd, capture_output=True,
                              env={**os.environ, **env}, timeout=120)
        return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    monkeypatch.chdir(cwd)
    result = invoke(args, env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # escaped the error funnel: show it as the failure
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_corpus_case(case: dict[str, Any], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(workdir)
    code, out, err = run(case["args"], workdir, monkeypatch)
    text = out + err
    shown = f"$ wuxing {' '.join(case['args'])}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in text, shown
    assert "internal error" not in text, shown
    assert code == case["exit"], shown
    assert code in (1, 2), shown
    for fragment in case.get("expect", []):
        assert fragment in text, f"missing {fragment!r}\n{shown}"
    lines = text.splitlines()
    for group in case.get("lines", []):
        assert any(all(f in line for f in group) for line in lines), f"no line holds all of {group!r}\n{shown}"
    if "errors" in case:
        reported = [line for line in lines if ERROR_LINE.search(line)]
        assert len(reported) == case["errors"], f"expected {case['errors']} errors, got {len(reported)}\n{shown}"
    if case["args"][0] != "validate":
        assert out == "", f"a failed run printed a result\n{shown}"
    assert snapshot(workdir) == before, f"the run changed or left files in the folder\n{shown}"


def test_corpus_is_large_and_ids_are_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1]
    for case in CASES:
        assert set(case) <= {"id", "about", "args", "exit", "expect", "lines", "errors"}, case["id"]
        assert case["exit"] in (1, 2), case["id"]
        assert case.get("expect") or case.get("lines"), f"{case['id']} checks no message"


def test_every_corpus_file_is_used_by_a_case() -> None:
    used = {arg for c in CASES for arg in c["args"]}
    used |= {"data/ok.xlsx", "data/gbk.csv", "data/mixed-types.csv", "data/missing-values.csv"}  # controls below
    files = {p.relative_to(CORPUS).as_posix() for d in ("criteria", "data") for p in (CORPUS / d).iterdir()}
    assert sorted(files - used) == [], "corpus files that no case reads"


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "base.yaml", "base-community.yaml"],
        ["score", "data/ok.csv", "-c", "base.yaml", "-f", "csv"],
        ["score", "data/ok.xlsx", "-c", "base.yaml", "-f", "csv"],
        ["score", "data/gbk.csv", "-c", "base.yaml", "-f", "csv"],
        ["score", "data/mixed-types.csv", "-c", "base.yaml", "-c", "base-community.yaml", "-f", "csv"],
        ["score", "data/periods.csv", "-c", "base.yaml", "--period", "2024-Q2", "-f", "csv"],
        ["score", "data/missing-values.csv", "-c", "base.yaml", "-f", "csv"],
        ["score", "data/many-bad-cells.csv", "-c", "base.yaml", "--skip-invalid", "-f", "json"],
    ],
    ids=lambda a: " ".join(a),
)
def test_corpus_controls_are_valid(args: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference files the cases damage are themselves fine, so each case fails for its own reason."""
    code, out, err = run(args, workdir, monkeypatch)
    assert code == 0, err
    assert out


STREAMABLE = [c for c in CASES if c["args"][0] == "score" and "-o" not in c["args"] and "--streaming" not in c["args"]]


@pytest.mark.parametrize("case", STREAMABLE, ids=[c["id"] for c in STREAMABLE])
def test_corpus_case_with_streaming_reports_the_same(case: dict[str, Any], workdir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """`score --streaming` reads files in slices by the same code: the same exit code and messages."""
    code, out, err = run(case["args"], workdir, monkeypatch)
    streamed = run([*case["args"], "--streaming"], workdir, monkeypatch)
    assert streamed == (code, out, err), f"$ wuxing {' '.join(case['args'])} --streaming\n{streamed[2]}"
