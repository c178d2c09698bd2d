"""Derivation, validation and checks at synthetic N, side by side with the rdflib + pySHACL path.

For each N (paper-shaped sources from `synth_paper.py`: the paper's 40 models plus synthetic ones
with Table 3's frequencies) one process runs, on the same asserted quads:
  derive/<rule>    each CONSTRUCT rule of queries/derive/ on an in-memory store
  validate-store   the shapes compiled to SPARQL on the store (`kg validate`, the default)
                   (copy: the asserted graphs copied into the validation store, included)
  validate-pyshacl pySHACL over an rdflib copy (the reference), up to --pyshacl-max N
  checks           every check of queries/checks/
and prints the seconds per stage, then for each stage the ratio between successive N (a
10x step in N that costs 10x is linear) and the speed-up of the store engine over pySHACL.
Both engines' verdicts must agree wherever both run.

    python benchmarks/bench_checks.py [--n 400 4000 40000] [--pyshacl-max 4000]

Reading the sources (mapping, not canonicalisation: the release build's streaming is another
piece of work) is timed as `read` for reference.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from synth_paper import synth_sources

from kg.checks.derive import rules
from kg.checks.shacl_sparql import validate_release_store
from kg.checks.sparql_checks import run_checks
from kg.checks.validate import load_shapes, validate_store
from kg.mapping.argument import StatementsMapper
from kg.mapping.paper import Mapper
from kg.sources.argument import load_statements
from kg.sources.loader import load_sources
from kg.store import OxigraphStore
from kg.vocab.namespaces import DEFAULT_BASE, Base
from kg.vocab.ontology import load_ontology, vocabulary


def asserted_quads(sources: Path, base: Base) -> list[ox.Quad]:
    """The asserted dataset as the build maps it (without its canonical order)."""
    triples = load_ontology()
    vocab = vocabulary(triples)
    mapper = Mapper(base, vocab)
    quads = mapper.ontology(triples) + mapper.sources(load_sources(sources, vocab))
    return quads + StatementsMapper(base).quads(load_statements(sources, set(vocab.components)))


def one_n(n: int, work: Path, pyshacl: bool) -> dict[str, float]:
    times: dict[str, float] = {}
    base = Base(DEFAULT_BASE)
    src = synth_sources(n, work / f"sources-{n}")
    t = time.perf_counter()
    quads = asserted_quads(src, base)
    times["read"] = time.perf_counter() - t
    store = OxigraphStore.in_memory()
    store.add_quads(quads)
    del quads
    for rule in rules():
        graph = base.graph("derived", rule.slug)
        t = time.perf_counter()
        derived = [ox.Quad(x.subject, x.predicate, x.object, graph) for x in store.run(rule.query)]
        store.add_quads(derived)
        times[f"derive/{rule.slug}"] = time.perf_counter() - t
    shapes_dir = None
    load_shapes(shapes_dir)  # warm the parser
    t = time.perf_counter()
    on_store = validate_release_store(store, base.base)
    times["validate-store"] = time.perf_counter() - t
    if pyshacl:
        t = time.perf_counter()
        reference = validate_store(store, base.base)
        times["validate-pyshacl"] = time.perf_counter() - t
        same = {(r.focus, r.constraint, r.message) for r in on_store.results} == {
            (r.focus, r.constraint, r.message) for r in reference.results
        }
        assert same and on_store.conforms == reference.conforms, f"engines differ at N={n}"
    t = time.perf_counter()
    run_checks(store)
    times["checks"] = time.perf_counter() - t
    print(f"N={n}: {len(on_store.results)} validation results; seconds: {times}", flush=True)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[400, 4000, 40000])
    parser.add_argument("--pyshacl-max", type=int, default=4000)
    args = parser.parse_args()
    table: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="kg-bench-checks-") as tmp:
        for n in args.n:
            table[n] = one_n(n, Path(tmp), n <= args.pyshacl_max)
    stages = list(dict.fromkeys(k for t in table.values() for k in t))
    ns = list(table)
    print("\nseconds per stage")
    print(f"{'stage':32}" + "".join(f"{'N=' + str(n):>12}" for n in ns))
    for s in stages:
        cells = "".join(f"{table[n][s]:12.3f}" if s in table[n] else f"{'-':>12}" for n in ns)
        print(f"{s:32}{cells}")
    print("\nratio per step in N (N x10 -> x10 is linear)")
    for a, b in itertools.pairwise(ns):
        print(f"  N {a} -> {b} (x{b / a:g}):")
        for s in stages:
            if s in table[a] and s in table[b] and table[a][s] > 0:
                print(f"    {s:30} x{table[b][s] / table[a][s]:.1f}")
    for n in ns:
        if "validate-pyshacl" in table[n]:
            speedup = table[n]["validate-pyshacl"] / table[n]["validate-store"]
            print(f"store engine vs pySHACL at N={n}: {speedup:.1f}x faster")


if __name__ == "__main__":
    main()
