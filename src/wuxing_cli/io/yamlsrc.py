"""Safe YAML parsing that keeps line/column marks, rejects duplicate keys and refuses bombs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from ..errors import Problem, ProblemCode
from .resources import MAX_CRITERIA_BYTES

MAX_BYTES = MAX_CRITERIA_BYTES

MAX_DEPTH = 40
MAX_ALIASES = 200
MAX_NODES = 200_000

# libyaml is ten times faster than the pure-Python parser and gives the same marks.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Path_ = tuple[str | int, ...]


@dataclass
class Located:
    """Plain data built from a YAML document plus the position of every value and key."""

    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    #: The source text of every plain (unquoted) scalar that YAML resolved to a bool, int or float, by
    #: path (a mapping key's path ends in the key itself, in ``key_texts``): YAML 1.1 reads ``yes`` as
    #: true, ``2025.10`` as 2025.1 and ``010`` as 8; checks that need the text as written look here.
    texts: dict[Path_, str] = field(default_factory=dict)
    key_texts: dict[Path_, str] = field(default_factory=dict)

    def locate(self, loc: Path_, *, key: bool = False) -> tuple[int, int] | None:
        """1-based (line, column) of the deepest known node on ``loc``.

        Components that are not in the document (pydantic's union tags, missing keys) are skipped,
        so the answer is the nearest enclosing node that exists.
        """
        known: Path_ = ()
        best = self.values.get((), (1, 1))
        for part in loc:
            candidate = (*known, part)
            if candidate in self.values:
                known = candidate
                best = self.values[candidate]
        if key and known in self.keys:
            return self.keys[known]
        return best


#: The tags a criteria file may use, written or implied: the plain data of YAML's core schema.
_CORE_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq"))
_IMPLIED = frozenset({"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})


def _tag_text(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _tag_problem(node: yaml.Node, file: str) -> Problem | None:
    """An unsupported tag (``!include``, ``!!python/name:…``, ``!!timestamp``, …) as a located error."""
    if node.tag in _CORE_TAGS:
        return None
    line, col = _mark(node)
    if node.tag == "tag:yaml.org,2002:timestamp" and isinstance(node, yaml.ScalarNode) and not node.style:
        return Problem(f"'{node.value}' is read by YAML as a date, which a criteria file cannot hold", file=file,
                       line=line, column=col, code=ProblemCode.YAML_TAG, hint=f"write it in quotes: \"{node.value}\"")
    return Problem(f"unsupported YAML tag '{_tag_text(node.tag)}'", file=file, line=line, column=col,
                   code=ProblemCode.YAML_TAG,
                   hint="wuxing's YAML files hold plain values only (text, numbers, true/false, lists, mappings); "
                        "remove the tag, and quote a value such as a date ('2024-01-01')")


def _plain_text(node: yaml.Node) -> str | None:
    """The source text of a plain scalar YAML resolved to a bool or number (None otherwise)."""
    if isinstance(node, yaml.ScalarNode) and not node.style and node.tag in _IMPLIED:
        return str(node.value)
    return None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0


def _precheck(text: str, file: str) -> list[Problem]:
    """Walk the event stream once: depth, alias count and size limits, before building anything."""
    depth = 0
    aliases = 0
    events = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            events += 1
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = _event_pos(event)
                    return [
                        Problem(
                            f"the document is nested more than {MAX_DEPTH} levels deep",
                            file=file, line=line, column=col, code=ProblemCode.YAML_TOO_DEEP,
                            hint="a criteria file needs at most about 8 levels",
                        )
                    ]
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    line, col = _event_pos(event)
                    return [
                        Problem(
                            f"more than {MAX_ALIASES} YAML aliases (*name); refusing a possible alias bomb",
                            file=file, line=line, column=col, code=ProblemCode.YAML_ALIASES,
                            hint="write the values out instead of repeating anchors",
                        )
                    ]
            if events > MAX_NODES:
                return [Problem("the document is too large for a criteria file", file=file, code=ProblemCode.YAML_TOO_LARGE)]
    except yaml.MarkedYAMLError as exc:
        return [_yaml_problem(exc, file, text)]
    except yaml.YAMLError as exc:  # pragma: no cover - defensive: every parser error is marked
        return [Problem(f"cannot parse YAML: {exc}", file=file, code=ProblemCode.YAML_SYNTAX)]
    return []


def _event_pos(event: yaml.Event) -> tuple[int | None, int | None]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)


def _yaml_problem(exc: yaml.MarkedYAMLError, file: str, text: str = "") -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    problem = (exc.problem or "syntax error").strip()
    if "maximum nesting depth" in problem:
        # PyYAML >= 6.0.3 (libyaml) stops deep flow collections itself, before our depth check.
        return Problem(
            f"the document is nested more than {MAX_DEPTH} levels deep",
            file=file, line=line, column=col, code=ProblemCode.YAML_TOO_DEEP,
            hint="a criteria file needs at most about 8 levels",
        )
    context = f" ({exc.context.strip()})" if exc.context else ""
    hint = None
    lines = text.splitlines()
    bad_line = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    if "\\t" in problem or "tab" in problem.lower() or "\t" in bad_line[: (col or 0) + 1]:
        hint = "YAML does not allow tab characters for indentation; use spaces"
    return Problem(
        f"invalid YAML: {problem}{context}", file=file, line=line, column=col, code=ProblemCode.YAML_SYNTAX, hint=hint
    )


def parse_yaml(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """Parse one YAML document into :class:`Located` data, or return the problems that stop it."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return None, [
            Problem(
                f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; a criteria file is a few KB",
                file=file, code=ProblemCode.YAML_TOO_LARGE,
            )
        ]
    problems = _precheck(text, file)
    if problems:
        return None, problems
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(exc, file, text)]
    except yaml.YAMLError as exc:  # pragma: no cover
        return None, [Problem(f"cannot parse YAML: {exc}", file=file, code=ProblemCode.YAML_SYNTAX)]
    if node is None:
        return None, [Problem("the file is empty", file=file, line=1, column=1, code=ProblemCode.YAML_EMPTY)]
    located = Located(data=None)
    located.values[()] = _mark(node)
    constructor = yaml.SafeLoader("")
    budget = _Budget()
    located.data = _build(node, (), located, constructor, problems, file, budget)
    return located, problems


def _build(
    node: yaml.Node,
    path: Path_,
    located: Located,
    constructor: yaml.SafeLoader,
    problems: list[Problem],
    file: str,
    budget: _Budget,
) -> Any:
    budget.nodes += 1
    if budget.nodes > MAX_NODES:
        raise _TooLarge
    located.values[path] = _mark(node)
    problem = _tag_problem(node, file)
    if problem is not None:
        problems.append(problem)
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        seen: dict[Any, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem("YAML merge keys (<<) are not supported", file=file,
                            line=_mark(key_node)[0], column=_mark(key_node)[1], code=ProblemCode.YAML_MERGE)
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem("a mapping key must be a plain value", file=file,
                            line=_mark(key_node)[0], column=_mark(key_node)[1], code=ProblemCode.YAML_KEY)
                )
                continue
            problem = _tag_problem(key_node, file)
            if problem is not None:
                problems.append(problem)
                continue
            key = constructor.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:  # pragma: no cover - scalars are hashable
                key = str(key)
            if key in seen:
                first = seen[key]
                problems.append(
                    Problem(
                        f"duplicate key '{key}' (first defined at line {first[0]})",
                        file=file, line=_mark(key_node)[0], column=_mark(key_node)[1], code=ProblemCode.DUPLICATE_KEY,
                        hint="each key may appear once; remove or rename one of them",
                    )
                )
                continue
            seen[key] = _mark(key_node)
            located.keys[(*path, key)] = _mark(key_node)
            text = _plain_text(key_node)
            if text is not None:
                located.key_texts[(*path, key)] = text
            result[key] = _build(value_node, (*path, key), located, constructor, problems, file, budget)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), located, constructor, problems, file, budget)
            for index, item in enumerate(node.value)
        ]
    text = _plain_text(node)
    if text is not None:
        located.texts[path] = text
    return constructor.construct_object(node, deep=True)


class _TooLarge(Exception):
    pass


def safe_parse_yaml(text: str, file: str) -> tuple[Located | None, list[Problem]]:
    """:func:`parse_yaml`, turning the node budget overflow into a problem."""
    try:
        return parse_yaml(text, file)
    except _TooLarge:
        return None, [Problem("the document is too large for a criteria file", file=file, code=ProblemCode.YAML_TOO_LARGE)]
    except RecursionError:
        return None, [Problem("the document is nested too deeply", file=file, code=ProblemCode.YAML_TOO_DEEP)]
