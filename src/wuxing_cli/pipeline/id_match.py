"""Two scored files that match almost nothing by branch id while their names and townships match: the
ids were changed in one of them (stored as numbers, leading zeros lost), so a comparison would show
every branch as new and removed. Used by ``diff`` and ``history``."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..engine.compare import id_match
from ..errors import Problem
from ..io.data_problems import id_mismatch_warning


def id_mismatch_problems(old: pl.DataFrame, new: pl.DataFrame, old_path: Path | str, new_path: Path | str
                         ) -> list[Problem]:
    """A warning when ``old`` and ``new`` (result frames) match by name and township but not by id."""
    stat = id_match(old, new)
    if not stat.mismatched:
        return []
    return [
        id_mismatch_warning(str(old_path), str(new_path), old=stat.old, new=stat.new, by_id=stat.by_id,
                            by_name=stat.by_name, renamed=stat.renamed, zeros=stat.zeros, examples=stat.examples)
    ]
