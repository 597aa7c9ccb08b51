"""Hostile input (issue 6 §2): YAML bombs, deep nesting, huge files, code in expressions and templates.

Every one must be refused with a message naming the file, fast, in bounded memory, without a
traceback. Memory is measured in a child process (its own peak RSS), so other tests cannot skew it.
"""

from __future__ import annotations

import builtins
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import CORPUS, invoke
from wuxing_cli import expr as ex
from wuxing_cli.io.criteria_loader import check_criteria_text, read_criteria

BASE = (CORPUS / "base.yaml").read_text(encoding="utf-8")
SECONDS = 10.0  # generous for slow CI machines; each case takes well under 2 s here
PEAK_MB = 400  # `wuxing validate` alone peaks near 60 MB


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, float, float]:
    """Run the CLI in a child that reports its own peak RSS; returns (exit, stderr+stdout, seconds, MB).

    The peak is the child's VmHWM (Linux): ``ru_maxrss`` survives exec and would report the parent's
    (pytest's) size when it was forked from a large process.
    """
    code = (
        "import resource, sys\n"
        "from wuxing_cli.cli import app\n"
        "try:\n"
        "    app(sys.argv[1:], prog_name='wuxing')\n"
        "except SystemExit as exc:\n"
        "    status = exc.code if isinstance(exc.code, int) else 1\n"
        "else:\n"
        "    status = 0\n"
        "try:\n"
        "    status_text = open('/proc/self/status').read()\n"
        "    peak = next(int(l.split()[1]) for l in status_text.splitlines() if l.startswith('VmHWM:'))\n"
        "except OSError:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "sys.stderr.write(f'\\nPEAK_KB={peak}\\n')\n"
        "sys.exit(status)\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})
    seconds = time.perf_counter() - start
    err = done.stderr.decode("utf-8", "replace")
    peak = next(int(line[8:]) for line in err.splitlines() if line.startswith("PEAK_KB="))
    return done.returncode, err + done.stdout.decode("utf-8", "replace"), seconds, peak / 1024


def assert_refused(code: int, text: str, *fragments: str) -> None:
    assert code == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    for fragment in fragments:
        assert fragment in text, text


# ------------------------------------------------------------------------------------------------
# YAML


def billion_laughs(levels: int = 9, fan: int = 10) -> str:
    lines = ["lol0: &lol0 [" + ", ".join(["lol"] * fan) + "]"]
    for n in range(1, levels + 1):
        lines.append(f"lol{n}: &lol{n} [" + ", ".join([f"*lol{n - 1}"] * fan) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("laughs.yaml", billion_laughs(), "too large"),  # 10^10 nodes from 90 aliases
        ("doubling.yaml", "a0: &a0 [x, x]\n" + "".join(f"a{n}: &a{n} [*a{n - 1}, *a{n - 1}]\n" for n in range(1, 99)),
         "alias"),  # 2^99 nodes from 196 aliases... or the alias limit, whichever comes first
        ("aliases.yaml", "x: &x 1\nl: [" + ", ".join(["*x"] * 1000) + "]\n", "aliases"),
        ("flow-deep.yaml", "fields: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
        ("block-deep.yaml", "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n", "nested more than"),
        ("map-deep.yaml", "a: " + "{b: " * 3000 + "1" + "}" * 3000 + "\n", "nested more than"),
    ],
)
def test_yaml_bombs_are_refused_fast_in_bounded_memory(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    code, out, seconds, peak = run_measured(["validate", name], tmp_path)
    assert_refused(code, out, name)
    assert fragment in out or "too large" in out, out
    assert seconds < SECONDS, f"{seconds:.1f} s"
    assert peak < PEAK_MB, f"{peak:.0f} MB"


def test_alias_bomb_stops_within_the_node_budget_in_process() -> None:
    start = time.perf_counter()
    loaded = check_criteria_text(billion_laughs(), "laughs.yaml")
    assert loaded.criteria is None
    assert [p.code for p in loaded.problems] == ["yaml-too-large"]
    assert time.perf_counter() - start < SECONDS


def test_a_100_mb_criteria_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:  # 100 MB, real bytes (a sparse file would not prove much)
        handle.write(b"schema_version: 1\n")
        block = (b"# " + b"x" * 1021 + b"\n") * 1024
        for _ in range(100):
            handle.write(block)
    code, out, seconds, peak = run_measured(["validate", "big.yaml"], tmp_path)
    assert_refused(code, out, "big.yaml", "larger than 5 MB")
    assert seconds < SECONDS
    assert peak < 150, f"{peak:.0f} MB: the file was read"  # reading it would cost over 100 MB


def test_a_criteria_stream_without_a_size_is_read_only_up_to_the_limit() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    start = time.perf_counter()
    loaded = read_criteria("/dev/zero")  # endless: a size check alone would never stop reading
    assert loaded.criteria is None and loaded.problems[0].code == "yaml-too-large"
    assert time.perf_counter() - start < SECONDS


def test_huge_criteria_through_score_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "big.yaml").write_bytes(b"# " + b"x" * (6 * 1024 * 1024) + b"\n")
    (tmp_path / "d.csv").write_bytes((CORPUS / "data" / "ok.csv").read_bytes())
    code, out, seconds, _ = run_measured(["score", "d.csv", "-c", "big.yaml"], tmp_path)
    assert_refused(code, out, "big.yaml", "larger than 5 MB")
    assert seconds < SECONDS


def test_many_long_lines_within_the_limit_are_fine_and_fast(tmp_path: Path) -> None:
    """The limits do not reject a legitimate file: base.yaml padded to ~4 MB with comments."""
    padded = BASE + ("# " + "注" * 1000 + "\n") * 1300
    (tmp_path / "padded.yaml").write_text(padded, encoding="utf-8")
    code, out, seconds, _ = run_measured(["validate", "padded.yaml"], tmp_path)
    assert code == 0, out
    assert seconds < SECONDS


# ------------------------------------------------------------------------------------------------
# expressions

def _shadow_builtins(monkeypatch: pytest.MonkeyPatch, replacement: object) -> None:
    """Make eval/exec/compile/__import__-by-name fail inside the expression modules (module globals shadow
    builtins for the code of that module only, so pytest itself is unaffected)."""
    import importlib
    import pkgutil

    from wuxing_cli.engine import compile as engine_compile

    expr_modules = [importlib.import_module(f"{ex.__name__}.{m.name}") for m in pkgutil.iter_modules(ex.__path__)]
    assert expr_modules  # every module of the expression package, not only its __init__
    for module in (ex, *expr_modules, engine_compile):
        for name in ("eval", "exec", "compile"):
            assert not hasattr(module, name) or getattr(module, name) is getattr(builtins, name)
            monkeypatch.setattr(module, name, replacement, raising=False)


HOSTILE_EXPRESSIONS = [
    ("__import__('os').system('touch PWNED')", "dunder names are not allowed"),
    ("__import__", "dunder"),
    ("cases.__class__", "attribute access"),
    ("cases.real > 0", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "not allowed"),
    ("open(cases)", "'open' is not a function"),
    ("eval(cases)", "'eval' is not a function"),
    ("getattr(cases, cases)", "'getattr' is not a function"),
    ("lambda: 1", "'lambda' is not allowed"),
    ("(lambda x: x)(1) > 0", "'lambda' is not allowed"),
    ("[c for c in cases]", "not allowed"),
    ("(c for c in cases)", "'for' is not allowed"),
    ("{c: 1 for c in cases}", "not allowed"),
    ("cases if cases else 1", "'if' is not allowed"),
    ("2 ** 99999999 > 0", "'**' is not allowed"),
    ("cases ** cases > 0", "'**' is not allowed"),
    ("9" * 100 + " > 0", "too many digits"),
    ("1e999999 > 0", "too large"),
    ("cases > 0; import os", "';' is not allowed"),
    ("cases[0] > 0", "indexing"),
    ("f'{cases}' > 0", "strings are not allowed"),
    ("cases := 1", "no assignments"),
    ("(" * 500 + "cases" + ")" * 500 + " > 0", "nested too deeply"),
    ("-" * 1980 + "cases > 0", "nested too deeply"),
    ("cases" + " + cases" * 400 + " > 0", "too long"),
    ("not " * 100 + "cases > 0", "nested too deeply"),
]


@pytest.mark.parametrize(("text", "fragment"), HOSTILE_EXPRESSIONS, ids=[t[:30] for t, _ in HOSTILE_EXPRESSIONS])
def test_hostile_expressions_are_refused_by_the_parser(text: str, fragment: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the expression language called eval/exec/compile")

    _shadow_builtins(monkeypatch, forbidden)
    start = time.perf_counter()
    with pytest.raises(ex.ExprError) as info:
        ex.parse(text)
    assert time.perf_counter() - start < 1.0
    assert fragment in info.value.message or fragment in str(info.value), str(info.value)


def test_hostile_expressions_in_a_criteria_file_are_all_reported_with_positions(tmp_path: Path) -> None:
    """Every hostile veto in one file is reported (each with its key and line), and no file appears."""
    vetoes = "".join(
        f"      - {{id: v{n}, name: 否决{n}, when: {json.dumps(text)}}}\n"
        for n, (text, _) in enumerate(HOSTILE_EXPRESSIONS[:20])
    )
    anchor = '      - {id: crime, name: 发生案件, when: "cases > 0"}\n'
    assert anchor in BASE
    (tmp_path / "evil.yaml").write_text(BASE.replace(anchor, anchor + vetoes), encoding="utf-8")
    result = invoke(["validate", str(tmp_path / "evil.yaml")])
    text = result.stdout + result.stderr
    assert result.exit_code == 1, text
    assert "Traceback" not in text
    for n in range(20):
        assert f"stars[0].vetoes[{n + 1}].when" in text, f"veto {n} not reported\n{text}"
    assert "expression error" in text
    assert not any(p.name == "PWNED" for p in tmp_path.iterdir())
    assert not Path("PWNED").exists()


def test_valid_expressions_never_reach_python_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing, type checking, compiling to polars and the reference evaluator use no eval/exec/compile."""
    import polars as pl

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec/compile called")

    _shadow_builtins(monkeypatch, forbidden)
    node = ex.parse("min(a, b) / abs(a - 10) * 2 >= 1 and not (b == 3 or a != 1)")
    assert ex.kind(node) == "boolean"
    frame = pl.DataFrame({"a": [1.0, 5.0, None], "b": [2.0, 3.0, 4.0]})
    got = frame.select(ex.to_polars(node, pl.col).alias("x"))["x"].to_list()
    want = [ex.evaluate(node, {"a": a, "b": b}) for a, b in zip(frame["a"], frame["b"], strict=True)]
    assert got == want


# ------------------------------------------------------------------------------------------------
# templates

TEMPLATES = [
    ("{{ ''.__class__.__mro__ }}", "unsafe"),
    ("{{ cycler.__init__.__globals__.os }}", "unsafe"),
    ("{{ lipsum.__globals__['os'].system('touch PWNED') }}", "'lipsum' is undefined"),  # no lipsum (issue 20 §17)
    ("{{ joiner.__init__.__globals__.__builtins__['__import__']('os').system('touch PWNED') }}", "unsafe"),
    ("{{ self._TemplateReference__context }}", ""),
    ("{{ namespace.__init__.__globals__ }}", "unsafe"),
    ("{{ '{0.__class__}'.format(1) }}", "unsafe"),
    ("{{ meta.__class__ }}", "unsafe"),
    ("{{ sections.append(1) }}", "unsafe"),
    ("{{ 9 ** 9 ** 99 }}", "unsafe"),
    ("{{ ((((9 ** 64) ** 64) ** 64) ** 64) ** 64 }}", "too large"),
    ("{% set ns = namespace(x=3 ** 60) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}"
     "{{ ns.x }}", "too large"),
    ("{{ 'x' * 10 ** 9 }}", "unsafe"),
    ("{{ range(10 ** 9) | list | length }}", "range"),
    ("{% include '/etc/passwd' %}", "passwd"),
    ("{% extends '../../../../etc/passwd' %}", "passwd"),
    ("{% import 'os' as os %}{{ os.system('touch PWNED') }}", ""),
    ("{% for x in %}", "syntax error"),
    ("{{ os.system('touch PWNED') }}", "unknown name"),
]


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize(("template", "fragment"), TEMPLATES, ids=[t[:40] for t, _ in TEMPLATES])
def test_hostile_templates_fail_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template: str,
                                        fragment: str, fmt: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("evil.j2").write_text(template, encoding="utf-8")
    data = CORPUS / "data" / "ok.csv"
    start = time.perf_counter()
    result = invoke(["bulletin", str(data), "-c", str(CORPUS / "base.yaml"), "-f", fmt,
                     "--template", "evil.j2", "-o", f"out.{fmt}"])
    text = result.stdout + result.stderr
    assert time.perf_counter() - start < SECONDS
    assert result.exit_code in (1, 2), text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text and "internal error" not in text, text
    assert "evil.j2" in text and fragment in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.j2"]  # no output, no PWNED, no litter


def test_a_template_may_read_the_view(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the sandbox still lets a template do its job."""
    monkeypatch.chdir(tmp_path)
    Path("ok.j2").write_text('{% extends "bulletin.md" %}{% block closing %}附：{{ overview.branches }}个支部'
                             '{% endblock %}', encoding="utf-8")
    result = invoke(["bulletin", str(CORPUS / "data" / "ok.csv"), "-c", str(CORPUS / "base.yaml"),
                     "--template", "ok.j2", "-o", "out.md", "-q"])
    assert result.exit_code == 0, result.stderr
    assert "附：3个支部" in Path("out.md").read_text(encoding="utf-8")
