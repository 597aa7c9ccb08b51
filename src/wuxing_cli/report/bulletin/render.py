"""Rendering the bulletin's view: Markdown or self-contained HTML with the bundled templates
(``report/templates``), or a user template in a sandboxed, bounded Jinja2 environment."""

from __future__ import annotations

import re
from collections.abc import Mapping
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


def _big_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Sandbox:
    """Builds the immutable sandbox for user templates, with limits on ``*`` and ``**``."""

    @staticmethod
    def make(*, html: bool, loader: Any) -> Any:
        from jinja2 import StrictUndefined
        from jinja2.exceptions import SecurityError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        class LimitedSandbox(ImmutableSandboxedEnvironment):
            intercepted_binops = frozenset({"*", "**"})

            def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
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

        env = LimitedSandbox(undefined=StrictUndefined, autoescape=html, loader=loader, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True,
                             finalize=_finalize_html if html else _finalize_md)
        return env


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
        sandbox = _Sandbox.make(html=fmt == "html", loader=_bundled_loader())
        compiled = sandbox.from_string(template)
        return str(compiled.render(context))
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
