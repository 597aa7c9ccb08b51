"""Developer tool: rewrite imports after names (or whole modules) moved between modules.

    python scripts/dev_move_names.py OLD.MODULE NEW.MODULE [NAME ...]

With NAMEs: every ``from OLD import NAME`` (absolute or relative, in src/ and tests/) imports
NAME from NEW instead. Without NAMEs: the whole module moved, so ``from OLD import x`` becomes
``from NEW import x``, ``import OLD`` / ``from PARENT import oldname`` (module imports) too.
Imports inside functions are rewritten as well. Run ``ruff check --fix --select I,F401`` after.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = "wuxing_cli"


def module_of(path: Path) -> str:
    rel = path.relative_to(ROOT / "src").with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(path: Path) -> str:
    mod = module_of(path)
    return mod if path.name == "__init__.py" else mod.rpartition(".")[0]


def resolve(node: ast.ImportFrom, path: Path) -> str:
    if not node.level:
        return node.module or ""
    base = package_of(path).split(".")
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def spell(target: str, path: Path) -> str:
    """``from`` clause for ``target`` as seen from ``path``: relative inside src, absolute in tests."""
    if not str(path).startswith(str(ROOT / "src")):
        return target
    here = package_of(path).split(".")
    there = target.split(".")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    if common == 0:
        return target
    ups = len(here) - common
    return "." * (ups + 1) + ".".join(there[common:])


def render(indent: str, source: str, names: list[ast.alias]) -> str:
    items = [a.name + (f" as {a.asname}" if a.asname else "") for a in names]
    line = f"{indent}from {source} import {', '.join(items)}"
    if len(line) <= 110:
        return line
    body = "".join(f"{indent}    {item},\n" for item in items)
    return f"{indent}from {source} import (\n{body}{indent})"


def rewrite(path: Path, old: str, new: str, moved: set[str] | None) -> bool:
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    old_parent, _, old_leaf = old.rpartition(".")
    new_parent, _, new_leaf = new.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = resolve(node, path)
            indent = lines[node.lineno - 1][: node.col_offset]
            keep: list[ast.alias] = []
            go: list[ast.alias] = []
            if source == old or (moved is None and source.startswith(old + ".")):
                if moved is None:
                    target = new + source[len(old):]
                    edits.append((node.lineno, node.end_lineno or node.lineno,
                                  render(indent, spell(target, path), node.names)))
                    continue
                for alias in node.names:
                    (go if alias.name in moved else keep).append(alias)
                if not go:
                    continue
                out = []
                if keep:
                    out.append(render(indent, spell(source, path) if node.level == 0 else
                                      "." * node.level + (node.module or ""), keep))
                out.append(render(indent, spell(new, path), go))
                edits.append((node.lineno, node.end_lineno or node.lineno, "\n".join(out)))
            elif moved is None and source == old_parent and any(a.name == old_leaf for a in node.names):
                for alias in node.names:
                    (go if alias.name == old_leaf else keep).append(alias)
                out = []
                if keep:
                    out.append(render(indent, "." * node.level + (node.module or "") if node.level
                                      else source, keep))
                asname = go[0].asname or old_leaf
                alias = ast.alias(name=new_leaf, asname=asname if asname != new_leaf else None)
                out.append(render(indent, spell(new_parent, path), [alias]))
                edits.append((node.lineno, node.end_lineno or node.lineno, "\n".join(out)))
        elif isinstance(node, ast.Import) and moved is None:
            for alias in node.names:
                if alias.name == old or alias.name.startswith(old + "."):
                    indent = lines[node.lineno - 1][: node.col_offset]
                    name = new + alias.name[len(old):]
                    edits.append((node.lineno, node.end_lineno or node.lineno,
                                  f"{indent}import {name}" + (f" as {alias.asname}" if alias.asname else "")))
    if not edits:
        return False
    for start, end, replacement in sorted(edits, reverse=True):
        tail = lines[end - 1]
        rest = tail[len(tail.rstrip("\n")):]
        comment = ""
        code = tail.rstrip("\n")
        if "#" in code and end == start:
            comment = "  " + code[code.index("#"):] if "noqa" in code else ""
        lines[start - 1:end] = [replacement + comment + (rest or "\n")]
    path.write_text("".join(lines), encoding="utf-8")
    return True


def main() -> None:
    old, new, *names = sys.argv[1:]
    moved = set(names) if names else None
    changed = []
    for base in (ROOT / "src", ROOT / "tests", ROOT / "benchmarks", ROOT / "scripts"):
        for path in sorted(base.rglob("*.py")):
            if path.name == "dev_move_names.py":
                continue
            if rewrite(path, old, new, moved):
                changed.append(path.relative_to(ROOT))
    # string references, e.g. monkeypatch targets "wuxing_cli.x.y.name"
    for path in changed:
        print(path)


if __name__ == "__main__":
    main()
