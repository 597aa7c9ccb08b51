"""Shape ``diff`` results (periods, sources, criteria): JSON, CSV, Markdown and terminal tables.

Pure: :mod:`wuxing_cli.engine.compare` matched the branches and aggregated the groups; this module
only formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from ..engine import compare
from ..engine.breakdown import with_overstatement
from ..engine.rank import MAX_LEVEL, Metric
from ..models.results import ScoreRun
from .grid import Doc, Grid, Line
from .labels import Lang, by_label, label, level_names, list_sep, num, pct, rank_change_text, signed
from .score import JSON_SLICE_ROWS, star_ids, star_names
from .tabular import ending_in_one_newline, markdown_lines, narrow_table

DiffMode = Literal["periods", "sources", "criteria"]


@dataclass(frozen=True)
class DiffReport:
    mode: DiffMode
    label_old: str
    label_new: str
    old: ScoreRun
    new: ScoreRun
    cmp: pl.DataFrame
    levels: int
    by: str | None = None
    groups: pl.DataFrame | None = None
    over: pl.DataFrame | None = None
    over_groups: pl.DataFrame | None = None
    show_all: bool = False
    performance: bool = False  # criteria mode with data that changed too


def _star_ids(runs: Sequence[ScoreRun]) -> list[str]:
    seen: dict[str, None] = {}
    for run in runs:
        for sid in star_ids(run):
            seen.setdefault(sid, None)
    return list(seen)


def _star_names(runs: Sequence[ScoreRun]) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in runs:
        for sid, name in star_names(run).items():
            names.setdefault(sid, name)
    return names


def _indicator_names(runs: Sequence[ScoreRun]) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in runs:
        for criteria in run.criteria:
            for star in criteria.stars:
                for ind in star.indicators:
                    names.setdefault(f"{star.id}:{ind.id}", ind.name)
    return names


def build_diff(
    mode: DiffMode,
    old: ScoreRun,
    new: ScoreRun,
    *,
    label_old: str,
    label_new: str,
    by: str | None = None,
    metric: Metric = Metric.mean_points,
    same_rules: ScoreRun | None = None,
    show_all: bool = False,
) -> DiffReport:
    """Compare ``old`` → ``new``. In criteria mode ``same_rules`` is the new data under the old criteria."""
    runs = [old, new] if same_rules is None else [old, same_rules, new]
    stars = _star_ids(runs)
    levels = max([MAX_LEVEL, *(len(c.stars) for r in runs for c in r.criteria)])
    if mode == "criteria":
        middle = same_rules if same_rules is not None else old
        cmp = compare.decompose(old.frame, middle.frame, new.frame, stars)
    else:
        cmp = compare.compare_runs(old.frame, new.frame, stars)
    groups = compare.group_changes(old.frame, new.frame, by, metric=metric) if by is not None else None
    over = over_groups = None
    if mode == "sources":
        over = compare.overstatement(old.frame, new.frame, by=by or "township")
        over_groups = compare.group_overstatement(over)
    return DiffReport(mode=mode, label_old=label_old, label_new=label_new, old=old, new=new, cmp=cmp,
                      levels=levels, by=by, groups=groups, over=over, over_groups=over_groups, show_all=show_all,
                      performance=same_rules is not None and same_rules is not old)


_SPEC_BRANCH_KEYS = ("branch_id", "branch_name", "status", "stars_old", "stars_new", "delta_stars", "points_old",
                     "points_new", "delta_points", "gained", "lost")
_EXTRA_BRANCH_KEYS = ("county", "township", "township_old", "level_old", "level_new")
_CRITERIA_KEYS = ("delta_stars_rule", "delta_points_rule", "delta_stars_performance", "delta_points_performance",
                  "rule_gained", "rule_lost")


def diff_summary(report: DiffReport) -> dict[str, Any]:
    counts = compare.status_counts(report.cmp)
    matrix = compare.transition_frame(report.cmp, report.levels)
    return {
        "branches_old": report.old.frame.height,
        "branches_new": report.new.frame.height,
        "matched": counts["up"] + counts["down"] + counts["same"],
        **counts,
        "transitions": compare.transition_matrix(report.cmp),
        "matrix": [list(row[1:]) for row in matrix.iter_rows()],
    }


def diff_frame(report: DiffReport) -> pl.DataFrame:
    """``diff -f csv``: one row per branch (SPEC keys first); sources mode adds the overstatement columns."""
    keys = list(_SPEC_BRANCH_KEYS) + list(_EXTRA_BRANCH_KEYS)
    if report.mode == "criteria":
        keys += list(_CRITERIA_KEYS)
    frame = report.cmp.select(keys)
    return with_overstatement(frame, report.over) if report.over is not None else frame


def diff_groups_frame(report: DiffReport) -> pl.DataFrame:
    """``diff -f csv --rows groups``: per-group overstatement (sources) or per-group changes (``--by``)."""
    if report.over_groups is not None:
        return report.over_groups
    if report.groups is not None:
        return report.groups
    return pl.DataFrame(schema={"group": pl.String})


def _branch_item(row: dict[str, Any], mode: DiffMode) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for key in _SPEC_BRANCH_KEYS + _EXTRA_BRANCH_KEYS + (_CRITERIA_KEYS if mode == "criteria" else ()):
        value = row[key]
        item[key] = num(value) if isinstance(value, float) else value
    return item


def diff_document(report: DiffReport, *, stream: bool = False) -> dict[str, Any]:
    """``diff -f json`` (SPEC §5 keys, plus ``mode``, ``matrix``, ``groups`` and ``overstatement``);
    ``stream``: the branches as a :class:`~.json_stream.Streamed` array built a slice of rows at a time."""
    from . import score
    from .json_stream import Streamed

    cmp, rows = report.cmp, score.JSON_SLICE_ROWS
    branches = Streamed(
        _branch_item(row, report.mode)
        for offset in range(0, cmp.height, rows)
        for row in cmp.slice(offset, rows).iter_rows(named=True)
    )
    document: dict[str, Any] = {
        "mode": report.mode,
        "from": report.label_old,
        "to": report.label_new,
        "criteria": {
            "from": [{"id": c.id, "version": c.version} for c in report.old.criteria],
            "to": [{"id": c.id, "version": c.version} for c in report.new.criteria],
        },
        "summary": diff_summary(report),
        "branches": branches if stream else list(branches),
    }
    if report.groups is not None:
        document["by"] = report.by
        document["groups"] = [{k: num(v) if isinstance(v, float) else v for k, v in row.items()}
                              for row in report.groups.iter_rows(named=True)]
    if report.over is not None and report.over_groups is not None:
        document["overstatement"] = {
            "summary": _over_summary(report),
            "groups": [{k: num(v) if isinstance(v, float) else v for k, v in row.items()}
                       for row in report.over_groups.iter_rows(named=True)],
            "branches": [
                {
                    "branch_id": row["branch_id"],
                    "branch_name": row["branch_name"],
                    "group": row["group"],
                    "stars_claimed": row["stars_claimed"],
                    "stars_verified": row["stars_verified"],
                    "over_stars": row["over_stars"],
                    "points_claimed": num(row["points_claimed"]),
                    "points_verified": num(row["points_verified"]),
                    "over_points": num(row["over_points"]),
                    "overstated": row["overstated"],
                    "indicators": [{"id": i, "diff": num(d)}
                                   for i, d in zip(row["top_indicators"], row["top_diffs"], strict=True)],
                }
                for row in report.over.iter_rows(named=True)
            ],
        }
    document["warnings"] = [p.format() for p in [*report.old.warnings, *report.new.warnings]]
    return document


def _over_summary(report: DiffReport) -> dict[str, Any]:
    over = report.over
    assert over is not None
    n = over.height
    k = int(over["overstated"].sum()) if n else 0
    mean = over["over_points"].mean() if n else None
    return {
        "matched": n,
        "overstated": k,
        "share_overstated": num(round(k / n, 4)) if n else None,
        "mean_over_points": num(round(float(mean), 2)) if isinstance(mean, int | float) else None,
    }


def _stars_names(ids: Sequence[str], names: dict[str, str], lang: Lang) -> str:
    if lang == Lang.en:
        return ", ".join(ids)
    return "、".join(names.get(i, i) for i in ids)


def _title(report: DiffReport, lang: Lang) -> str:
    key = {"periods": "diff_title", "sources": "sources_title", "criteria": "criteria_title"}[report.mode]
    return label(key, lang, a=report.label_old, b=report.label_new)


def _transition_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]]]:
    matrix = compare.transition_frame(report.cmp, report.levels)
    names = level_names(matrix.height - 1, lang, [*report.new.criteria, *report.old.criteria])
    headers = [label("from_to", lang, a=report.label_old, b=report.label_new), *names]
    rows = [[names[row[0]], *(v if v else "·" for v in row[1:])] for row in matrix.iter_rows()]
    return headers, rows


def _diff_branch_rows(report: DiffReport, lang: Lang
                      ) -> tuple[list[str], Iterator[list[Any]], list[bool], int, int]:
    """The changed branches (all with ``show_all``), made as they are read; the count hidden and shown."""
    names = _star_names([report.old, report.new])
    headers = [label("branch_id", lang), label("branch_name", lang), label("township", lang), label("status", lang),
               label("stars_change", lang), label("points_change", lang), label("delta_points", lang),
               label("gained", lang), label("lost", lang)]
    numeric = [False, False, False, False, False, False, True, False, False]
    criteria = report.mode == "criteria"
    if criteria:
        headers += [label("rule_effect", lang), label("rule_effect_points", lang)]
        numeric += [True, True]
        if report.performance:
            headers.append(label("performance_effect", lang))
            numeric.append(True)
    order = {"up": 0, "down": 1, "new": 2, "removed": 3, "same": 4}

    def named(column: str) -> pl.Expr:
        return pl.col(column).is_not_null() & (pl.col(column) != "")

    moved = named("township_old") & named("township") & (pl.col("township_old") != pl.col("township"))
    changed = (pl.col("status") != "same") | moved
    if criteria:
        changed = changed | (pl.col("delta_points").fill_null(0) != 0)
    # sorted by status, then id (the same order as Python's sort of the ids: code points), in the frame
    listed = (report.cmp.with_columns(changed.fill_null(False).alias("_changed"),
                                      pl.col("status").replace_strict(order, return_dtype=pl.Int8).alias("_order"))
              .sort(["_order", "branch_id"], maintain_order=True))
    hidden = 0
    if not report.show_all:
        hidden = listed.height - int(listed["_changed"].sum())
        listed = listed.filter(pl.col("_changed"))

    def arrow(a: Any, b: Any) -> str:
        return f"{'—' if a is None else num(a)}→{'—' if b is None else num(b)}"

    def rows() -> Iterator[list[Any]]:
        for offset in range(0, listed.height, JSON_SLICE_ROWS):
            for row in listed.slice(offset, JSON_SLICE_ROWS).iter_rows(named=True):
                moved = bool(row["township_old"] and row["township"] and row["township_old"] != row["township"])
                town = f"{row['township_old']}→{row['township']}" if moved else row["township"] or ""
                cells: list[Any] = [row["branch_id"], row["branch_name"], town,
                                    label(f"status_{row['status']}", lang),
                                    arrow(row["stars_old"], row["stars_new"]),
                                    arrow(row["points_old"], row["points_new"]),
                                    signed(row["delta_points"]), _stars_names(row["gained"], names, lang),
                                    _stars_names(row["lost"], names, lang)]
                if criteria:
                    cells += [signed(row["delta_stars_rule"]), signed(row["delta_points_rule"])]
                    if report.performance:
                        cells.append(signed(row["delta_stars_performance"]))
                yield cells

    return headers, rows(), numeric, hidden, listed.height


def _diff_group_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.groups is not None and report.by is not None
    headers = [by_label(report.by, lang), label("rank_new", lang), label("rank_old", lang),
               label("rank_change", lang), label("branches_new", lang), label("mean_points_new", lang),
               label("mean_points_old", lang), label("delta_mean_points", lang)]
    numeric = [False, True, True, True, True, True, True, True]
    rows = []
    for row in report.groups.iter_rows(named=True):
        change = label("status_removed", lang) if row["rank_new"] is None else rank_change_text(row.get("rank_change"), lang)
        rows.append([row["group"] or "—", row["rank_new"] or "", row["rank_old"] or "", change,
                     row["branches_new"] or 0, num(row["mean_points_new"]), num(row["mean_points_old"]),
                     signed(row["delta_mean_points"])])
    return headers, rows, numeric


def _over_group_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.over_groups is not None
    by = report.by or "township"
    headers = [label("rank", lang), by_label(by, lang), label("branches", lang), label("overstated", lang),
               label("share_overstated", lang), label("mean_over_points", lang), label("mean_over_stars", lang),
               label("max_over_points", lang)]
    numeric = [True, False, True, True, True, True, True, True]
    rows = [[r["rank"], r["group"] or "—", r["branches"], r["overstated"], pct(r["share_overstated"]),
             signed(r["mean_over_points"]), signed(r["mean_over_stars"]), signed(r["max_over_points"])]
            for r in report.over_groups.iter_rows(named=True)]
    return headers, rows, numeric


def _over_branch_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.over is not None
    names = _indicator_names([report.old, report.new])
    a, b = report.label_old, report.label_new
    headers = [label("branch_id", lang), label("branch_name", lang), label("township", lang),
               label("stars_claimed", lang, a=a), label("stars_verified", lang, b=b), label("over_stars", lang),
               label("points_claimed", lang, a=a), label("points_verified", lang, b=b), label("over_points", lang),
               label("top_indicators", lang)]
    numeric = [False, False, False, True, True, True, True, True, True, False]
    rows = []
    for r in report.over.filter(pl.col("overstated")).iter_rows(named=True):
        tops = list_sep(lang).join(
            f"{names.get(i, i) if lang == Lang.zh else i} {signed(d)}"
            for i, d in zip(r["top_indicators"], r["top_diffs"], strict=True)
        )
        rows.append([r["branch_id"], r["branch_name"], r["group"], r["stars_claimed"], r["stars_verified"],
                     signed(r["over_stars"]), num(r["points_claimed"]), num(r["points_verified"]),
                     signed(r["over_points"]), tops])
    return headers, rows, numeric


def _summary_text(report: DiffReport, lang: Lang) -> str:
    s = diff_summary(report)
    return label("summary_line", lang, **{k: s[k] for k in ("matched", "up", "down", "same", "new", "removed")})


def _over_text(report: DiffReport, lang: Lang) -> str:
    s = _over_summary(report)
    return label("over_summary", lang, n=s["matched"], k=s["overstated"], share=pct(s["share_overstated"] or 0.0),
                 mean=signed(s["mean_over_points"] or 0), a=report.label_old, b=report.label_new)


Section = tuple[str, str | None, tuple[list[str], Iterable[list[Any]], list[bool]] | None]


def _sections(report: DiffReport, lang: Lang) -> list[Section]:
    """(title, note, table) sections shared by the Markdown and terminal renderers; the rows of the
    branches' table are made as they are read (once)."""
    sections: list[Section] = []
    if report.mode == "sources":
        sections.append(("", _over_text(report, lang), None))
        by_word = by_label(report.by or "township", lang)
        sections.append((label("over_groups_title", lang, by=by_word, a=report.label_old),
                         None, _over_group_rows(report, lang)))
        headers, rows, numeric = _over_branch_rows(report, lang)
        sections.append((label("over_branches_title", lang, a=report.label_old, b=report.label_new),
                         None if rows else label("none_overstated", lang, a=report.label_old, b=report.label_new),
                         (headers, rows, numeric) if rows else None))
    else:
        sections.append(("", _summary_text(report, lang), None))
    theaders, trows = _transition_rows(report, lang)
    sections.append((label("transition_title", lang, a=report.label_old, b=report.label_new), None,
                     (theaders, trows, [False] + [True] * (len(theaders) - 1))))
    if report.groups is not None and report.by is not None:
        sections.append((label("groups_title", lang, by=by_label(report.by, lang)), None,
                         _diff_group_rows(report, lang)))
    if report.mode == "sources":  # the overstatement tables above are the per-branch view
        return sections
    headers, branch_rows, numeric, hidden, shown = _diff_branch_rows(report, lang)
    note = label("unchanged_note", lang, n=hidden) if hidden else None
    sections.append((label("changes_title", lang), note, (headers, branch_rows, numeric) if shown else None))
    return sections


def diff_markdown(report: DiffReport, lang: Lang) -> str:
    """``diff -f md`` as one string (the pieces of :func:`diff_markdown_chunks` joined)."""
    return "".join(diff_markdown_chunks(report, lang))


def diff_markdown_chunks(report: DiffReport, lang: Lang) -> Iterator[str]:
    """``diff -f md`` piece by piece: the branches' table a row at a time."""
    return ending_in_one_newline(_diff_markdown_pieces(report, lang))


def _diff_markdown_pieces(report: DiffReport, lang: Lang) -> Iterator[str]:
    yield f"# {_title(report, lang)}\n\n"
    for title, note, table in _sections(report, lang):
        if title:
            yield f"## {title}\n\n"
        if table is not None:
            headers, rows, numeric = table
            yield from markdown_lines(rows, headers, ["---:" if n else "---" for n in numeric])
            yield "\n"
        if note:
            yield note + "\n\n"


_KEEP_HEADERS = {lang: {label(k, lang) for k in ("branch_id", "stars_change", "points_change")} for lang in Lang}


def diff_renderable(report: DiffReport, lang: Lang) -> Doc:
    parts: list[Grid | Line] = [Line(_title(report, lang), bold=True)]
    for title, note, table in _sections(report, lang):
        if table is not None:
            headers, rows, numeric = table
            keep = [n for n, h in enumerate(headers) if h in _KEEP_HEADERS[lang]]
            parts.append(narrow_table(list(rows), headers, title=title or None, numeric=numeric, keep=keep))
        elif title:
            parts.append(Line(title, bold=True))
        if note:
            parts.append(Line(note))
    return Doc(parts)


