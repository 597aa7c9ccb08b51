"""The reference evaluator: one row at a time, with exactly the semantics of the polars compiler."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import TypeAlias

from .check import equality_kind, lenient_kinds
from .nodes import EQUALITY, LOGICAL, Binary, Bool, Call, ExprError, Kind, Name, Node, Not, Num, Unary

# ------------------------------------------------------------------ evaluate

Value: TypeAlias = float | bool | None


def evaluate(
    node: Node, env: Mapping[str, float | bool | None], bool_names: Collection[str] = ()
) -> float | bool | None:
    """Reference evaluator with exactly the semantics of :func:`to_polars` (one row)."""
    kinds, top = lenient_kinds(node, bool_names)

    def num(v: Value) -> float | None:
        if v is None:
            return None
        f = float(v)
        return f if math.isfinite(f) else None

    def ev(n: Node, want: Kind) -> Value:
        match n:
            case Num(value=v):
                return float(v)
            case Bool(value=v):
                return bool(v)
            case Name(id=ident, column=column):
                if ident not in env:
                    raise ExprError(f"unknown field {ident!r}", column)
                raw = env[ident]
                if want == "number":
                    return num(raw)
                if raw is None or isinstance(raw, bool):
                    return raw
                raise ExprError(f"field {ident!r} is used as true/false but is {raw!r}", column)
            case Unary(op=op, operand=x):
                f = num(ev(x, "number"))
                return None if f is None else (-f if op == "-" else f)
            case Not(operand=x):
                b = ev(x, "boolean")
                return None if b is None else not b
            case Call(func=func, args=args):
                vals = [num(ev(arg, "number")) for arg in args]
                if func == "abs":
                    return None if vals[0] is None else abs(vals[0])
                a, b2 = vals
                if a is None or b2 is None:
                    return None
                return min(a, b2) if func == "min" else max(a, b2)
            case Binary(op=op, left=left, right=right):
                if op in LOGICAL:
                    lb, rb = ev(left, "boolean"), ev(right, "boolean")
                    if op == "and":
                        if lb is False or rb is False:
                            return False
                        return None if lb is None or rb is None else True
                    if lb is True or rb is True:
                        return True
                    return None if lb is None or rb is None else False
                side: Kind = equality_kind(left, right, kinds) if op in EQUALITY else "number"
                lv, rv = ev(left, side), ev(right, side)
                if lv is None or rv is None:
                    return None
                if op == "==":
                    return lv == rv
                if op == "!=":
                    return lv != rv
                fx, fy = float(lv), float(rv)
                if op == "<":
                    return fx < fy
                if op == "<=":
                    return fx <= fy
                if op == ">":
                    return fx > fy
                if op == ">=":
                    return fx >= fy
                if op == "/" and fy == 0:
                    return None
                if op == "+":
                    r = fx + fy
                elif op == "-":
                    r = fx - fy
                elif op == "*":
                    r = fx * fy
                elif op == "/":
                    r = fx / fy
                else:
                    raise ExprError(f"unknown operator {op!r}", n.column)
                return r if math.isfinite(r) else None

    if isinstance(node, Name) and kinds[id(node)] == "any":
        if node.id not in env:
            raise ExprError(f"unknown field {node.id!r}", node.column)
        return env[node.id]  # a bare field name is passed through unchanged
    return ev(node, top)
