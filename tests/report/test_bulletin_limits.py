"""Long branch lists in the bulletin: only LIST_LIMIT rows are built, the counts still cover all."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import EXAMPLES
from wuxing_cli.pipeline.score import run_score
from wuxing_cli.report import bulletin
from wuxing_cli.report.bulletin import view


@pytest.fixture(scope="module")
def runs() -> tuple[Any, Any]:
    q4 = run_score(EXAMPLES / "county-2024-Q4.csv", columns="indicators")
    q3 = run_score(EXAMPLES / "county-2024-Q3.csv", columns="indicators")
    return q4, q3


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_cut_lists_are_the_head_of_the_full_lists(runs: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch,
                                                  lang: str) -> None:
    q4, q3 = runs
    full = bulletin.build_bulletin(q4, q3, by="township", lang=lang)
    limit = 4
    monkeypatch.setattr(view, "LIST_LIMIT", limit)
    cut = bulletin.build_bulletin(q4, q3, by="township", lang=lang)
    lists = [("movement", "up"), ("movement", "down"), ("movement", "swapped"), ("vetoes", "events"),
             ("vetoes", "caps"), ("near_misses", "branches")]
    long_lists = 0
    for part, key in lists:
        assert cut[part][key] == full[part][key][:limit], (part, key)
        long_lists += len(full[part][key]) > limit
    assert long_lists >= 3  # the example county has long lists: the test compares something
    assert cut["movement"]["counts"] == full["movement"]["counts"]
    assert cut["movement"]["totals"]["up"] == len(full["movement"]["up"]) == full["movement"]["counts"]["up"]
    assert cut["near_misses"]["count"] == full["near_misses"]["count"] == len(full["near_misses"]["branches"])
    assert cut["near_misses"]["stars"] == full["near_misses"]["stars"]
    for key in ("event_count", "cap_count", "per_veto", "fired_by_missing", "branches", "cap_branches"):
        assert cut["vetoes"][key] == full["vetoes"][key], key
    assert full["vetoes"]["event_count"] == len(full["vetoes"]["events"])
    # the sections' text is the same but for the notes that say how many were cut
    text = bulletin.render_bulletin(cut, "md")
    n_down = full["movement"]["counts"]["down"]
    assert (f"仅列出前{limit}项（共{n_down}项）" if lang == "zh" else f"Only the first {limit} of {n_down}") in text
    whole = bulletin.render_bulletin(full, "md")
    first = whole.split("\n## ")[1]  # the overview paragraph and table do not depend on the limit
    assert first in text
