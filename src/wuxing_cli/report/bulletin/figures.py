"""The view's raw figures (``overview``, ``stars``, ``league``, …): the engine's summaries as plain,
JSON-serialisable dicts with level and star names in the bulletin's language, for custom templates
and for the sections' prose."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...engine.summary import events, indicators, levels, movement, quality
from ...engine.summary.common import percent, pp, round_half_up
from .context import Ctx
from .reasons import cap_lifted, cap_reason, lost_reason, rejected_reason

if TYPE_CHECKING:
    from ...io.targets import Targets


def overview(ctx: Ctx, now: levels.LevelCounts, before: levels.LevelCounts | None) -> dict[str, Any]:
    total = now.branches
    items = []
    for n in range(ctx.max_level, -1, -1):
        item: dict[str, Any] = {"stars": n, "label": ctx.level(n), "count": now.count(n), "pct": percent(now.count(n), total)}
        if before is not None:
            item["count_previous"] = before.count(n)
            item["pct_previous"] = percent(before.count(n), before.branches)
            item["count_delta"] = item["count"] - item["count_previous"]
            item["pct_delta"] = pp(item["pct"], item["pct_previous"])
        items.append(item)
    three = now.three_plus
    result: dict[str, Any] = {
        "branches": total,
        "levels": items,
        "three_plus": {"count": three, "pct": percent(three, total)},
        "mean_points": now.mean_points,
        "mean_stars": now.mean_stars,
        "previous": None,
    }
    if before is not None:
        three_prev = before.three_plus
        result["previous"] = {
            "branches": before.branches,
            "three_plus": {"count": three_prev, "pct": percent(three_prev, before.branches)},
            "mean_points": before.mean_points,
            "mean_stars": before.mean_stars,
        }
        result["branches_delta"] = total - before.branches
        result["three_plus"]["count_delta"] = three - three_prev
        result["three_plus"]["pct_delta"] = pp(result["three_plus"]["pct"], percent(three_prev, before.branches))
        mean_now, mean_prev = now.mean_points, before.mean_points
        result["mean_points_delta"] = (
            round_half_up(mean_now - mean_prev, 2) if mean_now is not None and mean_prev is not None else None
        )
    return result


def _star_stats(s: levels.StarStats) -> dict[str, Any]:
    return {"branches": s.branches, "earned": s.earned, "awarded": s.awarded, "vetoed": s.vetoed,
            "mean_points": s.mean_points, "rate": s.rate}


def stars(ctx: Ctx) -> list[dict[str, Any]]:
    result = []
    current_ids = ctx.catalogue.current_star_ids()
    for star in ctx.catalogue.stars.values():
        if star.id not in current_ids:
            continue
        stats = levels.star_stats(ctx.run.frame, star.id)
        item: dict[str, Any] = {"id": star.id, "name": star.name, "display": ctx.star_display(star.id),
                                "owner": star.owner, **_star_stats(stats)}
        if ctx.previous is not None:
            before = levels.star_stats(ctx.previous.frame, star.id)
            item["previous"] = _star_stats(before)
            item["rate_delta"] = pp(stats.rate, before.rate)
        result.append(item)
    return result


def league(ctx: Ctx) -> dict[str, Any]:
    table = levels.league(ctx.run.frame, ctx.previous.frame if ctx.previous else None, ctx.by, ctx.max_level)
    if not table.available:
        return {"by": ctx.by, "by_label": ctx.by_label(), "available": False, "groups": [], "bottom": [],
                "top": [], "metric": "mean_points"}
    groups = [{
        "rank": g.rank,
        "group": g.group,
        "display": ctx.group_name(g.group),
        "branches": g.branches,
        "mean_points": g.mean_points,
        "mean_stars": g.mean_stars,
        "share_3plus": g.share_3plus,
        "levels": {str(n): g.levels[n] for n in range(ctx.max_level, -1, -1)},
        "rank_previous": g.rank_previous,
        "rank_change": g.rank_change,
        "bottom": g.bottom,
    } for g in table.groups]
    return {"by": ctx.by, "by_label": ctx.by_label(), "available": True, "metric": "mean_points",
            "has_previous": table.has_previous, "groups": groups, "bottom": list(table.bottom),
            "top": list(table.top)}


def moves(ctx: Ctx) -> dict[str, Any]:
    if ctx.previous is None:
        return {"available": False, "counts": {}, "totals": {}, "up": [], "down": [], "swapped": [], "new": [],
                "removed": []}
    mv = movement.movement(ctx.previous.frame, ctx.run.frame, list(ctx.catalogue.stars), ctx.by, ctx.limits.lists)
    lists: dict[str, list[dict[str, Any]]] = {s: [] for s in movement.STATUSES}
    for row in mv.rows:
        base: dict[str, Any] = {
            "branch_id": row.branch_id,
            "branch_name": row.branch_name,
            "group": row.group,
            "stars_old": row.stars_old,
            "stars_new": row.stars_new,
            "level_old": ctx.level(row.stars_old),
            "level_new": ctx.level(row.stars_new),
            "delta_stars": row.delta_stars,
            "delta_points": row.delta_points,
            "gained": [{"id": s, "name": ctx.star_name(s)} for s in row.gained],
            "lost": [{"id": s, "name": ctx.star_name(s)} for s in row.lost],
        }
        if row.status in ("down", "same") and row.current is not None:
            reasons = [lost_reason(ctx, row.current, s) for s in row.lost]
            cap = cap_reason(ctx, row.current)
            if cap and row.status == "down":
                reasons.append(cap)
            base["reasons"] = reasons
        if row.status == "up" and not row.gained:
            base["reasons"] = [cap_lifted(ctx, row.previous)]
        lists[row.status].append(base)
    return {"available": True, "counts": dict(mv.counts), "totals": dict(mv.totals), "up": lists["up"],
            "down": lists["down"], "swapped": lists["same"], "new": lists["new"], "removed": lists["removed"]}


def vetoes(ctx: Ctx) -> dict[str, Any]:
    vt = events.vetoes(ctx.run.frame, ctx.catalogue, ctx.by, ctx.limits.lists)
    return {
        "events": [{"branch_id": e.branch_id, "branch_name": e.branch_name, "group": e.group, "star_id": e.star_id,
                    "star": e.star, "veto_id": e.veto_id, "veto": e.veto, "by_missing": e.by_missing}
                   for e in vt.events],
        "caps": [{"branch_id": c.branch_id, "branch_name": c.branch_name, "group": c.group, "cap_id": c.cap_id,
                  "cap": c.cap, "max_stars": c.max_stars, "max_level": ctx.level(c.max_stars), "stars": c.stars,
                  "by_missing": c.by_missing} for c in vt.caps],
        "event_count": vt.event_count, "cap_count": vt.cap_count, "branches": vt.branches,
        "cap_branches": vt.cap_branches,
        "per_veto": [{"star": v.star, "veto": v.veto, "count": v.count} for v in vt.per_veto],
        "fired_by_missing": vt.fired_by_missing,
    }


def _loss(i: indicators.IndicatorLoss) -> dict[str, Any]:
    return {"criteria_id": i.criteria_id, "star_id": i.star_id, "star": i.star, "owner": i.owner,
            "indicator_id": i.indicator_id, "indicator": i.indicator, "points": i.points, "branches": i.branches,
            "lost": i.lost, "failed": i.failed, "lost_rate": i.lost_rate}


def weaknesses(ctx: Ctx) -> dict[str, Any]:
    wk = indicators.weaknesses(ctx.run.frame, ctx.catalogue, overall=ctx.limits.weak_overall,
                               per_star=ctx.limits.weak_per_star)
    return {"overall": [_loss(i) for i in wk.overall],
            "per_star": [{"star_id": s.star_id, "star": s.star, "owner": s.owner,
                          "indicators": [_loss(i) for i in s.indicators]} for s in wk.per_star]}


def problems(ctx: Ctx, league_view: dict[str, Any]) -> dict[str, Any]:
    order = [g["group"] for g in league_view["groups"]] if league_view["available"] else None
    pr = indicators.problems(ctx.run.frame, ctx.catalogue, ctx.by, order,
                             per_group=ctx.limits.problems_per_group, names=ctx.limits.names_per_problem)
    groups = [{
        "group": g.group,
        "display": ctx.group_name(g.group) if pr.grouped else ctx.t("all_groups"),
        "branches": g.branches,
        "items": [{"star_id": i.star_id, "star": i.star, "indicator_id": i.indicator_id, "indicator": i.indicator,
                   "owner": i.owner, "failed": i.failed, "branches": i.branches, "lost": i.lost,
                   "examples": list(i.examples)} for i in g.items],
    } for g in pr.groups]
    return {"by": ctx.by, "grouped": pr.grouped, "groups": groups}


def near(ctx: Ctx) -> dict[str, Any]:
    nm = events.near_misses(ctx.run.frame, ctx.catalogue, ctx.by, ctx.near, ctx.limits.lists)
    branches = [{
        "branch_id": b.branch_id, "branch_name": b.branch_name, "group": b.group, "stars": b.stars,
        "level": ctx.level(b.stars),
        "reach": [{"star_id": r.star_id, "star": r.star, "points": r.points, "gap": r.gap,
                   "required_failed": list(r.required_failed)} for r in b.reach],
        "min_gap": b.min_gap,
    } for b in nm.branches]
    return {"near": nm.near, "branches": branches, "count": nm.count, "stars": nm.stars}


def _progress(ctx: Ctx, name: str, p: levels.PlanProgress) -> dict[str, Any]:
    return {"group": name, "has_data": p.has_data,
            "levels": [{"level": r.level, "label": ctx.level(r.level), "planned": r.planned, "achieved": r.achieved,
                        "gap": r.gap} for r in p.levels],
            "on_track": p.on_track}


def targets(ctx: Ctx, league_view: dict[str, Any], counts: levels.LevelCounts, plan: Targets) -> dict[str, Any]:
    from ...io.targets import normalise_group

    actual = {normalise_group(g["group"]): {int(k): v for k, v in g["levels"].items()}
              for g in league_view["groups"]}
    tg = levels.targets_progress(plan.levels, plan.groups, plan.total, actual,
                                 None if league_view["available"] else counts.counts, ctx.max_level)
    total = _progress(ctx, ctx.t("total"), tg.total)
    total["declared"] = plan.total is not None
    return {
        "source": plan.source,
        "year": plan.year,
        "levels": list(tg.levels),
        "groups": [_progress(ctx, g.group, g) for g in tg.groups],
        "total": total,
        "on_track": tg.on_track,
        "behind": tg.behind,
        "no_data": list(tg.no_data),
        "unplanned": list(tg.unplanned),
    }


def data_quality(ctx: Ctx) -> dict[str, Any]:
    missing = quality.missing_values(ctx.run.frame, ctx.catalogue)
    data = ctx.run.data
    rejected = [
        {"line": getattr(r, "line", None), "branch_id": getattr(r, "branch_id", None),
         "reasons": [rejected_reason(x) for x in getattr(r, "reasons", ())]}
        for r in getattr(data, "rejected", ())
    ]
    rejected.sort(key=lambda r: (r["line"] is None, r["line"] or 0, str(r["branch_id"] or "")))
    return {
        "rows_read": getattr(data, "rows_read", None),
        "branches": ctx.run.frame.height,
        "branches_with_missing": missing.branches_with_missing,
        "missing": [{"field": m.field, "field_ids": list(m.field_ids), "branches": m.branches,
                     "criteria": list(m.criteria)} for m in missing.fields],
        "rejected": rejected,
        "warnings": len(ctx.run.warnings),
    }
