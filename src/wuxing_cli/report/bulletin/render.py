"""Rendering the bulletin's view: Markdown or self-contained HTML with the bundled templates
(``report/templates``), or a user template in a sandboxed, bounded Jinja2 environment."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from ...errors import Problem, ProblemCode, UsageError
from ..labels import Lang

Format = Literal["md", "html"]

_MD_SPECIAL = re.compile(r"([\\|<>`*\[\]])")


def md_escape(text: str) -> str:
    """Make text literal in Markdown (tables included): backslash-escape ``\\ | < > ` * [ ]``, no newlines."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def _finalize_md(value: Any) -> Any:
    from markupsafe import Markup

    if value is None:
        return ""
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, str):
        return md_escape(value)
    return value


def _finalize_html(value: Any) -> Any:
    return "" if value is None else value


def charts(view: Mapping[str, Any]) -> dict[str, str]:
    """Inline SVG charts for the HTML bulletin, keyed by the ``chart`` names the sections use."""
    from .. import svg

    labels = view["labels"]
    ov = view["overview"]
    levels = ov["levels"]
    series = [svg.Series(labels["this_period"], [lv["count"] for lv in levels], svg.CURRENT)]
    if ov.get("previous") is not None:
        series.append(svg.Series(labels["previous_period"], [lv.get("count_previous") for lv in levels],
                                 svg.PREVIOUS))
    out = {"levels": svg.column_chart([lv["label"] for lv in levels], series, title=labels["chart_levels"],
                                      decimals=0)}
    stars = view["stars"]
    star_series = [svg.Series(labels["this_period"], [s["rate"] for s in stars], svg.CURRENT)]
    if view["meta"]["has_previous"]:
        star_series.append(svg.Series(labels["previous_period"], [s["previous"]["rate"] for s in stars],
                                      svg.PREVIOUS))
    out["stars"] = svg.bar_chart([s["name"] for s in stars], star_series, title=labels["chart_stars"],
                                 unit="%", max_value=100.0)
    league = view["league"]
    if league["available"]:
        groups = league["groups"]
        out["league"] = svg.bar_chart(
            [g["display"] for g in groups],
            [svg.Series(labels["this_period"], [g["mean_points"] for g in groups], svg.CURRENT)],
            title=labels["chart_league"], highlight=[i for i, g in enumerate(groups) if g["bottom"]], decimals=2)
    else:
        out["league"] = ""
    out.update(view.get("history_charts") or {})
    return out


_MAX_BITS = 4096  # integers a template may build with ** and * (a bulletin needs a few dozen bits)
#: Limits of a user template (``--template``), said in the message when one is hit.
TEMPLATE_SECONDS = 10.0  #: rendering time
TEMPLATE_MAX_CHARS = 10_000_000  #: output size (characters; about 10 MB of text)
_MAX_WIDTH = 10_000  #: a width given to center, indent, wordwrap, ljust, zfill, … or in a format string
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(\*|\d{5,}|[0-9]*\.(\*|\d{5,}))|\{[^{}]*:[^{}]*(\d{5,})[^{}]*\}")
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _big_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class TemplateLimit(Exception):
    """A user template went past one of the limits (time, output size, width)."""


def _check_width(value: Any, what: str) -> None:
    if _big_int(value) and abs(value) > _MAX_WIDTH:
        raise TemplateLimit(f"{what} {value} is wider than the limit of {_MAX_WIDTH}")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _WIDE_FORMAT.search(text):
        raise TemplateLimit(f"a format with a width or precision above {_MAX_WIDTH} (or '*') is not allowed")


class _Clock:
    """The deadline of one user-template rendering, checked by the sandbox's hooks."""

    def __init__(self, seconds: float) -> None:
        import time

        self._now = time.monotonic
        self.seconds = seconds
        self.deadline = self._now() + seconds

    def check(self) -> None:
        if self._now() > self.deadline:
            raise TemplateLimit(self.expired())

    def expired(self) -> str:
        return f"rendering took longer than the limit of {self.seconds:g} s"


def _limited_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """The width-taking filters with their widths bounded (``'x'|center(3*10**8)``, ``'%0100000000d'|format(1)``)."""
    center, indent, wordwrap, fmt, replace = (filters[n] for n in ("center", "indent", "wordwrap", "format", "replace"))

    def do_center(value: Any, width: int = 80) -> Any:
        _check_width(width, "center width")
        return center(value, width)

    def do_indent(value: Any, width: Any = 4, *args: Any, **kwargs: Any) -> Any:
        _check_width(width, "indent width")
        if isinstance(width, str) and len(width) > _MAX_WIDTH:
            raise TemplateLimit(f"an indent longer than the limit of {_MAX_WIDTH}")
        return indent(value, width, *args, **kwargs)

    def do_wordwrap(env: Any, value: Any, width: int = 79, *args: Any, **kwargs: Any) -> Any:
        _check_width(width, "wordwrap width")
        return wordwrap(env, value, width, *args, **kwargs)

    def do_format(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_format(value)
        return fmt(value, *args, **kwargs)

    def do_replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: int | None = None) -> Any:
        text, new_text = str(value), str(new)
        if len(new_text) > len(str(old)) and len(text) + text.count(str(old) or " ") * len(new_text) > TEMPLATE_MAX_CHARS:
            raise TemplateLimit(f"a replace would make text longer than the limit of {TEMPLATE_MAX_CHARS:,} characters")
        return replace(eval_ctx, value, old, new, count)

    from jinja2.utils import pass_environment, pass_eval_context

    do_wordwrap = pass_environment(do_wordwrap)
    do_replace = pass_eval_context(do_replace)
    return {**filters, "center": do_center, "indent": do_indent, "wordwrap": do_wordwrap, "format": do_format,
            "replace": do_replace}


class _Sandbox:
    """Builds the immutable sandbox for user templates, with limits on ``*``, ``**``, ``%``, widths and time."""

    @staticmethod
    def make(*, html: bool, loader: Any, clock: _Clock | None = None) -> Any:
        from jinja2 import StrictUndefined
        from jinja2.exceptions import SecurityError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        tick = clock.check if clock is not None else (lambda: None)

        class LimitedSandbox(ImmutableSandboxedEnvironment):
            intercepted_binops = frozenset({"*", "**", "%"})

            def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
                tick()
                if operator == "%":
                    _check_format(left)
                    return super().call_binop(context, operator, left, right)
                if operator == "**":
                    if isinstance(right, int | float) and abs(right) > 64:
                        raise SecurityError("exponent too large in a template")
                    if _big_int(left) and isinstance(right, int) and abs(left).bit_length() * right > _MAX_BITS:
                        raise SecurityError("a power in a template would be too large")  # ((9**64)**64)**64…
                    return left**right
                if operator == "*":
                    seqs = (str, list, tuple, bytes)
                    for seq, times in ((left, right), (right, left)):
                        if isinstance(seq, seqs) and isinstance(times, int) and len(seq) * times > 1_000_000:
                            raise SecurityError("a repeated sequence in a template would be too long")
                    if (_big_int(left) and _big_int(right)
                            and abs(left).bit_length() + abs(right).bit_length() > _MAX_BITS):
                        raise SecurityError("a product in a template would be too large")
                    return left * right
                return super().call_binop(context, operator, left, right)

            def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
                tick()
                name = getattr(__obj, "__name__", "")
                if isinstance(getattr(__obj, "__self__", None), str) and name in _WIDTH_METHODS:
                    for arg in (*args, *kwargs.values()):
                        _check_width(arg, f"{name} width")
                return super().call(__context, __obj, *args, **kwargs)

            def wrap_str_format(self, value: Any) -> Any:
                wrapped = super().wrap_str_format(value)
                if wrapped is not None:
                    _check_format(value.__self__)  # '{:>100000000}'.format(1)
                return wrapped

            def getattr(self, obj: Any, attribute: str) -> Any:
                tick()
                return super().getattr(obj, attribute)

            def getitem(self, obj: Any, argument: Any) -> Any:
                tick()
                return super().getitem(obj, argument)

        env = LimitedSandbox(undefined=StrictUndefined, autoescape=html, loader=loader, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             finalize=_finalize_html if html else _finalize_md)
        env.globals.pop("lipsum", None)  # lipsum(10**6): pages of filler a bulletin never needs
        env.filters = _limited_filters(env.filters)
        return env


@contextlib.contextmanager
def _alarm(clock: _Clock) -> Iterator[None]:
    """Stop a pure-Python loop that no sandbox hook sees (``{% for i in r %}{% for j in r %}``) at the
    deadline: SIGALRM, where there is one and this is the main thread; elsewhere the hooks alone."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TemplateLimit(clock.expired())

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(clock.deadline - time.monotonic(), 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _render_limited(compiled: Any, context: Mapping[str, Any]) -> str:
    """Render chunk by chunk, stopping once the output passes :data:`TEMPLATE_MAX_CHARS`."""
    parts: list[str] = []
    size = 0
    for chunk in compiled.generate(context):
        size += len(chunk)
        if size > TEMPLATE_MAX_CHARS:
            raise TemplateLimit(f"the output is larger than the limit of {TEMPLATE_MAX_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


def _bundled_loader() -> Any:
    from jinja2 import PackageLoader

    return PackageLoader("wuxing_cli", "report/templates")


def _environment(fmt: Format) -> Any:
    from jinja2 import Environment, StrictUndefined, select_autoescape

    return Environment(
        loader=_bundled_loader(),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize_html if fmt == "html" else _finalize_md,
    )


def render_bulletin(view: Mapping[str, Any], fmt: Format = "md", template: str | None = None,
                    lang: Lang | str | None = None, *, template_name: str = "--template") -> str:
    """Render the view as Markdown or self-contained HTML.

    ``template`` is the *text* of a user template (``--template FILE``); it renders sandboxed with
    StrictUndefined (HTML autoescaped) and may ``{% extends "bulletin.html" %}`` and override blocks.
    Any template error becomes a :class:`UsageError` naming ``template_name`` and the line.
    """
    from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError
    from markupsafe import Markup

    if fmt not in ("md", "html"):
        raise UsageError([Problem(f"unknown bulletin format '{fmt}'", code=ProblemCode.FORMAT, hint="use md or html")])
    context: dict[str, Any] = dict(view)
    if lang is not None:
        context["lang"] = Lang(str(lang)).value
    context["view"] = view
    context["charts"] = {k: Markup(v) for k, v in charts(view).items()} if fmt == "html" else {}
    try:
        if template is None:
            env = _environment(fmt)
            return str(env.get_template(f"bulletin.{fmt}").render(context))
        clock = _Clock(TEMPLATE_SECONDS)
        sandbox = _Sandbox.make(html=fmt == "html", loader=_bundled_loader(), clock=clock)
        with _alarm(clock):
            compiled = sandbox.from_string(template)
            return _render_limited(compiled, context)
    except TemplateLimit as exc:
        raise UsageError([Problem(f"the template went past a limit: {exc}", file=template_name,
                                  code=ProblemCode.TEMPLATE_LIMIT,
                                  hint=f"a template may render for {TEMPLATE_SECONDS:g} s and write "
                                       f"{TEMPLATE_MAX_CHARS:,} characters; widths are at most {_MAX_WIDTH:,}")]
                         ) from None
    except RecursionError:
        if template is None:
            raise
        raise UsageError([Problem("the template calls itself too deeply (a macro that calls itself without end?)",
                                  file=template_name, code=ProblemCode.TEMPLATE_LIMIT,
                                  hint="give a recursive macro a condition that stops it")]) from None
    except TemplateSyntaxError as exc:
        where = template_name if template is not None else f"bulletin.{fmt}"
        raise UsageError([Problem(f"template syntax error: {exc.message}", file=where, line=exc.lineno,
                                  code=ProblemCode.TEMPLATE_SYNTAX)]) from None
    except SecurityError as exc:
        raise UsageError([Problem(f"the template tried something unsafe: {exc}", file=template_name,
                                  code=ProblemCode.TEMPLATE_UNSAFE,
                                  hint="templates may only read the bulletin data (see the bundled templates)")]
                         ) from None
    except UndefinedError as exc:
        raise UsageError([Problem(f"the template uses an unknown name: {exc.message}", file=template_name,
                                  code=ProblemCode.TEMPLATE_UNDEFINED,
                                  hint="the data has: " + ", ".join(sorted(context)))]) from None
    except TemplateError as exc:
        raise UsageError([Problem(f"the template failed: {exc}", file=template_name, code=ProblemCode.TEMPLATE)]) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        if template is None:
            raise
        raise UsageError([Problem(f"the template failed: {type(exc).__name__}: {exc}", file=template_name,
                                  code=ProblemCode.TEMPLATE)]) from None
