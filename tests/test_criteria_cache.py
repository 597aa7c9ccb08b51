"""Validated criteria are cached by file bytes and program; anything else is validated again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wuxing_cli import cache
from wuxing_cli.errors import CriteriaError
from wuxing_cli.io import criteria_loader
from wuxing_cli.io.criteria_loader import load_criteria_set

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("WUXING_CACHE_DIR", str(where))
    monkeypatch.delenv("WUXING_NO_CACHE", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_bytes((ROOT / "criteria" / "rural.yaml").read_bytes())
    return where


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(name: str) -> None:
        raise AssertionError(f"{name} was parsed and validated again")

    monkeypatch.setattr(criteria_loader, "read_criteria", fail)


def test_second_load_comes_from_the_cache(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_criteria_set(["mine.yaml", "community"])
    assert len(list(folder.glob("*.criteria"))) == 1
    _no_validation(monkeypatch)
    again = load_criteria_set(["mine.yaml", "community"])
    assert again == first
    assert [c.id for c in again] == [c.id for c in first]
    assert again[0].stars[0].indicators[0].rule == first[0].stars[0].indicators[0].rule


def test_changed_bytes_order_or_names_are_validated_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_criteria_set(["mine.yaml"])
    path = Path("mine.yaml")
    path.write_text(path.read_text(encoding="utf-8").replace("pass_mark: 80", "pass_mark: 81", 1), encoding="utf-8")
    calls: list[str] = []
    real = criteria_loader.read_criteria

    def counting(name: str) -> criteria_loader.LoadedCriteria:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(criteria_loader, "read_criteria", counting)
    changed = load_criteria_set(["mine.yaml"])
    assert calls == ["mine.yaml"]
    assert any(s.pass_mark == 81 for s in changed[0].stars)
    load_criteria_set(["community", "mine.yaml"])  # another set: validated, then cached on its own
    assert calls == ["mine.yaml", "community", "mine.yaml"]
    load_criteria_set(["community", "mine.yaml"])
    assert len(calls) == 3


def test_invalid_criteria_are_never_cached(folder: Path) -> None:
    Path("bad.yaml").write_text("id: x\nstars: 3\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(CriteriaError):
            load_criteria_set(["bad.yaml"])
    assert not list(folder.glob("*.criteria")) if folder.exists() else True


def test_cache_off_damaged_or_foreign_entries_are_not_used(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_criteria_set(["mine.yaml"])
    (entry,) = folder.glob("*.criteria")
    good = entry.read_bytes()
    entry.write_bytes(b"not a pickle")
    assert load_criteria_set(["mine.yaml"])[0].id  # damaged: validated again (and stored anew)
    assert entry.read_bytes() == good
    os.chmod(entry, 0o666)  # writable by others: its content may not be this user's
    _no_validation(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        load_criteria_set(["mine.yaml"])
    os.chmod(entry, 0o600)
    assert load_criteria_set(["mine.yaml"])
    monkeypatch.setenv("WUXING_NO_CACHE", "1")
    with pytest.raises(AssertionError, match="validated again"):
        load_criteria_set(["mine.yaml"])


def test_key_covers_the_program(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_criteria_set(["mine.yaml"])
    monkeypatch.setattr(cache, "program_fingerprint", lambda: "another version")
    _no_validation(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        load_criteria_set(["mine.yaml"])


def test_a_pipe_is_read_once(folder: Path) -> None:
    fifo = Path("criteria.fifo")
    os.mkfifo(fifo)
    import threading

    def feed() -> None:
        with fifo.open("wb") as handle:
            handle.write((ROOT / "criteria" / "rural.yaml").read_bytes())

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    (loaded,) = load_criteria_set([str(fifo)])  # not read for a key first (that would empty it)
    writer.join(5)
    assert loaded.id
    assert not list(folder.glob("*.criteria")) if folder.exists() else True
