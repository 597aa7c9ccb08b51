"""Reading assessment files (wuxing_cli.io: reader, assessment, headers): encodings, Excel, layout quirks and SPEC §3 rules."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import ASSETS
from wuxing_cli.errors import CriteriaError, DataError, Problem, UsageError
from wuxing_cli.io.assessment import load_assessment
from wuxing_cli.io.cells import normalize_text
from wuxing_cli.io.headers import check_headers
from wuxing_cli.io.reader import read_raw
from wuxing_cli.models.contract import LINE, MAX_LISTED, RESERVED, RESERVED_HEADERS, header_key
from wuxing_cli.models.criteria import Criteria
from wuxing_cli.models.results import Assessment

FIELDS: dict[str, Any] = {
    "households": {"header": "户数", "type": "integer", "min": 1},
    "income": {"header": "村集体经济年收入(万元)", "type": "number", "min": 0},
    "toilet_rate": {"header": "户厕改造完成率", "type": "percent"},
    "has_grid": {"header": "是否建立网格化管理", "type": "boolean"},
    "review_grade": {
        "header": "年度述职评议等次",
        "type": "category",
        "values": ["好", "较好", "一般", "差"],
    },
    "criminal_cases": {
        "header": "刑事案件数",
        "type": "integer",
        "min": 0,
        "default": 0,
        "aliases": ["刑事案件"],
    },
    "toilet_ratio": {"expr": "households * 1", "type": "number"},
}
HEADER = "支部编码,支部名称,户数,村集体经济年收入(万元),户厕改造完成率,是否建立网格化管理,年度述职评议等次"


def make_criteria(
    branch_type: str = "农村", cid: str = "henan-rural", fields: dict[str, Any] | None = None, **extra: Any
) -> Criteria:
    return Criteria.model_validate(
        {
            "schema_version": 1,
            "id": cid,
            "name": "测试标准",
            "branch_type": branch_type,
            "version": "2024",
            "fields": FIELDS if fields is None else fields,
            "stars": [
                {
                    "id": "zbgy",
                    "name": "支部过硬星",
                    "pass_mark": 5,
                    "indicators": [
                        {
                            "id": "i1",
                            "name": "户数",
                            "field": "households",
                            "points": 10,
                            "rule": {"type": "threshold", "min": 1},
                        }
                    ],
                }
            ],
            **extra,
        }
    )


RURAL = make_criteria()
COMMUNITY = make_criteria("城市社区", "henan-community")


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode(encoding))
    return path


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def load(tmp_path: Path, text: str | bytes, criteria: list[Criteria] | None = None, **kw: Any) -> Assessment:
    return load_assessment(write(tmp_path, text), criteria or [RURAL], **kw)


def errors_of(exc: pytest.ExceptionInfo[DataError] | pytest.ExceptionInfo[UsageError]) -> list[Problem]:
    return exc.value.problems


def only_part(assessment: Assessment) -> pl.DataFrame:
    assert len(assessment.parts) == 1
    return assessment.parts[0].frame


GOOD = "A01,东村,12,3.5,85%,是,好"


# ---- reading: encodings -------------------------------------------------------------------------


def test_utf8(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD)))
    assert raw.encoding == "utf-8"
    assert raw.headers == HEADER.split(",")
    assert raw.header_line == 1
    assert raw.frame.columns == [LINE, *HEADER.split(",")]
    assert raw.frame.row(0) == (2, "A01", "东村", "12", "3.5", "85%", "是", "好")
    assert all(dtype == pl.String for name, dtype in raw.frame.schema.items() if name != LINE)
    assert raw.frame.schema[LINE] == pl.Int64


def test_utf8_with_bom(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD), encoding="utf-8-sig"))
    assert raw.encoding == "utf-8-sig"
    assert raw.headers[0] == "支部编码"
    assert raw.frame.item(0, "支部编码") == "A01"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_is_detected(tmp_path: Path, encoding: str) -> None:
    text = csv_of(GOOD, "A02,西村,3,1,70,否,差")
    raw = read_raw(write(tmp_path, text, encoding=encoding))
    assert raw.encoding == "gb18030"
    assert raw.headers == HEADER.split(",")
    assert raw.frame.get_column("支部名称").to_list() == ["东村", "西村"]
    assessment = load_assessment(write(tmp_path, text, encoding=encoding), [RURAL])
    assert assessment.encoding == "gb18030"
    assert only_part(assessment).get_column("has_grid").to_list() == [True, False]


def test_encoding_override(tmp_path: Path) -> None:
    path = write(tmp_path, csv_of(GOOD), encoding="gbk")
    assert read_raw(path, encoding="GBK").encoding == "gbk"
    with pytest.raises(DataError) as exc:
        read_raw(path, encoding="utf-8")
    problem = exc.value.problems[0]
    assert "not valid UTF-8" in problem.message
    assert problem.line == 1
    assert "offset" in problem.message


def test_unknown_encoding_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown encoding 'klingon'"):
        read_raw(write(tmp_path, csv_of(GOOD)), encoding="klingon")


def test_bom_followed_by_gbk_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + csv_of(GOOD).encode("gbk"))
    with pytest.raises(DataError) as exc:
        read_raw(path)
    (problem,) = exc.value.problems
    assert "byte-order mark" in problem.message
    assert "not valid UTF-8" in problem.message
    assert problem.file == str(path)
    assert problem.line == 1


def test_undecodable_file_names_offset_line_and_encoding_option(tmp_path: Path) -> None:
    path = write(tmp_path, b"branch_id,x\nA01,1\nA02,\x80\x80\n")
    with pytest.raises(DataError) as exc:
        read_raw(path)
    (problem,) = exc.value.problems
    assert problem.line == 3
    assert "offset 22" in problem.message
    assert "UTF-8" in problem.message and "GB18030" in problem.message
    assert problem.hint is not None and "--encoding" in problem.hint


def test_damaged_utf8_is_not_read_as_gbk(tmp_path: Path) -> None:
    good = csv_of(*[f"A{i:02d},东村西村南村,12,3.5,85%,是,好" for i in range(5)]).encode()
    path = write(tmp_path, good + b"A99,\xe4\xb8,1,1,1,1,1\n")
    with pytest.raises(DataError) as exc:
        read_raw(path)
    (problem,) = exc.value.problems
    assert problem.line == 7
    assert "UTF-8 up to a damaged" in problem.message
    assert problem.hint is not None and "--encoding gb18030" in problem.hint


def test_crlf_line_endings(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD, "A02,西村,3,1,70,否,差").replace("\n", "\r\n")))
    assert raw.frame.get_column(LINE).to_list() == [2, 3]
    assert raw.frame.get_column("年度述职评议等次").to_list() == ["好", "差"]


def test_old_mac_line_endings(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD, "A02,西村,3,1,70,否,差").replace("\n", "\r")))
    assert raw.frame.get_column(LINE).to_list() == [2, 3]


def test_unknown_extension_is_read_as_csv(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD), name="data.txt"))
    assert raw.frame.height == 1


# ---- reading: Excel -----------------------------------------------------------------------------


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    workbook = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    workbook.close()
    return path


def test_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {
            "自评": [
                ["XX县2024年第二季度五星支部自评表"],
                [],
                HEADER.split(","),
                ["A01", "东村", 12.0, 1234.5, "85%", True, "好"],
                [None] * 7,
                ["A02", " 西村 ", 3, 0, 70, "否", "差"],
                ["A03", None, "１２", 8, 0.5, False, "一般"],
            ],
            "说明": [["nothing"]],
        },
    )
    raw = read_raw(path)
    assert raw.encoding == "xlsx"
    assert raw.header_line == 3
    assert raw.frame.get_column(LINE).to_list() == [4, 6, 7]
    assert raw.frame.get_column("户数").to_list()[1:] == ["3", "12"]
    assessment = load_assessment(path, [RURAL])
    frame = only_part(assessment)
    assert frame.get_column("households").to_list() == [12, 3, 12]
    assert frame.get_column("income").to_list() == [1234.5, 0.0, 8.0]
    assert frame.get_column("has_grid").to_list() == [True, False, False]
    assert frame.get_column("branch_name").to_list() == ["东村", "西村", "A03"]


def test_xlsx_sheet_by_name_and_number(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {"封面": [["封面"]], "数据": [HEADER.split(","), ["A01", "东村", 12, 3, 85, "是", "好"]]},
    )
    assert read_raw(path, sheet="数据").frame.height == 1
    assert read_raw(path, sheet="2").frame.height == 1
    with pytest.raises(UsageError) as exc:
        read_raw(path, sheet="Sheet9")
    (problem,) = exc.value.problems
    assert "Sheet9" in problem.message
    assert problem.hint is not None and "'封面', '数据'" in problem.hint


def test_corrupt_xlsx(tmp_path: Path) -> None:
    good = write_xlsx(
        tmp_path / "good.xlsx", {"s": [HEADER.split(","), ["A01", "东村", 12, 3, 85, "是", "好"]]}
    )
    broken = write(tmp_path, good.read_bytes()[:300], name="broken.xlsx")
    with pytest.raises(DataError) as exc:
        read_raw(broken)
    (problem,) = exc.value.problems
    assert "cannot read the file as an Excel file" in problem.message
    assert problem.file == str(broken)


def test_xls_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, b"\xd0\xcf\x11\xe0junk", name="old.xls"))
    (problem,) = exc.value.problems
    assert ".xls" in problem.message
    assert problem.hint is not None and ".xlsx" in problem.hint


def test_a_parquet_name_on_other_bytes_is_refused_and_a_broken_parquet_too(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:  # read as CSV, it would complain of missing columns
        read_raw(write(tmp_path, HEADER + "\nA01,东村,12,3,85,是,好\n", name="x.parquet"))
    (problem,) = exc.value.problems
    assert "not a Parquet file" in problem.message and problem.code == "parquet"
    assert problem.hint is not None and ".csv" in problem.hint
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, b"PAR1" + b"\0" * 40, name="broken.parquet"))
    (problem,) = exc.value.problems
    assert "cannot read the file as Parquet" in problem.message
    assert problem.file is not None and problem.file.endswith("broken.parquet")


def test_empty_xlsx_sheet(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "e.xlsx", {"s": []})
    with pytest.raises(DataError, match="empty"):
        read_raw(path)


# ---- reading: layout --------------------------------------------------------------------------


def test_fixture_with_title_row_quoted_newline_comment_and_blank_line() -> None:
    path = ASSETS / "rural_title.csv"
    raw = read_raw(path)
    assert raw.header_line == 2
    assert raw.headers[0] == "支部编码"
    # record 1 spans lines 3-4; the comment (6) and the blank line (7) are skipped but counted
    assert raw.frame.get_column(LINE).to_list() == [3, 5, 8]
    assert raw.frame.item(0, "支部名称") == "东关村\n(含原西关村)"
    assert raw.frame.item(2, "支部名称") == "南街村"
    assessment = load_assessment(path, [RURAL])
    frame = only_part(assessment)
    assert frame.get_column("households").to_list() == [120, 98, 230]
    assert frame.get_column("income").to_list() == [1234.5, 12.0, 8.0]
    assert frame.get_column("toilet_rate").to_list() == [85.0, 90.0, 70.0]
    assert frame.get_column("criminal_cases").to_list() == [0, 0, 1]  # default for the empty cell
    assert frame.get_column("township").to_list() == ["城关镇"] * 3
    assert assessment.rows_read == 3
    # the comment row is left out with a word (issue 20 §8), nothing else is worth a warning
    assert [(p.line, p.message) for p in assessment.warnings] == [
        (6, "line 6 starts with '#': left out as a comment row")]


def test_line_numbers_after_quoted_newlines_in_error_messages(tmp_path: Path) -> None:
    text = csv_of('A01,"东\n村\n(新)",12,3.5,85%,是,好', "A02,西村,abc,1,1,是,好")
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    (problem,) = exc.value.problems
    assert (problem.line, problem.header, problem.value) == (5, "户数", "abc")


def test_stray_quote_inside_a_cell_keeps_line_numbers(tmp_path: Path) -> None:
    text = csv_of('A01,东村"新",12,3.5,85%,是,好', 'A02,"西""村",3,1,1,是,好', "A03,北村,x,1,1,是,好")
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    (problem,) = exc.value.problems
    assert problem.line == 4
    raw = read_raw(write(tmp_path, csv_of('A01,东村"新",12,3.5,85%,是,好', 'A02,"西""村",3,1,1,是,好')))
    assert raw.frame.get_column("支部名称").to_list() == ['东村"新"', '西"村']


def test_unbalanced_quote(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, csv_of(GOOD, 'A02,"西村,3,1,1,是,好', "A03,北村,1,1,1,是,好")))
    (problem,) = exc.value.problems
    assert problem.line == 3


def test_title_rows_above_the_header(tmp_path: Path) -> None:
    text = "XX县2024年第二季度五星支部自评表\n填报单位：城关镇,,\n" + csv_of(GOOD, "A02,西村,x,1,1,是,好")
    raw = read_raw(write(tmp_path, text))
    assert raw.header_line == 3
    assert raw.frame.get_column(LINE).to_list() == [4, 5]
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    assert exc.value.problems[0].line == 5


def test_header_found_by_an_english_or_full_width_name(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, "title\n ＢＲＡＮＣＨ_ID ,x\nA01,1\n"))
    assert raw.header_line == 2
    assert raw.headers == ["ＢＲＡＮＣＨ_ID", "x"]


def test_header_with_a_line_break(tmp_path: Path) -> None:
    text = '支部编码,"村集体经济\n年收入(万元)",户数,户厕改造完成率,是否建立网格化管理,年度述职评议等次\nA01,3,12,85,是,好\n'
    raw = read_raw(write(tmp_path, text))
    assert raw.headers[1] == "村集体经济 年收入(万元)"
    assert raw.frame.get_column(LINE).to_list() == [3]
    assessment = load(tmp_path, text)
    assert assessment.parts[0].headers["income"] == "村集体经济 年收入(万元)"
    assert only_part(assessment).get_column("income").to_list() == [3.0]


def test_duplicate_headers(tmp_path: Path) -> None:
    text = "支部编码,户数,名称,户 数,ＨＵ,hu\nA01,1,2,3,4,5\n"
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, text))
    messages = [p.message for p in exc.value.problems]
    assert messages == [
        "duplicate column header: column 2 '户数' and column 4 '户 数'",
        "duplicate column header: column 5 'ＨＵ' and column 6 'hu'",
    ]
    assert all(p.line == 1 for p in exc.value.problems)


def test_ragged_rows(tmp_path: Path) -> None:
    text = csv_of('A01,"东\n村",12,3.5,85%,是,好', "A02,西村,3,1,1,是", "A03,北村,3,1,1,是,好,多余")
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, text))
    problems = exc.value.problems
    assert [p.line for p in problems] == [4, 5]
    assert problems[0].message == "line 4 has 6 cells but the header (line 1) has 7"
    assert problems[1].message == "line 5 has 8 cells but the header (line 1) has 7"


def test_short_row_at_the_end_only(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="line 3 has 2 cells"):
        read_raw(write(tmp_path, csv_of(GOOD, "A02,西村")))


def test_trailing_empty_cells_are_not_ragged(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of("A01,东村,,,,,", 'A02,"",,,,,""')))
    assert raw.frame.get_column(LINE).to_list() == [2, 3]
    assert raw.frame.row(1) == (3, "A02", None, None, None, None, None, None)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b",,,\n,,\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, content))
    (problem,) = exc.value.problems
    assert problem.message == "the file is empty"


def test_header_only(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        read_raw(write(tmp_path, HEADER + "\n"))
    assert exc.value.problems[0].message == "no data rows below the header (line 1)"
    with pytest.raises(DataError, match=r"no data rows below the header \(line 2\)"):
        read_raw(write(tmp_path, "标题\n" + HEADER + "\n,,,,,,\n\n# 注释,,,,,,\n"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read the file"):
        read_raw(tmp_path / "nope.csv")


def test_cells_are_normalised(tmp_path: Path) -> None:
    raw = read_raw(
        write(tmp_path, csv_of("Ａ０１ ,\u3000东村\u3000,１２,３．５,８５％,是,好", "A02,  ,3,1,1,是,好"))
    )
    assert raw.frame.row(0) == (2, "A01", "东村", "12", "3.5", "85%", "是", "好")
    assert raw.frame.item(1, "支部名称") is None


# ---- loading: typed frames ----------------------------------------------------------------------


def test_loaded_frame_layout_and_types(tmp_path: Path) -> None:
    assessment = load(tmp_path, csv_of(GOOD, "A02,,1,0,0%,否,差"))
    frame = only_part(assessment)
    assert frame.columns == [LINE, *RESERVED, *RURAL.input_fields()]
    assert frame.schema[LINE] == pl.Int64
    assert all(frame.schema[c] == pl.String for c in RESERVED)
    assert frame.schema["households"] == pl.Int64
    assert frame.schema["income"] == pl.Float64
    assert frame.schema["toilet_rate"] == pl.Float64
    assert frame.schema["has_grid"] == pl.Boolean
    assert frame.schema["review_grade"] == pl.String
    assert "toilet_ratio" not in frame.columns  # derived fields are the engine's job
    assert frame.get_column("branch_name").to_list() == ["东村", "A02"]  # defaults to the id
    assert frame.get_column("county").to_list() == [None, None]
    assert assessment.parts[0].headers == {
        "households": "户数",
        "income": "村集体经济年收入(万元)",
        "toilet_rate": "户厕改造完成率",
        "has_grid": "是否建立网格化管理",
        "review_grade": "年度述职评议等次",
    }
    assert assessment.rows_read == 2
    assert assessment.periods == []
    assert assessment.period is None
    # the criminal_cases column is missing: its default stands for every row, with a warning
    assert frame.get_column("criminal_cases").to_list() == [0, 0]
    (warning,) = assessment.warnings
    assert warning.severity == "warning"
    assert "刑事案件数" in warning.message and "default 0" in warning.message


def test_alias_header_and_default_for_empty_cells(tmp_path: Path) -> None:
    text = csv_of(GOOD + ",", "A02,西村,3,1,1,是,好,2", header=HEADER + ",刑事案件")
    assessment = load(tmp_path, text)
    assert only_part(assessment).get_column("criminal_cases").to_list() == [0, 2]
    assert assessment.parts[0].headers["criminal_cases"] == "刑事案件"
    assert assessment.warnings == []


def test_reserved_columns_by_chinese_headers(tmp_path: Path) -> None:
    text = (
        "组织编码,党组织名称,县(市、区),乡镇(街道),支部类型,月份,户数\nA01,东村,XX县,城关镇,村,2024-06,12\n"
    )
    crit = make_criteria(fields={"households": {"header": "户数", "type": "integer"}})
    frame = only_part(load(tmp_path, text, [crit]))
    assert frame.row(0) == (2, "A01", "东村", "XX县", "城关镇", "村", "2024-06", 12)


def test_all_bad_cells_are_listed_together(tmp_path: Path) -> None:
    text = csv_of(GOOD, "A02,乙,abc,-1,101,maybe,极好", "A03,丙,3,nan,85%,是,好", "A04,丁,12.5,1,1,是,好")
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    got = [(p.line, p.header, p.value, p.message) for p in exc.value.problems]
    assert got == [
        (3, "户数", "abc", "not a whole number"),
        (3, "村集体经济年收入(万元)", "-1", "below the minimum 0"),
        (3, "户厕改造完成率", "101", "above the maximum 100"),
        (3, "是否建立网格化管理", "maybe", "not a yes/no value (是/否, 有/无, √/×, …)"),
        (3, "年度述职评议等次", "极好", "not one of 好, 较好, 一般, 差"),
        (4, "村集体经济年收入(万元)", "nan", "not a number"),
        (5, "户数", "12.5", "not a whole number"),
    ]
    assert all(p.file == str(tmp_path / "data.csv") and p.is_error for p in exc.value.problems)


def test_problem_list_is_capped(tmp_path: Path) -> None:
    rows = [f"A{i:04d},村,x,y,1,是,好" for i in range(150)]
    with pytest.raises(DataError) as exc:
        load(tmp_path, csv_of(*rows))
    problems = exc.value.problems
    assert len(problems) == MAX_LISTED + 1
    assert problems[-1].message == f"… and {300 - MAX_LISTED} more"
    assert [p.line for p in problems[:4]] == [2, 2, 3, 3]


def test_empty_branch_id(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        load(tmp_path, csv_of(GOOD, ",西村,3,1,1,是,好"))
    (problem,) = exc.value.problems
    assert (problem.line, problem.header, problem.message) == (3, "支部编码", "empty branch id")


def test_duplicate_ids_including_full_width_variants(tmp_path: Path) -> None:
    text = csv_of(
        GOOD, "A02,西村,3,1,1,是,好", "Ａ01,东村2,3,1,1,是,好", "B1,x,1,1,1,是,好", "A02,y,1,1,1,是,好"
    )
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    got = [(p.line, p.value, p.message) for p in exc.value.problems]
    assert got == [
        (2, "A01", "branch id 'A01' appears 2 times: lines 2, 4"),
        (3, "A02", "branch id 'A02' appears 2 times: lines 3, 6"),
    ]


def test_duplicate_ids_are_fatal_even_with_skip_invalid(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="appears 2 times"):
        load(tmp_path, csv_of(GOOD, GOOD), skip_invalid=True)


def test_missing_values_are_warnings(tmp_path: Path) -> None:
    assessment = load(tmp_path, csv_of(GOOD, "A02,西村,,1,1,是,", "A03,北村,,1,1,是,好"))
    frame = only_part(assessment)
    assert frame.get_column("households").to_list() == [12, None, None]
    missing = [w for w in assessment.warnings if w.code == "missing-value"]
    assert [(w.header, w.message, w.line) for w in missing] == [
        ("户数", "2 empty cells (lines 3, 4)", 3),
        ("年度述职评议等次", "1 empty cell (line 3)", 3),
    ]
    assert all(w.severity == "warning" for w in missing)


def test_strict_makes_missing_values_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        load(tmp_path, csv_of(GOOD, "A02,西村,,1,1,是,", "A03,北村,x,1,1,是,好"), strict=True)
    got = [(p.line, p.header, p.message) for p in exc.value.problems]
    assert got == [
        (3, "户数", "empty cell (no default)"),
        (3, "年度述职评议等次", "empty cell (no default)"),
        (4, "户数", "not a whole number"),
    ]


def test_skip_invalid_accounting(tmp_path: Path) -> None:
    text = csv_of(
        GOOD, "A02,乙,abc,-1,1,是,好", "A03,丙,3,1,1,是,好", "A04,丁,3,1,1,也许,好", "A05,戊,,1,1,是,好"
    )
    assessment = load(tmp_path, text, skip_invalid=True)
    frame = only_part(assessment)
    assert frame.get_column("branch_id").to_list() == ["A01", "A03", "A05"]
    assert [(r.line, r.branch_id) for r in assessment.rejected] == [(3, "A02"), (5, "A04")]
    assert assessment.rejected[0].reasons == (
        "column '户数' value 'abc': not a whole number",
        "column '村集体经济年收入(万元)' value '-1': below the minimum 0",
    )
    assert assessment.rows_read == frame.height + len(assessment.rejected) == 5
    # the missing value of a kept row is still reported
    assert [w.message for w in assessment.warnings if w.code == "missing-value"] == ["1 empty cell (line 6)"]


def test_skip_invalid_with_strict_rejects_rows_with_empty_cells(tmp_path: Path) -> None:
    assessment = load(tmp_path, csv_of(GOOD, "A02,西村,,1,1,是,好"), skip_invalid=True, strict=True)
    assert only_part(assessment).get_column("branch_id").to_list() == ["A01"]
    assert assessment.rejected[0].reasons == ("column '户数' value '': empty cell (no default)",)
    assert assessment.rows_read == 2


def test_invalid_default_is_a_criteria_error(tmp_path: Path) -> None:
    crit = make_criteria(fields={**FIELDS, "criminal_cases": {"type": "integer", "min": 0, "default": -1}})
    with pytest.raises(CriteriaError, match="default '-1' is not valid: below the minimum 0"):
        load(tmp_path, csv_of(GOOD), [crit])


# ---- periods ------------------------------------------------------------------------------------


def test_several_periods_need_a_choice() -> None:
    with pytest.raises(UsageError) as exc:
        load_assessment(ASSETS / "mixed_periods.csv", [RURAL, COMMUNITY])
    (problem,) = exc.value.problems
    assert problem.message == "the file holds 2 periods: 2024-Q1, 2024-Q2"
    assert problem.hint is not None and "--period" in problem.hint


def test_period_selection_and_branch_types() -> None:
    assessment = load_assessment(ASSETS / "mixed_periods.csv", [RURAL, COMMUNITY], period="2024-q2")
    assert assessment.period == "2024-Q2"
    assert assessment.periods == ["2024-Q1", "2024-Q2"]
    assert assessment.rows_read == 3
    rural, community = assessment.parts
    assert rural.criteria.id == "henan-rural"
    assert rural.frame.get_column("branch_id").to_list() == ["4101001", "4101003"]
    assert rural.frame.get_column(LINE).to_list() == [4, 6]
    assert community.criteria.id == "henan-community"
    assert community.frame.get_column("branch_id").to_list() == ["4101002"]
    assert community.frame.get_column("has_grid").to_list() == [True]
    assert community.frame.get_column("branch_type").to_list() == ["城市社区"]


def test_the_same_id_in_two_periods_is_not_a_duplicate() -> None:
    assessment = load_assessment(ASSETS / "mixed_periods.csv", [RURAL, COMMUNITY], period="2024-Q1")
    assert [p.frame.height for p in assessment.parts] == [1, 1]


def test_unknown_period() -> None:
    with pytest.raises(UsageError) as exc:
        load_assessment(ASSETS / "mixed_periods.csv", [RURAL, COMMUNITY], period="2024-Q3")
    assert (
        exc.value.problems[0].message == "no rows for period '2024-Q3'; periods in the file: 2024-Q1, 2024-Q2"
    )


def test_period_without_a_period_column(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no period column"):
        load(tmp_path, csv_of(GOOD), period="2024-Q1")


def test_single_period_is_reported(tmp_path: Path) -> None:
    assessment = load(tmp_path, csv_of(GOOD + ",2024年二季度", header=HEADER + ",季度"))
    assert assessment.periods == ["2024-Q2"]  # in canonical form (issue 20, point 4)
    assert assessment.period == "2024-Q2"


def test_empty_period_cell_is_an_error(tmp_path: Path) -> None:
    text = csv_of(GOOD + ",2024-Q2", "A02,西村,3,1,1,是,好,", header=HEADER + ",季度")
    with pytest.raises(DataError) as exc:
        load(tmp_path, text)
    (problem,) = exc.value.problems
    assert (problem.line, problem.header) == (3, "季度")


# ---- branch types -------------------------------------------------------------------------------


def test_single_criteria_without_type_column_takes_every_row(tmp_path: Path) -> None:
    assessment = load(tmp_path, csv_of(GOOD, "A02,西村,3,1,1,是,好"), [RURAL])
    assert only_part(assessment).height == 2


def test_several_criteria_need_a_type_column(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as exc:
        load(tmp_path, csv_of(GOOD), [RURAL, COMMUNITY])
    assert "no branch type column" in exc.value.problems[0].message


def test_unclaimed_branch_type(tmp_path: Path) -> None:
    text = csv_of(
        GOOD + ",village", "A02,西村,3,1,1,是,好,机关", "A03,x,3,1,1,是,好,", header=HEADER + ",类型"
    )
    with pytest.raises(DataError) as exc:
        load(tmp_path, text, [RURAL, COMMUNITY])
    got = [(p.line, p.value, p.message) for p in exc.value.problems]
    assert got[0][:2] == (3, "机关")
    assert "not a branch type of the criteria given" in got[0][2]
    assert "农村" in got[0][2] and "社区" in got[0][2]
    assert got[1][0] == 4 and "empty branch type" in got[1][2]


def test_single_criteria_rejects_other_types(tmp_path: Path) -> None:
    text = csv_of(GOOD + ",社区", header=HEADER + ",类型")
    with pytest.raises(DataError, match="not a branch type"):
        load(tmp_path, text, [RURAL])
    assessment = load(tmp_path, text, [RURAL], skip_invalid=True)
    assert assessment.parts == []
    assert assessment.rows_read == 1
    assert assessment.rejected[0].reasons[0].startswith("column '类型' value '社区': not a branch type")


def test_criteria_aliases_claim_types(tmp_path: Path) -> None:
    crit = make_criteria("机关", "organs", branch_type_aliases=["机关单位"])
    text = csv_of(GOOD + ",机关单位", "A02,西村,3,1,1,是,好,RURAL", header=HEADER + ",类型")
    assessment = load(tmp_path, text, [RURAL, crit])
    assert [(p.criteria.id, p.frame.height) for p in assessment.parts] == [("henan-rural", 1), ("organs", 1)]


def test_two_criteria_claiming_one_type_fail_before_reading(tmp_path: Path) -> None:
    with pytest.raises(DataError) as exc:
        load_assessment(tmp_path / "never-read.csv", [RURAL, make_criteria("村", "other")])
    (problem,) = exc.value.problems
    assert problem.message.startswith("criteria 'henan-rural' and 'other' both claim branch type")


# ---- check_headers ------------------------------------------------------------------------------


def test_check_headers_clean(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD + ",0", header=HEADER + ",刑事案件数")))
    assert check_headers(raw, [RURAL]) == []


def test_check_headers_missing_branch_id(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, "支部编号,户数\nA01,1\n"))
    problems = [p for p in check_headers(raw, [RURAL]) if "branch id" in p.message]
    (problem,) = problems
    assert problem.is_error
    assert problem.message == "no branch id column: expected one of branch_id, 支部编码, 组织编码, 编码, 代码"
    assert problem.hint is not None
    assert "did you mean '支部编号'" in problem.hint
    assert "'支部编号', '户数'" in problem.hint


def test_check_headers_missing_field_columns(tmp_path: Path) -> None:
    raw = read_raw(
        write(tmp_path, "支部编码,户数量,户厕改造完成率,是否建立网格化管理,年度述职评议等次\nA01,1,1,是,好\n")
    )
    problems = check_headers(raw, [RURAL])
    errors = [p for p in problems if p.is_error]
    warnings = [p for p in problems if not p.is_error]
    assert [p.message for p in errors] == [
        "missing column '户数' for field 'households' of henan-rural",
        "missing column '村集体经济年收入(万元)' for field 'income' of henan-rural",
    ]
    assert errors[0].hint is not None and errors[0].hint.startswith("did you mean '户数量'?")
    assert "columns in the file: '户数量', '户厕改造完成率'" in errors[0].hint
    assert [p.message for p in warnings] == [
        "no column '刑事案件数' (field 'criminal_cases' of henan-rural): every row takes its default 0"
    ]
    with pytest.raises(DataError, match="missing column '户数'"):
        load_assessment(Path(raw.path), [RURAL])


def test_check_headers_conflicts(tmp_path: Path) -> None:
    fields = {
        "a": {"header": "名称", "type": "text"},
        "b": {"header": "户数", "type": "integer"},
        "c": {"header": "户数合计", "type": "integer", "aliases": ["户数"]},
    }
    crit = make_criteria(fields=fields)
    raw = read_raw(write(tmp_path, "支部编码,名称,户数\nA01,x,1\n"))
    messages = [p.message for p in check_headers(raw, [crit]) if p.is_error]
    assert messages == [
        "column '名称' is both the branch name and field 'a' of henan-rural",
        "column '户数' matches two fields of henan-rural: 'b' and 'c'",
    ]


def test_check_headers_ambiguous_columns_warn(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, "编码,支部编码,户数,刑事案件,刑事案件数\nA,A01,1,0,0\n"))
    fields = {"households": FIELDS["households"], "criminal_cases": FIELDS["criminal_cases"]}
    problems = check_headers(raw, [make_criteria(fields=fields)])
    assert [p.message for p in problems] == [
        "columns '支部编码', '编码' all look like the branch id; using '支部编码'",
        "columns '刑事案件数', '刑事案件' all match field 'criminal_cases' of henan-rural; using '刑事案件数'",
    ]
    assert all(not p.is_error for p in problems)


def test_check_headers_several_criteria() -> None:
    raw = read_raw(ASSETS / "mixed_periods.csv")
    assert [p.message for p in check_headers(raw, [RURAL, COMMUNITY]) if p.is_error] == []


def test_check_headers_only_checks_criteria_with_rows(tmp_path: Path) -> None:
    fields = {"staff": {"header": "社区工作者人数", "type": "integer"}}
    community = make_criteria("社区", "c", fields=fields)
    raw = read_raw(write(tmp_path, csv_of(GOOD + ",村", header=HEADER + ",类型")))
    assert [p for p in check_headers(raw, [RURAL, community]) if p.is_error] == []
    no_type = read_raw(write(tmp_path, csv_of(GOOD), name="b.csv"))
    assert any("no branch type column" in p.message for p in check_headers(no_type, [RURAL, community]))


def test_reserved_headers_table() -> None:
    assert RESERVED_HEADERS["branch_id"] == ("branch_id", "支部编码", "组织编码", "编码", "代码")
    # SPEC §3's headers first, then the variants counties' forms use (issue 20 point 9)
    assert RESERVED_HEADERS["branch_name"][1:5] == ("支部名称", "党组织名称", "名称", "村(社区)")
    assert {"村(社区)名称", "党支部名称", "村名", "村名称", "社区名称"} <= set(RESERVED_HEADERS["branch_name"])
    assert RESERVED_HEADERS["county"][1:4] == ("县区", "县(市、区)", "县(市,区)")
    assert "所属县区" in RESERVED_HEADERS["county"]
    assert RESERVED_HEADERS["township"][1:4] == ("乡镇", "乡镇(街道)", "街道")
    assert {"所属乡镇", "乡镇(街道)名称", "所属乡镇(街道)"} <= set(RESERVED_HEADERS["township"])
    assert RESERVED_HEADERS["branch_type"][1:] == ("类型", "支部类型")
    assert RESERVED_HEADERS["period"][1:] == ("期间", "月份", "季度")
    assert header_key(" 县（市，区） ") == header_key("县(市,区)")
    assert header_key("Branch ID") == header_key("branchid")


# ---- odd inputs -----------------------------------------------------------------------------------


def test_xlsx_dates_and_a_misnamed_workbook(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"  # an .xlsx saved under a .csv name is still read as Excel
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["支部编码", "月份", "户数"])
    sheet.write(1, 0, "A01")
    sheet.write_datetime(1, 1, datetime.datetime(2024, 6, 1), workbook.add_format({"num_format": "yyyy-mm"}))
    sheet.write(1, 2, 410102001001)
    workbook.close()
    raw = read_raw(path)
    assert raw.encoding == "xlsx"
    assert raw.frame.row(0) == (2, "A01", "2024-06-01", "410102001001")


def test_utf16_and_renamed_xls_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="UTF-16"):
        read_raw(write(tmp_path, "支部编码\tx\nA01\t1\n".encode("utf-16")))
    with pytest.raises(DataError, match=r"\.xls"):
        read_raw(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", name="old.csv"))


def test_rows_of_spaces_are_empty(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, csv_of(GOOD, " ,\u3000, , , , , ", "A02,西村,3,1,1,是,好")))
    assert raw.frame.get_column(LINE).to_list() == [2, 4]


def test_odd_header_names_do_not_clash_with_internal_columns(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path, "支部编码,__line,,户数\nA01,x,y,1\n"))
    assert raw.headers == ["支部编码", "__line", "", "户数"]
    assert raw.frame.columns == [LINE, "支部编码", "__column_2", "__column_3", "户数"]
    assert raw.column_name(3) == "户数"


def test_gbk_past_the_first_mebibyte(tmp_path: Path) -> None:
    """A GBK file whose first MiB is ASCII is still detected (polars fails, Python decodes)."""
    rows = [f"A{i:06d},village{i},{i % 90 + 1},3,85,yes,好" for i in range(30_000)]
    text = csv_of(*rows, "B1,东村,12,3,85,是,好")
    assert len(text.encode("gbk")) > 1 << 20
    assessment = load(tmp_path, text.encode("gbk"))
    assert assessment.encoding == "gb18030"
    frame = only_part(assessment)
    assert frame.height == 30_001
    assert frame.row(-1, named=True)["branch_name"] == "东村"
    assert frame.get_column(LINE).to_list()[-1] == 30_002


def test_comment_and_quote_corner_cases(tmp_path: Path) -> None:
    text = csv_of(
        GOOD,
        '# 注意: 含有一个引号" 的注释,,,,,,',
        'A02,"多行\n名称",3,1,1,是,好',
        '"#A03",注释也可以加引号,3,1,1,是,好',
        "＃A04,全角井号,3,1,1,是,好",
        "A05,北村,3,1,1,是,好",
        "",
        "",
    )
    raw = read_raw(write(tmp_path, text))
    assert raw.frame.get_column(LINE).to_list() == [2, 4, 8]
    assert raw.frame.get_column("支部编码").to_list() == ["A01", "A02", "A05"]


def test_comment_rows_written_by_excel_and_by_hand(tmp_path: Path) -> None:
    excel = csv_of('#说明,"第一行\n第二行",,,,,', GOOD)
    assert read_raw(write(tmp_path, excel)).frame.get_column(LINE).to_list() == [4]
    by_hand = csv_of('# 注意: 一个引号" 和, 很多, 逗号, a, b, c, d, e', GOOD)
    assert read_raw(write(tmp_path, by_hand)).frame.get_column(LINE).to_list() == [3]
    too_long = csv_of("# 注: a, b, c, d, e, f, g, h", GOOD)
    assert read_raw(write(tmp_path, too_long)).frame.get_column(LINE).to_list() == [3]


def test_comments_in_excel(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "c.xlsx",
        {
            "s": [
                HEADER.split(","),
                ["# 说明"],
                ["A01", "东村", 12, 3, 85, "是", "好"],
                [],
                ["A02", "西村", 1, 1, 1, "否", "差"],
            ]
        },
    )
    assert read_raw(path).frame.get_column(LINE).to_list() == [3, 5]


_CELL_TEXT = st.text(alphabet=st.sampled_from(list('ab东 ,"\n#\u3000１')), max_size=6)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            _CELL_TEXT,
            _CELL_TEXT,
            st.sampled_from(["", "\n", "# c,,\n", ",,\n", "# a, hand-written, note, with, commas\n"]),
            st.booleans(),
        ),
        max_size=12,
    ),
    crlf=st.booleans(),
    title=st.booleans(),
)
def test_line_numbers_match_what_an_editor_shows(
    tmp_path: Path, rows: list[tuple[str, str, str, bool]], crlf: bool, title: bool
) -> None:
    """Random names with commas, quotes, line breaks; blank and comment lines in between."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    line = 1
    if title:
        out.write("某县五星支部自评表\n")
        line += 1
    writer.writerow(["支部编码", "支部名称", "备注"])
    expected: list[tuple[int, str, str | None, str | None]] = []
    for i, (name, note, filler, comment) in enumerate(rows):
        line += 1
        start = out.tell()
        branch = f"#A{i}" if comment else f"A{i}"
        writer.writerow([branch, name, note])
        written = out.getvalue()[start:]
        if not comment:
            expected.append((line, branch, normalize_text(name), normalize_text(note)))
        line += written.count("\n") - 1
        out.write(filler)
        line += filler.count("\n")
    text = out.getvalue()
    if crlf:
        text = text.replace("\n", "\r\n")
    path = write(tmp_path, text, name="random.csv")
    if not expected:
        with pytest.raises(DataError, match="no data rows"):
            read_raw(path)
        return
    raw = read_raw(path)
    got = raw.frame.rows()
    if crlf:  # a line break inside a quoted cell keeps its \r
        got = [(n, i, a and a.replace("\r\n", "\n"), b and b.replace("\r\n", "\n")) for n, i, a, b in got]
    assert got == expected
