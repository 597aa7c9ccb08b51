"""YAML 1.1's implicit types in a criteria file: ``yes`` read as true, ``2025.10`` as 2025.1, ``010`` as 8.

Where the file means text (``version``, a category field's ``values``, ``aliases``, the keys of a
category rule's ``map``) the value is read as it is written, with a warning to quote it; where it
means a number, a number YAML 1.1 reads unlike most people (octal ``010``, ``0x1F``, ``1_000``,
sexagesimal ``1:30``) is a warning naming the value YAML read.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem, ProblemCode
from .schema_problems import loc_text
from .yamlsrc import Located, Path_

#: Integers YAML 1.1 reads unlike a person: a leading zero (octal), 0x/0o/0b, digit groups, base 60.
_SURPRISING_NUMBER = re.compile(r"^[-+]?(0[0-9_]+|0[xXoObB].*|.*_.*|.*:.*)$")


def _text_position(path: Path_) -> bool:
    match path:
        case ("version",) | ("branch_type_aliases", int()) | ("fields", _, "values" | "aliases", int()):
            return True
    return False


def _as_read(value: Any) -> str:
    """The text the models make of a bool or number in a text position (``_yaml_key_text``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _set(data: Any, path: Path_, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


def implicit_value_problems(located: Located, file: str) -> list[Problem]:
    """Read text positions as written (mutating ``located.data``) and warn about every surprise."""
    problems: list[Problem] = []
    for path, text in located.texts.items():
        line, col = located.values.get(path, (None, None))
        key = loc_text(path)
        try:
            value = _get(located.data, path)
        except (KeyError, IndexError, TypeError):  # pragma: no cover - every recorded path exists
            continue
        if _text_position(path):
            _set(located.data, path, text)
            if _as_read(value) == text:
                continue
            if path == ("version",):
                message = f"YAML reads version {text} as the number {_as_read(value)}; it is read as \"{text}\""
                hint = f"write version as a string: \"{text}\""
            else:
                message = f"YAML reads '{text}' as {_as_read(value)}; it is read as the text '{text}'"
                hint = f"write '{text}' in quotes"
            problems.append(Problem(message, file=file, line=line, column=col, key=key, severity="warning",
                                    code=ProblemCode.YAML_IMPLICIT, hint=hint))
        elif isinstance(value, int | float) and not isinstance(value, bool) and _SURPRISING_NUMBER.match(text):
            problems.append(Problem(
                f"YAML 1.1 reads '{text}' as the number {value:g}", file=file, line=line, column=col, key=key,
                severity="warning", code=ProblemCode.YAML_IMPLICIT,
                hint=f"write {value:g} if that is meant, or the number without leading zeros, '_' or ':'"))
    problems.extend(_map_keys(located, file))
    return problems


def _map_keys(located: Located, file: str) -> list[Problem]:
    """A category rule's ``map`` keys (``{yes: 10, no: 0}``) as written."""
    problems: list[Problem] = []
    renamed: dict[Path_, dict[Any, str]] = {}
    for path, text in located.key_texts.items():
        parent, key = path[:-1], path[-1]
        if not (len(parent) == 6 and parent[0] == "stars" and parent[2] == "indicators" and parent[4:] == ("rule", "map")):
            continue
        renamed.setdefault(parent, {})[key] = text
        if _as_read(key) != text:
            line, col = located.keys.get(path, (None, None))
            problems.append(Problem(
                f"YAML reads the key '{text}' as {_as_read(key)}; it is read as the text '{text}'", file=file,
                line=line, column=col, key=loc_text(parent), severity="warning", code=ProblemCode.YAML_IMPLICIT,
                hint=f"write '{text}' in quotes"))
    for parent, names in renamed.items():
        try:
            mapping = _get(located.data, parent)
        except (KeyError, IndexError, TypeError):  # pragma: no cover
            continue
        if isinstance(mapping, dict):
            _set(located.data, parent, {names.get(k, k): v for k, v in mapping.items()})
    return problems
