"""The layout of a self-assessment form (自评表): its columns, what to type into each, how Excel checks it.

:func:`build_form` gives the reserved columns (支部编码 … 期间), then one column per input field under
exactly the field's ``header`` so that ``wuxing score`` reads the form back; each column carries its
requirement (e.g. 整数，≥ 0，单位：户), what a blank cell means, where the value counts, and the
xlsxwriter data-validation options (dropdowns, numeric bounds) that :mod:`.xlsx` applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Problem, ProblemCode, UsageError
from ..models.contract import RESERVED, RESERVED_HEADERS, header_key
from ..models.criteria import Criteria, FieldSpec, FieldType
from .text import clip, number_text
from .uses import Use, field_uses

#: The header each reserved column gets in a form (the first Chinese spelling SPEC §3 accepts).
RESERVED_FORM_HEADERS: dict[str, str] = {key: RESERVED_HEADERS[key][1] for key in RESERVED}

_RESERVED_NOTES: dict[str, str] = {
    "branch_id": "必填。每个支部一个编码（如组织编码），同一期间内不得重复。按文本填写，保留开头的 0。",
    "branch_name": "支部（村、社区）名称。可留空，留空时以编码代替。",
    "county": "县（市、区）名称。",
    "township": "乡镇（街道）名称，用于按乡镇（街道）排名。",
    "branch_type": "支部类型：农村 或 社区。",
    "period": "评价期间，如 2024-Q4（季度）或 2024-11（月份）。同一表格可含多个期间。",
}

_TYPE_PROMPTS: dict[FieldType, str] = {
    FieldType.number: "数值",
    FieldType.integer: "整数",
    FieldType.percent: "百分比：填 0–100 的数，85 表示 85%，不要输入 % 号",
    FieldType.boolean: "从下拉列表选择“是”或“否”",
    FieldType.category: "从下拉列表选择",
    FieldType.text: "文字",
}

# Header fills: reserved columns grey, field columns by the first star they feed.
_RESERVED_FILL = "#D9D9D9"
_STAR_FILLS = ("#DDEBF7", "#E2EFDA", "#FFF2CC", "#FCE4D6", "#EDE2F6", "#DEEAF1", "#F2F2F2")
UNUSED_FILL = "#FFFFFF"  # a column no rule uses (and, in a merged table, a column no criteria knows)


@dataclass(frozen=True)
class FormColumn:
    """One column of a form: its header, what to type into it, and how Excel should check it."""

    key: str  # reserved column name or the field id (of the first criteria that has it)
    header: str
    requirement: str  # what to enter, e.g. 整数，≥ 0，单位：户
    blank: str = "—"  # what an empty cell means
    uses: tuple[str, ...] = ()  # where the value counts, in plain words (indicator and rule, veto, cap)
    description: str | None = None
    validation: dict[str, Any] | None = None  # xlsxwriter data_validation options, without the range
    values: tuple[str, ...] = ()  # dropdown values (list validation)
    fill: str = _RESERVED_FILL
    text: bool = False  # keep as text in Excel (codes with leading zeros, periods like 2024-11)
    numeric: bool = False  # numeric cells are written as numbers in Excel
    reserved: bool = False

    @property
    def note(self) -> str:
        """The header cell's comment: what to enter and what it scores, in plain words."""
        if self.reserved:
            return f"【{self.header}】\n{self.requirement}"
        lines = [f"【{self.header}】", f"填写：{self.requirement}", f"空白：{self.blank}"]
        if self.description:
            lines.append(f"说明：{self.description}")
        lines.append("计分：" if self.uses else "计分：本标准暂未用于计分")
        lines.extend(f"• {u}" for u in self.uses)
        return "\n".join(lines)


@dataclass(frozen=True)
class Form:
    """The layout of a self-assessment form for one or more criteria."""

    title: str
    criteria: tuple[Criteria, ...]
    columns: tuple[FormColumn, ...]
    legend: tuple[tuple[str, str], ...] = ()  # (star name, header fill)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]


def build_form(criteria: Sequence[Criteria]) -> Form:
    """The columns of the form for ``criteria``: reserved columns, then every input field.

    With several criteria (e.g. rural and community), fields of the same header share one column.
    """
    if not criteria:
        raise UsageError([Problem("no criteria given", code=ProblemCode.CRITERIA)])
    several = len(criteria) > 1
    fills: dict[str, str] = {}
    legend: list[tuple[str, str]] = []
    for crit in criteria:
        for star in crit.stars:
            if star.name not in fills:
                fills[star.name] = _STAR_FILLS[len(fills) % len(_STAR_FILLS)]
                legend.append((star.name, fills[star.name]))

    uses = [field_uses(crit) for crit in criteria]
    columns = [_reserved_column(key, criteria) for key in RESERVED]
    taken = {header_key(c.header) for c in columns}
    groups: dict[str, list[tuple[Criteria, str, FieldSpec, list[Use]]]] = {}
    for crit, crit_uses in zip(criteria, uses, strict=True):
        for fid, spec in crit.input_fields().items():
            groups.setdefault(header_key(crit.header_of(fid)), []).append((crit, fid, spec, crit_uses.get(fid, [])))
    for key, members in groups.items():
        if key in taken:  # a field named like a reserved column: the criteria check reports it
            continue
        columns.append(_field_column(members, several, fills))
    title = criteria[0].name if not several else "“五星”支部创建"
    return Form(title=f"{title} 自评表", criteria=tuple(criteria), columns=tuple(columns), legend=tuple(legend))


def _reserved_column(key: str, criteria: Sequence[Criteria]) -> FormColumn:
    header = RESERVED_FORM_HEADERS[key]
    note = _RESERVED_NOTES[key]
    values: tuple[str, ...] = ()
    validation: dict[str, Any] = {"validate": "any"}
    if key == "branch_type":
        values = tuple(dict.fromkeys(c.branch_type for c in criteria))
        if len(criteria) > 1:
            note += "本表适用：" + "、".join(values) + "，必填，决定按哪套标准评分。"
        else:
            note += f"本表为{values[0]}标准，可留空。"
        validation = _list_validation(header, note, values)
    validation.update(_prompts(header, clip(note, 255)))
    return FormColumn(key=key, header=header, requirement=note, blank="不得为空" if key == "branch_id" else "—",
                      validation=validation, values=values, text=True, reserved=True)


def _field_column(
    members: list[tuple[Criteria, str, FieldSpec, list[Use]]], several: bool, fills: Mapping[str, str]
) -> FormColumn:
    crit, fid, spec, _ = members[0]
    header = crit.header_of(fid)
    requirement = field_requirement(spec)
    uses: list[str] = []
    first_star: str | None = None
    for member_crit, _, _, found in members:
        if found and first_star is None:
            first_star = found[0].star
        prefix = f"［{member_crit.branch_type}］" if several else ""
        uses.extend(prefix + use.text for use in found)
    blank = blank_text(spec) if uses else "可留空"
    prompt = clip(f"{requirement}。空白{blank}。", 255)

    same = all(_check_signature(s) == _check_signature(spec) for _, _, s, _ in members)
    validation: dict[str, Any] | None = None
    values: tuple[str, ...] = ()
    if same:
        validation, values = _field_validation(header, spec, requirement)
    if validation is None:
        validation = {"validate": "any"}
    validation.update(_prompts(header, prompt))
    return FormColumn(
        key=fid,
        header=header,
        requirement=requirement,
        blank=blank,
        uses=tuple(uses),
        description=spec.description,
        validation=validation,
        values=values,
        fill=fills.get(first_star, UNUSED_FILL) if first_star else UNUSED_FILL,
        text=spec.type in (FieldType.text, FieldType.category),
        numeric=spec.numeric,
    )


def _check_signature(spec: FieldSpec) -> tuple[Any, ...]:
    return (spec.type, spec.lower, spec.upper, tuple(spec.values or ()))


def field_requirement(spec: FieldSpec) -> str:
    """What to type into a field's column, e.g. ``数值，≥ 0，单位：万元``."""
    parts = [_TYPE_PROMPTS[spec.type]]
    if spec.type is FieldType.category and spec.values:
        parts[0] += "：" + "、".join(spec.values)
    if spec.numeric:
        lo, hi = spec.lower, spec.upper
        if spec.type is FieldType.percent and (lo, hi) == (0.0, 100.0):
            lo = hi = None
        if lo is not None and hi is not None:
            parts.append(f"{number_text(lo)}–{number_text(hi)}")
        elif lo is not None:
            parts.append(f"≥ {number_text(lo)}")
        elif hi is not None:
            parts.append(f"≤ {number_text(hi)}")
        if spec.unit and spec.type is not FieldType.percent:
            parts.append(f"单位：{spec.unit}")
    return "，".join(parts)


def blank_text(spec: FieldSpec) -> str:
    """What an empty cell means for a field."""
    if spec.default is None:
        return "视为缺失，相关指标不得分"
    if isinstance(spec.default, bool):
        return f"视为“{'是' if spec.default else '否'}”"
    if isinstance(spec.default, float):
        return f"视为 {number_text(spec.default)}"
    return f"视为“{spec.default}”"


def _field_validation(header: str, spec: FieldSpec, requirement: str) -> tuple[dict[str, Any] | None, tuple[str, ...]]:
    if spec.type is FieldType.boolean or (spec.type is FieldType.category and spec.values):
        values: tuple[str, ...] = ("是", "否") if spec.type is FieldType.boolean else tuple(spec.values or ())
        return _list_validation(header, requirement, values), values
    if not spec.numeric:
        return None, ()
    lo, hi = spec.lower, spec.upper
    kind = "integer" if spec.type is FieldType.integer else "decimal"
    if lo is None and hi is None:
        if kind == "decimal":
            return None, ()
        lo, hi = -2_147_483_647.0, 2_147_483_647.0
    options: dict[str, Any] = {"validate": kind}
    if lo is not None and hi is not None:
        options.update(criteria="between", minimum=_excel_number(lo), maximum=_excel_number(hi))
    elif lo is not None:
        options.update(criteria=">=", value=_excel_number(lo))
    else:
        options.update(criteria="<=", value=_excel_number(hi))
    options.update(_errors(header, requirement))
    return options, ()


def _list_validation(header: str, requirement: str, values: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"validate": "list", "source": list(values)}
    options.update(_errors(header, requirement))
    return options


def _errors(header: str, requirement: str) -> dict[str, Any]:
    return {"error_type": "stop", "error_title": "输入有误",
            "error_message": clip(f"“{header}”应填写：{requirement}", 255)}


def _prompts(header: str, prompt: str) -> dict[str, Any]:
    return {"input_title": clip(header, 32), "input_message": prompt}


def _excel_number(value: float | None) -> float | int:
    assert value is not None
    return int(value) if float(value).is_integer() else value
