"""User-facing labels in Chinese (default) and English."""

from __future__ import annotations

from enum import StrEnum


class Lang(StrEnum):
    zh = "zh"
    en = "en"


_LABELS: dict[str, tuple[str, str]] = {
    # key: (zh, en)
    "rank": ("排名", "Rank"),
    "group_rank": ("组内排名", "Group rank"),
    "branch_id": ("支部编码", "Branch ID"),
    "branch_name": ("支部名称", "Branch"),
    "county": ("县区", "County"),
    "township": ("乡镇(街道)", "Township"),
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
    "awarded": ("授星", "Awarded"),
    "near": ("差一点", "Within reach"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "summary": ("汇总", "Summary"),
    "stars_held": ("所获星", "Stars held"),
    "notes": ("备注", "Notes"),
    "note_veto": ("否决: {ids}", "veto: {ids}"),
    "note_cap": ("封顶: {ids}", "capped: {ids}"),
    "note_missing": ("缺 {n} 项数据", "{n} missing"),
    "score_title": ("\u201c五星\u201d支部评星结果", "Five-star branch results"),
    "branches_scored": ("共评定 {n} 个支部", "{n} branches scored"),
    "rejected_rows": ("剔除无效行 {n} 行", "{n} invalid rows rejected"),
}


def label(key: str, lang: Lang | str = Lang.zh, **params: object) -> str:
    """The label for ``key`` in ``lang``, with ``{name}`` placeholders filled from ``params``."""
    zh, en = _LABELS.get(key, (key, key))
    text = en if str(lang) == Lang.en else zh
    return text.format(**params) if params else text


def level_label(stars: int, lang: Lang | str, zh_label: str) -> str:
    """A level name: the criteria's label in Chinese, '3 stars' in English."""
    if str(lang) == Lang.en:
        return "no star" if stars == 0 else f"{stars} star" + ("s" if stars != 1 else "")
    return zh_label


def star_marks(stars: int, total: int = 5) -> str:
    return "★" * stars + "☆" * max(total - stars, 0)
