"""Benchmark harness for ``wuxing score`` at national scale (issue 5). See benchmarks/README.md.

    .venv/bin/python benchmarks/run.py --sizes 10000 100000 1000000

In one process and one run, for each size N: synthesise the data once (cached under bench-out/),
then time every step in a fresh subprocess and take its peak RSS from the kernel (``os.wait4``
rusage of that child alone). Each step is repeated ``--repeat`` times, rounds interleaved so that
load from other users of the machine hits every step alike; medians are reported. Ratios are taken
against the floor measured in the same run, never against remembered absolute timings.

Steps (library steps are timed inside the child after its imports; CLI steps from spawn to exit):

  floor         polars reads the CSV with the same dtypes (text: the cells hold "85%", "１２",
                "1,234") and writes a CSV with as many columns as ``score -f csv`` writes
  floor-cat     the same, reading the cells as wuxing does (Categorical: one code per distinct text)
  floor-pq      the same from the Parquet copy of the data
  lib-csv       the library: load + score + rank, CSV in -> CSV out
  lib-parquet   CSV in -> Parquet out
  lib-pq-in     Parquet in -> CSV out
  cli-csv       ``wuxing score DATA -f csv -o OUT`` as a subprocess
  cli-parquet   ``wuxing score DATA -f parquet -o OUT``
  cli-stream    ``wuxing score DATA --streaming -f csv -o OUT`` (bounded memory)
  peer          benchmarks/peer_pandas.py (skipped when predicted > --peer-limit seconds)
  rank, diff, bulletin   (largest N only) the CLI commands, relative to cli-csv
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PY = sys.executable
WUXING = str(Path(PY).with_name("wuxing"))
PERIODS = ("2024-Q3", "2024-Q4")


# ---------------------------------------------------------------------------------------------
# Child steps (run as `python benchmarks/run.py --child STEP ...`)


def child(step: str, args: list[str]) -> None:
    """Run one measured step; print {"seconds": wall of the step, excluding imports}."""
    if step == "floor":
        import polars as pl

        src, out, width = args[0], args[1], int(args[2])
        t0 = time.perf_counter()
        frame = pl.read_csv(src, infer_schema=False)
        frame.select(frame.columns[:width]).write_csv(out)
    elif step == "floor-cat":
        import polars as pl

        src, out, width = args[0], args[1], int(args[2])
        t0 = time.perf_counter()
        names = pl.read_csv(src, n_rows=0, infer_schema=False).columns
        categories = pl.Categorical(pl.Categories.random())
        frame = pl.read_csv(src, infer_schema=False, schema_overrides={n: categories for n in names[2:]})
        frame.select(frame.columns[:width]).write_csv(out)
    elif step == "floor-pq":
        import polars as pl

        src, out, width = args[0], args[1], int(args[2])
        t0 = time.perf_counter()
        frame = pl.read_parquet(src)
        frame.select(frame.columns[:width]).write_csv(out)
    elif step == "lib":
        # What `wuxing score -f csv|parquet` does, as library calls.
        from wuxing_cli.engine.score import result_columns
        from wuxing_cli.io.criteria_loader import load_criteria_set
        from wuxing_cli.pipeline.score import run_score
        from wuxing_cli.report.score import score_frame
        from wuxing_cli.report.tabular import csv_bytes, parquet_write

        src, out, fmt, criteria = args[0], args[1], args[2], args[3]
        t0 = time.perf_counter()
        models = load_criteria_set([criteria])
        run = run_score(Path(src), models, columns=result_columns(models, star_results=("points", "earned", "awarded")))
        if fmt == "csv":
            Path(out).write_bytes(csv_bytes(score_frame(run)))
        else:
            parquet_write(score_frame(run), Path(out))
    elif step == "generate":
        import polars as pl

        from wuxing_cli.devtools.synth.table import synthesize, write_table
        from wuxing_cli.io.criteria_loader import load_criteria_set

        criteria, n, seed, stem = args[0], int(args[1]), int(args[2]), args[3]
        t0 = time.perf_counter()
        frame = synthesize(load_criteria_set([criteria]), n, seed, periods=PERIODS)
        for period, suffix in zip(PERIODS, ("prev", "cur"), strict=True):
            part = frame.filter(pl.col("期间") == period)
            write_table(part, Path(f"{stem}-{suffix}.csv"), "csv")
            if suffix == "cur":
                write_table(part, Path(f"{stem}-{suffix}.parquet"), "parquet")
            del part
    else:
        raise SystemExit(f"unknown step {step}")
    print(json.dumps({"seconds": time.perf_counter() - t0}))


# ---------------------------------------------------------------------------------------------
# Measuring a subprocess


@dataclass
class Run:
    wall: float  # seconds: the step (library) or the whole process (CLI)
    cpu: float  # user + sys of the child process
    rss_mb: float  # peak resident set size of the child
    ok: bool
    note: str = ""


# Every command is started by this small launcher, which forks it, waits for it and prints its
# rusage. A child forked straight from this (large) process would count this process's resident
# memory in its own ru_maxrss (Linux carries the old image's high-water mark across exec). The
# launcher can also enforce a memory limit without cgroups: it kills the command when its VmRSS
# goes over ``limit_kb``.
LAUNCHER = """
import json, os, sys, threading, time
spec = json.loads(sys.argv[1])
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(spec["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
    os.dup2(os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
    os.chdir(spec["cwd"])
    os.execvpe(spec["argv"][0], spec["argv"], spec["env"])
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
        time.sleep(0.005)
threading.Thread(target=watch, daemon=True).start()
_, status, usage = os.wait4(pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "wall": time.perf_counter() - start,
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss, "killed": bool(killed)}))
"""


def measure(argv: list[str], *, inner: bool, env: dict[str, str] | None = None, limit_mb: float = 0) -> Run:
    """Run ``argv`` through the launcher: wall from its own report (``inner``) or spawn→exit."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = {"argv": argv, "env": dict(env or os.environ), "cwd": str(ROOT), "stdout": f"{tmp}/out",
                "stderr": f"{tmp}/err", "limit_kb": int(limit_mb * 1024)}
        done = subprocess.run([PY, "-S", "-c", LAUNCHER, json.dumps(spec)], capture_output=True, text=True,
                              check=True)
        result = json.loads(done.stdout)
        stdout = Path(f"{tmp}/out").read_text(errors="replace")
        stderr = Path(f"{tmp}/err").read_text(errors="replace")
    ok = result["code"] == 0 and not result["killed"]
    wall = result["wall"]
    if inner and ok:
        wall = json.loads(stdout.strip().splitlines()[-1])["seconds"]
    if result["killed"]:
        note = f"killed: over the {limit_mb:,.0f} MB limit"
    elif not ok:
        note = f"exit {result['code']}: {stderr.strip().splitlines()[-1] if stderr.strip() else ''}"
    else:
        note = ""
    return Run(wall, result["cpu"], result["maxrss_kb"] / 1024, ok, note)


@dataclass
class Step:
    name: str
    n: int
    argv: list[str]
    inner: bool
    runs: list[Run] = field(default_factory=list)
    env: dict[str, str] | None = None
    skipped: str = ""
    estimate: float | None = None

    def median(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.runs if r.ok]
        return statistics.median(values) if values else float("nan")

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.ok for r in self.runs)


# ---------------------------------------------------------------------------------------------
# Data


def dataset(criteria: Path, n: int, seed: int, out_dir: Path) -> Path:
    """``<stem>-cur.csv``/``-prev.csv``/``-cur.parquet`` for N branches, generated once."""
    tag = zlib.crc32(criteria.read_bytes()) & 0xFFFFFF
    stem = out_dir / f"{criteria.stem}-{n}-s{seed}-{tag:06x}"
    wanted = [Path(f"{stem}-cur.csv"), Path(f"{stem}-prev.csv"), Path(f"{stem}-cur.parquet")]
    if not all(p.exists() for p in wanted):
        print(f"  generating {n:,} branches × 2 periods → {stem.name}-*.csv …", flush=True)
        run = measure([PY, __file__, "--child", "generate", str(criteria), str(n), str(seed), str(stem)],
                      inner=True)
        if not run.ok:
            raise SystemExit(f"data generation failed: {run.note}")
        print(f"  generated in {run.wall:.1f} s (peak RSS {run.rss_mb:,.0f} MB)", flush=True)
    return stem


def csv_width(criteria: Path) -> int:
    """Columns of ``score -f csv`` for this criteria (rank … missing) with all reserved columns."""
    from wuxing_cli.io.criteria_loader import load_criteria_set

    (crit,) = load_criteria_set([str(criteria)])
    return 10 + 2 * len(crit.stars) + 2


# ---------------------------------------------------------------------------------------------
# Startup (county file)


def startup(rounds: int) -> list[tuple[str, Step]]:
    county = "examples/county-2024-Q4.csv"
    criteria_files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "criteria").glob("*.yaml"))
    steps = [
        ("import polars", Step("import polars", 0, [PY, "-c", "import polars"], inner=False)),
        ("wuxing score county (300 rows)", Step("score", 0, [WUXING, "score", county, "-q"], inner=False)),
        ("wuxing score county -f csv", Step("score-csv", 0, [WUXING, "score", county, "-q", "-f", "csv"],
                                             inner=False)),
        ("wuxing --help", Step("help", 0, [WUXING, "--help"], inner=False)),
        ("wuxing validate criteria/*.yaml", Step("validate", 0, [WUXING, "validate", *criteria_files],
                                                 inner=False)),
    ]
    env = dict(os.environ, COLUMNS="100")
    for _ in range(rounds):
        for _, step in steps:
            step.runs.append(measure(step.argv, inner=False, env={**env, **(step.env or {})}))
    return steps


def import_summary(argv: list[str]) -> tuple[float, list[tuple[str, float]], bool]:
    """``python -X importtime`` of a command (no cache): total ms of top-level imports, the five
    largest top-level packages, and whether polars was imported."""
    code = (
        "import os, sys, runpy\n"
        f"sys.argv = {argv!r}\n"
        "try:\n    runpy.run_module('wuxing_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
    )
    result = subprocess.run([PY, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    tops: dict[str, float] = {}
    seen: set[str] = set()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|")
        seen.add(name.strip())
        name = name[1:]  # the space after the bar; then two spaces per level, a top-level import has two
        if len(name) - len(name.lstrip()) == 2:
            top = name.strip().split(".")[0]
            tops[top] = tops.get(top, 0.0) + int(cumulative) / 1000
    ranked = sorted(tops.items(), key=lambda kv: -kv[1])
    return sum(tops.values()), ranked[:5], "polars" in seen


# ---------------------------------------------------------------------------------------------
# Report


def paired(step: Step, base: Step, attr: str = "wall") -> float:
    """Median over rounds of step / base, each pair measured in the same round (same load)."""
    pairs = [getattr(a, attr) / getattr(b, attr) for a, b in zip(step.runs, base.runs, strict=False) if a.ok and b.ok]
    if pairs:
        return statistics.median(pairs)
    return step.median(attr) / base.median(attr)


def fmt_s(x: float) -> str:
    return "—" if x != x else f"{x:.3f}" if x < 10 else f"{x:.1f}"


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
        ram = int(mem.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        ram = float("nan")
    load = os.getloadavg()
    import polars

    return (f"{platform.node()}: {os.cpu_count()} CPUs ({model}), {ram:.1f} GB RAM, "
            f"Python {platform.python_version()}, polars {polars.__version__}, "
            f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (median reported)")
    parser.add_argument("--criteria", type=Path, default=HERE / "criteria-wide.yaml")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--peer-limit", type=float, default=600.0,
                        help="skip the pandas peer when its predicted time exceeds this (seconds)")
    parser.add_argument("--startup-rounds", type=int, default=15)
    parser.add_argument("--no-startup", action="store_true")
    parser.add_argument("--no-commands", action="store_true", help="skip rank/diff/bulletin at the largest N")
    parser.add_argument("--json", type=Path, help="also write all measurements here")
    parser.add_argument("--big", type=int, default=0, metavar="N",
                        help="also score N branches (the largest data set repeated with new ids) with "
                        "--streaming under a memory limit smaller than the file, and without it")
    parser.add_argument("--big-limit", type=float, default=0.75,
                        help="the memory limit of --big as a share of the file's size")
    parser.add_argument("--big-compare", action="store_true",
                        help="also run the normal path on the --big file without a limit and compare outputs")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        child(opts.child[0], opts.child[1:])
        return

    # Byte-compile the package as pip does for an installed wheel: with PYTHONDONTWRITEBYTECODE set
    # (as on CI machines) an editable install would otherwise recompile every module on every start.
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True, stdout=subprocess.DEVNULL)
    opts.out.mkdir(exist_ok=True)
    work = opts.out / "runs"
    work.mkdir(exist_ok=True)
    criteria = opts.criteria.resolve()
    crit = str(criteria)
    width = csv_width(criteria)
    sizes = sorted(opts.sizes)
    print(machine())
    print(f"criteria {criteria.relative_to(ROOT) if criteria.is_relative_to(ROOT) else criteria}, "
          f"sizes {', '.join(f'{n:,}' for n in sizes)}, {opts.repeat} runs per step (medians)\n", flush=True)

    stems = {n: dataset(criteria, n, opts.seed, opts.out) for n in sizes}
    csv_size = {n: Path(f"{stems[n]}-cur.csv").stat().st_size for n in sizes}

    steps: dict[tuple[str, int], Step] = {}
    for n in sizes:
        stem = stems[n]
        data, prev, parquet = f"{stem}-cur.csv", f"{stem}-prev.csv", f"{stem}-cur.parquet"
        o = str(work / f"{n}")
        plan = [
            Step("floor", n, [PY, __file__, "--child", "floor", data, f"{o}-floor.csv", str(width)], True),
            Step("floor-cat", n, [PY, __file__, "--child", "floor-cat", data, f"{o}-floorcat.csv", str(width)],
                 True),
            Step("floor-pq", n, [PY, __file__, "--child", "floor-pq", parquet, f"{o}-floorpq.csv", str(width)],
                 True),
            Step("lib-csv", n, [PY, __file__, "--child", "lib", data, f"{o}-lib.csv", "csv", crit], True),
            Step("lib-parquet", n, [PY, __file__, "--child", "lib", data, f"{o}-lib.parquet", "parquet", crit],
                 True),
            Step("lib-pq-in", n, [PY, __file__, "--child", "lib", parquet, f"{o}-libpq.csv", "csv", crit], True),
            Step("cli-csv", n, [WUXING, "score", data, "-c", crit, "-f", "csv", "-o", f"{o}-cli.csv", "-q"], False),
            Step("cli-parquet", n, [WUXING, "score", data, "-c", crit, "-f", "parquet", "-o", f"{o}-cli.parquet",
                                    "-q"], False),
            Step("cli-stream", n, [WUXING, "score", data, "-c", crit, "--streaming", "-f", "csv", "-o",
                                   f"{o}-stream.csv", "-q"], False),
            Step("peer", n, [PY, str(HERE / "peer_pandas.py"), crit, data, f"{o}-peer.csv"], False),
        ]
        if n == sizes[-1] and not opts.no_commands:
            plan += [
                Step("rank", n, [WUXING, "rank", data, "-c", crit, "--by", "township", "-f", "csv", "-o",
                                 f"{o}-rank.csv", "-q"], False),
                Step("diff", n, [WUXING, "diff", prev, data, "-c", crit, "-f", "csv", "-o", f"{o}-diff.csv",
                                 "-q"], False),
                Step("bulletin-1", n, [WUXING, "bulletin", data, "-c", crit, "--by", "township", "-o",
                                       f"{o}-bulletin1.md", "-q"], False),
                Step("bulletin", n, [WUXING, "bulletin", data, "--previous", prev, "-c", crit, "--by",
                                     "township", "-o", f"{o}-bulletin.md", "-q"], False),
            ]
        for step in plan:
            steps[(step.name, n)] = step

    for n in sizes:
        print(f"N = {n:,}  ({csv_size[n] / 1e6:,.0f} MB CSV)", flush=True)
        for path in (f"{stems[n]}-cur.csv", f"{stems[n]}-prev.csv", f"{stems[n]}-cur.parquet"):
            with open(path, "rb") as handle:  # into the page cache: no step pays for a cold disk read
                while handle.read(1 << 24):
                    pass
        todo = [s for (name, m), s in steps.items() if m == n]
        peer = steps[("peer", n)]
        smaller = [m for m in sizes if m < n and steps[("peer", m)].ok]
        if smaller:
            m = smaller[-1]
            peer.estimate = steps[("peer", m)].median("wall") * n / m
            if peer.estimate > opts.peer_limit:
                peer.skipped = f"skipped: predicted {peer.estimate:,.0f} s (linear from N={m:,})"
        for r in range(opts.repeat):
            for step in todo:
                if step.skipped or (step.name == "peer" and r > 0 and n >= 1_000_000):
                    continue
                run = measure(step.argv, inner=step.inner)
                step.runs.append(run)
                print(f"  {step.name:12s} run {r + 1}: {run.wall:8.3f} s  cpu {run.cpu:8.2f} s  "
                      f"rss {run.rss_mb:8,.0f} MB {run.note}", flush=True)
        check_outputs(work, n)

    report(steps, sizes, csv_size, opts)
    if opts.big:
        big_report(stems[sizes[-1]], sizes[-1], criteria, opts)
    if not opts.no_startup:
        startup_report(opts.startup_rounds)


def check_outputs(work: Path, n: int) -> None:
    """The library, CLI, streaming and Parquet paths must write the same scores; the peer agrees."""
    import polars as pl

    o = work / f"{n}"
    base = Path(f"{o}-cli.csv")
    if not base.exists():
        return
    ref = base.read_bytes()
    for other in ("-lib.csv", "-libpq.csv", "-stream.csv"):
        path = Path(f"{o}{other}")
        if path.exists():
            same = path.read_bytes() == ref
            print(f"  {path.name} identical to {base.name}: {same}")
    for other in ("-lib.parquet", "-cli.parquet"):
        path = Path(f"{o}{other}")
        if path.exists():
            same = pl.read_parquet(path).equals(pl.read_csv(base, schema=pl.read_parquet_schema(path)))
            print(f"  {path.name} same rows as {base.name}: {same}")
    peer = Path(f"{o}-peer.csv")
    if peer.exists():
        a = pl.read_csv(peer, infer_schema=False).sort("branch_id")
        b = pl.read_csv(base, infer_schema=False).sort("branch_id")
        rows = a.height == b.height and all(
            (a[c].fill_null("") == b[c].fill_null("")).all()
            or (a[c].cast(pl.Float64, strict=False) - b[c].cast(pl.Float64, strict=False)).abs().max() == 0
            for c in b.columns
        )
        print(f"  pandas peer agrees with wuxing on every branch and column: {rows}")
    print(flush=True)


def report(steps: dict[tuple[str, int], Step], sizes: list[int], csv_size: dict[int, int],
           opts: argparse.Namespace) -> None:
    print("\nResults (median of runs; wall seconds, CPU = user+sys of the process, peak RSS of the process;")
    print("×floor and peer/x are medians of the ratios within each round, wall time; ×fl.cpu the same in CPU)")
    header = (f"{'step':12s} {'N':>10s} {'wall s':>9s} {'CPU s':>8s} {'RSS MB':>8s} {'RSS/CSV':>8s} "
              f"{'×floor':>7s} {'×fl.cpu':>7s} {'peer/x':>8s}")
    print(header)
    print("-" * len(header))
    for n in sizes:
        floor = steps[("floor", n)]
        peer = steps[("peer", n)]
        for (name, m), step in steps.items():
            if m != n:
                continue
            if not step.runs:
                extra = f"  ({step.skipped})" if step.skipped else ""
                print(f"{name:12s} {n:>10,} {'~' + fmt_s(step.estimate or float('nan')):>9s}{extra}")
                continue
            wall = step.median("wall")
            if name == "peer":
                speed = float("nan")
            elif peer.ok:
                speed = paired(peer, step)
            else:
                speed = (peer.estimate or float("nan")) / wall
            mark = "~" if not peer.ok and peer.estimate else ""
            note = "" if step.ok else "  FAILED: " + step.runs[-1].note
            print(f"{name:12s} {n:>10,} {fmt_s(wall):>9s} {fmt_s(step.median('cpu')):>8s} "
                  f"{step.median('rss_mb'):>8,.0f} {step.median('rss_mb') * 2**20 / csv_size[n]:>8.2f} "
                  f"{paired(step, floor):>7.2f} {paired(step, floor, 'cpu'):>7.2f} "
                  f"{mark + (f'{speed:.1f}' if speed == speed else '—'):>8s}{note}")
        print()

    if len(sizes) > 1:
        print("Scaling (wall-time factor between consecutive sizes; linear = the size factor)")
        names = [name for (name, m) in steps if m == sizes[0]]
        cols = " ".join(f"{f'{a:,}→{b:,}':>18s}" for a, b in itertools.pairwise(sizes))
        print(f"{'step':12s} {cols}")
        for name in names:
            cells = []
            for a, b in itertools.pairwise(sizes):
                sa, sb = steps[(name, a)], steps[(name, b)]
                ta = sa.median("wall") if sa.runs else float("nan")
                tb = sb.median("wall") if sb.runs else float("nan")
                cells.append(f"{tb / ta:>11.1f} (×{b // a})" if ta == ta and tb == tb else f"{'—':>18s}")
            print(f"{name:12s} " + " ".join(f"{c:>18s}" for c in cells))
        print()

    big = sizes[-1]
    score = steps[("cli-csv", big)]
    if ("rank", big) in steps:
        print(f"Other commands at N = {big:,} (CLI, relative to cli-csv {fmt_s(score.median('wall'))} s in the "
              "same rounds; target ≤ 2×; diff and bulletin --previous read and score two files, so they are "
              "also shown per file scored)")
        for name, files in (("rank", 1), ("bulletin-1", 1), ("diff", 2), ("bulletin", 2)):
            step = steps[(name, big)]
            note = "" if step.ok else "  FAILED: " + step.runs[-1].note
            label = {"bulletin-1": "bulletin", "bulletin": "bulletin --previous"}.get(name, name)
            per_file = f"  per file scored ×{paired(step, score) / files:5.2f}" if files > 1 else ""
            print(f"  {label:20s} {fmt_s(step.median('wall')):>8s} s  ×score {paired(step, score):5.2f} "
                  f"(cpu {paired(step, score, 'cpu'):5.2f}){per_file}  rss {step.median('rss_mb'):,.0f} MB{note}")
        print()

    print("Targets")
    floor = steps[("floor", big)]
    for name in ("lib-csv", "cli-csv", "cli-parquet", "cli-stream"):
        step = steps[(name, big)]
        print(f"  {name} at N={big:,}: {paired(step, floor):.2f} × floor in wall time, "
              f"{paired(step, floor, 'cpu'):.2f} × in CPU (target ≤ 1.5); peak RSS {step.median('rss_mb'):,.0f} MB "
              f"= {step.median('rss_mb') * 2**20 / csv_size[big]:.2f} × CSV (target ≤ 4)")
    if 100_000 in sizes and steps[("peer", 100_000)].ok:
        peer = steps[("peer", 100_000)]
        for name in ("cli-csv", "lib-csv"):
            print(f"  pandas peer / wuxing ({name}) at N=100,000: {paired(peer, steps[(name, 100_000)]):.1f} × "
                  "(target ≥ 20)")
    if opts.json:
        dump = {f"{name}@{n}": {"runs": [r.__dict__ for r in s.runs], "skipped": s.skipped,
                                "estimate": s.estimate} for (name, n), s in steps.items()}
        opts.json.write_text(json.dumps(dump, indent=1))


def big_file(source: Path, n: int, rows: int, out: Path) -> Path:
    """N rows: ``source`` (``rows`` data rows) repeated, each copy's branch ids given a suffix."""
    if out.exists():
        return out
    tmp = out.with_suffix(".partial")
    written = 0
    with tmp.open("wb") as sink:
        copy = 0
        while written < n:
            with source.open("rb") as handle:
                header = handle.readline()
                if copy == 0:
                    sink.write(header)
                for line in handle:
                    if written >= n:
                        break
                    if copy:
                        bid, rest = line.split(b",", 1)
                        line = bid + f"{copy:03d}".encode() + b"," + rest
                    sink.write(line)
                    written += 1
            copy += 1
    tmp.rename(out)
    return out


def big_report(stem: Path, rows: int, criteria: Path, opts: argparse.Namespace) -> None:
    n = opts.big
    print(f"\nLarger than memory: {n:,} branches", flush=True)
    big = big_file(Path(f"{stem}-cur.csv"), n, rows, opts.out / f"big-{n}.csv")
    size_mb = big.stat().st_size / 2**20
    limit = size_mb * opts.big_limit
    work = opts.out / "runs"
    crit = str(criteria)
    print(f"  file {big.name}: {size_mb:,.0f} MB; memory limit (RSS, enforced by a watchdog that kills the "
          f"process above it) {limit:,.0f} MB = {opts.big_limit:.2f} × the file", flush=True)
    streaming = measure([WUXING, "score", str(big), "-c", crit, "--streaming", "-f", "csv", "-o",
                         str(work / "big-stream.csv"), "-q"], inner=False, limit_mb=limit)
    print(f"  score --streaming under the limit: {'ok' if streaming.ok else 'FAILED'} {streaming.note}  "
          f"wall {streaming.wall:.1f} s  cpu {streaming.cpu:.1f} s  peak RSS {streaming.rss_mb:,.0f} MB "
          f"({streaming.rss_mb / size_mb:.2f} × the file)", flush=True)
    eager = measure([WUXING, "score", str(big), "-c", crit, "-f", "csv", "-o", str(work / "big-eager.csv"), "-q"],
                    inner=False, limit_mb=limit)
    print(f"  score (normal path) under the limit: {'ok' if eager.ok else 'failed'} {eager.note}  "
          f"wall {eager.wall:.1f} s  peak RSS ≥ {eager.rss_mb:,.0f} MB", flush=True)
    if opts.big_compare:
        eager = measure([WUXING, "score", str(big), "-c", crit, "-f", "csv", "-o", str(work / "big-eager.csv"),
                         "-q"], inner=False)
        same = (work / "big-stream.csv").read_bytes() == (work / "big-eager.csv").read_bytes()
        print(f"  score (normal path) without a limit: wall {eager.wall:.1f} s  peak RSS {eager.rss_mb:,.0f} MB "
              f"({eager.rss_mb / size_mb:.2f} × the file); outputs identical: {same}", flush=True)


def startup_report(rounds: int) -> None:
    print(f"\nStartup on the county file ({rounds} interleaved rounds, medians)")
    steps = startup(rounds)
    base = steps[0][1]
    for label, step in steps:
        note = "" if step.ok else "  FAILED: " + step.runs[-1].note
        print(f"  {label:38s} wall {step.median('wall'):6.3f} s ({paired(step, base):4.2f}×)  "
              f"cpu {step.median('cpu'):6.3f} s ({paired(step, base, 'cpu'):4.2f}×)  "
              f"rss {step.median('rss_mb'):5.0f} MB{note}")
    print("  targets: score -f csv ≤ 2.0× import polars; --help ≤ 1.0× and validate ≤ 1.3× (no polars)")
    criteria_files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "criteria").glob("*.yaml"))
    for argv in (["wuxing", "--help"], ["wuxing", "validate", *criteria_files],
                 ["wuxing", "score", "examples/county-2024-Q4.csv", "-q"]):
        total, largest, polars = import_summary(argv)
        print(f"  python -X importtime {shlex.join(argv)} (no cache): imports {total:.0f} ms, polars imported: "
              f"{polars}; largest: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in largest))


if __name__ == "__main__":
    main()
