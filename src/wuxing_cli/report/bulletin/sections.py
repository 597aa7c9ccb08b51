"""The prose and tables of the bulletin's sections on levels, stars, groups, plan and data quality.

Each ``*_section`` turns the view's raw figures (:mod:`.figures`) into a section dict: a heading,
paragraphs in formal Chinese or English, pre-formatted tables. The bundled templates render these
without any language-specific text of their own. The sections that list branches and indicators
are in :mod:`.lists`, the plan's in :mod:`.targets`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..labels import Lang, rank_change_text
from .context import Ctx
from .text import change_en, change_zh, cn_number, fmt_abs, fmt_pct, fmt_points, fmt_signed


def make_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, align: Sequence[str] | None = None,
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


def make_section(key: str, heading: str, *, paragraphs: Sequence[str] = (), tables: Sequence[dict[str, Any]] = (),
                 chart: str | None = None, subsections: Sequence[dict[str, Any]] = (),
                 notes: Sequence[str] = ()) -> dict[str, Any]:
    """A section as the templates render it (``report/history.py`` builds its section in this shape)."""
    return {
        "id": key,
        "heading": heading,
        "paragraphs": [p for p in paragraphs if p],
        "chart": chart,
        "tables": list(tables),
        "subsections": list(subsections),
        "notes": [n for n in notes if n],
    }


def number_sections(sections: list[dict[str, Any]], lang: Lang) -> None:
    """Number the headings in place: 一、… （一）… in Chinese, 1. … 1.1 … in English."""
    for n, section in enumerate(sections, start=1):
        base = section["heading"]
        section["number"] = n
        section["heading"] = f"{cn_number(n)}、{base}" if lang == Lang.zh else f"{n}. {base}"
        for m, sub in enumerate(section["subsections"], start=1):
            sub["number"] = m
            sub["heading"] = f"（{cn_number(m)}）{sub['heading']}" if lang == Lang.zh else f"{n}.{m} {sub['heading']}"


def up_down_zh(counts: dict[str, Any]) -> str:
    """晋星支部3个、降星支部2个。 naming only what happened (无晋星、降星支部。 when neither)."""
    up, down = counts["up"], counts["down"]
    if up and down:
        return f"晋星支部{up}个，降星支部{down}个。"
    if up:
        return f"晋星支部{up}个，无降星支部。"
    if down:
        return f"无晋星支部，降星支部{down}个。"
    return "无晋星、降星支部。"


def overview_section(ctx: Ctx, ov: dict[str, Any], area: str | None, movement: dict[str, Any]) -> dict[str, Any]:
    kind = ctx.branch_kind()
    total = ov["branches"]
    three = ov["three_plus"]
    paragraphs: list[str] = []
    if ctx.zh:
        parts = [f"{lv['label']}支部{lv['count']}个，占{fmt_pct(lv['pct'])}" for lv in ov["levels"] if lv["count"]]
        text = f"本期{area or ''}共评定{kind}{total}个。" if total else f"本期{area or ''}无参评的{kind}。"
        if total:
            text += "其中，" + "；".join(parts) + "。"
            text += (f"三星及以上支部{three['count']}个，占{fmt_pct(three['pct'])}；" if three["count"] else
                     "尚无三星及以上支部；")
            text += f"平均得分{fmt_points(ov['mean_points'])}分，平均星数{fmt_points(ov['mean_stars'])}颗。"
        paragraphs.append(text)
        if ov["previous"] is not None:
            delta = ov["branches_delta"]
            branches_text = "参评支部数量持平" if delta == 0 else (
                f"参评支部{'增加' if delta > 0 else '减少'}{abs(delta)}个")
            since = f"与上期（{ctx.prev_label}）相比" if ctx.prev_label else "与上期相比"
            three_text = "数量持平" if three["count_delta"] == 0 else change_zh(
                three["count_delta"], "个", up="增加", down="减少", places=0)
            text = (f"{since}，{branches_text}；三星及以上支部{three_text}，"
                    f"占比{change_zh(three['pct_delta'], '个百分点')}；"
                    f"平均得分{change_zh(ov['mean_points_delta'], '分', places=2)}。")
            if movement["available"]:
                text += up_down_zh(movement["counts"])
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
                    f"{change_en(ov['branches_delta'], 0)}; branches with three stars or more are "
                    f"{change_en(three['count_delta'], 0)} and their share is "
                    f"{change_en(three['pct_delta'], 1, ' percentage points')}; the mean score is "
                    f"{change_en(ov['mean_points_delta'], 2, ' points')}.")
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
    return make_section("overview", ctx.t("h_overview"), paragraphs=paragraphs, chart="levels",
                        tables=[make_table(headers, rows, align=align)])


def stars_section(ctx: Ctx, stars: list[dict[str, Any]]) -> dict[str, Any]:
    paragraphs: list[str] = []
    rated = [s for s in stars if s["rate"] is not None]
    if rated:
        best = sorted(rated, key=lambda s: (-s["rate"], ctx.catalogue.stars[s["id"]].index))[0]
        worst = sorted(rated, key=lambda s: (s["rate"], ctx.catalogue.stars[s["id"]].index))[0]
        if ctx.zh:
            text = (f"从各星获评情况看，{best['display']}获评率最高，为{fmt_pct(best['rate'])}；"
                    f"{worst['display']}获评率最低，为{fmt_pct(worst['rate'])}。")
        else:
            text = (f"{best['display']} has the highest award rate ({fmt_pct(best['rate'])}) and "
                    f"{worst['display']} the lowest ({fmt_pct(worst['rate'])}).")
        changed = [s for s in rated if s.get("rate_delta") not in (None, 0)]
        if changed:
            up = sorted(changed, key=lambda s: (-s["rate_delta"], ctx.catalogue.stars[s["id"]].index))[0]
            down = sorted(changed, key=lambda s: (s["rate_delta"], ctx.catalogue.stars[s["id"]].index))[0]
            if ctx.zh:
                bits = []
                if up["rate_delta"] > 0:
                    bits.append(f"{up['display']}获评率提高最多（{fmt_abs(up['rate_delta'], 1)}个百分点）")
                if down["rate_delta"] < 0:
                    bits.append(f"{down['display']}获评率下降最多（{fmt_abs(-down['rate_delta'], 1)}个百分点）")
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
    headers = [ctx.t("star"), ctx.t("owner"), ctx.t("assessed"), ctx.t("earned"), ctx.t("awarded"), ctx.t("rate")]
    if has_prev:
        headers += [ctx.t("prev_rate"), ctx.t("delta_rate")]
    headers += [ctx.t("vetoed"), ctx.t("mean_score")]
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
    return make_section("stars", ctx.t("h_stars"), paragraphs=paragraphs, chart="stars",
                        tables=[make_table(headers, rows, align=align, note=note)])


def league_section(ctx: Ctx, league: dict[str, Any]) -> dict[str, Any]:
    by = league["by_label"]
    heading = ctx.t("h_league", by=by)
    if not league["available"]:
        text = (f"数据未提供{by}信息，不作排名。" if ctx.zh
                else f"The data has no {by.lower()} column; no league table.")
        return make_section("league", heading, paragraphs=[text])
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
    headers = [ctx.t("place"), by, ctx.t("branches"), ctx.t("mean_score"), ctx.t("mean_stars"),
               ctx.t("share_3plus")] + [ctx.level(n) for n in range(ctx.max_level, -1, -1)]
    if has_prev:
        headers.append(ctx.t("rank_change"))
    rows = []
    for g in groups:
        row: list[Any] = [g["rank"], g["display"], g["branches"], fmt_points(g["mean_points"]),
                          fmt_points(g["mean_stars"]), fmt_pct(g["share_3plus"])]
        row += [g["levels"][str(n)] for n in range(ctx.max_level, -1, -1)]
        if has_prev:
            row.append(rank_change_text(g["rank_change"], ctx.lang))
        rows.append(row)
    highlight = [i for i, g in enumerate(groups) if g["bottom"]]
    align = ["right", "left"] + ["right"] * (len(headers) - 2)
    return make_section("league", heading, paragraphs=paragraphs, chart="league",
                        tables=[make_table(headers, rows, align=align, highlight=highlight)])
