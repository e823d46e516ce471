"""Time the sample generator at several scales: seconds, lines, megabytes, peak memory.

    .venv/bin/python benchmarks/bench_generate.py            # scales 0.1 1 10
    .venv/bin/python benchmarks/bench_generate.py 1 10 100

Each scale runs in a fresh subprocess that reports its own peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so no run inherits the high-water mark of
another. Files go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time

# Runs in the child: generate, then report rows and bytes as one JSON line.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from olist_cli.sources.sample import generate_sample

start = time.perf_counter()
paths = generate_sample(Path(sys.argv[2]), scale=float(sys.argv[1]), progress=False)
seconds = time.perf_counter() - start
lines = 0
for path in paths:
    with path.open("rb") as f:
        # Lines, not rows: review texts hold newlines (and the translation file lacks a last one).
        lines += sum(chunk.count(b"\\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
size = sum(p.stat().st_size for p in paths)
print(json.dumps({"seconds": seconds, "lines": lines, "bytes": size, "peak_rss_mb": peak_mb}))
"""


def run(scale: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="olist-bench-") as folder:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(scale), folder],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", type=float, default=[0.1, 1.0, 10.0])
    args = parser.parse_args()
    print(f"{'scale':>7} {'seconds':>8} {'lines':>12} {'MB':>9} {'peak RSS MB':>12}", flush=True)
    for scale in args.scales:
        wall = time.perf_counter()
        r = run(scale)
        print(
            f"{scale:>7g} {r['seconds']:>8.1f} {r['lines']:>12,} {r['bytes'] / 1e6:>9.1f} "
            f"{r['peak_rss_mb']:>12.0f}   (wall {time.perf_counter() - wall:.1f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
