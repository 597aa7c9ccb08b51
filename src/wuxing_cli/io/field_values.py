"""Typed values of field columns: polars dtypes, defaults, and the per-dictionary parsed values of
coded columns."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from wuxing_cli.errors import CriteriaError, Problem, ProblemCode
from wuxing_cli.models.criteria import Criteria, FieldSpec, FieldType

from .cells import parse_cell, value_expr
from .headers import default_text
from .raw import RawTable

_DTYPES: dict[FieldType, type[pl.DataType]] = {
    FieldType.number: pl.Float64,
    FieldType.integer: pl.Int64,
    FieldType.percent: pl.Float64,
    FieldType.boolean: pl.Boolean,
    FieldType.category: pl.String,
    FieldType.text: pl.String,
}


def field_dtype(spec: FieldSpec) -> type[pl.DataType]:
    return _DTYPES[spec.type]


def field_default(crit: Criteria, fid: str, spec: FieldSpec) -> float | int | bool | str | None:
    if spec.default is None:
        return None
    try:
        return parse_cell(default_text(spec.default), spec)
    except ValueError as exc:
        raise CriteriaError(
            [
                Problem(
                    f"field '{fid}' of {crit.id}: default {default_text(spec.default)!r} is not valid: {exc}",
                    key=f"fields.{fid}.default",
                    code=ProblemCode.BAD_DEFAULT,
                )
            ]
        ) from None


def typed_value(raw: RawTable, lookups: Lookups, spec: FieldSpec, col: int) -> pl.Expr:
    """The typed value of field column ``col`` (``__c<col>``); a coded column is parsed once per
    distinct text, then looked up by code."""
    if raw.is_coded(raw.column_name(col)):
        return pl.lit(lookups.values(spec)).gather(pl.col(f"__c{col}"))
    return value_expr(pl.col(f"__c{col}"), spec)


class Lookups:
    """Typed values of a coded table's dictionary, per kind of field (type, bounds, allowed values)."""

    def __init__(self, dictionary: pl.Series | None) -> None:
        self._texts = pl.DataFrame({"t": dictionary if dictionary is not None else pl.Series([], dtype=pl.String)})
        self._done: dict[tuple[object, ...], pl.Series] = {}

    @staticmethod
    def _key(spec: FieldSpec) -> tuple[object, ...]:
        return (spec.type, spec.lower, spec.upper, tuple(spec.values or ()))

    def prepare(self, specs: Iterable[FieldSpec]) -> None:
        """Parse the dictionary for all these kinds of field in one query."""
        todo = {self._key(spec): spec for spec in specs if self._key(spec) not in self._done}
        if not todo:
            return
        names = [f"k{i}" for i in range(len(todo))]
        done = self._texts.select(
            value_expr(pl.col("t"), spec).alias(name) for name, spec in zip(names, todo.values(), strict=True)
        )
        for name, key in zip(names, todo, strict=True):
            self._done[key] = done.get_column(name)

    def values(self, spec: FieldSpec) -> pl.Series:
        key = self._key(spec)
        if key not in self._done:
            self.prepare([spec])
        return self._done[key]
