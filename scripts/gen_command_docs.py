#!/usr/bin/env python3
"""Generate docs/commands.md, the command reference, from the CLI itself.

Walks typer's click command tree (``typer.main.get_command(app)``) and renders every command's
help text, usage, arguments and options as Markdown. The output depends only on the code (no
terminal width, no colours, commands in alphabetical order), so ``tests/test_docs.py`` can fail
when docs/commands.md drifts from it.

    python scripts/gen_command_docs.py              # print to stdout
    python scripts/gen_command_docs.py -o docs/commands.md
    python scripts/gen_command_docs.py --check      # exit 1 when docs/commands.md is stale
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "commands.md"
EXAMPLE_HEADINGS = ("Example:", "Examples:")


def _app() -> Any:
    try:
        import wuxing_cli  # noqa: F401
    except ImportError:  # running from a checkout without an install
        sys.path.insert(0, str(ROOT / "src"))
    import importlib
    import pkgutil

    import typer.main

    from wuxing_cli import cli

    # Every command module, whether or not wuxing_cli/cli/__init__.py imports it yet (a test in
    # tests/cli/test_conventions.py checks that it does), so that the reference never depends on which
    # modules happen to be imported already.
    for module in pkgutil.iter_modules(cli.__path__):
        importlib.import_module(f"wuxing_cli.cli.{module.name}")
    return typer.main.get_command(cli.app)


def commands(root: Any) -> list[tuple[str, Any]]:
    """The visible subcommands, sorted by name."""
    return sorted((name, cmd) for name, cmd in root.commands.items() if not getattr(cmd, "hidden", False))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _help_blocks(text: str) -> list[str]:
    """A command's help as Markdown: paragraphs re-flowed, examples as a shell code block."""
    out: list[str] = []
    paragraphs = [p for p in inspect.cleandoc(text or "").split("\n\n") if p.strip()]
    examples: list[str] = []
    in_examples = False
    for para in paragraphs:
        stripped = para.strip()
        if stripped in EXAMPLE_HEADINGS:
            in_examples = True
            continue
        if in_examples and all(line.startswith(" ") or not line.strip() for line in para.splitlines()):
            examples.extend(line.strip() for line in para.splitlines() if line.strip())
            continue
        in_examples = False
        out.append(" ".join(stripped.split()))
    if examples:
        out.append("**Examples**\n\n```sh\n" + "\n".join(examples) + "\n```")
    return out


def _usage(name: str, cmd: Any) -> str:
    parts = [f"wuxing {name}", "[OPTIONS]"]
    for param in cmd.params:
        if param.param_type_name != "argument" or getattr(param, "hidden", False):
            continue
        label = (param.name or "").upper() + ("..." if param.nargs == -1 else "")
        parts.append(label if param.required else f"[{label}]")
    return " ".join(parts)


def _parameters(cmd: Any, ctx: Any) -> list[str]:
    rows = ["| Argument / option | Description |", "| --- | --- |"]
    for param in cmd.params:
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            label = (param.name or "").upper() + ("..." if param.nargs == -1 else "")
            help_text = getattr(param, "help", None) or ""
            if param.required:
                help_text += " [required]"
            rows.append(f"| `{_cell(label)}` | {_cell(help_text)} |")
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        opts, help_text = record
        rows.append(f"| `{_cell(opts)}` | {_cell(help_text)} |")
    return rows


def render() -> str:
    """The whole of docs/commands.md."""
    root = _app()
    ctx = root.context_class(root, info_name="wuxing")
    lines = [
        "# Command reference",
        "",
        "<!-- Generated from the CLI by scripts/gen_command_docs.py; do not edit by hand.",
        "     Regenerate: python scripts/gen_command_docs.py -o docs/commands.md -->",
        "",
        *_help_blocks(root.help or "")[:1],
        "",
        "```",
        "wuxing [OPTIONS] COMMAND [ARGS]...",
        "```",
        "",
        *_parameters(root, ctx),
        "",
        "Commands: " + " · ".join(f"[{name}](#wuxing-{name})" for name, _ in commands(root)),
    ]
    for name, cmd in commands(root):
        sub = cmd.context_class(cmd, info_name=name, parent=ctx)
        lines += ["", f"## wuxing {name}", "", "```", _usage(name, cmd), "```", ""]
        for block in _help_blocks(cmd.help or ""):
            lines += [block, ""]
        lines += _parameters(cmd, sub)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when {DOC.relative_to(ROOT)} is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{DOC.relative_to(ROOT)} is out of date: run python scripts/gen_command_docs.py "
                             f"-o {DOC.relative_to(ROOT)}\n")
            return 1
        return 0
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
