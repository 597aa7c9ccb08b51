"""Rows and columns as counties send them (issue 20): ids Excel mangled (point 5), totals rows (6),
header variants (9) and percents written as fractions (11)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import polars as pl
import pytest

from tests.support import CORPUS
from wuxing_cli.engine.compare import id_match
from wuxing_cli.errors import DataError, ProblemCode
from wuxing_cli.io.assessment import load_assessment
from wuxing_cli.io.criteria_loader import load_criteria
from wuxing_cli.io.headers import check_headers
from wuxing_cli.io.reader import read_raw
from wuxing_cli.models.contract import RESERVED_HEADERS, header_key
from wuxing_cli.pipeline.id_match import id_mismatch_problems

CRITERIA = load_criteria(str(CORPUS / "base.yaml"))
HEADER = "支部编码,支部名称,乡镇,类型,期间,集体收入(万元),户数,完成率(%),网格化,评议等次,案件数"
REST = "农村,2024-Q1,55,300,{rate},是,好,0"


def write(tmp_path: Path, *rows: str, header: str = HEADER, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def row(bid: str, name: str, rate: str = "90", town: str = "城关镇") -> str:
    return f"{bid},{name},{town}," + REST.format(rate=rate)


# ---- point 5: ids Excel mangled -------------------------------------------------------------------


def test_scientific_notation_ids_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, row("4.15556E+11", "甲村"), row("4.15556e+11", "乙村"), row("415556004003", "丙村"))
    with pytest.raises(DataError) as exc:
        load_assessment(path, [CRITERIA])
    problems = exc.value.problems
    # two errors, one per cell: not also "branch id '4.15556E+11' appears twice"
    assert [(p.line, p.value, p.code) for p in problems] == [
        (2, "4.15556E+11", ProblemCode.ID_SCIENTIFIC),
        (3, "4.15556e+11", ProblemCode.ID_SCIENTIFIC),
    ]
    assert problems[0].format() == (
        f"{path}:2: error: branch id in scientific notation: Excel changed the id [column '支部编码', value "
        "'4.15556E+11'] — the id column was saved as a number: format the column as text in Excel and save "
        "again (the digits Excel dropped cannot be recovered from this file: type or paste the ids again)"
    )


def test_scientific_notation_ids_rejected_with_skip_invalid(tmp_path: Path) -> None:
    path = write(tmp_path, row("4.15556E+11", "甲村"), row("415556004003", "丙村"))
    assessment = load_assessment(path, [CRITERIA], skip_invalid=True)
    assert [r.line for r in assessment.rejected] == [2]
    assert assessment.parts[0].frame.get_column("branch_id").to_list() == ["415556004003"]


def frame(ids: list[str], names: list[str], town: str = "城关镇") -> pl.DataFrame:
    return pl.DataFrame({"branch_id": ids, "branch_name": names, "township": [town] * len(ids)})


def test_ids_that_lost_leading_zeros_are_reported() -> None:
    old = frame(["0415001", "0415002", "0415003"], ["甲村", "乙村", "丙村"])
    new = frame(["415001", "415002", "415003"], ["甲村", "乙村", "丙村"])
    stat = id_match(old, new)
    assert (stat.by_id, stat.by_name, stat.renamed, stat.zeros, stat.mismatched) == (0, 3, 3, 3, True)
    [problem] = id_mismatch_problems(old, new, "q3.csv", "q4.csv")
    assert problem.code is ProblemCode.IDS_UNMATCHED and problem.severity == "warning"
    assert problem.format() == (
        "q4.csv: warning: only 0 of 3 branches have the same branch id here and in q3.csv, but 3 match by name "
        "and township (甲村: '0415001' → '415001', 乙村: '0415002' → '415002', 丙村: '0415003' → '415003'): "
        "they show as new and removed branches — 3 of them differ only in leading zeros: the ids were stored "
        "as numbers (Excel drops leading zeros); format the id column as text in Excel, type the ids again "
        "and save"
    )


def test_ids_that_match_or_branches_that_changed_are_not_reported() -> None:
    old = frame(["0415001", "0415002", "0415003"], ["甲村", "乙村", "丙村"])
    assert id_mismatch_problems(old, old, "a.csv", "b.csv") == []
    other = frame(["9001", "9002", "9003"], ["子村", "丑村", "寅村"])  # other branches: nothing to say
    assert id_mismatch_problems(old, other, "a.csv", "b.csv") == []


# ---- point 6: totals rows -------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["合计", "总计", "小计", "总数", "合 计", "城关镇小计", "合计："])
def test_totals_row_is_left_out_with_a_note(tmp_path: Path, label: str) -> None:
    path = write(tmp_path, row("001", "甲村"), row("002", "乙村"), f",{label},,,,110,600,,,,")
    assessment = load_assessment(path, [CRITERIA])
    assert assessment.parts[0].frame.get_column("branch_id").to_list() == ["001", "002"]
    [note] = [w for w in assessment.warnings if w.code is ProblemCode.TOTALS_ROW]
    assert note.severity == "warning" and note.line == 4 and note.header == "支部名称"
    label = unicodedata.normalize("NFKC", label)  # cells are read NFKC-normalised: 合计： → 合计:
    assert note.format() == (
        f"{path}:4: warning: left out as a totals row ('{label}'): it is not a branch and is not scored "
        f"[column '支部名称', value '{label}'] — a 合计/小计 row is not needed: wuxing adds up the branches "
        "itself; delete the row to silence this note"
    )


def test_totals_row_causes_no_empty_type_or_period_errors(tmp_path: Path) -> None:
    community = load_criteria(str(CORPUS / "base-community.yaml"))
    path = write(tmp_path, row("001", "甲村"), "合计,,,,,55,300,,,,")  # label in the id column, no type
    assessment = load_assessment(path, [CRITERIA, community])
    assert assessment.rows_read == 1
    assert [(w.line, w.header, w.value) for w in assessment.warnings if w.code is ProblemCode.TOTALS_ROW] == [
        (3, "支部编码", "合计")
    ]


def test_totals_label_in_a_serial_number_column(tmp_path: Path) -> None:
    header = "序号," + HEADER
    path = write(tmp_path, "1," + row("001", "甲村"), "合计,,,,,,55,300,,,,", header=header)
    assessment = load_assessment(path, [CRITERIA])
    [note] = [w for w in assessment.warnings if w.code is ProblemCode.TOTALS_ROW]
    assert (note.line, note.header, note.value) == (3, "序号", "合计")


def test_a_branch_whose_id_is_given_is_not_a_totals_row(tmp_path: Path) -> None:
    path = write(tmp_path, row("001", "合计村"), row("002", "小计"))
    assessment = load_assessment(path, [CRITERIA])
    assert assessment.parts[0].frame.height == 2
    assert not [w for w in assessment.warnings if w.code is ProblemCode.TOTALS_ROW]


# ---- point 9: header variants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "town"),
    [
        ("村（社区）名称", "所属乡镇"),
        ("村(社区)名称", "乡镇（街道）名称"),
        ("社区名称", "所属乡镇（街道）"),
        ("村名", "乡镇"),
        ("村名称", "乡镇"),
        ("党支部名称", "乡镇"),
        ("党组织名称", "乡镇"),
        ("支部名称", "乡镇"),
    ],
)
def test_header_variants_are_recognised(tmp_path: Path, name: str, town: str) -> None:
    header = HEADER.replace("支部名称", name).replace("乡镇", town, 1)
    path = write(tmp_path, row("001", "甲村", town="城关镇"), header=header)
    assessment = load_assessment(path, [CRITERIA])
    part = assessment.parts[0].frame
    assert part.get_column("branch_name").to_list() == ["甲村"]
    assert part.get_column("township").to_list() == ["城关镇"]
    assert not [w for w in assessment.warnings if w.code is ProblemCode.NO_NAME_COLUMN]


def test_county_variant_and_full_width_brackets() -> None:
    assert header_key("所属县区") in {header_key(h) for h in RESERVED_HEADERS["county"]}
    assert header_key("村（社区）名称") == header_key("村(社区)名称")


def test_unrecognised_name_column_is_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, row("001", "甲村"), row("002", "乙村"), header=HEADER.replace("支部名称", "村社区名"))
    assessment = load_assessment(path, [CRITERIA])
    [warning] = [w for w in assessment.warnings if w.code is ProblemCode.NO_NAME_COLUMN]
    assert warning.format() == (
        f"{path}:1: warning: no branch name column (a header such as 支部名称, 党组织名称, 名称, 村(社区), "
        "村(社区)名称, 党支部名称): reports show the branch ids instead of names; columns holding text that no "
        "rule reads: '村社区名' [column '村社区名'] — if '村社区名' holds the names, rename its header to 支部名称 "
        "(or 村(社区)名称)"
    )
    assert warning in check_headers(read_raw(path), [CRITERIA])


def test_no_warning_for_a_file_of_ids_and_numbers(tmp_path: Path) -> None:
    header = HEADER.replace("支部名称,", "")
    path = write(tmp_path, "001,城关镇," + REST.format(rate="90"), header=header)
    assessment = load_assessment(path, [CRITERIA])
    assert not [w for w in assessment.warnings if w.code is ProblemCode.NO_NAME_COLUMN]


# ---- point 11: percents written as fractions --------------------------------------------------------


def test_fractions_in_a_percent_column_are_named(tmp_path: Path) -> None:
    rates = ["90", "0.9", "96", "88", "0.85", "0.5%", "0", "75", "82.5"]
    path = write(tmp_path, *(row(f"00{i}", f"村{i}", rate) for i, rate in enumerate(rates, 1)))
    assessment = load_assessment(path, [CRITERIA])
    [warning] = [w for w in assessment.warnings if w.code is ProblemCode.PERCENT_SCALE]
    assert warning.format() == (
        f"{path}:3: warning: 2 values between 0 and 1 in a percent column where 5 of 9 values are above 1 "
        "(lines 3, 6: 0.9, 0.85): 0.9 is scored as 0.9 %, not 90 % [column '完成率(%)', value '0.9'] — "
        "field 'rate' of corpus-rural is in percent (0–100): if 0.9 means 90 %, write 90 or 90% "
        "(in Excel, format the cells as a percentage)"
    )
    # scoring is unchanged: 0.9 is still 0.9
    assert assessment.parts[0].frame.get_column("rate").to_list()[1] == 0.9


@pytest.mark.parametrize(
    "rates",
    [
        ["0.9", "0.8", "0.95", "0.7", "0.5"],  # all ≤ 1: a column of small percentages, not a mistake
        ["90", "80", "95", "70", "50"],  # all > 1
        ["90", "0.9", "80"],  # too few values to tell
        ["90", "0.9", "0.8", "0.7", "95"],  # most are not above 1
    ],
)
def test_no_percent_warning_when_the_column_cannot_tell(tmp_path: Path, rates: list[str]) -> None:
    path = write(tmp_path, *(row(f"00{i}", f"村{i}", rate) for i, rate in enumerate(rates, 1)))
    assessment = load_assessment(path, [CRITERIA])
    assert not [w for w in assessment.warnings if w.code is ProblemCode.PERCENT_SCALE]
