"""Pydantic models of an incentives (奖补) rules file; see docs/incentives.md for the format."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .contract import header_key
from .criteria import DEFAULT_LEVELS, Id

Money = Annotated[
    Decimal,
    Field(ge=0, decimal_places=2, max_digits=15, description="金额（元，最多两位小数） / amount in 元, to the fen"),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleType(StrEnum):
    """How a rule turns a branch's stars into money."""

    per_person_star = "per_person_star"  # amount × people × stars held
    per_person = "per_person"            # amount × people (when eligible)
    per_level = "per_level"              # amounts[level]
    per_star = "per_star"                # amount (or amounts[star]) for each star held


class Per(StrEnum):
    """The time unit an amount is stated in; it is converted to the length of the data's period."""

    period = "period"
    month = "month"
    quarter = "quarter"
    half = "half"
    year = "year"


class IncentiveRule(_Model):
    """One payment rule; the amount is for one branch and one period (or one ``per`` unit)."""

    id: Id
    name: str = Field(description="名称 / name, e.g. 67至79岁老人星级奖补")
    type: RuleType = Field(description="per_person_star | per_person | per_level | per_star")
    amount: Money | None = Field(None, description="单价 / amount per person-star, per person or per star")
    amounts: dict[int | str, Money] | None = Field(
        None, description="per_level: 星级→金额 (5: 1500 或 五星: 1500)；per_star: 星→金额 (zbgy 或 支部过硬星)"
    )
    people: str | None = Field(None, description="人数列的表头，如 67至79岁农村老人数(人) / person-count column")
    per: Per = Field(Per.period, description="金额的计算周期 / the unit the amounts are stated in")
    min_stars: int | None = Field(None, ge=0, description="至少几星才享受 / pays only from this many stars")
    branch_types: list[str] = Field(
        default_factory=list, description="适用的支部类型（农村、社区）或标准标识；默认全部 / only these branch types"
    )
    cap: Money | None = Field(None, description="本项每个支部的上限 / most this rule pays one branch")
    description: str | None = None
    source: str | None = Field(None, description="依据 / where the rule comes from")

    @field_validator("branch_types", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class IncentiveRules(_Model):
    """A whole incentives file."""

    schema_version: Literal[1] = Field(description="文件格式版本 / format version (1)")
    id: Id
    name: str = Field(description="方案名称 / name of the scheme")
    version: str | None = None
    description: str | None = None
    rules: list[IncentiveRule] = Field(min_length=1, description="奖补项目 / the payment rules")
    branch_cap: Money | None = Field(None, description="每个支部每期合计上限 / most one branch receives per period")
    budget: Money | None = Field(
        None, description="本期预算总额；超出时按比例核减 / the period's budget; scaled down pro rata when exceeded"
    )

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def level_of(key: int | str, labels: dict[int, str] | None = None) -> int | None:
    """A level written as 5, "5", "5星", "五星" (or a criteria's own label); None when it is none."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key if key >= 0 else None
    text = header_key(str(key))
    if text.isdigit():
        return int(text)
    if text.endswith("星") and text[:-1].isdigit():
        return int(text[:-1])
    for source in (labels or {}, DEFAULT_LEVELS):
        for level, name in source.items():
            if header_key(name) == text:
                return level
    return None
