"""A county's working folder (``wuxing init``): criteria to adapt, the empty form, README, Makefile, run.sh.

The README (the monthly routine in Chinese), the Makefile and run.sh are package-data templates in
``scaffold_files/`` (Jinja2 text, no autoescaping), filled with the ``-c`` flags of the chosen criteria,
the file names below and, for the README, the list of standards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import Problem, ProblemCode, UsageError
from ..models.criteria import Criteria
from .layout import build_form
from .xlsx import write_form_xlsx

FORM_FILE = "自评表.xlsx"
SCHEMA_FILE = "criteria.schema.json"
_SCHEMA_LINE = re.compile(r"^#\s*yaml-language-server:\s*\$schema=\S*\s*$")


def criteria_copy_text(text: str, schema: str = SCHEMA_FILE) -> str:
    """A criteria file's text with its ``yaml-language-server`` line pointing at ``schema``."""
    line = f"# yaml-language-server: $schema={schema}"
    lines = text.splitlines(keepends=True)
    for i, current in enumerate(lines[:5]):
        if _SCHEMA_LINE.match(current.rstrip("\r\n")):
            lines[i] = line + "\n"
            return "".join(lines)
    return line + "\n" + text


def init_folder(directory: Path, names: Sequence[str]) -> list[Path]:
    """Create a county's working folder for the criteria ``names`` (built-in names or paths).

    Writes criteria/<name>.yaml (copies to adapt) with criteria/criteria.schema.json beside them,
    the empty form, README.md, Makefile and run.sh, and the folders submissions/, data/, output/.
    Returns the files written. The caller checks that the folder may be written into.
    """
    from ..io.criteria_loader import load_criteria_set, resolve_criteria_path
    from ..io.resources import schema_path
    from ..io.writers import write_bytes, write_with

    models = load_criteria_set(list(names))
    sources = [resolve_criteria_path(n) for n in names]
    targets: list[str] = []
    for source in sources:
        target = source.name if source.suffix.lower() in (".yaml", ".yml") else source.stem + ".yaml"
        if target in targets:
            raise UsageError([Problem(f"two criteria files are both named '{target}'", code=ProblemCode.INIT_CRITERIA,
                                      hint="rename one of them")])
        targets.append(target)
    directory.mkdir(parents=True, exist_ok=True)
    for sub in ("criteria", "submissions", "data", "output"):
        (directory / sub).mkdir(exist_ok=True)
    written: list[Path] = []

    def put(relative: str, data: bytes, mode: int | None = None) -> None:
        path = directory / relative
        write_bytes(path, data)
        if mode is not None:
            path.chmod(mode)
        written.append(path)

    for source, target in zip(sources, targets, strict=True):
        text = source.read_bytes().decode("utf-8-sig")
        put(f"criteria/{target}", criteria_copy_text(text).encode())
    put(f"criteria/{SCHEMA_FILE}", schema_path().read_bytes())
    form_path = directory / FORM_FILE
    form = build_form(models)
    write_with(form_path, lambda path: write_form_xlsx(path, form))
    written.append(form_path)
    flags = " ".join(f"-c criteria/{t}" for t in targets)
    put("README.md", _render("README.md", flags=flags, standards=_standards(models, targets)).encode())
    put("Makefile", _render("Makefile", flags=flags).encode())
    put("run.sh", _render("run.sh", flags=flags).encode(), 0o755)
    return written


def _render(name: str, **values: Any) -> str:
    """Fill the template ``scaffold_files/<name>.j2`` (the text is kept byte for byte, last newline too)."""
    import jinja2

    text = (resources.files("wuxing_cli.forms") / "scaffold_files" / f"{name}.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(keep_trailing_newline=True, trim_blocks=True, undefined=jinja2.StrictUndefined,
                             autoescape=False)
    return env.from_string(text).render(form_file=FORM_FILE, schema_file=SCHEMA_FILE, **values)


def _standards(models: Sequence[Criteria], targets: Sequence[str]) -> list[dict[str, Any]]:
    """The README's list of standards: file name, name, id, version and branch type of each criteria."""
    return [{"target": t, "name": c.name, "id": c.id, "version": c.version, "branch_type": c.branch_type}
            for c, t in zip(models, targets, strict=True)]
