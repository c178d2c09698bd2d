"""The linked-data layer's cost as the number of models grows, side by side with the smallest N.

For each N, on paper-shaped synthetic sources (benchmarks/synth_paper.py, N models):
  derive     : every rule of queries/derive/ but the last, on an in-memory store (reference)
  labels     : the labels rule (queries/derive/95-labels.rq) alone, after the others
  describe   : every resource's Turtle document with its incoming links (kg.outputs.linked)
  badges     : every model's badge (queries/pages/model-badge.rq once, as kg publish does)
Prints seconds per step and the cost per model as a ratio to the smallest N's: about 1.0 means
linear in the number of models.

    python benchmarks/bench_front.py [--models 40 400 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).parent))
from synth_paper import synth_sources

from kg.checks.derive import rules
from kg.outputs.badges import Badges
from kg.outputs.linked import described_triples, document_iri, serialize
from kg.outputs.pages import Site
from kg.release.build import assemble
from kg.store import OxigraphStore
from kg.vocab.namespaces import DEFAULT_BASE, GAO, RDF, Base


def one(n: int) -> dict[str, float]:
    base = Base(DEFAULT_BASE)
    with tempfile.TemporaryDirectory(prefix="kg-bench-front-") as tmp:
        sources = synth_sources(n, Path(tmp) / "sources")
        quads = assemble(sources)
    store = OxigraphStore.in_memory()
    store.add_quads(quads)
    times: dict[str, float] = {}
    *others, labels = rules()
    t = time.perf_counter()
    for rule in others:
        graph = base.graph("derived", rule.slug)
        store.add_quads(
            ox.Quad(x.subject, x.predicate, x.object, graph) for x in store.run(rule.query)
        )
    times["derive"] = time.perf_counter() - t
    t = time.perf_counter()
    graph = base.graph("derived", labels.slug)
    store.add_quads(
        ox.Quad(x.subject, x.predicate, x.object, graph) for x in store.run(labels.query)
    )
    times["labels"] = time.perf_counter() - t
    site = Site(store, base, folders=True)
    t = time.perf_counter()
    for iri in site.subjects():
        doc = document_iri(iri, "ttl", base)
        serialize(site, described_triples(site, iri, doc, "text/turtle", base), "ttl")
    times["describe"] = time.perf_counter() - t
    kind = ox.NamedNode(GAO + "AIModel")
    models = sorted(
        {
            q.subject.value
            for q in store.quads()
            if q.object == kind and q.predicate.value == RDF + "type"
            if isinstance(q.subject, ox.NamedNode)
        }
    )
    badges = Badges(store, base)
    t = time.perf_counter()
    for openness in badges.all().values():
        badges.image(openness)
    assert len(badges.all()) == len(models)
    times["badges"] = time.perf_counter() - t
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[40, 400, 2000])
    args = parser.parse_args()
    steps = ("derive", "labels", "describe", "badges")
    results = {n: one(n) for n in args.models}
    first = args.models[0]
    print("models  " + "  ".join(f"{s:>18}" for s in steps))
    for n, times in results.items():
        cells = []
        for s in steps:
            ratio = (times[s] / n) / (results[first][s] / first)
            cells.append(f"{times[s]:8.3f} s ({ratio:4.2f}x)")
        print(f"{n:6}  " + "  ".join(cells))
    print(f"(x: cost per model relative to N={first}; about 1.0 is linear)")


if __name__ == "__main__":
    main()
