"""Comparisons of two scored frames: periods, sources and criteria versions (engine level)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from wuxing_cli.engine.compare import (
    compare_runs,
    decompose,
    group_changes,
    group_overstatement,
    overstatement,
    status_counts,
    transition_frame,
    transition_matrix,
)
from wuxing_cli.engine.score import score
from wuxing_cli.models.criteria import Criteria

STARS = ["s1", "s2"]


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A minimal result frame: branch, township, stars, points and the awarded flags."""
    data: dict[str, list[Any]] = {k: [r[k] for r in rows] for k in ("branch_id", "branch_name", "township")}
    data["stars"] = [len(r["awarded"]) for r in rows]
    data["total_points"] = [float(r["points"]) for r in rows]
    data["level"] = [f"{len(r['awarded'])}星" for r in rows]
    for sid in STARS:
        data[f"{sid}:awarded"] = [sid in r["awarded"] for r in rows]
    return pl.DataFrame(data)


def b(bid: str, town: str, awarded: list[str], points: float, name: str | None = None) -> dict[str, Any]:
    return {"branch_id": bid, "branch_name": name or f"村{bid}", "township": town, "awarded": awarded,
            "points": points}


OLD = frame([
    b("01", "甲镇", ["s1"], 90),
    b("02", "甲镇", ["s1", "s2"], 180),
    b("03", "乙镇", [], 40),
    b("04", "乙镇", ["s2"], 100),   # removed in NEW
    b("06", "丙镇", ["s1"], 95),    # moves 丙镇 → 甲镇
])
NEW = frame([
    b("01", "甲镇", ["s1", "s2"], 170),  # up, gained s2
    b("02", "甲镇", ["s2"], 110),        # down, lost s1
    b("03", "乙镇", [], 45),             # same
    b("05", "乙镇", ["s1"], 88),         # new
    b("06", "甲镇", ["s1"], 96),         # same, moved township
])


def test_compare_runs_status_deltas_and_stars_gained_lost() -> None:
    cmp = compare_runs(OLD, NEW, STARS)
    assert cmp["branch_id"].to_list() == ["01", "02", "03", "04", "05", "06"]
    rows = {r["branch_id"]: r for r in cmp.iter_rows(named=True)}
    assert rows["01"]["status"] == "up" and rows["01"]["gained"] == ["s2"] and rows["01"]["lost"] == []
    assert rows["01"]["delta_stars"] == 1 and rows["01"]["delta_points"] == 80
    assert rows["02"]["status"] == "down" and rows["02"]["lost"] == ["s1"] and rows["02"]["gained"] == []
    assert rows["03"]["status"] == "same" and rows["03"]["delta_points"] == 5
    assert rows["04"]["status"] == "removed" and rows["04"]["stars_new"] is None
    assert rows["04"]["delta_stars"] is None and rows["04"]["gained"] == [] and rows["04"]["lost"] == []
    assert rows["04"]["branch_name"] == "村04" and rows["04"]["township"] == "乙镇"
    assert rows["05"]["status"] == "new" and rows["05"]["stars_old"] is None and rows["05"]["stars_new"] == 1
    assert rows["06"]["township"] == "甲镇" and rows["06"]["township_old"] == "丙镇"
    assert cmp.columns == ["branch_id", "branch_name", "county", "township", "township_old", "status", "stars_old",
                           "stars_new", "delta_stars", "points_old", "points_new", "delta_points", "level_old",
                           "level_new", "gained", "lost"]
    assert status_counts(cmp) == {"up": 1, "down": 1, "same": 2, "new": 1, "removed": 1}


def test_transition_matrix_sums_to_matched_branches() -> None:
    cmp = compare_runs(OLD, NEW, STARS)
    cells = transition_matrix(cmp)
    assert cells == {"0->0": 1, "1->1": 1, "1->2": 1, "2->1": 1}
    matrix = transition_frame(cmp)
    assert matrix.columns == ["from", *(f"to_{n}" for n in range(6))]
    assert matrix.height == 6
    matched = cmp.filter(pl.col("status").is_in(["up", "down", "same"])).height
    assert sum(matrix.drop("from").sum().row(0)) == matched == sum(cells.values()) == 4
    assert matrix.filter(pl.col("from") == 1)["to_2"].item() == 1


def test_a_star_missing_from_one_frame_counts_as_not_awarded() -> None:
    old = OLD.drop("s2:awarded")
    cmp = compare_runs(old, NEW, STARS)
    row = cmp.filter(pl.col("branch_id") == "02").row(0, named=True)
    assert row["gained"] == ["s2"] and row["lost"] == ["s1"]


@pytest.mark.parametrize("n_stars", [1, 5, 12, 13])
def test_stars_gained_and_lost_are_every_star_that_changed_in_star_order(n_stars: int) -> None:
    # 12 stars or fewer pick each list from a table of every combination, more build it per row:
    # both must list exactly the stars that changed, in star order, and nothing for unmatched rows
    import random

    stars = [f"x{i:02d}" for i in range(n_stars)][::-1]
    rng = random.Random(n_stars)

    def side(ids: list[str]) -> tuple[pl.DataFrame, dict[str, set[str]]]:
        awarded = {bid: {s for s in stars if rng.random() < 0.5} for bid in ids}
        data: dict[str, Any] = {"branch_id": ids, "branch_name": ids, "township": ["t"] * len(ids),
                                "stars": [len(awarded[i]) for i in ids], "total_points": [1.0] * len(ids),
                                "level": ["x"] * len(ids)}
        for sid in stars:
            data[f"{sid}:awarded"] = [sid in awarded[i] for i in ids]
        return pl.DataFrame(data), awarded

    old, was = side([f"{i:03d}" for i in range(0, 300)])
    new, now = side([f"{i:03d}" for i in range(20, 320)])
    cmp = compare_runs(old, new, stars)
    assert cmp.height == 320
    for row in cmp.iter_rows(named=True):
        bid = row["branch_id"]
        if bid in was and bid in now:
            assert row["gained"] == [s for s in stars if s in now[bid] - was[bid]]
            assert row["lost"] == [s for s in stars if s in was[bid] - now[bid]]
        else:
            assert row["gained"] == [] and row["lost"] == []
    assert any(row["gained"] for row in cmp.iter_rows(named=True))


def test_group_changes_moved_branch_counts_in_each_periods_township() -> None:
    changes = group_changes(OLD, NEW, "township")
    rows = {r["group"]: r for r in changes.iter_rows(named=True)}
    # 丙镇 only existed before (its one branch moved to 甲镇): a group of one that disappeared
    assert rows["丙镇"]["branches_old"] == 1 and rows["丙镇"]["branches_new"] is None
    assert rows["丙镇"]["rank_new"] is None and rows["丙镇"]["rank_change"] is None
    assert rows["甲镇"]["branches_old"] == 2 and rows["甲镇"]["branches_new"] == 3
    assert rows["甲镇"]["mean_points_old"] == 135 and rows["甲镇"]["mean_points_new"] == 125.33
    assert rows["甲镇"]["delta_mean_points"] == -9.67
    # before: 甲 135 > 丙 95 > 乙 70; after: 甲 125.33 > 乙 66.5
    assert rows["甲镇"]["rank_old"] == 1 and rows["甲镇"]["rank_new"] == 1 and rows["甲镇"]["rank_change"] == 0
    assert rows["乙镇"]["rank_old"] == 3 and rows["乙镇"]["rank_new"] == 2 and rows["乙镇"]["rank_change"] == 1
    assert changes["group"].to_list() == ["甲镇", "乙镇", "丙镇"]  # by new rank, vanished groups last


def test_group_changes_ties_share_a_rank() -> None:
    old = frame([b("1", "A", [], 10), b("2", "B", [], 10), b("3", "C", [], 5)])
    new = frame([b("1", "A", [], 10), b("2", "B", [], 20), b("3", "C", [], 20)])
    changes = group_changes(old, new, "township")
    assert changes.select("group", "rank_old", "rank_new").rows() == [("B", 1, 1), ("C", 3, 1), ("A", 1, 3)]


# -- self-assessment vs verification -----------------------------------------------------------------


def with_points(base: pl.DataFrame, pts: dict[str, list[float]]) -> pl.DataFrame:
    return base.with_columns(pl.Series(k, v, dtype=pl.Float64) for k, v in pts.items())


def test_overstatement_per_branch_and_township_ranked() -> None:
    claimed = with_points(frame([
        b("1", "甲镇", ["s1", "s2"], 170), b("2", "甲镇", ["s1"], 90),
        b("3", "乙镇", ["s1"], 90), b("4", "乙镇", [], 50), b("5", "丙镇", [], 40),
    ]), {"pts:s1:a": [50, 50, 50, 30, 20], "pts:s1:b": [40, 40, 40, 20, 20], "pts:s2:c": [80, 0, 0, 0, 0]})
    verified = with_points(frame([
        b("1", "甲镇", ["s1"], 120), b("2", "甲镇", ["s1"], 88),
        b("3", "乙镇", ["s1"], 90), b("4", "乙镇", [], 55), b("5", "丙镇", [], 40),
    ]), {"pts:s1:a": [50, 50, 50, 35, 20], "pts:s1:b": [40, 38, 40, 20, 20], "pts:s2:c": [30, 0, 0, 0, 0]})
    over = overstatement(claimed, verified)
    assert over["branch_id"].to_list() == ["1", "2", "3", "5", "4"]  # ties by branch_id
    first = over.row(0, named=True)
    assert (first["stars_claimed"], first["stars_verified"], first["over_stars"]) == (2, 1, 1)
    assert first["over_points"] == 50 and first["overstated"]
    assert first["top_indicators"] == ["s2:c"] and first["top_diffs"] == [50]
    second = over.row(1, named=True)
    assert second["overstated"] and second["over_stars"] == 0 and second["top_indicators"] == ["s1:b"]
    under = over.filter(pl.col("branch_id") == "4").row(0, named=True)
    assert not under["overstated"] and under["over_points"] == -5 and under["top_diffs"] == [-5]

    towns = group_overstatement(over)
    top = towns.row(0, named=True)
    assert top["group"] == "甲镇" and top["rank"] == 1 and top["branches"] == 2 and top["overstated"] == 2
    assert top["share_overstated"] == 1 and top["mean_over_points"] == 26
    # 乙镇 and 丙镇 both overstate 0 %: the tie is broken by mean overstatement (丙 0 > 乙 −2.5)
    assert towns.select("group", "rank").rows() == [("甲镇", 1), ("丙镇", 2), ("乙镇", 3)]


def test_group_overstatement_ties_share_rank_and_list_by_name() -> None:
    claimed = frame([b("1", "B", [], 10), b("2", "A", [], 10), b("3", "C", [], 10)])
    verified = frame([b("1", "B", [], 5), b("2", "A", [], 5), b("3", "C", [], 10)])
    towns = group_overstatement(overstatement(claimed, verified))
    assert towns.select("rank", "group").rows() == [(1, "A"), (1, "B"), (3, "C")]


# -- criteria change: rule effect separated from performance -----------------------------------------


def criteria(pass_mark: float) -> Criteria:
    return Criteria.model_validate({
        "schema_version": 1, "id": "t", "name": "t", "branch_type": "农村", "version": str(pass_mark),
        "fields": {"x": {"type": "number"}},
        "stars": [{"id": "s1", "name": "一星", "pass_mark": pass_mark,
                   "indicators": [{"id": "i", "name": "i", "field": "x", "points": 100,
                                   "rule": {"type": "linear", "zero_at": 0, "full_at": 100}}]}],
    })


def test_decompose_separates_rule_change_from_performance() -> None:
    before = pl.DataFrame({"branch_id": ["a", "b", "c"], "x": [75.0, 85.0, 60.0]})
    after = pl.DataFrame({"branch_id": ["a", "b", "c"], "x": [82.0, 85.0, 60.0]})
    old_rules, new_rules = criteria(80), criteria(85)
    base = score([(old_rules, before)])
    same_rules = score([(old_rules, after)])
    changed = score([(new_rules, after)])
    out = decompose(base, same_rules, changed, ["s1"])
    rows = {r["branch_id"]: r for r in out.iter_rows(named=True)}
    # a: 75 → 82 wins the star on performance (pass 80) but the new pass mark (85) takes it away again
    assert rows["a"]["delta_stars"] == 0 and rows["a"]["delta_stars_performance"] == 1
    assert rows["a"]["delta_stars_rule"] == -1 and rows["a"]["rule_lost"] == ["s1"]
    # b: same data, still passes at 85
    assert rows["b"]["delta_stars_rule"] == 0 and rows["b"]["status"] == "same"
    assert rows["c"]["delta_points_rule"] == 0


@pytest.mark.parametrize("levels", [5, 7])
def test_transition_frame_grows_with_more_levels(levels: int) -> None:
    cmp = compare_runs(OLD, NEW, STARS)
    assert transition_frame(cmp, levels).height == levels + 1
