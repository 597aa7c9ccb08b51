"""Pydantic models of a criteria file (SPEC §2): fields, stars, indicators, rules, vetoes, caps."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

DEFAULT_LEVELS: dict[int, str] = {0: "无星", 1: "一星", 2: "二星", 3: "三星", 4: "四星", 5: "五星"}

Id = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]*$",
        max_length=64,
        description="标识符：字母、数字、下划线或汉字 / identifier: letters, digits, underscore or CJK",
    ),
]

#: The largest magnitude a number in criteria may have: far beyond any real count, amount or bound, and
#: small enough that sums and differences of such numbers stay exact enough to compare.
MAX_NUMBER = 1e12


def _sane_number(value: Any) -> Any:
    """Refuse ``.nan``, ``.inf`` and numbers beyond :data:`MAX_NUMBER` before pydantic reads the float
    (a text such as '1e300' included); anything else is left to pydantic's own checks."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return value
    try:
        number = float(value)
    except ValueError:
        return value  # not a number at all: pydantic says so
    except OverflowError:  # an integer with hundreds of digits
        number = math.inf
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise ValueError("must be a finite number between -1e12 and 1e12 (not .nan, .inf or a longer number)")
    return value


#: Every number of a criteria file: finite (``.nan``/``.inf`` are refused) and at most 1e12 in magnitude.
Number = Annotated[float, BeforeValidator(_sane_number)]
#: A whole number of a criteria file (levels, star counts): 0 … 1000.
Count = Annotated[int, Field(ge=0, le=1000)]


class _Model(BaseModel):
    # defer_build: the validators are built on first use, not at import (25 ms of every start)
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, defer_build=True)


class FieldType(StrEnum):
    """The type of an input or derived field."""

    number = "number"
    integer = "integer"
    percent = "percent"
    boolean = "boolean"
    category = "category"
    text = "text"


NUMERIC_TYPES = frozenset({FieldType.number, FieldType.integer, FieldType.percent})


class FieldSpec(_Model):
    """One column the criteria read (or a value derived from other fields with ``expr``)."""

    header: str | None = Field(
        None, description="数据表中的列名（默认为字段标识） / column header in the data (default: the field id)"
    )
    type: FieldType = Field(description="字段类型 / field type: number, integer, percent, boolean, category, text")
    name: str | None = Field(None, description="字段中文名称 / human-readable name")
    description: str | None = Field(None, description="说明 / description")
    unit: str | None = Field(None, description="单位，如 万元、% / unit, e.g. 万元")
    min: Number | None = Field(None, description="允许的最小值 / smallest valid value")
    max: Number | None = Field(None, description="允许的最大值 / largest valid value")
    values: list[str] | None = Field(
        None, description="类别字段的取值清单 / the closed list of values of a category field"
    )
    default: float | bool | str | None = Field(
        None, description="空单元格代表的值（如计数字段 0） / the value an empty cell stands for (e.g. 0 for a count)"
    )
    aliases: list[str] = Field(
        default_factory=list, description="其他可接受的列名 / other accepted column headers"
    )
    expr: str | None = Field(
        None,
        description="派生字段的计算式，如 toilets_done / households * 100 / derived field expression (no header)",
    )

    @field_validator("default", mode="before")
    @classmethod
    def _default_number(cls, value: Any) -> Any:
        return value if isinstance(value, str) else _sane_number(value)  # a text default is checked by type

    @field_validator("values", "aliases", mode="before")
    @classmethod
    def _list_items_as_text(cls, value: Any) -> Any:
        # `values: [1, 2, 3]` (grades written as numbers) and `aliases: [2024]` are text, as in the data.
        if isinstance(value, list):
            return [_yaml_key_text(v) for v in value]
        return value

    @property
    def derived(self) -> bool:
        return self.expr is not None

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES

    @property
    def lower(self) -> float | None:
        """Effective lower bound of valid input (percent defaults to 0)."""
        if self.min is not None:
            return self.min
        return 0.0 if self.type is FieldType.percent else None

    @property
    def upper(self) -> float | None:
        """Effective upper bound of valid input (percent defaults to 100)."""
        if self.max is not None:
            return self.max
        return 100.0 if self.type is FieldType.percent else None


class ThresholdRule(_Model):
    """Full points when value ≥ min (and/or ≤ max), else 0."""

    type: Literal["threshold"]
    min: Number | None = Field(None, description="达到该值得满分 / full points when value ≥ min")
    max: Number | None = Field(None, description="不超过该值得满分 / full points when value ≤ max")


class LinearRule(_Model):
    """0 points at ``zero_at``, full at ``full_at``, linear between, clipped."""

    type: Literal["linear"]
    zero_at: Number = Field(description="得 0 分的值 / value scoring 0")
    full_at: Number = Field(description="得满分的值（小于 zero_at 表示越低越好） / value scoring full points")


class Band(_Model):
    """One band of a ``bands`` rule: ``min`` (value ≥ min) or ``max`` (value ≤ max) and its points."""

    min: Number | None = Field(None, description="下限 / lower bound")
    max: Number | None = Field(None, description="上限 / upper bound")
    points: Number = Field(ge=0, description="该档得分 / points of this band")

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if (self.min is None) == (self.max is None):
            raise ValueError("a band needs exactly one of 'min' or 'max'")
        return self

    @property
    def bound(self) -> float:
        value = self.min if self.min is not None else self.max
        assert value is not None
        return value


class BandsRule(_Model):
    """Points of the highest band whose ``min`` ≤ value (or the lowest whose ``max`` ≥ value)."""

    type: Literal["bands"]
    bands: list[Band] = Field(min_length=1, description="分档 / the bands, in any order")

    @property
    def direction(self) -> Literal["min", "max"]:
        return "min" if self.bands[0].min is not None else "max"

    def ordered(self) -> list[Band]:
        """Bands from the best value to the worst (min: descending bound; max: ascending)."""
        return sorted(self.bands, key=lambda b: b.bound, reverse=self.direction == "min")


class BooleanRule(_Model):
    """Full points when the value equals ``expect``."""

    type: Literal["boolean"]
    expect: bool = Field(True, description="期望值 / the value that earns the points")


class CategoryRule(_Model):
    """Points looked up from ``map``; a value outside the map scores 0."""

    type: Literal["category"]
    map: dict[str, Number] = Field(min_length=1, description="取值→得分 / value → points")

    @field_validator("map", mode="before")
    @classmethod
    def _keys_as_text(cls, value: Any) -> Any:
        # YAML reads 是/否-like keys as text, but `1:`/`true:` as int/bool: keep the spelling.
        if isinstance(value, dict):
            return {(_yaml_key_text(k)): v for k, v in value.items()}
        return value


def _yaml_key_text(key: Any) -> Any:
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, int | float):
        return str(key)
    return key


Rule = Annotated[
    ThresholdRule | LinearRule | BandsRule | BooleanRule | CategoryRule,
    Field(discriminator="type", description="计分规则 / scoring rule"),
]


class Indicator(_Model):
    """A scored indicator: one field, one rule, up to ``points``."""

    id: Id
    name: str = Field(description="指标名称 / indicator name")
    field: str = Field(description="读取的字段标识 / the field id it reads")
    points: Number = Field(gt=0, description="满分 / maximum points")
    rule: Rule
    required: bool = Field(False, description="必须得满分才能评星 / must score full points for the star")
    description: str | None = Field(None, description="说明 / description")
    source: str | None = Field(None, description="依据 / where the threshold comes from")


class Veto(_Model):
    """一票否决: the star is not earned when ``when`` holds (or cannot be decided)."""

    id: Id
    name: str = Field(description="否决事项 / veto name")
    when: str = Field(description="触发条件表达式 / condition expression, e.g. criminal_cases > 0")
    description: str | None = None


class Tenure(_Model):
    """保持期要求: the star is awarded only to a branch that held ``level`` or more stars in each of the
    ``periods`` previous periods (e.g. 五星 only after two quarters at 四星). Checked by ``wuxing history``;
    a single-period run awards the star on its evidence and warns that tenure was not checked."""

    level: int = Field(ge=1, le=1000, description="此前须保持的最低星级（星数） / the level (number of stars) to have held")
    periods: int = Field(ge=1, le=60, description="须连续保持的此前期数 / how many previous periods in a row")


class Star(_Model):
    """One star: weighted indicators, a pass mark, vetoes and the stars it requires."""

    id: Id
    name: str = Field(description="星名，如 支部过硬星 / star name")
    pass_mark: Number = Field(ge=0, description="评星所需分数 / points needed")
    max_points: Number | None = Field(
        None, description="满分（可选，须等于各指标分值之和） / maximum (optional; must equal the sum)"
    )
    requires: list[str] = Field(
        default_factory=list, description="须同时获评的星 / stars that must be awarded too"
    )
    owner: str | None = Field(None, description="牵头单位（专班） / lead unit, e.g. 组织部")
    description: str | None = None
    indicators: list[Indicator] = Field(min_length=1, description="指标 / indicators")
    vetoes: list[Veto] = Field(default_factory=list, description="一票否决事项 / vetoes")
    tenure: Tenure | None = Field(
        None, description="保持期要求，如 {level: 4, periods: 2}：此前连续两期达到四星方可授予 / "
        "held this level for that many previous periods first"
    )

    @property
    def total_points(self) -> float:
        return sum(i.points for i in self.indicators)


class Cap(_Model):
    """A branch-level veto: caps the number of stars when ``when`` holds (or cannot be decided)."""

    id: Id
    name: str = Field(description="事项名称 / name")
    when: str = Field(description="触发条件表达式 / condition expression")
    max_stars: Count = Field(ge=0, description="最多可获星数 / most stars the branch may hold")
    description: str | None = None


class Criteria(_Model):
    """A whole criteria file for one branch type and version."""

    schema_version: Literal[1] = Field(description="文件格式版本，目前为 1 / file format version")
    id: Id = Field(description="稳定标识，如 henan-rural / stable identifier")
    name: str = Field(description="标准名称 / name of the standard")
    issuer: str | None = Field(
        None, description="印发单位，如 中共××县委组织部；通报写“根据××印发的《…》” / issuing body; "
        "the bulletin names it only when given"
    )
    source: str | None = Field(
        None, description="文件出处，如 文号 ×组〔2024〕3号 或网址 / document number or address of the official text"
    )
    branch_type: str = Field(description="适用的支部类型，如 农村、社区 / branch type matched against the data")
    branch_type_aliases: list[str] = Field(
        default_factory=list, description="支部类型的其他写法 / other spellings of the branch type"
    )
    version: str = Field(description="版本，如 2024 / version")
    description: str | None = None
    levels: dict[Count, str] = Field(
        default_factory=lambda: dict(DEFAULT_LEVELS), description="星级名称 / level labels by star count"
    )
    fields: dict[str, FieldSpec] = Field(description="数据字段 / the data contract")
    stars: list[Star] = Field(min_length=1, description="各颗星 / the stars")
    caps: list[Cap] = Field(default_factory=list, description="封顶事项 / branch-level caps")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    def level_label(self, stars: int) -> str:
        return self.levels.get(stars, DEFAULT_LEVELS.get(stars, str(stars)))

    def star(self, star_id: str) -> Star:
        for star in self.stars:
            if star.id == star_id:
                return star
        raise KeyError(star_id)

    def star_order(self) -> list[Star]:
        """Stars in an order where every star comes after the stars it requires (file order otherwise)."""
        done: dict[str, Star] = {}
        pending = list(self.stars)
        while pending:
            progressed = False
            for star in list(pending):
                if all(r in done for r in star.requires if r != star.id):
                    done[star.id] = star
                    pending.remove(star)
                    progressed = True
            if not progressed:  # a cycle: validation reports it; keep file order
                for star in pending:
                    done[star.id] = star
                break
        return list(done.values())

    def input_fields(self) -> dict[str, FieldSpec]:
        return {k: f for k, f in self.fields.items() if not f.derived}

    def header_of(self, field_id: str) -> str:
        spec = self.fields[field_id]
        return spec.header or field_id
