"""Error hierarchy and the Problem record every user-facing diagnostic is made of."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

Severity = Literal["error", "warning"]


class ProblemCode(StrEnum):
    """Every kind of problem wuxing reports: the stable, machine-readable ``code`` of a
    :class:`Problem` (``-f json``/``-f github``). Control flow looks at codes, never at messages."""

    ALL_REJECTED = "all-rejected"
    AMBIGUOUS_COLUMN = "ambiguous-column"
    BAD_CELL = "bad-cell"
    BAD_COUNT = "bad-count"
    BAD_DEFAULT = "bad-default"
    BANDS = "bands"
    BANDS_ORDER = "bands-order"
    BANDS_POINTS = "bands-points"
    BANDS_REPEAT = "bands-repeat"
    BLANK_GROUP = "blank-group"
    BOUNDS = "bounds"
    BRANCH = "branch"
    BRANCH_TYPE_CONFLICT = "branch-type-conflict"
    BY = "by"
    CAP_NOOP = "cap-noop"
    CATEGORY_POINTS = "category-points"
    CATEGORY_UNSCORED = "category-unscored"
    CATEGORY_VALUE = "category-value"
    CATEGORY_VALUES = "category-values"
    COLUMN_CONFLICT = "column-conflict"
    COMMENT_ROW = "comment-row"
    CRITERIA = "criteria"
    CRITERIA_NOT_FOUND = "criteria-not-found"
    CSV_PARSE = "csv-parse"
    CSV_QUOTES = "csv-quotes"
    DEFAULT = "default"
    DEFAULT_COLUMN = "default-column"
    DELIMITER = "delimiter"
    DERIVED_CYCLE = "derived-cycle"
    DERIVED_HEADER = "derived-header"
    DERIVED_TYPE = "derived-type"
    DUPLICATE_CONFLICT = "duplicate-conflict"
    DUPLICATE_HEADER = "duplicate-header"
    DUPLICATE_ID = "duplicate-id"
    DUPLICATE_IDENTICAL = "duplicate-identical"
    DUPLICATE_KEY = "duplicate-key"
    DUPLICATE_VALUE = "duplicate-value"
    EMPTY_FILE = "empty-file"
    ENCODING = "encoding"
    ERROR = "error"
    EXCEL = "excel"
    EXPR_SYNTAX = "expr-syntax"
    EXPR_TYPE = "expr-type"
    EXPR_UNKNOWN_FIELD = "expr-unknown-field"
    FORMAT = "format"
    FORMULA_UNCOMPUTED = "formula-uncomputed"
    ID_NUMERIC = "id-numeric"
    ID_SCIENTIFIC = "id-scientific"
    IDS_UNMATCHED = "ids-unmatched"
    INCENTIVES = "incentives"
    INCENTIVES_AMOUNT = "incentives-amount"
    INCENTIVES_KEY = "incentives-key"
    INCENTIVES_LEVEL = "incentives-level"
    INCENTIVES_MISSING = "incentives-missing"
    INCENTIVES_STAR = "incentives-star"
    INCENTIVES_TYPE = "incentives-type"
    INIT_CRITERIA = "init-criteria"
    INIT_DIR = "init-dir"
    IO = "io"
    LEVELS = "levels"
    LINEAR = "linear"
    MAX_POINTS = "max-points"
    MERGED_CELLS = "merged-cells"
    MISSING_COLUMN = "missing-column"
    MISSING_COUNT = "missing-count"
    MISSING_ID = "missing-id"
    MISSING_VALUE = "missing-value"
    MORE = "more"
    NEAR = "near"
    NEEDS_OUTPUT = "needs-output"
    NO_DATA = "no-data"
    NO_FILES = "no-files"
    NO_NAME_COLUMN = "no-name-column"
    OUTPUT_DIR = "output-dir"
    OUTPUT_IS_INPUT = "output-is-input"
    OUTPUT_WRITE = "output-write"
    PARQUET = "parquet"
    PASS_MARK = "pass-mark"
    PERCENT_SCALE = "percent-scale"
    PERIOD = "period"
    PERIOD_ABSENT = "period-absent"
    PERIOD_NO_COLUMN = "period-no-column"
    PERIOD_SEVERAL = "period-several"
    PERIOD_LABEL = "period-label"
    PERIOD_TWICE = "period-twice"
    PERIODS = "periods"
    RAGGED_ROW = "ragged-row"
    REJECTED = "rejected"
    REQUIRES_CYCLE = "requires-cycle"
    REQUIRES_UNKNOWN = "requires-unknown"
    RULE_TYPE = "rule-type"
    SCHEMA = "schema"
    SHARED_HEADER = "shared-header"
    SHEET = "sheet"
    SHEET_CHOSEN = "sheet-chosen"
    SHEET_TOO_LARGE = "sheet-too-large"
    SKIPPED = "skipped"
    TARGETS = "targets"
    TARGETS_COUNT = "targets-count"
    TARGETS_DUPLICATE = "targets-duplicate"
    TARGETS_EMPTY = "targets-empty"
    TARGETS_ENCODING = "targets-encoding"
    TARGETS_FORMAT = "targets-format"
    TARGETS_GROUP = "targets-group"
    TARGETS_HEADER = "targets-header"
    TARGETS_READ = "targets-read"
    TARGETS_ROW = "targets-row"
    TARGETS_TOO_LARGE = "targets-too-large"
    TEMPLATE = "template"
    TEMPLATE_LIMIT = "template-limit"
    TEMPLATE_READ = "template-read"
    TEMPLATE_SYNTAX = "template-syntax"
    TEMPLATE_UNDEFINED = "template-undefined"
    TEMPLATE_UNSAFE = "template-unsafe"
    TENURE_UNCHECKED = "tenure-unchecked"
    THRESHOLD = "threshold"
    TOTALS_ROW = "totals-row"
    UNEARNABLE = "unearnable"
    UNKNOWN_COLUMN = "unknown-column"
    UNKNOWN_FIELD = "unknown-field"
    USAGE = "usage"
    VALUES_TYPE = "values-type"
    XLS = "xls"
    XLSX_ROWS = "xlsx-rows"
    YAML_ALIASES = "yaml-aliases"
    YAML_EMPTY = "yaml-empty"
    YAML_IMPLICIT = "yaml-implicit"
    YAML_KEY = "yaml-key"
    YAML_MERGE = "yaml-merge"
    YAML_SYNTAX = "yaml-syntax"
    YAML_TAG = "yaml-tag"
    YAML_TOO_DEEP = "yaml-too-deep"
    YAML_TOO_LARGE = "yaml-too-large"


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
    code: ProblemCode = ProblemCode.ERROR
    count: int | None = None  # MORE: how many problems were left out
    detail: str | None = None  # a sub-kind shown after the code, e.g. the schema check that failed
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
    def tag(self) -> str:
        """The code as shown to machines: ``code`` or ``code:detail``."""
        return f"{self.code}:{self.detail}" if self.detail else str(self.code)

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
            "code": self.tag,
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

    def __init__(self, problems: Iterable[Problem] | str, *, warnings: Iterable[Problem] = ()) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        self.problems: list[Problem] = list(problems)
        #: warnings found before the errors stopped the work (``validate`` lists them with the errors)
        self.warnings: list[Problem] = list(warnings)
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
