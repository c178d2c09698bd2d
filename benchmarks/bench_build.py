"""What validation and derivation add to a build, measured side by side with the baseline build.

Each round runs, in one process and on the same data:
  baseline  : read ontology + curated sources, load a fresh on-disk pyoxigraph store, write dumps
              (the build as the foundation issue defined it)
  derive    : the CONSTRUCT rules of queries/derive/ into their named graphs
  validate  : the SHACL shapes with pySHACL over the asserted graphs (as `kg validate`), on the
              whole graph and on the 40-model graph of Tables 1-3 alone
  reports   : errata report and the figures (kg.outputs.drawing, decision 26), for reference
Prints the median of each step over the rounds, the ratio of (baseline + derive + validate) to
the baseline, and the absolute time that validation plus derivation add (target: under 2 s).

    python benchmarks/bench_build.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from kg.checks.derive import derive
from kg.checks.validate import data_graph, load_shapes, validate_graph
from kg.outputs.reports import write_reports
from kg.release.build import assemble
from kg.release.release import quad_key
from kg.store import OxigraphStore
from kg.vocab.namespaces import DEFAULT_BASE, Base


def one_round(work: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    b = Base(DEFAULT_BASE)
    t = time.perf_counter()
    asserted = assemble()
    disk = OxigraphStore.create(work / "store")
    disk.add_quads(asserted)
    disk.close()
    ox.serialize(asserted, str(work / "dataset.nq"), ox.RdfFormat.N_QUADS)
    ox.serialize(asserted, str(work / "dataset.trig"), ox.RdfFormat.TRIG)
    times["baseline"] = time.perf_counter() - t

    t = time.perf_counter()  # as kg build does it: rules on an in-memory copy
    store = OxigraphStore.in_memory()
    store.add_quads(asserted)
    graphs = sorted({q.graph_name for q in asserted} - {b.graph("metadata")}, key=str)
    derive(store, b, graphs)
    everything = sorted(store.quads(), key=quad_key)
    times["derive"] = time.perf_counter() - t

    t = time.perf_counter()
    report = validate_graph(data_graph(everything, f"{b.base}graph/derived/"), load_shapes())
    times["validate"] = time.perf_counter() - t
    assert report.conforms, "the benchmark data must conform"

    # the same, on the 40-model graph alone (Tables 1-3, without the statements of §2-§5)
    statements = tuple(
        f"{b.base}graph/{g}"
        for g in (
            "paper/section-",
            "paper/appendix-",
            "paper/references",
            "curation/links",
            "curation/alignments",
            "curation/identifiers",
        )
    )
    tables = [q for q in everything if not q.graph_name.value.startswith(statements)]
    t = time.perf_counter()
    report = validate_graph(data_graph(tables, f"{b.base}graph/derived/"), load_shapes())
    times["validate-tables"] = time.perf_counter() - t

    t = time.perf_counter()
    write_reports(store, work)
    times["reports"] = time.perf_counter() - t
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    for i in range(args.rounds + 1):  # the first round warms imports and caches; not counted
        with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
            times = one_round(Path(tmp))
        if i:
            for k, v in times.items():
                samples.setdefault(k, []).append(v)
    med = {k: statistics.median(v) for k, v in samples.items()}
    print(f"rounds: {args.rounds} (after one warm-up); median seconds per step")
    for k in ("baseline", "derive", "validate", "validate-tables", "reports"):
        spread = f"{min(samples[k]):.3f}-{max(samples[k]):.3f}"
        print(f"  {k:9} {med[k]:7.3f} s   (range {spread})")
    for label, key in (
        ("whole graph", "validate"),
        ("40-model graph (Tables 1-3)", "validate-tables"),
    ):
        added = med["derive"] + med[key]
        ratio = (med["baseline"] + added) / med["baseline"]
        print(
            f"{label}: baseline + derive + validate vs baseline: {ratio:.2f}x; "
            f"validation + derivation add {added:.3f} s "
            f"(target < 2 s: {'met' if added < 2 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
