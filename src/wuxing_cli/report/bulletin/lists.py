"""The prose and tables of the sections that list branches and indicators: 晋星/降星, vetoes and
caps, weaknesses, the problem list, near misses and the data-quality notes (see :mod:`.sections` for the shape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Ctx
from .sections import make_section, make_table
from .text import cn_quotes, fmt_pct, fmt_points


def _movement_zh(matched: int, c: dict[str, Any]) -> str:
    """与上期相比，两期均参评的6个支部中，晋星1个、降星3个，其余2个星级持平。 (only what happened)."""
    if not matched:
        return "本期参评支部与上期无重合，不作星级变动比较。"
    if c["same"] == matched:
        return f"与上期相比，两期均参评的{matched}个支部星级均未变动。"
    moved = "、".join(f"{word}{n}个" for word, n in (("晋星", c["up"]), ("降星", c["down"])) if n)
    rest = f"，其余{c['same']}个星级持平" if c["same"] else ""
    return f"与上期相比，两期均参评的{matched}个支部中，{moved}{rest}。"


def movement_section(ctx: Ctx, mv: dict[str, Any]) -> dict[str, Any]:
    heading = ctx.t("h_movement")
    if not mv["available"]:
        text = ("未提供上期数据，本期不作星级变动比较。" if ctx.zh else
                "No previous period was given (--previous), so changes in star level are not reported.")
        return make_section("movement", heading, paragraphs=[text])
    c = mv["counts"]
    matched = c["up"] + c["down"] + c["same"]
    by = ctx.by_label()
    if ctx.zh:
        text = _movement_zh(matched, c)
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
    up, up_note = ctx.cut(mv["up"], mv["totals"]["up"])
    rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_old"], r["level_new"],
             ctx.join(s["name"] for s in r["gained"]) or ctx.t("none")] for r in up]
    headers = [ctx.t("branch"), by, ctx.t("level_old"), ctx.t("level_new"), ctx.t("gained")]
    if any(r.get("reasons") for r in up):
        headers.append(ctx.t("note"))
        for row, r in zip(rows, up, strict=True):
            row.append(ctx.semi().join(r.get("reasons", [])))
    empty_up = "本期无晋星支部。" if ctx.zh else "No branch gained stars."
    subsections.append(make_section(
        "up", ctx.t("h_up"), paragraphs=[] if up else [empty_up],
        tables=[make_table(headers, rows, note=up_note)] if up else []))
    down, down_note = ctx.cut(mv["down"], mv["totals"]["down"])
    rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_old"], r["level_new"],
             ctx.join(s["name"] for s in r["lost"]) or ctx.t("none"), ctx.semi().join(r.get("reasons", []))]
            for r in down]
    headers = [ctx.t("branch"), by, ctx.t("level_old"), ctx.t("level_new"), ctx.t("lost"), ctx.t("reason")]
    empty_down = "本期无降星支部。" if ctx.zh else "No branch lost stars."
    subsections.append(make_section(
        "down", ctx.t("h_down"), paragraphs=[] if down else [empty_down],
        tables=[make_table(headers, rows, note=down_note)] if down else []))
    if mv["swapped"]:
        swapped, note = ctx.cut(mv["swapped"], mv["totals"]["swapped"])
        rows = [[r["branch_name"], ctx.group_name(r["group"]), r["level_new"],
                 ctx.join(s["name"] for s in r["gained"]) or ctx.t("none"),
                 ctx.join(s["name"] for s in r["lost"]) or ctx.t("none"), ctx.semi().join(r.get("reasons", []))]
                for r in swapped]
        headers = [ctx.t("branch"), by, ctx.t("level_new"), ctx.t("gained"), ctx.t("lost"), ctx.t("reason")]
        subsections.append(make_section("swapped", ctx.t("h_swap"), tables=[make_table(headers, rows, note=note)]))
    return make_section("movement", heading, paragraphs=[text], subsections=subsections)


def vetoes_section(ctx: Ctx, vt: dict[str, Any]) -> dict[str, Any]:
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
        shown, note = ctx.cut(events, vt["event_count"])
        rows = [[e["branch_name"], ctx.group_name(e["group"]), e["star"], e["veto"],
                 ctx.t("by_missing") if e["by_missing"] else ""] for e in shown]
        tables.append(make_table([ctx.t("branch"), by, ctx.t("star"), ctx.t("veto"), ctx.t("note")], rows, note=note))
    if caps:
        shown, note = ctx.cut(caps, vt["cap_count"])
        rows = [[e["branch_name"], ctx.group_name(e["group"]), e["cap"], e["max_level"],
                 ctx.t("by_missing") if e["by_missing"] else ""] for e in shown]
        tables.append(make_table([ctx.t("branch"), by, ctx.t("cap"), ctx.t("max_stars"), ctx.t("note")], rows,
                                 note=note))
    return make_section("vetoes", ctx.t("h_vetoes"), paragraphs=paragraphs, tables=tables)


def weak_section(ctx: Ctx, wk: dict[str, Any]) -> dict[str, Any]:
    overall = wk["overall"]
    if not overall:
        text = "本期各项指标均未失分。" if ctx.zh else "No indicator lost points this period."
        return make_section("weaknesses", ctx.t("h_weak"), paragraphs=[text])
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
    overall_table = make_table(
        [ctx.t("row_no"), ctx.t("indicator"), ctx.t("star"), ctx.t("points_lost"), ctx.t("lost_rate"),
         ctx.t("failed"), ctx.t("owner")], rows,
        align=["right", "left", "left", "right", "right", "right", "left"], caption=ctx.t("h_weak_overall"))
    rows = []
    for star in wk["per_star"]:
        for i in star["indicators"]:
            rows.append([star["star"], i["indicator"], fmt_points(i["lost"]), fmt_pct(i["lost_rate"]), fail_cell(i)])
    star_table = make_table([ctx.t("star"), ctx.t("indicator"), ctx.t("points_lost"), ctx.t("lost_rate"),
                             ctx.t("failed")], rows, align=["left", "left", "right", "right", "right"],
                            caption=ctx.t("h_weak_star"))
    return make_section("weaknesses", ctx.t("h_weak"), paragraphs=[text], tables=[overall_table, star_table])


def problems_section(ctx: Ctx, pr: dict[str, Any]) -> dict[str, Any]:
    by = ctx.by_label() if pr["grouped"] else (ctx.t("all_groups") if ctx.zh else "Scope")
    if ctx.zh:
        text = (f"对照评分标准，现将各{ctx.by_label()}未得满分支部数最多的指标列为问题清单（每个{ctx.by_label()}"
                f"列前{ctx.limits.problems_per_group}项）。请各牵头单位会同相关{ctx.by_label()}建立整改台账，"
                "明确责任人和整改时限，逐项整改销号。")
    else:
        text = (f"For each {ctx.by_label().lower()}, the indicators most often below full points (up to "
                f"{ctx.limits.problems_per_group}), with the lead unit named by the criteria. Lead units and "
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
        return make_section("problems", ctx.t("h_problems"), paragraphs=[text])
    table = make_table([by, ctx.t("row_no"), ctx.t("indicator"), ctx.t("star"), ctx.t("failed"), ctx.t("examples"),
                        ctx.t("owner")], rows, align=["left", "right", "left", "left", "right", "left", "left"])
    return make_section("problems", ctx.t("h_problems"), paragraphs=[text], tables=[table])


def _reach_text(ctx: Ctx, reach: dict[str, Any]) -> str:
    bits = []
    if reach["gap"] > 0:
        bits.append(f"差{fmt_points(reach['gap'])}分" if ctx.zh else f"{fmt_points(reach['gap'])} points short")
    if reach["required_failed"]:
        names = ctx.join(reach["required_failed"])
        bits.append(f"必达指标未达标：{names}" if ctx.zh else f"required: {names}")
    inner = ("，" if ctx.zh else "; ").join(bits)
    return f"{reach['star']}（{inner}）" if ctx.zh else f"{reach['star']} ({inner})"


def near_section(ctx: Ctx, nm: dict[str, Any]) -> dict[str, Any]:
    near = fmt_points(nm["near"])
    by = ctx.by_label()
    if not nm["branches"]:
        text = (f"本期没有距获评差距在{near}分以内的支部。" if ctx.zh
                else f"No branch is within {near} points of a star.")
        return make_section("near", ctx.t("h_near"), paragraphs=[text])
    if ctx.zh:
        text = (f"距获评相应星差距在{near}分以内且未触发一票否决的支部共{nm['count']}个，涉及{nm['stars']}个星次。"
                f"请各{by}逐村（社区）制定冲星措施，重点帮扶、推动尽快达标。")
    else:
        text = (f"{ctx.n(nm['count'], 'branch is', 'branches are')} within {near} points of "
                f"{ctx.n(nm['stars'], 'star')} (no veto fired). They are the first candidates for targeted support.")
    shown, note = ctx.cut(nm["branches"], nm["count"])
    rows = [[i["branch_name"], ctx.group_name(i["group"]), i["level"],
             ctx.semi().join(_reach_text(ctx, r) for r in i["reach"])] for i in shown]
    table = make_table([ctx.t("branch"), by, ctx.t("current_level"), ctx.t("within_reach")], rows, note=note)
    return make_section("near", ctx.t("h_near"), paragraphs=[text], tables=[table])


def quality_section(ctx: Ctx, dq: dict[str, Any], vt: dict[str, Any]) -> dict[str, Any]:
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
        rows = [[m["field"], m["branches"], ctx.join(cn_quotes(c) if ctx.zh else c for c in m["criteria"])]
                for m in dq["missing"]]
        tables.append(make_table([ctx.t("field"), ctx.t("missing_branches"), ctx.t("criteria")], rows,
                                 align=["left", "right", "left"], caption=ctx.t("h_missing")))
    if dq["rejected"]:
        shown, note = ctx.cut(dq["rejected"])
        rows = [[r["line"], r["branch_id"] or "", ctx.semi().join(r["reasons"])] for r in shown]
        tables.append(make_table([ctx.t("line"), ctx.t("branch_id"), ctx.t("reason")], rows,
                                 align=["right", "left", "left"], caption=ctx.t("h_rejected"), note=note))
    return make_section("data_quality", ctx.t("h_quality"), paragraphs=[text], tables=tables)
