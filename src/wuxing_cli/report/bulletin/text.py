"""The bulletin's own zh/en phrases, and how it writes numbers, periods and dates.

Words shared with the other reports (level, 乡镇（街道）, 获评, …) come from :mod:`..labels`, the one
label catalogue; :data:`PHRASES` holds only the headings and column names no other report uses.
Numbers round half away from zero, like the engine.
"""

from __future__ import annotations

import re

from ...engine.summary.common import round_half_up
from ..labels import Lang, label

# Glosses for the star names of the Henan standards, shown after the Chinese name in English.
STAR_GLOSS = {
    "支部过硬星": "strong branch",
    "产业兴旺星": "thriving industry",
    "生态宜居星": "liveable environment",
    "平安法治星": "safety and rule of law",
    "文明幸福星": "civility and well-being",
    "宜业兴业星": "jobs and enterprise",
    "共建共享星": "co-building and sharing",
    "幸福和谐星": "happiness and harmony",
}

PHRASES: dict[str, tuple[str, str]] = {
    "default_title": ("{area}{period}“五星”支部创建情况通报", "{area}Five-Star Branch Bulletin{period}"),
    "h_overview": ("总体情况", "Overview"),
    "h_stars": ("各星获评情况", "Star award rates"),
    "h_league": ("{by}排名", "{by} league table"),
    "h_movement": ("星级变动情况", "Changes in star level"),
    "h_up": ("晋星支部", "Branches that gained stars"),
    "h_down": ("降星支部", "Branches that lost stars"),
    "h_swap": ("星级未变、星目调整的支部", "Same level, different stars"),
    "h_vetoes": ("一票否决及封顶事项", "Veto events and caps"),
    "h_weak": ("共性短板指标", "Common weaknesses"),
    "h_weak_overall": ("失分最多的指标", "Indicators that lost the most points"),
    "h_weak_star": ("各星失分最多的指标", "Weakest indicators per star"),
    "h_near": ("冲星潜力支部", "Branches within reach of a star"),
    "h_problems": ("问题清单", "Problem list"),
    "h_targets": ("年度创建规划完成情况", "Plan vs actual"),
    "h_quality": ("数据质量说明", "Data quality notes"),
    "h_missing": ("缺失数据", "Missing values"),
    "h_rejected": ("剔除的无效行", "Rejected rows"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "prev_count": ("上期数量", "Previous"),
    "prev_share": ("上期占比", "Previous share"),
    "delta_count": ("数量增减", "Change"),
    "delta_share": ("占比变化（百分点）", "Change (pp)"),
    "three_plus": ("其中：三星及以上", "of which three stars or more"),
    "owner": ("牵头单位", "Lead unit"),
    "assessed": ("参评支部", "Branches"),
    "rate": ("获评率", "Award rate"),
    "prev_rate": ("上期获评率", "Previous rate"),
    "delta_rate": ("变化（百分点）", "Change (pp)"),
    "vetoed": ("一票否决", "Vetoed"),
    "mean_score": ("平均得分", "Mean points"),
    "place": ("名次", "Rank"),
    "branch": ("支部", "Branch"),
    "level_old": ("上期星级", "Previous level"),
    "level_new": ("本期星级", "Current level"),
    "reason": ("原因", "Reason"),
    "veto": ("否决事项", "Veto"),
    "cap": ("封顶事项", "Cap"),
    "max_stars": ("限定最高星级", "At most"),
    "note": ("备注", "Note"),
    "by_missing": ("因数据缺失按触发处理，请核实", "fired because input is missing; please check"),
    "row_no": ("序号", "No."),
    "points_lost": ("失分合计", "Points lost"),
    "lost_rate": ("失分率", "Loss rate"),
    "failed": ("未得满分支部", "Below full points"),
    "within_reach": ("可冲刺的星（差距）", "Stars within reach (gap)"),
    "current_level": ("当前星级", "Current level"),
    "examples": ("涉及支部", "Branches"),
    "plan_done": ("{level}（完成/计划）", "{level} (actual/plan)"),
    "plan_gap": ("差额", "Gap"),
    "plan_status": ("完成情况", "Status"),
    "done": ("已完成", "achieved"),
    "behind": ("未完成", "behind"),
    "field": ("字段", "Field"),
    "missing_branches": ("缺失支部数", "Branches missing it"),
    "criteria": ("适用标准", "Criteria"),
    "line": ("行号", "Line"),
    "blank_group": ("（未填写）", "(blank)"),
    "all_groups": ("全部", "All"),
    "none": ("—", "—"),
}

# group columns named by the shared catalogue, and the one the bulletin names its own way
_SHARED_BY = ("township", "county", "period")
_OWN_BY = {"branch_type": ("支部类型", "Branch type")}


def cn_quotes(text: str) -> str:
    """Straight double quotes as Chinese ones, in pairs: 河南省农村"五星"支部 → 河南省农村“五星”支部
    (an unpaired quote is left as written)."""
    if text.count('"') % 2:
        return text
    parts = text.split('"')
    return "".join(p + ("“" if i % 2 == 0 else "”") if i < len(parts) - 1 else p for i, p in enumerate(parts))


def phrase(key: str, lang: Lang, **params: object) -> str:
    """A bulletin phrase (:data:`PHRASES`), or a shared label from :mod:`..labels`."""
    if key not in PHRASES:
        return label(key, lang, **params)
    zh, en = PHRASES[key]
    text = zh if lang == Lang.zh else en
    return text.format(**params) if params else text


def group_column_label(by: str, lang: Lang) -> str:
    """The name of the group column (乡镇（街道）, County…); an unknown column is shown as given."""
    if by in _OWN_BY:
        zh, en = _OWN_BY[by]
        return zh if lang == Lang.zh else en
    return label(by, lang) if by in _SHARED_BY else by


_CN_DIGITS = "〇一二三四五六七八九"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def fmt_points(value: float | None) -> str:
    """Points with at most two decimals, trailing zeros dropped: 412.5, 410, 86.25."""
    if value is None:
        return "—"
    text = f"{round_half_up(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_pct(value: float | None) -> str:
    """A percentage with one decimal: 45.2%."""
    return "—" if value is None else f"{value:.1f}%"


def fmt_signed(value: float | int | None, places: int = 0) -> str:
    """+3, -2, 0 (or +1.5 with places=1)."""
    if value is None:
        return "—"
    if places == 0:
        number = round(value)
        return f"+{number}" if number > 0 else str(number)
    rounded = round_half_up(value, places)
    if rounded == 0:
        return f"{0:.{places}f}"
    return f"{rounded:+.{places}f}"


def fmt_abs(value: float, places: int) -> str:
    return str(round(value)) if places == 0 else f"{round_half_up(value, places):.{places}f}"


def change_zh(value: float | None, unit: str, *, up: str = "提高", down: str = "下降", places: int = 1) -> str:
    """提高1.5个百分点 / 下降2分 / 持平 / 无法比较."""
    if value is None:
        return "无法比较"
    if value > 0:
        return f"{up}{fmt_points(value) if places == 2 else fmt_abs(value, places)}{unit}"
    if value < 0:
        return f"{down}{fmt_points(-value) if places == 2 else fmt_abs(-value, places)}{unit}"
    return "持平"


def change_en(value: float | None, places: int, unit: str = "") -> str:
    """up 1.5 percentage points / down 2 / unchanged / not comparable."""
    if value is None:
        return "not comparable"
    if value == 0:
        return "unchanged"
    amount = fmt_points(abs(value)) if places == 2 else fmt_abs(abs(value), places)
    return f"{'up' if value > 0 else 'down'} {amount}{unit}"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (section numbers)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def period_label(period: str | None, lang: Lang) -> str | None:
    """2024-Q2 → 2024年第二季度 / 2024 Q2; 2024-06 → 2024年6月 / June 2024; 2024H1 → 2024年上半年."""
    if not period:
        return None
    text = period.strip()
    zh = lang == Lang.zh
    if m := re.fullmatch(r"(\d{4})\s*[-_/ ]?\s*[Qq]([1-4])", text):
        year, q = m.group(1), int(m.group(2))
        return f"{year}年第{_CN_DIGITS[q]}季度" if zh else f"{year} Q{q}"
    if m := re.fullmatch(r"(\d{4})\s*[-_/ ]?\s*[Hh]([12])", text):
        year, h = m.group(1), int(m.group(2))
        return f"{year}年{'上' if h == 1 else '下'}半年" if zh else f"{year} H{h}"
    if m := re.fullmatch(r"(\d{4})[-/.](\d{1,2})", text):
        year, month = m.group(1), int(m.group(2))
        if 1 <= month <= 12:
            return f"{year}年{month}月" if zh else f"{_MONTHS[month - 1]} {year}"
    if m := re.fullmatch(r"(\d{4})", text):
        return f"{m.group(1)}年度" if zh else m.group(1)
    return text


def date_label(date: str | None, lang: Lang) -> str | None:
    """2024-07-05 → 2024年7月5日 (zh) or 5 July 2024 (en); other text is shown as given."""
    if not date:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", date.strip())
    if not m:
        return date.strip()
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return date.strip()
    return f"{year}年{month}月{day}日" if lang == Lang.zh else f"{day} {_MONTHS[month - 1]} {year}"
