"""Developer tool: after `git mv OLD NEW`, re-spell NEW's own relative imports (resolved at OLD)."""
from __future__ import annotations
import ast, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from dev_move_names import ROOT, spell, render, package_of  # noqa: E402

def main() -> None:
    old, new = (Path(a).resolve() for a in sys.argv[1:3])
    text = new.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package_of(old).split(".")
            if node.level > 1:
                base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
            indent = lines[node.lineno - 1][: node.col_offset]
            tail = lines[node.end_lineno - 1].rstrip("\n")
            comment = "  " + tail[tail.index("#"):] if "#" in tail and "noqa" in tail else ""
            edits.append((node.lineno, node.end_lineno, render(indent, spell(source, new), node.names) + comment + "\n"))
    for s, e, r in sorted(edits, reverse=True):
        lines[s - 1:e] = [r]
    new.write_text("".join(lines), encoding="utf-8")

if __name__ == "__main__":
    main()
