"""Issue 20, point 19: ``rank -f md`` and ``diff -f md`` are written piece by piece (the same bytes as
one joined string), and the xlsx reports are written row by row (xlsxwriter's constant_memory)."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

from tests.support import EXAMPLES, invoke
from wuxing_cli.report.tabular import ending_in_one_newline

Q4, Q3 = EXAMPLES / "county-2024-Q4.csv", EXAMPLES / "county-2024-Q3.csv"


def test_ending_in_one_newline_gives_the_bytes_of_the_joined_string() -> None:
    rng = random.Random(20)
    for _ in range(500):
        pieces = ["".join(rng.choice(["a", "\n", "|", "b\n"]) for _ in range(rng.randint(0, 4)))
                  for _ in range(rng.randint(0, 6))]
        assert "".join(ending_in_one_newline(pieces)) == "".join(pieces).rstrip("\n") + "\n"


def test_rank_and_diff_markdown_come_in_pieces() -> None:
    from wuxing_cli.report import diff, rank

    assert rank.rank_markdown_chunks and diff.diff_markdown_chunks  # the CLI writes these with Output.chunks
    for args in (["rank", str(Q4), "--by", "township", "-f", "md"],
                 ["diff", str(Q3), str(Q4), "--all", "-f", "md"]):
        result = invoke(args)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.endswith(" |\n") and not result.stdout.endswith("\n\n")


def test_xlsx_reports_are_written_row_by_row(tmp_path: Path) -> None:
    """constant_memory: strings are stored inline, there is no shared-strings table held in memory."""
    out = tmp_path / "s.xlsx"
    assert invoke(["score", str(Q4), "-f", "xlsx", "-o", str(out), "-q"]).exit_code == 0
    with zipfile.ZipFile(out) as book:
        assert "xl/sharedStrings.xml" not in book.namelist()
        assert 't="inlineStr"' in book.read("xl/worksheets/sheet1.xml").decode("utf-8")
