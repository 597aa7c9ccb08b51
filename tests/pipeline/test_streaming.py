"""``wuxing score --streaming``: files larger than memory are scored in slices, with the results,
warnings and errors of the normal path; Parquet input reads like CSV."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.support import EXAMPLES, WIDE
from wuxing_cli.devtools.synth.table import synthesize, write_table
from wuxing_cli.engine.score import result_columns
from wuxing_cli.errors import WuxingError
from wuxing_cli.io.criteria_loader import load_criteria_set
from wuxing_cli.pipeline.score import LoadOptions, run_score
from wuxing_cli.pipeline.streaming import score_streaming

BUILTINS = load_criteria_set(["rural", "community"])


def outcome(run: Any) -> tuple[Any, ...]:
    """Everything a score run shows: the ranked rows, warnings and the summary, or the error."""
    try:
        result = run()
    except WuxingError as exc:
        return ("error", type(exc).__name__, [p.format() for p in exc.problems])
    data = result.data
    return ("ok", result.frame, [p.format() for p in result.warnings], data.rows_read, result.period,
            data.encoding, data.periods, [(r.line, r.branch_id, r.reasons) for r in data.rejected])


def streamed(path: Path, criteria: Sequence[Any], options: LoadOptions, columns: list[str], rows: int) -> Any:
    """The run of ``score --streaming``, its ranked frame put together from the chunks."""
    with score_streaming(path, criteria, options, columns=columns, batch_rows=rows) as result:
        return dataclasses.replace(result.run, frame=result.frame())


def assert_same(path: Path, criteria: Sequence[Any], options: LoadOptions, rows: int) -> None:
    columns = result_columns(criteria)
    eager = outcome(lambda: run_score(path, list(criteria), options, columns=columns))
    sliced = outcome(lambda: streamed(path, criteria, options, columns, rows))
    assert eager[0] == sliced[0], (eager[:3], sliced[:3])
    if eager[0] == "ok":
        assert sliced[1].equals(eager[1])
        assert sliced[2:] == eager[2:]
    else:
        assert sliced == eager


@pytest.mark.parametrize("name", ["county-2024-Q4.csv", "county-2024-Q3.csv", "county-2024.csv"])
@pytest.mark.parametrize("options", [
    LoadOptions(), LoadOptions(period="2024-Q2"), LoadOptions(period="2099-Q9"), LoadOptions(skip_invalid=True),
    LoadOptions(strict=True),
], ids=["plain", "period", "no-such-period", "skip-invalid", "strict"])
def test_slices_give_the_results_and_messages_of_one_read(name: str, options: LoadOptions) -> None:
    # county-2024-Q3 is GB18030; county-2024 holds four periods (an error without --period)
    assert_same(EXAMPLES / name, BUILTINS, options, rows=37)


def broken_copy(tmp_path: Path) -> Path:
    """The Q4 example with problems spread over several slices."""
    lines = (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    rows[250][0] = rows[3][0]  # a duplicate branch id, far from the first one
    rows[10][7] = "很多"  # bad cells in different slices
    rows[200][8] = "-5"
    rows[120][2] = ""  # an empty county is fine; an empty cell of a field is a warning
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("options", [LoadOptions(), LoadOptions(skip_invalid=True)], ids=["plain", "skip-invalid"])
def test_problems_are_gathered_over_slices_as_for_one_file(tmp_path: Path, options: LoadOptions) -> None:
    assert_same(broken_copy(tmp_path), BUILTINS, options, rows=50)


def test_a_quoted_line_break_never_splits_a_record(tmp_path: Path) -> None:
    lines = (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8").splitlines()
    rows = [line.split(",") for line in lines[1:]]
    for i in range(0, len(rows), 7):  # names with a line break, near slice boundaries too
        rows[i][1] = f'"{rows[i][1]}\n(新)"'
    path = tmp_path / "multiline.csv"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    assert_same(path, BUILTINS, LoadOptions(), rows=20)


def test_title_rows_above_the_header_and_a_bom(tmp_path: Path) -> None:
    text = (EXAMPLES / "county-2024-Q4.csv").read_text(encoding="utf-8")
    path = tmp_path / "titled.csv"
    path.write_text("示例县2024年第四季度五星支部评分表\n\n" + text, encoding="utf-8-sig")
    assert_same(path, BUILTINS, LoadOptions(), rows=45)


def test_parquet_input_reads_like_csv_whole_and_sliced(tmp_path: Path) -> None:
    csv = EXAMPLES / "county-2024-Q4.csv"
    parquet = tmp_path / "county.parquet"
    pl.read_csv(csv, infer_schema=False).write_parquet(parquet)
    columns = result_columns(BUILTINS)
    expected = run_score(csv, BUILTINS, columns=columns).frame
    assert run_score(parquet, BUILTINS, columns=columns).frame.equals(expected)
    assert streamed(parquet, BUILTINS, LoadOptions(), columns, 64).frame.equals(expected)


# ---------------------------------------------------------------------------------------------
# Larger than memory


# Peak RSS is taken from a small launcher process: a child forked from this (large) test process
# would report the parent's resident size in its own ru_maxrss. The launcher also enforces the
# limit (a memory limit without cgroups): it kills the command when its VmRSS goes over it.
LAUNCHER = """
import json, os, sys, threading, time
spec = json.loads(sys.argv[1])
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execve(spec["argv"][0], spec["argv"], spec["env"])
killed = []
def watch():
    while spec["limit_kb"]:
        try:
            with open(f"/proc/{pid}/status") as status:
                rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        except (OSError, StopIteration, ValueError):
            return
        if rss > spec["limit_kb"]:
            killed.append(rss)
            os.kill(pid, 9)
            return
        time.sleep(0.002)
threading.Thread(target=watch, daemon=True).start()
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "peak_kb": usage.ru_maxrss, "killed": killed}))
"""


def peak_rss_mb(argv: list[str], env: dict[str, str], limit_mb: float | None = None) -> tuple[int, float]:
    """Run ``argv``; return its exit code and peak RSS (MB), killing it above ``limit_mb``."""
    spec = {"argv": argv, "env": env, "limit_kb": int(limit_mb * 1024) if limit_mb else 0}
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, json.dumps(spec)], capture_output=True,
                          text=True, check=True)
    result = json.loads(done.stdout)
    return (-9 if result["killed"] else result["code"]), result["peak_kb"] / 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.skipif(
    os.environ.get("WUXING_MEMORY_TESTS") != "1",
    reason="memory-limit test runs on its own (WUXING_MEMORY_TESTS=1): its peak-RSS bound is flaky beside a "
    "parallel load; .ci/run runs it as a separate step",
)
def test_a_file_larger_than_the_memory_limit_scores_in_slices_with_identical_output(tmp_path: Path) -> None:
    wide = load_criteria_set([str(WIDE)])
    big, tiny = tmp_path / "big.csv", tmp_path / "tiny.csv"
    write_table(synthesize(wide, 100_000, 5), big, "csv")
    write_table(synthesize(wide, 20, 5), tiny, "csv")
    size_mb = big.stat().st_size / 2**20
    wuxing = shutil.which("wuxing", path=str(Path(sys.executable).parent)) or "wuxing"
    env = dict(os.environ, WUXING_SLICE_ROWS="2500")

    def score(data: Path, out: Path, *extra: str, limit: float | None = None) -> tuple[int, float]:
        return peak_rss_mb([wuxing, "score", str(data), "-c", str(WIDE), "-f", "csv", "-o", str(out), "-q",
                            *extra], env, limit)

    # What the program needs before any data: the same command on a 20-row file.
    code, base = score(tiny, tmp_path / "tiny.csv.out", "--streaming")
    assert code == 0
    # The limit: the baseline plus three quarters of the file. The file does not fit in it, and the
    # normal path (which holds the whole table, typed) goes far over it.
    limit = base + size_mb * 0.75
    code, eager_peak = score(big, tmp_path / "eager.csv")
    assert code == 0
    assert eager_peak > limit, f"the normal path used {eager_peak - base:.0f} MB for a {size_mb:.0f} MB file"
    code, stream_peak = score(big, tmp_path / "stream.csv", "--streaming", limit=limit)
    assert code == 0, f"--streaming went over {limit:.0f} MB (baseline {base:.0f} MB, file {size_mb:.0f} MB)"
    assert stream_peak <= limit
    print(f"file {size_mb:.0f} MB; baseline {base:.0f} MB; peak over it: normal {eager_peak - base:.0f} MB, "
          f"--streaming {stream_peak - base:.0f} MB (limit {limit - base:.0f} MB)")
    assert (tmp_path / "stream.csv").read_bytes() == (tmp_path / "eager.csv").read_bytes()
