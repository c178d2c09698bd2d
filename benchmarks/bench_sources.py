"""`kg build` with every source imported (tracker, EOSAI, MOT) against the paper-only build,
side by side in one process, and the cross-source questions on the larger graph.

The imports are made first from a folder of real snapshots (default ../shared/data, or
--data DIR; the EOSAI and MOT folders) into a temporary workspace, with the tracker fixtures;
then each round builds twice into fresh output folders. Prints the median of each and the ratio
(everything / paper only), then the time of who-says, source-disagreements and coverage.

    python benchmarks/bench_sources.py [--rounds 3] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import Literal

from kg.release.build import build
from kg.store import OxigraphStore
from kg.store.queries import resolve

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    if not (args.data / "eosai").is_dir():
        sys.exit(f"no snapshots in {args.data} (pass --data DIR)")
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "workspace"
        for source, folder in (
            ("tracker", ROOT / "tests" / "fixtures" / "tracker" / "good"),
            ("eosai", args.data / "eosai"),
            ("mot", args.data / "mot"),
        ):
            subprocess.run(
                [sys.executable, "-m", "kg", "import", source, str(folder), "--workspace", str(ws)],
                check=True,
                capture_output=True,
            )
        paper, everything = [], []
        for i in range(args.rounds):
            t = time.perf_counter()
            build(Path(tmp) / f"paper-{i}")
            paper.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = build(Path(tmp) / f"all-{i}", workspace=ws)
            everything.append(time.perf_counter() - t)
        p, e = statistics.median(paper), statistics.median(everything)
        print(f"paper only       : {p:7.2f} s  (median of {args.rounds})")
        print(f"every source     : {e:7.2f} s  ({result.triples} triples)")
        print(f"ratio            : {e / p:7.2f} x")
        store = OxigraphStore.open_read_only(Path(tmp) / "all-0" / "current" / "store")
        for name, params in (
            ("who-says", {"model": Literal("LLaMA-2")}),
            ("source-disagreements", {}),
            ("coverage", {}),
        ):
            t = time.perf_counter()
            rows = store.select(resolve(name), params).rows
            print(f"{name:<21}: {time.perf_counter() - t:7.2f} s  ({len(rows)} rows)")


if __name__ == "__main__":
    main()
