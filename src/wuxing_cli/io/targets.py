"""Read an annual creation plan (年度创建规划): per group, the planned number of 五星/四星/三星 branches.

Two shapes are accepted (``--targets FILE``):

CSV (UTF-8 with or without BOM, or GB18030/GBK), header on line 1::

    乡镇,五星,四星,三星
    城关镇,2,5,10
    合计,6,15,30          # optional: a county-wide plan (合计/总计/全县/total)

YAML::

    year: 2024                       # optional
    groups:                          # or: targets / 规划
      城关镇: {五星: 2, 四星: 5, 三星: 10}
      河口乡: {五星: 1, 四星: 3}

(a top-level mapping of group → counts, or a list of rows such as ``- {乡镇: 城关镇, 五星: 2}``, also works).
Level keys may be written 五星/5星/5/five (also with 支部, 级, 个 or 计划 around them). A blank cell is 0.
Every bad row is reported with file and line (:class:`~wuxing_cli.errors.DataError`, exit 1).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DataError, Problem, ProblemCode, UsageError
from .yamlsrc import Located, safe_parse_yaml

MAX_BYTES = 5 * 1024 * 1024

GROUP_HEADERS = frozenset({
    "group", "township", "county", "乡镇", "乡镇(街道)", "街道", "乡(镇)", "乡镇街道", "单位", "名称",
    "县区", "县(市、区)", "县(市,区)", "组", "分组",
})
IGNORED_HEADERS = frozenset({"备注", "说明", "序号", "note", "notes", "remark", "remarks", "no", "year", "年度"})
TOTAL_NAMES = frozenset({"合计", "总计", "全县", "全市", "全区", "全县(市、区)", "total", "all", "sum"})

_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class Targets(BaseModel):
    """Planned counts per group, by level (5 → 五星 …), in file order."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="the file the plan was read from")
    year: str | None = None
    groups: dict[str, dict[int, int]] = Field(default_factory=dict)
    total: dict[int, int] | None = Field(None, description="a county-wide plan row, when the file has one")
    lines: dict[str, int] = Field(default_factory=dict, description="group → line in the file")

    @property
    def levels(self) -> list[int]:
        """Levels any row plans, highest first."""
        found: set[int] = set()
        for counts in [*self.groups.values(), *([self.total] if self.total else [])]:
            found.update(counts)
        return sorted(found, reverse=True)


def normalise_group(name: Any) -> str:
    """How group names are matched against the data: NFKC, trimmed."""
    return unicodedata.normalize("NFKC", str(name)).strip()


def level_of(header: Any) -> int | None:
    """5 for 五星 / 5星 / 5 / five / 五星支部 / 五星级(个) …; None when the header names no level."""
    if isinstance(header, bool):
        return None
    if isinstance(header, int):
        return header if 1 <= header <= 5 else None
    text = unicodedata.normalize("NFKC", str(header)).strip().lower().replace(" ", "").replace("_", "")
    text = re.sub(r"\((个|个数|数)\)$", "", text)
    for affix in ("计划", "目标", "规划", "数量", "个数", "个", "支部", "级", "stars", "star"):
        text = text.removesuffix(affix)
    text = text.removeprefix("计划").removeprefix("目标")
    text = text.removesuffix("星").removesuffix("-")
    if text in _DIGITS:
        return _DIGITS[text]
    if text in _WORDS:
        return _WORDS[text]
    if text.isdigit() and 1 <= int(text) <= 5:
        return int(text)
    return None


def load_targets(path: Path) -> Targets:
    """Read a CSV or YAML plan; every problem is collected and raised together as a DataError."""
    file = str(path)
    try:
        with path.open("rb") as handle:  # bounded: a pipe or device has no size to check first
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:  # a path on the command line that cannot be opened: wrong usage (exit 2)
        raise UsageError([Problem(f"cannot read the targets file: {exc.strerror or exc}", file=file,
                                  code=ProblemCode.TARGETS_READ)]) from None
    if len(raw) > MAX_BYTES:
        raise DataError([Problem("the targets file is larger than 5 MB; a plan has one row per group",
                                 file=file, code=ProblemCode.TARGETS_TOO_LARGE)])
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _from_yaml(_decode(raw, file), file)
    if suffix in (".csv", ".txt", ""):
        return _from_csv(_decode(raw, file), file)
    raise DataError([Problem(f"cannot read targets from a '{suffix}' file", file=file, code=ProblemCode.TARGETS_FORMAT,
                             hint="give a .csv or .yaml file: one row per group with 五星/四星/三星 counts")])


def _decode(raw: bytes, file: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError([Problem("the targets file is neither UTF-8 nor GB18030 text", file=file,
                             code=ProblemCode.TARGETS_ENCODING)])  # pragma: no cover - gb18030 decodes almost anything


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.groups: dict[str, dict[int, int]] = {}
        self.lines: dict[str, int] = {}
        self.total: dict[int, int] | None = None
        self.total_line: int | None = None

    def error(self, message: str, line: int | None, *, header: str | None = None, value: Any = None,
              hint: str | None = None, code: ProblemCode = ProblemCode.TARGETS) -> None:
        self.problems.append(Problem(message, file=self.file, line=line, header=header,
                                     value=None if value is None else str(value), hint=hint, code=code))

    def count(self, value: Any, line: int | None, header: str) -> int | None:
        """A planned count: a non-negative integer; blank is 0."""
        if value is None:
            return 0
        if isinstance(value, bool):
            self.error("a planned count must be a whole number", line, header=header, value=value,
                       code=ProblemCode.TARGETS_COUNT)
            return None
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
            if text == "":
                return 0
            if not re.fullmatch(r"[+-]?\d+(\.0+)?", text):
                self.error("a planned count must be a whole number", line, header=header, value=value,
                           code=ProblemCode.TARGETS_COUNT)
                return None
            number = int(float(text))
        if number < 0:
            self.error("a planned count cannot be negative", line, header=header, value=value, code=ProblemCode.TARGETS_COUNT)
            return None
        return number

    def add(self, group: Any, counts: dict[int, int], line: int | None, *, group_header: str) -> None:
        name = normalise_group(group) if group is not None else ""
        if not name:
            self.error("the group name is empty", line, header=group_header, code=ProblemCode.TARGETS_GROUP)
            return
        if name.lower() in TOTAL_NAMES:
            if self.total is not None:
                self.error(f"a second total row '{name}' (the first is at line {self.total_line})", line,
                           header=group_header, value=name, code=ProblemCode.TARGETS_DUPLICATE)
                return
            self.total, self.total_line = counts, line
            return
        if name in self.groups:
            self.error(f"the group '{name}' is planned twice (first at line {self.lines[name]})", line,
                       header=group_header, value=name, code=ProblemCode.TARGETS_DUPLICATE,
                       hint="give each group one row")
            return
        self.groups[name] = counts
        if line is not None:
            self.lines[name] = line

    def finish(self, year: str | None) -> Targets:
        if not self.problems and not self.groups and self.total is None:
            self.error("the targets file plans no group", 1, code=ProblemCode.TARGETS_EMPTY,
                       hint="one row per group: 乡镇,五星,四星,三星")
        if self.problems:
            raise DataError(self.problems)
        return Targets(source=self.file, year=year, groups=self.groups, total=self.total, lines=self.lines)


def _from_csv(text: str, file: str) -> Targets:
    build = _Builder(file)
    rows = list(csv.reader(io.StringIO(text)))
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if not rows:
        build.error("the targets file is empty", 1, code=ProblemCode.TARGETS_EMPTY,
                    hint="one row per group: 乡镇,五星,四星,三星")
        return build.finish(None)
    header = [unicodedata.normalize("NFKC", h).strip() for h in rows[0]]
    group_col: int | None = None
    levels: dict[int, int] = {}
    for col, name in enumerate(header):
        key = name.lower().replace("（", "(").replace("）", ")")
        if key in GROUP_HEADERS and group_col is None:
            group_col = col
        elif (level := level_of(name)) is not None:
            if level in levels.values():
                build.error(f"two columns plan the same level ({name})", 1, header=name, code=ProblemCode.TARGETS_HEADER)
            levels[col] = level
        elif key in IGNORED_HEADERS or not key:
            continue
        else:
            build.error(f"unknown column '{name}' in the targets file", 1, header=name, code=ProblemCode.TARGETS_HEADER,
                        hint="columns: a group column (乡镇/township) and level counts (五星, 四星, 三星)")
    if group_col is None:
        build.error("the targets file has no group column", 1, code=ProblemCode.TARGETS_HEADER,
                    hint="name the first column 乡镇 (or township, 单位, 县区)")
    if not levels:
        build.error("the targets file has no level column", 1, code=ProblemCode.TARGETS_HEADER,
                    hint="add columns 五星, 四星, 三星 with planned counts")
    if build.problems:
        return build.finish(None)
    assert group_col is not None
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header):]):
            build.error(f"the row has {len(row)} cells but the header has {len(header)}", number,
                        code=ProblemCode.TARGETS_ROW)
            continue
        cells = row + [""] * (len(header) - len(row))
        counts: dict[int, int] = {}
        ok = True
        for col, level in levels.items():
            value = build.count(cells[col], number, header[col])
            if value is None:
                ok = False
            else:
                counts[level] = value
        if ok:
            build.add(cells[group_col], counts, number, group_header=header[group_col])
    return build.finish(None)


def _from_yaml(text: str, file: str) -> Targets:
    located, problems = safe_parse_yaml(text, file)
    if located is None or problems:
        raise DataError(problems or [Problem("cannot read the targets file", file=file, code=ProblemCode.TARGETS)])
    build = _Builder(file)
    data = located.data
    year: str | None = None
    body: Any = data
    path: tuple[str | int, ...] = ()
    if isinstance(data, Mapping):
        if "year" in data or "年度" in data:
            raw_year = data.get("year", data.get("年度"))
            year = None if raw_year is None else str(raw_year)
        for key in ("groups", "targets", "规划", "乡镇"):
            if key in data:
                body, path = data[key], (key,)
                break
        else:
            body = {k: v for k, v in data.items() if k not in ("year", "年度", "by")}
    if isinstance(body, Mapping):
        for group, counts in body.items():
            here = (*path, group)
            line = _line(located, here)
            if not isinstance(counts, Mapping):
                build.error(f"the plan of '{group}' must be a mapping such as {{五星: 2, 四星: 5}}", line,
                            value=counts, code=ProblemCode.TARGETS_ROW)
                continue
            parsed = _yaml_counts(build, located, here, counts)
            if parsed is not None:
                build.add(group, parsed, line, group_header="group")
    elif isinstance(body, list):
        for index, row in enumerate(body):
            here = (*path, index)
            line = _line(located, here)
            if not isinstance(row, Mapping):
                build.error("each row must be a mapping such as {乡镇: 城关镇, 五星: 2}", line, value=row,
                            code=ProblemCode.TARGETS_ROW)
                continue
            group_key = next((k for k in row if str(k).strip().lower() in GROUP_HEADERS), None)
            if group_key is None:
                build.error("the row names no group (乡镇/township)", line, code=ProblemCode.TARGETS_GROUP)
                continue
            rest = {k: v for k, v in row.items() if k != group_key}
            parsed = _yaml_counts(build, located, here, rest)
            if parsed is not None:
                build.add(row[group_key], parsed, line, group_header=str(group_key))
    else:
        build.error("the targets file must map each group to its planned counts", _line(located, path),
                    code=ProblemCode.TARGETS_ROW)
    return build.finish(year)


def _line(located: Located, path: tuple[str | int, ...]) -> int | None:
    where = located.locate(path)
    return where[0] if where else None


def _yaml_counts(build: _Builder, located: Located, path: tuple[str | int, ...],
                 counts: Mapping[Any, Any]) -> dict[int, int] | None:
    parsed: dict[int, int] = {}
    ok = True
    for key, value in counts.items():
        line = _line(located, (*path, key))
        if str(key).strip().lower() in IGNORED_HEADERS:
            continue
        level = level_of(key)
        if level is None:
            build.error(f"'{key}' is not a level", line, header=str(key), code=ProblemCode.TARGETS_HEADER,
                        hint="use 五星, 四星, 三星 (or 5, 4, 3)")
            ok = False
            continue
        if level in parsed:
            build.error(f"the level {key} is planned twice", line, header=str(key), code=ProblemCode.TARGETS_DUPLICATE)
            ok = False
            continue
        number = build.count(value, line, str(key))
        if number is None:
            ok = False
        else:
            parsed[level] = number
    return parsed if ok else None
