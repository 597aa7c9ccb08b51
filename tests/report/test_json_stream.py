"""JSON written piece by piece (issue 20 point 19, issue 23 point 7): the same bytes as ``json_text`` of the
whole document, and ``-f xlsx`` refused above Excel's row limit."""

from __future__ import annotations

import enum
import json
import math
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import EXAMPLES, ROOT, invoke
from wuxing_cli.errors import ProblemCode, UsageError
from wuxing_cli.io.writers import write_chunks
from wuxing_cli.report import json_stream, rank, score, tabular, xlsx
from wuxing_cli.report.json_stream import Slot, Streamed, Template, json_chunks, materialise, pretty
from wuxing_cli.report.tabular import json_text
from wuxing_cli.report.xlsx import XLSX_MAX_ROWS, Col, Sheet, check_rows

Q3, Q4 = EXAMPLES / "county-2024-Q3.csv", EXAMPLES / "county-2024-Q4.csv"


class Colour(enum.StrEnum):
    red = "红"


class Size(enum.IntEnum):
    big = 3


AWKWARD: list[Any] = [
    None, True, False, 0, -1, 2**70, 0.0, -0.0, 1.5, 100.0, 1e300, 1e-12, math.nan, math.inf, -math.inf,
    "", "示例县", 'quote " and \\ backslash', "new\nline\ttab", "\u2028\u2029", "\x00\x1f", "😀 emoji",
    [], {}, (), [[]], [{}], {"a": []}, (1, "x"), {3, 1, 2}, frozenset({"b", "a"}), Colour.red, Size.big,
    {1: "int key", 2.5: "float key", None: "null key", "k": {"nested": [1, [2, {"z": None}]]}},
    {True: "true key", False: "false key", math.inf: "inf key", -7: "negative key"},
]


def _branch(rng: random.Random, n: int) -> dict[str, Any]:
    """A branch-like object with nulls, unicode, floats and lists of every length."""
    return {
        "rank": n,
        "branch_id": f"4155{n:08d}",
        "branch_name": rng.choice(["小丁堂村", "后石庙村", "Zoë's \"village\"", "", None]),
        "township": rng.choice(["小店镇", None]),
        "total_points": rng.choice([0, 100, 87.5, 1 / 3, -0.0, None]),
        "star_results": [
            {"id": sid, "points": rng.choice([None, 12, 12.25, 1e-7]), "earned": rng.random() < 0.5,
             "vetoes": rng.sample(["v1", "否决", "v3"], rng.randint(0, 3))}
            for sid in rng.sample(["zbgy", "cyxw", "stjy"], rng.randint(0, 3))
        ],
        "missing": [] if rng.random() < 0.7 else ["meetings_rate", "党群服务中心面积"],
    }


def _old_path(document: Any) -> Iterator[str]:
    """What the CLI wrote before: the whole document as one ``json_text`` string."""
    yield json_text(materialise(document))


def _use_the_old_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the commands build the whole document as Python objects (branch dicts, not templates) and
    write it with one ``json_text``, as before."""
    whole = score.score_document
    monkeypatch.setattr(json_stream, "json_chunks", _old_path)
    for module in (score, rank):
        monkeypatch.setattr(module, "score_document", lambda run, stream=False: whole(run, stream=False))


# ---- the encoder --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", AWKWARD, ids=lambda v: type(v).__name__)
def test_pretty_is_json_dumps_with_indent_2(value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, indent=2, default=tabular._default)
    assert pretty(value) == expected
    for level in (1, 2, 3):  # nested: json.dumps re-indented by the depth (no raw newline inside strings)
        assert pretty(value, level) == expected.replace("\n", "\n" + "  " * level)


def test_pretty_of_the_whole_awkward_list_and_a_dict_of_them() -> None:
    for value in (AWKWARD, {f"k{n}": v for n, v in enumerate(AWKWARD)}):
        assert pretty(value) == json.dumps(value, ensure_ascii=False, indent=2, default=tabular._default)


def test_pretty_refuses_what_json_text_refuses() -> None:
    with pytest.raises(TypeError):
        json_text({"x": object()})
    with pytest.raises(TypeError):
        pretty({"x": object()})


def test_a_template_filled_from_columns_is_pretty_of_each_object() -> None:
    rng = random.Random(23)
    shape = {"n": Slot("n"), "const": "常量 %s %%", "name": Slot("name"), "x": Slot("x", lambda v: v),
             "inner": [{"id": "a", "v": Slot("v"), "list": Slot("list", lambda s: s.split(";") if s else [])},
                       {"deep": {"deeper": [Slot("any")]}}, []], "empty": {}}
    rows = [{"n": n, "name": rng.choice(["村", 'q"uote', "", None]), "x": rng.choice([1.5, -0.0, math.nan, 3]),
             "v": rng.choice([True, False, None]), "list": rng.choice(["", "a;b", "甲"]),
             "any": rng.choice(AWKWARD[:-2])} for n in range(500)]
    for level in (0, 2, 3):
        template = Template(shape, level)
        texts = template.fill({s.column: [r[s.column] for r in rows] for s in template.slots})
        for row, text in zip(rows, texts, strict=True):
            obj = {"n": row["n"], "const": "常量 %s %%", "name": row["name"], "x": row["x"],
                   "inner": [{"id": "a", "v": row["v"], "list": row["list"].split(";") if row["list"] else []},
                             {"deep": {"deeper": [row["any"]]}}, []], "empty": {}}
            assert text == pretty(obj, level)
    bare = Template(Slot("list", lambda s: s.split(";")), 3)
    assert bare.fill({"list": ["a;b", "c"]}) == [pretty(["a", "b"], 3), pretty(["c"], 3)]


# ---- the document -------------------------------------------------------------------------------


def test_chunks_of_a_few_thousand_branches_are_json_text_of_the_whole_document() -> None:
    rng = random.Random(20)
    head = {"criteria": [{"id": "henan-rural", "version": "2024"}], "period": "2024-Q4",
            "summary": {"branches": 3000, "levels": {"0": 1, "5": 2}, "rejected": []}}
    tail = {"warnings": ["a.csv:3: warning: …", "第二条"], "rejected": [{"line": 7, "reasons": ["x"]}]}
    branches = [_branch(rng, n) for n in range(3000)]
    whole = json_text({**head, "branches": branches, **tail})
    document = {**head, "branches": Streamed(iter(branches)), **tail}
    pieces = list(json_chunks(document))
    assert "".join(pieces) == whole
    assert len(pieces) > 3000  # one piece per branch: never the whole array as one string
    assert json.loads(whole)["branches"] == json.loads(json.dumps(branches))


@pytest.mark.parametrize("document, streamed", [
    ({}, ()), ({"branches": []}, ("branches",)), ({"a": 1, "branches": [], "z": []}, ("branches",)),
    ({"branches": [{}]}, ("branches",)), ({"branches": [None, 1.0, "x", [], {"k": math.nan}]}, ("branches",)),
    ({"one": [1], "two": [[1, 2]], "three": {}}, ("one", "two")),
])
def test_chunks_of_edge_documents(document: dict[str, Any], streamed: tuple[str, ...]) -> None:
    lazy = {k: Streamed(iter(v)) if k in streamed else v for k, v in document.items()}
    assert "".join(json_chunks(lazy)) == json_text(document)


# ---- the commands: streamed output == the whole-document output ------------------------------------


def _both(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """The command's stdout streamed (slices of 37 rows, so slice boundaries fall mid-file) and as before."""
    monkeypatch.setattr(score, "JSON_SLICE_ROWS", 37)
    new = invoke(args)
    assert new.exit_code == 0, new.stderr
    _use_the_old_path(monkeypatch)
    old = invoke(args)
    assert old.exit_code == 0, old.stderr
    return new.stdout, old.stdout


@pytest.mark.parametrize("args", [
    ["score", "examples/county-2024-Q4.csv", "-f", "json", "-q"],
    ["score", "examples/county-2024-Q4.csv", "-f", "json", "-q", "--by", "township", "--lang", "en"],
    ["score", "examples/county-2024-Q4.csv", "-f", "json", "-q", "--streaming"],
    ["rank", "examples/county-2024-Q4.csv", "--by", "township", "--previous", "examples/county-2024-Q3.csv",
     "-f", "json", "-q"],
    ["diff", "examples/county-2024-Q3.csv", "examples/county-2024-Q4.csv", "-f", "json", "-q"],
    ["diff", "examples/county-2024-Q3.csv", "examples/county-2024-Q4.csv", "-f", "json", "-q", "--by", "township"],
], ids=["score", "score-by", "score-streaming", "rank", "diff", "diff-by"])
def test_streamed_json_is_byte_identical(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    new, old = _both(args, monkeypatch)
    assert new == old
    assert json.loads(new)


def test_streamed_json_on_synthetic_messy_data_with_output_file(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "synth.csv"
    assert invoke(["synth", "-c", "rural", "-c", "community", "-n", "1500", "--seed", "5", "-o", data]).exit_code == 0
    monkeypatch.setattr(score, "JSON_SLICE_ROWS", 400)
    assert invoke(["score", data, "-f", "json", "-q", "-o", tmp_path / "new.json"]).exit_code == 0
    _use_the_old_path(monkeypatch)
    assert invoke(["score", data, "-f", "json", "-q", "-o", tmp_path / "old.json"]).exit_code == 0
    new, old = (tmp_path / "new.json").read_bytes(), (tmp_path / "old.json").read_bytes()
    assert new == old
    # unicode names, fractional points and non-empty lists (missing fields, vetoes) are in the file
    assert "村".encode() in new and re.search(rb'"points": \d+\.\d+,', new)
    assert b'"missing": [\n' in new and b'"vetoes": [\n' in new
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "old.json", "synth.csv"]


# ---- the atomic writer ----------------------------------------------------------------------------


def test_write_chunks_replaces_the_file_only_when_every_piece_was_written(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")

    def failing() -> Iterator[str]:
        yield "x" * (3 << 20)  # more than one batch: the temporary file already holds some of it
        raise RuntimeError("rendering failed")

    with pytest.raises(RuntimeError):
        write_chunks(target, failing())
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    write_chunks(target, iter(["{", "\n  \"名\": 1", "\n}\n"]))
    assert target.read_text(encoding="utf-8") == '{\n  "名": 1\n}\n'


# ---- xlsx above Excel's row limit ------------------------------------------------------------------


def test_xlsx_row_limit_is_excels() -> None:
    check_rows([Sheet("score", [Col("a")], [[0] * (XLSX_MAX_ROWS - 1)])])
    with pytest.raises(UsageError) as caught:
        check_rows([Sheet("score", [Col("a")], [[0] * XLSX_MAX_ROWS])])
    problem = caught.value.problems[0]
    assert problem.code is ProblemCode.XLSX_ROWS
    assert problem.format() == (
        "error: -f xlsx cannot hold 1,048,576 rows in sheet 'score': Excel's limit is 1,048,576 rows per "
        "sheet, the header included (1,048,575 rows of data) — write -f csv or -f parquet instead, or split "
        "the data (e.g. by county or --period)")


@pytest.mark.parametrize("command", [["score", str(Q4)], ["rank", str(Q4), "--by", "township"]])
def test_xlsx_above_the_limit_is_refused_before_writing(command: list[str], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx, "XLSX_MAX_ROWS", 100)  # the example county has 320 branches
    out = tmp_path / "result.xlsx"
    result = invoke([*command, "-f", "xlsx", "-q", "-o", out])
    assert result.exit_code == 2
    # the sheet's name and its title rows belong to the workbook layout (report/xlsx.py): matched loosely
    assert re.fullmatch(
        rf"{re.escape(str(out))}: error: -f xlsx cannot hold 320 rows in sheet '[^']+': Excel's limit is 100 rows "
        r"per sheet, the (title and )?header( rows)? included \(9\d rows of data\) — write -f csv or -f parquet "
        r"instead, or split the data \(e\.g\. by county or --period\)\n", result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []


# ---- Markdown: the table is written a row at a time too ---------------------------------------------


@pytest.mark.parametrize("args, golden", [
    (["-f", "md", "-q"], "county-Q4.md"), (["-f", "md", "--lang", "en", "-q", "--by", "township"], "county-Q4.en.md"),
])
def test_streamed_markdown_matches_the_golden_files(args: list[str], golden: str, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(score, "JSON_SLICE_ROWS", 37)
    expected = (ROOT / "tests" / "golden" / "score" / golden).read_text(encoding="utf-8")
    result = invoke(["score", "examples/county-2024-Q4.csv", *args])
    assert result.exit_code == 0
    assert result.stdout == expected
    assert invoke(["score", "examples/county-2024-Q4.csv", *args, "-o", tmp_path / "out.md"]).exit_code == 0
    assert (tmp_path / "out.md").read_text(encoding="utf-8") == expected


def test_markdown_lines_are_the_markdown_table() -> None:
    rows = [[1, "a|b", None, True, 2.5], [2, "new\nline", "", False, 3.0]]
    headers = ["#", "名称", "x", "ok", "分"]
    assert "".join(tabular.markdown_lines(iter(rows), headers)) == tabular.markdown_table(rows, headers)
    assert "".join(tabular.markdown_lines([], headers, ["---:"] * 5)) == tabular.markdown_table([], headers, ["---:"] * 5)
