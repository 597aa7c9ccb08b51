"""A small, safe expression language for criteria files, compiled to polars expressions."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NoReturn, TypeAlias

if TYPE_CHECKING:  # polars is imported lazily: `wuxing validate` must start without it
    import polars as pl

# Grammar, loosest first: or; and; not; comparisons (< <= > >= == !=, not chained);
# + -; * /; unary + -; atoms (numbers, true/false, field ids, min(a, b), max(a, b),
# abs(x), parentheses). Nothing else is accepted, and nothing is ever handed to
# Python's eval/compile: the text is tokenised and parsed here.
#
# Semantics, shared by to_polars and evaluate: numbers are Float64; missing
# values (null/None, and NaN/inf in the data) propagate through arithmetic,
# comparisons, min/max/abs; a / 0 and results that overflow are missing;
# and/or/not use three-valued (Kleene) logic; == on numbers is exact.

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

# ------------------------------------------------------------------ tokenizer

_TokType = Literal["num", "name", "kw", "op", "eof"]


@dataclass(frozen=True, slots=True)
class _Tok:
    type: _TokType
    text: str
    column: int  # 1-based
    end: int  # 0-based index just past the token
    value: float = 0.0


_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})

# Python words that are never field ids here; each gets a targeted message.
_FORBIDDEN_WORDS: dict[str, str] = {
    "lambda": "'lambda' is not allowed",
    "if": "'if' is not allowed (no conditional expressions)",
    "else": "'else' is not allowed (no conditional expressions)",
    "for": "'for' is not allowed (no comprehensions or loops)",
    "in": "'in' is not allowed (no membership tests or comprehensions)",
    "is": "'is' is not allowed; use '==' or '!='",
    "None": "'None' is not allowed; missing values cannot be written in expressions",
    "True": "'True' is not allowed; write 'true'",
    "False": "'False' is not allowed; write 'false'",
    "TRUE": "'TRUE' is not allowed; write 'true'",
    "FALSE": "'FALSE' is not allowed; write 'false'",
    "AND": "'AND' is not allowed; write 'and'",
    "OR": "'OR' is not allowed; write 'or'",
    "NOT": "'NOT' is not allowed; write 'not'",
    "And": "'And' is not allowed; write 'and'",
    "Or": "'Or' is not allowed; write 'or'",
    "Not": "'Not' is not allowed; write 'not'",
}
_PY_KEYWORDS = (
    "import",
    "def",
    "class",
    "return",
    "yield",
    "await",
    "async",
    "del",
    "global",
    "nonlocal",
    "assert",
    "try",
    "except",
    "finally",
    "raise",
    "while",
)
_FORBIDDEN_WORDS.update({word: f"'{word}' is not allowed" for word in _PY_KEYWORDS})

_NO_POWER = "expressions support + - * / only"

# Characters that are always rejected, with their messages.
_FORBIDDEN_CHARS: dict[str, str] = {
    "%": f"'%' is not allowed; {_NO_POWER}",
    "^": f"'^' is not allowed; {_NO_POWER}",
    "&": "'&' is not allowed; use 'and'",
    "|": "'|' is not allowed; use 'or'",
    "~": "'~' is not allowed; use 'not' or '-'",
    "[": "indexing and lists ('[') are not allowed",
    "]": "indexing and lists (']') are not allowed",
    "{": "'{' is not allowed (no sets, dicts or comprehensions)",
    "}": "'}' is not allowed (no sets, dicts or comprehensions)",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "`": "strings are not allowed",
    ":": "':' is not allowed (no slices, dicts, lambdas or assignments)",
    ";": "';' is not allowed; write a single expression",
    "#": "comments ('#') are not allowed",
    "@": "'@' is not allowed",
    "\\": "'\\' is not allowed",
}

# Look-alike characters people paste from word processors / CJK input methods.
_LOOKALIKES: dict[str, str] = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash
    "\u00d7": "*",  # multiplication sign
    "\u00f7": "/",  # division sign
    "\u2264": "<=",
    "\u2265": ">=",
    "\u2260": "!=",
    "\u3001": ",",  # ideographic comma
}


def _is_name_start(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch).startswith("L")


def _is_name_char(ch: str) -> bool:
    if ch == "_" or "0" <= ch <= "9":
        return True
    cat = unicodedata.category(ch)
    return cat.startswith("L") or cat.startswith("M") or cat == "Nd"


def _unexpected_char(ch: str, column: int) -> NoReturn:
    hint = _LOOKALIKES.get(ch)
    if hint is None:
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and len(folded) == 1 and folded in "()+-*/<>=,":
            hint = folded
    if hint is not None:
        raise ExprError(f"unexpected character {ch!r}; use {hint!r} instead", column)
    raise ExprError(f"unexpected character {ch!r}", column)


def _scan_number(text: str, i: int) -> _Tok:
    n = len(text)
    j = i
    while j < n and "0" <= text[j] <= "9":
        j += 1
    if j < n and text[j] == ".":
        j += 1
        while j < n and "0" <= text[j] <= "9":
            j += 1
    if j < n and text[j] in "eE":
        k = j + 1
        if k < n and text[k] in "+-":
            k += 1
        if k < n and "0" <= text[k] <= "9":
            while k < n and "0" <= text[k] <= "9":
                k += 1
            j = k
    if j < n and (text[j] == "." or _is_name_char(text[j])):
        k = j
        while k < n and (text[k] == "." or _is_name_char(text[k])):
            k += 1
        raise ExprError(f"malformed number {text[i:k]!r}", i + 1)
    raw = text[i:j]
    digits = sum(1 for c in raw if "0" <= c <= "9")
    if digits > MAX_DIGITS:
        raise ExprError(f"number has too many digits ({digits}; at most {MAX_DIGITS} allowed)", i + 1)
    value = float(raw)
    if not abs(value) <= MAX_MAGNITUDE:
        raise ExprError(f"number {raw} is too large (at most 1e15 in size)", i + 1)
    return _Tok("num", raw, i + 1, j, value)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        col = i + 1
        nxt = text[i + 1] if i + 1 < n else ""
        if ch.isspace():
            i += 1
            continue
        if "0" <= ch <= "9" or (ch == "." and "0" <= nxt <= "9"):
            prev = toks[-1] if toks else None
            if ch == "." and prev is not None and prev.end == i and prev.type == "name":
                raise ExprError("attribute access ('.') is not allowed", col)
            tok = _scan_number(text, i)
            toks.append(tok)
            i = tok.end
            continue
        if _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(text[j]):
                j += 1
            word = text[i:j]
            if "__" in word:
                raise ExprError(f"dunder names are not allowed ({word!r})", col)
            if word in _FORBIDDEN_WORDS:
                raise ExprError(_FORBIDDEN_WORDS[word], col)
            toks.append(_Tok("kw" if word in _KEYWORDS else "name", word, col, j))
            i = j
            continue
        two = text[i : i + 2]
        if two == "**":
            raise ExprError(f"'**' is not allowed; {_NO_POWER}", col)
        if two == "//":
            raise ExprError("'//' is not allowed; use '/' for division", col)
        if two in ("<<", ">>"):
            raise ExprError(f"{two!r} is not allowed; {_NO_POWER}", col)
        if two == "<>":
            raise ExprError("'<>' is not allowed; use '!='", col)
        if two == ":=":
            raise ExprError("':=' is not allowed (no assignments)", col)
        if two in ("<=", ">=", "==", "!="):
            toks.append(_Tok("op", two, col, i + 2))
            i += 2
            continue
        if ch == "=":
            raise ExprError("'=' is not allowed; use '==' to compare", col)
        if ch == "!":
            raise ExprError("'!' is not allowed; use 'not' (or '!=' to compare)", col)
        if ch == ".":
            raise ExprError("attribute access ('.') is not allowed", col)
        if ch in _FORBIDDEN_CHARS:
            raise ExprError(_FORBIDDEN_CHARS[ch], col)
        if ch in "+-*/<>(),":
            toks.append(_Tok("op", ch, col, i + 1))
            i += 1
            continue
        _unexpected_char(ch, col)
    toks.append(_Tok("eof", "", n + 1, n))
    return toks


# --------------------------------------------------------------------- parser
# Precedence climbing. Binary precedences (higher binds tighter); ``not`` sits
# between ``and`` and the comparisons, unary +/- above * and /.

_BINARY_PREC: dict[str, int] = {
    "or": 1,
    "and": 2,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "==": 4,
    "!=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
}
_NOT_PREC = 3
_CMP_PREC = 4
_UNARY_PREC = 7


def _describe(tok: _Tok) -> str:
    if tok.type == "eof":
        return "the end of the expression"
    if tok.type == "num":
        return f"number {tok.text}"
    if tok.type == "name":
        return f"field name {tok.text!r}"
    return repr(tok.text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def advance(self) -> _Tok:
        tok = self.toks[self.pos]
        if tok.type != "eof":
            self.pos += 1
        return tok

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprError(
                f"expression is nested too deeply (more than {MAX_NESTING} levels)",
                tok.column,
            )

    def parse(self) -> Node:
        if self.peek().type == "eof":
            raise ExprError("empty expression", 1)
        node = self.expr(1)
        tok = self.peek()
        if tok.type != "eof":
            self.trailing(tok)
        return node

    def trailing(self, tok: _Tok) -> NoReturn:
        if tok.text == ")":
            raise ExprError("unmatched ')'", tok.column)
        if tok.text == ",":
            raise ExprError("',' is only allowed between function arguments", tok.column)
        if tok.text == "(":
            raise ExprError(
                "only min(a, b), max(a, b) and abs(x) may be called; "
                "an expression in parentheses is not a function",
                tok.column,
            )
        raise ExprError(f"expected an operator but found {_describe(tok)}", tok.column)

    def expr(self, min_prec: int) -> Node:
        left = self.prefix(min_prec)
        last_was_cmp = False
        while True:
            tok = self.peek()
            if tok.type not in ("op", "kw"):
                return left
            prec = _BINARY_PREC.get(tok.text)
            if prec is None or prec < min_prec:
                return left
            if prec == _CMP_PREC:
                if last_was_cmp:
                    raise ExprError(
                        "chained comparisons are not supported; use 'a < b and b < c'",
                        tok.column,
                    )
                last_was_cmp = True
            else:
                last_was_cmp = False
            self.advance()
            right = self.expr(prec + 1)
            left = Binary(tok.text, left, right, tok.column)

    def prefix(self, min_prec: int) -> Node:
        tok = self.peek()
        if tok.type == "kw" and tok.text == "not":
            if min_prec > _NOT_PREC:
                raise ExprError("'not' must be put in parentheses here, e.g. 'a == (not b)'", tok.column)
            self.advance()
            self.enter(tok)
            operand = self.expr(_NOT_PREC)
            self.depth -= 1
            return Not(operand, tok.column)
        if tok.type == "op" and tok.text in ("+", "-"):
            self.advance()
            self.enter(tok)
            operand = self.prefix(_UNARY_PREC)
            self.depth -= 1
            return Unary(tok.text, operand, tok.column)
        return self.atom()

    def atom(self) -> Node:
        tok = self.advance()
        node: Node
        if tok.type == "num":
            node = Num(tok.value, tok.column)
        elif tok.type == "kw" and tok.text in ("true", "false"):
            node = Bool(tok.text == "true", tok.column)
        elif tok.type == "name":
            if self.peek().text == "(":
                node = self.call(tok)
            elif tok.text in FUNCTIONS:
                raise ExprError(
                    f"{tok.text!r} is a function; call it like {_signature(tok.text)}",
                    tok.column,
                )
            else:
                node = Name(tok.text, tok.column)
        elif tok.text == "(" and tok.type == "op":
            self.enter(tok)
            if self.peek().text == ")":
                raise ExprError("empty parentheses", self.peek().column)
            node = self.expr(1)
            self.close(tok)
            self.depth -= 1
        else:
            if tok.type == "eof":
                raise ExprError("unexpected end of expression; expected a value", tok.column)
            raise ExprError(f"expected a value but found {_describe(tok)}", tok.column)
        if self.peek().text == "(" and self.peek().type == "op":
            raise ExprError(
                "only min(a, b), max(a, b) and abs(x) may be called; "
                f"{_describe(tok) if tok.type != 'op' else 'an expression in parentheses'}"
                " is not a function",
                self.peek().column,
            )
        return node

    def close(self, opening: _Tok) -> None:
        tok = self.peek()
        if tok.text == ")" and tok.type == "op":
            self.advance()
            return
        if tok.type == "eof":
            raise ExprError("'(' is never closed", opening.column)
        raise ExprError(f"expected ')' but found {_describe(tok)}", tok.column)

    def call(self, name: _Tok) -> Node:
        func = name.text
        if func not in FUNCTIONS:
            raise ExprError(
                f"only min(a, b), max(a, b) and abs(x) may be called; {func!r} is not a function",
                name.column,
            )
        opening = self.advance()  # "("
        self.enter(opening)
        args: list[Node] = []
        if self.peek().text != ")":
            while True:
                args.append(self.expr(1))
                if self.peek().text == "," and self.peek().type == "op":
                    self.advance()
                    continue
                break
        self.close(opening)
        self.depth -= 1
        want = FUNCTIONS[func]
        if len(args) != want:
            plural = "argument" if want == 1 else "arguments"
            raise ExprError(
                f"{func}() takes exactly {want} {plural}, like {_signature(func)}; got {len(args)}",
                name.column,
            )
        return Call(func, tuple(args), name.column)


def _signature(func: str) -> str:
    return "abs(x)" if func == "abs" else f"{func}(a, b)"


def _children(node: Node) -> tuple[Node, ...]:
    match node:
        case Unary(operand=x) | Not(operand=x):
            return (x,)
        case Binary(left=left, right=right):
            return (left, right)
        case Call(args=args):
            return args
        case _:
            return ()


def _check_height(root: Node) -> None:
    """Reject trees taller than MAX_HEIGHT, iteratively (no recursion)."""
    heights: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        kids = _children(node)
        if not done and kids:
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
            continue
        h = 1 + max((heights[id(k)] for k in kids), default=-1)
        if h > MAX_HEIGHT:
            raise ExprError(
                f"expression is too complex (more than {MAX_HEIGHT} operations deep); "
                "split it into smaller derived fields",
                node.column,
            )
        heights[id(node)] = h


def parse(text: str) -> Node:
    """Parse expression text into an AST; raises ExprError with a 1-based column."""
    if len(text) > MAX_LENGTH:
        raise ExprError(
            f"expression is too long ({len(text)} characters; at most {MAX_LENGTH} allowed)",
            MAX_LENGTH + 1,
        )
    try:
        node = _Parser(text).parse()
    except RecursionError:  # only if the caller's own stack is already very deep
        raise ExprError("expression is nested too deeply", 1) from None
    _check_height(node)
    return node


# ------------------------------------------------------------------ analysis


def names(node: Node) -> list[str]:
    """Field ids referenced by ``node``, in first-occurrence order, without duplicates."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Name):
            seen.setdefault(cur.id, None)
        stack.extend(reversed(_children(cur)))
    return list(seen)


# Internal kinds: "any" is a field whose type is decided by where it is used.
_IKind = Literal["number", "boolean", "any"]


def _infer(node: Node, bool_names: frozenset[str], strict: bool, out: dict[int, _IKind]) -> _IKind:
    result: _IKind
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


def _check_lenient(node: Node, bool_names: Collection[str]) -> tuple[dict[int, _IKind], Kind]:
    kinds: dict[int, _IKind] = {}
    top = _infer(node, frozenset(bool_names), False, kinds)
    return kinds, ("boolean" if top == "boolean" else "number")


def _eq_want(left: Node, right: Node, kinds: dict[int, _IKind]) -> Kind:
    if "boolean" in (kinds[id(left)], kinds[id(right)]):
        return "boolean"
    return "number"


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

    kinds, top = _check_lenient(node, bool_names)

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
                side: Kind = _eq_want(left, right, kinds) if op in EQUALITY else "number"
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


# ------------------------------------------------------------------ evaluate

Value: TypeAlias = float | bool | None


def evaluate(
    node: Node, env: Mapping[str, float | bool | None], bool_names: Collection[str] = ()
) -> float | bool | None:
    """Reference evaluator with exactly the semantics of :func:`to_polars` (one row)."""
    kinds, top = _check_lenient(node, bool_names)

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
                side: Kind = _eq_want(left, right, kinds) if op in EQUALITY else "number"
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
