"""Compile a syntax tree to a polars expression (polars is imported only when this runs)."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from .check import equality_kind, lenient_kinds
from .nodes import EQUALITY, LOGICAL, Binary, Bool, Call, ExprError, Kind, Name, Node, Not, Num, Unary

if TYPE_CHECKING:  # polars is imported lazily: `wuxing validate` must start without it
    import polars as pl

# ----------------------------------------------------------------- to_polars
# Numbers are Float64 and always finite or null: NaN/inf in input columns and
# non-finite arithmetic results (overflow, 0/0-like cases) become null.
# Every sub-expression is referenced exactly once in the output tree (no
# when(x).then(x)), so the polars expression grows linearly with the input.

_NON_FINITE = [math.inf, -math.inf, math.nan]


def _finite(expr: pl.Expr) -> pl.Expr:
    return expr.replace(_NON_FINITE, None)


def _null_if_any_null(agg: pl.Expr, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    import polars as pl

    element = pl.element()
    return pl.concat_list([a, b]).list.agg(pl.when(element.null_count() == 0).then(agg))


def to_polars(node: Node, col: Callable[[str], pl.Expr], bool_names: Collection[str] = ()) -> pl.Expr:
    """Compile ``node`` to a polars expression; ``col(field_id)`` supplies field columns.

    Fields are numbers (cast to Float64) unless listed in ``bool_names`` or used
    in a true/false position (operand of and/or/not, or compared with ==/!= to a
    true/false value), where ``col``'s expression is used as-is. An expression
    that is just one field name returns ``col(name)`` unchanged. Raises ExprError
    on type errors.
    """
    import polars as pl

    kinds, top = lenient_kinds(node, bool_names)

    def comp(n: Node, want: Kind) -> pl.Expr:
        match n:
            case Num(value=v):
                return pl.lit(float(v), dtype=pl.Float64)
            case Bool(value=v):
                return pl.lit(bool(v), dtype=pl.Boolean)
            case Name(id=ident):
                if want == "boolean":
                    return col(ident)
                return _finite(col(ident).cast(pl.Float64))
            case Unary(op=op, operand=x):
                inner = comp(x, "number")
                return -inner if op == "-" else inner
            case Not(operand=x):
                return ~comp(x, "boolean")
            case Call(func=func, args=args):
                if func == "abs":
                    return comp(args[0], "number").abs()
                a, b = (comp(arg, "number") for arg in args)
                element = pl.element()
                agg = element.min() if func == "min" else element.max()
                return _null_if_any_null(agg, a, b)
            case Binary(op=op, left=left, right=right):
                if op in LOGICAL:
                    lb, rb = comp(left, "boolean"), comp(right, "boolean")
                    return lb & rb if op == "and" else lb | rb
                side: Kind = equality_kind(left, right, kinds) if op in EQUALITY else "number"
                lx, rx = comp(left, side), comp(right, side)
                if op == "+":
                    return _finite(lx + rx)
                if op == "-":
                    return _finite(lx - rx)
                if op == "*":
                    return _finite(lx * rx)
                if op == "/":
                    return _finite(lx / rx.replace(0.0, None))
                if op == "<":
                    return lx < rx
                if op == "<=":
                    return lx <= rx
                if op == ">":
                    return lx > rx
                if op == ">=":
                    return lx >= rx
                if op == "==":
                    return lx == rx
                if op == "!=":
                    return lx != rx
                raise ExprError(f"unknown operator {op!r}", n.column)

    if isinstance(node, Name) and kinds[id(node)] == "any":
        return col(node.id)  # a bare field name is passed through unchanged
    return comp(node, top)
