"""The entry point replays ``--help``, ``validate`` of unchanged criteria files and ``score`` of an
unchanged small file from a cache, byte for byte, without importing the CLI framework, and never
serves a stale answer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RURAL = ROOT / "criteria" / "rural.yaml"


def wuxing(args: list[str], cache: Path | None, *, imports: bool = False, cwd: Path = ROOT) -> tuple[int, str, str]:
    env = dict(os.environ, COLUMNS="100")
    env.pop("WUXING_NO_CACHE", None)
    if cache is None:
        env["WUXING_NO_CACHE"] = "1"
    else:
        env["WUXING_CACHE_DIR"] = str(cache)
    code = "import sys; sys.argv[0] = 'wuxing'; from wuxing_cli.launch import main; main()"
    prefix = [sys.executable, "-X", "importtime"] if imports else [sys.executable]
    done = subprocess.run([*prefix, "-c", code, *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)
    return done.returncode, done.stdout, done.stderr


def test_help_and_validate_replay_the_cli_exactly(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for args in (["--help"], ["score", "--help"], ["validate", str(RURAL)], ["validate", "-f", "json", "rural"], []):
        direct = wuxing(args, None)
        first = wuxing(args, cache)
        second = wuxing(args, cache)
        assert first == direct, args
        assert second == direct, args
    assert len(list(cache.glob("*.json"))) == 5


def test_a_replay_starts_neither_typer_nor_polars(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wuxing(["validate", str(RURAL)], cache)
    code, out, err = wuxing(["validate", str(RURAL)], cache, imports=True)
    assert code == 0 and "ok" in out
    imported = {line.split("|")[-1].strip().split(".")[0] for line in err.splitlines() if line.startswith("import time:")}
    assert not imported & {"typer", "polars", "pydantic", "rich", "yaml"}


def test_an_edited_file_is_validated_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    criteria = tmp_path / "c.yaml"
    criteria.write_bytes(RURAL.read_bytes())
    assert wuxing(["validate", str(criteria)], cache)[0] == 0
    criteria.write_text(RURAL.read_text(encoding="utf-8").replace("pass_mark: 80", "pass_mark: 800", 1),
                        encoding="utf-8")
    code, out, _ = wuxing(["validate", str(criteria)], cache)
    assert code == 1 and "pass_mark" in out
    assert wuxing(["validate", str(criteria)], cache)[0] == 1  # the failure is replayed too


def test_what_is_not_a_pure_function_of_its_files_is_never_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wuxing(["validate", str(RURAL), "--data", str(ROOT / "examples" / "county-2024-Q4.csv")], cache)
    wuxing(["validate", str(RURAL), "-o", str(tmp_path / "out.txt")], cache)
    assert not cache.exists() or not list(cache.glob("*.json"))


def test_a_replayed_entry_is_what_is_printed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wuxing(["--help"], cache)
    (entry,) = cache.glob("*.json")
    entry.write_text(json.dumps({"stdout": b"replayed\n".hex(), "stderr": "", "code": 0}), encoding="utf-8")
    assert wuxing(["--help"], cache) == (0, "replayed\n", "")


COUNTY = ROOT / "examples" / "county-2024-Q4.csv"


def test_the_same_file_named_from_another_folder_is_not_answered_from_the_first(tmp_path: Path) -> None:
    """Messages name files relative to the working folder, so it is part of the key."""
    cache = tmp_path / "cache"
    outs = [wuxing(["validate", str(RURAL)], cache, cwd=cwd)[1] for cwd in (ROOT, tmp_path, ROOT, tmp_path)]
    assert outs[0] == "criteria/rural.yaml: ok\n"
    assert outs[1] == f"{RURAL}: ok\n"
    assert outs[2:] == outs[:2]
    assert len(list(cache.glob("*.json"))) == 2


def test_score_of_a_small_file_printed_is_replayed_exactly_without_polars(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for args in (["score", str(COUNTY)], ["score", str(COUNTY), "-f", "csv", "-q"],
                 ["score", str(COUNTY), "-c", "rural", "-c", "community", "-f", "json", "--by", "township"],
                 ["score", str(COUNTY), "-f", "md", "--lang", "en", "--near", "3"]):
        direct = wuxing(args, None)
        assert direct[0] == 0 and direct[1], args
        assert wuxing(args, cache) == direct, args
        assert wuxing(args, cache) == direct, args
    assert len(list(cache.glob("*.json"))) == 4
    code, out, err = wuxing(["score", str(COUNTY), "-f", "csv", "-q"], cache, imports=True)
    assert code == 0 and out == wuxing(["score", str(COUNTY), "-f", "csv", "-q"], None)[1]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in err.splitlines() if line.startswith("import time:")}
    assert not imported & {"typer", "polars", "pydantic", "rich"}


def test_score_follows_every_change_to_its_data_and_replays_errors(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = tmp_path / "county.csv"
    text = COUNTY.read_text(encoding="utf-8")
    data.write_text(text, encoding="utf-8")
    first = wuxing(["score", str(data), "-f", "csv", "-q"], cache)
    assert first[0] == 0
    header, row, *rest = text.splitlines()
    cells = row.split(",")
    cells[0] = "Z99"
    data.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
    second = wuxing(["score", str(data), "-f", "csv", "-q"], cache)
    assert second[0] == 0 and "Z99" in second[1] and "Z99" not in first[1]
    data.write_text(header + "\n" + ",".join(cells[:3]) + "\n", encoding="utf-8")  # a short row: exit 1
    broken = wuxing(["score", str(data), "-f", "csv", "-q"], cache)
    assert broken[0] == 1 and "cells but the header" in broken[2]
    assert wuxing(["score", str(data), "-f", "csv", "-q"], cache) == broken
    assert broken == wuxing(["score", str(data), "-f", "csv", "-q"], None)


def test_score_writing_files_streaming_or_reading_a_big_file_is_never_cached(tmp_path: Path) -> None:
    from wuxing_cli.launch import SCORE_MAX_INPUT

    cache = tmp_path / "cache"
    wuxing(["score", str(COUNTY), "-f", "csv", "-o", str(tmp_path / "out.csv")], cache)
    wuxing(["score", str(COUNTY), "-f", "csv", "--streaming"], cache)
    wuxing(["score", str(COUNTY), "-f", "xlsx", "-o", str(tmp_path / "out.xlsx")], cache)
    big = tmp_path / "big.csv"
    lines = COUNTY.read_text(encoding="utf-8").splitlines()
    body = lines[1:]
    with big.open("w", encoding="utf-8") as handle:
        handle.write(lines[0] + "\n")
        copy = 0
        while handle.tell() <= SCORE_MAX_INPUT:
            for line in body:
                cells = line.split(",")
                cells[0] = f"{cells[0]}-{copy}"
                handle.write(",".join(cells) + "\n")
            copy += 1
    assert wuxing(["score", str(big), "-f", "csv", "-q"], cache)[0] == 0
    assert (tmp_path / "out.csv").exists() and (tmp_path / "out.xlsx").exists()
    assert not cache.exists() or not list(cache.glob("*.json"))


class _ClosedPipe(io.TextIOWrapper):
    """stdout into a pipe whose reader goes away after ``room`` bytes (``| head``)."""

    def __init__(self, room: int) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)
        self.room = room

    def write(self, text: str) -> int:
        self.room -= len(text.encode("utf-8"))
        if self.room < 0:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_an_answer_cut_off_by_a_closed_pipe_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wuxing_cli import launch

    def cli_main() -> None:  # writes line by line, and exits 0 on a broken pipe as the CLI does
        try:
            for n in range(100):
                sys.stdout.write(f"row {n}\n")
        except BrokenPipeError:
            raise SystemExit(0) from None

    for room, stored in ((10_000, 1), (40, 0)):
        with monkeypatch.context() as patch:
            patch.setenv("WUXING_CACHE_DIR", str(tmp_path / str(room)))
            patch.setenv("WUXING_PROGRESS", "1")  # _run_and_store turns it off in its process
            patch.setattr(sys, "stdout", _ClosedPipe(room))
            with contextlib.suppress(SystemExit):
                launch._run_and_store(cli_main, "k")
        assert len(list((tmp_path / str(room)).glob("*.json"))) == stored, room


def test_an_entry_others_could_have_written_is_not_replayed(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wuxing(["--help"], cache)
    (entry,) = cache.glob("*.json")
    entry.write_text(json.dumps({"stdout": b"planted\n".hex(), "stderr": "", "code": 0}), encoding="utf-8")
    os.chmod(entry, 0o666)  # writable by others: its content may not be this user's
    code, out, _ = wuxing(["--help"], cache)
    assert code == 0 and "planted" not in out and "score" in out
    (entry,) = cache.glob("*.json")  # the run stored its own answer in its place
    assert entry.stat().st_mode & 0o077 == 0
    assert wuxing(["--help"], cache)[1] == out
