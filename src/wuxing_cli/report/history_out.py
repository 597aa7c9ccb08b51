"""Renderers of ``wuxing history``: terminal tables with sparklines, long CSV/JSON, Markdown, and the
bulletin's history section (with per-group trend charts as inline SVG)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import polars as pl

from ..engine import history as hist
from ..engine.score import star_col
from ..models.results import History
from .grid import Doc, Line
from .labels import Lang, level_label
from .tabular import grid_table, markdown_table, num

SPARK = "▁▂▃▄▅▆▇█"
GAP = "·"

_T: dict[str, tuple[str, str]] = {
    "title": ("\u201c五星\u201d支部星级走势", "Five-star branches over time"),
    "span": ("{first} 至 {last}，共 {n} 期", "{first} to {last}, {n} periods"),
    "span_one": ("{first}，共 1 期（无历史可比）", "{first}, one period (no history to compare)"),
    "summary_one": ("共 {branches} 个支部；摘星预警 {risk} 个支部（{stars} 颗星）。",
                    "{branches} branches; {risk} branches at risk of losing a star ({stars} stars)."),
    "summary": ("共 {branches} 个支部；本期较上期晋星 {up} 个、降星 {down} 个；摘星预警 {risk} 个支部（{stars} 颗星）。",
                "{branches} branches; since the previous period {up} gained and {down} lost stars; "
                "{risk} branches at risk of losing a star ({stars} stars)."),
    "groups": ("{by}走势", "Trend by {by}"),
    "risk": ("摘星预警（余量≤{margin}分、连续两期下降或否决事项趋近）",
             "At risk of losing a star (within {margin} points, two falls in a row, or a veto trending)"),
    "no_risk": ("无摘星预警。", "No branch is at risk."),
    "branches": ("各支部走势", "Branches"),
    "rank": ("排名", "Rank"),
    "group": ("单位", "Group"),
    "branch_name": ("支部名称", "Branch"),
    "township": ("乡镇(街道)", "Township"),
    "county": ("县区", "County"),
    "branch_type": ("类型", "Type"),
    "trend": ("星级走势", "Stars trend"),
    "series": ("各期星数", "Stars by period"),
    "level": ("星级", "Level"),
    "points": ("总分", "Points"),
    "delta": ("较上期", "Change"),
    "streak": ("连续", "Streak"),
    "streak_n": ("{n}期", "{n}"),
    "notes": ("备注", "Notes"),
    "branches_n": ("支部数", "Branches"),
    "mean_stars": ("平均星数", "Mean stars"),
    "mean_points": ("平均分", "Mean points"),
    "points_trend": ("平均分走势", "Mean points by period"),
    "share_3plus": ("三星及以上", "3★+"),
    "rank_change": ("名次变化", "Rank change"),
    "at_risk": ("预警支部", "At risk"),
    "star": ("星", "Star"),
    "star_points": ("得分", "Points"),
    "pass_mark": ("达标线", "Pass mark"),
    "cushion": ("余量", "Cushion"),
    "recent": ("近三期得分", "Last three periods"),
    "reasons": ("预警原因", "Why"),
    "dependents": ("连带失去", "Also lost"),
    "r_margin": ("接近达标线", "near the pass mark"),
    "r_falling": ("连续两期下降", "fell twice in a row"),
    "r_veto": ("否决事项趋近：{name}", "veto trending: {name}"),
    "r_cap": ("封顶事项趋近：{name}", "cap trending: {name}"),
    "n_gained": ("晋星：{ids}", "gained: {ids}"),
    "n_lost": ("降星：{ids}", "lost: {ids}"),
    "n_absent": ("本期未参评", "not in the latest period"),
    "n_risk": ("摘星预警：{ids}", "at risk: {ids}"),
    "n_new": ("新参评", "new"),
    "n_blocked": ("保持期未满：{ids}", "tenure not met: {ids}"),
    "n_unchecked": ("保持期未核：{ids}", "tenure unchecked: {ids}"),
    "first_awarded": ("首次获评", "First awarded"),
    "section": ("星级走势与摘星预警", "Trends and stars at risk"),
    "section_intro": ("本节依据 {first} 至 {last} 共 {n} 期评定结果，列出各{by}平均分走势和有摘星风险的支部。",
                      "Based on the {n} periods from {first} to {last}: mean points by {by} and the branches "
                      "at risk of losing a star."),
    "chart": ("各{by}平均分走势", "Mean points by {by}"),
    "risk_limit": ("仅列出余量最小的前{n}项（共{total}项），完整名单请运行 wuxing history。",
                   "Only the {n} smallest cushions are listed (of {total}); run wuxing history for all."),
}

BY_LABELS = {"township": ("乡镇（街道）", "Township"), "county": ("县（市、区）", "County"),
             "branch_type": ("类型", "Type"), "period": ("期间", "Period")}


def t(key: str, lang: Lang | str, **params: object) -> str:
    zh, en = _T[key]
    text = en if str(lang) == Lang.en else zh
    return text.format(**params) if params else text


def by_label(by: str, lang: Lang | str, *, inline: bool = False) -> str:
    """The group column's name: a header (``Township``) or, with ``inline``, for a sentence (``township``)."""
    zh, en = BY_LABELS.get(by, (by, by))
    return (en.lower() if inline else en) if str(lang) == Lang.en else zh


def sparkline(values: Sequence[float | int | None], top: float = hist.MAX_LEVEL) -> str:
    """One block per value on a fixed 0…``top`` scale (▁ = 0, █ = top); ``·`` where a value is missing."""
    out = []
    for value in values:
        if value is None:
            out.append(GAP)
            continue
        share = min(max(float(value) / top, 0.0), 1.0) if top > 0 else 0.0
        out.append(SPARK[round(share * (len(SPARK) - 1))])
    return "".join(out)


def _signed(value: float | int | None, places: int = 2) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0"
    text = f"{value:+.{places}f}" if isinstance(value, float) else f"{value:+d}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fmt(value: float | None, places: int = 2) -> str:
    return "" if value is None else f"{value:.{places}f}"


@dataclass(frozen=True)
class HistoryReport:
    history: History
    by: str | None
    margin: float
    series: pl.DataFrame   # per branch and period (engine.history.branch_history)
    summary: pl.DataFrame  # per branch
    risk: pl.DataFrame     # per star at risk
    groups: pl.DataFrame | None
    group_summary: pl.DataFrame | None

    @property
    def labels(self) -> list[str]:
        return self.history.labels


def build_history(history: History, *, by: str | None = None, margin: float = hist.DEFAULT_MARGIN) -> HistoryReport:
    series = hist.branch_history(history.long, history.stars)
    summary = hist.branch_summary(series, history.labels, history.stars)
    risk = hist.at_risk(history.long, history.criteria, margin=margin)
    groups = gsum = None
    if by is not None:
        groups = hist.group_history(history.long, by, history.labels)
        gsum = hist.group_summary(groups, len(history.labels))
        if gsum.height:
            counts = (risk.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("group"))
                      .group_by("group").agg(pl.col("branch_id").n_unique().cast(pl.Int64).alias("at_risk")))
            gsum = gsum.join(counts, on="group", how="left").with_columns(pl.col("at_risk").fill_null(0))
    return HistoryReport(history, by, margin, series, summary, risk, groups, gsum)


# --------------------------------------------------------------------------------------------------
# shared pieces


def _veto_names(history: History) -> dict[str, str]:
    names: dict[str, str] = {}
    for crit in history.criteria:
        for star in crit.stars:
            for veto in star.vetoes:
                names.setdefault(f"veto:{veto.id}", veto.name)
        for cap in crit.caps:
            names.setdefault(f"cap:{cap.id}", cap.name)
    return names


def reason_text(codes: str, history: History, lang: Lang | str) -> str:
    names = _veto_names(history)
    out = []
    for code in (c for c in codes.split(";") if c):
        if code == "margin":
            out.append(t("r_margin", lang))
        elif code == "falling":
            out.append(t("r_falling", lang))
        elif code.startswith("veto:"):
            out.append(t("r_veto", lang, name=names.get(code, code[5:])))
        elif code.startswith("cap:"):
            out.append(t("r_cap", lang, name=names.get(code, code[4:])))
        else:
            out.append(code)
    return "；".join(out) if str(lang) == Lang.zh else "; ".join(out)


def _star_names(ids: str, history: History) -> str:
    return "、".join(history.star_name(i) for i in ids.split(";") if i)


def _level(stars: int | None, text: str | None, lang: Lang | str) -> str:
    if stars is None:
        return ""
    return level_label(stars, lang, text or "")


def _notes(row: Mapping[str, Any], history: History, lang: Lang | str) -> str:
    notes = []
    if not row["present_latest"]:
        notes.append(t("n_absent", lang))
    elif row.get("periods_present") == 1 and len(history.labels) > 1:
        notes.append(t("n_new", lang))
    if row["present_latest"] and row.get("gained"):
        notes.append(t("n_gained", lang, ids=_star_names(row["gained"], history)))
    if row["present_latest"] and row.get("lost"):
        notes.append(t("n_lost", lang, ids=_star_names(row["lost"], history)))
    risk = row.get("risk")
    if risk:
        notes.append(t("n_risk", lang, ids=risk))
    if row.get("tenure_blocked"):
        notes.append(t("n_blocked", lang, ids=_star_names(row["tenure_blocked"], history)))
    if row.get("tenure_unchecked"):
        notes.append(t("n_unchecked", lang, ids=_star_names(row["tenure_unchecked"], history)))
    return "；".join(notes) if str(lang) == Lang.zh else "; ".join(notes)


def _series_text(values: Sequence[Any]) -> str:
    return " ".join(GAP if v is None else str(v) for v in values)


def _points_series_text(values: Sequence[float | None]) -> str:
    return "→".join(GAP if v is None else f"{v:.1f}" for v in values)


def _headline(report: HistoryReport, lang: Lang | str) -> str:
    latest = report.summary.filter(pl.col("present_latest"))
    up = latest.filter(pl.col("delta_stars") > 0).height if "delta_stars" in latest.columns else 0
    down = latest.filter(pl.col("delta_stars") < 0).height if "delta_stars" in latest.columns else 0
    key = "summary" if len(report.labels) > 1 else "summary_one"
    return t(key, lang, branches=report.summary.height, up=up, down=down,
             risk=report.risk.get_column("branch_id").n_unique() if report.risk.height else 0,
             stars=report.risk.filter(pl.col("star_id").is_not_null()).height)


def _title(report: HistoryReport, lang: Lang | str) -> tuple[str, str]:
    labels = report.labels
    if len(labels) == 1:
        return t("title", lang), t("span_one", lang, first=labels[0])
    return t("title", lang), t("span", lang, first=labels[0], last=labels[-1], n=len(labels))


# ---- rows of each table (texts), shared by the terminal and Markdown renderers


def group_rows(report: HistoryReport, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.group_summary is not None and report.by is not None
    headers = [t("rank", lang), by_label(report.by, lang), t("branches_n", lang), t("trend", lang),
               t("mean_stars", lang), t("points_trend", lang), t("mean_points", lang), t("delta", lang),
               t("rank_change", lang), t("share_3plus", lang), t("at_risk", lang)]
    rows = []
    for row in report.group_summary.iter_rows(named=True):
        rows.append([
            row["rank"], row["group"] or "—", row["branches"], sparkline(row["stars_series"]),
            _fmt(row["mean_stars"]), _points_series_text(row["points_series"]), _fmt(row["mean_points"]),
            _signed(row["delta_points"]), _rank_change(row["rank_change"]),
            f"{row['share_3plus'] * 100:.1f}%", row.get("at_risk", 0),
        ])
    numeric = [True, False, True, False, True, False, True, True, False, True, True]
    return headers, rows, numeric


def _rank_change(value: int | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "—"
    return f"↑{value}" if value > 0 else f"↓{-value}"


def risk_rows(report: HistoryReport, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    headers = [t("branch_name", lang), t("township", lang), t("level", lang), t("star", lang),
               t("star_points", lang), t("pass_mark", lang), t("cushion", lang), t("recent", lang),
               t("reasons", lang), t("dependents", lang)]
    rows = []
    for row in report.risk.iter_rows(named=True):
        recent = [row["points_prev2"], row["points_prev"], row["points"]]
        rows.append([
            row["branch_name"], row["township"] or "", _level(row["stars"], row["level"], lang),
            row["star_name"] or "", _fmt(row["points"]), num(row["pass_mark"]) if row["pass_mark"] is not None
            else "", _fmt(row["cushion"]), _points_series_text(recent) if row["points"] is not None else "",
            reason_text(row["reasons"], report.history, lang), _star_names(row["dependents"] or "", report.history),
        ])
    numeric = [False, False, False, False, True, True, True, False, False, False]
    return headers, rows, numeric


def branch_rows(report: HistoryReport, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    headers = [t("rank", lang), t("branch_name", lang), t("township", lang), t("trend", lang), t("series", lang),
               t("level", lang), t("points", lang), t("delta", lang), t("streak", lang), t("notes", lang)]
    rows = []
    at_risk: dict[str, list[str]] = {}
    for item in report.risk.iter_rows(named=True):
        name = item["star_name"] or reason_text(item["reasons"], report.history, lang)
        at_risk.setdefault(item["branch_id"], []).append(name)
    sep = "、" if str(lang) == Lang.zh else ", "
    for row in report.summary.iter_rows(named=True):
        present = row["present_latest"]
        row["risk"] = sep.join(at_risk.get(row["branch_id"], []))
        rows.append([
            row["rank"] if present else "", row["branch_name"], row["township"] or "",
            sparkline(row["stars_series"]), _series_text(row["stars_series"]),
            _level(row["stars"], row["level"], lang) if present else "",
            _fmt(row["total_points"]) if present else "",
            _signed(row["delta_points"]) if present else "",
            t("streak_n", lang, n=row["streak"]) if present else "",
            _notes(row, report.history, lang),
        ])
    numeric = [True, False, False, False, False, False, True, True, True, False]
    return headers, rows, numeric


# --------------------------------------------------------------------------------------------------
# terminal and Markdown


def history_renderable(report: HistoryReport, lang: Lang | str) -> Doc:
    title, span = _title(report, lang)
    doc = Doc([Line(f"{title}  {span}", bold=True), Line(_headline(report, lang))])
    if report.group_summary is not None and report.group_summary.height and report.by is not None:
        headers, rows, numeric = group_rows(report, lang)
        doc.add(grid_table(rows, headers, numeric=numeric, title=t("groups", lang, by=by_label(report.by, lang, inline=True))))
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        doc.add(grid_table(rows, headers, numeric=numeric, title=t("risk", lang, margin=num(report.margin))))
    else:
        doc.add(t("no_risk", lang))
    headers, rows, numeric = branch_rows(report, lang)
    doc.add(grid_table(rows, headers, numeric=numeric, title=t("branches", lang)))
    return doc


def history_markdown(report: HistoryReport, lang: Lang | str) -> str:
    title, span = _title(report, lang)
    out = [f"# {title}\n", f"{span}。\n" if str(lang) == Lang.zh else f"{span}.\n", _headline(report, lang) + "\n"]
    if report.group_summary is not None and report.group_summary.height and report.by is not None:
        headers, rows, numeric = group_rows(report, lang)
        out.append(f"## {t('groups', lang, by=by_label(report.by, lang))}\n")
        out.append(markdown_table(rows, headers, _align(numeric)))
    out.append(f"## {t('risk', lang, margin=num(report.margin))}\n")
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        out.append(markdown_table(rows, headers, _align(numeric)))
    else:
        out.append(t("no_risk", lang) + "\n")
    headers, rows, numeric = branch_rows(report, lang)
    out.append(f"## {t('branches', lang)}\n")
    out.append(markdown_table(rows, headers, _align(numeric)))
    return "\n".join(out)


def _align(numeric: Sequence[bool]) -> list[str]:
    return ["---:" if n else "---" for n in numeric]


# --------------------------------------------------------------------------------------------------
# machine-readable


def series_frame(report: HistoryReport) -> pl.DataFrame:
    """CSV ``--rows branches``: one row per branch and period (long format), chronological per branch."""
    frame = report.series
    base = ["period", "branch_id", "branch_name", "county", "township", "branch_type", "rank", "stars", "level",
            "total_points", "delta_stars", "delta_points", "streak", "gained", "lost"]
    stars = []
    for star in report.history.stars:
        for what in ("points", "awarded"):
            column = star_col(star, what)
            if column in frame.columns:
                stars.append(pl.col(column).alias(f"{star}_{what}"))
    tenure = [c for c in ("tenure_blocked", "tenure_unchecked") if hist.has_tenure(report.history.criteria)]
    return frame.sort(hist.PERIOD_INDEX, "branch_id").select(*base, *stars, *tenure)


def summary_frame(report: HistoryReport) -> pl.DataFrame:
    """CSV ``--rows summary``: one row per branch; series joined by ``;`` (empty where missing)."""
    frame = report.summary
    firsts = [c for c in frame.columns if c.startswith("first:")]
    return frame.select(
        "branch_id", "branch_name", "county", "township", "branch_type", "present_latest", "periods_present",
        "rank", "stars", "level", "total_points", "delta_stars", "delta_points", "streak",
        pl.col("stars_series").cast(pl.List(pl.String)).list.join(";", ignore_nulls=False).alias("stars_series"),
        pl.col("points_series").cast(pl.List(pl.String)).list.join(";", ignore_nulls=False).alias("points_series"),
        *(pl.col(c).alias(c.replace("first:", "first_")) for c in firsts),
    )


def groups_frame(report: HistoryReport) -> pl.DataFrame:
    """CSV ``--rows groups``: one row per group and period (long format)."""
    if report.groups is None:
        return pl.DataFrame()
    return report.groups.sort(hist.PERIOD_INDEX, "rank", "group").drop(hist.PERIOD_INDEX)


def risk_frame(report: HistoryReport) -> pl.DataFrame:
    """CSV ``--rows risk``: one row per star at risk."""
    return report.risk


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return num(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def _ids(text: str | None) -> list[str]:
    return [i for i in (text or "").split(";") if i]


def history_document(report: HistoryReport) -> dict[str, Any]:
    """JSON: periods, the long series, per-branch summaries, groups (long) and the at-risk list."""
    history = report.history
    series = series_frame(report).with_columns(
        pl.col("gained").str.split(";").list.eval(pl.element().filter(pl.element() != "")),
        pl.col("lost").str.split(";").list.eval(pl.element().filter(pl.element() != "")),
    )
    branches = []
    for row in report.summary.iter_rows(named=True):
        branches.append({
            "branch_id": row["branch_id"], "branch_name": row["branch_name"], "county": row["county"],
            "township": row["township"], "branch_type": row["branch_type"],
            "present_latest": row["present_latest"], "periods_present": row["periods_present"],
            "rank": row["rank"], "stars": row["stars"], "level": row["level"],
            "total_points": _clean(row["total_points"]), "delta_stars": row["delta_stars"],
            "delta_points": _clean(row["delta_points"]), "streak": row["streak"],
            "stars_series": row["stars_series"], "points_series": _clean(row["points_series"]),
            "sparkline": sparkline(row["stars_series"]),
            "first_awarded": {k[6:]: v for k, v in row.items() if k.startswith("first:") and v is not None},
            "tenure_blocked": _ids(row.get("tenure_blocked")), "tenure_unchecked": _ids(row.get("tenure_unchecked")),
        })
    risk = [
        {**{k: _clean(v) for k, v in row.items() if k not in ("reasons", "dependents")},
         "reasons": _ids(row["reasons"]), "dependents": _ids(row["dependents"])}
        for row in report.risk.iter_rows(named=True)
    ]
    return {
        "periods": [{"label": str(p), "canonical": p.canonical, "kind": p.kind.value, "source": str(s.path)}
                    for p, s in zip(history.periods, history.sources, strict=True)],
        "criteria": [{"id": c.id, "version": c.version} for c in history.criteria],
        "by": report.by,
        "margin": num(report.margin),
        "summary": {
            "branches": report.summary.height,
            "present_latest": report.summary.filter(pl.col("present_latest")).height,
            "at_risk_branches": report.risk.get_column("branch_id").n_unique() if report.risk.height else 0,
            "at_risk_stars": report.risk.filter(pl.col("star_id").is_not_null()).height,
        },
        "series": _records(series),
        "branches": branches,
        "groups": _records(groups_frame(report)) if report.groups is not None else None,
        "at_risk": risk,
        "warnings": [p.to_dict() for p in history.warnings],
    }


# --------------------------------------------------------------------------------------------------
# bulletin section (half-year bulletin): call from report.bulletin with --history


def bulletin_section(report: HistoryReport, lang: Lang | str, *, limit: int = 30) -> dict[str, Any]:
    """A bulletin section dict (``id``, ``heading``, ``paragraphs``, ``chart``, ``tables``, …) in the shape
    of ``report.bulletin._section``; its chart is ``history`` (see :func:`bulletin_charts`)."""
    labels = report.labels
    by = report.by or "township"
    paragraphs = [t("section_intro", lang, first=labels[0], last=labels[-1], n=len(labels), by=by_label(by, lang, inline=True)),
                  _headline(report, lang)]
    tables = []
    if report.group_summary is not None and report.group_summary.height:
        headers, rows, numeric = group_rows(report, lang)
        tables.append(_bulletin_table(headers, rows, numeric, t("groups", lang, by=by_label(by, lang, inline=True))))
    notes = []
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        table = _bulletin_table(headers, rows[:limit], numeric, t("risk", lang, margin=num(report.margin)))
        if len(rows) > limit:
            table["note"] = t("risk_limit", lang, n=limit, total=len(rows))
        tables.append(table)
    else:
        notes.append(t("no_risk", lang))
    return {"id": "history", "heading": t("section", lang), "paragraphs": paragraphs,
            "chart": "history" if report.group_summary is not None else None, "tables": tables,
            "subsections": [], "notes": notes}


def _bulletin_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool],
                    caption: str) -> dict[str, Any]:
    return {"caption": caption, "headers": list(headers),
            "align": ["right" if n else "left" for n in numeric],
            "rows": [["" if c is None else str(c) for c in row] for row in rows], "highlight": [], "note": None}


_FONT = ('"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",'
         '"WenQuanYi Micro Hei",sans-serif')
_RED, _INK, _GRID = "#b22222", "#333333", "#e3e3e3"


def _c(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def trend_chart(groups: Sequence[tuple[str, Sequence[float | None]]], labels: Sequence[str], title: str,
                columns: int = 4) -> str:
    """Small multiples: one line chart per group on a shared vertical scale (inline SVG, deterministic)."""
    if not groups or not labels:
        return ""
    values = [v for _, series in groups for v in series if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 1, high + 1
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    cell_w, cell_h, top = 170.0, 110.0, 36.0
    cols = max(1, min(columns, len(groups)))
    rows = (len(groups) + cols - 1) // cols
    width, height = cols * cell_w + 10, top + rows * cell_h + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_c(width)}" height="{_c(height)}" '
           f'viewBox="0 0 {_c(width)} {_c(height)}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
           f"style=\"font-family:{escape(_FONT, {chr(34): '&quot;'})}\">",
           f"<title>{escape(title)}</title>",
           f'<text x="{_c(width / 2)}" y="20.0" text-anchor="middle" font-size="15" font-weight="bold" '
           f'fill="{_INK}">{escape(title)}</text>']
    n = len(labels)
    for k, (name, series) in enumerate(groups):
        x0 = 10 + (k % cols) * cell_w
        y0 = top + (k // cols) * cell_h
        px0, px1, py0, py1 = x0 + 8, x0 + cell_w - 14, y0 + 24, y0 + cell_h - 22
        out.append(f'<text x="{_c(x0 + 8)}" y="{_c(y0 + 14)}" font-size="12" fill="{_INK}">{escape(name)}</text>')
        out.append(f'<line x1="{_c(px0)}" y1="{_c(py1)}" x2="{_c(px1)}" y2="{_c(py1)}" stroke="{_GRID}"/>')

        def xy(i: int, v: float, px0: float = px0, px1: float = px1, py0: float = py0, py1: float = py1
               ) -> tuple[float, float]:
            x = px0 + (px1 - px0) * (i / (n - 1) if n > 1 else 0.5)
            y = py1 - (py1 - py0) * (v - low) / (high - low)
            return x, y

        points = [(i, v) for i, v in enumerate(series) if v is not None]
        segments: list[list[tuple[float, float]]] = []
        for i, v in points:
            if segments and segments[-1] and i - 1 in [p for p, _ in points] and series[i - 1] is not None:
                segments[-1].append(xy(i, v))
            else:
                segments.append([xy(i, v)])
        for seg in segments:
            if len(seg) > 1:
                coords = " ".join(f"{_c(x)},{_c(y)}" for x, y in seg)
                out.append(f'<polyline points="{coords}" fill="none" stroke="{_RED}" stroke-width="2"/>')
        for i, v in points:
            x, y = xy(i, v)
            out.append(f'<circle cx="{_c(x)}" cy="{_c(y)}" r="2.5" fill="{_RED}"/>')
        if points:
            i, v = points[-1]
            x, y = xy(i, v)
            out.append(f'<text x="{_c(x)}" y="{_c(y - 6)}" text-anchor="end" font-size="10" '
                       f'fill="{_INK}">{v:.1f}</text>')
        out.append(f'<text x="{_c(px0)}" y="{_c(py1 + 14)}" font-size="9" fill="{_INK}">{escape(labels[0])}</text>')
        if n > 1:
            out.append(f'<text x="{_c(px1)}" y="{_c(py1 + 14)}" text-anchor="end" font-size="9" '
                       f'fill="{_INK}">{escape(labels[-1])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def bulletin_charts(report: HistoryReport, lang: Lang | str) -> dict[str, str]:
    """``{"history": <svg>}``: mean points per group over the periods (small multiples)."""
    if report.group_summary is None or report.group_summary.height == 0:
        return {"history": ""}
    by = report.by or "township"
    groups = [(row["group"] or "—", row["points_series"]) for row in report.group_summary.iter_rows(named=True)]
    return {"history": trend_chart(groups, report.labels, t("chart", lang, by=by_label(by, lang, inline=True)))}
