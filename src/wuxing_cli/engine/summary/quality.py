"""Missing values of a scored frame: branches with any, and branches per field."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .common import Catalogue


@dataclass(frozen=True)
class MissingField:
    """A field (by its header, or its name when derived) and the branches missing it.

    ``field_ids`` are the criteria's ids for that header, ``criteria`` the names of the criteria
    that have it; both sorted."""

    field: str
    field_ids: tuple[str, ...]
    branches: int
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Missing:
    branches_with_missing: int
    fields: tuple[MissingField, ...]


def missing_values(frame: pl.DataFrame, catalogue: Catalogue) -> Missing:
    """Fields ordered by branches missing them (most first), then by header."""
    if not frame.height:
        return Missing(0, ())
    with_missing = int(frame.lazy().select((pl.col("missing").fill_null("") != "").sum()).collect().item())
    counts = (
        frame.lazy()
        .select("criteria_id", pl.col("missing").fill_null("").str.split(";").alias("_f"))
        .explode("_f")
        .filter(pl.col("_f") != "")
        .group_by("criteria_id", "_f")
        .len()
        .collect()
    )
    merged: dict[str, tuple[list[str], list[int], list[str]]] = {}
    for criteria_id, fid, n in counts.iter_rows():
        criteria = catalogue.find(criteria_id)
        label = fid
        if criteria is not None and fid in criteria.fields:
            spec = criteria.fields[fid]
            label = (spec.name or fid) if spec.derived else criteria.header_of(fid)
        ids, branches, names = merged.setdefault(label, ([], [0], []))
        branches[0] += int(n)
        if fid not in ids:
            ids.append(fid)
        name = criteria.name if criteria else criteria_id
        if name not in names:
            names.append(name)
    fields = [MissingField(label, tuple(sorted(ids)), branches[0], tuple(sorted(names)))
              for label, (ids, branches, names) in merged.items()]
    return Missing(with_missing, tuple(sorted(fields, key=lambda f: (-f.branches, f.field))))
