"""The plan-vs-actual section (``--targets``): planned and achieved branches per group and level."""

from __future__ import annotations

from typing import Any

from .context import Ctx
from .sections import make_section, make_table


def _gap_text(ctx: Ctx, item: dict[str, Any]) -> str:
    parts = []
    for r in item["levels"]:
        if r["gap"]:
            label = _cum_label(ctx, r["level"])
            parts.append(f"{label}差{r['gap']}个" if ctx.zh else f"{label}: {r['gap']} short")
    return ctx.semi().join(parts) if parts else ctx.t("none")


def _cum_label(ctx: Ctx, level: int) -> str:
    if level == ctx.max_level:
        return ctx.level(level)
    return f"{ctx.level(level)}及以上" if ctx.zh else f"{ctx.level(level)} or more"


def _plan_zh(ctx: Ctx, total: dict[str, Any]) -> str:
    """计划创建四星及以上支部3个、三星及以上支部10个，本期已分别达到2个、12个。 (levels planned at 0 left out)."""
    rows = [r for r in total["levels"] if r["planned"]]
    if not rows:
        return "未设定创建数量目标。"
    plan = "、".join(f"{_cum_label(ctx, r['level'])}支部{r['planned']}个" for r in rows)
    if len(rows) == 1:
        return f"计划创建{plan}，本期已达到{rows[0]['achieved']}个。"
    have = "、".join(f"{r['achieved']}个" for r in rows)
    return f"计划创建{plan}，本期已分别达到{have}。"


def targets_section(ctx: Ctx, tg: dict[str, Any]) -> dict[str, Any]:
    total = tg["total"]
    year = f"{tg['year']}年度" if tg["year"] and ctx.zh else (f"{tg['year']} " if tg["year"] else "")
    by = ctx.by_label()
    if ctx.zh:
        text = f"对照{year}创建规划，{_plan_zh(ctx, total)}"
        groups = tg["groups"]
        behind = [g for g in groups if not g["on_track"]]
        detail = "；".join(f"{g['group']}（{_gap_text(ctx, g)}）" for g in behind)
        if not groups:  # a plan for the whole area only
            text += "规划目标已全部完成。" if total["on_track"] else f"尚未完成规划目标（{_gap_text(ctx, total)}）。"
        elif len(groups) == 1:
            text += (f"{groups[0]['group']}已完成规划目标。" if not behind else
                     f"{groups[0]['group']}尚未完成规划目标（{_gap_text(ctx, groups[0])}）。")
        elif not behind:
            text += f"{len(groups)}个{by}均已完成规划目标。"
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
    headers += [ctx.t("plan_gap"), ctx.t("plan_status")]
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
    return make_section("targets", ctx.t("h_targets"), paragraphs=[text],
                        tables=[make_table(headers, rows, align=align, highlight=highlight)], notes=notes)
