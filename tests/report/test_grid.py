"""The fast terminal renderer writes exactly what rich prints, or declines (report/grid.py)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from tests.support import EXAMPLES, invoke
from wuxing_cli.report.grid import Column, Doc, Grid, Line, render

FUZZ_EXAMPLES = int(os.environ.get("WUXING_FUZZ_EXAMPLES", "300"))

CHARS = st.sampled_from([*"ab1 .%✓★☆—", "小", "丁", "堂", "村", "（", "）", "１", "[", "]", "/", ":", "é", "\u0301"])
TEXT = st.text(CHARS, max_size=12)


def rich_output(doc: Doc, width: int, styled: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=styled, color_system="standard" if styled else None,
                      highlight=False, soft_wrap=False, emoji=False)
    console.print(doc.rich())
    return buffer.getvalue()


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    ncols = draw(st.integers(1, 5))
    columns = [
        Column(draw(TEXT), numeric=draw(st.booleans()), fold=draw(st.booleans()), min_width=draw(st.integers(0, 6)))
        for _ in range(ncols)
    ]
    rows = draw(st.lists(st.lists(TEXT, min_size=ncols, max_size=ncols), max_size=6))
    title = draw(st.none() | TEXT)
    caption = draw(st.none() | TEXT)
    return Grid(columns, rows, title=title or None, caption=caption or None)


docs = st.lists(grids() | st.builds(Line, TEXT, st.booleans()), min_size=1, max_size=4).map(lambda p: Doc(list(p)))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(doc=docs, width=st.integers(8, 120), styled=st.booleans())
def test_render_is_rich_or_declines(doc: Doc, width: int, styled: bool) -> None:
    fast = render(doc, width, styled=styled)
    if fast is not None:
        assert fast == rich_output(doc, width, styled)


def test_a_column_of_zero_width_text_goes_to_rich() -> None:
    # found by the fuzz test above: rich prints a header that is only a combining mark as nothing
    doc = Doc([Grid([Column("\u0301")], [])])
    assert render(doc, 8, styled=False) is None
    assert rich_output(doc, 8, False) == "┏━━┓\n┃  ┃\n┡━━┩\n└──┘\n"
    wide = Doc([Grid([Column("a\u0301")], [["\u0301"]])])  # width 1: written directly, as rich does
    assert render(wide, 8, styled=False) == rich_output(wide, 8, False)


def test_plain_table_is_rendered_and_matches_rich() -> None:
    grid = Grid([Column("排名", numeric=True), Column("支部名称"), Column("备注", fold=True, min_width=2)],
                [["1", "小丁堂村", "否决：v1"], ["10", "[bold]x[/]", ":smile:"]], title="“五星”支部评星结果 2024-Q4",
                caption="共 2 个")
    doc = Doc([grid, Line("共评定 2 个支部"), Line(""), Line("标题", bold=True)])
    for styled in (False, True):
        fast = render(doc, 100, styled=styled)
        assert fast is not None
        assert fast == rich_output(doc, 100, styled)
    plain = render(doc, 100, styled=False)
    assert plain is not None
    assert "[bold]x[/]" in plain and ":smile:" in plain  # user text is never markup or emoji codes
    assert "\x1b[" not in plain
    assert "\x1b[1m" in (render(doc, 100, styled=True) or "")


def test_declines_what_needs_layout() -> None:
    wide = Grid([Column("a" * 30), Column("b" * 30)], [["x", "y"]])
    assert render(Doc([wide]), 40, styled=False) is None  # columns must fold
    assert render(Doc([Line("长" * 30)]), 40, styled=False) is None  # the line wraps
    assert render(Doc([Grid([Column("a")], [["x\ty"]])]), 40, styled=False) is None  # control character
    assert render(Doc([Grid([Column("a")], [["x"]], title="很长的标题" * 3)]), 80, styled=False) is None
    for doc, width in ((Doc([wide]), 40), (Doc([Line("长" * 30)]), 40)):
        assert rich_output(doc, width, False)  # rich lays these out instead


@pytest.mark.parametrize("columns", ["200", "60"])  # the fast path, and rich folding a narrow table
def test_score_table_shows_markup_in_names_verbatim(tmp_path: Path, columns: str) -> None:
    text = (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8")
    data = tmp_path / "county.csv"
    data.write_text(text.replace("小丁堂村", "[/]小丁[b]堂 :smile:", 1), encoding="utf-8")
    result = invoke(["score", str(data), "-q"], env={"COLUMNS": columns, "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "[/]小丁" in result.output.replace("\n", "").replace("│", "").replace(" ", "")
    assert ":smile:" in result.output or columns == "60"
    out = tmp_path / "score.txt"
    result = invoke(["score", str(data), "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "[/]小丁[b]堂 :smile:" in out.read_text(encoding="utf-8")
