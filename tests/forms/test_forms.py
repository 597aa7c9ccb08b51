"""Data-entry forms (wuxing template), merging submissions (wuxing merge) and wuxing init.

Generated workbooks are read back with openpyxl, an independent reader, not with the writer.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import openpyxl
import polars as pl
import pytest

import wuxing_cli.cli.forms  # noqa: F401  (registers template, merge and init on the app)
from tests.support import SRC, invoke
from wuxing_cli.devtools.synth.table import synthesize
from wuxing_cli.forms.layout import build_form
from wuxing_cli.forms.merge import merge_files
from wuxing_cli.forms.uses import field_uses
from wuxing_cli.forms.xlsx import write_form_xlsx
from wuxing_cli.io.criteria_loader import load_criteria
from wuxing_cli.models.criteria import FieldType
from wuxing_cli.pipeline.score import run_score

RESERVED = ["支部编码", "支部名称", "县区", "乡镇", "类型", "期间"]


@pytest.fixture(scope="module")
def rural():  # type: ignore[no-untyped-def]
    return load_criteria("rural")


@pytest.fixture(scope="module")
def community():  # type: ignore[no-untyped-def]
    return load_criteria("community")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = invoke(args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def header_row(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    return [c.value for c in sheet[1]]


def validations(sheet) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Column letter → its data validation."""
    out = {}
    for dv in sheet.data_validations.dataValidation:
        for cell_range in dv.sqref.ranges:
            out[cell_range.coord.split(":")[0].rstrip("0123456789")] = dv
    return out


def fill(form: Path, rows: pl.DataFrame, target: Path) -> None:
    """Fill a generated form as a person would in Excel: numbers as numbers, the rest as typed."""
    book = openpyxl.load_workbook(form)
    sheet = book.worksheets[0]
    headers = [c.value for c in sheet[1]]
    for r, row in enumerate(rows.select(headers).iter_rows(), start=2):
        for c, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=r, column=c)
            try:
                number = float(value.replace(",", ""))
                is_number = headers[c - 1] not in RESERVED
            except ValueError:
                is_number = False
            if is_number and "%" not in value:
                cell.value = int(number) if number.is_integer() else number
            else:
                cell.value = value
    book.save(target)


# ---------------------------------------------------------------------------------------------
# template


def test_xlsx_template_headers_validation_comments_and_frozen_header(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "自评表.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # xlsxwriter warns (and drops the validation) on overlong texts
        code, stdout, stderr = run("template", "-c", "rural", "-o", out)
    assert code == 0, stderr
    assert stdout == ""
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["自评表", "填表说明"]
    sheet = book.worksheets[0]
    inputs = rural.input_fields()
    headers = [c.value for c in sheet[1]]
    assert headers == RESERVED + [rural.header_of(fid) for fid in inputs]
    assert "村集体经济年收入(万元)" in headers or any("(万元)" in h for h in headers)
    assert sheet.freeze_panes == "C2"  # header row, and the id and name columns
    assert sheet.column_dimensions["A"].width >= 12

    checks = validations(sheet)
    letters = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(headers)}
    seen_types = set()
    for fid, spec in inputs.items():
        header = rural.header_of(fid)
        dv = checks.get(letters[header])
        assert dv is not None, header
        assert str(dv.sqref) == f"{letters[header]}2:{letters[header]}1048576"
        seen_types.add(spec.type)
        if spec.type is FieldType.boolean:
            assert dv.type == "list" and dv.formula1 == '"是,否"'
        elif spec.type is FieldType.category:
            assert dv.type == "list" and dv.formula1 == '"' + ",".join(spec.values or []) + '"'
        elif spec.type is FieldType.percent:
            assert dv.type == "decimal"
            assert (float(dv.formula1), float(dv.formula2)) == (spec.lower, spec.upper)
        elif spec.type is FieldType.integer:
            assert dv.type == "whole"
            assert float(dv.formula1) == spec.lower
            if spec.max is not None:
                assert float(dv.formula2) == spec.max
            else:
                assert dv.operator == "greaterThanOrEqual"
        elif spec.type is FieldType.number and spec.min is not None:
            assert dv.type == "decimal" and float(dv.formula1) == spec.min
        assert dv.showErrorMessage and dv.error
        assert dv.promptTitle and dv.prompt
    assert {FieldType.boolean, FieldType.category, FieldType.percent, FieldType.integer} <= seen_types
    assert checks[letters["类型"]].formula1 == '"农村"'

    # Every header has a comment with what to enter and the rule in plain words.
    comments = {c.value: c.comment.text for c in sheet[1]}
    assert all(comments.values())
    income = next(fid for fid, s in inputs.items() if s.unit == "万元")
    note = comments[rural.header_of(income)]
    assert "单位：万元" in note and "满分" in note and "得" in note
    uses = field_uses(rural)
    for fid in inputs:
        for use in uses.get(fid, []):
            assert use.text in comments[rural.header_of(fid)]
    # a veto field says that it vetoes, and a blank count means 0
    veto_star = next(s for s in rural.stars if s.vetoes)
    veto_fields = [fid for fid in inputs if any("一票否决" in u.text for u in uses.get(fid, []))]
    assert veto_fields and veto_star.name in comments[rural.header_of(veto_fields[0])]
    assert any("空白：视为 0" in text for text in comments.values())

    guide = book["填表说明"]
    guide_headers = [row[0] for row in guide.iter_rows(values_only=True)]
    assert set(headers) <= set(guide_headers)


def test_template_is_deterministic_and_refuses_binary_to_stdout(tmp_path: Path) -> None:
    assert run("template", "-c", "rural", "-o", tmp_path / "a.xlsx")[0] == 0
    assert run("template", "-c", "rural", "-o", tmp_path / "b.xlsx")[0] == 0
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    code, _, stderr = run("template", "-c", "rural")
    assert code == 2 and "--output" in stderr


def test_csv_template_is_the_header_row(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "form.csv"
    assert run("template", "-c", "rural", "-o", out)[0] == 0  # csv from the suffix
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel/WPS open it as UTF-8
    lines = data.decode("utf-8-sig").splitlines()
    assert len(lines) == 1
    assert lines[0].split(",") == RESERVED + [rural.header_of(f) for f in rural.input_fields()]
    code, stdout, _ = run("template", "-c", "rural", "-f", "csv", "-o", "-")
    assert code == 0 and stdout.splitlines()[0] == lines[0]


def test_branches_prefill_rows(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    branches = tmp_path / "名单.csv"
    branches.write_bytes(
        "组织编码,村(社区),乡镇(街道),备注\n"
        "0411001,东庄村,城关镇,x\n"
        "0411002,=西庄村,城关镇,\n"
        "# 以下为新建村\n"
        "0411003,南庄村,河口乡,\n".encode("gb18030")
    )
    out = tmp_path / "form.xlsx"
    code, _, stderr = run("template", "-c", "rural", "--branches", branches, "--period", "2024-Q4", "-o", out)
    assert code == 0, stderr
    assert "3 pre-filled rows" in stderr
    sheet = openpyxl.load_workbook(out).worksheets[0]
    rows = [[c.value for c in row[:6]] for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        ["0411001", "东庄村", None, "城关镇", "农村", "2024-Q4"],
        ["0411002", "=西庄村", None, "城关镇", "农村", "2024-Q4"],  # written as text, not a formula
        ["0411003", "南庄村", None, "河口乡", "农村", "2024-Q4"],
    ]
    assert sheet["A2"].data_type == "s" and sheet["A2"].number_format == "@"

    csv_out = tmp_path / "form.csv"
    assert run("template", "-c", "rural", "-b", branches, "-o", csv_out)[0] == 0
    lines = csv_out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1].startswith("0411001,东庄村,,城关镇,农村,,")
    assert lines[2].startswith("0411002,'=西庄村,")


def test_branches_file_problems(tmp_path: Path) -> None:
    dup = tmp_path / "dup.csv"
    dup.write_text("支部编码,支部名称\n001,a\n002,b\n001,c\n,d\n", encoding="utf-8")
    code, _, stderr = run("template", "-c", "rural", "-b", dup, "-o", tmp_path / "f.xlsx")
    assert code == 1
    assert "dup.csv:4" in stderr and "listed 2 times" in stderr
    assert "dup.csv:5" in stderr and "no branch id" in stderr
    assert not (tmp_path / "f.xlsx").exists()
    none = tmp_path / "none.csv"
    none.write_text("名字\n东庄\n", encoding="utf-8")
    assert run("template", "-c", "rural", "-b", none, "-o", tmp_path / "f.xlsx")[0] == 1


def test_filled_form_round_trips_through_score(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    form = tmp_path / "form.xlsx"
    assert run("template", "-c", "rural", "-o", form)[0] == 0
    data = synthesize([rural], 40, 11, periods=("2024-Q4",))
    reference = tmp_path / "reference.csv"
    data.write_csv(reference)
    filled = tmp_path / "filled.xlsx"
    fill(form, data, filled)

    expected = run_score(reference, [rural]).frame
    got = run_score(filled, [rural]).frame
    keys = ["branch_id", "stars", "level", "total_points", "missing"]
    assert got.select(keys).equals(expected.select(keys))
    assert got.height == 40

    code, stdout, stderr = run("score", filled, "-c", "rural", "-f", "csv")
    assert code == 0, stderr
    assert stdout.splitlines()[0].startswith("rank,branch_id,branch_name")
    assert len(stdout.splitlines()) == 41


def test_form_for_both_standards_round_trips(tmp_path: Path, rural, community) -> None:  # type: ignore[no-untyped-def]
    form = tmp_path / "form.xlsx"
    assert run("template", "-c", "rural", "-c", "community", "-o", form)[0] == 0
    sheet = openpyxl.load_workbook(form).worksheets[0]
    headers = [c.value for c in sheet[1]]
    wanted = {rural.header_of(f) for f in rural.input_fields()} | {
        community.header_of(f) for f in community.input_fields()}
    assert set(headers) == set(RESERVED) | wanted and len(headers) == len(set(headers))
    assert validations(sheet)["E"].formula1 == '"农村,社区"'
    data = synthesize([rural, community], 30, 5)
    reference = tmp_path / "reference.csv"
    data.write_csv(reference)
    filled = tmp_path / "filled.xlsx"
    fill(form, data, filled)
    keys = ["branch_id", "stars", "total_points"]
    expected = run_score(reference, [rural, community]).frame.select(keys).sort("branch_id")
    assert run_score(filled, [rural, community]).frame.select(keys).sort("branch_id").equals(expected)


def test_long_dropdowns_use_a_hidden_list_sheet(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    spec = rural.fields["secretary_review"].model_copy(update={"values": [f"等次{i:03d}" for i in range(60)]})
    crit = rural.model_copy(update={"fields": {**rural.fields, "secretary_review": spec}})
    out = tmp_path / "long.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_form_xlsx(out, build_form([crit]))
    book = openpyxl.load_workbook(out)
    assert book["选项"].sheet_state == "hidden"
    headers = header_row(out)
    letter = openpyxl.utils.get_column_letter(headers.index(crit.header_of("secretary_review")) + 1)
    dv = validations(book.worksheets[0])[letter]
    assert dv.type == "list" and dv.formula1 == "'选项'!$A$1:$A$60"
    assert [c.value for c in book["选项"]["A"]] == spec.values


# ---------------------------------------------------------------------------------------------
# merge


def _village_files(tmp_path: Path, rural) -> tuple[Path, pl.DataFrame]:  # type: ignore[no-untyped-def]
    """Three villages' forms: UTF-8 CSV, GBK CSV (columns reordered) and a filled xlsx form."""
    data = synthesize([rural], 9, 21, periods=("2024-Q4",))
    folder = tmp_path / "提交"
    folder.mkdir()
    data.slice(0, 3).write_csv(folder / "a.csv")
    part = data.slice(3, 3)
    part.select(list(reversed(part.columns))).write_csv(tmp_path / "b.tmp")
    (folder / "b.csv").write_bytes((tmp_path / "b.tmp").read_text(encoding="utf-8").encode("gb18030"))
    form = tmp_path / "form.xlsx"
    write_form_xlsx(form, build_form([rural]))
    fill(form, data.slice(6, 3), folder / "c.xlsx")
    (folder / "~$c.xlsx").write_bytes(b"lock file")  # Excel's lock file is skipped
    return folder, data


def test_merge_stacks_csv_gbk_and_xlsx_and_scores_the_same(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    folder, data = _village_files(tmp_path, rural)
    out = tmp_path / "county.csv"
    code, _, stderr = run("merge", folder, "-c", "rural", "-o", out)
    assert code == 0, stderr
    assert "merged 9 rows from 3 files" in stderr
    merged = pl.read_csv(out, infer_schema=False)
    assert merged.columns == RESERVED + [rural.header_of(f) for f in rural.input_fields()]
    assert merged["支部编码"].to_list() == data["支部编码"].to_list()
    reference = tmp_path / "reference.csv"
    data.write_csv(reference)
    keys = ["branch_id", "stars", "total_points", "missing"]
    assert run_score(out, [rural]).frame.select(keys).equals(run_score(reference, [rural]).frame.select(keys))

    xlsx = tmp_path / "county.xlsx"
    assert run("merge", *sorted(folder.glob("[abc].*")), "-c", "rural", "-o", xlsx)[0] == 0
    assert header_row(xlsx) == merged.columns
    assert run_score(xlsx, [rural]).frame.select(keys).equals(run_score(reference, [rural]).frame.select(keys))


def test_merge_reports_conflicting_duplicates_with_files_and_lines(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    data = synthesize([rural], 3, 2, periods=("2024-Q4",))
    data.write_csv(tmp_path / "a.csv")
    changed = data.slice(1, 1).with_columns(pl.col("支部名称") + "（改）")
    changed.write_csv(tmp_path / "b.csv")
    out = tmp_path / "out.csv"
    code, stdout, stderr = run("merge", tmp_path / "a.csv", tmp_path / "b.csv", "-c", "rural", "-o", out)
    assert code == 1
    bid = data["支部编码"][1]
    assert f"branch {bid}" in stderr and "different values" in stderr
    assert "a.csv:3" in stderr and "b.csv:2" in stderr and "'支部名称'" in stderr
    assert not out.exists() and stdout == ""


def test_merge_keeps_identical_duplicates_once(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    data = synthesize([rural], 3, 2, periods=("2024-Q4",))
    data.write_csv(tmp_path / "a.csv")
    data.slice(0, 1).write_csv(tmp_path / "again.csv")
    out = tmp_path / "out.csv"
    code, _, stderr = run("merge", tmp_path / "a.csv", tmp_path / "again.csv", "-c", "rural", "-o", out)
    assert code == 0, stderr
    assert "same values" in stderr and "a.csv:2" in stderr and "again.csv:2" in stderr and "kept once" in stderr
    assert pl.read_csv(out, infer_schema=False).height == 3
    # the same branch in two periods is not a duplicate
    data.with_columns(pl.lit("2024-Q3").alias("期间")).write_csv(tmp_path / "q3.csv")
    code, _, stderr = run("merge", tmp_path / "a.csv", tmp_path / "q3.csv", "-c", "rural", "-o", out)
    assert code == 0 and "same values" not in stderr
    assert pl.read_csv(out, infer_schema=False).height == 6


def test_merge_names_forms_of_another_criteria_version(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    data = synthesize([rural], 4, 3, periods=("2024-Q4",))
    data.slice(0, 2).write_csv(tmp_path / "new.csv")
    header = rural.header_of("collective_income")
    old = data.slice(2, 2).rename({header: "村集体经济收入(万元)2023版"})
    old.write_csv(tmp_path / "old.csv")
    out = tmp_path / "out.csv"
    code, _, stderr = run("merge", tmp_path / "new.csv", tmp_path / "old.csv", "-c", "rural", "-o", out)
    assert code == 1 and not out.exists()
    problems = [line for line in stderr.splitlines() if "old.csv" in line]
    assert any("missing column" in line and header in line for line in problems)
    assert any("not in the criteria" in line and "村集体经济收入(万元)2023版" in line for line in problems)
    assert not any("new.csv" in line for line in stderr.splitlines())

    code, _, stderr = run("merge", tmp_path / "new.csv", tmp_path / "old.csv", "-c", "rural", "--lenient", "-o", out)
    assert code == 0, stderr
    merged = pl.read_csv(out, infer_schema=False)
    assert merged.columns[-1] == "村集体经济收入(万元)2023版"  # kept, at the end
    assert merged[header].to_list()[2:] == [None, None]


def test_merge_library_result_and_usage_errors(tmp_path: Path, rural) -> None:  # type: ignore[no-untyped-def]
    data = synthesize([rural], 2, 1)
    data.write_csv(tmp_path / "a.csv")
    result = merge_files([tmp_path / "a.csv"], [rural])
    assert result.files == 1 and result.frame.height == 2 and result.duplicates_dropped == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = run("merge", empty, "-c", "rural")
    assert code == 2 and "the folder holds no data files" in stderr
    code, _, stderr = run("merge", tmp_path / "a.csv", "-c", "rural", "-o", tmp_path / "a.csv")
    assert code == 2 and "overwrite" in stderr
    # merging into a file inside the folder being merged does not read the output back
    assert run("merge", tmp_path, "-c", "rural", "-o", tmp_path / "all.csv")[0] == 0
    assert run("merge", tmp_path, "-c", "rural", "-o", tmp_path / "all.csv")[0] == 0
    assert pl.read_csv(tmp_path / "all.csv", infer_schema=False).height == 2


# ---------------------------------------------------------------------------------------------
# init


def test_init_creates_a_working_folder(tmp_path: Path) -> None:
    target = tmp_path / "某县"
    code, _, stderr = run("init", target)
    assert code == 0, stderr
    names = sorted(str(p.relative_to(target)) for p in target.rglob("*"))
    assert names == sorted([
        "Makefile", "README.md", "criteria", "criteria/community.yaml", "criteria/criteria.schema.json",
        "criteria/rural.yaml", "data", "output", "run.sh", "submissions", "自评表.xlsx",
    ])
    for name in ("rural", "community"):
        text = (target / "criteria" / f"{name}.yaml").read_text(encoding="utf-8")
        assert text.splitlines()[0] == "# yaml-language-server: $schema=criteria.schema.json"
        assert load_criteria(str(target / "criteria" / f"{name}.yaml")).id == load_criteria(name).id
    assert '"$schema"' in (target / "criteria" / "criteria.schema.json").read_text(encoding="utf-8")
    assert "农村" in header_row(target / "自评表.xlsx") or "类型" in header_row(target / "自评表.xlsx")
    readme = (target / "README.md").read_text(encoding="utf-8")
    for word in ("收集", "校验", "评分", "排名", "通报", "对比", "wuxing merge", "wuxing validate", "wuxing score",
                 "wuxing rank", "wuxing bulletin", "wuxing diff"):
        assert word in readme
    makefile = (target / "Makefile").read_text(encoding="utf-8")
    assert "\n\t$(WUXING) merge submissions/$(PERIOD)" in makefile
    assert "-c criteria/rural.yaml -c criteria/community.yaml" in makefile
    assert os.stat(target / "run.sh").st_mode & stat.S_IXUSR

    # a folder that is not empty is refused, unless --force
    code, _, stderr = run("init", target)
    assert code == 2 and "not empty" in stderr
    assert run("init", target, "-c", "rural", "--force")[0] == 0
    assert "-c criteria/community.yaml" not in (target / "Makefile").read_text(encoding="utf-8")


def test_init_with_one_standard(tmp_path: Path, community) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "区"
    assert run("init", target, "-c", "community")[0] == 0
    assert sorted(p.name for p in (target / "criteria").iterdir()) == ["community.yaml", "criteria.schema.json"]
    assert header_row(target / "自评表.xlsx") == RESERVED + [community.header_of(f) for f in community.input_fields()]
    (tmp_path / "file").write_text("x")
    assert run("init", tmp_path / "file")[0] == 2


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_init_run_sh_runs_the_monthly_routine(tmp_path: Path, rural, community) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "县"
    assert run("init", target)[0] == 0
    entry = tmp_path / "wuxing"
    entry.write_text(
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(SRC)!r})\n"
        "import wuxing_cli.cli.forms\nfrom wuxing_cli.cli import main\nsys.argv[0] = 'wuxing'\nmain()\n",
        encoding="utf-8",
    )
    entry.chmod(0o755)
    both = synthesize([rural, community], 60, 9, periods=("2024-Q3", "2024-Q4"))
    for period in ("2024-Q3", "2024-Q4"):
        folder = target / "submissions" / period
        folder.mkdir(parents=True)
        rows = both.filter(pl.col("期间") == period)
        for i, township in enumerate(rows["乡镇"].unique(maintain_order=True).to_list()):
            rows.filter(pl.col("乡镇") == township).write_csv(folder / f"{i:02d}.csv")
    env = {**os.environ, "WUXING": str(entry), "NO_COLOR": "1"}
    for period, prev in (("2024-Q3", None), ("2024-Q4", "2024-Q3")):
        args = ["bash", "run.sh", period] + ([prev] if prev else [])
        done = subprocess.run(args, cwd=target, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    outputs = sorted(p.name for p in (target / "output").iterdir())
    assert outputs == sorted([
        "2024-Q3-评分.xlsx", "2024-Q3-排名.xlsx", "2024-Q3-通报.md",
        "2024-Q4-评分.xlsx", "2024-Q4-排名.xlsx", "2024-Q4-通报.md", "2024-Q4-对比.csv",
    ])
    assert (target / "data" / "2024-Q4.csv").exists()
