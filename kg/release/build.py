"""`kg build`: ontology + curated sources -> dataset in the embedded store, plus dumps.

Outputs live under one folder (default `output/`, or `$KG_OUTPUT`, or `--out`):

    output/current -> releases/<build-id>     (a symlink, swapped atomically)
    output/releases/<build-id>/store/         (the pyoxigraph store)
    output/releases/<build-id>/dumps/dataset.trig, dataset.nq, ontology.ttl
    output/releases/<build-id>/manifest.json

A build writes into a staging folder and only then renames it into place and swaps the link, so a
failing build leaves the previous release untouched. The build id is a hash of the dumps:
the same sources give the same id and byte-identical dumps.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.checks.derive import derive
from kg.mapping.argument import StatementsMapper
from kg.mapping.paper import Mapper
from kg.mapping.tracker import tracker_quads
from kg.mapping.wikidata import link_quads
from kg.outputs.reports import write_reports
from kg.paths import resource_dir
from kg.release.release import default_output, quad_key
from kg.sources.argument import load_statements
from kg.sources.loader import load_sources
from kg.sources.tracker import load_imported
from kg.sources.wikidata import load_links
from kg.sources.workspace import Workspace
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import DEFAULT_BASE, GAO, PREFIXES, Base
from kg.vocab.ontology import load_ontology, vocabulary

DUMPS = ("dataset.nq", "dataset.trig", "ontology.ttl")
KEEP_RELEASES = 2  # the current one and the one before it


@dataclass
class BuildResult:
    release: Path
    build_id: str
    reused: bool
    graphs: dict[str, int]
    counts: dict[str, int]
    dumps: list[Path] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def assemble(
    sources: Path | None = None, base: str = DEFAULT_BASE, workspace: Path | None = None
) -> list[ox.Quad]:
    """Every quad of the asserted dataset, deduplicated and in a fixed order. Imports are read
    from `workspace` (none when it is None)."""
    triples = load_ontology()
    vocab = vocabulary(triples)
    root = sources or resource_dir("sources")
    src = load_sources(root, vocab)
    statements = load_statements(root, set(vocab.components))
    mapper = Mapper(Base(base), vocab)
    quads = mapper.ontology(triples) + mapper.sources(src)
    quads += StatementsMapper(Base(base)).quads(statements)
    if workspace is not None:
        ws = Workspace(workspace)
        imported = load_imported(ws.root, set(vocab.components), {m.id for m in src.models})
        quads += tracker_quads(imported, Base(base))
        quads += link_quads(load_links(ws.root), Base(base))
    return canonical(quads)


def canonical(quads: list[ox.Quad]) -> list[ox.Quad]:
    """Deduplicate, name blank nodes by RDFC-1.0 (only OWL class expressions have any) and sort,
    so the same statements always serialise to the same bytes."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(dataset, key=quad_key)


def build(
    out: Path | None = None,
    sources: Path | None = None,
    base: str = DEFAULT_BASE,
    step: Callable[[str], None] = lambda _msg: None,
    workspace: Path | None = None,
) -> BuildResult:
    """Build a release (with the imports in `workspace`, if given). Any error leaves the previous
    release in place and raises KgError."""
    out = out or default_output()
    step("reading the ontology, curated sources and imports")
    asserted = assemble(sources, base, workspace)
    b = Base(base)
    prefixes = b.prefixes(with_base=False)
    releases = out / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=releases))
    try:
        # Derivation and reports run on an in-memory copy (several times faster than RocksDB
        # for these small queries); the on-disk store is then loaded once, complete.
        step("deriving classifications (queries/derive)")
        work = OxigraphStore.in_memory()
        work.add_quads(asserted)
        asserted_graphs = sorted({q.graph_name for q in asserted} - {b.graph("metadata")}, key=str)
        derived = derive(work, b, asserted_graphs)
        quads = sorted(set(asserted + derived), key=quad_key)  # rules mint no blank nodes
        counts = _counts(work)
        step("writing reports and figures")
        write_reports(work, staging)
        step("loading the embedded store")
        store = OxigraphStore.create(staging / "store")
        store.add_quads(quads)
        store.close()

        step("writing dumps")
        dumps = staging / "dumps"
        dumps.mkdir()
        ox.serialize(quads, str(dumps / "dataset.nq"), ox.RdfFormat.N_QUADS)
        ox.serialize(quads, str(dumps / "dataset.trig"), ox.RdfFormat.TRIG, prefixes=prefixes)
        ontology_graph = Base(base).graph("ontology")
        onto = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in quads
            if q.graph_name == ontology_graph
        ]
        ox.serialize(onto, str(dumps / "ontology.ttl"), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        digest = hashlib.sha256()
        for name in DUMPS:  # the id covers every dump, so any change in output is a new release
            digest.update((dumps / name).read_bytes())
        build_id = digest.hexdigest()[:16]

        graphs = Counter(q.graph_name.value for q in quads)
        manifest = {
            "build_id": build_id,
            "base": Base(base).base,
            "graphs": dict(sorted(graphs.items())),
            "counts": counts,
            "dumps": {name: _sha256(dumps / name) for name in DUMPS},
        }
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        )

        final = releases / build_id
        reused = final.exists()
        if reused:
            shutil.rmtree(staging)  # identical content is already released
        else:
            os.rename(staging, final)
        _point_current(out, Path("releases") / build_id)
        _prune(releases, keep=build_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(
        final, build_id, reused, dict(graphs), counts, [final / "dumps" / name for name in DUMPS]
    )


def _counts(store: OxigraphStore) -> dict[str, int]:
    """Instances per ontology class (local name -> count)."""
    result = store.select(parse_query_file(resource_dir("queries") / "internal" / "summary.rq"))
    return {r["class"].value.removeprefix(GAO): int(r["instances"].value) for r in result.rows}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _point_current(out: Path, target: Path) -> None:
    tmp = out / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, out / "current")


def _prune(releases: Path, keep: str) -> None:
    """Keep the new release and the one before it; remove older ones and stale staging folders."""
    others = sorted(
        (
            p
            for p in releases.iterdir()
            if p.is_dir() and p.name != keep and not p.name.startswith(".staging-")
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in others[KEEP_RELEASES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)
