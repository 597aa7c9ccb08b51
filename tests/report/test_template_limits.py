"""User templates (``bulletin --template``) are bounded in time, output size and widths (issue 20 §17)."""

from __future__ import annotations

import time

import pytest

from wuxing_cli.errors import ProblemCode, UsageError
from wuxing_cli.report.bulletin import render


@pytest.fixture(autouse=True)
def small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "TEMPLATE_SECONDS", 1.0)


def _limit(template: str) -> str:
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        render.render_bulletin({}, "md", template=template, template_name="t.md")
    assert time.monotonic() - started < 5
    (problem,) = caught.value.problems
    assert problem.code is ProblemCode.TEMPLATE_LIMIT
    assert problem.file == "t.md"
    assert caught.value.exit_code == 2  # like every other template error
    return problem.message


@pytest.mark.parametrize("template", [
    "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    "{% set r = range(100000) %}{% for i in r %}{% for j in r %}{% endfor %}{% endfor %}",
])
def test_nested_loops_stop_at_the_time_limit(template: str) -> None:
    message = _limit(template)
    assert message in ("the template went past a limit: rendering took longer than the limit of 1 s",
                       "the template went past a limit: the output is larger than the limit of 10,000,000 characters")


def test_output_larger_than_the_limit() -> None:
    template = "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"
    assert _limit(template) == ("the template went past a limit: the output is larger than the limit of "
                                "10,000,000 characters")


def test_lipsum_is_not_available() -> None:
    with pytest.raises(UsageError) as caught:
        render.render_bulletin({}, "md", template="{{ lipsum(10**6) }}", template_name="t.md")
    (problem,) = caught.value.problems
    assert problem.code is ProblemCode.TEMPLATE_UNDEFINED
    assert problem.message == "the template uses an unknown name: 'lipsum' is undefined"


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 'x'|center(3*10**8) }}", "center width 300000000 is wider than the limit of 10000"),
    ("{{ 'x'.center(10**8) }}", "center width 100000000 is wider than the limit of 10000"),
    ("{{ 'x'.zfill(10**8) }}", "zfill width 100000000 is wider than the limit of 10000"),
    ("{{ 'x'|indent(10**8) }}", "indent width 100000000 is wider than the limit of 10000"),
    ("{{ '%0100000000d'|format(1) }}", "a format with a width or precision above 10000 (or '*') is not allowed"),
    ("{{ '%0100000000d' % 1 }}", "a format with a width or precision above 10000 (or '*') is not allowed"),
    ("{{ '%.100000000f' % 1 }}", "a format with a width or precision above 10000 (or '*') is not allowed"),
    ("{{ '{:>100000000}'.format(1) }}", "a format with a width or precision above 10000 (or '*') is not allowed"),
])
def test_widths_are_bounded(template: str, message: str) -> None:
    assert _limit(template) == f"the template went past a limit: {message}"


def test_a_recursive_macro_is_a_template_error() -> None:
    template = "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}"
    assert _limit(template) == "the template calls itself too deeply (a macro that calls itself without end?)"


def test_ordinary_templates_still_render() -> None:
    template = ("{{ 'x'|center(9) }}|{{ '%05.1f'|format(3.14159) }}|{{ '%d' % 12345678 }}|{{ 'a b'|wordwrap(40) }}"
                "|{{ 'ab'|replace('a', 'xyz') }}|{{ '{:>6}'.format(1) }}")
    assert render.render_bulletin({}, "md", template=template) == "    x    |003.1|12345678|a b|xyzb|     1"
