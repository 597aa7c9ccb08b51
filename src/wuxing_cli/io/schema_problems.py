"""Pydantic validation errors of a YAML file as problems at file:line:col, with the key path in the
file's own terms and "did you mean" hints for unknown keys (criteria files, incentive rules)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from ..errors import Problem, ProblemCode

if TYPE_CHECKING:
    from .yamlsrc import Located, Path_


def pydantic_problems(
    exc: ValidationError,
    located: Located,
    file: str,
    *,
    valid_keys: Callable[[Path_, Located], list[str]] | None = None,
) -> list[Problem]:
    """Pydantic errors of any YAML file read with :func:`safe_parse_yaml` as problems at file:line:col.

    ``valid_keys(parent_path, located)`` lists the keys accepted under a mapping, for the "did you mean"
    hint on an unknown key (default: the criteria file's models).
    """
    keys_at = valid_keys or _valid_keys
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        is_key = kind == "extra_forbidden"
        line, col = located.locate(loc, key=is_key) or (None, None)
        key = loc_text(loc, tags=True)
        message = err["msg"]
        hint = None
        if kind == "extra_forbidden":
            name = str(loc[-1])
            message = f"unknown key '{name}'"
            valid = keys_at(loc[:-1], located)
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"did you mean '{close[0]}'?" if close else (f"valid keys: {', '.join(valid)}" if valid else None)
            key = loc_text(loc[:-1], tags=True)
        elif kind == "missing":
            message = f"missing required key '{loc[-1]}'"
            key = loc_text(loc[:-1], tags=True)
        elif kind == "union_tag_invalid":
            message = "unknown rule type; use one of threshold, linear, bands, boolean, category"
        elif kind == "union_tag_not_found":
            message = "a rule needs a 'type': threshold, linear, bands, boolean or category"
        elif kind == "value_error":
            message = str(err.get("ctx", {}).get("error", message))  # without pydantic's "Value error, "
        elif kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
            message = ("not a valid id: use letters, digits, '_' or '-', starting with a letter, '_' or a "
                       "Chinese character")
        if "input" in err and kind not in ("missing", "extra_forbidden") and not isinstance(err["input"], dict | list):
            message += f" (got {err['input']!r})"
        problems.append(Problem(message, file=file, line=line, column=col, code=ProblemCode.SCHEMA, detail=kind,
                                key=key or None, hint=hint))
    return problems


_RULE_TAGS = ("threshold", "linear", "bands", "boolean", "category")


def loc_text(loc: Iterable[str | int], *, tags: bool = False) -> str:
    """``stars[0].indicators[1].rule.bands[2]`` for a location path.

    With ``tags`` (pydantic's locations) the discriminated-union tag that pydantic inserts after
    ``rule`` is dropped, and so is its ``[key]`` marker for errors in a mapping's keys; the
    checker's own paths hold neither, so a real ``bands`` key right after ``rule`` is kept.
    """
    text = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif tags and (part == "[key]" or (part in _RULE_TAGS and previous == "rule")):
            pass  # pydantic's discriminated-union tag (or key marker), not a key of the file
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def _valid_keys(parent: Path_, located: Located) -> list[str]:
    """Keys the model accepts at ``parent`` (for 'did you mean' hints)."""
    from ..models import criteria as m

    tags = ("threshold", "linear", "bands", "boolean", "category")
    path = [p for i, p in enumerate(parent) if not (p in tags and i > 0 and parent[i - 1] == "rule")]
    shape = tuple("#" if isinstance(p, int) else p for p in path)
    rule_models: dict[str, type[BaseModel]] = {
        "threshold": m.ThresholdRule, "linear": m.LinearRule, "bands": m.BandsRule,
        "boolean": m.BooleanRule, "category": m.CategoryRule,
    }
    model: type[BaseModel] | None
    match shape:
        case ():
            model = m.Criteria
        case ("fields", _):
            model = m.FieldSpec
        case ("stars", "#"):
            model = m.Star
        case ("stars", "#", "indicators", "#"):
            model = m.Indicator
        case ("stars", "#", "vetoes", "#"):
            model = m.Veto
        case ("caps", "#"):
            model = m.Cap
        case ("stars", "#", "indicators", "#", "rule"):
            data: Any = located.data
            for part in path:
                if isinstance(data, dict):
                    data = data.get(part)
                elif isinstance(data, list) and isinstance(part, int) and part < len(data):
                    data = data[part]
                else:
                    data = None
            model = rule_models.get(str(data.get("type"))) if isinstance(data, dict) else None
        case ("stars", "#", "indicators", "#", "rule", "bands", "#"):
            model = m.Band
        case _:
            model = None
    return sorted(model.model_fields) if model is not None else []
