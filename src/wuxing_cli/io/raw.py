"""RawTable, a data file read as text, and the normalising and coding of its cells."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from wuxing_cli.errors import Problem, ProblemCode
from wuxing_cli.models.contract import LINE

from .cells import needs_normalizing_pattern, normalize_expr
from .header_row import column_name, text_columns


@dataclass(frozen=True)
class RawTable:
    """A data file read as text: every cell NFKC-normalised, trimmed, and null when empty.

    Internally (``dictionary`` set) most columns are *coded*: UInt32 codes into ``dictionary``,
    the file's distinct cell texts, normalised. Normalising and parsing then happen once per
    distinct text rather than once per cell, and the frame takes 4 bytes a cell instead of a
    string's 16. :func:`read_raw` always returns plain String columns (:meth:`decoded`).
    """

    path: str
    headers: list[str]  # as written (trimmed; line breaks inside a header become one space)
    frame: pl.DataFrame  # one String column per header (named by it; "__column_N" when blank) + LINE
    encoding: str  # "utf-8", "utf-8-sig", "gb18030" (or the codec asked for), "xlsx"
    header_line: int = 1  # physical line (or Excel row) of the header
    dictionary: pl.Series | None = None  # the texts of the coded (UInt32) columns, by code
    notes: tuple[Problem, ...] = ()  # warnings of the reader (which sheet was read, merged cells filled in)

    def column_name(self, index: int) -> str:
        """Name in ``frame`` of the 0-based column ``index``."""
        return column_name(self.headers, index)

    def is_coded(self, name: str) -> bool:
        return name in self._coded

    @functools.cached_property
    def _coded(self) -> frozenset[str]:
        if self.dictionary is None:
            return frozenset()
        return frozenset(name for name, dtype in self.frame.schema.items() if dtype == pl.UInt32)

    def text(self, name: str) -> pl.Expr:
        """The (normalised) text of column ``name``, coded or not."""
        if self.is_coded(name):
            assert self.dictionary is not None
            return pl.lit(self.dictionary).gather(pl.col(name)).alias(name)
        return pl.col(name)

    def decoded(self) -> RawTable:
        """The same table with every column as text."""
        if self.dictionary is None:
            return self
        names = [c for c in self.frame.columns if c != LINE]
        frame = self.frame.select(pl.col(LINE), *(self.text(c) for c in names))
        return RawTable(self.path, self.headers, frame, self.encoding, self.header_line, notes=self.notes)


def _normalised(texts: pl.Series) -> pl.Series:
    return texts.to_frame("t").select(normalize_expr(pl.col("t"))).to_series().rename(texts.name)


def normalise(frame: pl.DataFrame, names: Sequence[str]) -> tuple[pl.DataFrame, pl.Series | None]:
    """NFKC, trim and empty → null for every cell; Categorical columns become codes (see RawTable).

    A coded column is normalised once per distinct text (its dictionary entry). A text column is
    only touched where a cell may change: empty, or matching :func:`needs_normalizing_pattern` (a
    character NFKC may change, or white space at either end). A column of plain Chinese names
    needs no work. A row whose cells all become empty is dropped.
    """
    schema = frame.schema
    coded = [c for c in names if isinstance(schema[c], pl.Categorical)]
    dictionary: pl.Series | None = None
    emptied = False
    if coded:
        categorical = schema[coded[0]]
        assert isinstance(categorical, pl.Categorical)
        original = categorical.categories.to_series()
        dictionary = _normalised(original)
        # One chunk per column: an eager select on a frame whose columns are chunked differently
        # realigns (copies) every column, even those it does not read.
        frame = frame.with_columns(pl.col(c).to_physical() for c in coded).rechunk()
        lost = original.is_not_null() & dictionary.is_null()
        if lost.any():  # cells of only spaces, or "": now missing
            gone = pl.lit(lost)
            frame = frame.with_columns(
                pl.when(gone.gather(pl.col(c))).then(None).otherwise(pl.col(c)).alias(c) for c in coded
            )
            emptied = True
    for c in names:
        if c in coded:
            continue
        column = frame.get_column(c)
        maybe = (column.str.len_bytes() == 0) | column.str.contains(needs_normalizing_pattern())
        count = maybe.sum()
        if not count:
            continue
        if count * 4 < frame.height:
            where = maybe.arg_true()
            fixed = _normalised(column.gather(where))
            column = column.scatter(where, fixed)
        else:
            fixed = column = _normalised(column)
        emptied = emptied or fixed.null_count() > 0
        frame = frame.with_columns(column.alias(c))
    if emptied:
        frame = frame.filter(~pl.all_horizontal(pl.col(c).is_null() for c in names))
    return frame, dictionary


def encode_columns(raw: RawTable) -> RawTable:
    """A text RawTable (normalised) with its columns coded as :func:`read_coded` returns them."""
    text = text_columns(raw.headers)
    names = [raw.column_name(i) for i in range(len(raw.headers))]
    coded = [n for i, n in enumerate(names) if i not in text and n in raw.frame.columns]
    if not coded:
        return raw
    categories = pl.Categories.random()
    # The texts must be taken while a Categorical column still holds the categories: they are
    # freed with the last column that uses them.
    frame = raw.frame.with_columns(pl.col(c).cast(pl.Categorical(categories)) for c in coded)
    dictionary = categories.to_series()
    frame = frame.with_columns(pl.col(c).to_physical() for c in coded)
    return RawTable(raw.path, raw.headers, frame, raw.encoding, raw.header_line, dictionary=dictionary,
                    notes=raw.notes)


def drop_blank_and_comments(frame: pl.DataFrame, names: Sequence[str], id_index: int | None) -> pl.DataFrame:
    keep = ~pl.all_horizontal(pl.col(c).is_null() for c in names)
    if id_index is not None:
        keep = keep & ~pl.col(names[id_index]).str.starts_with("#").fill_null(False)
    return frame.filter(keep)


#: Comment rows named one by one; more are summed up in one further warning.
COMMENT_ROWS_LISTED = 20


def comment_row_notes(frame: pl.DataFrame, id_name: str, file: str, *, where: str = "line") -> list[Problem]:
    """One warning per row whose branch id starts with '#' (``frame`` holds LINE and the normalised id):
    such a row is left out as a comment, and says so (SPEC §3: a row is never dropped without a word).
    ``where`` names the row: "line" (CSV) or "row" (a sheet)."""
    ids = frame.filter(pl.col(id_name).str.starts_with("#").fill_null(False)).select(LINE, id_name)
    notes = [
        Problem(f"{where} {line} starts with '#': left out as a comment row", file=file, line=line, value=value,
                severity="warning", code=ProblemCode.COMMENT_ROW,
                hint="if it is a branch, remove the '#' (a branch id may not start with '#')")
        for line, value in ids.head(COMMENT_ROWS_LISTED).iter_rows()
    ]
    if ids.height > COMMENT_ROWS_LISTED:
        notes.append(Problem(f"… and {ids.height - COMMENT_ROWS_LISTED} more comment rows left out", file=file,
                             severity="warning", code=ProblemCode.COMMENT_ROW))
    return notes
