"""Shape scored results into the SPEC §5 outputs of ``wuxing score``: CSV columns, JSON, Markdown, tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from ..engine.breakdown import level_counts, star_counts
from ..engine.columns import star_col
from ..models.results import ScoreRun
from .grid import Doc
from .labels import Lang, clause_sep, label, level_label, list_sep, num, period_suffix, star_marks
from .tabular import grid_table, markdown_lines, markdown_table
from .xlsx import Col, Kind, Sheet, report_title, single_area

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


#: Rows turned into JSON branch objects at a time: the document is written as it is built.
JSON_SLICE_ROWS = 20_000


def score_document(run: ScoreRun, *, stream: bool = False) -> dict[str, Any]:
    """The ``score --format json`` document (SPEC §5).

    With ``stream`` the ``branches`` array is a :class:`~.json_stream.Streamed` that builds the branch
    objects a slice of rows at a time while :func:`~.json_stream.json_chunks` writes them (the same
    bytes as ``json_text`` of the whole document, in the memory of one slice).
    """
    from .json_stream import Streamed

    frame = run.frame
    levels = level_counts(frame, max((len(c.stars) for c in run.criteria), default=5))
    star_summary = star_counts(frame, star_ids(run))
    branches = Streamed(score_branch_texts(run), encoded=True) if stream else Streamed(score_branches(run))
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
        "branches": branches if stream else list(branches),
        "warnings": [p.format() for p in run.warnings],
    }


def score_branches(run: ScoreRun, slice_rows: int | None = None) -> Iterator[dict[str, Any]]:
    """The branch objects of the JSON document in rank order, built ``slice_rows`` (default
    :data:`JSON_SLICE_ROWS`) rows at a time."""
    slice_rows = slice_rows or JSON_SLICE_ROWS
    frame = run.frame
    optional = present_optional(frame)
    stars = {c.id: (c.id, [_StarKeys(s) for s in c.stars]) for c in run.criteria}
    has_group = "group_rank" in frame.columns
    for offset in range(0, frame.height, slice_rows):
        for row in frame.slice(offset, slice_rows).iter_rows(named=True):
            yield _branch_item(row, *stars[row["criteria_id"]], optional, has_group)


def score_branch_texts(run: ScoreRun, slice_rows: int | None = None) -> Iterator[str]:
    """The JSON texts of :func:`score_branches` (as the ``branches`` array's elements: level 2), filled
    into one template per criteria from the columns of each slice, without building the objects."""
    from .json_stream import Template

    slice_rows = slice_rows or JSON_SLICE_ROWS
    frame = run.frame
    optional = present_optional(frame)
    has_group = "group_rank" in frame.columns
    templates = {c.id: Template(_branch_shape(c, optional, has_group), 2) for c in run.criteria}
    for offset in range(0, frame.height, slice_rows):
        chunk = frame.slice(offset, slice_rows)
        ids = chunk["criteria_id"].to_list()
        kinds = set(ids)
        if len(kinds) == 1:
            template = templates[ids[0]]
            yield from template.fill({s.column: chunk[s.column].to_list() for s in template.slots})
            continue
        texts: list[str] = [""] * chunk.height
        for kind in kinds:
            template = templates[kind]
            part = chunk.filter(pl.col("criteria_id") == kind)
            where = [n for n, value in enumerate(ids) if value == kind]
            filled = template.fill({s.column: part[s.column].to_list() for s in template.slots})
            for n, text in zip(where, filled, strict=True):
                texts[n] = text
        yield from texts


def _branch_shape(criteria: Any, optional: list[str], has_group: bool) -> dict[str, Any]:
    """What :func:`_branch_item` builds, with a :class:`~.json_stream.Slot` where a row's value goes."""
    from .json_stream import Slot

    shape: dict[str, Any] = {"rank": Slot("rank")}
    if has_group:
        shape["group_rank"] = Slot("group_rank")
    shape["branch_id"] = Slot("branch_id")
    shape["branch_name"] = Slot("branch_name")
    for col in optional:
        shape[col] = Slot(col)
    shape["criteria"] = criteria.id
    shape["stars"] = Slot("stars")
    shape["level"] = Slot("level")
    shape["total_points"] = Slot("total_points", num, by_value=True)
    shape["star_results"] = [
        {
            "id": star.id,
            "name": star.name,
            "points": Slot(star.points, num, by_value=True),
            "max_points": star.max_points,
            "pass_mark": star.pass_mark,
            "earned": Slot(star.earned),
            "awarded": Slot(star.awarded),
            "vetoes": Slot(star.vetoes, _split),
            "required_failed": Slot(star.required_failed, _split),
            "near": Slot(star.near),
            "gap": Slot(star.gap, _gap, by_value=True),
        }
        for star in map(_StarKeys, criteria.stars)
    ]
    shape["capped_by"] = Slot("capped_by", _split)
    shape["missing"] = Slot("missing", _split)
    return shape


def _gap(value: Any) -> Any:
    return num(max(value, 0.0))


class _StarKeys:
    """One star's constant JSON values and the names of its result columns."""

    __slots__ = ("awarded", "earned", "gap", "id", "max_points", "name", "near", "pass_mark", "points",
                 "required_failed", "vetoes")

    def __init__(self, star: Any) -> None:
        self.id: str = star.id
        self.name: str = star.name
        self.max_points: Any = num(star.total_points)
        self.pass_mark: Any = num(star.pass_mark)
        self.points, self.earned, self.awarded, self.vetoes, self.required_failed, self.near, self.gap = (
            star_col(star.id, result)
            for result in ("points", "earned", "awarded", "vetoes", "required_failed", "near", "gap"))


def _branch_item(row: dict[str, Any], criteria_id: str, stars: list[_StarKeys], optional: list[str],
                 has_group: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"rank": row["rank"]}
    if has_group:
        item["group_rank"] = row["group_rank"]
    item["branch_id"] = row["branch_id"]
    item["branch_name"] = row["branch_name"]
    for col in optional:
        item[col] = row[col]
    item["criteria"] = criteria_id
    item["stars"] = row["stars"]
    item["level"] = row["level"]
    item["total_points"] = num(row["total_points"])
    item["star_results"] = [
        {
            "id": star.id,
            "name": star.name,
            "points": num(row[star.points]),
            "max_points": star.max_points,
            "pass_mark": star.pass_mark,
            "earned": row[star.earned],
            "awarded": row[star.awarded],
            "vetoes": _split(row[star.vetoes]),
            "required_failed": _split(row[star.required_failed]),
            "near": row[star.near],
            "gap": _gap(row[star.gap]),
        }
        for star in stars
    ]
    item["capped_by"] = _split(row["capped_by"])
    item["missing"] = _split(row["missing"])
    return item


def _display_rows(run: ScoreRun, lang: Lang) -> tuple[list[str], Iterator[list[Any]], list[bool]]:
    """Headers, the rows (built a slice of :data:`JSON_SLICE_ROWS` rows at a time) and which are numeric."""
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
    return headers, _display_cells(frame, lang, stars, optional), numeric


def _display_cells(frame: pl.DataFrame, lang: Lang, stars: list[str], optional: list[str]) -> Iterator[list[Any]]:
    for row in (row for offset in range(0, frame.height, JSON_SLICE_ROWS)
                for row in frame.slice(offset, JSON_SLICE_ROWS).iter_rows(named=True)):
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
        yield cells


def score_markdown(run: ScoreRun, lang: Lang) -> str:
    """``score -f md`` as one string (the pieces of :func:`score_markdown_chunks` joined)."""
    return "".join(score_markdown_chunks(run, lang))


def score_markdown_chunks(run: ScoreRun, lang: Lang) -> Iterator[str]:
    """``score -f md`` piece by piece: the table a row at a time, built a slice of rows at a time."""
    headers, rows, numeric = _display_rows(run, lang)
    title = label("score_title", lang)
    period = period_suffix(run.period, lang)
    align = ["---:" if n else "---" for n in numeric]
    text = f"# {title}{period}\n\n{label('branches_scored', lang, n=run.frame.height)}"
    if run.data.rejected:
        text += clause_sep(lang)
        text += label("rejected_rows", lang, n=len(run.data.rejected))
    yield text + "\n\n"
    yield from markdown_lines(rows, headers, align)
    yield rejected_markdown(run, lang)


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


def rejected_sheets(run: ScoreRun, lang: Lang) -> list[Sheet]:
    """The xlsx sheet of rejected rows: 行号, 支部编码, 原因 (none when no row was rejected)."""
    rows = run.data.rejected
    if not rows:
        return []
    columns = [Col(label("line", lang), Kind.int), Col(label("branch_id", lang)), Col(label("reasons", lang))]
    values: list[list[Any]] = [[r.line for r in rows], [r.branch_id for r in rows],
                               ["; ".join(r.reasons) for r in rows]]
    return [Sheet(label("rejected_sheet", lang), columns, values)]


# ---- xlsx: a report sheet with Chinese (or English) headers, star names, 是/否 and names, not ids ---


def _names(run: ScoreRun) -> dict[str, tuple[dict[str, str], dict[str, str], dict[str, str]]]:
    """Per criteria id: veto, cap and field names by id (a field by its column header as the form shows
    it, a derived field by its name)."""
    out = {}
    for c in run.criteria:
        vetoes: dict[str, str] = {}
        for star in c.stars:
            for veto in star.vetoes:
                vetoes.setdefault(veto.id, veto.name)
        out[c.id] = (vetoes, {cap.id: cap.name for cap in c.caps}, {f: spec.header or spec.name or f for f, spec in c.fields.items()})
    return out


def _named(ids: str | None, names: dict[str, str], lang: Lang) -> str | None:
    return list_sep(lang).join(names.get(i, i) for i in _split(ids)) or None


def score_sheet_columns(run: ScoreRun, frame: pl.DataFrame, lang: Lang
                        ) -> tuple[list[Col], list[list[Any]]]:
    """The columns of the results sheet and their cells, from a scored ``frame`` in its row order."""
    names = _names(run)
    star_name = star_names(run)
    columns: list[Col] = [Col(label("rank", lang), Kind.int)]
    values: list[list[Any]] = [frame["rank"].to_list()]
    if "group_rank" in frame.columns:
        columns.append(Col(label("group_rank", lang), Kind.int))
        values.append(frame["group_rank"].to_list())
    for key in ("branch_id", "branch_name", *present_optional(frame)):
        columns.append(Col(label(key, lang)))
        values.append(frame[key].to_list())
    columns += [Col(label("stars", lang), Kind.int), Col(label("level", lang)),
                Col(label("total_points", lang), Kind.points)]
    stars = frame["stars"].to_list()
    values += [stars, [level_label(n, lang, lv) for n, lv in zip(stars, frame["level"].to_list(), strict=True)],
               frame["total_points"].to_list()]
    for sid in star_ids(run):
        name = star_name[sid]
        columns += [Col(label("star_points", lang, name=name), Kind.points),
                    Col(label("star_awarded", lang, name=name), Kind.yesno)]
        values += [frame[star_col(sid, "points")].to_list(), frame[star_col(sid, "awarded")].to_list()]
    criteria_ids = frame["criteria_id"].to_list()
    for key, which in (("vetoes", 0), ("capped_by", 1), ("missing", 2)):
        columns.append(Col(label(key, lang)))
        values.append([_named(ids, names[cid][which], lang) if cid in names else ids
                       for ids, cid in zip(frame[key].to_list(), criteria_ids, strict=True)])
    return columns, values


def sheet_title(what: str, run: ScoreRun, lang: Lang) -> str:
    """A report sheet's title row: what, the area (the one county of the data), the period, the criteria."""
    county = run.frame["county"].unique().to_list() if "county" in run.frame.columns else None
    return report_title(what, lang, area=single_area(county), period=run.period, criteria=run.criteria)


def score_sheets(run: ScoreRun, lang: Lang) -> list[Sheet]:
    """``score -f xlsx``: the results (a report sheet, 评星结果) and the rejected rows, if any."""
    columns, values = score_sheet_columns(run, run.frame, lang)
    sheet = Sheet(label("score_sheet", lang), columns, values, title=sheet_title(label("score_title", lang), run, lang))
    return [sheet, *rejected_sheets(run, lang)]


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
