"""A small, safe expression language for criteria files, compiled to polars expressions.

The language's public names, from one module per job: :mod:`.nodes` (limits, :class:`ExprError`,
the syntax tree), :mod:`.lexer` (text to tokens), :mod:`.parser` (tokens to a tree, :func:`parse`),
:mod:`.check` (:func:`names`, :func:`kind`), :mod:`.compiler` (:func:`to_polars`) and
:mod:`.reference` (the one-row reference evaluator). polars is imported only when an expression is
compiled, so `wuxing validate` starts without it.
"""

from __future__ import annotations

from .check import kind, names
from .compiler import to_polars
from .nodes import (
    MAX_DIGITS,
    MAX_HEIGHT,
    MAX_LENGTH,
    MAX_MAGNITUDE,
    MAX_NESTING,
    Binary,
    Bool,
    Call,
    ExprError,
    Kind,
    Name,
    Node,
    Not,
    Num,
    Unary,
)
from .parser import parse
from .reference import evaluate

__all__ = [
    "MAX_DIGITS",
    "MAX_HEIGHT",
    "MAX_LENGTH",
    "MAX_MAGNITUDE",
    "MAX_NESTING",
    "Binary",
    "Bool",
    "Call",
    "ExprError",
    "Kind",
    "Name",
    "Node",
    "Not",
    "Num",
    "Unary",
    "evaluate",
    "kind",
    "names",
    "parse",
    "to_polars",
]
