"""The store pipeline side by side with the rdflib + pySHACL pipeline, at synthetic N.

For each N (paper-shaped sources from `synth_paper.py`: the paper's 40 models plus synthetic ones
with Table 3's frequencies) two pipelines run on the same sources, each in its own process (so
that each has its own peak RSS), one after the other:

  store   load      the sources mapped and streamed into an on-disk Oxigraph store
                    (`kg.release.build.load_asserted`, as `kg build` does)
          derive    every rule of queries/derive/ and queries/definitions/ on that store
                    (`kg.checks.derive.derive`, as `kg build` does)
          validate  `kg validate`'s default engine: the asserted graphs copied into an in-memory
                    store and the shapes compiled to set-wise SPARQL (copy included)
          checks    every check of queries/checks/ (`kg check`)
  rdflib  load      the same mapped quads added to an rdflib Dataset
          derive    the same rules, in the same order, by rdflib's SPARQL engine over the union
                    of the graphs, each rule's output into its own graph with the same
                    description in the metadata graph
          validate  pySHACL (inference none, SHACL-AF on) over an rdflib graph of the asserted
                    graphs (copy included), `kg validate --engine pyshacl`

Each stage is timed in wall and CPU seconds (user + system of the process); the peak RSS is the
process's. The rdflib pipeline runs under a time limit (`--limit-minutes`, wall) and a memory
limit (`--limit-gb`, RLIMIT_AS) up to `--rdflib-max`; once it fails at some N it is not tried at
a larger one. Where both finish, their results must agree (same triples per derived graph, same
validation verdicts), and the ratio rdflib / store is printed per stage and for the whole
pipeline (checks, which the rdflib pipeline does not run, left out of the ratio). Last, each
stage's ratio from one N to the next (cost linear in N grows as N does).

    python benchmarks/bench_checks.py [--n 1000 4000 16000] [--rdflib-max 4000]
        [--limit-minutes 10] [--limit-gb 8] [--profile] [--derive-max N]

`--profile` adds the store engine's CPU seconds per compiled query template; `--derive-max N`
skips the store pipeline's derive and checks above N (validation reads only asserted graphs), to
measure validation where derivation would take too long.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Stages:
    """Wall and CPU seconds per stage of one pipeline run."""

    def __init__(self) -> None:
        self.times: dict[str, dict[str, float]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), _cpu()
        yield
        self.times[name] = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu}


def _verdicts(report: Any) -> list[list[str]]:
    return sorted([r.focus, r.constraint, r.message, r.value or ""] for r in report.results)


def run_store(sources: Path, work: Path, profile: bool, derive_too: bool) -> dict[str, Any]:
    from kg.checks.derive import derive
    from kg.checks.shacl_sparql import validate_release_store
    from kg.checks.sparql_checks import run_checks
    from kg.checks.validate import load_shapes
    from kg.release.build import asserted_quads, load_asserted
    from kg.store import OxigraphStore
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    base = Base(DEFAULT_BASE)
    load_shapes()  # parse once before timing: both pipelines read the same shapes
    s = Stages()
    store = OxigraphStore.create(work / "store")
    with s.stage("load"):
        load_asserted(store, asserted_quads(sources, base.base))
    asserted = [g for g in store.graph_names() if g != base.graph("metadata")]
    if derive_too:
        with s.stage("derive"):
            derive(store, base, asserted)
    timings: dict[str, float] | None = {} if profile else None
    with s.stage("validate"):
        report = validate_release_store(store, base.base, timings=timings)
    checks = []
    if derive_too:  # the checks read what the rules derived
        with s.stage("checks"):
            checks = run_checks(store)
    derived = {
        g: n for g, n in store.counts().items() if g.startswith(f"{base.base}graph/derived/")
    }
    return {
        "stages": s.times,
        "quads": sum(store.counts().values()),
        "derived": derived,
        "verdicts": _verdicts(report),
        "conforms": report.conforms,
        "findings": sum(len(c.rows) for c in checks),
        "profile": timings or {},
    }


def run_rdflib(sources: Path) -> dict[str, Any]:
    import pyoxigraph as ox
    import rdflib
    from rdflib.namespace import RDF

    from kg.checks.derive import described, rules
    from kg.checks.validate import SD, load_shapes, to_rdflib, validate_graph
    from kg.release.build import asserted_quads
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    base = Base(DEFAULT_BASE)
    shapes = load_shapes()
    s = Stages()

    def add(ds: rdflib.Dataset, quads: Any) -> None:
        for q in quads:
            graph = ds.graph(rdflib.URIRef(q.graph_name.value))
            graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))

    ds = rdflib.Dataset(default_union=True)
    with s.stage("load"):
        add(ds, asserted_quads(sources, base.base))
    names = sorted(str(c.identifier) for c in ds.graphs() if len(c))
    sources_graphs = [ox.NamedNode(g) for g in names if g != base.graph("metadata").value]
    derived: dict[str, int] = {}
    failed: dict[str, str] = {}
    with s.stage("derive"):
        for rule in rules():
            graph = base.graph("derived", *rule.graph_parts)
            try:
                triples = list(ds.query(rule.query.with_values({})))
            except Exception as exc:  # rdflib's engine fails on some rules: say which, go on
                failed[graph.value] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            target = ds.graph(rdflib.URIRef(graph.value))
            for t in triples:
                target.add(t)
            derived[graph.value] = len(target)
            add(ds, described(rule, base, len(triples), sources_graphs))
    with s.stage("validate"):
        data = rdflib.Graph()
        exclude = f"{base.base}graph/derived/"
        kept = [c for c in ds.graphs() if len(c) and not str(c.identifier).startswith(exclude)]
        for c in kept:
            data += c
            data.add((c.identifier, RDF.type, SD.NamedGraph))
        report = validate_graph(data, shapes)
    return {
        "stages": s.times,
        "quads": sum(len(c) for c in ds.graphs()),
        "derived": derived,
        "rules_failed": failed,
        "verdicts": _verdicts(report),
        "conforms": report.conforms,
    }


def child(args: argparse.Namespace) -> None:
    """One pipeline at one N, in this process; its figures as JSON on the last line."""
    if args.child == "store":
        with tempfile.TemporaryDirectory(prefix="kg-bench-store-") as tmp:
            out = run_store(args.sources, Path(tmp), args.profile, not args.no_derive)
    else:
        out = run_rdflib(args.sources)
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out), flush=True)


def spawn(
    kind: str,
    sources: Path,
    limit_s: float | None,
    limit_gb: float | None,
    profile: bool,
    no_derive: bool = False,
) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--sources", str(sources)]
    cmd += ["--profile"] if profile else []
    cmd += ["--no-derive"] if no_derive else []

    def limits() -> None:
        if limit_gb is not None:
            size = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    start = time.perf_counter()
    preexec: Callable[[], None] | None = limits if limit_gb is not None else None
    try:
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=limit_s, preexec_fn=preexec, check=False
        )
    except subprocess.TimeoutExpired:
        return {"failed": f"over the time limit ({limit_s / 60:g} min)"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        memory = "MemoryError" in done.stderr or "memory" in tail.lower()
        why = f"over the memory limit ({limit_gb:g} GB)" if memory else f"failed: {tail}"
        return {"failed": why, "seconds": time.perf_counter() - start}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _total(run: dict[str, Any], key: str, stages: list[str]) -> float:
    return sum(run["stages"][s][key] for s in stages)


def report(table: dict[int, dict[str, dict[str, Any]]], profile: bool) -> None:
    ns = list(table)
    both = ["load", "derive", "validate"]
    print("\nseconds per stage (wall / CPU), peak RSS")
    print(f"{'pipeline':8} {'stage':9}" + "".join(f"{'N=' + format(n, ','):>22}" for n in ns))
    for kind, stages in (("store", [*both, "checks"]), ("rdflib", both)):
        for stage in [*stages, "total"]:
            cells = ""
            for n in ns:
                run = table[n].get(kind)
                if run is None or "failed" in run:
                    cells += f"{'-':>22}"
                    continue
                part = stages if stage == "total" else [stage]
                part = [p for p in part if p in run["stages"]]
                if not part:
                    cells += f"{'(skipped)':>22}"
                    continue
                wall, cpu = _total(run, "wall", part), _total(run, "cpu", part)
                cells += f"{wall:12.1f} / {cpu:7.1f}"
            print(f"{kind:8} {stage:9}{cells}")
        rss = "".join(
            f"{run['rss_mb']:19,.0f} MB" if run and "failed" not in run else f"{'-':>22}"
            for run in (table[n].get(kind) for n in ns)
        )
        print(f"{kind:8} {'peak RSS':9}{rss}")
    for n in ns:
        for kind in ("store", "rdflib"):
            run = table[n].get(kind)
            if run and "failed" in run:
                print(f"N={n:,}: the {kind} pipeline did not finish: {run['failed']}")
    print("\nrdflib + pySHACL / store, CPU seconds (where both finish)")
    for n in ns:
        store, ref = table[n].get("store"), table[n].get("rdflib")
        if not store or not ref or "failed" in store or "failed" in ref:
            continue
        ratios = "  ".join(
            f"{s} x{ref['stages'][s]['cpu'] / max(store['stages'][s]['cpu'], 1e-9):.1f}"
            for s in both
        )
        whole = _total(ref, "cpu", both) / _total(store, "cpu", both)
        print(f"  N={n:,}: {ratios}  whole pipeline (load+derive+validate) x{whole:.1f}")
    print("\nratio per step in N, CPU seconds (linear cost grows as N does)")
    for a, b in itertools.pairwise(ns):
        for kind, stages in (("store", [*both, "checks"]), ("rdflib", both)):
            ra, rb = table[a].get(kind), table[b].get(kind)
            if not ra or not rb or "failed" in ra or "failed" in rb:
                continue
            steps = "  ".join(
                f"{s} x{rb['stages'][s]['cpu'] / max(ra['stages'][s]['cpu'], 1e-9):.1f}"
                for s in stages
                if s in ra["stages"] and s in rb["stages"]
            )
            print(f"  {kind:6} N {a:,} -> {b:,} (x{b / a:g}): {steps}")
    if profile:
        print("\nstore engine, CPU seconds per compiled query template")
        names = sorted({k for n in ns for k in table[n].get("store", {}).get("profile", {})})
        print(f"  {'template':18}" + "".join(f"{'N=' + format(n, ','):>12}" for n in ns))
        for name in names:
            cells = "".join(
                f"{table[n]['store']['profile'].get(name, 0.0):12.2f}"
                if "profile" in table[n].get("store", {})
                else f"{'-':>12}"
                for n in ns
            )
            print(f"  {name:18}{cells}")


def agree(n: int, store: dict[str, Any], ref: dict[str, Any]) -> None:
    """The two pipelines must have derived and validated the same."""
    if store["derived"] != ref["derived"]:
        diff = {
            g: (store["derived"].get(g), ref["derived"].get(g))
            for g in set(store["derived"]) | set(ref["derived"])
            if store["derived"].get(g) != ref["derived"].get(g)
        }
        raise SystemExit(f"N={n}: the pipelines derived different triples (store, rdflib): {diff}")
    if store["verdicts"] != ref["verdicts"] or store["conforms"] != ref["conforms"]:
        raise SystemExit(f"N={n}: the validation engines disagree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 4000, 16000])
    parser.add_argument("--rdflib-max", type=int, default=4000)
    parser.add_argument("--limit-minutes", type=float, default=10.0)
    parser.add_argument("--limit-gb", type=float, default=8.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--derive-max",
        type=int,
        help="above this N the store pipeline skips derive and checks (load and validate only)",
    )
    parser.add_argument("--no-derive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=["store", "rdflib"], help=argparse.SUPPRESS)
    parser.add_argument("--sources", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from synth_paper import synth_sources

    table: dict[int, dict[str, dict[str, Any]]] = {}
    rdflib_ok = True
    with tempfile.TemporaryDirectory(prefix="kg-bench-checks-") as tmp:
        for n in args.n:
            sources = synth_sources(n, Path(tmp) / f"sources-{n}")
            skip = args.derive_max is not None and n > args.derive_max
            table[n] = {"store": spawn("store", sources, None, None, args.profile, skip)}
            print(f"N={n:,} store: {json.dumps(table[n]['store'].get('stages'))}", flush=True)
            if rdflib_ok and n <= args.rdflib_max:
                limit_s = args.limit_minutes * 60
                ref = spawn("rdflib", sources, limit_s, args.limit_gb, False)
                table[n]["rdflib"] = ref
                print(f"N={n:,} rdflib: {json.dumps(ref.get('stages', ref))}", flush=True)
                rdflib_ok = "failed" not in ref
                if rdflib_ok and "failed" not in table[n]["store"]:
                    agree(n, table[n]["store"], ref)
    report(table, args.profile)


if __name__ == "__main__":
    main()
