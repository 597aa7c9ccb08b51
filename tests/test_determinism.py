"""Determinism (issue 6 §7, SPEC §5): the same inputs give byte-identical outputs.

Every command and format is run twice in-process (byte-identical), in two fresh processes with
different ``PYTHONHASHSEED`` values (set and dict order cannot leak into an output), and on a copy of
the inputs whose rows are shuffled: sorted outputs are then identical too. The one exception is the
JSON ``warnings`` list, whose messages quote line numbers, which legitimately move with the rows.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import EXAMPLES, ROOT, invoke

INPUTS = {"Q3.csv": ("county-2024-Q3.csv", "gb18030"), "Q4.csv": ("county-2024-Q4.csv", "utf-8")}
BRANCH = "415556001002"

# (output file, arguments); every command and every file format it offers
COMMANDS: list[tuple[str, list[str]]] = [
    ("score.csv", ["score", "Q4.csv", "-f", "csv"]),
    ("score.json", ["score", "Q4.csv", "-f", "json", "--by", "township"]),
    ("score.md", ["score", "Q4.csv", "-f", "md"]),
    ("score.xlsx", ["score", "Q4.csv", "-f", "xlsx"]),
    ("score.parquet", ["score", "Q4.csv", "-f", "parquet"]),
    ("score.txt", ["score", "Q4.csv"]),
    ("rank.csv", ["rank", "Q4.csv", "--by", "township", "-f", "csv"]),
    ("rank-branches.csv", ["rank", "Q4.csv", "--by", "township", "-f", "csv", "--rows", "branches"]),
    ("rank.json", ["rank", "Q4.csv", "--by", "township", "-f", "json", "--previous", "Q3.csv"]),
    ("rank.md", ["rank", "Q4.csv", "--by", "township", "-f", "md", "--previous", "Q3.csv"]),
    ("rank.xlsx", ["rank", "Q4.csv", "--by", "county", "-f", "xlsx"]),
    ("rank.txt", ["rank", "Q4.csv", "--by", "township"]),
    ("diff.csv", ["diff", "Q3.csv", "Q4.csv", "-f", "csv"]),
    ("diff-groups.csv", ["diff", "Q3.csv", "Q4.csv", "-f", "csv", "--by", "township", "--rows", "groups"]),
    ("diff.json", ["diff", "Q3.csv", "Q4.csv", "-f", "json", "--by", "township"]),
    ("diff.md", ["diff", "Q3.csv", "Q4.csv", "-f", "md", "--all"]),
    ("diff-sources.json", ["diff", "Q3.csv", "Q4.csv", "--sources", "-f", "json"]),
    ("diff.txt", ["diff", "Q3.csv", "Q4.csv"]),
    ("explain.json", ["explain", "Q4.csv", "--branch", BRANCH, "-f", "json"]),
    ("explain.md", ["explain", "Q4.csv", "--branch", BRANCH, "-f", "md"]),
    ("explain.txt", ["explain", "Q4.csv", "--branch", BRANCH]),
    ("bulletin.md", ["bulletin", "Q4.csv", "--previous", "Q3.csv", "--area", "示范县"]),
    ("bulletin.html", ["bulletin", "Q4.csv", "--previous", "Q3.csv", "-f", "html"]),
    ("bulletin-en.md", ["bulletin", "Q4.csv", "--previous", "Q3.csv", "--lang", "en", "--by", "county"]),
]
IDS = [name for name, _ in COMMANDS]
SEEDED = {"score.json", "score.xlsx", "rank.json", "diff.json", "diff.md", "explain.json", "bulletin.md",
          "bulletin.html"}  # one of each command in the hash-seed test (two fresh processes)


ROWS = 120  # of the 320 in each example quarter: every status, level and township still occurs, and it is fast


def write_inputs(folder: Path, *, shuffle: int | None) -> None:
    """The example quarters (Q3 stays GB18030), with the data rows shuffled when ``shuffle`` is a seed."""
    folder.mkdir(parents=True)
    for name, (source, encoding) in INPUTS.items():
        header, *rows = (EXAMPLES / source).read_bytes().decode(encoding).splitlines(keepends=True)
        assert all(row.count('"') % 2 == 0 for row in rows), "a quoted line break would be cut"
        rows = rows[:ROWS] if name == "Q4.csv" else rows[10 : ROWS + 10]  # some new, some removed
        if shuffle is not None:
            random.Random(shuffle).shuffle(rows)
        (folder / name).write_bytes((header + "".join(rows)).encode(encoding))


def run_all(folder: Path, out: str, only: set[str] | None = None) -> dict[str, bytes]:
    """Run every command in ``folder`` (outputs under ``folder/out``); return the bytes of each output."""
    (folder / out).mkdir()
    results = {}
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        for name, args in COMMANDS:
            if only is not None and name not in only:
                continue
            result = invoke([*args, "-q", "-o", f"{out}/{name}"], env={"COLUMNS": "100"})
            assert result.exit_code == 0, f"{name}: {result.stderr}"
            results[name] = (folder / out / name).read_bytes()
    finally:
        os.chdir(cwd)
    return results


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    base = tmp_path_factory.mktemp("determinism")
    write_inputs(base / "plain", shuffle=None)
    write_inputs(base / "shuffled", shuffle=20240705)
    return {
        "first": run_all(base / "plain", "first"),
        "second": run_all(base / "plain", "second"),
        "shuffled": run_all(base / "shuffled", "out"),
    }


@pytest.mark.parametrize("name", IDS)
def test_two_runs_are_byte_identical(outputs: dict[str, dict[str, bytes]], name: str) -> None:
    assert outputs["first"][name], f"{name} is empty"
    assert outputs["first"][name] == outputs["second"][name]


@pytest.mark.parametrize("name", IDS)
def test_shuffled_rows_give_the_same_output(outputs: dict[str, dict[str, bytes]], name: str) -> None:
    plain, shuffled = outputs["first"][name], outputs["shuffled"][name]
    if name.endswith(".json"):
        a, b = json.loads(plain), json.loads(shuffled)
        assert (a.pop("warnings", None) is None) == (b.pop("warnings", None) is None)
        assert a == b
        return
    assert plain == shuffled


def test_outputs_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Two fresh processes with different PYTHONHASHSEED give the same bytes for every output."""
    write_inputs(tmp_path / "in", shuffle=None)
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        sys.path.insert(0, sys.argv[1])
        import tests.test_determinism as td
        td.run_all(Path(sys.argv[2]), sys.argv[3], td.SEEDED)
        """
    )
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script, str(ROOT), str(tmp_path / "in"), f"seed{seed}"],
                              capture_output=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr.decode()
    for name in sorted(SEEDED):
        one = (tmp_path / "in" / "seed1" / name).read_bytes()
        two = (tmp_path / "in" / "seed2" / name).read_bytes()
        assert one == two, f"{name} differs between hash seeds"
