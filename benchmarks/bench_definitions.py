"""Cost of the license and definition rules against the number of models (synthetic N).

For each N, paper-shaped synthetic sources (benchmarks/synth_paper.py: Tables 2 and 3 with N
models drawn from the paper's cells) are assembled into an in-memory store and derived; the time
of each rule of the license knowledge base and of the openness definitions (rules 60, 62, 85,
90 and queries/definitions/*) is taken from the same run. Prints, per rule, the seconds at each N
and the ratio of the time per model at the largest N to that at the smallest: about 1 when the
cost is linear in models, well above 1 when it grows faster. The other rules run too (the
definitions read them) but are not reported.

    python benchmarks/bench_definitions.py [--sizes 40 400 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).parent))

from synth_paper import synth_sources

from kg.checks.derive import rules
from kg.release.build import assemble
from kg.store import OxigraphStore
from kg.vocab.namespaces import DEFAULT_BASE, Base

MINE = ("license-kb-level", "license-strings", "condition-outcomes", "definition-verdicts")


def one_round(sources: Path) -> dict[str, float]:
    store = OxigraphStore.in_memory()
    store.add_quads(assemble(sources))
    base = Base(DEFAULT_BASE)
    times: dict[str, float] = {}
    for rule in rules():
        graph = base.graph("derived", *rule.graph_parts)
        start = time.perf_counter()
        result = store.run(rule.query)
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in result]
        store.add_quads(quads)
        elapsed = time.perf_counter() - start
        if rule.slug in MINE or rule.graph[:1] == ("definitions",):
            times[rule.slug] = elapsed
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 400, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    medians: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            sources = synth_sources(n, Path(tmp) / f"sources-{n}")
            runs = [one_round(sources) for _ in range(args.rounds)]
            medians[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    small, large = min(args.sizes), max(args.sizes)
    print(
        f"{'rule':32}" + "".join(f"{'N=' + str(n):>10}" for n in args.sizes) + "  per-model ratio"
    )
    for rule in medians[small]:
        cells = "".join(f"{medians[n][rule]:10.3f}" for n in args.sizes)
        per_small = medians[small][rule] / small
        ratio = (medians[large][rule] / large) / per_small if per_small else float("nan")
        print(f"{rule:32}{cells}  {ratio:6.2f}")


if __name__ == "__main__":
    main()
