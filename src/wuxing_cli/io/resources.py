"""Locate bundled package data: the shipped criteria, the JSON schema and report templates."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUILTIN_CRITERIA = {"rural": "rural.yaml", "community": "community.yaml"}
#: used when no --criteria is given: both built-ins, rows matched by their branch_type
DEFAULT_CRITERIA = ("rural", "community")
MAX_CRITERIA_BYTES = 5 * 1024 * 1024  #: a criteria file is a few KB; 5 MB is already absurd


def _data_dir(name: str) -> Path:
    """``wuxing_cli/data/<name>`` in a wheel; the repository folder in an editable checkout."""
    packaged = Path(str(resources.files("wuxing_cli"))) / "data" / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / name


def criteria_dir() -> Path:
    return _data_dir("criteria")


def schema_path() -> Path:
    return _data_dir("schema") / "criteria.schema.json"


def builtin_criteria_path(name: str) -> Path | None:
    """The path of a built-in criteria name (``rural``, ``community``), or None."""
    file = BUILTIN_CRITERIA.get(name.strip().lower())
    return criteria_dir() / file if file else None
