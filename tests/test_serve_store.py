"""Where `kg serve` keeps the data (decision 28): the pages read the release's store on demand
(no copy of the data in Python), and with `--store shared` one loader holds the data in memory
and forks the query workers, which share it; a worker's memory limit sits above the data it
holds. On the project's own release; the figures at 100,000 models are in
`benchmarks/bench_serve.py --mode scale`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Built
from kg.outputs.pages import INDEX_KINDS, Site, page_path
from kg.release.release import Release
from kg.serve.workers import (
    QueryRequest,
    QueryTimeout,
    WorkerPool,
    WorkerSettings,
    WorkerStartError,
)
from kg.store import OxigraphStore

ALLOWANCE_MB = 300


@pytest.fixture(scope="module")
def store(built: Built) -> OxigraphStore:
    return OxigraphStore.open_read_only(Release.current(built.out).store_path)


def test_lazy_site_renders_the_pages_the_indexed_site_renders(built: Built, store: OxigraphStore):
    base = Release.current(built.out).base
    eager = Site(store, base)
    lazy = Site(store, base, lazy=True)
    subjects = eager.subjects()
    sample = subjects[:: max(1, len(subjects) // 60)]
    sample += [s for s in subjects if "/model/" in s][:5]
    for iri in sample:
        assert lazy.render(iri) == eager.render(iri), iri
        assert _triples(lazy.serialize(iri, "nt")) == _triples(eager.serialize(iri, "nt")), iri
        assert lazy.labels.get(iri) == eager.labels.get(iri), iri
        assert (iri in lazy.out) and sorted(lazy.incoming.get(iri, ())) == sorted(
            eager.incoming.get(iri, ())
        )
    assert "https://w3id.org/genai-openness/no-such-thing" not in lazy.out
    assert "not an IRI" not in lazy.out and lazy.out["not an IRI"] == []

    # the home page lists the same resources by kind
    def kinds(site: Site) -> list[str]:
        return [s for s in site.subjects() if s[len(site.base) :].split("/", 1)[0] in INDEX_KINDS]

    assert kinds(lazy) == kinds(eager) and kinds(eager)
    assert all(page_path(s, lazy.base) for s in kinds(lazy))


def test_whether_a_resource_has_a_page_is_one_look_up(
    built: Built, store: OxigraphStore, monkeypatch: pytest.MonkeyPatch
):
    """Linking a resource asks whether anything is said of it: the lazy site answers without
    reading its statements (the overview links every model; reading them all took half of
    `kg serve`'s start at 10,000 models), and answers as the indexed site does."""
    base = Release.current(built.out).base
    eager, lazy = Site(store, base), Site(store, base, lazy=True)
    subjects = eager.subjects()[:50]

    def refuse(node: ox.NamedNode) -> None:
        raise AssertionError(f"read every statement about {node}")

    monkeypatch.setattr(lazy.out, "_fetch", refuse)
    assert all(iri in lazy.out for iri in subjects)
    assert "https://w3id.org/genai-openness/no-such-thing" not in lazy.out
    assert [lazy.link(iri, "index.html").href for iri in subjects] == [
        eager.link(iri, "index.html").href for iri in subjects
    ]


def _triples(data: bytes) -> set[ox.Triple]:
    """The statements of an RDF answer (the store's index gives them in another order)."""
    return set(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _address_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            return int(line.split()[3])
    raise AssertionError(f"no limit for {pid}")


def test_shared_workers_are_forked_from_one_loader_and_limited_above_its_data(built: Built):
    dataset = Release.current(built.out).path / "dumps" / "dataset.nq"
    settings = WorkerSettings(
        str(dataset), False, 100, 1_000_000, {}, memory_mb=ALLOWANCE_MB, shared=True
    )
    pool = WorkerPool(settings, 2, time_limit=1.0)

    async def scenario() -> None:
        pool.start()
        try:
            assert pool.loader is not None
            loader = pool.loader.process.pid
            assert loader is not None
            workers = sorted(w.process.pid for w in pool._all)
            assert sorted(_children(loader)) == workers  # forked from the loader, not spawned
            for pid in workers:
                # the limit: the data the worker holds (the loader's, shared) plus the allowance
                held = _status_kb(loader, "VmSize") * 1024
                assert held < _address_limit(pid) <= held + (ALLOWANCE_MB + 64) * 2**20
            ask = QueryRequest("ASK { ?s ?p ?o }", "application/sparql-results+json")
            answer = await pool.run("a", ask)
            assert answer.status == 200 and b"true" in answer.body
            # a query past the time limit: its worker is killed and a fresh fork takes its place
            with pytest.raises(QueryTimeout):
                await pool.run("a", QueryRequest(EXPENSIVE, None))
            for _ in range(100):
                if len(pool._idle) == 2:
                    break
                await asyncio.sleep(0.05)
            fresh = sorted(w.process.pid for w in pool._all)
            assert len(fresh) == 2 and fresh != workers
            assert sorted(_children(loader)) == fresh  # the killed one is gone, reaped
            assert (await pool.run("b", ask)).status == 200
        finally:
            pool.close()
        assert pool.loader is not None and pool.loader.process.exitcode is not None
        for pid in fresh:  # gone with the pool (or a zombie of nobody's: no memory)
            assert (
                not os.path.exists(f"/proc/{pid}")
                or "VmSize" not in Path(f"/proc/{pid}/status").read_text()
            )

    asyncio.run(scenario())


EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def test_a_worker_that_dies_while_idle_is_replaced_by_a_fork(built: Built):
    dataset = Release.current(built.out).path / "dumps" / "dataset.nq"
    settings = WorkerSettings(str(dataset), False, 100, 1_000_000, {}, shared=True)
    pool = WorkerPool(settings, 1, time_limit=5.0)

    async def scenario() -> None:
        pool.start()
        try:
            (worker,) = pool._all
            worker.process.kill()
            worker.process.join(5)
            assert not worker.process.is_alive()
            reply = await pool.run("a", QueryRequest("SELECT * WHERE { ?s ?p ?o } LIMIT 1", None))
            assert reply.status == 200 and reply.rows == 1
        finally:
            pool.close()

    asyncio.run(scenario())


def test_the_loader_refuses_data_that_does_not_hold_the_manifests_triples(built: Built):
    """`kg serve --store shared` counts the triples per graph in the copy its workers share
    (instead of in the store on disk): a dump that differs from the manifest is refused."""
    release = Release.current(built.out)
    graphs = dict(release.manifest["graphs"])
    graph = sorted(graphs)[0]
    graphs[graph] += 1
    dataset = release.path / "dumps" / "dataset.nq"
    settings = WorkerSettings(str(dataset), False, 100, 1_000_000, {}, shared=True, graphs=graphs)
    pool = WorkerPool(settings, 1, time_limit=5.0)
    with pytest.raises(WorkerStartError, match=f"graph {graph} holds {graphs[graph] - 1} triples"):
        pool.start()
    assert pool.loader is not None and pool.loader.process.exitcode is not None
    right = WorkerSettings(
        str(dataset), False, 100, 1_000_000, {}, shared=True, graphs=release.manifest["graphs"]
    )
    pool = WorkerPool(right, 1, time_limit=5.0)
    pool.start()
    pool.close()
