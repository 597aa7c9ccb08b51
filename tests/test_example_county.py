"""Golden files on the shipped example county: bulletin (md/html, with and without --previous), rank, explain."""

from __future__ import annotations

import os

import pytest

from tests.support import EXAMPLES, ROOT, check_golden, invoke

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
    result = invoke([*args, "-q"])
    assert result.exit_code == 0, result.stderr
    check_golden(f"example/{name}", result.stdout)


def test_bulletin_names_the_example_county_and_quarter() -> None:
    result = invoke(["bulletin", Q4, "--previous", Q3, "-q"])
    assert result.exit_code == 0
    head = result.stdout.splitlines()[0]
    assert "示例县" in head and "2024年第四季度" in head
