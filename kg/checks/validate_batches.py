"""`kg validate --engine store` on a large release: the shapes checked batch by batch of models.

Validating a release copies its asserted graphs into one in-memory store (`validation_copy`):
at 100,000 paper-shaped models that is 12.5 M quads, 6.4 GB and most of the time (reading them
back out of RocksDB). A large release is instead read from its N-Quads dump, its asserted
quads merged into the default graph as the copy merges them, split by model as the build
splits them (`kg.checks.batches.partition`, decision 29), and each batch validated with the
shared quads in an in-memory store in a worker process. The results are the union of the
batches' (a result about a shared node, found by every batch, counts once), reported as
`validate_data` reports them. The same results either way is held by `tests/test_batches.py`
on the paper with every importer's fixtures and on every breaking case of the shapes.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg.checks.batches import Partition, default_workers, in_order, partition
from kg.checks.shacl_sparql import Hit, StoreShapes, Term, graph_inventory, report_from_hits
from kg.checks.validate import ValidationReport, load_shapes
from kg.store import OxigraphStore
from kg.vocab.namespaces import Base


def asserted_from_dump(dump: Path, base: str) -> Iterator[ox.Quad]:
    """The quads of a release's N-Quads dump outside its derived graphs, in the default graph,
    then one `sd:NamedGraph` node per graph they came from (what `validation_copy` copies).
    Parsed natively, streamed."""
    derived = f"{base}graph/derived/"
    names: set[str] = set()
    for q in ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS):
        graph = q.graph_name
        if isinstance(graph, ox.NamedNode):
            if graph.value.startswith(derived):
                continue
            names.add(graph.value)
        yield ox.Quad(q.subject, q.predicate, q.object)
    yield from graph_inventory(ox.NamedNode(n) for n in sorted(names))


@functools.cache
def _shapes(folder: Path | None) -> rdflib.Graph:
    return load_shapes(folder)


def _validate_batch(
    part: Partition, batches: tuple[Path, ...], shapes: Path | None
) -> tuple[list[Hit], dict[Term, str]]:
    """In a worker: the shared quads and `batches` validated together in memory."""
    native = ox.Store()
    data = OxigraphStore(native)
    part.load_shared(data)
    for batch in batches:
        data.load_file(batch, ox.RdfFormat.N_QUADS)
    engine = StoreShapes(_shapes(shapes), native)
    hits = engine.validate()
    return hits, engine.records({h.focus for h in hits})


def validate_partition(
    part: Partition, shapes: Path | None = None, workers: int | None = None
) -> ValidationReport:
    """Validate `part` batch by batch in `workers` processes and report the union; all of it
    at once, in this process, when it is not worth splitting (`Partition.worth_batching`: a
    Hub-shaped release, whose repositories are shared)."""
    # loaded before the workers are forked, so that they inherit it: the shapes' blank nodes
    # (unnamed property shapes, paths like ^cito:hasCitingEntity) are the same objects in the
    # hits they send back as in the graph the report is written from
    graph = _shapes(shapes)
    hits: set[Hit] = set()
    records: dict[Term, str] = {}
    jobs: list[tuple[Partition, tuple[Path, ...], Path | None]]
    if part.worth_batching:
        jobs = [(part, (batch,), shapes) for batch in part.batches]
        count = workers or default_workers()
    else:
        jobs, count = [(part, tuple(part.batches), shapes)], 1
    for found, recs in in_order(_validate_batch, jobs, count):
        hits.update(found)
        records.update(recs)
    return report_from_hits(graph, sorted(hits, key=_hit_key), records)


def _hit_key(h: Hit) -> tuple[str, ...]:
    return (str(h.focus), str(h.path), h.component, str(h.shape), str(h.value), h.message)


def validate_dump(
    dump: Path,
    base: str,
    shapes: Path | None = None,
    workers: int | None = None,
    batch_models: int | None = None,
) -> ValidationReport:
    """Validate a release's asserted quads, read from its N-Quads `dump` (natively, rather than
    out of RocksDB), in batches of models where that pays (`validate_partition`)."""
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as folder:
        part = partition(asserted_from_dump(dump, base), Base(base), Path(folder), batch_models)
        return validate_partition(part, shapes, workers)
