"""`kg --help` (and `kg <command> --help`) start-up time, this checkout side by side with a
baseline checkout (for example an earlier commit: `git archive COMMIT | tar -x -C /tmp/base`),
both run by this virtual environment's Python, alternating run by run. Prints the median of each,
the ratio, and how many modules each run imports.

    .venv/bin/python benchmarks/bench_cli.py [--baseline /tmp/base] [--rounds 15]

Both checkouts are byte-compiled first (`compileall`), as an installed package is by pip: with
PYTHONDONTWRITEBYTECODE set (this machine sets it) an editable checkout would otherwise be
compiled from source on every run, about 40 ms of `kg --help` that no installed user pays.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
# run the CLI from the checkout on PYTHONPATH (ahead of the editable install)
RUN = "import sys; sys.argv = ['kg', *sys.argv[1:]]; from kg.cli import main; main()"
COUNT = (
    "import sys, io, contextlib; sys.argv = ['kg', *sys.argv[1:]]\n"
    "from kg.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()):\n"
    "    try: main()\n"
    "    except SystemExit: pass\n"
    "print(len(sys.modules))"
)


def once(root: Path, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "100"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-P", "-c", RUN, *args], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def modules(root: Path, args: list[str]) -> int:
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-P", "-c", COUNT, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a baseline checkout (default: none)")
    parser.add_argument("--rounds", type=int, default=15)
    ns = parser.parse_args()
    roots = {"this": HERE} | ({"baseline": ns.baseline.resolve()} if ns.baseline else {})
    for root in roots.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "kg")], check=True)
    floor = [sys.executable, "-c", "pass"]
    print(f"python start-up alone: {statistics.median(_t(floor) for _ in range(5)):.3f} s")
    for args in (["--help"], ["query", "--help"], ["build", "--help"]):
        times: dict[str, list[float]] = {name: [] for name in roots}
        for _ in range(ns.rounds):
            for name, root in roots.items():  # alternate, so load on the machine hits both
                times[name].append(once(root, args))
        line = [f"kg {' '.join(args):<16}"]
        for name, root in roots.items():
            line.append(
                f"{name}: {statistics.median(times[name]):.3f} s ({modules(root, args)} modules)"
            )
        if "baseline" in times:
            ratio = statistics.median(times["baseline"]) / statistics.median(times["this"])
            line.append(f"baseline/this: {ratio:.1f}x")
        print("   ".join(line))


def _t(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
