"""The `transparency` query on synthetic FMTI imports of N, 2N and 4N developer assessments
(100 indicator scores each), run side by side in one process: the time per assessment should stay
flat (cost linear in assessments). Also the cost of release verification (`Release.verify()`)
next to opening the store, on the current release if there is one.

    .venv/bin/python benchmarks/bench_fmti.py [--n 200] [--rounds 5] [--out output]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from kg.mapping.fmti import fmti_quads
from kg.paths import resource_dir
from kg.release.release import Release
from kg.sources.fmti import Imported, ImportedScore, Indicator
from kg.store.oxigraph import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import DEFAULT_BASE, Base


def synthetic(n: int) -> Imported:
    """n assessments spread over three editions, 100 indicators each, scores alternating."""
    editions = ("2023", "2024", "2025")
    indicators = [
        Indicator(e, f"Indicator {i}", "Upstream", "Data") for e in editions for i in range(100)
    ]
    scores = [
        ImportedScore(
            editions[d % 3],
            f"Developer {d}",
            "",
            "",
            "",
            f"Indicator {i}",
            (d + i) % 2,
            "disclosed",
            "justified",
            "",
            50 if d % 3 < 2 else None,
            f"synthetic:{d}",
        )
        for d in range(n)
        for i in range(100)
    ]
    return Imported(scores, indicators)


def time_query(n: int, rounds: int) -> float:
    store = OxigraphStore.in_memory()
    store.add_quads(fmti_quads(synthetic(n), Base(DEFAULT_BASE)))
    query = parse_query_file(resource_dir("queries") / "transparency.rq")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        rows = store.select(query).rows
        times.append(time.perf_counter() - started)
        assert len(rows) == n
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("output"))
    args = parser.parse_args()
    base = None
    print("transparency query, synthetic FMTI imports (100 scores per assessment)")
    for k in (1, 2, 4):
        n = args.n * k
        t = time_query(n, args.rounds)
        per = t / n * 1000
        base = base or per
        print(
            f"  {n:6d} assessments: {t * 1000:8.1f} ms, {per:.3f} ms per assessment, "
            f"ratio to N: {per / base:.2f} (1.00 = linear)"
        )
    if (args.out / "current").exists():
        release = Release.current(args.out)
        opened = []
        verified = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            release.open_store().quads()
            opened.append(time.perf_counter() - started)
            started = time.perf_counter()
            Release(release.path).verify()
            verified.append(time.perf_counter() - started)
        files = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            Release(release.path).verify(store=False)
            files.append(time.perf_counter() - started)
        o, v, f = (statistics.median(x) * 1000 for x in (opened, verified, files))
        print(
            f"release {release.build_id}: opening the store and reading every quad {o:.0f} ms; "
            f"verify (files) {f:.0f} ms ({f / o:.2f}x); verify (files + store counts) "
            f"{v:.0f} ms ({v / o:.2f}x)"
        )


if __name__ == "__main__":
    main()
