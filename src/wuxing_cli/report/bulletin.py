"""The periodic bulletin (通报, SPEC §6): a plain view model, then Jinja2 rendering to Markdown or HTML.

:func:`build_bulletin` is pure: it turns one scored run (and optionally the previous period's run and an
annual plan) into a JSON-serialisable dict. It holds the raw figures (``overview``, ``stars``, ``league``,
``movement``, ``vetoes``, ``weaknesses``, ``near_misses``, ``problems``, ``targets``, ``data_quality``)
for custom templates, and ``sections``: the same content laid out as headings, paragraphs (formal
Chinese, or English) and pre-formatted tables, which the bundled templates render without any
language-specific text of their own.

:func:`render_bulletin` renders the view with the bundled templates (``report/templates``) or a user
template, which runs in Jinja2's immutable sandbox. Nothing here reads files, prints or looks at a clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from ..engine.rank import league_table
from ..engine.score import cap_col, pts_col, star_col, veto_col
from ..errors import Problem, ProblemCode, UsageError
from ..models.contract import DEFAULT_NEAR
from ..models.criteria import Criteria, Indicator, Star
from .labels import Lang

if TYPE_CHECKING:
    from ..io.targets import Targets
    from ..models.results import ScoreRun

VIEW_SCHEMA = 1
LIST_LIMIT = 500            # branch lists longer than this are cut, with a note
WEAK_OVERALL = 10           # indicators in the "lost most points" table
WEAK_PER_STAR = 3           # indicators per star
PROBLEMS_PER_GROUP = 5      # indicators per group in the problem list
NAMES_PER_PROBLEM = 5       # branch names shown per problem line

Format = Literal["md", "html"]

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

_T: dict[str, tuple[str, str]] = {
    "default_title": ("{area}{period}“五星”支部创建情况通报", "{area}Five-Star Branch Bulletin{period}"),
    "h_overview": ("总体情况", "Overview"),
    "h_stars": ("各星获评情况", "Star award rates"),
    "h_league": ("{by}排名", "{by} league table"),
    "h_movement": ("星级变动情况", "Changes in star level"),
    "h_up": ("晋星支部", "Branches that gained stars"),
    "h_down": ("降星（摘星）支部", "Branches that lost stars"),
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
    "level": ("星级", "Level"),
    "count": ("数量", "Count"),
    "share": ("占比", "Share"),
    "prev_count": ("上期数量", "Previous"),
    "prev_share": ("上期占比", "Previous share"),
    "delta_count": ("数量增减", "Change"),
    "delta_share": ("占比变化（百分点）", "Change (pp)"),
    "total": ("合计", "Total"),
    "three_plus": ("其中：三星及以上", "of which 3 stars or more"),
    "star": ("星", "Star"),
    "owner": ("牵头单位", "Lead unit"),
    "branches": ("参评支部", "Branches"),
    "earned": ("达标", "Earned"),
    "awarded": ("获评", "Awarded"),
    "rate": ("获评率", "Award rate"),
    "prev_rate": ("上期获评率", "Previous rate"),
    "delta_rate": ("变化（百分点）", "Change (pp)"),
    "vetoed": ("一票否决", "Vetoed"),
    "mean_points": ("平均得分", "Mean points"),
    "rank": ("名次", "Rank"),
    "n_branches": ("支部数", "Branches"),
    "mean_stars": ("平均星数", "Mean stars"),
    "share_3plus": ("三星及以上占比", "Share 3★+"),
    "rank_change": ("名次变化", "Rank change"),
    "new_rank": ("新", "new"),
    "branch": ("支部", "Branch"),
    "branch_id": ("支部编码", "Branch ID"),
    "level_old": ("上期星级", "Previous level"),
    "level_new": ("本期星级", "Current level"),
    "gained": ("新获星", "Stars gained"),
    "lost": ("失去的星", "Stars lost"),
    "reason": ("原因", "Reason"),
    "veto": ("否决事项", "Veto"),
    "cap": ("封顶事项", "Cap"),
    "max_stars": ("最高星级", "At most"),
    "note": ("备注", "Note"),
    "by_missing": ("因数据缺失按触发处理，请核实", "fired because input is missing; please check"),
    "no": ("序号", "No."),
    "indicator": ("指标", "Indicator"),
    "lost_points": ("失分合计", "Points lost"),
    "lost_rate": ("失分率", "Loss rate"),
    "failed": ("未得满分支部", "Below full points"),
    "within_reach": ("可冲刺的星（差距）", "Stars within reach (gap)"),
    "current_level": ("当前星级", "Current level"),
    "examples": ("涉及支部", "Branches"),
    "plan_done": ("{level}（完成/计划）", "{level} (actual/plan)"),
    "gap": ("差额", "Gap"),
    "status": ("完成情况", "Status"),
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

_BY_LABEL = {
    "township": ("乡镇（街道）", "Township"),
    "county": ("县（市、区）", "County"),
    "branch_type": ("支部类型", "Branch type"),
    "period": ("期间", "Period"),
}

_CN_DIGITS = "〇一二三四五六七八九"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


# --------------------------------------------------------------------------------------------------
# Formatting helpers (deterministic; half away from zero like the engine)


def _round(value: float, places: int) -> float:
    quant = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(quant, rounding=ROUND_HALF_UP))


def fmt_points(value: float | None) -> str:
    """Points with at most two decimals, trailing zeros dropped: 412.5, 410, 86.25."""
    if value is None:
        return "—"
    text = f"{_round(value, 2):.2f}".rstrip("0").rstrip(".")
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
    rounded = _round(value, places)
    if rounded == 0:
        return f"{0:.{places}f}"
    return f"{rounded:+.{places}f}"


def percent(count: int | float, total: int | float) -> float | None:
    """count / total as a percentage rounded to one decimal (None when total is 0)."""
    return _round(count * 100.0 / total, 1) if total else None


def _cn_number(n: int) -> str:
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


def _split(value: Any) -> list[str]:
    return [v for v in str(value or "").split(";") if v]


# --------------------------------------------------------------------------------------------------
# Context shared by the section builders


@dataclass
class _Star:
    id: str
    name: str
    owner: str | None
    index: int


@dataclass
class _Ctx:
    run: ScoreRun
    previous: ScoreRun | None
    lang: Lang
    by: str
    near: float
    stars: dict[str, _Star] = field(default_factory=dict)
    crit_index: dict[str, int] = field(default_factory=dict)
    max_level: int = 5
    zh_levels: dict[int, str] = field(default_factory=dict)
    prev_label: str | None = None

    @classmethod
    def make(cls, run: ScoreRun, previous: ScoreRun | None, lang: Lang, by: str, near: float) -> _Ctx:
        ctx = cls(run=run, previous=previous, lang=lang, by=by, near=near)
        everything = list(run.criteria) + (list(previous.criteria) if previous else [])
        for criteria in everything:
            ctx.crit_index.setdefault(criteria.id, len(ctx.crit_index))
            for star in criteria.stars:
                known = ctx.stars.get(star.id)
                if known is None:
                    ctx.stars[star.id] = _Star(star.id, star.name, star.owner, len(ctx.stars))
                elif known.owner is None and star.owner:
                    known.owner = star.owner
        ctx.max_level = max((len(c.stars) for c in everything), default=5)
        first = run.criteria[0] if run.criteria else None
        ctx.zh_levels = {n: first.level_label(n) if first else str(n) for n in range(ctx.max_level + 1)}
        return ctx

    @property
    def zh(self) -> bool:
        return self.lang == Lang.zh

    @property
    def frame(self) -> pl.DataFrame:
        return self.run.frame

    def t(self, key: str, **params: object) -> str:
        zh, en = _T[key]
        text = zh if self.zh else en
        return text.format(**params) if params else text

    def by_label(self) -> str:
        zh, en = _BY_LABEL.get(self.by, (self.by, self.by))
        return zh if self.zh else en

    def level(self, stars: int | None) -> str:
        if stars is None:
            return "—"
        if self.zh:
            return self.zh_levels.get(stars, str(stars))
        return "no star" if stars == 0 else f"{stars} star" + ("s" if stars != 1 else "")

    def star_name(self, star_id: str) -> str:
        star = self.stars.get(star_id)
        return star.name if star else star_id

    def star_display(self, star_id: str) -> str:
        """The star's name, with an English gloss of the known Henan names in English."""
        name = self.star_name(star_id)
        if not self.zh and name in STAR_GLOSS:
            return f"{name} ({STAR_GLOSS[name]})"
        return name

    def n(self, count: int, noun: str, plural: str | None = None) -> str:
        """English count with a plural: 1 branch, 2 branches."""
        return f"{count} {noun if count == 1 else (plural or noun + 's')}"

    def owner(self, star_id: str) -> str:
        star = self.stars.get(star_id)
        return star.owner if star and star.owner else self.t("none")

    def group_name(self, group: str | None) -> str:
        return group if group else self.t("blank_group")

    def criteria(self, criteria_id: str) -> Criteria | None:
        for criteria in [*self.run.criteria, *(self.previous.criteria if self.previous else [])]:
            if criteria.id == criteria_id:
                return criteria
        return None

    def join(self, items: Iterable[str]) -> str:
        return ("、" if self.zh else ", ").join(items)

    def semi(self) -> str:
        return "；" if self.zh else "; "

    def group_col(self, frame: pl.DataFrame) -> pl.Expr:
        if self.by in frame.columns:
            return pl.col(self.by).cast(pl.String).fill_null("")
        return pl.lit("")

    def has_groups(self, frame: pl.DataFrame) -> bool:
        return self.by in frame.columns and frame.height > 0 and frame[self.by].null_count() < frame.height


def _branch_kind(ctx: _Ctx) -> str:
    """村党组织 / 社区党组织 / 村（社区）党组织 (or the English equivalent) from the criteria used."""
    used = set(ctx.frame["criteria_id"].unique().to_list()) if ctx.frame.height else set()
    kinds = set()
    for criteria in ctx.run.criteria:
        if criteria.id in used:
            kinds.add("community" if "社区" in criteria.branch_type else "rural")
    if kinds == {"rural"}:
        return "村党组织" if ctx.zh else "village branches"
    if kinds == {"community"}:
        return "社区党组织" if ctx.zh else "community branches"
    return "村（社区）党组织" if ctx.zh else "village and community branches"


# --------------------------------------------------------------------------------------------------
# Tables and sections (the language-neutral layout the templates render)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, align: Sequence[str] | None = None,
           caption: str | None = None, note: str | None = None, highlight: Iterable[int] = ()) -> dict[str, Any]:
    """A pre-formatted table: every cell is text; ``align`` is ``left``/``right`` per column."""
    return {
        "caption": caption,
        "headers": list(headers),
        "align": list(align) if align is not None else ["left"] * len(headers),
        "rows": [["" if c is None else str(c) for c in row] for row in rows],
        "highlight": sorted(set(highlight)),
        "note": note,
    }


def _section(key: str, heading: str, *, paragraphs: Sequence[str] = (), tables: Sequence[dict[str, Any]] = (),
             chart: str | None = None, subsections: Sequence[dict[str, Any]] = (),
             notes: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": key,
        "heading": heading,
        "paragraphs": [p for p in paragraphs if p],
        "chart": chart,
        "tables": list(tables),
        "subsections": list(subsections),
        "notes": [n for n in notes if n],
    }


def _number_sections(sections: list[dict[str, Any]], lang: Lang) -> None:
    for n, section in enumerate(sections, start=1):
        base = section["heading"]
        section["number"] = n
        section["heading"] = f"{_cn_number(n)}、{base}" if lang == Lang.zh else f"{n}. {base}"
        for m, sub in enumerate(section["subsections"], start=1):
            sub["number"] = m
            sub["heading"] = f"（{_cn_number(m)}）{sub['heading']}" if lang == Lang.zh else f"{n}.{m} {sub['heading']}"


def _limit(items: list[dict[str, Any]], ctx: _Ctx, total: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The first LIST_LIMIT items, and a note when there are more (``total``: how many there are
    when ``items`` is already cut)."""
    total = len(items) if total is None else total
    if total <= LIST_LIMIT:
        return items, None
    note = (f"仅列出前{LIST_LIMIT}项（共{total}项）。" if ctx.zh
            else f"Only the first {LIST_LIMIT} of {total} are listed.")
    return items[:LIST_LIMIT], note


# --------------------------------------------------------------------------------------------------
# Overview


def _level_counts(frame: pl.DataFrame, max_level: int) -> dict[int, int]:
    counts = dict.fromkeys(range(max_level + 1), 0)
    if frame.height:
        for stars, n in frame.group_by("stars").len().iter_rows():
            if stars is not None:
                counts[int(stars)] = counts.get(int(stars), 0) + int(n)
    return counts


def _mean(series: pl.Series) -> float | None:
    return _rounded_mean(series.cast(pl.Float64).mean() if series.len() else None)


def _rounded_mean(value: Any) -> float | None:
    """A mean as the bulletin shows it: two decimals, None when there was nothing to average."""
    return None if value is None else _round(float(value), 2)


def _overview(ctx: _Ctx) -> dict[str, Any]:
    frame = ctx.frame
    prev = ctx.previous.frame if ctx.previous else None
    total = frame.height
    counts = _level_counts(frame, ctx.max_level)
    prev_counts = _level_counts(prev, ctx.max_level) if prev is not None else None
    prev_total = prev.height if prev is not None else None
    levels = []
    for n in range(ctx.max_level, -1, -1):
        item: dict[str, Any] = {"stars": n, "label": ctx.level(n), "count": counts.get(n, 0),
                                "pct": percent(counts.get(n, 0), total)}
        if prev_counts is not None and prev_total is not None:
            item["count_previous"] = prev_counts.get(n, 0)
            item["pct_previous"] = percent(prev_counts.get(n, 0), prev_total)
            item["count_delta"] = item["count"] - item["count_previous"]
            item["pct_delta"] = _pp(item["pct"], item["pct_previous"])
        levels.append(item)
    three = sum(c for n, c in counts.items() if n >= 3)
    result: dict[str, Any] = {
        "branches": total,
        "levels": levels,
        "three_plus": {"count": three, "pct": percent(three, total)},
        "mean_points": _mean(frame["total_points"]) if total else None,
        "mean_stars": _mean(frame["stars"]) if total else None,
        "previous": None,
    }
    if prev is not None and prev_counts is not None and prev_total is not None:
        three_prev = sum(c for n, c in prev_counts.items() if n >= 3)
        mean_prev = _mean(prev["total_points"]) if prev_total else None
        result["previous"] = {
            "branches": prev_total,
            "three_plus": {"count": three_prev, "pct": percent(three_prev, prev_total)},
            "mean_points": mean_prev,
            "mean_stars": _mean(prev["stars"]) if prev_total else None,
        }
        result["branches_delta"] = total - prev_total
        result["three_plus"]["count_delta"] = three - three_prev
        result["three_plus"]["pct_delta"] = _pp(result["three_plus"]["pct"], percent(three_prev, prev_total))
        mean_now = result["mean_points"]
        result["mean_points_delta"] = (
            _round(mean_now - mean_prev, 2) if mean_now is not None and mean_prev is not None else None
        )
    return result


def _pp(now: float | None, before: float | None) -> float | None:
    """A change in percentage points between two rounded percentages."""
    if now is None or before is None:
        return None
    return _round(now - before, 1)


def _change_zh(value: float | None, unit: str, *, up: str = "提高", down: str = "下降", places: int = 1) -> str:
    if value is None:
        return "无法比较"
    if value > 0:
        return f"{up}{fmt_points(value) if places == 2 else _fmt_abs(value, places)}{unit}"
    if value < 0:
        return f"{down}{fmt_points(-value) if places == 2 else _fmt_abs(-value, places)}{unit}"
    return "持平"


def _change_en(value: float | None, places: int, unit: str = "") -> str:
    if value is None:
        return "not comparable"
    if value == 0:
        return "unchanged"
    amount = fmt_points(abs(value)) if places == 2 else _fmt_abs(abs(value), places)
    return f"{'up' if value > 0 else 'down'} {amount}{unit}"


def _fmt_abs(value: float, places: int) -> str:
    return str(round(value)) if places == 0 else f"{_round(value, places):.{places}f}"


def _overview_section(ctx: _Ctx, ov: dict[str, Any], area: str | None, movement: dict[str, Any]) -> dict[str, Any]:
    kind = _branch_kind(ctx)
    total = ov["branches"]
    three = ov["three_plus"]
    paragraphs: list[str] = []
    if ctx.zh:
        parts = [f"{lv['label']}支部{lv['count']}个，占{fmt_pct(lv['pct'])}" for lv in ov["levels"] if lv["count"]]
        text = f"本期{area or ''}共评定{kind}{total}个。"
        if total:
            text += "其中，" + "；".join(parts) + "。"
            text += (f"三星及以上支部{three['count']}个，占{fmt_pct(three['pct'])}；"
                     f"平均得分{fmt_points(ov['mean_points'])}分，平均星数{fmt_points(ov['mean_stars'])}颗。")
        paragraphs.append(text)
        if ov["previous"] is not None:
            delta = ov["branches_delta"]
            branches_text = "参评支部数量持平" if delta == 0 else (
                f"参评支部{'增加' if delta > 0 else '减少'}{abs(delta)}个")
            since = f"与上期（{ctx.prev_label}）相比" if ctx.prev_label else "与上期相比"
            text = (f"{since}，{branches_text}；三星及以上支部"
                    f"{_change_zh(three['count_delta'], '个', up='增加', down='减少', places=0)}，"
                    f"占比{_change_zh(three['pct_delta'], '个百分点')}；"
                    f"平均得分{_change_zh(ov['mean_points_delta'], '分', places=2)}。")
            if movement["available"]:
                counts = movement["counts"]
                text += f"晋星支部{counts['up']}个，降星（摘星）支部{counts['down']}个。"
            paragraphs.append(text)
    else:
        where = f" in {area}" if area else ""
        text = f"{total} {kind} were assessed{where} this period."
        if total == 1:
            text = f"1 {kind.removesuffix('es').removesuffix('s')} was assessed{where} this period."
        if total:
            parts = [f"{lv['count']} at {lv['label']} ({fmt_pct(lv['pct'])})" for lv in ov["levels"] if lv["count"]]
            text += " By level: " + ", ".join(parts) + "."
            text += (f" {three['count']} ({fmt_pct(three['pct'])}) hold three stars or more; the mean score is "
                     f"{fmt_points(ov['mean_points'])} points and the mean number of stars "
                     f"{fmt_points(ov['mean_stars'])}.")
        paragraphs.append(text)
        if ov["previous"] is not None:
            since = f"Compared with the previous period ({ctx.prev_label})" if ctx.prev_label else (
                "Compared with the previous period")
            text = (f"{since}, the number of branches assessed is "
                    f"{_change_en(ov['branches_delta'], 0)}; branches with three stars or more are "
                    f"{_change_en(three['count_delta'], 0)} and their share is "
                    f"{_change_en(three['pct_delta'], 1, ' percentage points')}; the mean score is "
                    f"{_change_en(ov['mean_points_delta'], 2, ' points')}.")
            if movement["available"]:
                counts = movement["counts"]
                text += (f" {ctx.n(counts['up'], 'branch', 'branches')} gained stars and "
                         f"{counts['down']} lost stars.")
            paragraphs.append(text)
    has_prev = ov["previous"] is not None
    headers = [ctx.t("level"), ctx.t("count"), ctx.t("share")]
    if has_prev:
        headers += [ctx.t("prev_count"), ctx.t("prev_share"), ctx.t("delta_count"), ctx.t("delta_share")]
    rows: list[list[Any]] = []
    for lv in ov["levels"]:
        row = [lv["label"], lv["count"], fmt_pct(lv["pct"])]
        if has_prev:
            row += [lv["count_previous"], fmt_pct(lv["pct_previous"]), fmt_signed(lv["count_delta"]),
                    fmt_signed(lv["pct_delta"], 1)]
        rows.append(row)
    row = [ctx.t("three_plus"), three["count"], fmt_pct(three["pct"])]
    if has_prev:
        prev3 = ov["previous"]["three_plus"]
        row += [prev3["count"], fmt_pct(prev3["pct"]), fmt_signed(three["count_delta"]),
                fmt_signed(three["pct_delta"], 1)]
    rows.append(row)
    row = [ctx.t("total"), total, fmt_pct(100.0 if total else None)]
    if has_prev:
        prev_total = ov["previous"]["branches"]
        row += [prev_total, fmt_pct(100.0 if prev_total else None), fmt_signed(ov["branches_delta"]), ""]
    rows.append(row)
    align = ["left"] + ["right"] * (len(headers) - 1)
    return _section("overview", ctx.t("h_overview"), paragraphs=paragraphs, chart="levels",
                    tables=[_table(headers, rows, align=align)])


# --------------------------------------------------------------------------------------------------
# Stars


def _star_stats(frame: pl.DataFrame, star_id: str) -> dict[str, Any]:
    awarded_col = star_col(star_id, "awarded")
    if awarded_col not in frame.columns or frame.height == 0:
        return {"branches": 0, "earned": 0, "awarded": 0, "vetoed": 0, "mean_points": None, "rate": None}
    # one pass of aggregates over the rows the star applies to: filtering the (wide, possibly
    # many-chunked) frame first would copy it
    applies = pl.col(awarded_col).is_not_null()
    stats = frame.select(
        applies.sum().alias("n"),
        *(pl.col(star_col(star_id, what)).filter(applies).sum().alias(what) for what in ("earned", "awarded", "vetoed")),
        pl.col(star_col(star_id, "points")).filter(applies).cast(pl.Float64).mean().alias("mean"),
    ).row(0, named=True)
    n = int(stats["n"])
    awarded = int(stats["awarded"])
    return {
        "branches": n,
        "earned": int(stats["earned"]),
        "awarded": awarded,
        "vetoed": int(stats["vetoed"]),
        "mean_points": _rounded_mean(stats["mean"]) if n else None,
        "rate": percent(awarded, n),
    }


def _stars(ctx: _Ctx) -> list[dict[str, Any]]:
    result = []
    current_ids = {s.id for c in ctx.run.criteria for s in c.stars}
    for star in ctx.stars.values():
        if star.id not in current_ids:
            continue
        stats = _star_stats(ctx.frame, star.id)
        item: dict[str, Any] = {"id": star.id, "name": star.name, "display": ctx.star_display(star.id),
                                "owner": star.owner, **stats}
        if ctx.previous is not None:
            before = _star_stats(ctx.previous.frame, star.id)
            item["previous"] = before
            item["rate_delta"] = _pp(stats["rate"], before["rate"])
        result.append(item)
    return result


def _stars_section(ctx: _Ctx, stars: list[dict[str, Any]]) -> dict[str, Any]:
    paragraphs: list[str] = []
    rated = [s for s in stars if s["rate"] is not None]
    if rated:
        best = sorted(rated, key=lambda s: (-s["rate"], ctx.stars[s["id"]].index))[0]
        worst = sorted(rated, key=lambda s: (s["rate"], ctx.stars[s["id"]].index))[0]
        if ctx.zh:
            text = (f"从各星获评情况看，{best['display']}获评率最高，为{fmt_pct(best['rate'])}；"
                    f"{worst['display']}获评率最低，为{fmt_pct(worst['rate'])}。")
        else:
            text = (f"{best['display']} has the highest award rate ({fmt_pct(best['rate'])}) and "
                    f"{worst['display']} the lowest ({fmt_pct(worst['rate'])}).")
        changed = [s for s in rated if s.get("rate_delta") not in (None, 0)]
        if changed:
            up = sorted(changed, key=lambda s: (-s["rate_delta"], ctx.stars[s["id"]].index))[0]
            down = sorted(changed, key=lambda s: (s["rate_delta"], ctx.stars[s["id"]].index))[0]
            if ctx.zh:
                bits = []
                if up["rate_delta"] > 0:
                    bits.append(f"{up['display']}获评率提高最多（{_fmt_abs(up['rate_delta'], 1)}个百分点）")
                if down["rate_delta"] < 0:
                    bits.append(f"{down['display']}获评率下降最多（{_fmt_abs(-down['rate_delta'], 1)}个百分点）")
                text += "与上期相比，" + "，".join(bits) + "。"
            else:
                bits = []
                if up["rate_delta"] > 0:
                    bits.append(f"{up['display']} rose most ({fmt_signed(up['rate_delta'], 1)} pp)")
                if down["rate_delta"] < 0:
                    bits.append(f"{down['display']} fell most ({fmt_signed(down['rate_delta'], 1)} pp)")
                text += " Since the previous period, " + " and ".join(bits) + "."
        paragraphs.append(text)
    has_prev = ctx.previous is not None
    headers = [ctx.t("star"), ctx.t("owner"), ctx.t("branches"), ctx.t("earned"), ctx.t("awarded"), ctx.t("rate")]
    if has_prev:
        headers += [ctx.t("prev_rate"), ctx.t("delta_rate")]
    headers += [ctx.t("vetoed"), ctx.t("mean_points")]
    rows = []
    for s in stars:
        row: list[Any] = [s["display"], s["owner"] or ctx.t("none"), s["branches"], s["earned"], s["awarded"],
                          fmt_pct(s["rate"])]
        if has_prev:
            row += [fmt_pct(s["previous"]["rate"]), fmt_signed(s["rate_delta"], 1)]
        row += [s["vetoed"], fmt_points(s["mean_points"])]
        rows.append(row)
    requires = any(star.requires for c in ctx.run.criteria for star in c.stars)
    note = None
    if requires:
        note = ("注：“达标”指该星得分达到标准、必达指标得满分且未触发一票否决；“获评”还须同时获评其前置星"
                "（如支部过硬星须其余四星均获评）。" if ctx.zh else
                "Earned: the star's pass mark is reached, required indicators score full points and no veto "
                "fired. Awarded: earned and every star it requires is awarded too.")
    align = ["left", "left"] + ["right"] * (len(headers) - 2)
    return _section("stars", ctx.t("h_stars"), paragraphs=paragraphs, chart="stars",
                    tables=[_table(headers, rows, align=align, note=note)])


# --------------------------------------------------------------------------------------------------
# League table


def _bottom_count(n_groups: int) -> int:
    if n_groups < 3:
        return 0
    if n_groups < 6:
        return 1
    if n_groups < 10:
        return 2
    return 3


def _league(ctx: _Ctx) -> dict[str, Any]:
    frame = ctx.frame
    if not ctx.has_groups(frame):
        return {"by": ctx.by, "by_label": ctx.by_label(), "available": False, "groups": [], "bottom": [],
                "top": [], "metric": "mean_points"}
    table = league_table(frame, by=ctx.by, levels=ctx.max_level)
    prev_rank: dict[str, int] = {}
    prev = ctx.previous.frame if ctx.previous else None
    has_prev = prev is not None and ctx.has_groups(prev)
    if prev is not None and has_prev:
        for row in league_table(prev, by=ctx.by, levels=ctx.max_level).iter_rows(named=True):
            prev_rank[row["group"]] = int(row["rank"])
    groups = []
    for row in table.iter_rows(named=True):
        rank = int(row["rank"])
        before = prev_rank.get(row["group"]) if has_prev else None
        item = {
            "rank": rank,
            "group": row["group"],
            "display": ctx.group_name(row["group"]),
            "branches": int(row["branches"]),
            "mean_points": row["mean_points"],
            "mean_stars": row["mean_stars"],
            "share_3plus": percent(row["share_3plus"], 1.0),
            "levels": {str(n): int(row[f"level_{n}"]) for n in range(ctx.max_level, -1, -1)},
            "rank_previous": before,
            "rank_change": (before - rank) if before is not None else None,
            "bottom": False,
        }
        groups.append(item)
    n_bottom = _bottom_count(len(groups))
    bottom: list[str] = []
    if n_bottom:
        threshold = groups[-n_bottom]["rank"]
        if threshold > 1:
            for item in groups:
                if item["rank"] >= threshold:
                    item["bottom"] = True
                    bottom.append(item["group"])
    top = [g["group"] for g in groups if g["rank"] == 1] if len(groups) > 1 else []
    return {"by": ctx.by, "by_label": ctx.by_label(), "available": True, "metric": "mean_points",
            "has_previous": has_prev, "groups": groups, "bottom": bottom, "top": top}


def _rank_change_text(ctx: _Ctx, item: dict[str, Any], has_prev: bool) -> str:
    if not has_prev:
        return ""
    change = item["rank_change"]
    if change is None:
        return ctx.t("new_rank")
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def _league_section(ctx: _Ctx, league: dict[str, Any]) -> dict[str, Any]:
    by = league["by_label"]
    heading = ctx.t("h_league", by=by)
    if not league["available"]:
        text = (f"数据未提供{by}信息，不作排名。" if ctx.zh
                else f"The data has no {by.lower()} column; no league table.")
        return _section("league", heading, paragraphs=[text])
    groups = league["groups"]
    has_prev = league.get("has_previous", False)
    paragraphs = []
    names = {g["group"]: g["display"] for g in groups}
    if ctx.zh:
        text = f"按各{by}所辖支部平均得分排名，共{len(groups)}个{by}参加排名。"
        if league["top"]:
            first = next(g for g in groups if g["rank"] == 1)
            text += f"{ctx.join(names[g] for g in league['top'])}位列第一（平均{fmt_points(first['mean_points'])}分）"
            text += "；" if league["bottom"] else "。"
        if league["bottom"]:
            text += f"{ctx.join(names[g] for g in league['bottom'])}排名靠后。"
    else:
        noun = by.lower()
        text = f"{ctx.n(len(groups), noun)} are ranked by the mean score of their branches."
        if league["top"]:
            first = next(g for g in groups if g["rank"] == 1)
            text += (f" {ctx.join(names[g] for g in league['top'])} ranks first "
                     f"({fmt_points(first['mean_points'])} points).")
        if league["bottom"]:
            text += f" At the bottom: {ctx.join(names[g] for g in league['bottom'])}."
    paragraphs.append(text)
    if has_prev:
        moved = [g for g in groups if g["rank_change"]]
        if moved:
            riser = sorted(moved, key=lambda g: (-g["rank_change"], g["rank"], g["group"]))[0]
            faller = sorted(moved, key=lambda g: (g["rank_change"], g["rank"], g["group"]))[0]
            bits = []
            if ctx.zh:
                if riser["rank_change"] > 0:
                    bits.append(f"{riser['display']}名次上升最多（上升{riser['rank_change']}位）")
                if faller["rank_change"] < 0:
                    bits.append(f"{faller['display']}名次下降最多（下降{-faller['rank_change']}位）")
                paragraphs.append("与上期相比，" + "，".join(bits) + "。")
            else:
                if riser["rank_change"] > 0:
                    bits.append(f"{riser['display']} rose most ({riser['rank_change']} places)")
                if faller["rank_change"] < 0:
                    bits.append(f"{faller['display']} fell most ({-faller['rank_change']} places)")
                paragraphs.append("Since the previous period, " + " and ".join(bits) + ".")
    if league["bottom"]:
        if ctx.zh:
            party = "党（工）委" if ctx.by == "township" else ""
            paragraphs.append(f"请排名靠后的{by}{party}认真分析原因，研究制定整改措施，切实加快创建进度。")
        else:
            paragraphs.append("The groups at the bottom are asked to analyse the causes and set out remedies.")
    headers = [ctx.t("rank"), by, ctx.t("n_branches"), ctx.t("mean_points"), ctx.t("mean_stars"),
               ctx.t("share_3plus")] + [ctx.level(n) for n in range(ctx.max_level, -1, -1)]
    if has_prev:
        headers.append(ctx.t("rank_change"))
    rows = []
    for g in groups:
        row: list[Any] = [g["rank"], g["display"], g["branches"], fmt_points(g["mean_points"]),
                          fmt_points(g["mean_stars"]), fmt_pct(g["share_3plus"])]
        row += [g["levels"][str(n)] for n in range(ctx.max_level, -1, -1)]
        if has_prev:
            row.append(_rank_change_text(ctx, g, has_prev))
        rows.append(row)
    highlight = [i for i, g in enumerate(groups) if g["bottom"]]
    align = ["right", "left"] + ["right"] * (len(headers) - 2)
    return _section("league", heading, paragraphs=paragraphs, chart="league",
                    tables=[_table(headers, rows, align=align, highlight=highlight)])


# --------------------------------------------------------------------------------------------------
# Movement: 晋星 / 降星（摘星）


def _lost_reason(ctx: _Ctx, row: Mapping[str, Any], star_id: str) -> str:
    """Why a star is not held this period: veto, required indicator, points, or a required star."""
    criteria = ctx.criteria(str(row.get("criteria_id")))
    name = ctx.star_name(star_id)
    if criteria is None or all(s.id != star_id for s in criteria.stars):
        return f"{name}：不适用本类型标准" if ctx.zh else f"{name}: not in this branch's criteria"
    star = criteria.star(star_id)
    vetoes = _split(row.get(star_col(star_id, "vetoes")))
    if vetoes:
        names = ctx.join(v.name for v in star.vetoes if v.id in vetoes)
        return f"{name}：一票否决（{names}）" if ctx.zh else f"{name}: veto ({names})"
    failed = _split(row.get(star_col(star_id, "required_failed")))
    points = row.get(star_col(star_id, "points"))
    bits = []
    if points is not None and points < star.pass_mark:
        bits.append(f"得分{fmt_points(points)}分，未达{fmt_points(star.pass_mark)}分" if ctx.zh
                    else f"{fmt_points(points)} points, below {fmt_points(star.pass_mark)}")
    if failed:
        names = ctx.join(i.name for i in star.indicators if i.id in failed)
        bits.append(f"必达指标未达标（{names}）" if ctx.zh else f"required indicator not met ({names})")
    if not bits and row.get(star_col(star_id, "earned")):
        missing = [r for r in star.requires if not row.get(star_col(r, "awarded"))]
        names = ctx.join(ctx.star_name(r) for r in missing)
        bits.append(f"前置星未获评（{names}）" if ctx.zh else f"required star not awarded ({names})")
    detail = ("，" if ctx.zh else "; ").join(bits) if bits else ("未达标" if ctx.zh else "not earned")
    return f"{name}：{detail}" if ctx.zh else f"{name}: {detail}"


def _cap_reason(ctx: _Ctx, row: Mapping[str, Any]) -> str | None:
    caps = _split(row.get("capped_by"))
    criteria = ctx.criteria(str(row.get("criteria_id")))
    if not caps or criteria is None:
        return None
    fired = [c for c in criteria.caps if c.id in caps]
    limit = min((c.max_stars for c in fired), default=None)
    names = ctx.join(c.name for c in fired)
    if ctx.zh:
        return f"封顶（{names}），最高{ctx.level(limit)}"
    return f"capped ({names}) at {ctx.level(limit)}"


def _cap_lifted(ctx: _Ctx, row: Mapping[str, Any] | None) -> str:
    """Why a level rose with no new star: the previous period's cap is lifted."""
    criteria = ctx.criteria(str(row.get("criteria_id"))) if row is not None else None
    caps = _split(row.get("capped_by")) if row is not None else []
    if criteria is None or not caps:
        return "星级上调" if ctx.zh else "level raised"
    names = ctx.join(c.name for c in criteria.caps if c.id in caps)
    return f"上期封顶事项（{names}）已消除" if ctx.zh else f"the previous cap ({names}) no longer applies"


def _movement(ctx: _Ctx) -> dict[str, Any]:
    if ctx.previous is None:
        return {"available": False, "counts": {}, "totals": {}, "up": [], "down": [], "swapped": [], "new": [],
                "removed": []}
    from ..engine.compare import compare_runs

    star_ids = list(ctx.stars)
    cmp = compare_runs(ctx.previous.frame, ctx.frame, star_ids)
    counts = {s: 0 for s in ("up", "down", "same", "new", "removed")}
    for status, n in cmp.group_by("status").len().iter_rows():
        counts[str(status)] = int(n)
    changed = cmp.filter(
        pl.col("status").is_in(["up", "down", "new", "removed"])
        | (pl.col("gained").list.len() > 0) | (pl.col("lost").list.len() > 0)
    )
    # The group of a row: township/county as compared; another grouping column from this period.
    if ctx.by in ("township", "county"):
        group = pl.col(ctx.by).cast(pl.String).fill_null("") if ctx.by in changed.columns else pl.lit("")
        changed = changed.with_columns(group.alias("_group"))
    elif ctx.by in ctx.frame.columns:
        groups = ctx.frame.select("branch_id", pl.col(ctx.by).cast(pl.String).fill_null("").alias("_group"))
        changed = changed.join(groups, on="branch_id", how="left").with_columns(pl.col("_group").fill_null(""))
    else:
        changed = changed.with_columns(pl.lit("").alias("_group"))
    # Lists are ordered by group then branch id and hold at most LIST_LIMIT rows (``totals`` counts
    # them all): on a national file only the rows shown are turned into Python objects.
    changed = changed.sort("_group", "branch_id").with_columns(pl.int_range(pl.len()).over("status").alias("_n"))
    totals = {s: 0 for s in ("up", "down", "swapped", "new", "removed")}
    for status, n in changed.group_by("status").len().iter_rows():
        totals["swapped" if status == "same" else str(status)] = int(n)
    changed = changed.filter(pl.col("_n") < LIST_LIMIT)
    ids = changed.filter(pl.col("status") != "removed")["branch_id"]
    wanted = ["branch_id", "criteria_id", "capped_by"]
    wanted += [star_col(s, what) for s in star_ids for what in ("vetoes", "required_failed", "points", "earned",
                                                               "awarded")]
    cols = [c for c in dict.fromkeys(wanted) if c in ctx.frame.columns]
    # lazily: on the bulletin's unsorted frame the eager select-then-filter took 1.9–2.2 s at
    # 1,000,000 rows, the lazy query 0.01 s
    rows = ctx.frame.lazy().select(cols).filter(pl.col("branch_id").is_in(ids.implode())).collect()
    current = {r["branch_id"]: r for r in rows.iter_rows(named=True)}
    # a level that rose without a new star: a cap of the previous period no longer applies
    no_gain = changed.filter((pl.col("status") == "up") & (pl.col("gained").list.len() == 0))["branch_id"]
    lifted: dict[str, dict[str, Any]] = {}
    if no_gain.len():
        earlier = ctx.previous.frame.lazy().select("branch_id", "criteria_id", "capped_by")
        lifted = {r["branch_id"]: r for r in earlier.filter(pl.col("branch_id").is_in(no_gain.implode()))
                  .collect().iter_rows(named=True)}
    lists: dict[str, list[dict[str, Any]]] = {s: [] for s in ("up", "down", "same", "new", "removed")}
    for row in changed.iter_rows(named=True):
        base = {
            "branch_id": row["branch_id"],
            "branch_name": row["branch_name"],
            "group": row["_group"],
            "stars_old": row["stars_old"],
            "stars_new": row["stars_new"],
            "level_old": ctx.level(row["stars_old"]),
            "level_new": ctx.level(row["stars_new"]),
            "delta_stars": row["delta_stars"],
            "delta_points": row["delta_points"],
            "gained": [{"id": s, "name": ctx.star_name(s)} for s in row["gained"]],
            "lost": [{"id": s, "name": ctx.star_name(s)} for s in row["lost"]],
        }
        status = row["status"]
        if status in ("down", "same") and row["branch_id"] in current:
            this = current[row["branch_id"]]
            reasons = [_lost_reason(ctx, this, s) for s in row["lost"]]
            cap = _cap_reason(ctx, this)
            if cap and status == "down":
                reasons.append(cap)
            base["reasons"] = reasons
        if status == "up" and not row["gained"]:
            base["reasons"] = [_cap_lifted(ctx, lifted.get(row["branch_id"]))]
        lists[status].append(base)
    return {
        "available": True,
        "counts": counts,
        "totals": totals,
        "up": lists["up"],
        "down": lists["down"],
        "swapped": lists["same"],
        "new": lists["new"],
        "removed": lists["removed"],
    }


def _movement_section(ctx: _Ctx, mv: dict[str, Any]) -> dict[str, Any]:
    heading = ctx.t("h_movement")
    if not mv["available"]:
        text = ("未提供上期数据，本期不作星级变动比较。" if ctx.zh else
                "No previous period was given (--previous), so changes in star level are not reported.")
        return _section("movement", heading, paragraphs=[text])
    c = mv["counts"]
    matched = c["up"] + c["down"] + c["same"]
    by = ctx.by_label()
    if ctx.zh:
        text = (f"与上期相比，两期均参评的{matched}个支部中，晋星{c['up']}个，降星（摘星）{c['down']}个，"
                f"星级持平{c['same']}个。")
        if c["new"]:
            text += f"本期新增参评支部{c['new']}个。"
        if c["removed"]:
            names = ctx.join(r["branch_name"] for r in mv["removed"][:20])
            more = f"等{c['removed']}个" if c["removed"] > 20 else ""
            text += f"上期参评、本期未报送数据的支部{c['removed']}个（{names}{more}），请核实。"
    else:
        text = (f"Of the {ctx.n(matched, 'branch', 'branches')} assessed in both periods, {c['up']} gained stars, "
                f"{c['down']} lost stars and {c['same']} kept their level.")
        if c["new"]:
            text += f" {ctx.n(c['new'], 'branch is', 'branches are')} new this period."
        if c["removed"]:
            names = ctx.join(r["branch_name"] for r in mv["removed"][:20])
            more = f" and {c['removed'] - 20} more" if c["removed"] > 20 else ""
            text += (f" {ctx.n(c['removed'], 'branch', 'branches')} assessed last period "
                     f"{'is' if c['removed'] == 1 else 'are'} missing this period ({names}{more}).")
    subsections = []
    up, up_note = _limit(mv["up"], ctx, mv["totals"]["up"])
    rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_old"], r["level_new"],
             ctx.join(s["name"] for s in r["gained"]) or ctx.t("none")] for r in up]
    headers = [ctx.t("branch"), by, ctx.t("level_old"), ctx.t("level_new"), ctx.t("gained")]
    if any(r.get("reasons") for r in up):
        headers.append(ctx.t("note"))
        for row, r in zip(rows, up, strict=True):
            row.append(ctx.semi().join(r.get("reasons", [])))
    empty_up = "本期无晋星支部。" if ctx.zh else "No branch gained stars."
    subsections.append(_section(
        "up", ctx.t("h_up"), paragraphs=[] if up else [empty_up],
        tables=[_table(headers, rows, note=up_note)] if up else []))
    down, down_note = _limit(mv["down"], ctx, mv["totals"]["down"])
    rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_old"], r["level_new"],
             ctx.join(s["name"] for s in r["lost"]) or ctx.t("none"), ctx.semi().join(r.get("reasons", []))]
            for r in down]
    headers = [ctx.t("branch"), by, ctx.t("level_old"), ctx.t("level_new"), ctx.t("lost"), ctx.t("reason")]
    empty_down = "本期无降星（摘星）支部。" if ctx.zh else "No branch lost stars."
    subsections.append(_section(
        "down", ctx.t("h_down"), paragraphs=[] if down else [empty_down],
        tables=[_table(headers, rows, note=down_note)] if down else []))
    if mv["swapped"]:
        swapped, note = _limit(mv["swapped"], ctx, mv["totals"]["swapped"])
        rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_new"],
                 ctx.join(s["name"] for s in r["gained"]) or ctx.t("none"),
                 ctx.join(s["name"] for s in r["lost"]) or ctx.t("none"), ctx.semi().join(r.get("reasons", []))]
                for r in swapped]
        headers = [ctx.t("branch"), by, ctx.t("level_new"), ctx.t("gained"), ctx.t("lost"), ctx.t("reason")]
        subsections.append(_section("swapped", ctx.t("h_swap"), tables=[_table(headers, rows, note=note)]))
    return _section("movement", heading, paragraphs=[text], subsections=subsections)


# --------------------------------------------------------------------------------------------------
# Veto events and caps


def _expr_names(text: str) -> set[str]:
    from .. import expr as ex

    try:
        return set(ex.names(ex.parse(text)))
    except Exception:  # a validated file always parses; be lenient in a report
        return set()


def _name_or_id() -> pl.Expr:
    """The branch's name, or its id when the name is empty: how a branch is listed."""
    name = pl.col("branch_name").cast(pl.String)
    return pl.when(name.is_null() | (name == "")).then(pl.col("branch_id").cast(pl.String)).otherwise(name) \
        .alias("branch_name")


def _by_missing(inputs: set[str]) -> pl.Expr:
    """Whether one of ``inputs`` is among the row's missing fields (so the veto or cap fired on a gap)."""
    if not inputs:
        return pl.lit(False)
    return pl.col("missing").fill_null("").str.split(";").list.set_intersection(sorted(inputs)).list.len() > 0


def _vetoes(ctx: _Ctx) -> dict[str, Any]:
    """Veto events and caps that fired. Counts cover every event; ``events``/``caps`` list at most
    LIST_LIMIT of each, ordered by group, branch and criteria order."""
    frame = ctx.frame
    group = ctx.group_col(frame).alias("group")
    name = _name_or_id()
    event_parts: list[pl.LazyFrame] = []
    cap_parts: list[pl.LazyFrame] = []
    for criteria in ctx.run.criteria:
        mine = frame.lazy().filter(pl.col("criteria_id") == criteria.id)
        for star in criteria.stars:
            for number, veto in enumerate(star.vetoes):
                col = veto_col(star.id, veto.id)
                if col not in frame.columns:
                    continue
                event_parts.append(mine.filter(pl.col(col).fill_null(False)).select(
                    pl.col("branch_id").cast(pl.String), name, group,
                    pl.lit(star.id).alias("star_id"), pl.lit(veto.id).alias("veto_id"),
                    pl.lit(ctx.star_name(star.id)).alias("star"), pl.lit(veto.name).alias("veto"),
                    _by_missing(_expr_names(veto.when)).alias("by_missing"),
                    pl.lit(ctx.stars[star.id].index).alias("_o1"), pl.lit(ctx.crit_index[criteria.id]).alias("_o2"),
                    pl.lit(number).alias("_o3"),
                ))
        for number, cap in enumerate(criteria.caps):
            col = cap_col(cap.id)
            if col not in frame.columns:
                continue
            cap_parts.append(mine.filter(pl.col(col).fill_null(False)).select(
                pl.col("branch_id").cast(pl.String), name, group, pl.lit(cap.id).alias("cap_id"),
                pl.lit(cap.name).alias("cap"), pl.lit(cap.max_stars).alias("max_stars"),
                pl.col("stars"), _by_missing(_expr_names(cap.when)).alias("by_missing"),
                pl.lit(ctx.crit_index[criteria.id]).alias("_o1"), pl.lit(number).alias("_o2"),
            ))

    def stacked(parts: list[pl.LazyFrame], order: list[str]) -> pl.DataFrame | None:
        if not parts:
            return None
        return pl.concat(parts).sort(["group", "branch_id", *order]).collect()

    events_all = stacked(event_parts, ["_o1", "_o2", "_o3"])
    caps_all = stacked(cap_parts, ["_o1", "_o2"])
    events: list[dict[str, Any]] = []
    caps: list[dict[str, Any]] = []
    per_veto: list[dict[str, Any]] = []
    counts = {"event_count": 0, "cap_count": 0, "branches": 0, "cap_branches": 0}
    fired_by_missing = 0
    if events_all is not None and events_all.height:
        counts.update(event_count=events_all.height, branches=events_all["branch_id"].n_unique())
        for star, veto, n in events_all.group_by("star", "veto", maintain_order=True).len().iter_rows():
            per_veto.append({"star": star, "veto": veto, "count": int(n)})
        fired_by_missing += int(events_all["by_missing"].sum())
        for row in events_all.head(LIST_LIMIT).iter_rows(named=True):
            events.append({
                "branch_id": row["branch_id"], "branch_name": row["branch_name"], "group": row["group"],
                "star_id": row["star_id"], "star": row["star"], "veto_id": row["veto_id"], "veto": row["veto"],
                "by_missing": row["by_missing"],
            })
    if caps_all is not None and caps_all.height:
        counts.update(cap_count=caps_all.height, cap_branches=caps_all["branch_id"].n_unique())
        fired_by_missing += int(caps_all["by_missing"].sum())
        for row in caps_all.head(LIST_LIMIT).iter_rows(named=True):
            caps.append({
                "branch_id": row["branch_id"], "branch_name": row["branch_name"], "group": row["group"],
                "cap_id": row["cap_id"], "cap": row["cap"], "max_stars": row["max_stars"],
                "max_level": ctx.level(row["max_stars"]), "stars": row["stars"], "by_missing": row["by_missing"],
            })
    return {"events": events, "caps": caps, **counts, "per_veto": per_veto, "fired_by_missing": fired_by_missing}


def _vetoes_section(ctx: _Ctx, vt: dict[str, Any]) -> dict[str, Any]:
    events, caps = vt["events"], vt["caps"]
    by = ctx.by_label()
    paragraphs = []
    per_veto = [(v["veto"], v["count"]) for v in vt["per_veto"]]
    missing = vt["fired_by_missing"]
    if ctx.zh:
        if events:
            detail = "、".join(f"{veto}{n}起" for veto, n in per_veto)
            text = f"本期共有{vt['branches']}个支部触发一票否决事项{vt['event_count']}项，其中{detail}，相应星不予评定。"
        else:
            text = "本期未发生一票否决事项。"
        if caps:
            text += f"{vt['cap_branches']}个支部因封顶事项被限定星级。"
        if missing:
            text += f"上述事项中有{missing}项系因相关数据缺失按触发处理，请相关{by}核实补报。"
    else:
        if events:
            detail = ", ".join(f"{veto}: {n}" for veto, n in per_veto)
            text = (f"{ctx.n(vt['branches'], 'branch', 'branches')} triggered {ctx.n(vt['event_count'], 'veto', 'vetoes')} "
                    f"this period ({detail}); the stars concerned are not awarded.")
        else:
            text = "No veto fired this period."
        if caps:
            text += (f" {ctx.n(vt['cap_branches'], 'branch is', 'branches are')} capped at a lower level.")
        if missing:
            text += f" {missing} of these fired because an input is missing; please check the data."
    paragraphs.append(text)
    tables = []
    if events:
        shown, note = _limit(events, ctx, vt["event_count"])
        rows = [[e["branch_name"], ctx.group_name(e["group"]), e["star"], e["veto"],
                 ctx.t("by_missing") if e["by_missing"] else ""] for e in shown]
        tables.append(_table([ctx.t("branch"), by, ctx.t("star"), ctx.t("veto"), ctx.t("note")], rows, note=note))
    if caps:
        shown, note = _limit(caps, ctx, vt["cap_count"])
        rows = [[e["branch_name"], ctx.group_name(e["group"]), e["cap"], e["max_level"],
                 ctx.t("by_missing") if e["by_missing"] else ""] for e in shown]
        tables.append(_table([ctx.t("branch"), by, ctx.t("cap"), ctx.t("max_stars"), ctx.t("note")], rows,
                             note=note))
    return _section("vetoes", ctx.t("h_vetoes"), paragraphs=paragraphs, tables=tables)


# --------------------------------------------------------------------------------------------------
# Weaknesses (indicators that lost the most points) and the problem list


def _scored_indicators(criteria: Criteria, columns: Sequence[str]) -> list[tuple[Star, Indicator, str, int]]:
    """(star, indicator, its points column, its number within the star) for every indicator of
    ``criteria`` whose points are among ``columns``."""
    return [(star, ind, pts_col(star.id, ind.id), number)
            for star in criteria.stars for number, ind in enumerate(star.indicators)
            if pts_col(star.id, ind.id) in columns]


def _below_full(col: str, points: float) -> pl.Expr:
    """A branch below the indicator's full points (no points recorded counts as none)."""
    return pl.col(col).fill_null(0.0) < points


def _points_lost(col: str, points: float) -> pl.Expr:
    """The points a branch lost on the indicator (no points recorded: all of them)."""
    return pl.lit(points) - pl.col(col).fill_null(0.0)


def _indicator_losses(ctx: _Ctx) -> list[dict[str, Any]]:
    """Per indicator of every criteria used: branches, points lost, branches below full points."""
    frame = ctx.frame
    out: list[dict[str, Any]] = []
    for criteria in ctx.run.criteria:
        keys = _scored_indicators(criteria, frame.columns)
        exprs = [e for _, ind, col, _ in keys
                 for e in (_points_lost(col, ind.points).sum().alias(f"lost|{col}"),
                           _below_full(col, ind.points).sum().alias(f"failed|{col}"))]
        # one lazy pass: the filter reads only the indicator columns instead of copying the wide frame
        sums = frame.lazy().filter(pl.col("criteria_id") == criteria.id).select(
            pl.len().alias("_n"), *exprs).collect().row(0, named=True)
        n = int(sums["_n"])
        if n == 0 or not exprs:
            continue
        for order, (star, ind, col, _) in enumerate(keys):
            lost = _round(float(sums[f"lost|{col}"]), 2)
            out.append({
                "criteria_id": criteria.id, "star_id": star.id, "star": ctx.star_name(star.id),
                "owner": star.owner, "indicator_id": ind.id, "indicator": ind.name, "points": ind.points,
                "branches": n, "lost": lost, "failed": int(sums[f"failed|{col}"]),
                "lost_rate": percent(lost, ind.points * n),
                "_order": (ctx.stars[star.id].index, ctx.crit_index[criteria.id], order),
            })
    return out


def _weaknesses(ctx: _Ctx) -> dict[str, Any]:
    items = _indicator_losses(ctx)
    ranked = sorted((i for i in items if i["lost"] > 0), key=lambda i: (-i["lost"], i["_order"]))
    per_star = []
    for star in ctx.stars.values():
        mine = [i for i in ranked if i["star_id"] == star.id]
        if not any(i["star_id"] == star.id for i in items):
            continue
        per_star.append({"star_id": star.id, "star": ctx.star_name(star.id), "owner": star.owner,
                         "indicators": [_public(i) for i in mine[:WEAK_PER_STAR]]})
    return {"overall": [_public(i) for i in ranked[:WEAK_OVERALL]], "per_star": per_star}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _weak_section(ctx: _Ctx, wk: dict[str, Any]) -> dict[str, Any]:
    overall = wk["overall"]
    if not overall:
        text = "本期各项指标均未失分。" if ctx.zh else "No indicator lost points this period."
        return _section("weaknesses", ctx.t("h_weak"), paragraphs=[text])
    top = overall[:3]
    if ctx.zh:
        parts = "、".join(f"{i['indicator']}（{i['star']}，失分{fmt_points(i['lost'])}分）" for i in top)
        text = f"从失分情况看，失分最多的指标依次为{parts}。请各牵头单位加强对共性短板的指导和督促。"
    else:
        parts = ", ".join(f"{i['indicator']} ({i['star']}, {fmt_points(i['lost'])} points)" for i in top)
        text = f"The indicators that lost the most points are {parts}. Lead units should address these first."
    fail_cell: Callable[[dict[str, Any]], str] = lambda i: f"{i['failed']}/{i['branches']}"  # noqa: E731
    rows = [[n, i["indicator"], i["star"], fmt_points(i["lost"]), fmt_pct(i["lost_rate"]), fail_cell(i),
             i["owner"] or ctx.t("none")] for n, i in enumerate(overall, start=1)]
    overall_table = _table(
        [ctx.t("no"), ctx.t("indicator"), ctx.t("star"), ctx.t("lost_points"), ctx.t("lost_rate"),
         ctx.t("failed"), ctx.t("owner")], rows,
        align=["right", "left", "left", "right", "right", "right", "left"], caption=ctx.t("h_weak_overall"))
    rows = []
    for star in wk["per_star"]:
        for i in star["indicators"]:
            rows.append([star["star"], i["indicator"], fmt_points(i["lost"]), fmt_pct(i["lost_rate"]), fail_cell(i)])
    star_table = _table([ctx.t("star"), ctx.t("indicator"), ctx.t("lost_points"), ctx.t("lost_rate"),
                         ctx.t("failed")], rows, align=["left", "left", "right", "right", "right"],
                        caption=ctx.t("h_weak_star"))
    return _section("weaknesses", ctx.t("h_weak"), paragraphs=[text], tables=[overall_table, star_table])


def _problems(ctx: _Ctx, league: dict[str, Any]) -> dict[str, Any]:
    """Per group, the indicators most often below full points, with the star's owner as lead unit."""
    frame = ctx.frame
    grouped = ctx.has_groups(frame)
    entries: dict[str, list[dict[str, Any]]] = {}
    sizes: dict[str, int] = {}
    for criteria in ctx.run.criteria:
        # Only the few columns this needs are filtered and sorted (by branch id, the order the
        # example names are listed in), never the wide frame: 4.6 s → 1.5 s at 1,000,000 rows ×
        # 125 indicators. Groups keep their rows in that order; the groups' own order is set below.
        mine = frame.lazy().filter(pl.col("criteria_id") == criteria.id)
        keys = _scored_indicators(criteria, frame.columns)
        below = [_below_full(col, ind.points).alias(f"b|{col}") for _, ind, col, _ in keys]
        lost = [_points_lost(col, ind.points).sum().alias(f"l|{col}") for _, ind, col, _ in keys]
        group_expr = ctx.group_col(frame).alias("_group")
        name = pl.col("branch_name").cast(pl.String).fill_null(pl.col("branch_id"))
        flags = mine.select(group_expr, pl.col("branch_id"), name.alias("_name"), *below).sort("branch_id")
        failed = flags.group_by("_group").agg(
            [pl.len().alias("_n")]
            + [e for _, _, col, _ in keys
               for e in (pl.col(f"b|{col}").sum().alias(f"f|{col}"),
                         pl.col("_name").filter(pl.col(f"b|{col}")).head(NAMES_PER_PROBLEM).alias(f"n|{col}"))])
        sums = mine.group_by(group_expr).agg(lost or [pl.len().alias("_n")])
        failed_frame, sums_frame = pl.collect_all([failed, sums])
        if failed_frame.height == 0:
            continue
        lost_by_group = {row["_group"]: row for row in sums_frame.iter_rows(named=True)}
        for row in failed_frame.iter_rows(named=True):
            group_key = row["_group"]
            group = group_key if grouped else ""
            sizes[group] = sizes.get(group, 0) + int(row["_n"])
            bucket = entries.setdefault(group, [])
            for star, ind, col, number in keys:
                count = int(row[f"f|{col}"])
                if count == 0:
                    continue
                bucket.append({
                    "star_id": star.id, "star": ctx.star_name(star.id), "indicator_id": ind.id,
                    "indicator": ind.name, "owner": star.owner, "failed": count, "branches": int(row["_n"]),
                    "lost": _round(float(lost_by_group[group_key][f"l|{col}"]), 2),
                    "examples": list(row[f"n|{col}"]),
                    "_order": (ctx.stars[star.id].index, ctx.crit_index[criteria.id], number),
                })
    order = [g["group"] for g in league["groups"]] if grouped and league["available"] else sorted(entries)
    order += sorted(g for g in entries if g not in order)
    groups = []
    for group in order:
        items = sorted(entries.get(group, []), key=lambda i: (-i["failed"], -i["lost"], i["_order"]))
        if not items and group not in sizes:
            continue
        groups.append({
            "group": group,
            "display": ctx.group_name(group) if grouped else ctx.t("all_groups"),
            "branches": sizes.get(group, 0),
            "items": [_public(i) for i in items[:PROBLEMS_PER_GROUP]],
        })
    return {"by": ctx.by, "grouped": grouped, "groups": groups}


def _problems_section(ctx: _Ctx, pr: dict[str, Any]) -> dict[str, Any]:
    by = ctx.by_label() if pr["grouped"] else (ctx.t("all_groups") if ctx.zh else "Scope")
    if ctx.zh:
        text = (f"对照评分标准，现将各{ctx.by_label()}未得满分支部数最多的指标列为问题清单（每个{ctx.by_label()}"
                f"列前{PROBLEMS_PER_GROUP}项）。请各牵头单位会同相关{ctx.by_label()}建立整改台账，"
                "明确责任人和整改时限，逐项整改销号。")
    else:
        text = (f"For each {ctx.by_label().lower()}, the indicators most often below full points (up to "
                f"{PROBLEMS_PER_GROUP}), with the lead unit named by the criteria. Lead units and "
                f"{ctx.by_label().lower()}s should keep a rectification ledger and close each item.")
    rows = []
    for g in pr["groups"]:
        for n, i in enumerate(g["items"], start=1):
            names = ctx.join(i["examples"])
            if i["failed"] > len(i["examples"]):
                names += f"等{i['failed']}个" if ctx.zh else f" and {i['failed'] - len(i['examples'])} more"
            rows.append([g["display"], n, i["indicator"], i["star"], f"{i['failed']}/{i['branches']}", names,
                         i["owner"] or ctx.t("none")])
    if not rows:
        text = "本期各项指标均得满分，无问题清单。" if ctx.zh else "Every indicator scored full points; no problems."
        return _section("problems", ctx.t("h_problems"), paragraphs=[text])
    table = _table([by, ctx.t("no"), ctx.t("indicator"), ctx.t("star"), ctx.t("failed"), ctx.t("examples"),
                    ctx.t("owner")], rows, align=["left", "right", "left", "left", "right", "left", "left"])
    return _section("problems", ctx.t("h_problems"), paragraphs=[text], tables=[table])


# --------------------------------------------------------------------------------------------------
# Near misses


def _near(ctx: _Ctx) -> dict[str, Any]:
    """Branches within ``near`` points of a star (no veto). ``count``/``stars`` cover them all;
    ``branches`` lists at most LIST_LIMIT, by group, smallest gap, branch id."""
    frame = ctx.frame
    group = ctx.group_col(frame).alias("_group")
    parts = []
    for number, star in enumerate(ctx.stars.values()):
        earned = star_col(star.id, "earned")
        if earned not in frame.columns:
            continue
        parts.append(frame.lazy().filter(
            pl.col(earned).is_not_null() & pl.col(earned).not_() & pl.col(star_col(star.id, "vetoed")).not_()
            & (pl.col(star_col(star.id, "gap")) <= ctx.near)
        ).select(
            pl.col("branch_id").cast(pl.String), _name_or_id(), group, "stars",
            pl.col("criteria_id").cast(pl.String), pl.lit(star.id).alias("star_id"), pl.lit(number).alias("_star"),
            pl.col(star_col(star.id, "points")).cast(pl.Float64).alias("points"),
            pl.col(star_col(star.id, "gap")).cast(pl.Float64).alias("gap"),
            pl.col(star_col(star.id, "required_failed")).cast(pl.String).alias("required_failed"),
        ))
    if not parts:
        return {"near": ctx.near, "branches": [], "count": 0, "stars": 0}
    hits = pl.concat(parts).collect()
    # the gap shown is rounded (2 places, half up) and never negative; branches sort by the smallest
    per_branch = (
        hits.lazy().group_by("branch_id").agg(pl.col("_group").first(), pl.col("gap").clip(lower_bound=0).min()
                                              .alias("_min"))
        .sort("_group", "_min", "branch_id").collect()
    )
    listed = per_branch.head(LIST_LIMIT)["branch_id"]
    position = {bid: n for n, bid in enumerate(listed.to_list())}
    items: dict[str, dict[str, Any]] = {}
    rows = hits.filter(pl.col("branch_id").is_in(listed.implode())).sort("_star")
    for row in rows.iter_rows(named=True):
        item = items.setdefault(row["branch_id"], {
            "branch_id": row["branch_id"], "branch_name": row["branch_name"],
            "group": row["_group"], "stars": row["stars"], "level": ctx.level(row["stars"]), "reach": [],
        })
        criteria = ctx.criteria(row["criteria_id"])
        failed = _split(row["required_failed"])
        names = []
        if criteria is not None and failed:
            names = [i.name for i in criteria.star(row["star_id"]).indicators if i.id in failed]
        item["reach"].append({
            "star_id": row["star_id"], "star": ctx.star_name(row["star_id"]),
            "points": row["points"],
            "gap": max(_round(row["gap"], 2), 0.0),
            "required_failed": names,
        })
    branches = sorted(items.values(), key=lambda i: position[i["branch_id"]])
    for item in branches:
        item["min_gap"] = min(r["gap"] for r in item["reach"])
    return {"near": ctx.near, "branches": branches, "count": per_branch.height, "stars": hits.height}


def _reach_text(ctx: _Ctx, reach: dict[str, Any]) -> str:
    bits = []
    if reach["gap"] > 0:
        bits.append(f"差{fmt_points(reach['gap'])}分" if ctx.zh else f"{fmt_points(reach['gap'])} points short")
    if reach["required_failed"]:
        names = ctx.join(reach["required_failed"])
        bits.append(f"必达指标未达标：{names}" if ctx.zh else f"required: {names}")
    inner = ("，" if ctx.zh else "; ").join(bits)
    return f"{reach['star']}（{inner}）" if ctx.zh else f"{reach['star']} ({inner})"


def _near_section(ctx: _Ctx, nm: dict[str, Any]) -> dict[str, Any]:
    near = fmt_points(nm["near"])
    by = ctx.by_label()
    if not nm["branches"]:
        text = (f"本期没有距获评差距在{near}分以内的支部。" if ctx.zh
                else f"No branch is within {near} points of a star.")
        return _section("near", ctx.t("h_near"), paragraphs=[text])
    if ctx.zh:
        text = (f"距获评相应星差距在{near}分以内且未触发一票否决的支部共{nm['count']}个，涉及{nm['stars']}个星次。"
                f"请各{by}逐村（社区）制定冲星措施，重点帮扶、推动尽快达标。")
    else:
        text = (f"{ctx.n(nm['count'], 'branch is', 'branches are')} within {near} points of "
                f"{ctx.n(nm['stars'], 'star')} (no veto fired). They are the first candidates for targeted support.")
    shown, note = _limit(nm["branches"], ctx, nm["count"])
    rows = [[i["branch_name"], ctx.group_name(i["group"]), i["level"],
             ctx.semi().join(_reach_text(ctx, r) for r in i["reach"])] for i in shown]
    table = _table([ctx.t("branch"), by, ctx.t("current_level"), ctx.t("within_reach")], rows, note=note)
    return _section("near", ctx.t("h_near"), paragraphs=[text], tables=[table])


# --------------------------------------------------------------------------------------------------
# Plan vs actual (--targets)


def _targets(ctx: _Ctx, league: dict[str, Any], targets: Targets) -> dict[str, Any]:
    from ..io.targets import normalise_group

    levels = [lv for lv in targets.levels if lv <= ctx.max_level] or [5, 4, 3]
    actual: dict[str, dict[int, int]] = {}
    for g in league["groups"]:
        actual[normalise_group(g["group"])] = {int(k): v for k, v in g["levels"].items()}

    def cumulative(counts: Mapping[int, int], level: int) -> int:
        return sum(v for k, v in counts.items() if k >= level)

    def compare(name: str, plan: Mapping[int, int], have: Mapping[int, int] | None) -> dict[str, Any]:
        rows = []
        for level in levels:
            planned = cumulative(plan, level)
            achieved = cumulative(have, level) if have is not None else 0
            rows.append({"level": level, "label": ctx.level(level), "planned": planned, "achieved": achieved,
                         "gap": max(planned - achieved, 0)})
        return {"group": name, "has_data": have is not None, "levels": rows,
                "on_track": all(r["gap"] == 0 for r in rows)}

    groups = [compare(name, plan, actual.get(name)) for name, plan in targets.groups.items()]
    plan_total: dict[int, int] = {}
    for plan in targets.groups.values():
        for level, n in plan.items():
            plan_total[level] = plan_total.get(level, 0) + n
    whole: dict[int, int] = dict.fromkeys(range(ctx.max_level + 1), 0)
    for counts in actual.values():
        for level, n in counts.items():
            whole[level] = whole.get(level, 0) + n
    if not league["available"]:
        whole = _level_counts(ctx.frame, ctx.max_level)
    total = compare(ctx.t("total"), targets.total if targets.total is not None else plan_total, whole)
    total["declared"] = targets.total is not None
    unplanned = sorted(g for g in actual if g not in targets.groups)
    return {
        "source": targets.source,
        "year": targets.year,
        "levels": levels,
        "groups": groups,
        "total": total,
        "on_track": sum(1 for g in groups if g["on_track"]),
        "behind": sum(1 for g in groups if not g["on_track"]),
        "no_data": [g["group"] for g in groups if not g["has_data"]],
        "unplanned": unplanned,
    }


def _gap_text(ctx: _Ctx, item: dict[str, Any]) -> str:
    parts = []
    for r in item["levels"]:
        if r["gap"]:
            label = _cum_label(ctx, r["level"])
            parts.append(f"{label}差{r['gap']}个" if ctx.zh else f"{label}: {r['gap']} short")
    return ctx.semi().join(parts) if parts else ctx.t("none")


def _cum_label(ctx: _Ctx, level: int) -> str:
    if level == ctx.max_level:
        return ctx.level(level)
    return f"{ctx.level(level)}及以上" if ctx.zh else f"{ctx.level(level)} or more"


def _targets_section(ctx: _Ctx, tg: dict[str, Any]) -> dict[str, Any]:
    total = tg["total"]
    year = f"{tg['year']}年度" if tg["year"] and ctx.zh else (f"{tg['year']} " if tg["year"] else "")
    by = ctx.by_label()
    if ctx.zh:
        plan = "、".join(f"{_cum_label(ctx, r['level'])}支部{r['planned']}个" for r in total["levels"])
        have = "、".join(f"{r['achieved']}个" for r in total["levels"])
        text = f"对照{year}创建规划，计划创建{plan}，本期已分别达到{have}。"
        behind = [g for g in tg["groups"] if not g["on_track"]]
        detail = "；".join(f"{g['group']}（{_gap_text(ctx, g)}）" for g in behind)
        if not behind:
            text += f"{tg['on_track']}个{by}均已完成规划目标。"
        elif tg["on_track"] == 0:
            text += f"各{by}均未完成规划目标，差距分别为：{detail}。"
        else:
            text += f"{tg['on_track']}个{by}已完成规划目标，{len(behind)}个{by}尚有差距：{detail}。"
    else:
        plan = ", ".join(f"{r['planned']} at {_cum_label(ctx, r['level'])}" for r in total["levels"])
        have = ", ".join(str(r["achieved"]) for r in total["levels"])
        text = f"The {year}plan calls for {plan}; this period has {have} respectively."
        behind = [g for g in tg["groups"] if not g["on_track"]]
        detail = "; ".join(f"{g['group']} ({_gap_text(ctx, g)})" for g in behind)
        if not behind:
            text += f" All {ctx.n(tg['on_track'], 'group')} have met their plan."
        elif tg["on_track"] == 0:
            text += f" No group has met its plan yet: {detail}."
        else:
            text += (f" {ctx.n(tg['on_track'], 'group has', 'groups have')} met the plan; {len(behind)} "
                     f"{'is' if len(behind) == 1 else 'are'} behind: {detail}.")
    headers = [by] + [ctx.t("plan_done", level=_cum_label(ctx, lv)) for lv in tg["levels"]]
    headers += [ctx.t("gap"), ctx.t("status")]
    rows = []
    for item in [*tg["groups"], total]:
        row: list[Any] = [item["group"]]
        row += [f"{r['achieved']}/{r['planned']}" for r in item["levels"]]
        row += [_gap_text(ctx, item), ctx.t("done") if item["on_track"] else ctx.t("behind")]
        rows.append(row)
    notes = []
    if ctx.zh:
        notes.append("注：按“就高计入”口径统计，五星支部同时计入四星及以上、三星及以上。")
        if tg["no_data"]:
            notes.append(f"规划中的{ctx.join(tg['no_data'])}本期无评定数据，按0计。")
        if tg["unplanned"]:
            notes.append(f"{ctx.join(ctx.group_name(g) for g in tg['unplanned'])}未列入规划文件。")
    else:
        notes.append("Counts are cumulative: a five-star branch also counts towards four stars or more.")
        if tg["no_data"]:
            notes.append(f"No data this period for {ctx.join(tg['no_data'])} (counted as 0).")
        if tg["unplanned"]:
            notes.append(f"Not in the plan file: {ctx.join(ctx.group_name(g) for g in tg['unplanned'])}.")
    align = ["left"] + ["right"] * len(tg["levels"]) + ["left", "left"]
    highlight = [i for i, g in enumerate(tg["groups"]) if not g["on_track"]]
    return _section("targets", ctx.t("h_targets"), paragraphs=[text],
                    tables=[_table(headers, rows, align=align, highlight=highlight)], notes=notes)


# --------------------------------------------------------------------------------------------------
# Data quality


def _reason_text(reason: Any) -> str:
    if isinstance(reason, Problem):
        text = reason.message
        details = []
        if reason.header is not None:
            details.append(reason.header)
        if reason.value is not None:
            details.append(f"“{reason.value}”")
        return f"{' '.join(details)}：{text}" if details else text
    return str(reason)


def _quality(ctx: _Ctx) -> dict[str, Any]:
    frame = ctx.frame
    missing_rows: list[dict[str, Any]] = []
    with_missing = 0
    if frame.height:
        with_missing = int(frame.lazy().select((pl.col("missing").fill_null("") != "").sum()).collect().item())
        counts = (
            frame.lazy()
            .select("criteria_id", pl.col("missing").fill_null("").str.split(";").alias("_f"))
            .explode("_f")
            .filter(pl.col("_f") != "")
            .group_by("criteria_id", "_f")
            .len()
            .collect()
        )
        merged: dict[str, dict[str, Any]] = {}
        for criteria_id, fid, n in counts.iter_rows():
            criteria = ctx.criteria(criteria_id)
            label = fid
            if criteria is not None and fid in criteria.fields:
                spec = criteria.fields[fid]
                label = (spec.name or fid) if spec.derived else criteria.header_of(fid)
            item = merged.setdefault(label, {"field": label, "field_ids": [], "branches": 0, "criteria": []})
            item["branches"] += int(n)
            if fid not in item["field_ids"]:
                item["field_ids"].append(fid)
            name = criteria.name if criteria else criteria_id
            if name not in item["criteria"]:
                item["criteria"].append(name)
        for item in merged.values():
            item["field_ids"].sort()
            item["criteria"].sort()
        missing_rows = sorted(merged.values(), key=lambda i: (-i["branches"], i["field"]))
    data = ctx.run.data
    rejected = [
        {"line": getattr(r, "line", None), "branch_id": getattr(r, "branch_id", None),
         "reasons": [_reason_text(x) for x in getattr(r, "reasons", ())]}
        for r in getattr(data, "rejected", ())
    ]
    rejected.sort(key=lambda r: (r["line"] is None, r["line"] or 0, str(r["branch_id"] or "")))
    return {
        "rows_read": getattr(data, "rows_read", None),
        "branches": frame.height,
        "branches_with_missing": with_missing,
        "missing": missing_rows,
        "rejected": rejected,
        "warnings": len(ctx.run.warnings),
    }


def _quality_section(ctx: _Ctx, dq: dict[str, Any], vt: dict[str, Any]) -> dict[str, Any]:
    by = ctx.by_label()
    read = dq["rows_read"]
    n_rej = len(dq["rejected"])
    fired = vt["fired_by_missing"]
    if ctx.zh:
        text = f"本期共读取数据{read if read is not None else dq['branches']}行，评定支部{dq['branches']}个"
        text += f"，剔除无效行{n_rej}行（见下表）。" if n_rej else "，无剔除行。"
        if dq["branches_with_missing"]:
            text += (f"{dq['branches_with_missing']}个支部存在数据缺失，缺失指标按0分计算"
                     + (f"，{fired}项否决或封顶事项因数据缺失按触发处理" if fired else "")
                     + f"。请相关{by}核实补报。")
        else:
            text += "未发现数据缺失。"
    else:
        rows = read if read is not None else dq["branches"]
        text = f"{ctx.n(rows, 'row was', 'rows were')} read and {ctx.n(dq['branches'], 'branch', 'branches')} scored"
        text += (f"; {ctx.n(n_rej, 'invalid row was', 'invalid rows were')} rejected (below)." if n_rej
                 else "; no row was rejected.")
        if dq["branches_with_missing"]:
            text += (f" {ctx.n(dq['branches_with_missing'], 'branch has', 'branches have')} missing values, which score 0"
                     + (f"; {ctx.n(fired, 'veto or cap', 'vetoes or caps')} fired because an input is missing"
                        if fired else "")
                     + ". Please complete the data.")
        else:
            text += " No value is missing."
    tables = []
    if dq["missing"]:
        rows = [[m["field"], m["branches"], ctx.join(m["criteria"])] for m in dq["missing"]]
        tables.append(_table([ctx.t("field"), ctx.t("missing_branches"), ctx.t("criteria")], rows,
                             align=["left", "right", "left"], caption=ctx.t("h_missing")))
    if dq["rejected"]:
        shown, note = _limit(dq["rejected"], ctx)
        rows = [[r["line"], r["branch_id"] or "", ctx.semi().join(r["reasons"])] for r in shown]
        tables.append(_table([ctx.t("line"), ctx.t("branch_id"), ctx.t("reason")], rows,
                             align=["right", "left", "left"], caption=ctx.t("h_rejected"), note=note))
    return _section("data_quality", ctx.t("h_quality"), paragraphs=[text], tables=tables)


# --------------------------------------------------------------------------------------------------
# The view


def _single_county(frame: pl.DataFrame) -> str | None:
    """The county's name when every branch of the data is in the same one (the default ``--area``)."""
    if "county" not in frame.columns or frame.height == 0:
        return None
    names = frame["county"].cast(pl.String).drop_nulls().unique().to_list()
    names = [n.strip() for n in names if n and n.strip()]
    return names[0] if len(set(names)) == 1 else None


def build_bulletin(
    run: ScoreRun,
    previous: ScoreRun | None = None,
    *,
    by: str = "township",
    lang: Lang | str = Lang.zh,
    title: str | None = None,
    area: str | None = None,
    period: str | None = None,
    date: str | None = None,
    targets: Targets | None = None,
    near: float = DEFAULT_NEAR,
    history: Any = None,
) -> dict[str, Any]:
    """The bulletin as a plain, JSON-serialisable dict (see the module docstring).

    ``history`` (a :class:`report.history_out.HistoryReport`) adds the trends and 摘星预警 section.
    """
    language = Lang(str(lang))
    ctx = _Ctx.make(run, previous, language, by, near)
    ctx.prev_label = period_label(previous.period, language) if previous is not None else None
    area = (area or "").strip() or _single_county(run.frame)
    shown_period = (period or run.period or "").strip() or None
    p_label = period_label(shown_period, language)
    prev_label = period_label(previous.period, language) if previous is not None else None

    overview = _overview(ctx)
    stars = _stars(ctx)
    league = _league(ctx)
    movement = _movement(ctx)
    vetoes = _vetoes(ctx)
    weaknesses = _weaknesses(ctx)
    near_misses = _near(ctx)
    problems = _problems(ctx, league)
    plan = _targets(ctx, league, targets) if targets is not None else None
    quality = _quality(ctx)

    if title and title.strip():
        title_text = title.strip()
        subtitle_bits = [b for b in (area, p_label) if b and b not in title_text
                         and not (b == p_label and shown_period and shown_period in title_text)]
        subtitle = (" · ".join(subtitle_bits)) or None
    else:
        if language == Lang.zh:
            title_text = ctx.t("default_title", area=area or "", period=p_label or "")
        else:
            title_text = ctx.t("default_title", area=f"{area}: " if area else "",
                               period=f", {p_label}" if p_label else "")
        subtitle = None

    sections = [
        _overview_section(ctx, overview, area, movement),
        _stars_section(ctx, stars),
        _league_section(ctx, league),
        _movement_section(ctx, movement),
        _vetoes_section(ctx, vetoes),
        _weak_section(ctx, weaknesses),
        _near_section(ctx, near_misses),
        _problems_section(ctx, problems),
    ]
    if plan is not None:
        sections.append(_targets_section(ctx, plan))
    history_charts: dict[str, str] = {}
    if history is not None:
        from . import history_out

        sections.append(history_out.bulletin_section(history, language))
        history_charts = history_out.bulletin_charts(history, language)
    sections.append(_quality_section(ctx, quality, vetoes))
    _number_sections(sections, language)

    kind = _branch_kind(ctx)
    criteria_names = [c.name for c in run.criteria]
    intro: list[str] = []
    salutation = None
    if language == Lang.zh:
        if by == "township":
            salutation = "各乡镇（街道）党（工）委，各有关单位："
        basis = "、".join(f"《{name}》" for name in criteria_names)
        when = p_label or "本期"
        intro.append(f"为及时掌握“五星”支部创建工作进展，根据{basis}，对{area or ''}{when}{kind}"
                     f"创建情况进行了评定。现将有关情况通报如下。")
        closing = [
            "请各乡镇（街道）党（工）委对照本通报，认真查找差距，对排名靠后、星级下降的村（社区）逐一分析原因、"
            "制定措施；各牵头单位要加强业务指导，推动问题清单逐项整改销号，确保年度创建目标如期完成。"
            if by == "township" else
            "请各单位对照本通报，认真查找差距，逐一分析原因、制定措施；各牵头单位要加强业务指导，推动问题清单逐项整改销号。"
        ]
    else:
        basis = "; ".join(criteria_names)
        when = f" for {p_label}" if p_label else ""
        where = f" in {area}" if area else ""
        intro.append(f"This bulletin reports the five-star assessment of {kind}{where}{when}, scored against "
                     f"{basis}.")
        closing = ["Groups are asked to review the gaps named here, act on the problem list and report on the "
                   "rectification of each item."]

    view = {
        "schema": VIEW_SCHEMA,
        "lang": language.value,
        "meta": {
            "title": title_text,
            "subtitle": subtitle,
            "area": area,
            "period": shown_period,
            "period_label": p_label,
            "previous_period": previous.period if previous is not None else None,
            "previous_label": prev_label,
            "date": date,
            "date_label": date_label(date, language),
            "by": by,
            "by_label": ctx.by_label(),
            "near": near,
            "criteria": [{"id": c.id, "name": c.name, "version": c.version} for c in run.criteria],
            "has_previous": previous is not None,
            "has_targets": plan is not None,
            "html_lang": "zh-CN" if language == Lang.zh else "en",
            "salutation": salutation,
        },
        "labels": {
            "this_period": "本期" if language == Lang.zh else "This period",
            "previous_period": "上期" if language == Lang.zh else "Previous period",
            "chart_levels": "各星级支部数量" if language == Lang.zh else "Branches by level",
            "chart_stars": "各星获评率（%）" if language == Lang.zh else "Award rate by star (%)",
            "chart_league": (f"各{ctx.by_label()}平均得分" if language == Lang.zh
                             else f"Mean points by {ctx.by_label().lower()}"),
            "date": "日期" if language == Lang.zh else "Date",
        },
        "intro": intro,
        "sections": sections,
        "closing": closing,
        "overview": overview,
        "stars": stars,
        "league": league,
        "movement": movement,
        "vetoes": vetoes,
        "weaknesses": weaknesses,
        "near_misses": near_misses,
        "problems": problems,
        "targets": plan,
        "data_quality": quality,
    }
    if history is not None:
        view["history_charts"] = history_charts
    return view


# --------------------------------------------------------------------------------------------------
# Rendering


_MD_SPECIAL = re.compile(r"([\\|<>`*\[\]])")


def md_escape(text: str) -> str:
    """Make text literal in Markdown (tables included): backslash-escape ``\\ | < > ` * [ ]``, no newlines."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _finalize_md(value: Any) -> Any:
    from markupsafe import Markup

    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, str):
        return md_escape(value)
    return value


def _finalize_html(value: Any) -> Any:
    return "" if value is None else value


def charts(view: Mapping[str, Any]) -> dict[str, str]:
    """Inline SVG charts for the HTML bulletin, keyed by the ``chart`` names the sections use."""
    from . import svg

    labels = view["labels"]
    ov = view["overview"]
    levels = ov["levels"]
    series = [svg.Series(labels["this_period"], [lv["count"] for lv in levels], svg.CURRENT)]
    if ov.get("previous") is not None:
        series.append(svg.Series(labels["previous_period"], [lv.get("count_previous") for lv in levels],
                                 svg.PREVIOUS))
    out = {"levels": svg.column_chart([lv["label"] for lv in levels], series, title=labels["chart_levels"],
                                      decimals=0)}
    stars = view["stars"]
    star_series = [svg.Series(labels["this_period"], [s["rate"] for s in stars], svg.CURRENT)]
    if view["meta"]["has_previous"]:
        star_series.append(svg.Series(labels["previous_period"], [s["previous"]["rate"] for s in stars],
                                      svg.PREVIOUS))
    out["stars"] = svg.bar_chart([s["name"] for s in stars], star_series, title=labels["chart_stars"],
                                 unit="%", max_value=100.0)
    league = view["league"]
    if league["available"]:
        groups = league["groups"]
        out["league"] = svg.bar_chart(
            [g["display"] for g in groups],
            [svg.Series(labels["this_period"], [g["mean_points"] for g in groups], svg.CURRENT)],
            title=labels["chart_league"], highlight=[i for i, g in enumerate(groups) if g["bottom"]], decimals=2)
    else:
        out["league"] = ""
    out.update(view.get("history_charts") or {})
    return out


_MAX_BITS = 4096  # integers a template may build with ** and * (a bulletin needs a few dozen bits)


def _big_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Sandbox:
    """Builds the immutable sandbox for user templates, with limits on ``*`` and ``**``."""

    @staticmethod
    def make(*, html: bool, loader: Any) -> Any:
        from jinja2 import StrictUndefined
        from jinja2.exceptions import SecurityError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        class LimitedSandbox(ImmutableSandboxedEnvironment):
            intercepted_binops = frozenset({"*", "**"})

            def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
                if operator == "**":
                    if isinstance(right, int | float) and abs(right) > 64:
                        raise SecurityError("exponent too large in a template")
                    if _big_int(left) and isinstance(right, int) and abs(left).bit_length() * right > _MAX_BITS:
                        raise SecurityError("a power in a template would be too large")  # ((9**64)**64)**64…
                    return left**right
                if operator == "*":
                    seqs = (str, list, tuple, bytes)
                    for seq, times in ((left, right), (right, left)):
                        if isinstance(seq, seqs) and isinstance(times, int) and len(seq) * times > 1_000_000:
                            raise SecurityError("a repeated sequence in a template would be too long")
                    if (_big_int(left) and _big_int(right)
                            and abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS):
                        raise SecurityError("a product in a template would be too large")
                    return left * right
                return super().call_binop(context, operator, left, right)

        env = LimitedSandbox(undefined=StrictUndefined, autoescape=html, loader=loader, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             finalize=_finalize_html if html else _finalize_md)
        return env


def _bundled_loader() -> Any:
    from jinja2 import PackageLoader

    return PackageLoader("wuxing_cli", "report/templates")


def _environment(fmt: Format) -> Any:
    from jinja2 import Environment, StrictUndefined, select_autoescape

    return Environment(
        loader=_bundled_loader(),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize_html if fmt == "html" else _finalize_md,
    )


def render_bulletin(view: Mapping[str, Any], fmt: Format = "md", template: str | None = None,
                    lang: Lang | str | None = None, *, template_name: str = "--template") -> str:
    """Render the view as Markdown or self-contained HTML.

    ``template`` is the *text* of a user template (``--template FILE``); it renders sandboxed with
    StrictUndefined (HTML autoescaped) and may ``{% extends "bulletin.html" %}`` and override blocks.
    Any template error becomes a :class:`UsageError` naming ``template_name`` and the line.
    """
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError
    from markupsafe import Markup

    if fmt not in ("md", "html"):
        raise UsageError([Problem(f"unknown bulletin format '{fmt}'", code=ProblemCode.FORMAT, hint="use md or html")])
    context: dict[str, Any] = dict(view)
    if lang is not None:
        context["lang"] = Lang(str(lang)).value
    context["view"] = view
    context["charts"] = {k: Markup(v) for k, v in charts(view).items()} if fmt == "html" else {}
    try:
        if template is None:
            env = _environment(fmt)
            return str(env.get_template(f"bulletin.{fmt}").render(context))
        sandbox = _Sandbox.make(html=fmt == "html", loader=_bundled_loader())
        compiled = sandbox.from_string(template)
        return str(compiled.render(context))
    except TemplateSyntaxError as exc:
        where = template_name if template is not None else f"bulletin.{fmt}"
        raise UsageError([Problem(f"template syntax error: {exc.message}", file=where, line=exc.lineno,
                                  code=ProblemCode.TEMPLATE_SYNTAX)]) from None
    except SecurityError as exc:
        raise UsageError([Problem(f"the template tried something unsafe: {exc}", file=template_name,
                                  code=ProblemCode.TEMPLATE_UNSAFE,
                                  hint="templates may only read the bulletin data (see the bundled templates)")]
                         ) from None
    except UndefinedError as exc:
        raise UsageError([Problem(f"the template uses an unknown name: {exc.message}", file=template_name,
                                  code=ProblemCode.TEMPLATE_UNDEFINED,
                                  hint="the data has: " + ", ".join(sorted(context)))]) from None
    except TemplateError as exc:
        raise UsageError([Problem(f"the template failed: {exc}", file=template_name, code=ProblemCode.TEMPLATE)]) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        if template is None:
            raise
        raise UsageError([Problem(f"the template failed: {type(exc).__name__}: {exc}", file=template_name,
                                  code=ProblemCode.TEMPLATE)]) from None
