"""Tokenizer of the expression language: text to tokens, with a targeted message for everything refused."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal, NoReturn

from .nodes import MAX_DIGITS, MAX_MAGNITUDE, ExprError

TokType = Literal["num", "name", "kw", "op", "eof"]


@dataclass(frozen=True, slots=True)
class Token:
    type: TokType
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


def _scan_number(text: str, i: int) -> Token:
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
    return Token("num", raw, i + 1, j, value)


def tokenize(text: str) -> list[Token]:
    toks: list[Token] = []
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
            toks.append(Token("kw" if word in _KEYWORDS else "name", word, col, j))
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
            toks.append(Token("op", two, col, i + 2))
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
            toks.append(Token("op", ch, col, i + 1))
            i += 1
            continue
        _unexpected_char(ch, col)
    toks.append(Token("eof", "", n + 1, n))
    return toks
