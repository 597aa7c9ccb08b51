"""Start-up benchmark (first runs, no cache exists): wall time of whole processes against
``python -c "import polars"`` in the same run, interleaved rounds, median of per-round ratios.

    python benchmarks/startup.py [--rounds 5]

Targets (issue 19): county ``score -f csv`` ≤ 2.0 ×, ``--help`` ≤ 1.0 ×, ``validate rural
community`` ≤ 1.3 × the time of ``import polars``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WUXING = str(BIN / "wuxing")
COMMANDS: list[tuple[str, list[str], float]] = [
    ("score examples/county-2024-Q4.csv -f csv", [WUXING, "score", "examples/county-2024-Q4.csv", "-f", "csv", "-q"], 2.0),
    ("--help", [WUXING, "--help"], 1.0),
    ("validate rural community", [WUXING, "validate", "rural", "community"], 1.3),
]


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                   env=dict(os.environ, COLUMNS="100"))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    floor_argv = [sys.executable, "-c", "import polars"]
    for argv in [floor_argv, *(c[1] for c in COMMANDS)]:
        wall(argv)  # warm the page cache and the bytecode
    ratios: dict[str, list[float]] = {name: [] for name, _, _ in COMMANDS}
    floors: list[float] = []
    walls: dict[str, list[float]] = {name: [] for name, _, _ in COMMANDS}
    for _ in range(args.rounds):
        floor = wall(floor_argv)
        floors.append(floor)
        for name, argv, _ in COMMANDS:
            t = wall(argv)
            walls[name].append(t)
            ratios[name].append(t / floor)
    print(f"import polars: median {statistics.median(floors):.3f} s over {args.rounds} rounds")
    failed = 0
    for name, _, target in COMMANDS:
        ratio = statistics.median(ratios[name])
        ok = ratio <= target
        failed += not ok
        print(f"wuxing {name:42s} {statistics.median(walls[name]):.3f} s  {ratio:4.2f} × "
              f"(target ≤ {target:.1f} ×: {'met' if ok else 'MISSED'})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
