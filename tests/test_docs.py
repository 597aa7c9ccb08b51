"""The command reference (docs/commands.md) is generated from the CLI and must not drift from it;
every command documents itself with an example; the CI integration files are well-formed."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from types import ModuleType

import yaml

from tests.support import ROOT

SCRIPT = ROOT / "scripts" / "gen_command_docs.py"
REGENERATE = "python scripts/gen_command_docs.py -o docs/commands.md"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_command_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_reference_is_current() -> None:
    expected = generator().render()
    current = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    assert current == expected, f"docs/commands.md is out of date; run: {REGENERATE}"


def test_every_command_has_help_with_an_example() -> None:
    gen = generator()
    root = gen._app()
    names = [name for name, _ in gen.commands(root)]
    assert {"validate", "score", "schema"} <= set(names)
    for name, cmd in gen.commands(root):
        text = cmd.help or ""
        assert text.strip(), f"wuxing {name} has no help text"
        assert any(line.strip().startswith(("Example:", "Examples:")) for line in text.splitlines()), (
            f"wuxing {name}: its help has no 'Example:' section")
        assert any(line.strip().startswith("wuxing ") for line in text.splitlines()), name
        for param in cmd.params:
            if not getattr(param, "hidden", False):
                assert getattr(param, "help", None), f"wuxing {name}: {param.name} has no help"
    reference = gen.render()
    for name in names:
        assert f"\n## wuxing {name}\n" in reference


def test_reference_does_not_depend_on_the_terminal() -> None:
    outputs = set()
    for columns in ("40", "250"):
        env = {**os.environ, "COLUMNS": columns, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert b"\x1b[" not in outputs.pop()


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "wuxing-validate")
    assert hook["entry"] == "wuxing validate"
    assert hook["language"] == "python"
    assert hook["files"].endswith(r"\.ya?ml$")
    import re

    pattern = re.compile(hook["files"])
    assert pattern.search("criteria/rural.yaml") and pattern.search("criteria/2025/community.yml")
    assert not pattern.search(".github/workflows/ci.yml")


def test_workflow_example() -> None:
    text = (ROOT / "docs" / "github-workflow-example.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert "jobs" in workflow
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any("wuxing validate -f github criteria/*.yaml" in run for run in steps)
    assert any("--data" in run for run in steps)


def test_changelog_names_the_current_version() -> None:
    from wuxing_cli import __version__

    assert f"## [{__version__}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
