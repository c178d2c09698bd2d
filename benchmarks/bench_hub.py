"""Hub-shaped records through the pipeline: synthesis, `kg import hf`, `kg build`, the Hub rules
one by one, and the lineage checks and queries, at N = 10k and 100k (more with --sizes).

    python benchmarks/bench_hub.py [--sizes 10000 100000] [--work DIR] [--memory-gb 8]

Each stage runs in its own process; its wall time and peak RSS (the process tree, see `run`) are
printed per N with quads (or records) per second, then the ratio of each figure from one N to
the next (a ratio of 10 per decade is linear cost). A stage that fails or passes the memory
limit (RLIMIT_AS, --memory-gb) is reported as such, and the stages after it at that N skipped.
The per-rule stage loads tests/fixtures/hf/kb.ttl beside the curated sources, a stand-in
knowledge base that gives the Llama, OpenRAIL, CC BY-NC and CC BY-SA licenses their facts, so
that the conflict rules have conflicts to find.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KG = [sys.executable, "-m", "kg"]

RULES_SCRIPT = r"""
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
from kg.release.build import assemble
from kg.checks.derive import rules
from kg.vocab.namespaces import Base
from kg.store import OxigraphStore
b = Base()
t = time.perf_counter()
quads = assemble(workspace=Path(sys.argv[1]))
store = OxigraphStore.in_memory()
store.add_quads(quads)
kb = b.graph("curation", "licenses")
store.add_quads(ox.Quad(t.subject, t.predicate, t.object, kb)
                for t in ox.parse(path=sys.argv[2]))
out = {"load": [time.perf_counter() - t, len(quads)]}
del quads
for rule in rules():
    t = time.perf_counter()
    derived = [ox.Quad(x.subject, x.predicate, x.object, b.graph("derived", rule.slug))
               for x in store.run(rule.query)]
    store.add_quads(derived)
    out[rule.slug] = [time.perf_counter() - t, len(derived)]
# the library questions on the same store (with the stand-in's conflicts), in-process
from kg.store.queries import resolve
for name, params in (("license-conflicts", {}), ("checks/hub-unresolved-license", {}),
                     ("lineage", {"model": ox.Literal(sys.argv[3])})):
    t = time.perf_counter()
    rows = store.select(resolve(name), params).rows
    out["query " + name.removeprefix("checks/")] = [time.perf_counter() - t, len(rows)]
print(json.dumps(out))
"""


RULES = [sys.executable, "-c", RULES_SCRIPT]

# What a streaming build would do: the import's quads straight into a store (no Python list),
# next to the paper's sources and the stand-in knowledge base, then the rules and the questions.
STREAM_SCRIPT = r"""
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
from kg.checks.derive import rules
from kg.mapping.hf import hf_quads
from kg.release.build import assemble
from kg.sources.hf import load_import
from kg.sources.workspace import Workspace
from kg.store import OxigraphStore
from kg.store.queries import resolve
from kg.vocab.namespaces import Base
b = Base()
raw = ox.Store()
t = time.perf_counter()
raw.bulk_extend(assemble())
meta, records = load_import(Workspace(Path(sys.argv[1])))
raw.bulk_extend(hf_quads(records, b, meta))
kb = b.graph("curation", "licenses")
raw.bulk_load(path=sys.argv[2], format=ox.RdfFormat.TURTLE, to_graph=kb)
out = {"stream load": [time.perf_counter() - t, len(raw)]}
store = OxigraphStore(raw)
for rule in rules():
    t = time.perf_counter()
    g = b.graph("derived", rule.slug)
    derived = [ox.Quad(x.subject, x.predicate, x.object, g) for x in store.run(rule.query)]
    raw.bulk_extend(derived)
    out[rule.slug] = [time.perf_counter() - t, len(derived)]
for name, params in (("license-conflicts", {}), ("checks/hub-unresolved-license", {}),
                     ("lineage", {"model": ox.Literal(sys.argv[3])})):
    t = time.perf_counter()
    rows = store.select(resolve(name), params).rows
    out["query " + name.removeprefix("checks/")] = [time.perf_counter() - t, len(rows)]
print(json.dumps(out))
"""


def tree_rss(pid: int) -> int:
    """Resident bytes of process `pid` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        sizes[int(entry)] = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    tree, grown = {pid}, True
    while grown:
        more = {p for p, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(sizes.get(p, 0) for p in tree)


def run(
    cmd: list[str], memory_gb: float, env: dict | None = None, cwd: Path = ROOT, nice: int = 0
) -> tuple[float, float, float, str]:
    """Run `cmd`; return (wall seconds, CPU seconds, peak RSS in MB, stdout). Raises on failure.
    CPU time (user + system) is the figure to compare on a shared machine: wall time grows with
    the load of the other processes, CPU time hardly. CPU time counts the process's workers
    too (wait4); the peak RSS is the larger of the process's own (ru_maxrss) and the sum over
    the process and its workers sampled every 0.2 s (a build derives in worker processes)."""
    import threading

    def limit() -> None:
        cap = int(memory_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.nice(nice)

    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, preexec_fn=limit, env=env)
        peak = [0]
        finished = threading.Event()

        def sample() -> None:
            while not finished.wait(0.2):
                peak[0] = max(peak[0], tree_rss(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        finished.set()
        sampler.join()
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        if status != 0:
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"exit {os.waitstatus_to_exitcode(status)}: {' | '.join(tail)}")
    rss = max(usage.ru_maxrss * 1024, peak[0]) / 2**20
    return wall, usage.ru_utime + usage.ru_stime, rss, text


def bench(n: int, work: Path, memory_gb: float, only: set[str]) -> dict[str, dict]:
    results: dict[str, dict] = {}
    data = work / f"hub-{n}.jsonl"
    workspace = work / f"workspace-{n}"
    out = work / f"output-{n}"
    if not only or "import" in only:  # a run of later stages only reuses the import
        shutil.rmtree(workspace, ignore_errors=True)
    stages = [
        ("synth", [sys.executable, "benchmarks/synth_hub.py", str(n), str(data)], n),
        ("import", [*KG, "import", "hf", str(data), "--workspace", str(workspace)], n),
        ("build", [*KG, "build", "--workspace", str(workspace), "--out", str(out)], None),
        (
            "rules",
            [
                sys.executable,
                "-c",
                RULES_SCRIPT,
                str(workspace),
                "tests/fixtures/hf/kb.ttl",
                popular(n),
            ],
            None,
        ),
        (
            "stream",
            [
                sys.executable,
                "-c",
                STREAM_SCRIPT,
                str(workspace),
                "tests/fixtures/hf/kb.ttl",
                popular(n),
            ],
            None,
        ),
        (
            "q:license-conflicts",
            [*KG, "query", "license-conflicts", "--format", "csv", "--out", str(out)],
            None,
        ),
        (
            "q:unresolved",
            [*KG, "query", "checks/hub-unresolved-license", "--format", "csv", "--out", str(out)],
            None,
        ),
        (
            "q:lineage",
            [
                *KG,
                "query",
                "lineage",
                "-p",
                f"model={popular(n)}",
                "--format",
                "csv",
                "--out",
                str(out),
            ],
            None,
        ),
    ]
    for name, cmd, items in stages:
        if only and name not in only:
            continue
        try:
            wall, cpu, rss, text = run(cmd, memory_gb)
        except RuntimeError as exc:
            results[name] = {"error": str(exc)[:300]}
            print(f"  {n:>9,} {name:<22} FAILED {exc}", flush=True)
            break
        row: dict = {"wall": wall, "cpu": cpu, "rss": rss}
        if name == "build":
            manifest = json.loads((out / "current" / "manifest.json").read_text())
            items = sum(manifest["graphs"].values())
        if name.startswith("q:"):
            items = max(0, len(text.splitlines()) - 1)
            row["rows"] = items
        if name in ("rules", "stream"):
            per_rule = json.loads(text.strip().splitlines()[-1])
            row["rules"] = per_rule
            items = sum(c for _, c in per_rule.values())
        if items is not None and cpu > 0:
            row["items"] = items
            row["rate"] = items / cpu  # per CPU second
        results[name] = row
        print(
            f"  {n:>9,} {name:<22} {wall:8.1f} s {cpu:8.1f} s {rss:8.0f} MB"
            + (f" {row['rate']:10,.0f} /s ({items:,})" if "rate" in row else ""),
            flush=True,
        )
        if name in ("rules", "stream"):
            for slug, (secs, count) in per_rule.items():
                unit = "rows" if slug.startswith("query ") else "quads"
                print(f"  {'':>9} {'  ' + slug:<22} {secs:8.2f} s {count:>10,} {unit}", flush=True)
    return results


def popular(n: int) -> str:
    """A repository with many descendants (index 1 is picked as a base most often)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synth_hub import repo_id

    return repo_id(1, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--memory-gb", type=float, default=8.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--stages", nargs="+", default=[], help="run only these (e.g. synth import stream)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-hub-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder {work}; memory limit {args.memory_gb} GB per stage")
    print(f"  {'N':>9} {'stage':<22} {'wall':>10} {'CPU':>10} {'peak RSS':>11} {'per CPU s':>10}")
    figures = {n: bench(n, work, args.memory_gb, set(args.stages)) for n in args.sizes}
    print("\nper-decade ratios (wall, CPU, peak RSS): 10 = linear in N")
    for small, big in zip(args.sizes, args.sizes[1:], strict=False):
        for stage, row in figures[big].items():
            base = figures[small].get(stage, {})
            if "wall" in row and "wall" in base:
                print(
                    f"  {small:,} -> {big:,} {stage:<22} wall x{row['wall'] / base['wall']:6.1f}"
                    f"  cpu x{row['cpu'] / max(base['cpu'], 0.01):6.1f}"
                    f"  rss x{row['rss'] / base['rss']:5.1f}"
                )
                for slug, (secs, _) in row.get("rules", {}).items():
                    before = base.get("rules", {}).get(slug, [0])[0]
                    if before > 0.01:
                        print(
                            f"  {'':>{len(f'{small:,} -> {big:,}')}}   {slug:<20} "
                            f"time x{secs / before:6.1f}"
                        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
