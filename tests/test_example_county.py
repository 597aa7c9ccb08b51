"""Golden files on the shipped example county: bulletin (md/html, with and without --previous), rank, explain."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wuxing_cli.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "golden" / "example"
UPDATE = os.environ.get("WUXING_UPDATE_GOLDEN") == "1"

runner = CliRunner()

Q3 = str(EXAMPLES / "county-2024-Q3.csv")
Q4 = str(EXAMPLES / "county-2024-Q4.csv")

CASES = {
    "bulletin.md": ["bulletin", Q4],
    "bulletin-prev.md": ["bulletin", Q4, "--previous", Q3],
    "bulletin.html": ["bulletin", Q4, "-f", "html"],
    "bulletin-prev.html": ["bulletin", Q4, "--previous", Q3, "-f", "html"],
    "bulletin-prev.en.md": ["bulletin", Q4, "--previous", Q3, "--lang", "en"],
    "rank-prev.md": ["rank", Q4, "--by", "township", "--previous", Q3, "-f", "md"],
    "diff.json": ["diff", Q3, Q4, "-f", "json"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_county_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in data-quality notes are shown relative to the working folder
    args = [a.replace(str(ROOT) + os.sep, "") for a in CASES[name]]
    result = runner.invoke(app, [*args, "-q"])
    assert result.exit_code == 0, result.stderr
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.stdout, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {path} was missing and has been written; check it in")
    assert result.stdout == path.read_text(encoding="utf-8"), f"{name} differs; WUXING_UPDATE_GOLDEN=1 accepts it"


def test_bulletin_names_the_example_county_and_quarter() -> None:
    result = runner.invoke(app, ["bulletin", Q4, "--previous", Q3, "-q"])
    assert result.exit_code == 0
    head = result.stdout.splitlines()[0]
    assert "示例县" in head and "2024年第四季度" in head
