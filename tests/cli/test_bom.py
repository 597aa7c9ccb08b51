"""The one BOM rule of every CSV wuxing writes (SPEC §5, issue 21 point 4).

A CSV written to a file with ``-o FILE`` is UTF-8 with a BOM, so that Excel and WPS open it by
double-click on Chinese Windows; on stdout (no ``-o``, or ``-o -``) it has none, for pipes; ``--no-bom``
leaves it out of the file too. Apart from the BOM, the file holds exactly what stdout gets.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import EXAMPLES, check_golden, invoke

BOM = b"\xef\xbb\xbf"
Q3, Q4 = EXAMPLES / "county-2024-Q3.csv", EXAMPLES / "county-2024-Q4.csv"

#: Every command that writes CSV, as (name, arguments that make it write CSV).
COMMANDS: list[tuple[str, list[str | Path]]] = [
    ("score", ["score", Q4, "-f", "csv"]),
    ("score-streaming", ["score", Q4, "-f", "csv", "--streaming"]),
    ("rank", ["rank", Q4, "--by", "township", "-f", "csv"]),
    ("rank-branches", ["rank", Q4, "--by", "township", "-f", "csv", "--rows", "branches"]),
    ("diff", ["diff", Q3, Q4, "-f", "csv"]),
    ("merge", ["merge", Q4, "-f", "csv"]),
    ("template", ["template", "-c", "rural", "-f", "csv"]),
    ("history", ["history", EXAMPLES / "county-2024-Q1.csv", EXAMPLES / "county-2024-Q2.csv", "-f", "csv"]),
    ("incentives", ["incentives", Q4, "--rules", EXAMPLES / "incentives.yaml", "--people",
                    EXAMPLES / "people-2024.csv", "-f", "csv"]),
]


def _run(args: list[str | Path], *extra: str | Path) -> bytes:
    done = invoke([*args, "-q", *extra])
    assert done.exit_code == 0, done.stderr
    return done.stdout_bytes


@pytest.mark.parametrize("args", [c[1] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_csv_in_a_file_has_a_bom_and_stdout_has_none(args: list[str | Path], tmp_path: Path) -> None:
    piped = _run(args)
    assert piped and not piped.startswith(BOM)
    assert _run(args, "-o", "-") == piped  # '-o -' is stdout: no BOM either

    written = tmp_path / "结果.csv"
    assert _run(args, "-o", written) == b""
    data = written.read_bytes()
    assert data[:3] == BOM  # EF BB BF: Excel/WPS read the file as UTF-8
    assert data[3:] == piped  # once, and otherwise the very bytes of stdout
    assert not data[3:].startswith(BOM)

    plain = tmp_path / "plain.csv"
    _run(args, "-o", plain, "--no-bom")
    assert plain.read_bytes() == piped


def test_streaming_writes_the_bom_once_at_the_start(tmp_path: Path) -> None:
    """``score --streaming -o F`` writes the table chunk by chunk (here 6 chunks of 50 rows): the BOM
    comes once, before the header, and the file is byte for byte the normal run's."""
    streamed, eager = tmp_path / "stream.csv", tmp_path / "eager.csv"
    done = invoke(["score", Q4, "-f", "csv", "--streaming", "-q", "-o", streamed], env={"WUXING_SLICE_ROWS": "50"})
    assert done.exit_code == 0, done.stderr
    _run(["score", Q4, "-f", "csv"], "-o", eager)
    data = streamed.read_bytes()
    assert data.startswith(BOM + b"rank,branch_id,branch_name")
    assert data.count(BOM) == 1
    assert data == eager.read_bytes()


def test_golden_first_line_of_score_csv_file(tmp_path: Path) -> None:
    """The bytes a double-click sees first: the BOM, then the SPEC's keys (``--lang`` does not change them)."""
    for lang in ("zh", "en"):
        written = tmp_path / f"{lang}.csv"
        _run(["score", Q4, "-f", "csv", "--lang", lang], "-o", written)
        head = written.read_bytes().split(b"\n", 1)[0] + b"\n"
        assert head.startswith(BOM)
        check_golden("score/county-Q4-file-head.csv", head.decode("utf-8"))


def test_merged_csv_with_a_bom_reads_back(tmp_path: Path) -> None:
    """What ``merge -o`` writes (with its BOM) is read by ``score``, normally and ``--streaming``, as the
    original: the BOM is not part of the first header."""
    merged = tmp_path / "汇总.csv"
    _run(["merge", Q4], "-o", merged)
    assert merged.read_bytes().startswith(BOM)
    original = _run(["score", Q4, "-f", "csv"])
    assert _run(["score", merged, "-f", "csv"]) == original
    assert _run(["score", merged, "-f", "csv", "--streaming"]) == original
    # a pre-filled form written by ``template -o`` (BOM) merges as any returned form does
    form = tmp_path / "自评表.csv"
    _run(["template", "-c", "rural", "--branches", Q4, "--period", "2024-Q4", "-f", "csv"], "-o", form)
    assert form.read_bytes().startswith(BOM)
    stacked = _run(["merge", form, "-c", "rural"])
    assert stacked.startswith("支部编码,支部名称,县区,乡镇,类型,期间,".encode())


def test_no_bom_is_in_the_help_of_every_csv_command() -> None:
    for name in ("score", "rank", "diff", "merge", "template", "history", "incentives"):
        done = invoke([name, "--help"], env={"COLUMNS": "200", "WUXING_LANG": "en"})
        assert done.exit_code == 0
        assert "--no-bom" in done.stdout, name
