"""Renderers of ``wuxing incentives``: terminal tables, CSV, JSON (money as exact strings) and Excel."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..engine.incentives import IncentiveResult, RuleInfo
from ..errors import ProblemCode
from ..models.criteria import DEFAULT_LEVELS
from ..models.incentives import RuleType
from .labels import Lang, by_label, label, level_label, level_name

if TYPE_CHECKING:
    from rich.console import RenderableType


def yuan(value: Decimal | None, grouped: bool = True) -> str:
    """12345.5 → '12,345.50' (or '12345.50')."""
    if value is None:
        return ""
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def _amount(value: Decimal) -> str:
    text = f"{value:.2f}"
    return text[:-3] if text.endswith(".00") else text


def rule_text(info: RuleInfo, lang: Lang | str) -> str:
    """The rule's amounts in words: 15元/人/星/季度, 三星 600元、五星 1500元/季度, …"""
    rule = info.rule
    zh = str(lang) != Lang.en
    per = label(f"per_{rule.per.value}", lang)
    if rule.type is RuleType.per_person_star:
        return f"{_amount(rule.amount or Decimal(0))}元/人/星/{per}" if zh else \
            f"{_amount(rule.amount or Decimal(0))} 元 per person per star per {per}"
    if rule.type is RuleType.per_person:
        return f"{_amount(rule.amount or Decimal(0))}元/人/{per}" if zh else \
            f"{_amount(rule.amount or Decimal(0))} 元 per person per {per}"
    if rule.type is RuleType.per_level:
        parts = [f"{level_label(level, lang, DEFAULT_LEVELS.get(level, str(level)))} {_amount(Decimal(fen) / 100)}元"
                 for level, fen in sorted(info.level_amounts.items())]
        return ("、".join(parts) + f"/{per}") if zh else ", ".join(parts) + f" per {per}"
    parts = []
    if rule.amount is not None:
        parts.append(f"每星 {_amount(rule.amount)}元" if zh else f"{_amount(rule.amount)} 元 per star")
    for key, value in (rule.amounts or {}).items():
        parts.append(f"{key} {_amount(value)}元")
    return ("、".join(parts) + f"/{per}") if zh else ", ".join(parts) + f" per {per}"


def _factor_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _pct(scale: Fraction | None) -> str:
    if scale is None:
        return ""
    return f"{float(scale) * 100:.4f}%"


def summary_text(result: IncentiveResult, lang: Lang | str) -> str:
    due, payable = yuan(result.total_due), yuan(result.total_payable)
    if result.budget is None:
        text = label("summary_plain", lang, due=due, payable=payable)
    elif result.scaled:
        text = label("summary_scaled", lang, due=due, budget=yuan(result.budget), pct=_pct(result.scale),
                 payable=payable)
    else:
        text = label("summary_budget_ok", lang, due=due, budget=yuan(result.budget), payable=payable)
    if result.scheme.branch_cap is not None:
        text += (" " if str(lang) == Lang.en else "") + label("cap_note", lang, cap=yuan(result.scheme.branch_cap))
    return text


def _has_cuts(result: IncentiveResult) -> bool:
    return result.totals.get("cap_cut", Decimal(0)) > 0


def _people_rules(result: IncentiveResult) -> list[RuleInfo]:
    return [i for i in result.rules if i.rule.type in (RuleType.per_person_star, RuleType.per_person)]


def group_rows(result: IncentiveResult, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert result.groups is not None and result.by is not None
    cuts = _has_cuts(result)
    people = _people_rules(result)
    headers = [by_label(result.by, lang), label("branches", lang), label("paid_branches", lang),
               *(label("people_count", lang, name=i.rule.name) for i in people),
               *(i.rule.name for i in result.rules),
               *([label("cap_cut", lang)] if cuts else []), label("due", lang), label("payable", lang)]
    rows: list[list[Any]] = []
    for row in result.groups.iter_rows(named=True):
        rows.append([row["group"] or "—", row["branches"], row["paid_branches"],
                     *(row[f"{i.rule.id}_people"] for i in people),
                     *(yuan(row[i.rule.id]) for i in result.rules),
                     *([yuan(row["cap_cut"])] if cuts else []), yuan(row["due"]), yuan(row["payable"])])
    rows.append([label("total", lang), int(result.groups.get_column("branches").sum()),
                 int(result.groups.get_column("paid_branches").sum()),
                 *(int(result.groups.get_column(f"{i.rule.id}_people").sum()) for i in people),
                 *(yuan(result.totals[i.rule.id]) for i in result.rules),
                 *([yuan(result.totals["cap_cut"])] if cuts else []),
                 yuan(result.totals["due"]), yuan(result.totals["payable"])])
    numeric = [False] + [True] * (len(headers) - 1)
    return headers, rows, numeric


def branch_rows(result: IncentiveResult, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    cuts = _has_cuts(result)
    headers = [label("branch_id", lang), label("branch_name", lang), label("township", lang), label("level", lang),
               *(i.rule.name for i in result.rules), *([label("cap_cut", lang)] if cuts else []),
               label("due", lang), label("payable", lang)]
    rows: list[list[Any]] = []
    for row in result.branches.iter_rows(named=True):
        rows.append([row["branch_id"], row["branch_name"], row["township"] or "",
                     level_label(int(row["stars"] or 0), lang, row["level"] or ""),
                     *(yuan(row[i.rule.id]) for i in result.rules),
                     *([yuan(row["cap_cut"])] if cuts else []), yuan(row["due"]), yuan(row["payable"])])
    rows.append([label("total", lang), "", "", "", *(yuan(result.totals[i.rule.id]) for i in result.rules),
                 *([yuan(result.totals["cap_cut"])] if cuts else []),
                 yuan(result.totals["due"]), yuan(result.totals["payable"])])
    numeric = [False, False, False, False] + [True] * (len(headers) - 4)
    return headers, rows, numeric


def rules_lines(result: IncentiveResult, lang: Lang | str) -> list[str]:
    out = []
    for info in result.rules:
        rule = info.rule
        extra = []
        if rule.people:
            extra.append(rule.people)
        if rule.branch_types:
            extra.append("、".join(rule.branch_types) if str(lang) != Lang.en else ", ".join(rule.branch_types))
        if rule.min_stars:
            extra.append(f"{level_name(rule.min_stars, lang)}及以上" if str(lang) != Lang.en
                         else f"from {rule.min_stars} stars")
        if info.factor != 1:
            extra.append(f"本期×{_factor_text(info.factor)}" if str(lang) != Lang.en
                         else f"×{_factor_text(info.factor)} this period")
        if rule.cap is not None:
            extra.append(f"上限 {yuan(rule.cap)}元" if str(lang) != Lang.en else f"cap {yuan(rule.cap)} 元")
        detail = f"（{'；'.join(extra)}）" if extra and str(lang) != Lang.en else (f" ({'; '.join(extra)})" if extra
                                                                                  else "")
        out.append(f"· {rule.name}：{rule_text(info, lang)}{detail}" if str(lang) != Lang.en
                   else f"· {rule.name}: {rule_text(info, lang)}{detail}")
    return out


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str], numeric: Sequence[bool], title: str) -> Any:
    """A terminal table whose long headers (rule names) wrap instead of widening the columns."""
    from rich.cells import cell_len
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    texts = [["" if v is None else str(v) for v in row] for row in rows]
    for index, (header, is_num) in enumerate(zip(headers, numeric, strict=True)):
        width = max([cell_len(r[index]) for r in texts] + [4])
        table.add_column(header, justify="right" if is_num else "left", no_wrap=False, overflow="fold",
                         min_width=width, max_width=max(width, 8))
    for number, row in enumerate(texts):
        table.add_row(*row, end_section=number == len(texts) - 2)
    return table


def incentives_renderable(result: IncentiveResult, lang: Lang | str) -> RenderableType:
    from rich.console import Group
    from rich.text import Text

    head = f"{label('incentives_title', lang)}  {result.name}" + (f" · {result.period}" if result.period else "")
    parts: list[RenderableType] = [Text(head, style="bold"), Text(label("incentive_rules", lang) + ("：" if str(lang) != Lang.en
                                                                                      else ":"))]
    parts += [Text(line) for line in rules_lines(result, lang)]
    parts.append(Text(summary_text(result, lang)))
    if result.groups is not None and result.by is not None:
        headers, rows, numeric = group_rows(result, lang)
        parts.append(_table(rows, headers, numeric, label("incentives_group_table", lang, by=by_label(result.by, lang, inline=True))))
    headers, rows, numeric = branch_rows(result, lang)
    parts.append(_table(rows, headers, numeric, label("incentives_branch_table", lang)))
    return Group(*parts)


# --------------------------------------------------------------------------------------------------
# machine-readable


def branches_frame(result: IncentiveResult) -> pl.DataFrame:
    """CSV: one row per branch (money with two decimals)."""
    return result.branches


def groups_frame(result: IncentiveResult) -> pl.DataFrame:
    """CSV ``--rows groups``: one row per group."""
    if result.groups is None:
        from ..errors import Problem, UsageError

        raise UsageError([Problem("--rows groups needs --by", code=ProblemCode.USAGE)])
    return result.groups


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def incentives_document(result: IncentiveResult) -> dict[str, Any]:
    """JSON: the scheme, each rule with its factor for the period, totals, groups and branches.

    Money is written as a string with two decimals ("1234.50") so that no reader turns it into a float.
    """
    rules = []
    for info in result.rules:
        rule = info.rule
        rules.append({
            "id": rule.id, "name": rule.name, "type": rule.type.value, "per": rule.per.value,
            "amount": _json_value(rule.amount),
            "amounts": {str(k): _json_value(v) for k, v in rule.amounts.items()} if rule.amounts else None,
            "people": rule.people, "branch_types": list(rule.branch_types), "min_stars": rule.min_stars,
            "cap": _json_value(rule.cap), "factor": _factor_text(info.factor),
        })
    return {
        "scheme": {"id": result.scheme.id, "name": result.name, "version": result.scheme.version},
        "period": result.period,
        "rules": rules,
        "branch_cap": _json_value(result.scheme.branch_cap),
        "budget": _json_value(result.budget),
        "scaled": result.scaled,
        "scale": _factor_text(result.scale) if result.scale is not None else None,
        "totals": {k: _json_value(v) for k, v in result.totals.items()},
        "by": result.by,
        "groups": [{k: _json_value(v) for k, v in row.items()} for row in result.groups.iter_rows(named=True)]
        if result.groups is not None else None,
        "branches": [{k: _json_value(v) for k, v in row.items()} for row in result.branches.iter_rows(named=True)],
        "warnings": [p.to_dict() for p in result.warnings],
    }


def incentive_sheets(result: IncentiveResult, lang: Lang | str) -> list[Any]:
    """The report sheets of ``incentives -f xlsx``: per group with a total row (with --by), per branch with
    a total row, and the rules; money as numbers formatted to the fen (#,##0.00)."""
    from .xlsx import Col, Kind, Sheet, column_major, report_title, single_area

    lang = Lang(str(lang))
    county = result.branches["county"].to_list() if "county" in result.branches.columns else None
    area = single_area(county)
    scheme = f"{label('incentives_title', lang)} · {result.name}"

    def title(name: str) -> str:
        return report_title(f"{scheme} · {name}", lang, area=area, period=result.period)

    people = _people_rules(result)
    money_cols = [i.rule.id for i in result.rules] + ["subtotal", "cap_cut", "due", "payable"]
    money = [Col(i.rule.name, Kind.money) for i in result.rules] + [
        Col(label(k, lang), Kind.money) for k in ("subtotal", "cap_cut", "due", "payable")]
    counts = [Col(label("people_count", lang, name=i.rule.name), Kind.int) for i in people]
    sheets = []
    if result.groups is not None and result.by is not None:
        columns = [Col(by_label(result.by, lang)), Col(label("branches", lang), Kind.int),
                   Col(label("paid_branches", lang), Kind.int), *counts, *money]
        rows: list[list[Any]] = [
            [row["group"], row["branches"], row["paid_branches"], *(row[f"{i.rule.id}_people"] for i in people),
             *(row[c] for c in money_cols)]
            for row in result.groups.iter_rows(named=True)
        ]
        rows.append([label("total", lang), int(result.groups.get_column("branches").sum()),
                     int(result.groups.get_column("paid_branches").sum()),
                     *(int(result.groups.get_column(f"{i.rule.id}_people").sum()) for i in people),
                     *(result.totals[c] for c in money_cols)])
        name = label("incentives_group_table", lang, by=by_label(result.by, lang, inline=True))
        sheets.append(Sheet(name, columns, column_major(rows, len(columns)), total_row=True,
                            title=title(name)))
    columns = [Col(label("branch_id", lang)), Col(label("branch_name", lang)), Col(label("county", lang)),
               Col(label("township", lang)), Col(label("branch_type", lang)), Col(label("stars", lang), Kind.int),
               Col(label("level", lang)), *counts, *money]
    rows = [
        [row["branch_id"], row["branch_name"], row["county"], row["township"], row["branch_type"], row["stars"],
         level_label(row["stars"], lang, row["level"]) if row["stars"] is not None else row["level"],
         *(row[f"{i.rule.id}_people"] for i in people), *(row[c] for c in money_cols)]
        for row in result.branches.iter_rows(named=True)
    ]
    rows.append([label("total", lang), None, None, None, None, None, None, *(None for _ in people),
                 *(result.totals[c] for c in money_cols)])
    name = label("incentives_branch_table", lang)
    sheets.append(Sheet(name, columns, column_major(rows, len(columns)), total_row=True,
                        title=title(name)))
    rule_columns = [Col(label(k, lang)) for k in ("rule_id", "rule_name", "rule_type", "rule_text", "rule_people",
                                                   "rule_types", "rule_factor")] + [Col(label("rule_cap", lang), Kind.money)]
    rule_rows = [
        [i.rule.id, i.rule.name, label(f"rule_{i.rule.type.value}", lang),
         rule_text(i, lang), i.rule.people or None, "、".join(i.rule.branch_types) or None, _factor_text(i.factor),
         i.rule.cap]
        for i in result.rules
    ]
    name = label("incentive_rules", lang)
    sheets.append(Sheet(name, rule_columns, column_major(rule_rows, len(rule_columns)),
                        title=title(name)))
    return sheets


def xlsx_write(result: IncentiveResult, path: Path, lang: Lang | str) -> None:
    """Write :func:`incentive_sheets` (text never read as a formula, byte-identical for the same inputs)."""
    from .xlsx import write_workbook

    write_workbook(path, incentive_sheets(result, lang), lang)


__all__ = ["branches_frame", "groups_frame", "incentives_document", "incentives_renderable",
           "xlsx_write"]
