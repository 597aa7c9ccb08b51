"""The one catalogue of user-facing words, in Chinese (default) and English, with number formatting.

Every renderer takes its labels from here, so one concept has one word in each language (乡镇（街道）for
the township column wherever it appears, 获评 for an awarded star). Importable without polars.
Keys are grouped by where they are first used; a key used by several commands is listed once, under
"shared".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any


class Lang(StrEnum):
    zh = "zh"
    en = "en"


_LABELS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    # shared
    "rank": ("排名", "Rank"),
    "group_rank": ("组内排名", "Group rank"),
    "branch_id": ("支部编码", "Branch ID"),
    "branch_name": ("支部名称", "Branch"),
    "county": ("县（市、区）", "County"),
    "township": ("乡镇（街道）", "Township"),
    "branch_type": ("类型", "Type"),
    "period": ("期间", "Period"),
    "stars": ("星数", "Stars"),
    "level": ("星级", "Level"),
    "total_points": ("总分", "Total points"),
    "vetoes": ("否决事项", "Vetoes"),
    "missing": ("缺失数据", "Missing"),
    "capped_by": ("封顶事项", "Capped by"),
    "group": ("单位", "Group"),
    "branches": ("支部数", "Branches"),
    "mean_points": ("平均分", "Mean points"),
    "mean_stars": ("平均星数", "Mean stars"),
    "share_3plus": ("三星及以上占比", "Share 3★+"),
    "rank_change": ("名次变化", "Rank change"),
    "points": ("得分", "Points"),
    "earned": ("达标", "Earned"),
    "awarded": ("获评", "Awarded"),
    "near": ("差一点", "Within reach"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "summary": ("汇总", "Summary"),
    "stars_held": ("所获星", "Stars held"),
    "notes": ("备注", "Notes"),
    "note_veto": ("一票否决：{ids}", "veto: {ids}"),
    "note_cap": ("封顶（限定星级）：{ids}", "capped: {ids}"),
    "note_missing": ("缺 {n} 项数据", "{n} missing"),
    "score_title": ("“五星”支部评星结果", "Five-star branch results"),
    "branches_scored": ("共评定 {n} 个支部", "{n} branches scored"),
    "rejected_rows": ("剔除无效行 {n} 行", "{n} invalid rows rejected"),
    "rejected_title": ("被剔除的行（--skip-invalid，未评分）", "Rejected rows (--skip-invalid, not scored)"),
    "rejected_sheet": ("被剔除的行", "rejected rows"),
    "line": ("行号", "Line"),
    "reasons": ("原因", "Reasons"),
    # xlsx (sheet names, per-star headers, the title row of report sheets)
    "score_sheet": ("评星结果", "Results"),
    "rank_groups_sheet": ("{by}排名", "League table"),
    "rank_branches_sheet": ("支部排名", "Branches"),
    "star_points": ("{name} 得分", "{name} points"),
    "star_awarded": ("{name} 是否获评", "{name} awarded"),
    "criteria_version": ("{name}（{version} 版）", "{name} (version {version})"),
    "criteria_applied": ("评分标准：{criteria}", "criteria: {criteria}"),
    # rank_diff_explain
    "rank_title": ("{by}排名", "League table by {by}"),
    "ranked_by": ("按{metric}排名", "ranked by {metric}"),
    "rank_branches_title": ("各{by}支部排名", "Branches within each {by}"),
    "previous_rank": ("上期排名", "Previous rank"),
    "levels_compact": ("{first}/{second}/…/{last}", "Levels 0/1/…/{n}"),
    "new_group": ("新", "new"),
    "groups_shown": ("共 {n} 个{by}，{b} 个支部", "{n} groups, {b} branches"),
    "top_note": ("仅列前 {top} 名", "top {top} only"),
    "diff_title": ("对比：{a} → {b}", "Comparison: {a} → {b}"),
    "sources_title": ("{a}与{b}对比", "{a} vs {b}"),
    "criteria_title": ("评分标准变更影响：{a} → {b}", "Effect of the criteria change: {a} → {b}"),
    "status": ("变化", "Change"),
    "status_up": ("晋星", "up"),
    "status_down": ("降星", "down"),
    "status_same": ("持平", "same"),
    "status_new": ("新增", "new"),
    "status_removed": ("移除", "removed"),
    "summary_line": ("比对支部 {matched} 个：晋星 {up} 个，降星 {down} 个，持平 {same} 个；新增 {new} 个，移除 {removed} 个", "{matched} branches matched: {up} up, {down} down, {same} same; {new} new, {removed} removed"),
    "transition_title": ("星级变化矩阵（行：{a}，列：{b}）", "Level transitions (rows: {a}, columns: {b})"),
    "from_to": ("{a} \\ {b}", "{a} \\ {b}"),
    "changes_title": ("支部星级变化", "Branches that changed"),
    "unchanged_note": ("另有 {n} 个支部星级未变（--all 列出全部）", "{n} more branches unchanged (--all lists them)"),
    "groups_title": ("各{by}变化", "Change by {by}"),
    "stars_change": ("星级", "Stars"),
    "points_change": ("总分", "Points"),
    "delta_points": ("分差", "Δ points"),
    "gained": ("新获评星", "Stars gained"),
    "lost": ("未再获评星", "Stars lost"),
    "rule_effect": ("规则影响(星)", "Rule effect (stars)"),
    "performance_effect": ("实绩影响(星)", "Performance effect (stars)"),
    "rule_effect_points": ("规则影响(分)", "Rule effect (points)"),
    "rank_old": ("原排名", "Rank before"),
    "rank_new": ("现排名", "Rank now"),
    "mean_points_old": ("原平均分", "Mean points before"),
    "mean_points_new": ("现平均分", "Mean points now"),
    "delta_mean_points": ("平均分变化", "Δ mean points"),
    "branches_old": ("原支部数", "Branches before"),
    "branches_new": ("现支部数", "Branches now"),
    "over_summary": ("比对支部 {n} 个，{a}高于{b}的 {k} 个（{share}），平均多报 {mean} 分", "{n} branches matched; {k} ({share}) claimed more in {a} than {b}; mean overstatement {mean} points"),
    "over_groups_title": ("各{by}{a}虚高情况（按虚高支部占比排名）", "Overstatement by {by} (ranked by share overstated)"),
    "over_branches_title": ("{a}高于{b}的支部", "Branches whose {a} exceeds {b}"),
    "overstated": ("虚高支部数", "Overstated"),
    "share_overstated": ("虚高占比", "Share overstated"),
    "mean_over_points": ("平均多报分", "Mean over (points)"),
    "mean_over_stars": ("平均多报星", "Mean over (stars)"),
    "max_over_points": ("最多多报分", "Max over (points)"),
    "stars_claimed": ("{a}星数", "Stars ({a})"),
    "stars_verified": ("{b}星数", "Stars ({b})"),
    "points_claimed": ("{a}总分", "Points ({a})"),
    "points_verified": ("{b}总分", "Points ({b})"),
    "over_stars": ("多报星", "Over (stars)"),
    "over_points": ("多报分", "Over (points)"),
    "top_indicators": ("差异最大指标", "Indicators differing most"),
    "none_overstated": ("没有支部的{a}高于{b}。", "No branch claimed more than was verified."),
    "self": ("自评", "self-assessment"),
    "verified": ("复核", "verification"),
    "explain_title": ("{name}（{id}）评星说明", "{name} ({id}): result explained"),
    "explain_head": ("{level}，总分 {points}，排名第 {rank}", "{level}, {points} points, rank {rank}"),
    "explain_head_norank": ("{level}，总分 {points}", "{level}, {points} points"),
    "indicator": ("指标", "Indicator"),
    "value": ("数值", "Value"),
    "rule": ("计分规则", "Rule"),
    "score_of": ("得分/满分", "Points / max"),
    "lost_points": ("失分", "Lost"),
    "required_mark": ("（必达）", " (required)"),
    "star_line": ("{name}：{points}/{max} 分，达标线 {pass_mark}，{result}", "{name}: {points}/{max} points, pass mark {pass_mark}, {result}"),
    "result_awarded": ("获评", "awarded"),
    "result_earned_blocked": ("已达标但未获评", "earned but not awarded"),
    "result_not_earned": ("未达标", "not earned"),
    "veto_fired": ("否决事项：{name}（{inputs}）", "Veto: {name} ({inputs})"),
    "veto_undecided": ("否决事项：{name}（数据缺失：{inputs}，按触发处理）", "Veto: {name} (missing data: {inputs}; counts as fired)"),
    "required_failed_line": ("必达指标未得满分：{items}", "Required indicators below full points: {items}"),
    "requires_line": ("须先获评：{items}", "Needs these stars first: {items}"),
    "cap_line": ("封顶事项：{name}（{inputs}），限定星级最高为{max}", "Cap: {name} ({inputs}): at most {max}"),
    "capped_note": ("获评 {held} 颗星，因封顶事项限定星级，只计 {stars} 颗", "{held} stars held, counted as {stars} because of a cap"),
    "missing_line": ("缺失数据：{items}（缺失不得分）", "Missing data: {items} (missing evidence scores 0)"),
    "path_title": ("晋星路径", "Path to the next stars"),
    "star": ("星", "Star"),
    "gap": ("差距(分)", "Gap (points)"),
    "plan": ("最少需提升", "Smallest set of improvements"),
    "plan_vetoed": ("已触发否决事项（{items}），在否决事项消除前任何提分都不能获评此星", "Vetoed ({items}): no improvement can award this star until the veto clears"),
    "plan_vetoed_after": ("；消除后还需：{steps}", "; after it clears it also needs: {steps}"),
    "plan_requires": ("本星已达标，须先获评：{items}", "Earned; needs these stars first: {items}"),
    "plan_impossible": ("即使各指标都得到最高分，仍差 {n} 分，无法达标", "Even with every indicator at its best it falls {n} points short"),
    "plan_steps": ("{steps}（共补 {total} 分）", "{steps} (+{total} points in all)"),
    "plan_also_requires": ("；另须先获评：{items}", "; also needs these stars first: {items}"),
    "step": ("{name} {points}→{target}", "{name} {points}→{target}"),
    "next_star": ("最容易获得的下一颗星：{name}（提升 {k} 项指标，补 {total} 分）", "Easiest next star: {name} ({k} indicators, +{total} points)"),
    "all_awarded": ("已获评全部星。", "All stars awarded."),
    # history
    "history_title": ("“五星”支部星级走势", "Five-star branches over time"),
    "history_span": ("{first} 至 {last}，共 {n} 期", "{first} to {last}, {n} periods"),
    "history_span_one": ("{first}，共 1 期（无历史可比）", "{first}, one period (no history to compare)"),
    "history_summary_one": ("共 {branches} 个支部；降星预警 {risk} 个支部（{stars} 颗星）。", "{branches} branches; {risk} branches at risk of losing a star ({stars} stars)."),
    "history_summary": ("共 {branches} 个支部；本期较上期晋星 {up} 个、降星 {down} 个；降星预警 {risk} 个支部（{stars} 颗星）。", "{branches} branches; since the previous period {up} gained and {down} lost stars; {risk} branches at risk of losing a star ({stars} stars)."),
    "history_groups": ("{by}走势", "Trend by {by}"),
    "history_risk": ("降星预警（余量≤{margin}分、连续两期下降或否决事项趋近）", "At risk of losing a star (within {margin} points, two falls in a row, or a veto trending)"),
    "history_no_risk": ("无降星预警。", "No branch is at risk."),
    "history_branches": ("各支部走势", "Branches"),
    "stars_trend": ("星级走势", "Stars trend"),
    "stars_series": ("各期星数", "Stars by period"),
    "delta_previous": ("较上期", "Change"),
    "streak": ("连续", "Streak"),
    "streak_n": ("{n}期", "{n}"),
    "points_trend": ("平均分走势", "Mean points by period"),
    "at_risk": ("预警支部", "At risk"),
    "pass_mark": ("达标线", "Pass mark"),
    "cushion": ("余量", "Cushion"),
    "recent_points": ("近三期得分", "Last three periods"),
    "risk_reasons": ("预警原因", "Why"),
    "risk_dependents": ("连带影响的星", "Also lost"),
    "r_margin": ("接近达标线", "near the pass mark"),
    "r_falling": ("连续两期下降", "fell twice in a row"),
    "r_veto": ("否决事项趋近：{name}", "veto trending: {name}"),
    "r_cap": ("封顶事项（限定星级）趋近：{name}", "cap trending: {name}"),
    "n_gained": ("新获评：{ids}", "gained: {ids}"),
    "n_lost": ("未再获评：{ids}", "lost: {ids}"),
    "n_absent": ("本期未参评", "not in the latest period"),
    "n_risk": ("降星预警：{ids}", "at risk: {ids}"),
    "n_new": ("新参评", "new"),
    "n_blocked": ("保持期未满：{ids}", "tenure not met: {ids}"),
    "n_unchecked": ("保持期未核：{ids}", "tenure unchecked: {ids}"),
    "first_awarded": ("首次获评", "First awarded"),
    "history_section": ("星级走势与降星预警", "Trends and stars at risk"),
    "history_section_intro": ("本节依据 {first} 至 {last} 共 {n} 期评定结果，列出各{by}平均分走势和有降星风险的支部。", "Based on the {n} periods from {first} to {last}: mean points by {by} and the branches at risk of losing a star."),
    "history_chart": ("各{by}平均分走势", "Mean points by {by}"),
    "history_risk_limit": ("仅列出余量最小的前{n}项（共{total}项），完整名单请运行 wuxing history。", "Only the {n} smallest cushions are listed (of {total}); run wuxing history for all."),
    # incentives
    "incentives_title": ("“五星”支部创建奖补测算", "Five-star incentives"),
    "incentive_rules": ("奖补项目", "Rules"),
    "due": ("应发", "Due"),
    "payable": ("实发", "Payable"),
    "subtotal": ("小计", "Subtotal"),
    "cap_cut": ("封顶核减", "Cap cut"),
    "paid_branches": ("获奖补支部", "Paid"),
    "total": ("合计", "Total"),
    "people_count": ("{name}人数", "{name} persons"),
    "incentives_group_table": ("按{by}汇总", "By {by}"),
    "incentives_branch_table": ("各支部奖补明细", "Per branch"),
    "summary_plain": ("应发合计 {due} 元，实发合计 {payable} 元。", "Total due {due} 元; total payable {payable} 元."),
    "summary_budget_ok": ("应发合计 {due} 元，未超出预算 {budget} 元，实发合计 {payable} 元。", "Total due {due} 元, within the budget of {budget} 元; total payable {payable} 元."),
    "summary_scaled": ("应发合计 {due} 元，超出预算 {budget} 元，按 {pct} 的比例发放，实发合计 {payable} 元（尾差按最大余额法分配到分）。", "Total due {due} 元 exceeds the budget of {budget} 元: scaled by {pct}, total payable {payable} 元 (largest remainders, to the fen)."),
    "cap_note": ("每个支部每期合计不超过 {cap} 元。", "At most {cap} 元 per branch and period."),
    "rule_id": ("标识", "ID"),
    "rule_name": ("名称", "Name"),
    "rule_type": ("方式", "Type"),
    "rule_text": ("标准", "Amount"),
    "rule_people": ("人数列", "Person count"),
    "rule_types": ("适用类型", "Branch types"),
    "rule_factor": ("本期折算", "Factor for this period"),
    "rule_cap": ("单项上限", "Cap"),
    "per_period": ("期", "period"),
    "per_month": ("月", "month"),
    "per_quarter": ("季度", "quarter"),
    "per_half": ("半年", "half-year"),
    "per_year": ("年", "year"),
    "rule_per_person_star": ("按人按星", "per_person_star"),
    "rule_per_person": ("按人", "per_person"),
    "rule_per_level": ("按星级", "per_level"),
    "rule_per_star": ("按星", "per_star"),
}


def label(key: str, lang: Lang | str = Lang.zh, **params: object) -> str:
    """The label for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``params``."""
    zh, en = _LABELS.get(key, (key, key))
    text = en if str(lang) == Lang.en else zh
    return text.format(**params) if params else text


def by_label(by: str, lang: Lang | str, *, inline: bool = False) -> str:
    """The group column's name: a header (``Township``) or, with ``inline``, for a sentence (``township``)."""
    text = label(by, lang)
    return text.lower() if inline and str(lang) == Lang.en else text


def level_label(stars: int, lang: Lang | str, zh_label: str) -> str:
    """A level name: the criteria's label in Chinese, '3 stars' in English."""
    if str(lang) == Lang.en:
        return "no star" if stars == 0 else f"{stars} star" + ("s" if stars != 1 else "")
    return zh_label


def level_name(stars: int, lang: Lang | str, levels: Mapping[int, str] | None = None) -> str:
    """A level's name from the criteria's ``levels`` (三星), or the default names; '3 stars' in English."""
    from ..models.criteria import DEFAULT_LEVELS

    zh = (levels or {}).get(stars) or DEFAULT_LEVELS.get(stars) or f"{stars}星"
    return level_label(stars, lang, zh)


def level_names(top: int, lang: Lang | str, criteria: Sequence[Any] = ()) -> list[str]:
    """The names of levels 0…``top`` (column headers): each from the first criteria that names it."""
    names = []
    for n in range(top + 1):
        named = next((c.levels[n] for c in criteria if n in c.levels), None)
        names.append(level_name(n, lang, {n: named} if named else None))
    return names


def star_marks(stars: int, total: int = 5) -> str:
    return "★" * stars + "☆" * max(total - stars, 0)


def list_sep(lang: Lang | str) -> str:
    """The separator between items of a list inside a sentence or cell: 、 or a comma."""
    return "、" if str(lang) == Lang.zh else ", "


def clause_sep(lang: Lang | str) -> str:
    """The separator between clauses: a full-width semicolon or "; "."""
    return "；" if str(lang) == Lang.zh else "; "


def in_brackets(text: str, lang: Lang | str) -> str:
    """A parenthetical after a word: （…） in Chinese, " (…)" in English."""
    return f"（{text}）" if str(lang) == Lang.zh else f" ({text})"


def num(value: Any) -> Any:
    """A JSON-friendly number: integral floats become ints (100.0 → 100); NaN/inf become null."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def pct(value: float | None) -> str:
    """A share as a percentage with at most one decimal (0.125 → '12.5%'); empty for None."""
    if value is None:
        return ""
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def signed(value: Any) -> str:
    """A change with its sign, to two decimals at most (+1.5, -2, 0); empty for None."""
    if value is None:
        return ""
    shown = num(round(float(value), 2))
    return f"+{shown}" if value > 0 else f"{shown}"


def period_suffix(period: str | None, lang: Lang | str) -> str:
    """A title's period: （2024-Q4） in Chinese, " (2024-Q4)" in English; empty without one."""
    return in_brackets(period, lang) if period else ""


def level_cell(stars: int | None, level: str | None, lang: Lang | str) -> str:
    """A branch's level for a table cell: ★★★☆☆ and its name; empty when unknown."""
    if stars is None:
        return ""
    return f"{star_marks(stars)} {level_label(stars, lang, level or '')}"


def rank_change_text(change: int | None, lang: Lang | str) -> str:
    """A group's move in a league table: ↑2, ↓1, — (no move), or 新 for a group without a previous rank."""
    if change is None:
        return label("new_group", lang)
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"
