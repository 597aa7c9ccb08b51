"""Issue 20, the faults that crashed or misbehaved: -o onto the criteria (§13), non-finite numbers in
criteria (§14), YAML tags and YAML 1.1 surprises (§15), a closed or full stdout, Ctrl-C while starting
and FIFO / <(…) / /dev/zero inputs (§18), tab- and semicolon-separated .csv (§20) and rows whose id
starts with '#' (§8). Real subprocesses where the shell's plumbing is what is tested."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import openpyxl
import pytest

from tests.support import CORPUS, SRC, invoke
from wuxing_cli.errors import ProblemCode
from wuxing_cli.io.criteria_loader import check_criteria_text
from wuxing_cli.io.reader import read_raw

BASE = (CORPUS / "base.yaml").read_text(encoding="utf-8")
OK = CORPUS / "data" / "ok.csv"
ENV = {**os.environ, "NO_COLOR": "1", "WUXING_LANG": "", "LC_ALL": "C.UTF-8", "PYTHONPATH": str(SRC)}


def wuxing(*args: str | Path, cwd: Path | None = None, shell: str | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m wuxing_cli ARGS`` (or a bash line running ``$WUXING``) as a real process."""
    if shell is not None:
        env = {**ENV, "WUXING": f"{sys.executable} -m wuxing_cli"}
        return subprocess.run(["bash", "-c", shell], cwd=cwd, capture_output=True, text=True, env=env,
                              timeout=timeout)
    return subprocess.run([sys.executable, "-m", "wuxing_cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env=ENV, timeout=timeout)


def clean(done: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr


# --------------------------------------------------------------------------------------------------
# §13 -o onto the criteria file


@pytest.mark.parametrize("command", [
    ["score", "data.csv", "-f", "csv"],
    ["rank", "data.csv", "--by", "township"],
    ["explain", "data.csv", "-b", "001"],
    ["bulletin", "data.csv"],
    ["template", "-f", "csv"],
])
def test_output_onto_the_criteria_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  command: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(OK, "data.csv")
    Path("c.yaml").write_text(BASE, encoding="utf-8")
    result = invoke([*command, "-c", "c.yaml", "-o", "c.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: refusing to overwrite the input file 'c.yaml' with the output — "
                             "choose another --output path\n")
    assert Path("c.yaml").read_text(encoding="utf-8") == BASE


def test_output_onto_the_new_criteria_of_diff_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(OK, "data.csv")
    Path("c.yaml").write_text(BASE, encoding="utf-8")
    Path("new.yaml").write_text(BASE, encoding="utf-8")
    result = invoke(["diff", "data.csv", "-c", "c.yaml", "--criteria-new", "new.yaml", "-o", "new.yaml"])
    assert result.exit_code == 2, result.output
    assert "refusing to overwrite the input file 'new.yaml' with the output" in result.stderr


# --------------------------------------------------------------------------------------------------
# §14 numbers in criteria

FINITE = "must be a finite number between -1e12 and 1e12 (not .nan, .inf or a longer number)"


@pytest.mark.parametrize(("old", "new", "key", "got"), [
    ("pass_mark: 15", "pass_mark: .nan", "stars[0].pass_mark", "nan"),
    ("points: 10, rule: {type: bands", "points: .inf, rule: {type: bands", "stars[0].indicators[0].points", "inf"),
    ("{min: 50, points: 10}", "{min: -.inf, points: 10}", "stars[0].indicators[0].rule.bands[0].min", "-inf"),
    ("{min: 20, points: 6}", "{min: 20, points: .NaN}", "stars[0].indicators[0].rule.bands[1].points", "nan"),
    ("zero_at: 60", "zero_at: 123456789012345678901234567", "stars[0].indicators[1].rule.zero_at",
     "123456789012345678901234567"),
    ("full_at: 95", "full_at: 1.0e+300", "stars[0].indicators[1].rule.full_at", "1e+300"),
    ("type: integer, min: 1}", "type: integer, min: 1, max: .inf}", "fields.households.max", "inf"),
    ("min: 0, default: 0}", "min: 0, default: .nan}", "fields.cases.default", "nan"),
    ("{type: threshold, min: 100}", "{type: threshold, min: 1e13}", "stars[1].indicators[2].rule.min", "'1e13'"),
    ("{好: 10, 较好: 8", "{好: .inf, 较好: 8", "stars[1].indicators[1].rule.map.好", "inf"),
])
def test_non_finite_and_huge_numbers_are_errors(old: str, new: str, key: str, got: str) -> None:
    assert old in BASE
    loaded = check_criteria_text(BASE.replace(old, new, 1), "c.yaml")
    assert loaded.criteria is None
    (problem,) = loaded.problems
    assert (problem.key, problem.message) == (key, f"{FINITE} (got {got})")
    assert problem.line is not None and problem.column is not None


def test_levels_and_star_counts_are_bounded() -> None:
    text = BASE.replace("max_stars: 1}", "max_stars: 99999999999999999999}") + "levels: {0: 无, 100000: 很多}\n"
    messages = sorted(p.format() for p in check_criteria_text(text, "c.yaml").problems)
    assert messages == [
        "c.yaml:34:58: error: caps[0].max_stars: Input should be less than or equal to 1000 (got 99999999999999999999)",
        "c.yaml:35:24: error: levels[100000]: Input should be less than or equal to 1000 (got 100000)",
    ]


# --------------------------------------------------------------------------------------------------
# §15 YAML tags and YAML 1.1


@pytest.mark.parametrize(("value", "tag"), [
    ("!include version.yaml", "!include"),
    ('!!python/name:os.system ""', "!!python/name:os.system"),
    ("!custom 3", "!custom"),
    ("!!python/object/apply:os.system [ls]", "!!python/object/apply:os.system"),
    ("!!binary aGVsbG8=", "!!binary"),
])
def test_unknown_tags_are_located_errors(tmp_path: Path, value: str, tag: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE.replace('version: "1"', f"version: {value}"), encoding="utf-8")
    result = invoke(["validate", str(path)])
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == (
        f"{path}:7:10: error: unsupported YAML tag '{tag}' — wuxing's YAML files hold plain values only (text, "
        "numbers, true/false, lists, mappings); remove the tag, and quote a value such as a date ('2024-01-01')")


def test_a_date_is_refused_with_a_hint_to_quote_it() -> None:
    (problem,) = check_criteria_text(BASE.replace('version: "1"', "version: 2024-01-01"), "c.yaml").problems
    assert problem.format() == ("c.yaml:7:10: error: '2024-01-01' is read by YAML as a date, which a criteria "
                                "file cannot hold — write it in quotes: \"2024-01-01\"")


def test_yaml_1_1_surprises_are_read_as_written_with_warnings() -> None:
    text = (BASE.replace('version: "1"', "version: 2025.10")
            .replace("values: [好, 较好, 一般, 差]", "values: [好, 较好, 一般, 差, yes, off, 1.10]")
            .replace("{好: 10, 较好: 8, 一般: 4, 差: 0}", "{好: 10, 较好: 8, 一般: 4, 差: 0, yes: 10, off: 0, 1.10: 1}")
            .replace("{type: threshold, min: 100}", "{type: threshold, min: 0100}"))
    loaded = check_criteria_text(text, "c.yaml")
    assert loaded.criteria is not None
    assert loaded.criteria.version == "2025.10"
    assert loaded.criteria.fields["grade"].values == ["好", "较好", "一般", "差", "yes", "off", "1.10"]
    rule = loaded.criteria.stars[1].indicators[1].rule
    assert list(rule.map) == ["好", "较好", "一般", "差", "yes", "off", "1.10"]  # type: ignore[union-attr]
    assert all(p.code is ProblemCode.YAML_IMPLICIT and not p.is_error for p in loaded.problems)
    assert [p.format() for p in loaded.problems] == [
        'c.yaml:7:10: warning: version: YAML reads version 2025.10 as the number 2025.1; it is read as "2025.10" '
        '— write version as a string: "2025.10"',
        "c.yaml:13:64: warning: fields.grade.values[4]: YAML reads 'yes' as true; it is read as the text 'yes' "
        "— write 'yes' in quotes",
        "c.yaml:13:69: warning: fields.grade.values[5]: YAML reads 'off' as false; it is read as the text 'off' "
        "— write 'off' in quotes",
        "c.yaml:13:74: warning: fields.grade.values[6]: YAML reads '1.10' as 1.1; it is read as the text '1.10' "
        "— write '1.10' in quotes",
        "c.yaml:32:87: warning: stars[1].indicators[2].rule.min: YAML 1.1 reads '0100' as the number 64 — write 64 "
        "if that is meant, or the number without leading zeros, '_' or ':'",
        "c.yaml:31:113: warning: stars[1].indicators[1].rule.map: YAML reads the key 'yes' as true; it is read "
        "as the text 'yes' — write 'yes' in quotes",
        "c.yaml:31:122: warning: stars[1].indicators[1].rule.map: YAML reads the key 'off' as false; it is read "
        "as the text 'off' — write 'off' in quotes",
        "c.yaml:31:130: warning: stars[1].indicators[1].rule.map: YAML reads the key '1.10' as 1.1; it is read "
        "as the text '1.10' — write '1.10' in quotes",
    ]


def test_plain_numbers_and_quoted_values_give_no_warning() -> None:
    text = BASE.replace('version: "1"', "version: 2024").replace("values: [好, 较好, 一般, 差]",
                                                                 "values: [好, 较好, 一般, 差, 'yes', true, 3]")
    loaded = check_criteria_text(text, "c.yaml")
    assert [p for p in loaded.problems if p.code is ProblemCode.YAML_IMPLICIT] == []
    assert loaded.criteria is not None and loaded.criteria.version == "2024"
    assert loaded.criteria.fields["grade"].values == ["好", "较好", "一般", "差", "yes", "true", "3"]


# --------------------------------------------------------------------------------------------------
# §18 stdout closed or full, Ctrl-C while starting, streams as inputs


@pytest.mark.parametrize("redirect", [">&-", "> /dev/full"])
@pytest.mark.parametrize("command", ["schema", "validate base.yaml", f"score {OK} -c base.yaml -f csv", "--version"])
def test_output_that_cannot_be_written_is_one_line(redirect: str, command: str) -> None:
    if redirect == "> /dev/full" and not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    done = wuxing(shell=f"$WUXING {command} {redirect}", cwd=CORPUS)
    clean(done)
    assert done.returncode == 2, done.stderr
    reason = "standard output is closed" if redirect == ">&-" else "No space left on device"
    hint = ("standard output is closed: run the command without '>&-', or write to a file with -o FILE"
            if redirect == ">&-" else "check the disk space, or write to a file with -o FILE")
    assert done.stderr == f"error: cannot write output: {reason} — {hint}\n"


def test_output_file_on_dev_full_is_one_line() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    done = wuxing("schema", "-o", "/dev/full")
    clean(done)
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot write '/dev/full': No space left on device")


_INTERRUPT_AT_IMPORT = """
import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
sys.argv = ["wuxing", "validate", "rural"]
import runpy
runpy.run_module("wuxing_cli", run_name="__main__")
"""


@pytest.mark.parametrize("module", ["typer", "wuxing_cli.cli.core", "wuxing_cli.cli.common"])
def test_ctrl_c_while_starting_exits_130(module: str) -> None:
    code = textwrap.dedent(_INTERRUPT_AT_IMPORT.format(module=module))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    clean(done)
    assert (done.returncode, done.stderr) == (130, "interrupted\n")


def test_ctrl_c_at_any_moment_of_the_start_is_130_without_a_traceback() -> None:
    for delay in (0.05, 0.15, 0.3):
        proc = subprocess.Popen([sys.executable, "-m", "wuxing_cli", "validate", "rural"], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(2)
        _, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        # -2: the signal came before Python set up its handler (the process ends silently, as any would)
        assert proc.returncode in (0, 130, -2), (delay, proc.returncode, err)
        assert err in ("", "interrupted\n"), err


def _fifo(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    os.mkfifo(path)

    def feed() -> None:
        with path.open("wb") as handle:
            handle.write(content)

    threading.Thread(target=feed, daemon=True).start()
    return path


def test_data_and_criteria_from_fifos(tmp_path: Path) -> None:
    expected = invoke(["score", str(OK), "-c", str(CORPUS / "base.yaml"), "-f", "csv"]).stdout
    data = _fifo(tmp_path, "data.csv", OK.read_bytes())
    criteria = _fifo(tmp_path, "c.yaml", BASE.encode("utf-8"))
    done = wuxing("score", data, "-c", criteria, "-f", "csv")
    clean(done)
    assert (done.returncode, done.stdout) == (0, expected)


def test_process_substitution_is_read_once_and_whole() -> None:
    expected = invoke(["score", str(OK), "-c", str(CORPUS / "base.yaml"), "-f", "csv"]).stdout
    for flags in ("", "--streaming"):
        done = wuxing(shell=f"$WUXING score <(cat {OK}) -c <(cat base.yaml) -f csv {flags}", cwd=CORPUS)
        clean(done)
        assert (done.returncode, done.stdout) == (0, expected), done.stderr
    done = wuxing(shell=f"$WUXING validate -c base.yaml --data <(cat {OK})", cwd=CORPUS)  # reads it twice
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "/dev/fd/63: ok" or done.stdout.splitlines()[-1].endswith(": ok")


def test_dev_zero_is_refused_quickly() -> None:
    started = time.monotonic()
    done = wuxing("score", "/dev/zero", "-c", CORPUS / "base.yaml", timeout=30)
    clean(done)
    assert done.returncode == 1
    assert done.stderr == ("/dev/zero: error: the input holds NUL bytes, so it is not a CSV text file (is it "
                           "/dev/zero or a binary file?) — give a CSV, .xlsx, .ods or Parquet file\n")
    done = wuxing("validate", "/dev/zero", timeout=30)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == "/dev/zero: error: the file is larger than 5 MB; a criteria file is a few KB"
    assert time.monotonic() - started < 30


def test_a_stream_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    from wuxing_cli.errors import DataError
    from wuxing_cli.io.decode import spool_stream

    data = _fifo(tmp_path, "big.csv", b"a,b\n" * 300_000)
    with pytest.raises(DataError) as caught:
        spool_stream(data, tmp_path / "copy.csv", limit=1 << 20)
    assert caught.value.problems[0].format() == (
        f"{data}: error: the input is a stream longer than 0.000976562 GB, the most read from a pipe or device "
        "— save the data to a file and give its path")


# --------------------------------------------------------------------------------------------------
# §20 tab- and semicolon-separated .csv


@pytest.mark.parametrize(("separator", "label"), [("\t", "tab"), (";", "semicolon")])
@pytest.mark.parametrize("streaming", [False, True])
def test_tab_and_semicolon_separated_files_are_read(tmp_path: Path, separator: str, label: str,
                                                    streaming: bool) -> None:
    path = tmp_path / "data.csv"
    path.write_text(OK.read_text(encoding="utf-8").replace(",", separator), encoding="utf-8")
    flags = ["--streaming"] if streaming else []
    expected = invoke(["score", str(OK), "-c", str(CORPUS / "base.yaml"), "-f", "csv"]).stdout
    result = invoke(["score", str(path), "-c", str(CORPUS / "base.yaml"), "-f", "csv", *flags])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected
    assert result.stderr == (
        f"{path}:1: warning: the file is {label}-separated (its header row has {label}s, not commas): read with "
        f"{label}s between the cells — nothing to fix; saving it as CSV (comma-separated) makes this note go away\n")


def test_a_tab_separated_file_keeps_commas_quotes_line_breaks_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "data.tsv"
    path.write_text("某县汇总表\n支部编码\t支部名称\t备注\n001\t\"甲村,东组\"\t\"两行\n备注\"\n\n002\t乙村,西组\t\n",
                    encoding="utf-8")
    raw = read_raw(path)
    assert raw.header_line == 2
    assert raw.frame.rows() == [(3, "001", "甲村,东组", "两行\n备注"), (6, "002", "乙村,西组", None)]
    assert [p.code for p in raw.notes] == [ProblemCode.DELIMITER]


def test_a_comma_file_with_tabs_in_its_cells_stays_a_comma_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("支部编码,支部名称\n001,甲\t村;东\n", encoding="utf-8")
    raw = read_raw(path)
    assert raw.frame.rows() == [(2, "001", "甲 村;东")] or raw.frame.item(0, "支部名称").startswith("甲")
    assert raw.notes == ()


# --------------------------------------------------------------------------------------------------
# §8 a row whose id starts with '#'


def test_comment_rows_are_left_out_with_a_warning_each(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    lines = OK.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], "#" + lines[1], lines[2], "# 说明: 第三行是样例", lines[3]]) + "\n",
                    encoding="utf-8")
    result = invoke(["score", str(path), "-c", str(CORPUS / "base.yaml"), "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert [row.split(",")[1] for row in result.stdout.splitlines()[1:]] == ["003", "002"]
    hint = "if it is a branch, remove the '#' (a branch id may not start with '#')"
    assert result.stderr == (
        f"{path}:2: warning: line 2 starts with '#': left out as a comment row [value '#001'] — {hint}\n"
        f"{path}:4: warning: line 4 starts with '#': left out as a comment row [value '# 说明: 第三行是样例'] — {hint}\n")


def test_a_hand_written_comment_with_a_stray_quote_is_named_too(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    lines = OK.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], '# 注意: 一个引号" 和, 很多, 逗号, a, b, c, d, e, f, g, h, i', *lines[1:]]) + "\n",
                    encoding="utf-8")
    raw = read_raw(path)
    assert raw.frame.height == 3
    assert [(p.line, p.message, p.value) for p in raw.notes] == [
        (2, "line 2 starts with '#': left out as a comment row", '# 注意: 一个引号" 和')]


def test_comment_rows_in_a_workbook_are_named_by_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in OK.read_text(encoding="utf-8").splitlines():
        sheet.append(row.split(","))
    sheet["A3"] = "#002"
    path = tmp_path / "data.xlsx"
    book.save(path)
    raw = read_raw(path)
    assert raw.frame.get_column("支部编码").to_list() == ["001", "003"]
    comments = [p for p in raw.notes if p.code is ProblemCode.COMMENT_ROW]
    assert [(p.line, p.message, p.value) for p in comments] == [
        (3, "row 3 starts with '#': left out as a comment row", "#002")]
