"""Cost of the license and definition rules against the number of models (synthetic N).

For each N, paper-shaped synthetic sources (benchmarks/synth_paper.py: Tables 2 and 3 with N
models drawn from the paper's cells) plus N EOSAI model files and N MOT records (the test
fixtures' files under new model names, imported with the real importers into a workspace) are
assembled into an in-memory store and derived, so that every definition runs on all three
sources. The time of each rule of the license knowledge base and of the openness definitions
(rules 60, 62, 78, 85, 90 and queries/definitions/*) is taken from the same run. Prints, per
rule, the seconds at each N and, for each decade, the ratio of the time per model at the larger
N to that at the smaller: about 1 when the cost is linear in models, well above 1 when it grows
faster. The other rules run too (the definitions read them); `--all` reports them as well.
`--disk` derives on an on-disk store, as `kg build` does (slower per query than in memory:
Oxigraph reads each IRI and long literal it returns from RocksDB).

    python benchmarks/bench_definitions.py [--sizes 40 400 4000] [--rounds 3] [--all] [--disk]
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
import subprocess
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

MINE = (
    "license-kb-level",
    "license-strings",
    "definition-evidence",
    "condition-outcomes",
    "definition-verdicts",
)
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _name(i: int) -> str:
    """A model name no identity rule ties to another: letters only (no size or version)."""
    letters = ""
    i += 26 * 26
    while i:
        i, r = divmod(i, 26)
        letters = chr(ord("a") + r) + letters
    return f"Synthmodel {letters}"


def synth_imports(n: int, folder: Path) -> Path:
    """A workspace with `n` EOSAI model files and `n` MOT records, imported by `kg import`."""
    eosai, mot = folder / "eosai", folder / "mot" / "models"
    mot.mkdir(parents=True)
    eosai.mkdir()
    for f in ("_parameters.yml", "a_submission_template.yaml"):
        (eosai / f).write_bytes((FIXTURES / "eosai" / "good" / f).read_bytes())
    e_like = [
        (FIXTURES / "eosai" / "good" / f).read_text() for f in ("bloomz.yaml", "llama-2-chat.yaml")
    ]
    m_like = [p.read_text() for p in sorted((FIXTURES / "mot" / "good" / "models").glob("*.yml"))]
    for i in range(n):
        name = _name(i)
        text = re.sub(r"(?m)^(    name:) .*$", rf"\1 {name}", e_like[i % len(e_like)], count=1)
        (eosai / f"synth-{i}.yaml").write_text(text)
        text = re.sub(r"(?m)^(  name:) .*$", rf"\1 {name}", m_like[i % len(m_like)], count=1)
        (mot / f"synth-{i}.yml").write_text(text)
    ws = folder / "ws"
    kg = str(Path(sys.executable).parent / "kg")
    for source, path in (("eosai", eosai), ("mot", mot.parent)):
        subprocess.run(
            [kg, "import", source, str(path), "--workspace", str(ws)],
            check=True,
            capture_output=True,
        )
    return ws


def one_round(
    sources: Path, workspace: Path, *, every: bool = False, disk: Path | None = None
) -> dict[str, float]:
    store = OxigraphStore.create(disk) if disk is not None else OxigraphStore.in_memory()
    store.add_quads(assemble(sources, workspace=workspace))
    base = Base(DEFAULT_BASE)
    times: dict[str, float] = {}
    for rule in rules():
        graph = base.graph("derived", *rule.graph_parts)
        start = time.perf_counter()
        result = store.run(rule.query)
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in result]
        store.add_quads(quads)
        elapsed = time.perf_counter() - start
        if every or rule.slug in MINE or rule.graph[:1] == ("definitions",):
            times[rule.slug] = elapsed
    store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[40, 400, 4000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="report every rule")
    parser.add_argument("--disk", action="store_true", help="derive on an on-disk store")
    args = parser.parse_args()
    medians: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            sources = synth_sources(n, Path(tmp) / f"sources-{n}")
            workspace = synth_imports(n, Path(tmp) / f"imports-{n}")
            runs = [
                one_round(
                    sources,
                    workspace,
                    every=args.all,
                    disk=Path(tmp) / f"store-{n}-{i}" if args.disk else None,
                )
                for i in range(args.rounds)
            ]
            medians[n] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    sizes = sorted(args.sizes)
    steps = list(itertools.pairwise(sizes))
    print(
        f"{'rule':32}"
        + "".join(f"{'N=' + str(n):>10}" for n in sizes)
        + "".join(f"{f'{a}->{b}':>12}" for a, b in steps)
        + "   (time per model, larger N / smaller N)"
    )
    for rule in medians[sizes[0]]:
        cells = "".join(f"{medians[n][rule]:10.3f}" for n in sizes)
        ratios = ""
        for a, b in steps:
            per_a = medians[a][rule] / a
            ratios += f"{(medians[b][rule] / b) / per_a if per_a else float('nan'):12.2f}"
        print(f"{rule:32}{cells}{ratios}")


if __name__ == "__main__":
    main()
