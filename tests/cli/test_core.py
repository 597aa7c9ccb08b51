"""CLI tests of validate, score and schema: typer's runner, golden files, and one real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support import CRITERIA_DIR, EXAMPLES, ROOT, check_golden, invoke
from wuxing_cli.models.schema import criteria_schema_text

EXAMPLE = EXAMPLES / "county-2024-Q4.csv"


def wuxing(*args: str) -> tuple[int, str, str]:
    result = invoke(args)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt, name", [("csv", "county-Q4.csv"), ("json", "county-Q4.json"), ("md", "county-Q4.md")])
def test_score_golden_on_example_county(fmt: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # file names in warnings are shown as given: keep them relative
    code, out, _ = wuxing("score", "examples/county-2024-Q4.csv", "-f", fmt, "-q")
    assert code == 0
    check_golden(f"score/{name}", out)


def test_score_en_markdown_golden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, out, _ = wuxing("score", "examples/county-2024-Q4.csv", "-f", "md", "--lang", "en", "-q", "--by", "township")
    assert code == 0
    check_golden("score/county-Q4.en.md", out)


def test_score_csv_columns_follow_spec() -> None:
    code, out, _ = wuxing("score", str(EXAMPLE), "-c", "rural", "-c", "community", "-f", "csv", "-q")
    assert code == 0
    header = out.splitlines()[0].split(",")
    assert header[:10] == ["rank", "branch_id", "branch_name", "county", "township", "branch_type", "period",
                           "stars", "level", "total_points"]
    assert header[10:12] == ["zbgy_points", "zbgy_earned"]
    assert header[-2:] == ["vetoes", "missing"]


def test_score_json_keys_follow_spec() -> None:
    code, out, _ = wuxing("score", str(EXAMPLE), "-f", "json", "-q")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"criteria", "period", "summary", "branches", "warnings"}
    assert doc["period"] == "2024-Q4"
    assert sum(doc["summary"]["levels"].values()) == doc["summary"]["branches"] == 320
    first = doc["branches"][0]
    assert set(first) >= {"rank", "branch_id", "branch_name", "county", "township", "stars", "level",
                          "total_points", "star_results", "missing"}
    star = first["star_results"][0]
    assert set(star) >= {"id", "name", "points", "max_points", "pass_mark", "earned", "awarded", "vetoes",
                         "required_failed"}
    ranks = [b["rank"] for b in doc["branches"]]
    assert ranks == sorted(ranks) and ranks[0] == 1


def test_gbk_quarter_scores_like_utf8(tmp_path: Path) -> None:
    gbk = EXAMPLES / "county-2024-Q3.csv"
    with pytest.raises(UnicodeDecodeError):
        gbk.read_bytes().decode("utf-8")
    utf8 = tmp_path / "q3.csv"
    utf8.write_text(gbk.read_bytes().decode("gb18030"), encoding="utf-8")
    a = wuxing("score", str(gbk), "-f", "csv", "-q")
    b = wuxing("score", str(utf8), "-f", "csv", "-q")
    assert a[0] == b[0] == 0 and a[1] == b[1]


def test_score_outputs_are_deterministic_and_atomic(tmp_path: Path) -> None:
    outputs = []
    for n in range(2):
        target = tmp_path / f"out{n}.xlsx"
        assert wuxing("score", str(EXAMPLE), "-f", "xlsx", "-o", str(target), "-q")[0] == 0
        outputs.append(target.read_bytes())
        parquet = tmp_path / f"out{n}.parquet"
        assert wuxing("score", str(EXAMPLE), "-f", "parquet", "-o", str(parquet), "-q")[0] == 0
        outputs.append(parquet.read_bytes())
    assert outputs[0] == outputs[2] and outputs[1] == outputs[3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out0.parquet", "out0.xlsx", "out1.parquet", "out1.xlsx"]


def test_binary_format_needs_output_and_input_is_never_overwritten(tmp_path: Path) -> None:
    code, _, err = wuxing("score", str(EXAMPLE), "-f", "xlsx")
    assert code == 2 and "give --output FILE" in err
    data = tmp_path / "d.csv"
    shutil.copy(EXAMPLE, data)
    before = data.read_bytes()
    code, _, err = wuxing("score", str(data), "-f", "csv", "-o", str(data))
    assert code == 2 and "refusing to overwrite the input file" in err
    assert data.read_bytes() == before


def test_usage_errors_exit_2() -> None:
    assert wuxing("score")[0] == 2
    assert wuxing("score", str(EXAMPLE), "-f", "pdf")[0] == 2
    code, _, err = wuxing("score", str(EXAMPLE), "-c", "nosuch")
    assert code == 2 and "no such criteria file or built-in name" in err
    code, _, err = wuxing("score", str(EXAMPLE), "--by", "village")
    assert code == 2 and "cannot group by" in err


CRITERIA = textwrap.dedent(
    """\
    schema_version: 1
    id: tiny
    name: 小标准
    branch_type: 农村
    version: "1"
    fields:
      income: {header: 收入(万元), type: number, min: 0}
      grid: {header: 网格化, type: boolean}
    stars:
      - id: a
        name: 甲星
        pass_mark: 10
        indicators:
          - {id: inc, name: 收入, field: income, points: 10, rule: {type: threshold, min: 5}}
          - {id: grid, name: 网格, field: grid, points: 5, rule: {type: boolean}}
    """
)


def test_invalid_data_lists_every_bad_cell_and_writes_nothing(tmp_path: Path) -> None:
    criteria = tmp_path / "c.yaml"
    criteria.write_text(CRITERIA, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("支部编码,支部名称,收入(万元),网格化\n1,甲村,abc,是\n2,乙村,-3,也许\n3,丙村,7,否\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    code, stdout, err = wuxing("score", str(data), "-c", str(criteria), "-f", "csv", "-o", str(out))
    assert code == 1 and stdout == ""
    assert "d.csv:2" in err and "收入(万元)" in err and "'abc'" in err
    assert "d.csv:3" in err and "'-3'" in err and "'也许'" in err
    assert not out.exists()
    assert "Traceback" not in err
    code, stdout, err = wuxing("score", str(data), "-c", str(criteria), "-f", "json", "--skip-invalid")
    assert code == 0
    doc = json.loads(stdout)
    assert [b["branch_id"] for b in doc["branches"]] == ["3"]
    assert [r["line"] for r in doc["summary"]["rejected"]] == [2, 3]
    assert doc["summary"]["rows_read"] == 3


def test_strict_turns_missing_values_into_errors(tmp_path: Path) -> None:
    criteria = tmp_path / "c.yaml"
    criteria.write_text(CRITERIA, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("支部编码,支部名称,收入(万元),网格化\n1,甲村,,是\n", encoding="utf-8")
    code, stdout, err = wuxing("score", str(data), "-c", str(criteria), "-f", "csv")
    assert (code == 0 and "warning" in err and ",1,甲村," in stdout.replace("\r", "")) or stdout.startswith("rank")
    code, _, err = wuxing("score", str(data), "-c", str(criteria), "-f", "csv", "--strict")
    assert code == 1 and "error" in err and "收入(万元)" in err


def test_validate_text_json_and_github(tmp_path: Path) -> None:
    assert wuxing("validate", str(CRITERIA_DIR / "rural.yaml"), str(CRITERIA_DIR / "community.yaml"))[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(CRITERIA.replace("full", "x").replace("pass_mark: 10", "pass_mark: 20"), encoding="utf-8")
    code, out, _ = wuxing("validate", str(bad))
    assert code == 1
    assert f"{bad}:12:16: error: stars[0].pass_mark: pass_mark 20 exceeds the star's maximum 15" in out
    code, out, _ = wuxing("validate", str(bad), "-f", "json")
    doc = json.loads(out)
    assert code == 1 and doc["valid"] is False and doc["files"][0]["errors"][0]["line"] == 12
    code, out, _ = wuxing("validate", str(bad), "-f", "github")
    assert code == 1
    assert out.startswith(f"::error file={bad},line=12,col=16,title=wuxing pass-mark::stars[0].pass_mark: pass_mark 20")


def test_validate_data_checks_headers(tmp_path: Path) -> None:
    criteria = tmp_path / "c.yaml"
    criteria.write_text(CRITERIA, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("支部编码,支部名称,收入（万元）,网格\n1,甲村,3,是\n", encoding="utf-8")
    code, out, _ = wuxing("validate", str(criteria), "--data", str(data))
    assert code == 1
    assert "网格化" in out


def test_schema_command_matches_committed_file() -> None:
    code, out, _ = wuxing("schema")
    assert code == 0
    assert out == criteria_schema_text()
    assert out == (ROOT / "schema" / "criteria.schema.json").read_text(encoding="utf-8"), (
        "schema/criteria.schema.json is stale: run `wuxing schema -o schema/criteria.schema.json`")
    for name in ("rural", "community"):
        first = (CRITERIA_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schema/criteria.schema.json"


def test_installed_script_in_a_real_subprocess(tmp_path: Path) -> None:
    exe = shutil.which("wuxing", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "wuxing_cli"]
    result = subprocess.run([*cmd, "score", str(EXAMPLE), "-f", "csv", "-q"], capture_output=True, text=True,
                            cwd=tmp_path, env=dict(os.environ, NO_COLOR="1"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("rank,branch_id,branch_name")
    assert len(result.stdout.splitlines()) == 321
    broken = subprocess.run([*cmd, "score", str(tmp_path / "missing.csv")], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert broken.returncode in (1, 2) and "Traceback" not in broken.stderr
    module = subprocess.run([sys.executable, "-m", "wuxing_cli", "--version"], capture_output=True, text=True,
                            timeout=60)
    assert module.returncode == 0 and module.stdout.startswith("wuxing ")
