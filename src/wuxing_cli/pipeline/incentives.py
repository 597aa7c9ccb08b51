"""Orchestration of ``wuxing incentives``: load the rules, score the data, read the person counts, allocate.

The engine (:mod:`wuxing_cli.engine.incentives`) computes; this module places what it reports in the
rules file (file:line:col) and words it as problems.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.incentives import IncentiveResult, RuleIssue, allocate, prepare_rules
from ..errors import Problem, ProblemCode
from ..io.incentive_rules import Counts, IncentivesError, RuleSet, load_people, load_rules
from ..models.criteria import Criteria
from ..models.periods import Period, find_period_in, try_parse_period
from ..models.results import ScoreRun
from .score import LoadOptions, run_score


@dataclass(frozen=True)
class IncentiveRun:
    """A scored run, its incentives, and every warning met on the way (score, counts, rules)."""

    run: ScoreRun
    result: IncentiveResult
    warnings: list[Problem]


def run_incentives(data: Path, criteria: Sequence[str] | Sequence[Criteria] | None, options: LoadOptions, *,
                   rules: Path, people: Sequence[Path] = (), by: str | None = None) -> IncentiveRun:
    """Load the rules (first, so a broken rules file fails fast), score DATA, read the counts, allocate."""
    rule_set = load_rules(rules)
    run = run_score(data, criteria, options)
    counts, count_warnings = load_people(rule_set, data, run, people, encoding=options.encoding,
                                         sheet=options.sheet)
    result = compute_incentives(rule_set, run, counts, by=by)
    return IncentiveRun(run, result, [*run.warnings, *count_warnings, *result.warnings])


def period_of(run: ScoreRun) -> Period | None:
    """The run's period: the chosen or only period of the data, else one named in the file name."""
    if run.period is not None:
        found = try_parse_period(run.period)
        if found is not None:
            return found
    return find_period_in(Path(run.data.path).stem)


def compute_incentives(rs: RuleSet, run: ScoreRun, counts: Counts, *, by: str | None = None) -> IncentiveResult:
    """Every branch's incentives for the run's period; raises :class:`IncentivesError` when a rule does
    not fit the data (a per-month amount without a known period, an unknown star or branch type)."""
    period = period_of(run)
    infos, issues = prepare_rules(rs.rules, run.criteria, period)
    errors = [problem(rs, i) for i in issues if not i.warning]
    if errors:
        raise IncentivesError(errors)
    result, more = allocate(rs.rules, infos, run.frame, run.criteria, counts.values,
                            period=str(period) if period is not None else run.period,
                            period_kind=period.kind if period is not None else None, by=by)
    warnings = [problem(rs, i) for i in [*issues, *more] if i.warning]
    return dataclasses.replace(result, warnings=warnings)


def problem(rs: RuleSet, issue: RuleIssue) -> Problem:
    """An engine issue as a problem at its place in the rules file."""
    p: dict[str, Any] = dict(issue.params)
    hint: str | None = None
    code = issue.code
    if code is ProblemCode.INCENTIVES:
        message = (f"rule '{p['rule']}' states its amounts per {p['per']}, but the period of the data is "
                   "unknown")
        hint = ("add a 期间 column, pick one with --period, name the file after its period, "
                "or write per: period")
    elif code is ProblemCode.INCENTIVES_STAR:
        names: dict[str, str] = p["stars"]
        close = difflib.get_close_matches(p["name"], list(names), n=1)
        message = f"'{p['name']}' is not a star of the criteria"
        hint = (f"did you mean '{close[0]}'?" if close else
                "use a star id or name: " + ", ".join(f"{i} ({n})" for n, i in list(names.items())[:10]))
    elif code is ProblemCode.INCENTIVES_LEVEL:
        message = f"level {p['level']} is above the most stars a branch can hold ({p['max']}); it never pays"
    elif code is ProblemCode.INCENTIVES_TYPE:
        message = f"branch type '{p['name']}' matches none of the criteria in use ({', '.join(p['types'])})"
    elif code is ProblemCode.MISSING_COUNT:
        message = (f"{p['missing']} eligible branch(es) have no count in '{p['people']}'; rule '{p['rule']}' "
                   "pays them nothing")
        hint = "fill in the counts (0 where there are none)"
    else:
        raise ValueError(f"no wording for the incentives issue {code}")
    return rs.problem(message, *issue.loc, key=issue.key, hint=hint,
                      severity="warning" if issue.warning else "error", code=code)
