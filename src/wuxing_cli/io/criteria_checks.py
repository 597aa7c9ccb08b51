"""The cross-checks of a criteria file that its schema cannot express (SPEC §2): field headers,
expressions, rules against field types, ids, star requirements, levels; each problem at its line."""

from __future__ import annotations

import difflib
import itertools
import unicodedata
from typing import TYPE_CHECKING

from .. import expr as ex
from ..errors import Problem, ProblemCode
from ..models.contract import RESERVED_HEADERS
from ..models.criteria import (
    NUMERIC_TYPES,
    BandsRule,
    BooleanRule,
    CategoryRule,
    Criteria,
    FieldSpec,
    FieldType,
    Indicator,
    LinearRule,
    ThresholdRule,
)
from .schema_problems import loc_text

if TYPE_CHECKING:
    from .yamlsrc import Located, Path_

#: The Chinese headers each reserved column accepts (SPEC §3): no field may take one as its header.
RESERVED_HEADER_NAMES = {column: headers[1:] for column, headers in RESERVED_HEADERS.items()}


def _norm_header(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


class CriteriaChecker:
    """The cross-checks of SPEC §2 that a schema cannot express."""

    def __init__(self, model: Criteria, located: Located, file: str) -> None:
        self.c = model
        self.located = located
        self.file = file
        self.problems: list[Problem] = []
        self.kinds: dict[str, str] = {}

    def add(self, loc: Path_, message: str, *, code: ProblemCode, hint: str | None = None, warning: bool = False,
            offset: int | None = None, key: bool = False) -> None:
        line, col = self.located.locate(loc, key=key) or (None, None)
        if offset is not None and line is not None and col is not None:
            col = col + offset
        self.problems.append(
            Problem(message, file=self.file, line=line, column=col, code=code, hint=hint,
                    severity="warning" if warning else "error", key=loc_text(loc) or None)
        )

    def run(self) -> None:
        self.check_fields()
        self.check_expressions()
        self.check_stars()
        self.check_requires()
        self.check_levels()

    # fields -------------------------------------------------------------------------------------
    def check_fields(self) -> None:
        seen: dict[str, str] = {}
        for reserved, names in RESERVED_HEADER_NAMES.items():
            for name in (reserved, *names):
                seen[_norm_header(name)] = f"the reserved column '{reserved}'"
        for fid, spec in self.c.fields.items():
            loc: Path_ = ("fields", fid)
            if spec.derived:
                for attr in ("header", "aliases", "default"):
                    if getattr(spec, attr) not in (None, []):  # `default: 0` counts too
                        self.add((*loc, attr), f"derived field '{fid}' has an expr, so it cannot have '{attr}'",
                                 code=ProblemCode.DERIVED_HEADER, key=True)
                continue
            if spec.min is not None and spec.max is not None and spec.min > spec.max:
                self.add((*loc, "min"), f"min {spec.min:g} is greater than max {spec.max:g}", code=ProblemCode.BOUNDS)
            if spec.type is FieldType.category and not spec.values:
                self.add(loc, f"category field '{fid}' needs a list of 'values'", code=ProblemCode.CATEGORY_VALUES)
            if spec.values and spec.type is not FieldType.category:
                self.add((*loc, "values"), "'values' only applies to category fields", code=ProblemCode.VALUES_TYPE, key=True)
            if spec.values and len({_norm_header(v) for v in spec.values}) != len(spec.values):
                self.add((*loc, "values"), "a category value is listed twice", code=ProblemCode.DUPLICATE_VALUE)
            if spec.default is not None:
                self.check_default(fid, spec)
            for index, header in enumerate([spec.header or fid, *spec.aliases]):
                norm = _norm_header(header)
                where: Path_ = (*loc, "header") if index == 0 else (*loc, "aliases", index - 1)
                if spec.header is None and index == 0:
                    where = loc
                if norm in seen and seen[norm] != f"field '{fid}'":
                    self.add(where, f"header '{header}' is also used by {seen[norm]}", code=ProblemCode.SHARED_HEADER,
                             hint="every field needs its own column header")
                seen[norm] = f"field '{fid}'"

    def check_default(self, fid: str, spec: FieldSpec) -> None:
        from .cells import parse_cell

        loc: Path_ = ("fields", fid, "default")
        value = spec.default
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            text = str(int(value))  # YAML `default: -1` arrives as -1.0; show it as written
        else:
            text = str(value)
        try:
            parse_cell(text, spec)
        except ValueError as exc:
            article = "an" if spec.type.value[0] in "aeiou" else "a"
            self.add(loc, f"default {text!r} is not valid for {article} {spec.type.value} field: {exc}",
                     code=ProblemCode.DEFAULT)

    # expressions --------------------------------------------------------------------------------
    def _field_kind(self, fid: str) -> str:
        spec = self.c.fields[fid]
        return "boolean" if spec.type is FieldType.boolean else "number" if spec.numeric else "text"

    def _parse(self, text: str, loc: Path_, expect: str) -> ex.Node | None:
        offset = self._expr_offset(loc)
        try:
            node = ex.parse(text)
        except ex.ExprError as exc:
            self.add(loc, f"expression error: {exc.message} in '{text}'", code=ProblemCode.EXPR_SYNTAX,
                     offset=offset + exc.column - 1)
            return None
        unknown = [n for n in ex.names(node) if n not in self.c.fields]
        for name in unknown:
            close = difflib.get_close_matches(name, list(self.c.fields), n=1)
            self.add(loc, f"expression names unknown field '{name}'", code=ProblemCode.EXPR_UNKNOWN_FIELD,
                     hint=f"did you mean '{close[0]}'?" if close else "declare it under 'fields'",
                     offset=offset + text.find(name))
        if unknown:
            return None
        texts = [n for n in ex.names(node) if self._field_kind(n) == "text"]
        if texts:
            self.add(loc, f"expression uses text/category field '{texts[0]}'; only numbers and yes/no fields "
                     "can be used", code=ProblemCode.EXPR_TYPE)
            return None
        bools = [f for f, s in self.c.fields.items() if s.type is FieldType.boolean]
        try:
            got = ex.kind(node, bool_names=bools)
        except ex.ExprError as exc:
            self.add(loc, f"expression error: {exc.message} in '{text}'", code=ProblemCode.EXPR_TYPE,
                     offset=offset + exc.column - 1)
            return None
        if got != expect:
            want = "a condition (true/false), e.g. 'cases > 0'" if expect == "boolean" else "a number"
            self.add(loc, f"expression '{text}' gives a {got}, but {want} is needed", code=ProblemCode.EXPR_TYPE)
            return None
        return node

    def _expr_offset(self, loc: Path_) -> int:
        """Columns between the node's start and the text (a quote, if any)."""
        line_col = self.located.locate(loc)
        if line_col is None:
            return 0
        return 0  # positions are approximate for quoted scalars; the node start is precise enough

    def check_expressions(self) -> None:
        deps: dict[str, list[str]] = {}
        for fid, spec in self.c.fields.items():
            if spec.expr is None:
                continue
            expect = "boolean" if spec.type is FieldType.boolean else "number"
            if spec.type not in NUMERIC_TYPES and spec.type is not FieldType.boolean:
                self.add(("fields", fid, "type"), f"derived field '{fid}' must be a number, integer, percent or "
                         "boolean", code=ProblemCode.DERIVED_TYPE)
                continue
            node = self._parse(spec.expr, ("fields", fid, "expr"), expect)
            if node is not None:
                deps[fid] = [n for n in ex.names(node) if self.c.fields[n].derived]
        for cycle in _cycles(deps):
            self.add(("fields", cycle[0], "expr"), "derived fields form a cycle: " + " → ".join([*cycle, cycle[0]]),
                     code=ProblemCode.DERIVED_CYCLE)
        for s_index, star in enumerate(self.c.stars):
            for v_index, veto in enumerate(star.vetoes):
                self._parse(veto.when, ("stars", s_index, "vetoes", v_index, "when"), "boolean")
        for c_index, cap in enumerate(self.c.caps):
            self._parse(cap.when, ("caps", c_index, "when"), "boolean")
            if cap.max_stars >= len(self.c.stars):
                self.add(("caps", c_index, "max_stars"), f"cap '{cap.id}' allows {cap.max_stars} stars, so it never "
                         "lowers anything", code=ProblemCode.CAP_NOOP, warning=True)

    # stars --------------------------------------------------------------------------------------
    def check_stars(self) -> None:
        _duplicates(self, [(("stars", i, "id"), s.id) for i, s in enumerate(self.c.stars)], "star")
        _duplicates(self, [(("caps", i, "id"), c.id) for i, c in enumerate(self.c.caps)], "cap")
        for s_index, star in enumerate(self.c.stars):
            base: Path_ = ("stars", s_index)
            _duplicates(self, [((*base, "indicators", i, "id"), ind.id) for i, ind in enumerate(star.indicators)],
                        f"indicator in star '{star.id}'")
            _duplicates(self, [((*base, "vetoes", i, "id"), v.id) for i, v in enumerate(star.vetoes)],
                        f"veto in star '{star.id}'")
            reachable = 0.0
            blocked = False
            for i_index, ind in enumerate(star.indicators):
                best = self.check_indicator(ind, (*base, "indicators", i_index))
                reachable += best
                if ind.required and best < ind.points:
                    blocked = True
                    self.add((*base, "indicators", i_index, "required"),
                             f"required indicator '{ind.id}' can score at most {best:g} of {ind.points:g}, so star "
                             f"'{star.id}' can never be earned", code=ProblemCode.UNEARNABLE, warning=True)
            total = star.total_points
            if star.max_points is not None and abs(star.max_points - total) > 1e-9:
                self.add((*base, "max_points"), f"max_points {star.max_points:g} differs from the sum of the "
                         f"indicators' points ({total:g})", code=ProblemCode.MAX_POINTS,
                         hint=f"set max_points: {total:g} or remove it")
            if star.pass_mark > total + 1e-9:
                self.add((*base, "pass_mark"), f"pass_mark {star.pass_mark:g} exceeds the star's maximum "
                         f"{total:g}", code=ProblemCode.PASS_MARK)
            elif star.pass_mark > reachable + 1e-9 and not blocked:
                self.add((*base, "pass_mark"), f"star '{star.id}' cannot be earned: its rules give at most "
                         f"{reachable:g} points, below the pass mark {star.pass_mark:g}", code=ProblemCode.UNEARNABLE,
                         warning=True)

    def check_indicator(self, ind: Indicator, loc: Path_) -> float:
        """Check one indicator; return the most points its rule can give."""
        if ind.field not in self.c.fields:
            close = difflib.get_close_matches(ind.field, list(self.c.fields), n=1)
            self.add((*loc, "field"), f"indicator '{ind.id}' reads unknown field '{ind.field}'",
                     code=ProblemCode.UNKNOWN_FIELD, hint=f"did you mean '{close[0]}'?" if close else "declare it under 'fields'")
            return ind.points
        spec = self.c.fields[ind.field]
        rule = ind.rule
        rloc: Path_ = (*loc, "rule")
        ftype = spec.type
        fits = {
            ThresholdRule: ftype in NUMERIC_TYPES,
            LinearRule: ftype in NUMERIC_TYPES,
            BandsRule: ftype in NUMERIC_TYPES,
            BooleanRule: ftype is FieldType.boolean,
            CategoryRule: ftype in (FieldType.category, FieldType.text),
        }[type(rule)]
        if not fits:
            self.add((*rloc, "type"), f"a {rule.type} rule cannot score field '{ind.field}' of type {ftype.value}",
                     code=ProblemCode.RULE_TYPE, hint=_rule_hint(ftype))
            return ind.points
        if isinstance(rule, ThresholdRule):
            if rule.min is None and rule.max is None:
                self.add(rloc, "a threshold rule needs 'min' or 'max'", code=ProblemCode.THRESHOLD)
            elif rule.min is not None and rule.max is not None and rule.min > rule.max:
                self.add(rloc, f"threshold min {rule.min:g} is above max {rule.max:g}: nothing can pass",
                         code=ProblemCode.THRESHOLD)
            return ind.points
        if isinstance(rule, LinearRule):
            if rule.zero_at == rule.full_at:
                self.add((*rloc, "full_at"), f"zero_at and full_at are both {rule.zero_at:g}", code=ProblemCode.LINEAR,
                         hint="full_at > zero_at means higher is better; full_at < zero_at means lower is better")
            return ind.points
        if isinstance(rule, BandsRule):
            return self.check_bands(ind, rule, rloc)
        if isinstance(rule, CategoryRule):
            best = 0.0
            values = {_norm_header(v) for v in spec.values or []}
            for value, points in rule.map.items():
                if points > ind.points + 1e-9:
                    self.add((*rloc, "map", value), f"'{value}' gives {points:g} points, more than the indicator's "
                             f"{ind.points:g}", code=ProblemCode.CATEGORY_POINTS)
                if points < 0:
                    self.add((*rloc, "map", value), "points cannot be negative", code=ProblemCode.CATEGORY_POINTS)
                if values and _norm_header(value) not in values:
                    self.add((*rloc, "map", value), f"'{value}' is not one of field '{ind.field}' values: "
                             f"{', '.join(spec.values or [])}", code=ProblemCode.CATEGORY_VALUE, key=True)
                best = max(best, min(points, ind.points))
            scored = {_norm_header(k) for k in rule.map}
            for value in spec.values or []:
                if _norm_header(value) not in scored:
                    self.add((*rloc, "map"), f"category value '{value}' of field '{ind.field}' is not scored by "
                             f"indicator '{ind.id}' (it gets 0 points)", code=ProblemCode.CATEGORY_UNSCORED, warning=True)
            return best
        return ind.points

    def check_bands(self, ind: Indicator, rule: BandsRule, loc: Path_) -> float:
        directions = {"min" if b.min is not None else "max" for b in rule.bands}
        if len(directions) > 1:
            self.add((*loc, "bands"), "bands mix 'min' and 'max'; use one kind in a rule", code=ProblemCode.BANDS)
            return ind.points
        seen: dict[float, int] = {}
        for index, band in enumerate(rule.bands):
            if band.bound in seen:
                self.add((*loc, "bands", index), f"bound {band.bound:g} is repeated (band {seen[band.bound] + 1} and "
                         f"band {index + 1})", code=ProblemCode.BANDS_REPEAT)
            seen.setdefault(band.bound, index)
            if band.points > ind.points + 1e-9:
                self.add((*loc, "bands", index, "points"), f"band gives {band.points:g} points, more than the "
                         f"indicator's {ind.points:g}", code=ProblemCode.BANDS_POINTS)
        ordered = rule.ordered()
        for better, worse in itertools.pairwise(ordered):
            if worse.points > better.points + 1e-9 and better.bound != worse.bound:
                index = rule.bands.index(worse)
                op = "≥" if rule.direction == "min" else "≤"
                self.add((*loc, "bands", index, "points"), f"band {op}{worse.bound:g} gives more points "
                         f"({worse.points:g}) than the better band {op}{better.bound:g} ({better.points:g})",
                         code=ProblemCode.BANDS_ORDER, hint="a worse value must never earn more points")
        return min(max(b.points for b in rule.bands), ind.points)

    def check_requires(self) -> None:
        ids = [s.id for s in self.c.stars]
        graph: dict[str, list[str]] = {}
        for s_index, star in enumerate(self.c.stars):
            graph[star.id] = []
            for r_index, req in enumerate(star.requires):
                if req not in ids:
                    close = difflib.get_close_matches(req, ids, n=1)
                    self.add(("stars", s_index, "requires", r_index), f"star '{star.id}' requires unknown star '{req}'",
                             code=ProblemCode.REQUIRES_UNKNOWN, hint=f"did you mean '{close[0]}'?" if close else
                             f"stars are: {', '.join(ids)}")
                else:
                    graph[star.id].append(req)
        for cycle in _cycles(graph):
            index = ids.index(cycle[0])
            self.add(("stars", index, "requires"), "stars' requires form a cycle: " + " → ".join([*cycle, cycle[0]]),
                     code=ProblemCode.REQUIRES_CYCLE, hint="a star cannot depend on itself, directly or through others")
        self.check_unearnable_requires()

    def check_unearnable_requires(self) -> None:
        bad = {p.key.split(".")[0] for p in self.problems if p.code == ProblemCode.UNEARNABLE and p.key}
        index = {s.id: i for i, s in enumerate(self.c.stars)}
        blocked = {s.id for s in self.c.stars if f"stars[{index[s.id]}]" in bad}
        for star in self.c.stars:
            for req in star.requires:
                if req in blocked and star.id not in blocked:
                    self.add(("stars", index[star.id], "requires"), f"star '{star.id}' requires '{req}', which can "
                             "never be earned, so it cannot be awarded either", code=ProblemCode.UNEARNABLE, warning=True)

    def check_levels(self) -> None:
        for count in range(len(self.c.stars) + 1):
            if count not in self.c.levels:
                self.add(("levels",), f"levels has no label for {count} stars; '{count}' will be shown",
                         code=ProblemCode.LEVELS, warning=True)


def _rule_hint(ftype: FieldType) -> str:
    if ftype in NUMERIC_TYPES:
        return "number fields take threshold, linear or bands rules"
    if ftype is FieldType.boolean:
        return "yes/no fields take a boolean rule"
    return "category fields take a category rule"


def _duplicates(checker: CriteriaChecker, items: list[tuple[Path_, str]], what: str) -> None:
    seen: dict[str, Path_] = {}
    for loc, value in items:
        if value in seen:
            line = checker.located.locate(seen[value])
            first = f" (first at line {line[0]})" if line else ""
            checker.add(loc, f"{what} id '{value}' repeats{first}", code=ProblemCode.DUPLICATE_ID, hint="ids must be unique")
        else:
            seen[value] = loc


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Every elementary cycle found by DFS, each reported once (rotated to start at its smallest member)."""
    found: dict[tuple[str, ...], list[str]] = {}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                start = cycle.index(min(cycle))
                rotated = cycle[start:] + cycle[:start]
                found.setdefault(tuple(rotated), rotated)
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node)
    return list(found.values())
