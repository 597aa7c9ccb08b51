"""Why a branch lost a star, was capped or rose a level; why a row was rejected (short phrases)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...engine.columns import star_col
from ...engine.summary.common import split_ids
from ...errors import Problem
from .context import Ctx
from .text import fmt_points


def lost_reason(ctx: Ctx, row: Mapping[str, Any], star_id: str) -> str:
    """Why a star is not held this period: veto, required indicator, points, or a required star."""
    criteria = ctx.criteria(str(row.get("criteria_id")))
    name = ctx.star_name(star_id)
    if criteria is None or all(s.id != star_id for s in criteria.stars):
        return f"{name}：不适用本类型标准" if ctx.zh else f"{name}: not in this branch's criteria"
    star = criteria.star(star_id)
    vetoes = split_ids(row.get(star_col(star_id, "vetoes")))
    if vetoes:
        names = ctx.join(v.name for v in star.vetoes if v.id in vetoes)
        return f"{name}：一票否决（{names}）" if ctx.zh else f"{name}: veto ({names})"
    failed = split_ids(row.get(star_col(star_id, "required_failed")))
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


def cap_reason(ctx: Ctx, row: Mapping[str, Any]) -> str | None:
    caps = split_ids(row.get("capped_by"))
    criteria = ctx.criteria(str(row.get("criteria_id")))
    if not caps or criteria is None:
        return None
    fired = [c for c in criteria.caps if c.id in caps]
    limit = min((c.max_stars for c in fired), default=None)
    names = ctx.join(c.name for c in fired)
    if ctx.zh:
        return f"触发封顶事项（{names}），限定星级最高为{ctx.level(limit)}"
    return f"capped ({names}) at {ctx.level(limit)}"


def cap_lifted(ctx: Ctx, row: Mapping[str, Any] | None) -> str:
    """Why a level rose with no new star: the previous period's cap is lifted."""
    criteria = ctx.criteria(str(row.get("criteria_id"))) if row is not None else None
    caps = split_ids(row.get("capped_by")) if row is not None else []
    if criteria is None or not caps:
        return "星级上调" if ctx.zh else "level raised"
    names = ctx.join(c.name for c in criteria.caps if c.id in caps)
    return f"上期封顶事项（{names}）已消除，不再限定星级" if ctx.zh else f"the previous cap ({names}) no longer applies"


def rejected_reason(reason: Any) -> str:
    """A rejected row's reason: the problem's message after the column and value it names."""
    if isinstance(reason, Problem):
        text = reason.message
        details = []
        if reason.header is not None:
            details.append(reason.header)
        if reason.value is not None:
            details.append(f"“{reason.value}”")
        return f"{' '.join(details)}：{text}" if details else text
    return str(reason)
