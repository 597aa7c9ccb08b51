"""Parser of the expression language: tokens to a syntax tree (precedence climbing, bounded depth).

Nothing is ever handed to Python's eval/compile: the text is tokenised and parsed here.
"""

from __future__ import annotations

from typing import NoReturn

from .lexer import Token, tokenize
from .nodes import (
    FUNCTIONS,
    MAX_HEIGHT,
    MAX_LENGTH,
    MAX_NESTING,
    Binary,
    Bool,
    Call,
    ExprError,
    Name,
    Node,
    Not,
    Num,
    Unary,
    children,
)

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


def _describe(tok: Token) -> str:
    if tok.type == "eof":
        return "the end of the expression"
    if tok.type == "num":
        return f"number {tok.text}"
    if tok.type == "name":
        return f"field name {tok.text!r}"
    return repr(tok.text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.pos = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.toks[self.pos]

    def advance(self) -> Token:
        tok = self.toks[self.pos]
        if tok.type != "eof":
            self.pos += 1
        return tok

    def enter(self, tok: Token) -> None:
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

    def trailing(self, tok: Token) -> NoReturn:
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

    def close(self, opening: Token) -> None:
        tok = self.peek()
        if tok.text == ")" and tok.type == "op":
            self.advance()
            return
        if tok.type == "eof":
            raise ExprError("'(' is never closed", opening.column)
        raise ExprError(f"expected ')' but found {_describe(tok)}", tok.column)

    def call(self, name: Token) -> Node:
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


def _check_height(root: Node) -> None:
    """Reject trees taller than MAX_HEIGHT, iteratively (no recursion)."""
    heights: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        kids = children(node)
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
