"""The periodic bulletin (通报, SPEC §6): a plain view model, then Jinja2 rendering to Markdown or HTML.

:func:`build_bulletin` (:mod:`.view`) is pure: it turns one scored run (and optionally the previous
period's run and an annual plan) into a JSON-serialisable dict of the figures the engine summarised
(:mod:`wuxing_cli.engine.summary`) and of sections in formal Chinese or English. :func:`render_bulletin`
(:mod:`.render`) renders it with the bundled templates or a sandboxed user template.
"""

from __future__ import annotations

from .render import md_escape, render_bulletin
from .text import date_label, fmt_points, period_label
from .view import build_bulletin

__all__ = ["build_bulletin", "date_label", "fmt_points", "md_escape", "period_label", "render_bulletin"]
