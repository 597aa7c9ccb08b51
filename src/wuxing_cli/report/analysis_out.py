"""Shape ``rank``, ``diff`` and ``explain`` results: JSON documents, CSV frames, Markdown and rich tables.

Pure renderers: they take scored runs and engine results and return dicts, frames, strings or rich
renderables. Nothing here reads files, prints or exits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from ..engine import compare
from ..engine.explain import BranchExplanation, Plan, StarExplanation, rule_text, value_text
from ..engine.rank import MAX_LEVEL, Metric, league_table
from ..models.results import ScoreRun
from . import score_out
from .grid import Column, Doc, Grid, Line
from .labels import Lang, level_label, star_marks
from .labels import label as base_label
from .tabular import markdown_table, num

DiffMode = Literal["periods", "sources", "criteria"]

_LABELS: dict[str, tuple[str, str]] = {
    "rank_title": ("{by}排名", "League table by {by}"),
    "rank_branches_title": ("各{by}支部排名", "Branches within each {by}"),
    "group_of": ("{by}", "{by}"),
    "level_n": ("{n}星", "{n}★"),
    "level_0": ("无星", "0★"),
    "previous_rank": ("上期排名", "Previous rank"),
    "levels_compact": ("无星/1/…/{n}星", "Levels 0/1/…/{n}"),
    "new_group": ("新", "new"),
    "groups_shown": ("共 {n} 个{by}，{b} 个支部", "{n} groups, {b} branches"),
    "top_note": ("仅列前 {top} 名", "top {top} only"),
    "diff_title": ("对比：{a} → {b}", "Comparison: {a} → {b}"),
    "sources_title": ("{a}与{b}对比", "{a} vs {b}"),
    "criteria_title": ("评分标准变更影响：{a} → {b}", "Effect of the criteria change: {a} → {b}"),
    "status": ("变化", "Change"),
    "status_up": ("晋星", "up"),
    "status_down": ("降星", "down"),
    "status_same": ("持平", "same"),
    "status_new": ("新增", "new"),
    "status_removed": ("移除", "removed"),
    "summary_line": (
        "比对支部 {matched} 个：晋星 {up} 个，降星 {down} 个，持平 {same} 个；新增 {new} 个，移除 {removed} 个",
        "{matched} branches matched: {up} up, {down} down, {same} same; {new} new, {removed} removed",
    ),
    "transition_title": ("星级变化矩阵（行：{a}，列：{b}）", "Level transitions (rows: {a}, columns: {b})"),
    "from_to": ("{a} \\ {b}", "{a} \\ {b}"),
    "changes_title": ("支部星级变化", "Branches that changed"),
    "unchanged_note": ("另有 {n} 个支部星级未变（--all 列出全部）", "{n} more branches unchanged (--all lists them)"),
    "groups_title": ("各{by}变化", "Change by {by}"),
    "stars_change": ("星级", "Stars"),
    "points_change": ("总分", "Points"),
    "delta_points": ("分差", "Δ points"),
    "gained": ("晋星", "Gained"),
    "lost": ("摘星", "Lost"),
    "rule_effect": ("规则影响(星)", "Rule effect (stars)"),
    "performance_effect": ("实绩影响(星)", "Performance effect (stars)"),
    "rule_effect_points": ("规则影响(分)", "Rule effect (points)"),
    "rank_old": ("原排名", "Rank before"),
    "rank_new": ("现排名", "Rank now"),
    "mean_points_old": ("原平均分", "Mean points before"),
    "mean_points_new": ("现平均分", "Mean points now"),
    "delta_mean_points": ("平均分变化", "Δ mean points"),
    "branches_old": ("原支部数", "Branches before"),
    "branches_new": ("现支部数", "Branches now"),
    "over_summary": (
        "比对支部 {n} 个，{a}高于{b}的 {k} 个（{share}），平均多报 {mean} 分",
        "{n} branches matched; {k} ({share}) claimed more in {a} than {b}; mean overstatement {mean} points",
    ),
    "over_groups_title": ("各{by}{a}虚高情况（按虚高支部占比排名）", "Overstatement by {by} (ranked by share overstated)"),
    "over_branches_title": ("{a}高于{b}的支部", "Branches whose {a} exceeds {b}"),
    "overstated": ("虚高支部数", "Overstated"),
    "share_overstated": ("虚高占比", "Share overstated"),
    "mean_over_points": ("平均多报分", "Mean over (points)"),
    "mean_over_stars": ("平均多报星", "Mean over (stars)"),
    "max_over_points": ("最多多报分", "Max over (points)"),
    "stars_claimed": ("{a}星数", "Stars ({a})"),
    "stars_verified": ("{b}星数", "Stars ({b})"),
    "points_claimed": ("{a}总分", "Points ({a})"),
    "points_verified": ("{b}总分", "Points ({b})"),
    "over_stars": ("多报星", "Over (stars)"),
    "over_points": ("多报分", "Over (points)"),
    "top_indicators": ("差异最大指标", "Indicators differing most"),
    "none_overstated": ("没有支部的{a}高于{b}。", "No branch claimed more than was verified."),
    "self": ("自评", "self-assessment"),
    "verified": ("复核", "verification"),
    "explain_title": ("{name}（{id}）评星说明", "{name} ({id}): result explained"),
    "explain_head": ("{level}，总分 {points}，排名第 {rank}", "{level}, {points} points, rank {rank}"),
    "explain_head_norank": ("{level}，总分 {points}", "{level}, {points} points"),
    "indicator": ("指标", "Indicator"),
    "value": ("数值", "Value"),
    "rule": ("计分规则", "Rule"),
    "score_of": ("得分/满分", "Points / max"),
    "lost_points": ("失分", "Lost"),
    "required_mark": ("（必达）", " (required)"),
    "star_line": (
        "{name}：{points}/{max} 分，达标线 {pass_mark}，{result}",
        "{name}: {points}/{max} points, pass mark {pass_mark}, {result}",
    ),
    "result_awarded": ("已获评", "awarded"),
    "result_earned_blocked": ("已达标但未授星", "earned but not awarded"),
    "result_not_earned": ("未达标", "not earned"),
    "veto_fired": ("否决事项：{name}（{inputs}）", "Veto: {name} ({inputs})"),
    "veto_undecided": ("否决事项：{name}（数据缺失：{inputs}，按触发处理）",
                       "Veto: {name} (missing data: {inputs}; counts as fired)"),
    "required_failed_line": ("必达指标未得满分：{items}", "Required indicators below full points: {items}"),
    "requires_line": ("须先获评：{items}", "Needs these stars first: {items}"),
    "cap_line": ("封顶事项：{name}（{inputs}），最多 {max} 星", "Cap: {name} ({inputs}): at most {max} stars"),
    "capped_note": ("获评 {held} 颗星，因封顶事项只计 {stars} 颗", "{held} stars held, counted as {stars} because of a cap"),
    "missing_line": ("缺失数据：{items}（缺失不得分）", "Missing data: {items} (missing evidence scores 0)"),
    "path_title": ("晋星路径", "Path to the next stars"),
    "star": ("星", "Star"),
    "gap": ("差距(分)", "Gap (points)"),
    "plan": ("最少需提升", "Smallest set of improvements"),
    "plan_vetoed": ("已触发否决事项（{items}），在否决事项消除前任何提分都不能获评此星",
                    "Vetoed ({items}): no improvement can award this star until the veto clears"),
    "plan_vetoed_after": ("；消除后还需：{steps}", "; after it clears it also needs: {steps}"),
    "plan_requires": ("本星已达标，须先获评：{items}", "Earned; needs these stars first: {items}"),
    "plan_impossible": ("即使各指标都得到最高分，仍差 {n} 分，无法达标",
                        "Even with every indicator at its best it falls {n} points short"),
    "plan_steps": ("{steps}（共补 {total} 分）", "{steps} (+{total} points in all)"),
    "plan_also_requires": ("；另须先获评：{items}", "; also needs these stars first: {items}"),
    "step": ("{name} {points}→{target}", "{name} {points}→{target}"),
    "next_star": ("最容易获得的下一颗星：{name}（提升 {k} 项指标，补 {total} 分）",
                  "Easiest next star: {name} ({k} indicators, +{total} points)"),
    "all_awarded": ("已获评全部星。", "All stars awarded."),
    "within_reach": ("差一点", "within reach"),
    "yes": ("是", "yes"),
}


def label(key: str, lang: Lang | str = Lang.zh, **params: object) -> str:
    """This module's labels first, then the shared ones."""
    if key in _LABELS:
        zh, en = _LABELS[key]
        text = en if str(lang) == Lang.en else zh
        return text.format(**params) if params else text
    return base_label(key, lang, **params)


def _sep(lang: Lang) -> str:
    return "、" if lang == Lang.zh else ", "


def _pct(value: float | None) -> str:
    if value is None:
        return ""
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _signed(value: Any) -> str:
    if value is None:
        return ""
    shown = num(round(float(value), 2))
    return f"+{shown}" if value > 0 else f"{shown}"


def _group_word(by: str, lang: Lang) -> str:
    if lang == Lang.en:
        return base_label(by, lang)
    return {"township": "乡镇", "county": "县区", "branch_type": "类型", "period": "期间"}.get(by, by)


def _title_suffix(period: str | None, lang: Lang) -> str:
    if not period:
        return ""
    return f"（{period}）" if lang == Lang.zh else f" ({period})"


def _level_cell(stars: int | None, level: str | None, lang: Lang) -> str:
    if stars is None:
        return ""
    return f"{star_marks(stars)} {level_label(stars, lang, level or '')}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, float):
        return f"{num(value)}"
    return str(value)


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, title: str | None = None,
           numeric: Sequence[bool] | None = None, keep: Sequence[int] = ()) -> Grid:
    """A table for narrow terminals too: numbers (and ``keep`` columns) are never cut, text folds."""
    from rich.cells import cell_len

    numeric = numeric or [False] * len(headers)
    texts = [[_text(v) for v in row] for row in rows]
    columns = []
    for n, (header, is_num) in enumerate(zip(headers, numeric, strict=True)):
        width = max([cell_len(r[n]) for r in texts] + [1])
        # kept and numeric columns: the header may fold onto two lines; the value is never cut
        columns.append(Column(header, numeric=is_num, fold=True,
                              min_width=width if n in keep or is_num else min(width, 10)))
    return Grid(columns, texts, title=title or None)


# ---------------------------------------------------------------------------------------------
# rank


@dataclass(frozen=True)
class RankReport:
    """A league table by ``by`` and the branches it covers, in league order."""

    run: ScoreRun
    by: str
    metric: Metric
    groups: pl.DataFrame  # league_table + previous_rank, rank_change (when a previous run is given)
    branches: pl.DataFrame  # the run's frame: rows of the shown groups, league order then group_rank
    levels: int
    has_previous: bool
    top: int | None = None


def build_rank(run: ScoreRun, by: str, metric: Metric, *, previous: ScoreRun | None = None,
               top: int | None = None) -> RankReport:
    levels = max([MAX_LEVEL, *(len(c.stars) for c in run.criteria)])
    table = league_table(run.frame, by=by, metric=metric, levels=levels)
    if previous is not None:
        before = league_table(previous.frame, by=by, metric=metric, levels=levels).select(
            "group", pl.col("rank").alias("previous_rank"))
        table = table.join(before, on="group", how="left", maintain_order="left").with_columns(
            (pl.col("previous_rank") - pl.col("rank")).alias("rank_change"))
    if top is not None:
        table = table.filter(pl.col("rank") <= top)
    order = table.select("group", pl.col("rank").alias("__group_rank_order"))
    branches = (
        run.frame.with_columns(pl.col(by).cast(pl.String).fill_null("").alias("__group"))
        .join(order, left_on="__group", right_on="group", how="inner")
        .sort(["__group_rank_order", "__group", "group_rank", "branch_id"])
        .drop("__group_rank_order", "__group")
    )
    return RankReport(run=run, by=by, metric=metric, groups=table, branches=branches, levels=levels,
                      has_previous=previous is not None, top=top)


def _branch_run(report: RankReport) -> ScoreRun:
    return dataclasses.replace(report.run, frame=report.branches)


def rank_groups_frame(report: RankReport) -> pl.DataFrame:
    """``rank -f csv``: one row per group, ranked."""
    return report.groups


def rank_branches_frame(report: RankReport) -> pl.DataFrame:
    """``rank -f csv --rows branches``: the score CSV columns, in league order, with ``group_rank``."""
    return score_out.score_frame(_branch_run(report))


def _change_text(row: dict[str, Any], lang: Lang) -> str:
    change = row.get("rank_change")
    if change is None:
        return label("new_group", lang)
    if change > 0:
        return f"↑{change}"
    if change < 0:
        return f"↓{-change}"
    return "—"


def rank_document(report: RankReport) -> dict[str, Any]:
    """``rank -f json`` (SPEC §5)."""
    groups = []
    for row in report.groups.iter_rows(named=True):
        item: dict[str, Any] = {
            "rank": row["rank"],
            "group": row["group"],
            "branches": row["branches"],
            "mean_points": num(row["mean_points"]),
            "mean_stars": num(row["mean_stars"]),
            "share_3plus": num(row["share_3plus"]),
            "levels": {str(n): row[f"level_{n}"] for n in range(report.levels + 1)},
        }
        if report.has_previous:
            item["previous_rank"] = row["previous_rank"]
            item["rank_change"] = row["rank_change"]
        groups.append(item)
    document = score_out.score_document(_branch_run(report))
    return {
        "by": report.by,
        "metric": report.metric.value,
        "period": report.run.period,
        "top": report.top,
        "criteria": document["criteria"],
        "groups": groups,
        "branches": document["branches"],
        "warnings": document["warnings"],
    }


def _group_rows(report: RankReport, lang: Lang, *, compact: bool = False
                ) -> tuple[list[str], list[list[Any]], list[bool]]:
    """League table rows; ``compact`` puts the count per level in one column (for terminals)."""
    headers = [label("rank", lang), _group_word(report.by, lang), label("branches", lang),
               label("mean_points", lang), label("mean_stars", lang), label("share_3plus", lang)]
    if compact:
        headers.append(label("levels_compact", lang, n=report.levels))
    else:
        headers += [label("level_0", lang) if n == 0 else label("level_n", lang, n=n)
                    for n in range(report.levels + 1)]
    numeric = [True, False, True, True, True, True] + [True] * (1 if compact else report.levels + 1)
    if report.has_previous:
        headers += [label("previous_rank", lang), label("rank_change", lang)]
        numeric += [True, True]
    rows = []
    for row in report.groups.iter_rows(named=True):
        cells: list[Any] = [row["rank"], row["group"] or "—", row["branches"], num(row["mean_points"]),
                            num(row["mean_stars"]), _pct(row["share_3plus"])]
        counts = [row[f"level_{n}"] for n in range(report.levels + 1)]
        cells += ["/".join(str(c) for c in counts)] if compact else counts
        if report.has_previous:
            cells += [row["previous_rank"] if row["previous_rank"] is not None else "", _change_text(row, lang)]
        rows.append(cells)
    return headers, rows, numeric


def _branch_rows(report: RankReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    headers = [_group_word(report.by, lang), label("group_rank", lang), label("branch_id", lang),
               label("branch_name", lang), label("level", lang), label("total_points", lang), label("rank", lang)]
    numeric = [False, True, False, False, False, True, True]
    rows = []
    for row in report.branches.iter_rows(named=True):
        rows.append([row[report.by] or "—", row["group_rank"], row["branch_id"], row["branch_name"],
                     _level_cell(row["stars"], row["level"], lang), num(row["total_points"]), row["rank"]])
    return headers, rows, numeric


def _rank_note(report: RankReport, lang: Lang) -> str:
    note = label("groups_shown", lang, n=report.groups.height, by=_group_word(report.by, lang),
                 b=report.branches.height)
    if report.top is not None:
        note += ("；" if lang == Lang.zh else "; ") + label("top_note", lang, top=report.top)
    metric = label(report.metric.value, lang)
    note += f"；按{metric}排名" if lang == Lang.zh else f"; ranked by {metric.lower()}"
    return note


def rank_markdown(report: RankReport, lang: Lang) -> str:
    by_word = _group_word(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang)
    out = [f"# {label('rank_title', lang, by=by_word)}{_title_suffix(report.run.period, lang)}", "",
           _rank_note(report, lang), "",
           markdown_table(rows, headers, ["---:" if n else "---" for n in numeric])]
    out += [f"## {label('rank_branches_title', lang, by=by_word)}", ""]
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    current: Any = object()
    chunk: list[list[Any]] = []

    def flush() -> None:
        if chunk:
            out.append(f"### {current or '—'}\n")
            out.append(markdown_table([r[1:] for r in chunk], bheaders[1:],
                                      ["---:" if n else "---" for n in bnumeric[1:]]))

    for row in brows:
        if row[0] != current:
            flush()
            current, chunk = row[0], []
        chunk.append(row)
    flush()
    return "\n".join(out).rstrip("\n") + "\n"


def rank_renderable(report: RankReport, lang: Lang) -> Doc:
    by_word = _group_word(report.by, lang)
    headers, rows, numeric = _group_rows(report, lang, compact=True)
    title = label("rank_title", lang, by=by_word) + (f" {report.run.period}" if report.run.period else "")
    groups = _table(rows, headers, title=title, numeric=numeric)
    bheaders, brows, bnumeric = _branch_rows(report, lang)
    branches = _table(brows, bheaders, title=label("rank_branches_title", lang, by=by_word), numeric=bnumeric)
    return Doc([groups, Line(_rank_note(report, lang)), Line(""), branches])


# ---------------------------------------------------------------------------------------------
# diff


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
        for sid in score_out.star_ids(run):
            seen.setdefault(sid, None)
    return list(seen)


def _star_names(runs: Sequence[ScoreRun]) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in runs:
        for sid, name in score_out.star_names(run).items():
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
    if report.over is not None:
        extra = report.over.select("branch_id", "over_stars", "over_points", "overstated", "top_indicators",
                                   pl.col("top_diffs").list.eval(pl.element().cast(pl.String)))
        frame = frame.join(extra, on="branch_id", how="left", maintain_order="left")
    return frame


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


def diff_document(report: DiffReport) -> dict[str, Any]:
    """``diff -f json`` (SPEC §5 keys, plus ``mode``, ``matrix``, ``groups`` and ``overstatement``)."""
    document: dict[str, Any] = {
        "mode": report.mode,
        "from": report.label_old,
        "to": report.label_new,
        "criteria": {
            "from": [{"id": c.id, "version": c.version} for c in report.old.criteria],
            "to": [{"id": c.id, "version": c.version} for c in report.new.criteria],
        },
        "summary": diff_summary(report),
        "branches": [_branch_item(row, report.mode) for row in report.cmp.iter_rows(named=True)],
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
    names = [label("level_0", lang) if n == 0 else label("level_n", lang, n=n) for n in range(matrix.height)]
    headers = [label("from_to", lang, a=report.label_old, b=report.label_new), *names]
    rows = [[names[row[0]], *(v if v else "·" for v in row[1:])] for row in matrix.iter_rows()]
    return headers, rows


def _diff_branch_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool], int]:
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
    rows = []
    hidden = 0
    order = {"up": 0, "down": 1, "new": 2, "removed": 3, "same": 4}
    listed = sorted(report.cmp.iter_rows(named=True), key=lambda r: (order[r["status"]], r["branch_id"]))
    for row in listed:
        moved = bool(row["township_old"] and row["township"] and row["township_old"] != row["township"])
        changed = row["status"] != "same" or moved or (criteria and (row["delta_points"] or 0) != 0)
        if not report.show_all and not changed:
            hidden += 1
            continue
        town = f"{row['township_old']}→{row['township']}" if moved else row["township"] or ""

        def arrow(a: Any, b: Any) -> str:
            return f"{'—' if a is None else num(a)}→{'—' if b is None else num(b)}"

        cells: list[Any] = [row["branch_id"], row["branch_name"], town, label(f"status_{row['status']}", lang),
                            arrow(row["stars_old"], row["stars_new"]), arrow(row["points_old"], row["points_new"]),
                            _signed(row["delta_points"]), _stars_names(row["gained"], names, lang),
                            _stars_names(row["lost"], names, lang)]
        if criteria:
            cells += [_signed(row["delta_stars_rule"]), _signed(row["delta_points_rule"])]
            if report.performance:
                cells.append(_signed(row["delta_stars_performance"]))
        rows.append(cells)
    return headers, rows, numeric, hidden


def _diff_group_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.groups is not None and report.by is not None
    headers = [_group_word(report.by, lang), label("rank_new", lang), label("rank_old", lang),
               label("rank_change", lang), label("branches_new", lang), label("mean_points_new", lang),
               label("mean_points_old", lang), label("delta_mean_points", lang)]
    numeric = [False, True, True, True, True, True, True, True]
    rows = []
    for row in report.groups.iter_rows(named=True):
        change = label("status_removed", lang) if row["rank_new"] is None else _change_text(row, lang)
        rows.append([row["group"] or "—", row["rank_new"] or "", row["rank_old"] or "", change,
                     row["branches_new"] or 0, num(row["mean_points_new"]), num(row["mean_points_old"]),
                     _signed(row["delta_mean_points"])])
    return headers, rows, numeric


def _over_group_rows(report: DiffReport, lang: Lang) -> tuple[list[str], list[list[Any]], list[bool]]:
    assert report.over_groups is not None
    by = report.by or "township"
    headers = [label("rank", lang), _group_word(by, lang), label("branches", lang), label("overstated", lang),
               label("share_overstated", lang), label("mean_over_points", lang), label("mean_over_stars", lang),
               label("max_over_points", lang)]
    numeric = [True, False, True, True, True, True, True, True]
    rows = [[r["rank"], r["group"] or "—", r["branches"], r["overstated"], _pct(r["share_overstated"]),
             _signed(r["mean_over_points"]), _signed(r["mean_over_stars"]), _signed(r["max_over_points"])]
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
        tops = _sep(lang).join(
            f"{names.get(i, i) if lang == Lang.zh else i} {_signed(d)}"
            for i, d in zip(r["top_indicators"], r["top_diffs"], strict=True)
        )
        rows.append([r["branch_id"], r["branch_name"], r["group"], r["stars_claimed"], r["stars_verified"],
                     _signed(r["over_stars"]), num(r["points_claimed"]), num(r["points_verified"]),
                     _signed(r["over_points"]), tops])
    return headers, rows, numeric


def _summary_text(report: DiffReport, lang: Lang) -> str:
    s = diff_summary(report)
    return label("summary_line", lang, **{k: s[k] for k in ("matched", "up", "down", "same", "new", "removed")})


def _over_text(report: DiffReport, lang: Lang) -> str:
    s = _over_summary(report)
    return label("over_summary", lang, n=s["matched"], k=s["overstated"], share=_pct(s["share_overstated"] or 0.0),
                 mean=_signed(s["mean_over_points"] or 0), a=report.label_old, b=report.label_new)


def _sections(report: DiffReport, lang: Lang) -> list[tuple[str, str | None, tuple[list[str], list[list[Any]],
                                                                                    list[bool]] | None]]:
    """(title, note, table) sections shared by the Markdown and terminal renderers."""
    sections: list[tuple[str, str | None, tuple[list[str], list[list[Any]], list[bool]] | None]] = []
    if report.mode == "sources":
        sections.append(("", _over_text(report, lang), None))
        by_word = _group_word(report.by or "township", lang)
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
        sections.append((label("groups_title", lang, by=_group_word(report.by, lang)), None,
                         _diff_group_rows(report, lang)))
    if report.mode == "sources":  # the overstatement tables above are the per-branch view
        return sections
    headers, rows, numeric, hidden = _diff_branch_rows(report, lang)
    note = label("unchanged_note", lang, n=hidden) if hidden else None
    sections.append((label("changes_title", lang), note, (headers, rows, numeric) if rows else None))
    return sections


def diff_markdown(report: DiffReport, lang: Lang) -> str:
    out = [f"# {_title(report, lang)}", ""]
    for title, note, table in _sections(report, lang):
        if title:
            out += [f"## {title}", ""]
        if table is not None:
            headers, rows, numeric = table
            out.append(markdown_table(rows, headers, ["---:" if n else "---" for n in numeric]))
        if note:
            out += [note, ""]
    return "\n".join(out).rstrip("\n") + "\n"


_KEEP_HEADERS = {lang: {label(k, lang) for k in ("branch_id", "stars_change", "points_change")} for lang in Lang}


def diff_renderable(report: DiffReport, lang: Lang) -> Doc:
    parts: list[Grid | Line] = [Line(_title(report, lang), bold=True)]
    for title, note, table in _sections(report, lang):
        if table is not None:
            headers, rows, numeric = table
            keep = [n for n, h in enumerate(headers) if h in _KEEP_HEADERS[lang]]
            parts.append(_table(rows, headers, title=title or None, numeric=numeric, keep=keep))
        elif title:
            parts.append(Line(title, bold=True))
        if note:
            parts.append(Line(note))
    return Doc(parts)


# ---------------------------------------------------------------------------------------------
# explain


def _inputs_text(inputs: dict[str, Any], exp: BranchExplanation, lang: Lang) -> str:
    parts = []
    for name, value in inputs.items():
        spec = exp.fields.get(name)
        shown = spec.name or spec.header or name if spec is not None else name
        parts.append(f"{shown}={value_text(value, spec, lang.value)}")
    return ", ".join(parts)


def _missing_inputs(inputs: dict[str, Any], exp: BranchExplanation) -> str:
    names = []
    for name, value in inputs.items():
        if value is None:
            spec = exp.fields.get(name)
            names.append(spec.name or spec.header or name if spec is not None else name)
    return ", ".join(names)


def _star_name_map(exp: BranchExplanation) -> dict[str, str]:
    return {s.id: s.name for s in exp.star_results}


def _star_result_text(star: StarExplanation, lang: Lang) -> str:
    if star.awarded:
        result = label("result_awarded", lang)
    elif star.earned:
        result = label("result_earned_blocked", lang)
    else:
        result = label("result_not_earned", lang)
    return label("star_line", lang, name=star.name, points=num(star.points), max=num(star.max_points),
                 pass_mark=num(star.pass_mark), result=result)


def _steps_text(plan: Plan, lang: Lang) -> str:
    steps = _sep(lang).join(
        label("step", lang, name=s.name, points=num(s.points), target=num(s.target))
        + (label("required_mark", lang) if s.required else "")
        for s in plan.steps
    )
    return label("plan_steps", lang, steps=steps, total=num(plan.recover_total))


def plan_text(star: StarExplanation, exp: BranchExplanation, lang: Lang) -> str:
    """The path to one star in words."""
    plan = star.plan
    names = _star_name_map(exp)
    requires = _sep(lang).join(names.get(r, r) for r in plan.requires)
    vetoes = {v.id: v.name for v in star.vetoes}
    if plan.status == "awarded":
        return label("result_awarded", lang)
    if plan.status == "vetoed":
        text = label("plan_vetoed", lang, items=_sep(lang).join(vetoes.get(v, v) for v in plan.vetoes))
        if plan.steps:
            text += label("plan_vetoed_after", lang, steps=_steps_text(plan, lang))
        elif plan.shortfall > 0:
            text += "；" if lang == Lang.zh else "; "
            text += label("plan_impossible", lang, n=num(plan.shortfall))
        if plan.requires:
            text += label("plan_also_requires", lang, items=requires)
        return text
    if plan.status == "requires":
        return label("plan_requires", lang, items=requires)
    if plan.status == "impossible":
        text = label("plan_impossible", lang, n=num(plan.shortfall))
    else:
        text = _steps_text(plan, lang)
    if plan.requires:
        text += label("plan_also_requires", lang, items=requires)
    return text


def _indicator_rows(star: StarExplanation, exp: BranchExplanation, criteria_star: Any,
                    lang: Lang) -> list[list[Any]]:
    rows = []
    by_id = {i.id: i for i in criteria_star.indicators}
    for ind in star.indicators:
        spec = exp.fields.get(ind.field)
        name = ind.name + (label("required_mark", lang) if ind.required else "")
        rows.append([name, value_text(ind.value, spec, lang.value), rule_text(by_id[ind.id], spec, lang.value),
                     f"{num(ind.points)}/{num(ind.max_points)}", num(ind.lost) if ind.lost else ""])
    return rows


def _star_notes(star: StarExplanation, exp: BranchExplanation, lang: Lang) -> list[str]:
    notes = []
    for veto in star.fired_vetoes:
        if veto.undecided:
            notes.append(label("veto_undecided", lang, name=veto.name, inputs=_missing_inputs(veto.inputs, exp)))
        else:
            notes.append(label("veto_fired", lang, name=veto.name, inputs=_inputs_text(veto.inputs, exp, lang)))
    failed = [i.name for i in star.indicators if i.required_failed]
    if failed:
        notes.append(label("required_failed_line", lang, items=_sep(lang).join(failed)))
    if star.requires_unmet and (star.earned or not star.awarded):
        names = _star_name_map(exp)
        notes.append(label("requires_line", lang, items=_sep(lang).join(names.get(r, r) for r in star.requires_unmet)))
    return notes


def _branch_notes(exp: BranchExplanation, lang: Lang) -> list[str]:
    notes = []
    for cap in exp.fired_caps:
        notes.append(label("cap_line", lang, name=cap.name, inputs=_inputs_text(cap.inputs, exp, lang),
                           max=cap.max_stars))
    if exp.awarded > exp.stars:
        notes.append(label("capped_note", lang, held=exp.awarded, stars=exp.stars))
    if exp.missing:
        names = []
        for m in exp.missing:
            spec = exp.fields.get(m)
            names.append(spec.name or spec.header or m if spec is not None else m)
        notes.append(label("missing_line", lang, items=_sep(lang).join(names)))
    return notes


def _explain_head(exp: BranchExplanation, lang: Lang) -> tuple[str, str]:
    b = exp.branch
    title = label("explain_title", lang, name=b["branch_name"] or b["branch_id"], id=b["branch_id"])
    where = " ".join(str(v) for v in (b.get("county"), b.get("township"), b.get("period")) if v)
    level = _level_cell(exp.stars, exp.level, lang)
    key = "explain_head" if exp.rank is not None else "explain_head_norank"
    head = label(key, lang, level=level, points=num(exp.total_points), rank=exp.rank)
    return title, (f"{where}  {head}" if where else head)


def _path_rows(exp: BranchExplanation, lang: Lang) -> list[list[Any]]:
    rows = []
    for star in exp.star_results:
        if star.awarded:
            continue
        gap = num(star.gap)
        if star.near:
            gap = f"{gap}（{label('within_reach', lang)}）" if lang == Lang.zh else f"{gap} ({label('within_reach', lang)})"
        rows.append([star.name, gap, plan_text(star, exp, lang)])
    return rows


def _next_text(exp: BranchExplanation, lang: Lang) -> str | None:
    if all(s.awarded for s in exp.star_results):
        return label("all_awarded", lang)
    nxt = exp.next_star()
    if nxt is None:
        return None
    return label("next_star", lang, name=nxt.name, k=len(nxt.plan.steps), total=num(nxt.plan.recover_total))


def explain_document(exp: BranchExplanation, criteria: Any, lang: Lang) -> dict[str, Any]:
    """``explain -f json``: the branch, each star indicator by indicator, and the plan for each star."""
    stars_by_id = {s.id: s for s in criteria.stars}
    star_items = []
    for star in exp.star_results:
        cstar = stars_by_id[star.id]
        by_id = {i.id: i for i in cstar.indicators}
        star_items.append({
            "id": star.id,
            "name": star.name,
            "points": num(star.points),
            "max_points": num(star.max_points),
            "pass_mark": num(star.pass_mark),
            "gap": num(star.gap),
            "earned": star.earned,
            "awarded": star.awarded,
            "near": star.near,
            "indicators": [
                {
                    "id": i.id,
                    "name": i.name,
                    "field": i.field,
                    "value": num(i.value),
                    "missing": i.missing,
                    "rule": rule_text(by_id[i.id], exp.fields.get(i.field), lang.value),
                    "points": num(i.points),
                    "max_points": num(i.max_points),
                    "best_points": num(i.best_points),
                    "lost": num(i.lost),
                    "required": i.required,
                    "required_failed": i.required_failed,
                }
                for i in star.indicators
            ],
            "vetoes": [
                {"id": v.id, "name": v.name, "when": v.when, "fired": v.fired, "undecided": v.undecided,
                 "inputs": {k: num(x) for k, x in v.inputs.items()}}
                for v in star.vetoes
            ],
            "required_failed": list(star.required_failed),
            "requires": list(star.requires),
            "requires_unmet": list(star.requires_unmet),
            "plan": {
                "status": star.plan.status,
                "gap": num(star.plan.gap),
                "steps": [
                    {"indicator": s.indicator, "name": s.name, "points": num(s.points), "target": num(s.target),
                     "recover": num(s.recover), "required": s.required}
                    for s in star.plan.steps
                ],
                "recover_total": num(star.plan.recover_total),
                "requires": list(star.plan.requires),
                "vetoes": list(star.plan.vetoes),
                "shortfall": num(star.plan.shortfall),
                "text": plan_text(star, exp, lang),
            },
        })
    nxt = exp.next_star()
    return {
        "criteria": {"id": exp.criteria_id, "version": exp.criteria_version},
        "branch": {k: v for k, v in exp.branch.items() if v is not None},
        "rank": exp.rank,
        "stars": exp.stars,
        "level": exp.level,
        "total_points": num(exp.total_points),
        "star_results": star_items,
        "caps": [
            {"id": c.id, "name": c.name, "when": c.when, "fired": c.fired, "max_stars": c.max_stars,
             "inputs": {k: num(x) for k, x in c.inputs.items()}}
            for c in exp.caps
        ],
        "capped_by": [c.id for c in exp.fired_caps],
        "missing": list(exp.missing),
        "next_star": nxt.id if nxt is not None else None,
    }


def explain_markdown(exp: BranchExplanation, criteria: Any, lang: Lang) -> str:
    title, head = _explain_head(exp, lang)
    out = [f"# {title}", "", head, ""]
    for note in _branch_notes(exp, lang):
        out += [f"- {note}"]
    if out[-1] != "":
        out.append("")
    stars_by_id = {s.id: s for s in criteria.stars}
    headers = [label("indicator", lang), label("value", lang), label("rule", lang), label("score_of", lang),
               label("lost_points", lang)]
    for star in exp.star_results:
        out += [f"## {_star_result_text(star, lang)}", ""]
        out.append(markdown_table(_indicator_rows(star, exp, stars_by_id[star.id], lang), headers,
                                  ["---", "---", "---", "---:", "---:"]))
        notes = _star_notes(star, exp, lang)
        if notes:
            out += [f"- {n}" for n in notes] + [""]
    out += [f"## {label('path_title', lang)}", ""]
    rows = _path_rows(exp, lang)
    if rows:
        out.append(markdown_table(rows, [label("star", lang), label("gap", lang), label("plan", lang)],
                                  ["---", "---:", "---"]))
    nxt = _next_text(exp, lang)
    if nxt:
        out += [nxt, ""]
    return "\n".join(out).rstrip("\n") + "\n"


def explain_renderable(exp: BranchExplanation, criteria: Any, lang: Lang) -> Doc:
    title, head = _explain_head(exp, lang)
    parts: list[Grid | Line] = [Line(title, bold=True), Line(head)]
    parts += [Line(n) for n in _branch_notes(exp, lang)]
    stars_by_id = {s.id: s for s in criteria.stars}
    headers = [label("indicator", lang), label("value", lang), label("rule", lang), label("score_of", lang),
               label("lost_points", lang)]
    for star in exp.star_results:
        parts.append(_table(_indicator_rows(star, exp, stars_by_id[star.id], lang), headers,
                                     title=_star_result_text(star, lang), numeric=[False, False, False, True, True]))
        parts += [Line(n) for n in _star_notes(star, exp, lang)]
    rows = _path_rows(exp, lang)
    if rows:
        parts.append(_table(rows, [label("star", lang), label("gap", lang), label("plan", lang)],
                                     title=label("path_title", lang), numeric=[False, True, False]))
    nxt = _next_text(exp, lang)
    if nxt:
        parts.append(Line(nxt))
    return Doc(parts)
