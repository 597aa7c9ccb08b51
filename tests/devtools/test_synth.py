"""Tests of the synthetic data generator (wuxing_cli.devtools.synth)."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import polars as pl
import pytest
import yaml

from tests.support import CRITERIA_DIR, WIDE
from wuxing_cli.devtools.synth.table import RESERVED_HEADERS, synthesize, write_table
from wuxing_cli.models.criteria import Criteria, FieldSpec, FieldType

TRUE_WORDS = {"是", "有", "已完成", "达标", "√", "✓", "yes", "y", "true", "1"}
FALSE_WORDS = {"否", "无", "未完成", "不达标", "×", "✗", "no", "n", "false", "0"}


def _load(path: Path) -> Criteria:
    return Criteria.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def rural() -> Criteria:
    return _load(CRITERIA_DIR / "rural.yaml")


@pytest.fixture(scope="module")
def community() -> Criteria:
    return _load(CRITERIA_DIR / "community.yaml")


@pytest.fixture(scope="module")
def wide() -> Criteria:
    return _load(WIDE)


@pytest.fixture(scope="module")
def mixed(rural: Criteria, community: Criteria) -> pl.DataFrame:
    return synthesize([rural, community], 600, 11, periods=["2024-Q1", "2024-Q2", "2024-Q3"])


def _number(cell: str) -> float:
    text = unicodedata.normalize("NFKC", cell).strip().replace(",", "")
    return float(text.removesuffix("%"))


def _check_cell(spec: FieldSpec, cell: str) -> None:
    """Every cell parses under its field's type and lies within its bounds / values."""
    if spec.type is FieldType.boolean:
        assert cell.strip().lower() in TRUE_WORDS | FALSE_WORDS, cell
    elif spec.type is FieldType.category:
        assert spec.values is not None and cell.strip() in spec.values, cell
    elif spec.numeric:
        value = _number(cell)
        if spec.lower is not None:
            assert value >= spec.lower, (cell, spec)
        if spec.upper is not None:
            assert value <= spec.upper, (cell, spec)
        if spec.type is FieldType.integer:
            assert value == int(value), cell
    else:
        assert cell.strip(), cell


def _check_bounds(frame: pl.DataFrame, crit: Criteria) -> int:
    rows = frame.filter(pl.col("类型") == crit.branch_type)
    checked = 0
    for fid, spec in crit.input_fields().items():
        for cell in rows.get_column(crit.header_of(fid)).drop_nulls().to_list():
            _check_cell(spec, cell)
            checked += 1
    return checked


# ---- determinism -------------------------------------------------------------------------------


def test_same_arguments_give_identical_frames_and_bytes(rural: Criteria, community: Criteria, tmp_path: Path) -> None:
    kwargs = {"periods": ["2024-Q1", "2024-Q2"], "missing_rate": 0.05, "veto_rate": 0.1}
    one = synthesize([rural, community], 250, 42, **kwargs)
    two = synthesize([rural, community], 250, 42, **kwargs)
    assert one.equals(two)
    write_table(one, tmp_path / "a.csv", "csv")
    write_table(two, tmp_path / "b.csv", "csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    write_table(one, tmp_path / "a-gbk.csv", "csv", encoding="gbk")
    write_table(two, tmp_path / "b-gbk.csv", "csv", encoding="gbk")
    assert (tmp_path / "a-gbk.csv").read_bytes() == (tmp_path / "b-gbk.csv").read_bytes()


def test_different_seed_gives_different_data(rural: Criteria) -> None:
    one = synthesize([rural], 200, 1)
    two = synthesize([rural], 200, 2)
    assert one.shape == two.shape
    assert not one.equals(two)
    fields = [rural.header_of(f) for f in rural.input_fields()]
    assert not one.select(fields).equals(two.select(fields))


# ---- shape ---------------------------------------------------------------------------------------


def test_columns_reserved_first_then_every_input_header(rural: Criteria, community: Criteria, mixed: pl.DataFrame) -> None:
    assert tuple(mixed.columns[: len(RESERVED_HEADERS)]) == RESERVED_HEADERS
    headers = [c.header_of(f) for c in (rural, community) for f in c.input_fields()]
    assert set(mixed.columns[len(RESERVED_HEADERS) :]) == set(headers)
    assert len(mixed.columns) == len(RESERVED_HEADERS) + len(set(headers))
    derived = [c.header_of(f) for c in (rural, community) for f, s in c.fields.items() if s.derived]
    assert not set(derived) & set(mixed.columns)
    assert all(dtype == pl.String for dtype in mixed.dtypes)


def test_rows_are_branches_times_periods(mixed: pl.DataFrame) -> None:
    assert mixed.height == 600 * 3
    assert mixed.get_column("期间").unique(maintain_order=True).to_list() == ["2024-Q1", "2024-Q2", "2024-Q3"]
    per_period = mixed.group_by("期间").agg(pl.len(), pl.col("支部编码").n_unique().alias("ids"))
    assert per_period.get_column("len").to_list() == [600, 600, 600]
    assert per_period.get_column("ids").to_list() == [600, 600, 600]
    # the same branches every period, with the same names and places
    first = mixed.filter(pl.col("期间") == "2024-Q1").select(RESERVED_HEADERS[:5])
    last = mixed.filter(pl.col("期间") == "2024-Q3").select(RESERVED_HEADERS[:5])
    assert first.equals(last)


def test_one_period_and_empty(rural: Criteria) -> None:
    frame = synthesize([rural], 37, 5)
    assert frame.height == 37
    assert frame.get_column("期间").unique().to_list() == ["2024-Q1"]
    empty = synthesize([rural], 0, 5)
    assert empty.height == 0
    assert rural.header_of("collective_income") in empty.columns


def test_arguments_are_checked(rural: Criteria) -> None:
    with pytest.raises(ValueError):
        synthesize([], 10, 1)
    with pytest.raises(ValueError):
        synthesize([rural], 10, 1, periods=["2024-Q1", "2024-Q1"])
    with pytest.raises(ValueError):
        synthesize([rural], 10, 1, missing_rate=1.5)


# ---- places, names, types --------------------------------------------------------------------------


def test_branch_type_split_and_names(rural: Criteria, community: Criteria, mixed: pl.DataFrame) -> None:
    q1 = mixed.filter(pl.col("期间") == "2024-Q1")
    counts = dict(q1.group_by("类型").len().iter_rows())
    assert counts == {"农村": 510, "社区": 90}
    villages = q1.filter(pl.col("类型") == "农村")
    communities = q1.filter(pl.col("类型") == "社区")
    assert villages.get_column("支部名称").str.ends_with("村").all()
    assert communities.get_column("支部名称").str.ends_with("社区").all()
    assert villages.get_column("乡镇").str.contains("[镇乡]$").all()
    assert communities.get_column("乡镇").str.ends_with("街道").all()
    # a branch's names are unique within its township
    assert q1.select(pl.struct("乡镇", "支部名称").n_unique()).item() == q1.height
    # a community row leaves the rural-only columns empty, and vice versa
    rural_only = set(rural.header_of(f) for f in rural.input_fields()) - {
        community.header_of(f) for f in community.input_fields()
    }
    assert rural_only
    for header in rural_only:
        assert communities.get_column(header).null_count() == communities.height
        assert villages.get_column(header).null_count() < villages.height


def test_ids_encode_county_township_branch(rural: Criteria) -> None:
    frame = synthesize([rural], 300, 3, county="源汇区")
    ids = frame.get_column("支部编码")
    assert ids.str.contains(r"^411102\d{6}$").all()
    assert ids.is_unique().all()
    assert ids.to_list() == sorted(ids.to_list())
    assert frame.get_column("县区").unique().to_list() == ["源汇区"]
    assert ids.to_list()[0] == "411102001001"
    # township part of the id and the township name agree
    pairs = frame.select(pl.col("支部编码").str.slice(6, 3), "乡镇").unique()
    assert pairs.height == frame.get_column("乡镇").n_unique()


def test_large_runs_span_counties(rural: Criteria) -> None:
    frame = synthesize([rural], 2_000, 8, townships=10)
    assert frame.get_column("县区").n_unique() == 4
    assert frame.get_column("支部编码").is_unique().all()
    per_county = frame.group_by("县区").agg(pl.col("乡镇").n_unique())
    assert per_county.get_column("乡镇").to_list() == [10, 10, 10, 10]


# ---- values --------------------------------------------------------------------------------------


def test_values_within_types_bounds_and_values(rural: Criteria, community: Criteria, mixed: pl.DataFrame) -> None:
    assert _check_bounds(mixed, rural) > 10_000
    assert _check_bounds(mixed, community) > 1_000


def test_loader_normalisation_is_exercised(rural: Criteria, community: Criteria) -> None:
    frame = synthesize([rural, community], 3_000, 4)
    percent = [c.header_of(f) for c in (rural, community) for f, s in c.input_fields().items()
               if s.type is FieldType.percent]
    cells = pl.concat([frame.get_column(h).drop_nulls() for h in percent])
    assert cells.str.ends_with("%").any()
    assert (~cells.str.contains("%")).any()
    every = pl.concat([frame.get_column(h).drop_nulls() for h in frame.columns[len(RESERVED_HEADERS) :]])
    assert every.str.contains("[０-９]").any()  # full-width digits
    assert every.str.contains(r"^\d{1,3}(,\d{3})+(\.\d+)?%?$").any()  # thousands separators
    booleans = set(frame.get_column(rural.header_of("three_zero")).drop_nulls().to_list())
    assert {"是", "否"} <= booleans
    assert booleans - {"是", "否"}  # a few other accepted spellings


def test_missing_rate(rural: Criteria) -> None:
    no_default = [rural.header_of(f) for f, s in rural.input_fields().items() if s.default is None]
    complete = synthesize([rural], 500, 6, missing_rate=0.0)
    assert sum(complete.get_column(h).null_count() for h in no_default) == 0
    holey = synthesize([rural], 500, 6, missing_rate=0.2)
    share = sum(holey.get_column(h).null_count() for h in no_default) / (500 * len(no_default))
    assert 0.17 < share < 0.23


def test_default_fields_are_zero_or_blank_unless_a_veto_fires(rural: Criteria) -> None:
    veto_only = ["weak_branch_notices", "major_criminal_cases", "mass_incidents", "cadre_gang_cases"]
    quiet = synthesize([rural], 400, 9, veto_rate=0.0)
    for fid in veto_only:
        cells = quiet.get_column(rural.header_of(fid))
        assert cells.null_count() > 0  # blank means none
        assert all(_number(cell) == 0 for cell in cells.drop_nulls().to_list())
    noisy = synthesize([rural], 2_000, 9, veto_rate=0.2)
    conditions = [v.when for s in rural.stars for v in s.vetoes] + [c.when for c in rural.caps]
    fired = 0
    for when in conditions:  # all of the form "<field> > 0"
        cells = noisy.get_column(rural.header_of(when.split()[0])).drop_nulls().to_list()
        fired += sum(_number(cell) > 0 for cell in cells)
    assert 0.15 * 2_000 < fired < 0.25 * 2_000


def test_ratio_inputs_are_consistent(rural: Criteria, community: Criteria, mixed: pl.DataFrame) -> None:
    # numerators of percent-derived fields never exceed their denominators (rate ≤ 100 %)
    cases = [
        (rural, "toilets_done", "households"),
        (rural, "operating_income", "collective_income"),
        (community, "members_reported", "members_in_service"),
        (community, "volunteers", "population"),
    ]
    for crit, num, den in cases:
        rows = mixed.filter(pl.col("类型") == crit.branch_type).select(
            pl.col(crit.header_of(num)).alias("num"), pl.col(crit.header_of(den)).alias("den")
        )
        pairs = [(_number(a), _number(b)) for a, b in rows.drop_nulls().iter_rows()]
        assert len(pairs) > 100
        assert all(a <= b + 0.05 for a, b in pairs), (num, den)
        assert any(a < b for a, b in pairs)


def test_quality_knobs_move_the_data(rural: Criteria) -> None:
    header = rural.header_of("leading_industry")  # 产业兴旺星 must-pass boolean

    def yes_share(frame: pl.DataFrame) -> float:
        cells = frame.get_column(header).drop_nulls()
        return float(cells.is_in(sorted(TRUE_WORDS)).mean() or 0.0)

    low = synthesize([rural], 1_000, 2, quality_mean=-0.5)
    high = synthesize([rural], 1_000, 2, quality_mean=2.0)
    assert yes_share(low) + 0.3 < yes_share(high)


def test_quality_drifts_upward_over_periods(rural: Criteria) -> None:
    frame = synthesize([rural], 2_000, 12, periods=[f"2024-{m:02d}" for m in (3, 6, 9, 12)])
    header = rural.header_of("collective_income")
    means = (
        frame.with_columns(pl.col(header).map_elements(_number, return_dtype=pl.Float64).alias("v"))
        .group_by("期间", maintain_order=True)
        .agg(pl.col("v").median())
        .get_column("v")
        .to_list()
    )
    assert means[-1] > means[0]


# ---- writing -------------------------------------------------------------------------------------


def test_write_gbk_csv_as_excel_saves_it(rural: Criteria, tmp_path: Path) -> None:
    frame = synthesize([rural], 50, 3, county="扶沟县")
    path = tmp_path / "gbk.csv"
    write_table(frame, path, "csv", encoding="gbk")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == frame.height + 1
    assert b"\n" not in raw.replace(b"\r\n", b"")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    back = pl.read_csv(io.StringIO(raw.decode("gb18030")), infer_schema=False)
    assert back.equals(frame)


def test_write_utf8_parquet_and_xlsx(rural: Criteria, tmp_path: Path) -> None:
    frame = synthesize([rural], 40, 3)
    write_table(frame, tmp_path / "u.csv", "csv")
    assert pl.read_csv(tmp_path / "u.csv", infer_schema=False).equals(frame)
    write_table(frame, tmp_path / "bom.csv", "csv", encoding="utf-8-sig")
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    write_table(frame, tmp_path / "t.parquet", "parquet")
    assert pl.read_parquet(tmp_path / "t.parquet").equals(frame)
    write_table(frame, tmp_path / "t.xlsx", "xlsx")
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == frame.columns
    assert len(rows) == frame.height + 1


# ---- the wide benchmark criteria -----------------------------------------------------------------


def test_wide_criteria_smoke(wide: Criteria) -> None:
    assert sum(len(s.indicators) for s in wide.stars) == 125
    assert len(wide.input_fields()) == 125
    frame = synthesize([wide], 1_000, 7, periods=["2024-Q1"])
    assert frame.shape == (1_000, len(RESERVED_HEADERS) + 125)
    assert _check_bounds(frame, wide) > 100_000
    # about 1 % of the 115 cells without a default are empty, and about a third of the zero counts
    nulls = frame.select(pl.exclude(RESERVED_HEADERS)).null_count().sum_horizontal().item()
    assert 0.01 < nulls / (1_000 * 125) < 0.05
