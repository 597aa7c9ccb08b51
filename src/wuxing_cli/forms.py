"""Data-entry forms (自评表) built from criteria, and merging the filled-in forms of many branches.

- :func:`build_form` lays out the columns of a self-assessment form: the reserved columns
  (支部编码 … 期间), then one column per input field under exactly the field's ``header`` so that
  ``wuxing score`` reads the form back; each column carries its rule in plain words.
- :func:`write_form_xlsx` writes the form (or any rows under its columns) as an Excel workbook
  with header comments, input prompts, data validation (dropdowns, numeric bounds), a frozen
  header and a second sheet of instructions; :func:`csv_bytes` writes the CSV variant.
- :func:`read_branches` reads the branches to pre-fill (a CSV/Excel file with reserved columns).
- :func:`merge_files` stacks many submitted forms into one table, reporting duplicate branches
  and forms made for another version of the criteria.

Nothing here prints or exits; problems are raised as :class:`~wuxing_cli.errors.WuxingError`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from . import expr as ex
from .engine.explain import rule_text
from .errors import DataError, Problem, ProblemCode, UsageError
from .io.table import RawTable, check_headers, read_raw
from .models.contract import LINE, RESERVED, RESERVED_HEADERS, header_key
from .models.criteria import Criteria, FieldSpec, FieldType

#: The header each reserved column gets in a form (the first Chinese spelling SPEC §3 accepts).
RESERVED_FORM_HEADERS: dict[str, str] = {key: RESERVED_HEADERS[key][1] for key in RESERVED}

FORM_SHEET = "自评表"
GUIDE_SHEET = "填表说明"
LISTS_SHEET = "选项"
LAST_ROW = 1_048_575  # Excel's last row (0-based): validation covers the whole column
DATA_SUFFIXES = (".csv", ".xlsx", ".xlsm")

_RESERVED_NOTES: dict[str, str] = {
    "branch_id": "必填。每个支部一个编码（如组织编码），同一期间内不得重复。按文本填写，保留开头的 0。",
    "branch_name": "支部（村、社区）名称。可留空，留空时以编码代替。",
    "county": "县（市、区）名称。",
    "township": "乡镇（街道）名称，用于乡镇排名。",
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
_UNUSED_FILL = "#FFFFFF"

_IDENT = re.compile(r"[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*")
_OPERATORS = ((">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("==", "="))
_WORDS = {"and": "且", "or": "或", "not": "非"}
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


# --------------------------------------------------------------------------------------------
# Columns of a form
# --------------------------------------------------------------------------------------------


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
    validation.update(_prompts(header, _clip(note, 255)))
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
    prompt = _clip(f"{requirement}。空白{blank}。", 255)

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
        fill=fills.get(first_star, _UNUSED_FILL) if first_star else _UNUSED_FILL,
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
            parts.append(f"{_num(lo)}–{_num(hi)}")
        elif lo is not None:
            parts.append(f"≥ {_num(lo)}")
        elif hi is not None:
            parts.append(f"≤ {_num(hi)}")
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
        return f"视为 {_num(spec.default)}"
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
            "error_message": _clip(f"“{header}”应填写：{requirement}", 255)}


def _prompts(header: str, prompt: str) -> dict[str, Any]:
    return {"input_title": _clip(header, 32), "input_message": prompt}


def _excel_number(value: float | None) -> float | int:
    assert value is not None
    return int(value) if float(value).is_integer() else value


# --------------------------------------------------------------------------------------------
# What a field is used for
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Use:
    """One way an input field counts: an indicator, a veto or a cap (directly or via derived fields)."""

    star: str | None
    text: str


def field_uses(criteria: Criteria) -> dict[str, list[Use]]:
    """Input field id → where it counts, in plain words, in the order of the criteria file."""
    uses: dict[str, list[Use]] = {}

    def add(fields: Sequence[str], use: Use) -> None:
        for fid in fields:
            uses.setdefault(fid, []).append(use)

    for star in criteria.stars:
        for ind in star.indicators:
            spec = criteria.fields.get(ind.field)
            via = ""
            if spec is not None and spec.derived and spec.expr:
                via = f"（由 {describe_expr(spec.expr, criteria)} 算出{_unit_suffix(spec)}）"
            required = "，必达" if ind.required else ""
            text = f"{star.name} › {ind.name}（满分 {_num(ind.points)}{required}）：{rule_text(ind, spec)}{via}"
            add(input_sources(criteria, [ind.field]), Use(star.name, text))
        for veto in star.vetoes:
            text = f"{star.name} › 一票否决：{veto.name}（{describe_expr(veto.when, criteria)} 时该星不得）"
            add(input_sources(criteria, _names(veto.when, criteria)), Use(star.name, text))
    for cap in criteria.caps:
        text = f"封顶：{cap.name}（{describe_expr(cap.when, criteria)} 时最多 {cap.max_stars} 星）"
        add(input_sources(criteria, _names(cap.when, criteria)), Use(None, text))
    return uses


def input_sources(criteria: Criteria, field_ids: Sequence[str]) -> list[str]:
    """The input fields that ``field_ids`` read, following derived fields (in first-seen order)."""
    out: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(field_ids))
    while stack:
        fid = stack.pop()
        if fid in seen:
            continue
        seen.add(fid)
        spec = criteria.fields.get(fid)
        if spec is None:
            continue
        if spec.derived and spec.expr:
            stack.extend(reversed(_names(spec.expr, criteria)))
        else:
            out.append(fid)
    return out


def _names(text: str, criteria: Criteria) -> list[str]:
    """Field ids an expression reads, in order of appearance."""
    try:
        found = ex.names(ex.parse(text))
    except Exception:  # an invalid expression: validation reports it; the form just says less
        return []
    order = {m.group(0): m.start() for m in reversed(list(_IDENT.finditer(text)))}
    return sorted((n for n in found if n in criteria.fields), key=lambda n: order.get(n, 0))


def describe_expr(text: str, criteria: Criteria) -> str:
    """An expression with field ids replaced by their column headers, e.g. ``刑事案件数 > 0``."""

    def label(match: re.Match[str]) -> str:
        word = match.group(0)
        spec = criteria.fields.get(word)
        if spec is not None:
            return short_header(spec.header or spec.name or word, spec.unit)
        return _WORDS.get(word, word)

    out = _IDENT.sub(label, text)
    for op, sign in _OPERATORS:
        out = out.replace(op, sign)
    return out.replace("*", "×").replace("/", "÷")


def short_header(header: str, unit: str | None) -> str:
    """A header without its trailing unit, e.g. ``刑事案件数(起)`` → ``刑事案件数``."""
    if unit:
        for left, right in (("(", ")"), ("（", "）")):
            if header.endswith(f"{left}{unit}{right}") and len(header) > len(unit) + 2:
                return header[: -len(unit) - 2]
    return header


def _unit_suffix(spec: FieldSpec) -> str:
    return f"，单位 {spec.unit}" if spec.unit and spec.unit != "%" else ""


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 code units (Excel's measure), ending in … when cut."""
    if _utf16_len(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _utf16_len(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def display_width(text: str) -> int:
    """Width in half-width character cells (CJK counts 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


# --------------------------------------------------------------------------------------------
# Rows: pre-filled branches
# --------------------------------------------------------------------------------------------


def empty_rows(form: Form) -> pl.DataFrame:
    """No rows, the form's columns (all text)."""
    return pl.DataFrame({h: pl.Series(h, [], dtype=pl.String) for h in form.headers})


def read_branches(
    path: Path,
    form: Form,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    period: str | None = None,
) -> pl.DataFrame:
    """The rows to pre-fill from a file of branches (reserved columns, under any accepted header).

    Only the reserved columns are taken. With one criteria an empty 类型 is filled with its branch
    type; ``period`` fills an empty 期间. Raises DataError for a file without a branch id column,
    rows without an id, or an id listed twice (for one period).
    """
    raw = read_raw(path, encoding=encoding, sheet=sheet)
    found = _reserved_columns(raw)
    if "branch_id" not in found:
        raise DataError([Problem("no branch id column: expected one of " + ", ".join(RESERVED_HEADERS["branch_id"]),
                                 file=raw.path, line=raw.header_line, code=ProblemCode.MISSING_COLUMN)])
    frame = raw.frame.select(
        pl.col(LINE),
        *(
            (pl.col(raw.column_name(found[key])) if key in found else pl.lit(None, pl.String)).alias(key)
            for key in RESERVED
        ),
    )
    if len(form.criteria) == 1:
        frame = frame.with_columns(pl.col("branch_type").fill_null(form.criteria[0].branch_type))
    if period is not None:
        frame = frame.with_columns(pl.col("period").fill_null(period))
    problems = [
        Problem("the row has no branch id", file=raw.path, line=line, header=RESERVED_FORM_HEADERS["branch_id"],
                code=ProblemCode.MISSING_ID)
        for line in frame.filter(pl.col("branch_id").is_null())[LINE].to_list()
    ]
    dups = frame.filter(pl.col("branch_id").is_not_null() & (pl.len().over("branch_id", "period") > 1))
    for (bid, per), group in dups.group_by(["branch_id", "period"], maintain_order=True):
        lines = group[LINE].to_list()
        problems.append(Problem(f"branch id listed {len(lines)} times (lines {', '.join(map(str, lines))})",
                                file=raw.path, line=lines[1], header=RESERVED_FORM_HEADERS["branch_id"],
                                value=str(bid) + (f" / {per}" if per else ""), code=ProblemCode.DUPLICATE_ID))
    if problems:
        raise DataError(problems)
    rows = frame.select(pl.col(key).alias(RESERVED_FORM_HEADERS[key]) for key in RESERVED)
    return rows.with_columns(pl.lit(None, pl.String).alias(h) for h in form.headers if h not in rows.columns).select(
        form.headers)


def _reserved_columns(raw: RawTable) -> dict[str, int]:
    """Reserved column name → index of its column in ``raw`` (the first accepted header found)."""
    index: dict[str, int] = {}
    for i, h in enumerate(raw.headers):
        index.setdefault(header_key(h), i)
    found: dict[str, int] = {}
    for key in RESERVED:
        for candidate in RESERVED_HEADERS[key]:
            col = index.get(header_key(candidate))
            if col is not None:
                found[key] = col
                break
    return found


# --------------------------------------------------------------------------------------------
# Writing: CSV and Excel
# --------------------------------------------------------------------------------------------


def csv_bytes(frame: pl.DataFrame, *, bom: bool = False) -> bytes:
    """CSV (UTF-8; with ``bom`` for Excel/WPS to recognise it) of text rows.

    Cells a spreadsheet would run as a formula get a leading apostrophe, except plain numbers
    such as ``-3`` (SPEC §7): they must still read back as numbers.
    """
    import io

    buffer = io.BytesIO()
    _neutralise_text(frame).write_csv(buffer)
    data = buffer.getvalue()
    return ("\ufeff".encode() + data) if bom else data


def _neutralise_text(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = [
        pl.when(pl.col(name).str.contains(r"^[=+\-@\t\r]") & ~pl.col(name).str.contains(_PLAIN_NUMBER.pattern))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    ]
    return frame.with_columns(exprs) if exprs else frame


def write_form_xlsx(path: Path, form: Form, rows: pl.DataFrame | None = None) -> None:
    """Write ``form`` (with ``rows`` under it, all text cells keyed by header) as an .xlsx workbook.

    Sheet 1 (自评表) is the form: the header row with a comment on every cell, data validation
    on every column, the header frozen with the id and name columns; sheet 2 (填表说明) explains
    every column. Byte-identical for the same inputs.
    """
    import xlsxwriter

    rows = rows if rows is not None else empty_rows(form)
    workbook = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    workbook.set_properties({"title": form.title, "author": "wuxing", "created": _dt.datetime(2000, 1, 1)})
    sheet = workbook.add_worksheet(FORM_SHEET)
    guide = workbook.add_worksheet(GUIDE_SHEET)
    lists = None

    base = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
    header_formats: dict[str, Any] = {}
    text_format = workbook.add_format({**base, "num_format": "@"})
    plain_format = workbook.add_format(base)
    number_format = workbook.add_format({**base, "num_format": "General"})

    def header_format(fill: str) -> Any:
        if fill not in header_formats:
            header_formats[fill] = workbook.add_format(
                {**base, "bold": True, "text_wrap": True, "align": "center", "border": 1, "bg_color": fill}
            )
        return header_formats[fill]

    sheet.set_row(0, 48)
    sheet.set_comments_author("wuxing")
    list_row = 0
    for col, column in enumerate(form.columns):
        sheet.write_string(0, col, column.header, header_format(column.fill))
        sheet.set_column(col, col, _column_width(column), text_format if column.text else plain_format)
        sheet.write_comment(0, col, column.note, _comment_options(column.note))
        options = dict(column.validation or {})
        if options.get("validate") == "list" and _utf16_len(",".join(column.values)) > 250:
            if lists is None:
                lists = workbook.add_worksheet(LISTS_SHEET)
                lists.hide()
            for i, value in enumerate(column.values):
                lists.write_string(list_row + i, 0, value)
            options["source"] = f"='{LISTS_SHEET}'!$A${list_row + 1}:$A${list_row + len(column.values)}"
            list_row += len(column.values)
        if options:
            sheet.data_validation(1, col, LAST_ROW, col, options)

    for r, row in enumerate(rows.select(form.headers).iter_rows(), start=1):
        for col, (column, value) in enumerate(zip(form.columns, row, strict=True)):
            if value is None:
                continue
            text = str(value)
            number = _as_number(text) if column.numeric else None
            if number is not None:
                sheet.write_number(r, col, number, number_format)
            else:
                sheet.write_string(r, col, text, text_format if column.text else plain_format)

    sheet.freeze_panes(1, 2)
    sheet.hide_gridlines(0)  # show and print the grid: the form is also printed and filled by hand
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(0)
    sheet.repeat_columns(0, 1)
    sheet.set_header(f"&C&\"等线,Bold\"{_escape_header(form.title)}")
    sheet.set_footer("&C第 &P 页，共 &N 页")
    sheet.activate()
    _write_guide(workbook, guide, form, base, header_format)
    workbook.close()


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")


def _as_number(text: str) -> float | int | None:
    cleaned = text.replace(",", "")
    if not _PLAIN_NUMBER.match(cleaned):
        return None
    value = float(cleaned)
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < 2**53 and "." not in cleaned and "e" not in cleaned.lower():
        return int(value)
    return value


def _column_width(column: FormColumn) -> float:
    width = display_width(column.header)
    if column.key == "branch_id":
        return 16
    if width <= 16:
        return max(width + 3, 9)
    return min(max(math.ceil(width / 2) + 3, 12), 22)


def _wrapped_lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a wrapping cell ``width`` characters wide (CJK counts 2)."""
    per_line = max(int(width * 1.1) - 1, 1)
    return sum(max(1, math.ceil(display_width(line) / per_line)) for line in text.splitlines() or [""])


def _comment_options(note: str) -> dict[str, Any]:
    width_px = 400
    per_line = width_px // 7  # half-width characters per line at 9 pt
    lines = sum(max(1, math.ceil(display_width(line) / per_line)) for line in note.splitlines())
    return {"width": width_px, "height": min(20 + 15 * lines, 600), "font_size": 9, "font_name": "等线"}


def _write_guide(workbook: Any, guide: Any, form: Form, base: dict[str, Any], header_format: Any) -> None:
    title = workbook.add_format({**base, "bold": True, "font_size": 14})
    wrap = workbook.add_format({**base, "text_wrap": True, "valign": "top", "border": 1})
    bold_wrap = workbook.add_format({**base, "text_wrap": True, "valign": "top", "border": 1, "bold": True})
    plain = workbook.add_format({**base, "text_wrap": True, "valign": "top"})
    widths = (36, 40, 22, 90)
    for col, width in enumerate(widths):
        guide.set_column(col, col, width)
    guide.write_string(0, 0, f"{form.title} · 填表说明", title)
    versions = "；".join(f"{c.name}（{c.id}，{c.version} 版）" for c in form.criteria)
    notes = [
        f"适用标准：{versions}",
        "1. 每个支部填写一行；“支部编码”必填，同一期间内不得重复，请按文本填写并保留开头的 0。",
        "2. 请勿修改、删除或调换第一行的列名，不要合并单元格；需要备注时，在“支部编码”列以 # 开头写一行，汇总时会跳过。",
        "3. 数值只填数字（可带千分位）；百分比填 0–100 的数，例如 85 表示 85%，不要输入 % 号。",
        "4. “是/否”和等次类的列请从下拉列表中选择；超出范围的数值会被拒绝。",
        "5. 把鼠标停在列名上可查看该列的填写要求和计分规则；下表列出全部列。",
        "6. 空白单元格视为缺失，相关指标不得分；注明“空白视为 0”的计数类列没有发生时可留空。",
    ]
    row = 1
    for text in notes:
        guide.merge_range(row, 0, row, 3, text, plain)
        row += 1
    if form.legend:
        row += 1
        guide.write_string(row, 0, "列名底色表示该列主要用于哪颗星：", plain)
        for i, (name, fill) in enumerate(form.legend):
            guide.write_string(row + 1 + i // 4, i % 4, name, header_format(fill))
        row += 2 + (len(form.legend) - 1) // 4
    row += 1
    for col, label in enumerate(("列名", "填写要求", "空白时", "计分用途")):
        guide.write_string(row, col, label, bold_wrap)
    guide.freeze_panes(row + 1, 0)
    for column in form.columns:
        row += 1
        lines = [f"说明：{column.description}"] if column.description else []
        lines += [f"• {u}" for u in column.uses]
        if not lines and not column.reserved:
            lines = ["本标准暂未用于计分"]
        uses = "\n".join(lines)
        cells = (column.header, column.requirement, column.blank, uses)
        guide.write_string(row, 0, column.header, header_format(column.fill))
        for col, text in enumerate(cells[1:], start=1):
            guide.write_string(row, col, text, wrap)
        guide.set_row(row, 15 * max(_wrapped_lines(text, width) for text, width in zip(cells, widths, strict=True)))
    guide.set_landscape()
    guide.set_paper(9)
    guide.fit_to_pages(1, 0)


# --------------------------------------------------------------------------------------------
# Merging submitted forms
# --------------------------------------------------------------------------------------------


@dataclass
class MergeResult:
    """The stacked table (text cells under the form's headers) and what was found on the way."""

    frame: pl.DataFrame
    form: Form
    columns: list[FormColumn]
    files: int
    duplicates_dropped: int = 0
    warnings: list[Problem] = field(default_factory=list)


def expand_inputs(inputs: Sequence[Path], *, exclude: Sequence[Path] = ()) -> list[Path]:
    """Files as given, and the .csv/.xlsx files under each folder (recursively, sorted by path).

    Hidden files and Excel's lock files (``~$…``) are skipped, and so are the ``exclude`` paths.
    """
    excluded = {p.resolve() for p in exclude}
    out: list[Path] = []
    problems: list[Problem] = []
    for item in inputs:
        if item.is_dir():
            found = sorted(
                p for p in item.rglob("*")
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                and not any(part.startswith((".", "~$")) for part in p.relative_to(item).parts)
                and p.resolve() not in excluded
            )
            if not found:
                problems.append(Problem(f"no .csv or .xlsx files in the folder '{item}'", file=str(item),
                                        code=ProblemCode.NO_FILES))
            out.extend(found)
        elif item.exists():
            out.append(item)
        else:
            problems.append(Problem(f"no such file or folder: '{item}'", file=str(item), code=ProblemCode.NO_FILES))
    if problems:
        raise UsageError(problems)
    unique: list[Path] = []
    seen: set[Path] = set()
    for p in out:
        if p.resolve() not in seen:
            seen.add(p.resolve())
            unique.append(p)
    return unique


def merge_files(
    paths: Sequence[Path],
    criteria: Sequence[Criteria],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    lenient: bool = False,
) -> MergeResult:
    """Stack the rows of ``paths`` under the headers of the criteria's form.

    Headers are matched after normalisation (NFKC, case, spaces; aliases and every accepted
    reserved header), so forms may differ in spelling and column order. Raises DataError listing
    every problem of every file: unreadable files, missing columns (a form made for another
    version of the criteria; only warnings with ``lenient``), and branches submitted twice with
    different values (same 支部编码 and 期间). Identical repeats are kept once, with a warning.
    Columns no criteria knows are kept at the end, with a warning naming them per file.
    """
    if not paths:
        raise UsageError([Problem("no input files", code=ProblemCode.NO_FILES)])
    form = build_form(criteria)
    catalog = _catalog(criteria)
    problems: list[Problem] = []
    frames: list[pl.DataFrame] = []
    extra: dict[str, None] = {}
    for path in paths:
        try:
            raw = read_raw(path, encoding=encoding, sheet=sheet)
        except (DataError, UsageError) as exc:
            problems.extend(exc.problems)
            continue
        for p in check_headers(raw, criteria):
            if lenient and p.is_error and p.code == ProblemCode.MISSING_COLUMN and _is_field_header(p.header, catalog):
                p = replace(p, message=p.message + "; its cells are left empty", severity="warning")
            problems.append(p)
        selected: list[pl.Expr] = [pl.col(LINE), pl.lit(raw.path).alias(_FILE)]
        used: set[str] = set()
        unknown: list[str] = []
        for i, header in enumerate(raw.headers):
            target = catalog.get(header_key(header)) if header else None
            if target is None:
                if header:
                    unknown.append(header)
                    target = header
                else:
                    continue
            if target in used:
                continue
            used.add(target)
            selected.append(pl.col(raw.column_name(i)).alias(target))
        if unknown:
            problems.append(Problem(
                "columns not in the criteria (" + _criteria_label(criteria) + "): "
                + ", ".join(f"'{h}'" for h in unknown)
                + " — a form made for another version of the criteria? They are kept at the end but not scored",
                file=raw.path, line=raw.header_line, severity="warning", code=ProblemCode.UNKNOWN_COLUMN))
            extra.update(dict.fromkeys(unknown))
        frames.append(raw.frame.select(selected))
    if not frames:
        raise DataError(problems)
    stacked = pl.concat(frames, how="diagonal")
    known = [c for c in form.columns if c.header in stacked.columns]
    plain = [FormColumn(key=h, header=h, requirement="不在评分标准中的列（不计分）", fill=_UNUSED_FILL)
             for h in extra if h not in {c.header for c in known}]
    columns = known + plain
    headers = [c.header for c in columns]
    stacked = stacked.select(LINE, _FILE, *headers)
    stacked, dropped, dup_problems = _deduplicate(stacked, headers)
    problems.extend(dup_problems)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise DataError(problems)
    return MergeResult(frame=stacked.select(headers), form=form, columns=columns, files=len(frames),
                       duplicates_dropped=dropped, warnings=problems)


_FILE = "__file"


def _is_field_header(header: str | None, catalog: Mapping[str, str]) -> bool:
    """A header of an input field (not of a reserved column)."""
    if not header:
        return False
    target = catalog.get(header_key(header))
    return target is not None and target not in RESERVED_FORM_HEADERS.values()


def _criteria_label(criteria: Sequence[Criteria]) -> str:
    return ", ".join(f"{c.id} {c.version}" for c in criteria)


def _catalog(criteria: Sequence[Criteria]) -> dict[str, str]:
    """header_key of every accepted header → the form's header for it."""
    catalog: dict[str, str] = {}
    for key in RESERVED:
        for spelling in RESERVED_HEADERS[key]:
            catalog.setdefault(header_key(spelling), RESERVED_FORM_HEADERS[key])
    for crit in criteria:
        for fid, spec in crit.input_fields().items():
            header = crit.header_of(fid)
            for spelling in (header, *spec.aliases):
                catalog.setdefault(header_key(spelling), header)
    return catalog


def _deduplicate(frame: pl.DataFrame, headers: Sequence[str]) -> tuple[pl.DataFrame, int, list[Problem]]:
    """Keep one of identical repeats of a branch and period; report conflicting repeats as errors."""
    bid, per = RESERVED_FORM_HEADERS["branch_id"], RESERVED_FORM_HEADERS["period"]
    if bid not in frame.columns:
        return frame, 0, []
    keys = [bid, per] if per in frame.columns else [bid]
    values = [h for h in headers if h not in keys]
    frame = frame.with_columns(pl.int_range(pl.len()).alias("__order"))
    repeated = frame.filter(pl.col(bid).is_not_null() & (pl.len().over(keys) > 1))
    problems: list[Problem] = []
    drop: list[int] = []
    for key_values, group in repeated.group_by(keys, maintain_order=True):
        where = [f"{f}:{ln}" for f, ln in zip(group[_FILE].to_list(), group[LINE].to_list(), strict=True)]
        label = str(key_values[0]) + (f" ({per} {key_values[1]})" if len(keys) > 1 and key_values[1] else "")
        differing = [h for h in values if group[h].n_unique() > 1] if values else []
        first_file, first_line = group[_FILE][0], group[LINE][0]
        if differing:
            details = "; ".join(f"'{h}': " + _versus(group[h]) for h in differing[:5])
            details += "; …" if len(differing) > 5 else ""
            problems.append(Problem(
                f"branch {label} is submitted {group.height} times with different values: "
                + ", ".join(where) + f" — {details}",
                file=first_file, line=first_line, header=bid, value=str(key_values[0]), code=ProblemCode.DUPLICATE_CONFLICT,
                hint="keep the right row and delete the others, then merge again"))
        else:
            problems.append(Problem(
                f"branch {label} is submitted {group.height} times with the same values: "
                + ", ".join(where) + "; kept once",
                file=first_file, line=first_line, header=bid, value=str(key_values[0]), severity="warning",
                code=ProblemCode.DUPLICATE_IDENTICAL))
            drop.extend(group["__order"].to_list()[1:])
    if drop:
        frame = frame.filter(~pl.col("__order").is_in(drop))
    return frame.drop("__order"), len(drop), problems


def _versus(values: pl.Series) -> str:
    return " vs ".join(repr(v) if v is not None else "empty" for v in values.unique(maintain_order=True).to_list())


def merged_form(result: MergeResult) -> Form:
    """The form whose columns are the merged table's (for writing it as .xlsx)."""
    return Form(title=result.form.title.removesuffix(" 自评表") + " 汇总表", criteria=result.form.criteria,
                columns=tuple(result.columns), legend=result.form.legend)


# --------------------------------------------------------------------------------------------
# Scaffolding a county's working folder (wuxing init)
# --------------------------------------------------------------------------------------------

FORM_FILE = "自评表.xlsx"
SCHEMA_FILE = "criteria.schema.json"
_SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*\s*$")


def criteria_copy_text(text: str, schema: str = SCHEMA_FILE) -> str:
    """A criteria file's text with its ``yaml-language-server`` line pointing at ``schema``."""
    line = f"# yaml-language-server: $schema={schema}"
    lines = text.splitlines(keepends=True)
    for i, current in enumerate(lines[:5]):
        if _SCHEMA_LINE.match(current.rstrip("\r\n")):
            lines[i] = line + "\n"
            return "".join(lines)
    return line + "\n" + text


def init_folder(directory: Path, names: Sequence[str]) -> list[Path]:
    """Create a county's working folder for the criteria ``names`` (built-in names or paths).

    Writes criteria/<name>.yaml (copies to adapt) with criteria/criteria.schema.json beside them,
    the empty form, README.md, Makefile and run.sh, and the folders submissions/, data/, output/.
    Returns the files written. The caller checks that the folder may be written into.
    """
    from .io.criteria_loader import load_criteria_set, resolve_criteria_path
    from .io.resources import schema_path
    from .io.writers import write_bytes

    models = load_criteria_set(list(names))
    sources = [resolve_criteria_path(n) for n in names]
    targets: list[str] = []
    for source in sources:
        target = source.name if source.suffix.lower() in (".yaml", ".yml") else source.stem + ".yaml"
        if target in targets:
            raise UsageError([Problem(f"two criteria files are both named '{target}'", code=ProblemCode.INIT_CRITERIA,
                                      hint="rename one of them")])
        targets.append(target)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("criteria", "submissions", "data", "output"):
        (directory / sub).mkdir(exist_ok=True)
    written: list[Path] = []

    def put(relative: str, data: bytes, mode: int | None = None) -> None:
        path = directory / relative
        write_bytes(path, data)
        if mode is not None:
            path.chmod(mode)
        written.append(path)

    for source, target in zip(sources, targets, strict=True):
        text = source.read_bytes().decode("utf-8-sig")
        put(f"criteria/{target}", criteria_copy_text(text).encode())
    put(f"criteria/{SCHEMA_FILE}", schema_path().read_bytes())
    from .io.writers import write_with

    form_path = directory / FORM_FILE
    form = build_form(models)
    write_with(form_path, lambda path: write_form_xlsx(path, form))
    written.append(form_path)
    flags = " ".join(f"-c criteria/{t}" for t in targets)
    put("README.md", _readme(models, targets, flags).encode())
    put("Makefile", _makefile(flags).encode())
    put("run.sh", _run_sh(flags).encode(), 0o755)
    return written


def _readme(models: Sequence[Criteria], targets: Sequence[str], flags: str) -> str:
    standards = "\n".join(
        f"- `criteria/{t}`：{c.name}（`{c.id}`，{c.version} 版，适用于{c.branch_type}）" for c, t in zip(models, targets, strict=True)
    )
    return f"""# “五星”支部创建 评星工作目录

本目录由 `wuxing init` 生成，用于县（市、区）组织部每月（或每季度）汇总各支部自评表、评星、排名并出通报。

## 目录

| 路径 | 内容 |
| --- | --- |
| `criteria/` | 本县采用的评分标准（可按本地方案修改），以及编辑器用的 `{SCHEMA_FILE}` |
| `{FORM_FILE}` | 空白自评表，发给各村（社区）填写 |
| `submissions/<期间>/` | 收回的各支部自评表（.xlsx 或 .csv，可混用 UTF-8/GBK） |
| `data/<期间>.csv` | 汇总后的全县数据 |
| `output/` | 评分表、排名表、通报、期间对比 |
| `Makefile`、`run.sh` | 一键执行下面的每月流程 |

采用的标准：

{standards}

## 每月流程

以 2024 年第四季度为例（期间写作 `2024-Q4`，按月则写 `2024-11`），上一期为 `2024-Q3`。

0. **下发表格**：把 `{FORM_FILE}` 发给各支部。若要预先填好支部编码、名称、乡镇，准备一份支部名单
   （列：支部编码、支部名称、县区、乡镇、类型），运行

       wuxing template {flags} --branches 支部名单.xlsx --period 2024-Q4 -o 自评表-2024-Q4.xlsx

1. **收集（collect）**：把收回的自评表放进 `submissions/2024-Q4/`，汇总成一张表：

       wuxing merge submissions/2024-Q4 {flags} -o data/2024-Q4.csv

   同一支部重复提交且内容不同、或用了旧版表格（缺列、多列）时，会列出文件名和行号并停止，改正后重新运行。
2. **校验（validate）**：检查评分标准和汇总数据，列出每个有问题的单元格（文件、行、列、值）：

       wuxing validate {flags} --data data/2024-Q4.csv

3. **评分（score）**：每个支部的各星得分、星级：

       wuxing score data/2024-Q4.csv {flags} -f xlsx -o output/2024-Q4-评分.xlsx

4. **排名（rank）**：乡镇之间排名、乡镇内各支部排名：

       wuxing rank data/2024-Q4.csv {flags} --by township --previous data/2024-Q3.csv -f xlsx -o output/2024-Q4-排名.xlsx

5. **通报（bulletin）**：星级分布、乡镇排名、晋星降星、失分最多的指标、接近达标的支部：

       wuxing bulletin data/2024-Q4.csv {flags} --by township --previous data/2024-Q3.csv -o output/2024-Q4-通报.md

6. **对比（diff）**：与上一期逐支部对比：

       wuxing diff data/2024-Q3.csv data/2024-Q4.csv {flags} -f csv -o output/2024-Q4-对比.csv

以上步骤可一次执行：

    make PERIOD=2024-Q4 PREV=2024-Q3
    # 或
    ./run.sh 2024-Q4 2024-Q3

单独执行某一步：`make collect PERIOD=2024-Q4`、`make score PERIOD=2024-Q4` 等。第一期没有上一期，省略 `PREV` 即可。

查看某个支部为何得（失）星、还差什么：

    wuxing explain data/2024-Q4.csv {flags} --branch 支部编码或名称

## 修改评分标准

`criteria/` 下的 YAML 文件就是评分标准：字段（表格的列）、每颗星的指标、分值、达标线、一票否决和封顶事项。
修改后：

1. 运行 `wuxing validate {flags}`，有错误会指出文件、行号和列号；
2. 修改 `version`（如 `"2025"`），并重新生成自评表：`make form`；
3. 用 VS Code（装 YAML 插件）打开时，文件第一行的 `yaml-language-server` 注释会让编辑器按
   `{SCHEMA_FILE}` 提示键名、说明并检查格式。

编写说明见 wuxing 的 `docs/criteria-guide.md`。

## 填表注意事项（可转发给各支部）

- 不要修改、删除或调换第一行的列名，不要合并单元格；
- 支部编码必填，按文本填写，保留开头的 0；
- 百分比填 0–100 的数（85 表示 85%），是/否和等次从下拉列表选择；
- 鼠标停在列名上可看到该列的计分规则，第二个工作表“填表说明”列出全部列；
- 可以另存为 CSV（UTF-8 或 GBK 均可）。
"""


def _makefile(flags: str) -> str:
    return f"""# “五星”支部评星 每期流程（由 wuxing init 生成，可按需修改）
# 用法：make PERIOD=2024-Q4 PREV=2024-Q3
#   make form      重新生成空白自评表
#   make collect   汇总 submissions/$(PERIOD)/ 下的自评表到 data/$(PERIOD).csv
#   make           汇总 → 校验 → 评分 → 排名 → 通报 → 对比

WUXING   ?= wuxing
PERIOD   ?=
PREV     ?=
BY       ?= township
CRITERIA := {flags}

DATA := data/$(PERIOD).csv
OUT  := output/$(PERIOD)
PREVIOUS := $(if $(PREV),--previous data/$(PREV).csv)

.PHONY: all period form collect validate score rank bulletin diff

all: score rank bulletin diff

period:
\t@test -n "$(PERIOD)" || {{ echo "请指定期间，例如：make PERIOD=2024-Q4 PREV=2024-Q3" >&2; exit 2; }}

form:
\t$(WUXING) template $(CRITERIA) -o {FORM_FILE}

collect: period
\t@mkdir -p data output
\t$(WUXING) merge submissions/$(PERIOD) $(CRITERIA) -o $(DATA)

validate: collect
\t$(WUXING) validate $(CRITERIA) --data $(DATA)

score: validate
\t$(WUXING) score $(DATA) $(CRITERIA) -f xlsx -o $(OUT)-评分.xlsx

rank: validate
\t$(WUXING) rank $(DATA) $(CRITERIA) --by $(BY) $(PREVIOUS) -f xlsx -o $(OUT)-排名.xlsx

bulletin: validate
\t$(WUXING) bulletin $(DATA) $(CRITERIA) --by $(BY) $(PREVIOUS) -o $(OUT)-通报.md

diff: validate
ifneq ($(PREV),)
\t$(WUXING) diff data/$(PREV).csv $(DATA) $(CRITERIA) -f csv -o $(OUT)-对比.csv
else
\t@echo "未指定 PREV（上一期），跳过对比"
endif
"""


def _run_sh(flags: str) -> str:
    return f"""#!/usr/bin/env bash
# “五星”支部评星 每期流程，与 Makefile 相同（由 wuxing init 生成，可按需修改）。
# 用法：./run.sh 本期 [上期]，例如 ./run.sh 2024-Q4 2024-Q3
set -euo pipefail
cd "$(dirname "$0")"
PERIOD="${{1:?用法：./run.sh 本期 [上期]，例如 ./run.sh 2024-Q4 2024-Q3}}"
PREV="${{2:-}}"
WUXING="${{WUXING:-wuxing}}"
BY="${{BY:-township}}"
CRITERIA="{flags}"
DATA="data/$PERIOD.csv"
OUT="output/$PERIOD"
PREVIOUS=""
if [ -n "$PREV" ]; then PREVIOUS="--previous data/$PREV.csv"; fi
mkdir -p data output

echo "== 1/6 汇总 submissions/$PERIOD → $DATA"
$WUXING merge "submissions/$PERIOD" $CRITERIA -o "$DATA"
echo "== 2/6 校验"
$WUXING validate $CRITERIA --data "$DATA"
echo "== 3/6 评分"
$WUXING score "$DATA" $CRITERIA -f xlsx -o "$OUT-评分.xlsx"
echo "== 4/6 排名"
$WUXING rank "$DATA" $CRITERIA --by "$BY" $PREVIOUS -f xlsx -o "$OUT-排名.xlsx"
echo "== 5/6 通报"
$WUXING bulletin "$DATA" $CRITERIA --by "$BY" $PREVIOUS -o "$OUT-通报.md"
if [ -n "$PREV" ]; then
  echo "== 6/6 与 $PREV 对比"
  $WUXING diff "data/$PREV.csv" "$DATA" $CRITERIA -f csv -o "$OUT-对比.csv"
else
  echo "== 6/6 未指定上一期，跳过对比"
fi
echo "完成：结果在 output/ 下"
"""
