"""Shape ``explain`` results: one branch's stars indicator by indicator, its vetoes and caps, and the
smallest set of improvements to each star not yet awarded, as JSON, Markdown and terminal text.

Pure: :mod:`wuxing_cli.engine.explain` made the plans; this module puts them into words.
"""

from __future__ import annotations

from typing import Any

from ..engine.explain import BranchExplanation, StarExplanation
from ..engine.plan import Plan
from .grid import Doc, Grid, Line
from .labels import Lang, clause_sep, in_brackets, label, level_cell, level_name, list_sep, num
from .rule_text import rule_text, value_text
from .tabular import markdown_table, narrow_table


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
    steps = list_sep(lang).join(
        label("step", lang, name=s.name, points=num(s.points), target=num(s.target))
        + (label("required_mark", lang) if s.required else "")
        for s in plan.steps
    )
    return label("plan_steps", lang, steps=steps, total=num(plan.recover_total))


def plan_text(star: StarExplanation, exp: BranchExplanation, lang: Lang) -> str:
    """The path to one star in words."""
    plan = star.plan
    names = _star_name_map(exp)
    requires = list_sep(lang).join(names.get(r, r) for r in plan.requires)
    vetoes = {v.id: v.name for v in star.vetoes}
    if plan.status == "awarded":
        return label("result_awarded", lang)
    if plan.status == "vetoed":
        text = label("plan_vetoed", lang, items=list_sep(lang).join(vetoes.get(v, v) for v in plan.vetoes))
        if plan.steps:
            text += label("plan_vetoed_after", lang, steps=_steps_text(plan, lang))
        elif plan.shortfall > 0:
            text += clause_sep(lang)
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
        notes.append(label("required_failed_line", lang, items=list_sep(lang).join(failed)))
    if star.requires_unmet and (star.earned or not star.awarded):
        names = _star_name_map(exp)
        notes.append(label("requires_line", lang, items=list_sep(lang).join(names.get(r, r) for r in star.requires_unmet)))
    return notes


def _branch_notes(exp: BranchExplanation, lang: Lang) -> list[str]:
    notes = []
    for cap in exp.fired_caps:
        notes.append(label("cap_line", lang, name=cap.name, inputs=_inputs_text(cap.inputs, exp, lang),
                           max=level_name(cap.max_stars or 0, lang, exp.levels)))
    if exp.awarded > exp.stars:
        notes.append(label("capped_note", lang, held=exp.awarded, stars=exp.stars))
    if exp.missing:
        names = []
        for m in exp.missing:
            spec = exp.fields.get(m)
            names.append(spec.name or spec.header or m if spec is not None else m)
        notes.append(label("missing_line", lang, items=list_sep(lang).join(names)))
    return notes


def _explain_head(exp: BranchExplanation, lang: Lang) -> tuple[str, str]:
    b = exp.branch
    title = label("explain_title", lang, name=b["branch_name"] or b["branch_id"], id=b["branch_id"])
    where = " ".join(str(v) for v in (b.get("county"), b.get("township"), b.get("period")) if v)
    level = level_cell(exp.stars, exp.level, lang)
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
            gap = f"{gap}{in_brackets(label('near', lang).lower(), lang)}"
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
        parts.append(narrow_table(_indicator_rows(star, exp, stars_by_id[star.id], lang), headers,
                                     title=_star_result_text(star, lang), numeric=[False, False, False, True, True]))
        parts += [Line(n) for n in _star_notes(star, exp, lang)]
    rows = _path_rows(exp, lang)
    if rows:
        parts.append(narrow_table(rows, [label("star", lang), label("gap", lang), label("plan", lang)],
                                     title=label("path_title", lang), numeric=[False, True, False]))
    nxt = _next_text(exp, lang)
    if nxt:
        parts.append(Line(nxt))
    return Doc(parts)
