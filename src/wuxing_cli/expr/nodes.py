"""The expression language's vocabulary: limits, the error type, the syntax tree and its operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

# Grammar, loosest first: or; and; not; comparisons (< <= > >= == !=, not chained);
# + -; * /; unary + -; atoms (numbers, true/false, field ids, min(a, b), max(a, b),
# abs(x), parentheses). Nothing else is accepted, and nothing is ever handed to
# Python's eval/compile: the text is tokenised and parsed here.
#
# Semantics, shared by to_polars and evaluate: numbers are Float64; missing
# values (null/None, and NaN/inf in the data) propagate through arithmetic,
# comparisons, min/max/abs; a / 0 and results that overflow are missing;
# and/or/not use three-valued (Kleene) logic; == on numbers is exact.

MAX_LENGTH = 2000
"""Longest accepted expression text, in characters."""
MAX_NESTING = 64
"""Deepest accepted nesting of parentheses, calls and unary operators."""
MAX_HEIGHT = 200
"""Deepest accepted chain of operations, e.g. ``a1 + a2 + ... + a201`` (200 operators)."""
MAX_DIGITS = 30
"""Most digits accepted in one number literal."""
MAX_MAGNITUDE = 1e15
"""Largest absolute value accepted for one number literal."""

Kind: TypeAlias = Literal["number", "boolean"]


class ExprError(ValueError):
    """A parse/type error; .column is the 1-based column inside the expression text, .message the text without position."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message, column)
        self.message = message
        self.column = column

    def __str__(self) -> str:
        return f"{self.message} (at column {self.column})"


# --------------------------------------------------------------------------- AST
# ``column`` is where the node starts in the source text (for operators: where
# the operator is). It is informational only and ignored by ==/hash.


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "+" or "-"
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / < <= > >= == != and or
    left: Node
    right: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    func: str  # "min", "max" or "abs"
    args: tuple[Node, ...]
    column: int = field(default=0, compare=False)


Node: TypeAlias = Num | Bool | Name | Unary | Binary | Not | Call

ARITHMETIC = frozenset({"+", "-", "*", "/"})
ORDERING = frozenset({"<", "<=", ">", ">="})
EQUALITY = frozenset({"==", "!="})
LOGICAL = frozenset({"and", "or"})
FUNCTIONS: dict[str, int] = {"min": 2, "max": 2, "abs": 1}


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, left to right."""
    match node:
        case Unary(operand=x) | Not(operand=x):
            return (x,)
        case Binary(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
        case _:
            return ()
