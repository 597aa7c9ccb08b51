"""wuxing's private cache folder: results that are a pure function of their inputs, kept between runs.

Two users: the entry point replays ``--help``/``validate`` output (:mod:`wuxing_cli.launch`), and the
criteria loader keeps validated criteria (:func:`wuxing_cli.io.criteria_loader.load_criteria_set`), so
that a run on an unchanged criteria file skips YAML parsing, pydantic validation and the cross-checks.

Every key covers the program itself (:func:`program_fingerprint`: version, source files, installed
packages), so an upgrade or an edit starts afresh. The folder is ``$WUXING_CACHE_DIR``, else
``$XDG_CACHE_HOME/wuxing``, else ``~/.cache/wuxing``; ``WUXING_NO_CACHE=1`` turns caching off. Entries
are written atomically; a folder or entry that another user could have written is never read (the
criteria entries are pickles; the replayed outputs are printed as wuxing's own). A cache that
cannot be written is silently skipped.
"""

from __future__ import annotations

import functools
import os
import stat
import sys
from pathlib import Path

MAX_ENTRIES = 256  #: entries kept per kind (suffix); the oldest are removed first
_PACKAGE = Path(__file__).resolve().parent


def enabled() -> bool:
    return not os.environ.get("WUXING_NO_CACHE")


def cache_dir() -> Path:
    if os.environ.get("WUXING_CACHE_DIR"):
        return Path(os.environ["WUXING_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wuxing"


@functools.cache
def program_fingerprint() -> str:
    """The version and every source file of the program and of the packages it renders with."""
    from ._version import __version__
    from .io.resources import criteria_dir

    parts = [__version__, sys.version]
    for root in (_PACKAGE, criteria_dir().parent / "schema"):
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if path.suffix in (".py", ".yaml", ".json", ".j2", ".html", ".md") and "__pycache__" not in path.parts:
                info = path.stat()
                parts.append(f"{path}:{info.st_mtime_ns}:{info.st_size}")
    for entry in sys.path:  # installed packages (typer, rich, pydantic…): their folders change on upgrade
        if entry.endswith("site-packages") and os.path.isdir(entry):
            parts.append(f"{entry}:{os.stat(entry).st_mtime_ns}")
    return "\n".join(parts)


def _trusted(path: Path) -> bool:
    """Owned by this user and writable by nobody else (so its content is this user's own)."""
    try:
        info = path.stat()
    except OSError:
        return False
    owner = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read(name: str, *, trusted_only: bool = False) -> bytes | None:
    """An entry's bytes, or None (missing, unreadable, or — with ``trusted_only`` — not this user's own)."""
    folder = cache_dir()
    path = folder / name
    if trusted_only and not (_trusted(folder) and _trusted(path)):
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store an entry atomically (pruning the oldest of its kind); never fails."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        suffix = Path(name).suffix
        entries = sorted(folder.glob(f"*{suffix}"), key=lambda p: p.stat().st_mtime)
        for old in entries[: max(0, len(entries) - MAX_ENTRIES + 1)]:
            old.unlink(missing_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, folder / name)
    except OSError:
        pass  # a read-only home: no cache, no harm
