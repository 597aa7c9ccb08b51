"""The header row of a data file: finding it among the first rows, its display text, the
column names of the frame, duplicate headers, and which columns are the branch id and name."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from wuxing_cli.errors import DataError, Problem, ProblemCode
from wuxing_cli.models.contract import RESERVED_HEADERS, STRIP_CHARS, header_key

HEADER_SEARCH_ROWS = 10  #: the header is looked for among this many non-empty rows


_BRANCH_ID_KEYS = frozenset(header_key(h) for h in RESERVED_HEADERS["branch_id"])


@dataclass(frozen=True)
class HeadRecord:
    start: int  # first physical line / row (1-based)
    end: int  # last physical line / row
    cells: list[str]


def head_records(lines: Sequence[str]) -> list[HeadRecord]:
    """The first non-blank records of the file's first lines."""
    reader = csv.reader(io.StringIO("\n".join(lines) + "\n", newline=""))
    out: list[HeadRecord] = []
    prev = 0
    try:
        for row in reader:
            start, end = prev + 1, reader.line_num
            prev = end
            if any(c.strip(STRIP_CHARS) for c in row):
                out.append(HeadRecord(start, end, row))
                if len(out) >= HEADER_SEARCH_ROWS:
                    break
    except csv.Error:
        pass
    return out


def pick_header(records: Sequence[HeadRecord]) -> HeadRecord:
    for record in records:
        if any(header_key(c) in _BRANCH_ID_KEYS for c in record.cells):
            return record
    return records[0]


def display_header(cell: str) -> str:
    cell = cell.strip(STRIP_CHARS)
    if "\n" in cell or "\r" in cell:
        return " ".join(cell.split())
    return cell


def column_name(headers: Sequence[str], index: int) -> str:
    header = headers[index]
    return header if header and not header.startswith("__") else f"__column_{index + 1}"


def check_duplicate_headers(name: str, headers: Sequence[str], line: int) -> None:
    seen: dict[str, int] = {}
    problems: list[Problem] = []
    for i, header in enumerate(headers):
        key = header_key(header)
        if not key:
            continue
        if key in seen:
            j = seen[key]
            problems.append(
                Problem(
                    f"duplicate column header: column {j + 1} '{headers[j]}' and column {i + 1} '{header}'",
                    file=name,
                    line=line,
                    header=header,
                    hint="rename or delete one of them",
                    code=ProblemCode.DUPLICATE_HEADER,
                )
            )
        else:
            seen[key] = i
    if problems:
        raise DataError(problems)


def branch_id_index(headers: Sequence[str]) -> int | None:
    keys = [header_key(h) for h in headers]
    for candidate in RESERVED_HEADERS["branch_id"]:
        key = header_key(candidate)
        if key in keys:
            return keys.index(key)
    return None


def text_columns(headers: Sequence[str]) -> set[int]:
    """Columns kept as text rather than coded: the branch id and name (one distinct value a row)."""
    keys = [header_key(h) for h in headers]
    wanted = {header_key(h) for h in (*RESERVED_HEADERS["branch_id"], *RESERVED_HEADERS["branch_name"])}
    return {i for i, key in enumerate(keys) if key in wanted}
