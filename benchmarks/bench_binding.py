"""Where a query's required parameters are bound, side by side, at synthetic N (issue 14):

1. `kg query lineage -p model=ID` on a synthetic Hub (`synth_hub.py`) of N repositories, the
   model bound at the start of the WHERE group (`QueryFile.with_values`, what the stores run)
   and by a trailing VALUES block (`with_trailing_values`, before), for a popular base;
2. `kg reason --model`'s scope (queries/internal/reason-scope.rq: the ontology and one model's
   asserted facts) on paper-shaped sources of N models (`synth_paper.py`): it should not grow
   with N, where the whole graph's asserted triples (what `kg reason` gives HermiT without
   --model) grow linearly.

Prints the median of --rounds runs for each, their ratio, and the ratio per decade of N.

    .venv/bin/python benchmarks/bench_binding.py [--hub 1000 10000] [--paper 100 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from synth_hub import record, repo_id  # noqa: E402
from synth_paper import synth_sources  # noqa: E402

from kg.checks.reason import asserted_triples, scoped_triples  # noqa: E402
from kg.mapping.hf import hf_quads  # noqa: E402
from kg.release.build import assemble  # noqa: E402
from kg.sources.hf import check_record  # noqa: E402
from kg.sources.workspace import Provenance  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from kg.store.queries import resolve  # noqa: E402
from kg.vocab.namespaces import DEFAULT_BASE, Base  # noqa: E402


def median_time(fn: Callable[[], object], rounds: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def hub_store(n: int) -> OxigraphStore:
    records = (check_record(json.loads(json.dumps(record(1, i))), i + 1) for i in range(n))
    meta = Provenance("hf", "Hub", retrieved="2026-11-30", folder="synthetic", records=n)
    store = OxigraphStore.in_memory()
    store.add_quads(hf_quads(records, Base(DEFAULT_BASE), meta))
    return store


def lineage_at(n: int, rounds: int) -> tuple[int, float, float]:
    """(rows, seconds bound in the group, seconds with a trailing block) at N repositories."""
    query = resolve("lineage")
    terms = {"model": ox.Literal(repo_id(1, 1))}
    store = hub_store(n)
    bound, rows = median_time(lambda: len(list(store.raw_query(query.with_values(terms)))), rounds)
    trailing, again = median_time(
        lambda: len(list(store.raw_query(query.with_trailing_values(terms)))), rounds
    )
    assert rows == again, (rows, again)  # the same answer either way
    store.close()
    return int(str(rows)), bound, trailing


def lineage(sizes: list[int], rounds: int) -> None:
    print(f"lineage -p model={repo_id(1, 1)} (a popular base)")
    print(f"{'N':>9} {'rows':>6} {'in group s':>11} {'trailing s':>11} {'trailing/in group':>18}")
    previous: tuple[int, float] | None = None
    for n in sizes:
        rows, bound, trailing = lineage_at(n, rounds)
        growth = ""
        if previous:
            growth = f"   in group x{bound / previous[1]:.1f} for N x{n / previous[0]:g}"
        print(
            f"{n:>9} {rows:>6} {bound:>11.3f} {trailing:>11.3f} {trailing / bound:>17.1f}x{growth}"
        )
        previous = (n, bound)


def scope_at(n: int, rounds: int, tmp: Path) -> tuple[int, float, int, float]:
    sources = synth_sources(n, tmp / f"sources-{n}")
    store = OxigraphStore.in_memory()
    store.add_quads(assemble(sources))
    model = f"{DEFAULT_BASE}model/llama-2"
    scope_s, scoped = median_time(lambda: scoped_triples(store, DEFAULT_BASE, [model]), rounds)
    whole_s, whole = median_time(lambda: asserted_triples(store, DEFAULT_BASE), rounds)
    assert isinstance(scoped, list) and isinstance(whole, list)
    store.close()
    return len(scoped), scope_s, len(whole), whole_s


def reason_scope(sizes: list[int], rounds: int) -> None:
    print("kg reason --model: triples given to HermiT for one model, and the time to read them")
    print(f"{'N':>9} {'scope':>7} {'scope s':>8} {'whole':>8} {'whole s':>8} {'whole/scope':>12}")
    with tempfile.TemporaryDirectory(prefix="bench-binding-") as tmp:
        for n in sizes:
            scoped, scope_s, whole, whole_s = scope_at(n, rounds, Path(tmp))
            print(
                f"{n:>9} {scoped:>7} {scope_s:>8.3f} {whole:>8} {whole_s:>8.3f} "
                f"{whole_s / scope_s:>11.1f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--paper", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    ns = parser.parse_args()
    if ns.hub:
        lineage(ns.hub, ns.rounds)
    if ns.paper:
        reason_scope(ns.paper, ns.rounds)


if __name__ == "__main__":
    main()
