"""`kg build` with every source imported (tracker, EOSAI, MOT) against the paper-only build,
side by side in one process, and the cross-source questions on the larger graph.

The imports are made first from a folder of real snapshots (default ../shared/data, or
--data DIR; the EOSAI and MOT folders) into a temporary workspace, with the tracker fixtures;
then each round builds twice into fresh output folders. Prints the median of each and the ratio
(everything / paper only), then the time of who-says, source-disagreements and coverage.

Then (and alone, with --synthetic-only, when there are no snapshots) source-disagreements on a
synthetic graph of N model families x 12 components judged by three sources (the paper's scale,
a framework with exact matches, one with close matches), for N and 10 N, ... and the ratio of
the time per model from one decade to the next (1.00 = linear in models).

    python benchmarks/bench_sources.py [--rounds 3] [--data ../shared/data]
    python benchmarks/bench_sources.py --synthetic-only [--n 30 --decades 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.release.build import build
from kg.store import OxigraphStore
from kg.store.queries import resolve
from kg.vocab.namespaces import DCTERMS, RDF, RDFS, SKOS, gao

ROOT = Path(__file__).resolve().parent.parent


SYN = "https://example.org/synthetic/"
COMPONENTS = 12


def synthetic(n: int) -> list[Quad]:
    """N families, each judged on 12 components by the paper (as written on its scale, through a
    variant-free model), an exact-match framework and a close-match framework (through variants);
    every third cell disagrees."""
    g = NamedNode(SYN + "graph")
    quads: list[Quad] = []

    def add(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        quads.append(Quad(s, p, o, g))

    cats = [gao(c) for c in ("open", "semi-open", "closed")]
    levels = []
    for k in range(3):
        level = NamedNode(f"{SYN}level/{k}")
        add(level, NamedNode(SKOS + "notation"), Literal(f"C{k + 1}"))
        add(level, gao("opennessCategory"), cats[k])
        levels.append(level)
    frameworks = {}
    for fw, match in (
        ("exact", NamedNode(SKOS + "exactMatch")),
        ("close", NamedNode(SKOS + "closeMatch")),
    ):
        values = []
        for k in range(3):
            value = NamedNode(f"{SYN}{fw}/value/{k}")
            add(value, gao("opennessCategory"), cats[k])
            values.append(value)
        frameworks[fw] = (match, values)
    datasets = {}
    for source in ("paper", "exact", "close"):
        datasets[source] = NamedNode(f"{SYN}dataset/{source}")
        add(datasets[source], NamedNode(RDFS + "label"), Literal(f"source {source}"))
    components = []
    for c in range(COMPONENTS):
        comp = NamedNode(f"{SYN}component/{c}")
        add(comp, NamedNode(SKOS + "notation"), Literal(f"component-{c}"))
        add(comp, gao("position"), Literal(c))
        for fw, (match, _values) in frameworks.items():
            add(NamedNode(f"{SYN}{fw}/term/{c}"), match, comp)
        components.append(comp)
    for m in range(n):
        family = NamedNode(f"{SYN}model/{m}")
        add(family, NamedNode(RDFS + "label"), Literal(f"model {m}"))
        for c, comp in enumerate(components):
            paper = NamedNode(f"{SYN}paper/{m}/{c}")
            add(paper, NamedNode(RDF + "type"), gao("ComponentAssessment"))
            add(paper, gao("assessedModel"), family)
            add(paper, gao("assessedComponent"), comp)
            add(paper, gao("opennessLevel"), levels[(m + c) % 3])
            add(paper, NamedNode(DCTERMS + "source"), NamedNode(f"{SYN}paper/{m}/{c}/cell"))
            add(
                NamedNode(f"{SYN}paper/{m}/{c}/cell"),
                NamedNode(DCTERMS + "isPartOf"),
                datasets["paper"],
            )
            for shift, (fw, (_match, values)) in enumerate(frameworks.items()):
                variant = NamedNode(f"{SYN}model/{m}/{fw}")
                add(variant, NamedNode(RDFS + "label"), Literal(f"model {m} {fw}"))
                add(variant, gao("variantOf"), family)
                j = NamedNode(f"{SYN}{fw}/{m}/{c}")
                add(j, NamedNode(RDF + "type"), gao("SourceJudgment"))
                add(j, gao("judgedModel"), variant)
                add(j, gao("assessedTerm"), NamedNode(f"{SYN}{fw}/term/{c}"))
                value = (m + c + (shift if c % 3 == 0 else 0)) % 3
                add(j, gao("notationInSource"), Literal(f"{fw}-{value}"))
                add(j, gao("scaleValue"), values[value])
                add(j, gao("judgedVariant"), Literal(f"model {m} {fw}"))
                add(j, NamedNode(DCTERMS + "source"), NamedNode(f"{SYN}{fw}/{m}"))
                add(NamedNode(f"{SYN}{fw}/{m}"), NamedNode(DCTERMS + "isPartOf"), datasets[fw])
    return quads


def bench_synthetic(n: int, decades: int, rounds: int) -> None:
    print(f"source-disagreements, synthetic: N families x {COMPONENTS} components x 3 sources")
    query = resolve("source-disagreements")
    previous = None
    for d in range(decades):
        size = n * 10**d
        store = OxigraphStore.in_memory()
        store.add_quads(synthetic(size))
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            rows = store.select(query).rows
            times.append(time.perf_counter() - t)
        per = statistics.median(times) / size
        ratio = f"{per / previous:.2f}" if previous else "  - "
        print(
            f"  N={size:6d}: {statistics.median(times):7.2f} s  ({len(rows)} rows), "
            f"{per * 1000:.3f} ms per model, ratio to the decade below: {ratio} (1.00 = linear)"
        )
        previous = per
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=30, help="synthetic families, first decade")
    parser.add_argument("--decades", type=int, default=2)
    parser.add_argument("--synthetic-only", action="store_true")
    args = parser.parse_args()
    if args.synthetic_only:
        bench_synthetic(args.n, args.decades, args.rounds)
        return
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
    bench_synthetic(args.n, args.decades, args.rounds)


if __name__ == "__main__":
    main()
