"""Static analysis of a syntax tree: the field names it reads and its types (number or true/false)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from .nodes import (
    ARITHMETIC,
    EQUALITY,
    LOGICAL,
    ORDERING,
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
    children,
)


def names(node: Node) -> list[str]:
    """Field ids referenced by ``node``, in first-occurrence order, without duplicates."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Name):
            seen.setdefault(cur.id, None)
        stack.extend(reversed(children(cur)))
    return list(seen)


# Kinds while checking: "any" is a field whose type is decided by where it is used.
InferredKind = Literal["number", "boolean", "any"]


def _infer(node: Node, bool_names: frozenset[str], strict: bool, out: dict[int, InferredKind]) -> InferredKind:
    result: InferredKind
    match node:
        case Num():
            result = "number"
        case Bool():
            result = "boolean"
        case Name(id=ident):
            result = "boolean" if ident in bool_names else ("number" if strict else "any")
        case Unary(op=op, operand=x, column=col):
            if _infer(x, bool_names, strict, out) == "boolean":
                raise ExprError(f"arithmetic on a true/false value (unary '{op}' needs a number)", col)
            result = "number"
        case Not(operand=x, column=col):
            if _infer(x, bool_names, strict, out) == "number":
                raise ExprError("'not' needs a true/false value, but got a number", col)
            result = "boolean"
        case Call(func=func, args=args, column=col):
            for arg in args:
                if _infer(arg, bool_names, strict, out) == "boolean":
                    raise ExprError(f"{func}() needs numbers, but got a true/false value", col)
            result = "number"
        case Binary(op=op, left=left, right=right, column=col):
            lk = _infer(left, bool_names, strict, out)
            rk = _infer(right, bool_names, strict, out)
            if op in ARITHMETIC:
                if "boolean" in (lk, rk):
                    raise ExprError(f"arithmetic on a true/false value ('{op}' needs numbers)", col)
                result = "number"
            elif op in ORDERING:
                if "boolean" in (lk, rk):
                    raise ExprError(f"'{op}' compares numbers, but got a true/false value", col)
                result = "boolean"
            elif op in EQUALITY:
                if {lk, rk} == {"number", "boolean"}:
                    raise ExprError(f"cannot compare a number with a true/false value using '{op}'", col)
                result = "boolean"
            elif op in LOGICAL:
                if "number" in (lk, rk):
                    raise ExprError(f"'{op}' needs true/false values, but got a number", col)
                result = "boolean"
            else:
                raise ExprError(f"unknown operator {op!r}", col)
    out[id(node)] = result
    return result


def kind(node: Node, bool_names: Collection[str] = ()) -> Kind:
    """Static result type of ``node``; fields are numbers unless listed in ``bool_names``."""
    result = _infer(node, frozenset(bool_names), True, {})
    return "boolean" if result == "boolean" else "number"


def lenient_kinds(node: Node, bool_names: Collection[str]) -> tuple[dict[int, InferredKind], Kind]:
    """Type-check ``node`` with fields of undecided type (``"any"``, decided by where they are used),
    as the compiler and the evaluator do: the kind of every node (by ``id``) and the result kind."""
    kinds: dict[int, InferredKind] = {}
    top = _infer(node, frozenset(bool_names), False, kinds)
    return kinds, ("boolean" if top == "boolean" else "number")


def equality_kind(left: Node, right: Node, kinds: dict[int, InferredKind]) -> Kind:
    """What both sides of ``==``/``!=`` are compared as: true/false when either side is one."""
    if "boolean" in (kinds[id(left)], kinds[id(right)]):
        return "boolean"
    return "number"
