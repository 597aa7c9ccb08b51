"""Every example shown in ``--help`` and in the README runs (issue 19 §6).

The examples are read from what users see: each command's ``--help`` as typer's runner prints it,
and the README's code blocks (``wuxing …`` in shell blocks, ``$ wuxing …`` in output blocks). Each
runs in a workspace where ``examples/``, ``criteria/`` and ``benchmarks/`` are the repository's, and
the placeholder files the help texts name (``data.csv``, ``自评表.xlsx``, ``2024Q3.csv`` …) are made
from the example county, so every example must exit 0. Outputs land in the workspace.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
from pathlib import Path

import polars as pl
import pytest
import typer.main

from tests.support import CRITERIA_DIR, EXAMPLES, ROOT, invoke
from wuxing_cli.cli import app

#: the one example too large for a test: the same command, fewer rows
SCALED = {"-n 1000000": "-n 2000"}
REMARK = re.compile(r"\s+#.*$|\s{2,}\(.*\)$")  # a trailing shell comment or "   (one file per period)"


def _command_line(text: str) -> str:
    line = REMARK.sub("", text.strip())
    for big, small in SCALED.items():
        line = line.replace(big, small)
    return line


def help_examples() -> list[tuple[str, str]]:
    """(command, example) for every ``wuxing …`` line under Example(s): in each command's --help."""
    found = []
    for name in sorted(typer.main.get_command(app).commands):  # type: ignore[attr-defined]
        result = invoke([name, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        in_examples = False
        for line in result.output.splitlines():
            text = line.strip()
            if text in ("Example:", "Examples:"):
                in_examples = True
            elif text.startswith(("╭", "Usage:")):
                in_examples = False
            elif in_examples and text.startswith("wuxing "):
                found.append((f"help {name}", _command_line(text)))
    return found


def readme_examples() -> list[tuple[str, str]]:
    """Every ``wuxing …`` command in the README's code blocks."""
    found = []
    in_block = False
    for number, line in enumerate((ROOT / "README.md").read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        for part in line.split("&&"):
            text = part.strip().removeprefix("$ ")
            if re.match(r"(\S*/)?wuxing ", text):
                found.append((f"README.md:{number}", _command_line(re.sub(r"^\S*/wuxing ", "wuxing ", text))))
    return found


EXAMPLE_LINES = help_examples() + readme_examples()


def _xlsx(frame: pl.DataFrame, path: Path) -> None:
    frame.write_excel(path, autofit=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every file the examples name."""
    root = tmp_path_factory.mktemp("examples")
    for name in ("examples", "criteria", "benchmarks"):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    (root / "schema").mkdir()  # wuxing schema -o schema/criteria.schema.json writes here, not into the repo
    read = {"infer_schema": False}
    q4 = pl.read_csv(EXAMPLES / "county-2024-Q4.csv", **read)
    rural = q4.filter(pl.col("类型") == "农村")
    people = pl.read_csv(EXAMPLES / "people-2024.csv", **read).drop("支部名称")
    for quarter in range(1, 5):
        shutil.copy(EXAMPLES / f"county-2024-Q{quarter}.csv", root / f"2024Q{quarter}.csv")
    shutil.copy(EXAMPLES / "county-2024.csv", root / "all.csv")
    _xlsx(pl.read_csv(EXAMPLES / "county-2024.csv", **read), root / "all.xlsx")
    rural.write_csv(root / "data.csv")  # one branch type, so that one criteria file (-c FILE) fits it
    _xlsx(rural, root / "自评表.xlsx")
    _xlsx(q4, root / "自评.xlsx")
    _xlsx(q4, root / "复核.xlsx")
    _xlsx(rural.join(people, on="支部编码", how="left"), root / "2025Q1.xlsx")
    _xlsx(rural.select("支部编码", "支部名称", "县区", "乡镇", "类型"), root / "支部名单.xlsx")
    shutil.copy(EXAMPLES / "incentives.yaml", root / "奖补.yaml")
    rules = (CRITERIA_DIR / "rural.yaml").read_text(encoding="utf-8")
    (root / "criteria-2024.yaml").write_text(rules, encoding="utf-8")
    (root / "criteria-2023.yaml").write_text(rules.replace('version: "2024"', 'version: "2023"', 1), encoding="utf-8")
    townships = sorted(set(q4["乡镇"].to_list()))
    (root / "规划.csv").write_text("乡镇,五星,四星,三星\n" + "".join(f"{t},1,2,3\n" for t in townships),
                                 encoding="utf-8")
    (root / "2025年报表").mkdir()
    for quarter in range(1, 5):
        shutil.copy(EXAMPLES / f"county-2024-Q{quarter}.csv", root / "2025年报表" / f"2025-Q{quarter}.csv")
    # filled-in forms: the county's rows split into a few files, as branches return them
    halves = [q4.slice(0, 160), q4.slice(160)]
    for folder in (root / "submissions", root / "提交" / "2024-Q4"):
        folder.mkdir(parents=True)
        halves[0].write_csv(folder / "part-1.csv")
        _xlsx(halves[1], folder / "part-2.xlsx")
    _xlsx(q4.slice(0, 100), root / "东庄村.xlsx")
    _xlsx(q4.slice(100, 100), root / "西庄村.xlsx")
    q4.slice(200).write_csv(root / "南庄村.csv")
    return root


@pytest.fixture
def workspace(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy for each example: one example's output (template -o 自评表.xlsx) is another's input."""
    return Path(shutil.copytree(pristine, tmp_path / "work", symlinks=True))


def test_examples_were_found() -> None:
    sources = {where.split(":")[0] for where, _ in EXAMPLE_LINES}
    commands = {where for where, _ in EXAMPLE_LINES if where.startswith("help ")}
    assert "README.md" in sources
    assert len(commands) == len(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("where", "line"), EXAMPLE_LINES, ids=[f"{w}: {ln}" for w, ln in EXAMPLE_LINES])
def test_example_runs(where: str, line: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    words = shlex.split(line)
    assert words[0] == "wuxing"
    args: list[str] = []
    for word in words[1:]:  # the shell would expand globs
        args.extend(sorted(glob.glob(word)) if any(c in word for c in "*?[") else [word])
    result = invoke(args)
    assert result.exit_code == 0, f"{where}: {line}\nexit {result.exit_code}\n{result.stderr[-3000:]}"
