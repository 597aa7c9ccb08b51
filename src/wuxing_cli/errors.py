"""Error hierarchy and the Problem record every user-facing diagnostic is made of."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One diagnostic: what is wrong, where, and how to fix it.

    ``line`` is 1-based (a data file's header is line 1); ``column`` is the 1-based character
    column in a YAML file; ``header`` is the column header in a data file; ``value`` the bad value.
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    header: str | None = None
    value: str | None = None
    hint: str | None = None
    severity: Severity = "error"
    code: str = "error"
    key: str | None = None  # YAML key path, e.g. stars[1].indicators[0].rule

    def at(self, file: str | None = None, line: int | None = None, column: int | None = None) -> Problem:
        """Return a copy with the location filled in where it is still unknown."""
        return replace(
            self,
            file=self.file if self.file is not None else file,
            line=self.line if self.line is not None else line,
            column=self.column if self.column is not None else column,
        )

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def where(self) -> str:
        """``file:line:col`` with the parts that are known."""
        parts = [p for p in (self.file, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts)

    def describe(self) -> str:
        """The message with key path, column header, value and hint, without position or severity."""
        text = f"{self.key}: " if self.key else ""
        text += self.message
        details = []
        if self.header is not None:
            details.append(f"column '{_visible(self.header)}'")
        if self.value is not None:
            details.append(f"value '{_clip(self.value)}'")
        if details:
            text += " [" + ", ".join(details) + "]"
        if self.hint:
            text += f" — {self.hint}"
        return text

    def format(self) -> str:
        """One line for people: ``file:line:col: error: message [column '…', value '…'] — hint``."""
        head = self.where()
        return (f"{head}: " if head else "") + f"{self.severity}: " + self.describe()

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "header": self.header,
            "value": self.value,
            "key": self.key,
            "hint": self.hint,
        }


def _clip(value: str, limit: int = 80) -> str:
    value = _visible(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(text: str) -> str:
    """Control characters spelt out (a cell holding a line break must not break the one-line message)."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else _ESCAPES.get(ch, f"\\u{ord(ch):04x}") for ch in text
    )


class WuxingError(Exception):
    """Base of every error a user can fix; carries all the problems found, not just the first."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class CriteriaError(WuxingError):
    """A criteria file is invalid (exit 1)."""


class DataError(WuxingError):
    """An assessment file is invalid (exit 1)."""


class UsageError(WuxingError):
    """The command line asks for something impossible (exit 2)."""

    exit_code = 2


def errors_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def warnings_only(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if not p.is_error]
