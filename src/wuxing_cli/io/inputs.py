"""The files that the paths given on a command line stand for: a file as given, a folder its data files
(``wuxing history``, the bulletin's ``--history``, ``wuxing merge``). Pure Python: no polars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import Problem, ProblemCode, UsageError
from ..models.contract import DATA_SUFFIXES

_SKIPPED = (".", "~$")  #: hidden files and folders, Excel's lock files


def expand_inputs(
    paths: Sequence[Path], *, recursive: bool = False, exclude: Sequence[Path] = ()
) -> list[Path]:
    """Files as given; a folder stands for its data files (:data:`DATA_SUFFIXES`), sorted by path:
    those directly in it, or with ``recursive`` those anywhere under it.

    Hidden files and folders and Excel's lock files (``~$…``) are skipped, and so are the ``exclude``
    paths (e.g. a command's output inside the folder it reads). A file named twice (say the bulletin's
    DATA inside a ``--history`` folder) is listed once, where it first appears.

    Raises UsageError listing every path that does not exist or is a folder without data files, and
    when no path is given.
    """
    if not paths:
        raise UsageError([Problem("give at least one file or folder", code=ProblemCode.NO_FILES)])
    excluded = {p.resolve() for p in exclude}
    out: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in (path.rglob("*") if recursive else path.iterdir())
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                and not any(part.startswith(_SKIPPED) for part in p.relative_to(path).parts)
                and p.resolve() not in excluded
            )
            if not found:
                problems.append(Problem(f"the folder holds no data files ({', '.join(sorted(DATA_SUFFIXES))})",
                                        file=str(path), code=ProblemCode.NO_FILES))
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            problems.append(Problem("no such file or folder", file=str(path), code=ProblemCode.NO_FILES))
    if problems:
        raise UsageError(problems)
    unique: dict[Path, Path] = {}
    for path in out:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())
