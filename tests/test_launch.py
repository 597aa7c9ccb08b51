"""The entry point replays ``--help`` and ``validate`` of unchanged criteria files from a cache, byte
for byte, without importing the CLI framework, and never serves a stale answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RURAL = ROOT / "criteria" / "rural.yaml"


def wuxing(args: list[str], cache: Path | None, *, imports: bool = False) -> tuple[int, str, str]:
    env = dict(os.environ, COLUMNS="100")
    env.pop("WUXING_NO_CACHE", None)
    if cache is None:
        env["WUXING_NO_CACHE"] = "1"
    else:
        env["WUXING_CACHE_DIR"] = str(cache)
    code = "import sys; sys.argv[0] = 'wuxing'; from wuxing_cli.launch import main; main()"
    prefix = [sys.executable, "-X", "importtime"] if imports else [sys.executable]
    done = subprocess.run([*prefix, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT,
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
