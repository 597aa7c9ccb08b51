"""JSON documents written piece by piece: the same bytes as :func:`~wuxing_cli.report.tabular.json_text`.

A document whose big array (``branches``) is a :class:`Streamed` is never held as one Python structure
or one string: :func:`json_chunks` yields the head, then each element of the array as soon as it is
built (a slice of rows at a time), then the tail. :func:`pretty` encodes one value exactly as
``json.dumps(value, ensure_ascii=False, indent=2)`` would at that depth of the document — the same
checks in the same order as the standard library's indenting encoder, without its generators — so
joining the pieces gives byte for byte what ``json_text`` gives for the whole document (a test compares
them on nulls, unicode, floats, NaN and nesting). Renderers only format: the pieces are built from
values the engine computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

#: The string encoder of ``json.dumps(..., ensure_ascii=False)`` (the C one when available).
_encode_str: Callable[[str], str] = json.encoder.encode_basestring
_INDENT = "  "


class Streamed:
    """An array of a JSON document produced lazily (iterated once, when the document is written).

    With ``encoded`` the items are already JSON text, as :func:`pretty` writes them at the depth of
    the array's elements (level 2 in a top-level object), e.g. filled in by a :class:`Template`.
    """

    def __init__(self, items: Iterable[Any], *, encoded: bool = False) -> None:
        self.items = items
        self.encoded = encoded

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


def materialise(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with every :class:`Streamed` array built as a list (the whole document in memory)."""
    return {key: ([json.loads(item) for item in value] if value.encoded else list(value))
            if isinstance(value, Streamed) else value for key, value in document.items()}


def json_chunks(document: Mapping[str, Any]) -> Iterator[str]:
    """The pieces of ``json_text(materialise(document))``: a top-level object, arrays possibly streamed."""
    if not document:
        yield "{}\n"
        return
    inner = "\n" + _INDENT
    first = True
    yield "{"
    for key, value in document.items():
        yield ("" if first else ",") + inner + _key(key) + ": "
        first = False
        if isinstance(value, Streamed):
            yield from _array_chunks(value, 1, encoded=value.encoded)
        else:
            yield pretty(value, 1)
    yield "\n}\n"


def _array_chunks(items: Iterable[Any], level: int, *, encoded: bool = False) -> Iterator[str]:
    inner = "\n" + _INDENT * (level + 1)
    empty = True
    for item in items:
        yield ("[" if empty else ",") + inner + (item if encoded else pretty(item, level + 1))
        empty = False
    yield "[]" if empty else "\n" + _INDENT * level + "]"


def pretty(value: Any, level: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=2)`` as it appears ``level`` objects deep."""
    scalar = _SCALARS.get(type(value))
    return scalar(value) if scalar is not None else _encode(value, level)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INF:
        return "Infinity"
    if value == -_INF:
        return "-Infinity"
    return float.__repr__(value)


_INF = float("inf")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _null(value: None) -> str:
    return "null"


#: Encoders of the exact scalar types (subclasses such as enums take the standard library's checks).
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: _encode_str, int: int.__repr__, float: _float, bool: _bool, type(None): _null,
}


def _scalar(value: Any) -> str | None:
    """The JSON of a str, None, bool, int or float (the standard library's order of checks); else None."""
    if isinstance(value, str):
        return _encode_str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    return None


def _key(key: Any) -> str:
    """A dict key as the standard library writes it (only str, float, bool, None and int keys)."""
    if isinstance(key, str):
        return _encode_str(key)
    if isinstance(key, float):
        return _encode_str(_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _encode_str(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


class _Level:
    """What the encoder writes at one depth: the line break and indent, closing brackets, and the
    ``"key": `` prefixes of str keys met so far (a bounded cache: keys repeat in every branch)."""

    __slots__ = ("close_array", "close_object", "inner", "keys")

    def __init__(self, level: int) -> None:
        self.inner = "\n" + _INDENT * (level + 1)
        self.close_array = "\n" + _INDENT * level + "]"
        self.close_object = "\n" + _INDENT * level + "}"
        self.keys: dict[Any, str] = {}

    def key(self, key: Any) -> str:
        prefix = self.inner + _key(key) + ": "
        if type(key) is str and len(self.keys) < _KEY_CACHE:  # True == 1: only str keys are stored
            self.keys[key] = prefix
        return prefix


_KEY_CACHE = 4096
_LEVELS: list[_Level] = []


def _level(level: int) -> _Level:
    while len(_LEVELS) <= level:
        _LEVELS.append(_Level(len(_LEVELS)))
    return _LEVELS[level]


def _encode(value: Any, level: int) -> str:
    """A value that is not a scalar of an exact type (containers, subclasses, sets), ``level`` deep."""
    scalars = _SCALARS
    if isinstance(value, dict):
        if not value:
            return "{}"
        here = _level(level)
        keys = here.keys
        return "{" + ",".join([
            (keys.get(k) or here.key(k))
            + (f(v) if (f := scalars.get(type(v))) is not None else _encode(v, level + 1))
            for k, v in value.items()
        ]) + here.close_object
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        here = _level(level)
        inner = here.inner
        return "[" + ",".join([
            inner + (f(v) if (f := scalars.get(type(v))) is not None else _encode(v, level + 1))
            for v in value
        ]) + here.close_array
    text = _scalar(value)
    if text is not None:
        return text
    from .tabular import _default  # what json_text's ``default`` turns into JSON (sets: sorted lists)

    return _encode(_default(value), level)


# ---- many objects of one shape: a template filled from columns --------------------------------------


class Slot:
    """A place in a :class:`Template` filled, row by row, from a list of values (one column of a slice).

    Each value goes through ``prepare`` (e.g. :func:`~wuxing_cli.report.labels.num`) and is then
    written as :func:`pretty` would. ``by_value``: equal numbers give the same text after ``prepare``
    (true of ``num``, which writes 0.0 and -0.0 alike), so repeated floats are encoded once.
    """

    def __init__(self, column: str, prepare: Callable[[Any], Any] | None = None, *, by_value: bool = False) -> None:
        self.column = column
        self.prepare = prepare
        self.by_value = by_value


class Template:
    """Objects that share their keys and nesting (the branches of a document), written by filling a
    text template: ``pretty(obj, level)`` of an object whose leaves are :class:`Slot` s, with each slot
    replaced by the JSON of a value at that place. Keys, constants, brackets and indentation come from
    :func:`pretty` itself, so the result is byte for byte ``pretty`` of each filled object."""

    def __init__(self, shape: Any, level: int) -> None:
        self.slots: list[Slot] = []
        marked = self._mark(shape)
        text = pretty(marked, level).replace("%", "%%")
        self.levels: list[int] = []
        for n in range(len(self.slots)):
            token = _encode_str(_token(n))
            where = text.index(token)
            line_start = text.rfind("\n", 0, where) + 1
            indent = len(text) - len(text[line_start:].lstrip(" ")) - line_start
            # the value's depth: that of its key's (or, in a list, its own) line; a bare slot: ``level``
            self.levels.append(max(indent // len(_INDENT), level))
            text = text.replace(token, "%s", 1)
        self.text = text

    def _mark(self, shape: Any) -> Any:
        if isinstance(shape, Slot):
            self.slots.append(shape)
            return _token(len(self.slots) - 1)
        if isinstance(shape, dict):
            return {key: self._mark(value) for key, value in shape.items()}
        if isinstance(shape, list):
            return [self._mark(value) for value in shape]
        return shape

    def fill(self, columns: Mapping[str, list[Any]]) -> list[str]:
        """One text per row; ``columns`` holds the slots' values (lists of one length)."""
        encoded = [_encode_column(columns[slot.column], slot.prepare, level, slot.by_value)
                   for slot, level in zip(self.slots, self.levels, strict=True)]
        text = self.text
        return [text % values for values in zip(*encoded, strict=True)]


def _token(n: int) -> str:
    return f"\x00slot{n}\x00"  # a string no shape holds: its JSON ("\u0000slot0\u0000") is unique


def _encode_column(values: list[Any], prepare: Callable[[Any], Any] | None, level: int,
                   by_value: bool = False) -> list[str]:
    kinds = {type(v) for v in values}
    if prepare is None and len(kinds) == 1:
        scalar = _SCALARS.get(next(iter(kinds)))
        if scalar is not None:  # a column of one scalar type: a C loop
            return list(map(scalar, values))
    if len(kinds - {type(None)}) <= 1 and not kinds - (_MEMO_NUMBERS if by_value else _MEMO_KINDS):
        return _memoised(values, prepare, level)
    if prepare is not None:
        values = [prepare(v) for v in values]
    scalars = _SCALARS
    return [f(v) if (f := scalars.get(type(v))) is not None else pretty(v, level) for v in values]


#: Value types whose equal values are written alike (not floats: 0.0 == -0.0; not mixed: 1 == True).
_MEMO_KINDS = frozenset({str, int, bool, type(None)})
_MEMO_NUMBERS = _MEMO_KINDS | {float}
_MEMO_SIZE = 1 << 16


def _memoised(values: list[Any], prepare: Callable[[Any], Any] | None, level: int) -> list[str]:
    """Values of one hashable kind (and nulls) that repeat (empty lists, a few veto ids): each distinct
    one prepared and encoded once per slice."""
    memo: dict[Any, str] = {}
    out = []
    for v in values:
        text = memo.get(v)
        if text is None:
            text = pretty(v if prepare is None else prepare(v), level)
            if len(memo) < _MEMO_SIZE:
                memo[v] = text
        out.append(text)
    return out
