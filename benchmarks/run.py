"""Time the pipeline at one or more scales and compare with the targets of issue 4.

    .venv/bin/python benchmarks/run.py            # scale 1
    .venv/bin/python benchmarks/run.py 1 10       # several scales, one table each
    .venv/bin/python benchmarks/run.py --repeat 3 1 10   # the full and incremental steps
                                                         # 3 times each: their medians

For each scale, in a temporary folder that is removed afterwards, every step runs as its own
`olist` process (the console script beside this Python), in this order:

1. generate      `olist download --source sample --scale S` (the full data)
   (untimed)     the same as of one month before the end of the data (2018-09-17), and
                 a warehouse built from it
2. full run-all  `olist run-all --full-refresh --source <files>` into an empty warehouse:
                 load + transform + test, the data already generated
3. incremental   `olist run-all --source <full files>` on a fresh copy of the month-earlier
                 warehouse (written to disk first): the one-month step, timed alone.
                 With --repeat, steps 2 and 3 take turns, so that the machine's drift
                 weighs on both alike and their ratio holds.
4. no-op run-all the same command as 2 again without --full-refresh: files and SQL
                 unchanged (median of 3 runs)
5. olist --help  median of 5 runs

Wall time is measured around each process; peak RSS is the process's own high-water mark,
read with `resource.getrusage(RUSAGE_CHILDREN)` in a small wrapper process that runs only
that step (so no step inherits another's peak). No dependency beyond the standard library.

Python runs as it does for a user: olist's modules compiled to bytecode once beforehand, as
pip does when it installs a package, and PYTHONDONTWRITEBYTECODE (set in some sandboxes and
CI images) removed from the steps' environment; otherwise every step would recompile olist,
~25 ms that no installed copy pays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OLIST = Path(sys.executable).parent / "olist"
ONE_MONTH_BEFORE_THE_END = "2018-09-17"  # the data ends on 2018-10-17

# Runs one command, reports its wall time, exit code and peak RSS as one JSON line.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
print(json.dumps({"seconds": seconds, "rc": done.returncode, "peak_mb": peak_kib / 1024,
                  "stdout": done.stdout[-20000:], "stderr": done.stderr[-4000:]}))
"""

STAGE_LINE = re.compile(r"^(download|load|transform|test)\s+\w+\s+([\d.]+)s\b", re.MULTILINE)


@dataclass
class Measure:
    step: str
    seconds: float
    peak_mb: float
    ok: bool
    stages: str = ""  # the run's own per-stage durations, from its summary
    note: str = ""


def measure(step: str, args: list[str], data_dir: Path, cwd: Path, repeat: int = 1) -> Measure:
    """Run ``olist args`` ``repeat`` times; the median time, the largest peak RSS."""
    return summarize(step, [run_once(args, data_dir, cwd) for _ in range(repeat)])


def run_once(args: list[str], data_dir: Path, cwd: Path) -> dict[str, Any]:
    """Run ``olist args`` on a data dir in the wrapper; its JSON line, as a dict."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OLIST_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["OLIST_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(OLIST), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarize(step: str, runs: list[dict[str, Any]]) -> Measure:
    """The median time and the largest peak RSS of a step's runs; the last one's stages."""
    last = runs[-1]
    ok = all(r["rc"] == 0 for r in runs)
    stages = " ".join(f"{name} {secs}s" for name, secs in STAGE_LINE.findall(last["stdout"]))
    note = "" if ok else f"exit {last['rc']}: {last['stderr'].strip().splitlines()[-1:]}"
    if len(runs) > 1:
        spread = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        note = f"median of {len(runs)} ({spread})" + (f"; {note}" if note else "")
    return Measure(
        step,
        statistics.median(r["seconds"] for r in runs),
        max(r["peak_mb"] for r in runs),
        ok,
        stages,
        note,
    )


def bench(scale: float, repeat: int = 1) -> list[Measure]:
    s = f"{scale:g}"
    with tempfile.TemporaryDirectory(prefix="olist-bench-") as tmp:
        root = Path(tmp)
        files, earlier = root / "gen" / "raw", root / "gen-earlier" / "raw"
        results = [
            measure(
                "generate", ["download", "--source", "sample", "--scale", s], files.parent, root
            )
        ]
        setup = measure(
            "generate as of a month before",
            ["download", "--source", "sample", "--scale", s, "--as-of", ONE_MONTH_BEFORE_THE_END],
            earlier.parent,
            root,
        )
        if not setup.ok:
            raise SystemExit(f"could not generate the earlier snapshot: {setup.note}")

        inc_dir = root / "incremental"
        base = measure("base for incremental", ["run-all", "--source", str(earlier)], inc_dir, root)
        if not base.ok:
            raise SystemExit(f"could not build the month-earlier warehouse: {base.note}")

        def copy_base(target: Path) -> Path:
            shutil.copytree(inc_dir, target, ignore=shutil.ignore_patterns("*.lock"))
            # Written to disk before the step, as a warehouse built the day before is: else
            # the step's first checkpoint would also flush the whole fresh copy from the
            # page cache (its fsync: ~30 ms at scale 1, that no daily run pays).
            for copied in target.rglob("*"):
                if copied.is_file():
                    _fsync(copied)
            return target

        # A full run (into an empty folder) and an incremental step (on a fresh copy of the
        # month-earlier warehouse) in turn: a drift of the machine during the benchmark then
        # weighs on both alike, and their ratio holds. The last full run's folder stays for
        # the no-op run.
        full_dir = root / "full"
        full_runs, step_runs = [], []
        for i in range(repeat):
            target = full_dir if i == repeat - 1 else root / f"full-{i}"
            full_runs.append(
                run_once(["run-all", "--full-refresh", "--source", str(files)], target, root)
            )
            copy = copy_base(root / f"incremental-{i}")
            step_runs.append(run_once(["run-all", "--source", str(files)], copy, root))
        results.append(summarize("full run-all", full_runs))
        results.append(
            measure("no-op run-all", ["run-all", "--source", str(files)], full_dir, root, repeat=3)
        )
        results.append(summarize("incremental run-all (+1 month)", step_runs))
        results.append(measure("olist --help", ["--help"], root, root, repeat=5))
    return results


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def targets(scale: float, by_step: dict[str, Measure]) -> dict[str, tuple[str, bool | None]]:
    """Each step's target from issue 4 at this scale, and whether it is met (None: no target)."""
    full = by_step["full run-all"]
    out: dict[str, tuple[str, bool | None]] = {}
    if scale == 1:
        out["full run-all"] = ("<= 3.0 s", full.seconds <= 3.0)
        out["no-op run-all"] = ("<= 0.5 s", by_step["no-op run-all"].seconds <= 0.5)
    elif scale == 10:
        out["full run-all"] = ("<= 13 s", full.seconds <= 13)
    elif scale == 100:
        out["full run-all"] = ("completes", full.ok)
    inc = by_step["incremental run-all (+1 month)"]
    share = inc.seconds / full.seconds if full.seconds else float("nan")
    out["incremental run-all (+1 month)"] = (f"<= 40% of full ({share:.0%})", share <= 0.40)
    out["olist --help"] = ("<= 0.3 s", by_step["olist --help"].seconds <= 0.3)
    return out


def print_table(scale: float, results: list[Measure], load_before: float) -> None:
    by_step = {m.step: m for m in results}
    goals = targets(scale, by_step)
    print(
        f"\nscale {scale:g}  (1-min load average: {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; {os.cpu_count()} CPUs)"
    )
    header = f"{'step':<32} {'seconds':>8} {'peak RSS MB':>12}  {'target (issue 4)':<40} {'met':<4}"
    print(header)
    print("-" * len(header))
    for m in results:
        goal, met = goals.get(m.step, ("", None))
        verdict = "" if met is None else ("yes" if met else "NO")
        if not m.ok:
            verdict = "FAIL"
        print(f"{m.step:<32} {m.seconds:>8.2f} {m.peak_mb:>12,.0f}  {goal:<40} {verdict:<4}")
    peak = max(m.peak_mb for m in results)
    rss_goal = "  (target at scale 10: <= 2 GB: " + ("yes)" if peak <= 2048 else "NO)")
    print(f"{'peak RSS, all steps':<32} {'':>8} {peak:>12,.0f}{rss_goal if scale == 10 else ''}")
    for m in results:
        if m.stages or m.note:
            print(f"  {m.step}: {m.stages}{'  ' if m.stages and m.note else ''}{m.note}")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", type=float, default=[1.0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the full and the incremental step this many times each: their medians",
    )
    args = parser.parse_args()
    if not OLIST.is_file():
        raise SystemExit(f"no olist console script at {OLIST}: run with the venv's python")
    import compileall

    import olist_cli

    compileall.compile_dir(Path(olist_cli.__file__).parent, quiet=1)
    for scale in args.scales:
        load_before = os.getloadavg()[0]
        print_table(scale, bench(scale, max(1, args.repeat)), load_before)


if __name__ == "__main__":
    main()
