"""Shape scored results into the SPEC §5 outputs of ``wuxing score``: CSV columns, JSON, Markdown, tables."""

from __future__ import annotations

from typing import Any

import polars as pl

from ..engine.breakdown import level_counts, star_counts
from ..engine.columns import star_col
from ..models.results import ScoreRun
from .grid import Doc
from .labels import Lang, clause_sep, label, level_label, num, period_suffix, star_marks
from .tabular import grid_table, markdown_table

OPTIONAL = ("county", "township", "branch_type", "period")


def star_ids(run: ScoreRun) -> list[str]:
    """Star ids of every criteria in the run, in first-appearance order."""
    seen: dict[str, None] = {}
    for criteria in run.criteria:
        for star in criteria.stars:
            seen.setdefault(star.id, None)
    return list(seen)


def star_names(run: ScoreRun) -> dict[str, str]:
    names: dict[str, str] = {}
    for criteria in run.criteria:
        for star in criteria.stars:
            names.setdefault(star.id, star.name)
    return names


def present_optional(frame: pl.DataFrame) -> list[str]:
    """The optional reserved columns the data actually had."""
    return [c for c in OPTIONAL if c in frame.columns and frame[c].null_count() < frame.height]


def score_frame(run: ScoreRun) -> pl.DataFrame:
    """The ``score --format csv`` table (SPEC §5) in rank order."""
    frame = run.frame
    stars = star_ids(run)
    head = ["rank"] + (["group_rank"] if "group_rank" in frame.columns else []) + ["branch_id", "branch_name"]
    cols: list[pl.Expr] = [pl.col(c) for c in head]
    cols += [pl.col(c) for c in present_optional(frame)]
    cols += [pl.col("stars"), pl.col("level"), pl.col("total_points")]
    for sid in stars:
        cols.append(pl.col(star_col(sid, "points")).alias(f"{sid}_points"))
        cols.append(pl.col(star_col(sid, "earned")).alias(f"{sid}_earned"))
    cols += [pl.col("vetoes"), pl.col("missing")]
    return frame.select(cols)


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(";") if v]


def score_document(run: ScoreRun) -> dict[str, Any]:
    """The ``score --format json`` document (SPEC §5)."""
    frame = run.frame
    levels = level_counts(frame, max((len(c.stars) for c in run.criteria), default=5))
    star_summary = star_counts(frame, star_ids(run))
    optional = present_optional(frame)
    branches = []
    by_id = {c.id: c for c in run.criteria}
    for row in frame.iter_rows(named=True):
        criteria = by_id[row["criteria_id"]]
        item: dict[str, Any] = {"rank": row["rank"]}
        if "group_rank" in row:
            item["group_rank"] = row["group_rank"]
        item["branch_id"] = row["branch_id"]
        item["branch_name"] = row["branch_name"]
        for col in optional:
            item[col] = row[col]
        item["criteria"] = criteria.id
        item["stars"] = row["stars"]
        item["level"] = row["level"]
        item["total_points"] = num(row["total_points"])
        results = []
        for star in criteria.stars:
            results.append({
                "id": star.id,
                "name": star.name,
                "points": num(row[star_col(star.id, "points")]),
                "max_points": num(star.total_points),
                "pass_mark": num(star.pass_mark),
                "earned": row[star_col(star.id, "earned")],
                "awarded": row[star_col(star.id, "awarded")],
                "vetoes": _split(row[star_col(star.id, "vetoes")]),
                "required_failed": _split(row[star_col(star.id, "required_failed")]),
                "near": row[star_col(star.id, "near")],
                "gap": num(max(row[star_col(star.id, "gap")], 0.0)),
            })
        item["star_results"] = results
        item["capped_by"] = _split(row["capped_by"])
        item["missing"] = _split(row["missing"])
        branches.append(item)
    summary: dict[str, Any] = {
        "branches": frame.height,
        "rows_read": run.data.rows_read,
        "levels": levels,
        "stars": star_summary,
        "rejected": [
            {"line": r.line, "branch_id": r.branch_id, "reasons": list(r.reasons)} for r in run.data.rejected
        ],
    }
    return {
        "criteria": [{"id": c.id, "version": c.version} for c in run.criteria],
        "period": run.period,
        "summary": summary,
        "branches": branches,
        "warnings": [p.format() for p in run.warnings],
    }


def _display_rows(run: ScoreRun, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    frame = score_frame(run)
    names = star_names(run)
    stars = star_ids(run)
    optional = [c for c in present_optional(run.frame) if c in ("township",)]
    headers = [label("rank", lang)]
    if "group_rank" in frame.columns:
        headers.append(label("group_rank", lang))
    headers += [label("branch_id", lang), label("branch_name", lang)]
    headers += [label(c, lang) for c in optional]
    headers += [label("level", lang), label("total_points", lang)]
    headers += [names[s].removesuffix("星") if lang == Lang.zh else s for s in stars]
    headers += [label("vetoes", lang), label("missing", lang)]
    numeric = [True] * (2 if "group_rank" in frame.columns else 1) + [False, False] + [False] * len(optional)
    numeric += [False, True] + [True] * len(stars) + [False, False]
    rows = []
    for row in frame.iter_rows(named=True):
        cells: list[Any] = [row["rank"]]
        if "group_rank" in row:
            cells.append(row["group_rank"])
        cells += [row["branch_id"], row["branch_name"]]
        cells += [row[c] for c in optional]
        marks = star_marks(row["stars"])
        cells.append(f"{marks} {level_label(row['stars'], lang, row['level'])}")
        cells.append(num(row["total_points"]))
        for sid in stars:
            points = row.get(f"{sid}_points")
            if points is None:
                cells.append("")
            else:
                cells.append(f"{num(points)}{'✓' if row[f'{sid}_earned'] else ''}")
        cells += [row["vetoes"], row["missing"]]
        rows.append(cells)
    return headers, rows, numeric


def score_markdown(run: ScoreRun, lang: Lang) -> str:
    headers, rows, numeric = _display_rows(run, lang)
    title = label("score_title", lang)
    period = period_suffix(run.period, lang)
    align = ["---:" if n else "---" for n in numeric]
    text = f"# {title}{period}\n\n{label('branches_scored', lang, n=run.frame.height)}"
    if run.data.rejected:
        text += clause_sep(lang)
        text += label("rejected_rows", lang, n=len(run.data.rejected))
    return text + "\n\n" + markdown_table(rows, headers, align) + rejected_markdown(run, lang)


def short_star_name(name: str, star_id: str, lang: Lang) -> str:
    """A 2-character Chinese abbreviation (支部过硬星 → 支部), or the id in English."""
    return name.removesuffix("星")[:2] if lang == Lang.zh else star_id


def score_renderable(run: ScoreRun, lang: Lang) -> Doc:
    """A terminal table narrow enough for 100 columns: stars held are listed by short name."""
    frame = run.frame
    names = star_names(run)
    has_group = "group_rank" in frame.columns
    has_township = "township" in present_optional(frame)
    headers = [label("rank", lang)] + ([label("group_rank", lang)] if has_group else [])
    headers += [label("branch_name", lang)] + ([label("township", lang)] if has_township else [])
    headers += [label("level", lang), label("total_points", lang), label("stars_held", lang), label("notes", lang)]
    numeric = [True] + ([True] if has_group else []) + [False] + ([False] if has_township else [])
    numeric += [False, True, False, False]
    by_id = {c.id: c for c in run.criteria}
    rows = []
    for row in frame.iter_rows(named=True):
        criteria = by_id[row["criteria_id"]]
        held = [short_star_name(s.name, s.id, lang) for s in criteria.stars if row[star_col(s.id, "awarded")]]
        notes = []
        if row["vetoes"]:
            notes.append(label("note_veto", lang, ids=row["vetoes"]))
        if row["capped_by"]:
            notes.append(label("note_cap", lang, ids=row["capped_by"]))
        if row["missing"]:
            notes.append(label("note_missing", lang, n=len(row["missing"].split(";"))))
        cells: list[Any] = [row["rank"]] + ([row["group_rank"]] if has_group else [])
        cells += [row["branch_name"]] + ([row["township"]] if has_township else [])
        cells += [star_marks(row["stars"], len(criteria.stars)),
                  f"{row['total_points']:.2f}", " ".join(held), clause_sep(lang).join(notes)]
        rows.append(cells)
    del names
    period = f" {run.period}" if run.period else ""
    table = grid_table(rows, headers, title=label("score_title", lang) + period, numeric=numeric)
    note = label("branches_scored", lang, n=frame.height)
    if run.data.rejected:
        note += clause_sep(lang) + label("rejected_rows", lang, n=len(run.data.rejected))
    return with_rejected(Doc([table]).add(note), run, lang)


# ---- the rows --skip-invalid left out: listed in every format (stderr for CSV and Parquet) ----------


def rejected_frame(run: ScoreRun) -> pl.DataFrame:
    """The rows ``--skip-invalid`` left out: line, branch id and every reason (the xlsx sheet)."""
    rows = run.data.rejected
    return pl.DataFrame(
        {"line": [r.line for r in rows], "branch_id": [r.branch_id for r in rows],
         "reasons": ["; ".join(r.reasons) for r in rows]},
        schema={"line": pl.Int64, "branch_id": pl.String, "reasons": pl.String},
    )


def rejected_sheets(run: ScoreRun, lang: Lang) -> dict[str, pl.DataFrame]:
    """The xlsx sheet of rejected rows (none when no row was rejected)."""
    return {label("rejected_sheet", lang): rejected_frame(run)} if run.data.rejected else {}


def _rejected_rows(run: ScoreRun, lang: Lang) -> tuple[list[str], list[list[Any]]]:
    headers = [label("line", lang), label("branch_id", lang), label("reasons", lang)]
    return headers, [[r.line, r.branch_id or "", "; ".join(r.reasons)] for r in run.data.rejected]


def rejected_markdown(run: ScoreRun, lang: Lang) -> str:
    """A section after the tables naming each rejected row ("" when none was)."""
    if not run.data.rejected:
        return ""
    headers, rows = _rejected_rows(run, lang)
    return f"\n## {label('rejected_title', lang)}\n\n" + markdown_table(rows, headers, ["---:", "---", "---"])


def with_rejected(doc: Doc, run: ScoreRun, lang: Lang) -> Doc:
    """``doc`` and, when rows were rejected, a table naming each of them."""
    if run.data.rejected:
        headers, rows = _rejected_rows(run, lang)
        doc.add("").add(grid_table(rows, headers, title=label("rejected_title", lang), numeric=[True, False, False]))
    return doc
