"""The bulletin's view: one scored run (and optionally the previous period's run, an annual plan and
the trends of earlier periods) as a plain, JSON-serialisable dict.

The view holds the raw figures (``overview``, ``stars``, ``league``, ``movement``, ``vetoes``,
``weaknesses``, ``near_misses``, ``problems``, ``targets``, ``data_quality``; see :mod:`.figures`)
for custom templates, and ``sections``: the same content laid out as headings, paragraphs (formal
Chinese, or English) and pre-formatted tables (:mod:`.sections`, :mod:`.lists`). Nothing here
reads files, prints or looks at a clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...engine.summary.common import single_county
from ...engine.summary.levels import level_counts
from ...models.contract import DEFAULT_NEAR
from ..labels import Lang
from . import figures
from .context import Ctx, Limits
from .lists import (
    movement_section,
    near_section,
    problems_section,
    quality_section,
    vetoes_section,
    weak_section,
)
from .sections import league_section, number_sections, overview_section, stars_section
from .targets import targets_section
from .text import cn_quotes, date_label, period_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ...io.targets import Targets
    from ...models.criteria import Criteria
    from ...models.results import ScoreRun

VIEW_SCHEMA = 1
LIST_LIMIT = 500            # branch lists longer than this are cut, with a note
WEAK_OVERALL = 10           # indicators in the "lost most points" table
WEAK_PER_STAR = 3           # indicators per star
PROBLEMS_PER_GROUP = 5      # indicators per group in the problem list
NAMES_PER_PROBLEM = 5       # branch names shown per problem line


def criteria_basis_zh(criteria: Sequence[Criteria]) -> str:
    """The bulletin's basis: 根据中共××县委组织部印发的《…》（文号） when the criteria name an issuer,
    otherwise 按照《…》 (a shipped or local standard is never presented as issued by anyone)."""
    def cited(c: Criteria) -> str:
        return f"《{cn_quotes(c.name)}》" + (f"（{c.source}）" if c.source else "")

    issuers = list(dict.fromkeys(c.issuer for c in criteria if c.issuer))
    parts = [f"{issuer}印发的" + "".join(cited(c) for c in criteria if c.issuer == issuer) for issuer in issuers]
    plain = "".join(cited(c) for c in criteria if not c.issuer)
    if not parts:
        return f"按照{plain}" if plain else "按照评分标准"
    return "根据" + "、".join(parts) + (f"，按照{plain}" if plain else "")


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

    ``history`` (a :class:`report.history_out.HistoryReport`) adds the trends and 降星预警 section.
    """
    language = Lang(str(lang))
    limits = Limits(LIST_LIMIT, WEAK_OVERALL, WEAK_PER_STAR, PROBLEMS_PER_GROUP, NAMES_PER_PROBLEM)
    ctx = Ctx.make(run, previous, language, by, near, limits)
    ctx.prev_label = period_label(previous.period, language) if previous is not None else None
    area = (area or "").strip() or single_county(run.frame)
    shown_period = (period or run.period or "").strip() or None
    p_label = period_label(shown_period, language)
    prev_label = period_label(previous.period, language) if previous is not None else None

    counts = level_counts(run.frame, ctx.max_level)
    before = level_counts(previous.frame, ctx.max_level) if previous is not None else None
    overview = figures.overview(ctx, counts, before)
    stars = figures.stars(ctx)
    league = figures.league(ctx)
    movement = figures.moves(ctx)
    vetoes = figures.vetoes(ctx)
    weaknesses = figures.weaknesses(ctx)
    near_misses = figures.near(ctx)
    problems = figures.problems(ctx, league)
    plan = figures.targets(ctx, league, counts, targets) if targets is not None else None
    quality = figures.data_quality(ctx)

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
        overview_section(ctx, overview, area, movement),
        stars_section(ctx, stars),
        league_section(ctx, league),
        movement_section(ctx, movement),
        vetoes_section(ctx, vetoes),
        weak_section(ctx, weaknesses),
        near_section(ctx, near_misses),
        problems_section(ctx, problems),
    ]
    if plan is not None:
        sections.append(targets_section(ctx, plan))
    history_charts: dict[str, str] = {}
    if history is not None:
        from ..history import bulletin_charts, bulletin_section

        sections.append(bulletin_section(history, language))
        history_charts = bulletin_charts(history, language)
    sections.append(quality_section(ctx, quality, vetoes))
    number_sections(sections, language)

    kind = ctx.branch_kind()
    intro: list[str] = []
    salutation = None
    if language == Lang.zh:
        if by == "township":
            salutation = "各乡镇（街道）党（工）委，各有关单位："
        when = p_label or "本期"
        intro.append(f"为及时掌握“五星”支部创建工作进展，{criteria_basis_zh(run.criteria)}，对{area or ''}{when}{kind}"
                     f"创建情况进行了评定。现将有关情况通报如下。")
        closing = [
            "请各乡镇（街道）党（工）委对照本通报，认真查找差距，对排名靠后、星级下降的村（社区）逐一分析原因、"
            "制定措施；各牵头单位要加强业务指导，推动问题清单逐项整改销号，确保年度创建目标如期完成。"
            if by == "township" else
            "请各单位对照本通报，认真查找差距，逐一分析原因、制定措施；各牵头单位要加强业务指导，推动问题清单逐项整改销号。"
        ]
    else:
        basis = "; ".join(c.name + (f" (issued by {c.issuer})" if c.issuer else "") for c in run.criteria)
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
            "criteria": [{"id": c.id, "name": c.name, "version": c.version, "issuer": c.issuer, "source": c.source}
                         for c in run.criteria],
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
