"""Issue 20, point 10: ``validate --data`` lists the errors and the warnings of a file in one run
(a bad number does not hide the empty cells, a missing column does not hide either)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import EXAMPLES, invoke
from wuxing_cli.errors import ProblemCode
from wuxing_cli.pipeline.validate import run_validation

BAD = "{path}:2: error: not a percentage (e.g. 85 or 85%) [column '三会一课及主题党日落实率(%)', value '八十']"
EMPTY = ("{path}:3: warning: 1 empty cell (line 3) [column '近两年发展35岁以下党员数(名)'] — field 'young_members' "
         "of henan-rural: an empty cell scores 0; fill it in, or give the field a default in the criteria file")


def village_file(tmp_path: Path, *, drop: int | None = None) -> Path:
    """Three rows of the example: line 2 has a bad percentage, line 3 an empty count (no default)."""
    rows = [line.split(",") for line in (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()[:4]]
    assert rows[0][6] == "三会一课及主题党日落实率(%)" and rows[0][8] == "近两年发展35岁以下党员数(名)"
    rows[1][6] = "八十"
    rows[2][8] = ""
    if drop is not None:
        for row in rows:
            del row[drop]
    path = tmp_path / "村.csv"
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_errors_and_missing_value_warnings_in_one_run(tmp_path: Path) -> None:
    path = village_file(tmp_path)
    result = run_validation(["rural"], [path])
    data = result.files[-1]
    assert [p.format() for p in data.problems] == [BAD.format(path=path), EMPTY.format(path=path)]
    assert [p.is_error for p in data.problems] == [True, False]
    assert data.problems[1].code == ProblemCode.MISSING_VALUE
    assert not data.ok

    cli = invoke(["validate", "-c", "rural", "--data", path])
    assert cli.exit_code == 1
    assert cli.stdout.splitlines()[1:] == [BAD.format(path=path), EMPTY.format(path=path),
                                           f"{path}: 1 error, 1 warning"]
    document = json.loads(invoke(["validate", "-c", "rural", "--data", path, "-f", "json"]).stdout)
    listed = document["files"][-1]
    assert len(listed["errors"]) == 1 and len(listed["warnings"]) == 1
    assert listed["warnings"][0]["header"] == "近两年发展35岁以下党员数(名)"


def test_a_missing_column_hides_neither_the_bad_cells_nor_the_empty_ones(tmp_path: Path) -> None:
    path = village_file(tmp_path, drop=9)  # 党群服务中心面积(㎡)
    data = run_validation(["rural"], [path]).files[-1]
    shown = [p.format() for p in data.problems]
    assert shown[0].startswith(f"{path}:1: error: missing column '党群服务中心面积(㎡)'")
    assert shown[1:] == [BAD.format(path=path), EMPTY.format(path=path)]


def test_a_clean_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text("\n".join((EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()[:2]) + "\n",
                    encoding="utf-8")
    data = run_validation(["rural"], [path]).files[-1]
    assert data.ok and not [p for p in data.problems if p.is_error]
