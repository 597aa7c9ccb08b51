"""Renderers of ``wuxing history``: terminal tables with sparklines, long CSV/JSON, Markdown, and the
bulletin's history section (with per-group trend charts as inline SVG)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..engine import history as hist
from ..engine.breakdown import at_risk_per_group
from ..engine.columns import star_col
from ..models.results import History
from .grid import Doc, Line
from .labels import Lang, by_label, clause_sep, label, level_label, list_sep, num
from .svg import trend_chart
from .tabular import grid_table, markdown_table

SPARK = "▁▂▃▄▅▆▇█"
GAP = "·"

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
            gsum = at_risk_per_group(gsum, risk, by=by)
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
            out.append(label("r_margin", lang))
        elif code == "falling":
            out.append(label("r_falling", lang))
        elif code.startswith("veto:"):
            out.append(label("r_veto", lang, name=names.get(code, code[5:])))
        elif code.startswith("cap:"):
            out.append(label("r_cap", lang, name=names.get(code, code[4:])))
        else:
            out.append(code)
    return clause_sep(lang).join(out)


def _star_names(ids: str, history: History) -> str:
    return "、".join(history.star_name(i) for i in ids.split(";") if i)


def _level(stars: int | None, text: str | None, lang: Lang | str) -> str:
    if stars is None:
        return ""
    return level_label(stars, lang, text or "")


def _notes(row: Mapping[str, Any], history: History, lang: Lang | str) -> str:
    notes = []
    if not row["present_latest"]:
        notes.append(label("n_absent", lang))
    elif row.get("periods_present") == 1 and len(history.labels) > 1:
        notes.append(label("n_new", lang))
    if row["present_latest"] and row.get("gained"):
        notes.append(label("n_gained", lang, ids=_star_names(row["gained"], history)))
    if row["present_latest"] and row.get("lost"):
        notes.append(label("n_lost", lang, ids=_star_names(row["lost"], history)))
    risk = row.get("risk")
    if risk:
        notes.append(label("n_risk", lang, ids=risk))
    if row.get("tenure_blocked"):
        notes.append(label("n_blocked", lang, ids=_star_names(row["tenure_blocked"], history)))
    if row.get("tenure_unchecked"):
        notes.append(label("n_unchecked", lang, ids=_star_names(row["tenure_unchecked"], history)))
    return clause_sep(lang).join(notes)


def _series_text(values: Sequence[Any]) -> str:
    return " ".join(GAP if v is None else str(v) for v in values)


def _points_series_text(values: Sequence[float | None]) -> str:
    return "→".join(GAP if v is None else f"{v:.1f}" for v in values)


def _headline(report: HistoryReport, lang: Lang | str) -> str:
    latest = report.summary.filter(pl.col("present_latest"))
    up = latest.filter(pl.col("delta_stars") > 0).height if "delta_stars" in latest.columns else 0
    down = latest.filter(pl.col("delta_stars") < 0).height if "delta_stars" in latest.columns else 0
    key = "history_summary" if len(report.labels) > 1 else "history_summary_one"
    return label(key, lang, branches=report.summary.height, up=up, down=down,
             risk=report.risk.get_column("branch_id").n_unique() if report.risk.height else 0,
             stars=report.risk.filter(pl.col("star_id").is_not_null()).height)


def _title(report: HistoryReport, lang: Lang | str) -> tuple[str, str]:
    labels = report.labels
    if len(labels) == 1:
        return label("history_title", lang), label("history_span_one", lang, first=labels[0])
    return label("history_title", lang), label("history_span", lang, first=labels[0], last=labels[-1], n=len(labels))


# ---- rows of each table (texts), shared by the terminal and Markdown renderers


def group_rows(report: HistoryReport, lang: Lang | str) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.group_summary is not None and report.by is not None
    headers = [label("rank", lang), by_label(report.by, lang), label("branches", lang), label("stars_trend", lang),
               label("mean_stars", lang), label("points_trend", lang), label("mean_points", lang), label("delta_previous", lang),
               label("rank_change", lang), label("share_3plus", lang), label("at_risk", lang)]
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
    headers = [label("branch_name", lang), label("township", lang), label("level", lang), label("star", lang),
               label("points", lang), label("pass_mark", lang), label("cushion", lang), label("recent_points", lang),
               label("risk_reasons", lang), label("risk_dependents", lang)]
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
    headers = [label("rank", lang), label("branch_name", lang), label("township", lang), label("stars_trend", lang), label("stars_series", lang),
               label("level", lang), label("total_points", lang), label("delta_previous", lang), label("streak", lang), label("notes", lang)]
    rows = []
    at_risk: dict[str, list[str]] = {}
    for item in report.risk.iter_rows(named=True):
        name = item["star_name"] or reason_text(item["reasons"], report.history, lang)
        at_risk.setdefault(item["branch_id"], []).append(name)
    sep = list_sep(lang)
    for row in report.summary.iter_rows(named=True):
        present = row["present_latest"]
        row["risk"] = sep.join(at_risk.get(row["branch_id"], []))
        rows.append([
            row["rank"] if present else "", row["branch_name"], row["township"] or "",
            sparkline(row["stars_series"]), _series_text(row["stars_series"]),
            _level(row["stars"], row["level"], lang) if present else "",
            _fmt(row["total_points"]) if present else "",
            _signed(row["delta_points"]) if present else "",
            label("streak_n", lang, n=row["streak"]) if present else "",
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
        doc.add(grid_table(rows, headers, numeric=numeric, title=label("history_groups", lang, by=by_label(report.by, lang, inline=True))))
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        doc.add(grid_table(rows, headers, numeric=numeric, title=label("history_risk", lang, margin=num(report.margin))))
    else:
        doc.add(label("history_no_risk", lang))
    headers, rows, numeric = branch_rows(report, lang)
    doc.add(grid_table(rows, headers, numeric=numeric, title=label("history_branches", lang)))
    return doc


def history_markdown(report: HistoryReport, lang: Lang | str) -> str:
    title, span = _title(report, lang)
    out = [f"# {title}\n", f"{span}。\n" if str(lang) == Lang.zh else f"{span}.\n", _headline(report, lang) + "\n"]
    if report.group_summary is not None and report.group_summary.height and report.by is not None:
        headers, rows, numeric = group_rows(report, lang)
        out.append(f"## {label('history_groups', lang, by=by_label(report.by, lang))}\n")
        out.append(markdown_table(rows, headers, _align(numeric)))
    out.append(f"## {label('history_risk', lang, margin=num(report.margin))}\n")
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        out.append(markdown_table(rows, headers, _align(numeric)))
    else:
        out.append(label("history_no_risk", lang) + "\n")
    headers, rows, numeric = branch_rows(report, lang)
    out.append(f"## {label('history_branches', lang)}\n")
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
    paragraphs = [label("history_section_intro", lang, first=labels[0], last=labels[-1], n=len(labels), by=by_label(by, lang, inline=True)),
                  _headline(report, lang)]
    tables = []
    if report.group_summary is not None and report.group_summary.height:
        headers, rows, numeric = group_rows(report, lang)
        tables.append(_bulletin_table(headers, rows, numeric, label("history_groups", lang, by=by_label(by, lang, inline=True))))
    notes = []
    if report.risk.height:
        headers, rows, numeric = risk_rows(report, lang)
        table = _bulletin_table(headers, rows[:limit], numeric, label("history_risk", lang, margin=num(report.margin)))
        if len(rows) > limit:
            table["note"] = label("history_risk_limit", lang, n=limit, total=len(rows))
        tables.append(table)
    else:
        notes.append(label("history_no_risk", lang))
    return {"id": "history", "heading": label("history_section", lang), "paragraphs": paragraphs,
            "chart": "history" if report.group_summary is not None else None, "tables": tables,
            "subsections": [], "notes": notes}


def _bulletin_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[bool],
                    caption: str) -> dict[str, Any]:
    return {"caption": caption, "headers": list(headers),
            "align": ["right" if n else "left" for n in numeric],
            "rows": [["" if c is None else str(c) for c in row] for row in rows], "highlight": [], "note": None}


def bulletin_charts(report: HistoryReport, lang: Lang | str) -> dict[str, str]:
    """``{"history": <svg>}``: mean points per group over the periods (small multiples)."""
    if report.group_summary is None or report.group_summary.height == 0:
        return {"history": ""}
    by = report.by or "township"
    groups = [(row["group"] or "—", row["points_series"]) for row in report.group_summary.iter_rows(named=True)]
    return {"history": trend_chart(groups, report.labels, label("history_chart", lang, by=by_label(by, lang, inline=True)))}
