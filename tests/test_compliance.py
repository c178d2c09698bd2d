"""One compliance suite for every back-end of the store interface (the oaklib way).

Each library question (default and example parameters), derivation rule and check runs on
each back-end and must give the rows of its golden file (`tests/golden/`, see
`tests/compliance.py`). The back-ends: the embedded pyoxigraph store, a real `oxigraph serve`
and a real Virtuoso, both on free loopback ports, loaded once per session with the release's
named graphs over the Graph Store Protocol. Where a back-end differs, the case is listed in
`tests/golden/known-differences.yaml` with the reason, and is expected to fail (strictly: a fix
shows up as an unexpected pass).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from compliance import (
    KNOWN,
    UPDATE_HINT,
    Case,
    answer,
    cases,
    difference,
    known_differences,
    read_golden,
    uncovered,
)
from stores import VIRTUOSO, VIRTUOSO_MISSING, OxigraphServer, VirtuosoServer

from conftest import Built
from kg.release.release import Release
from kg.store import OxigraphStore
from kg.store.base import quads_by_graph
from kg.store.endpoint import EndpointStore

BACKENDS = ("embedded", "oxigraph-server", "virtuoso")
TIMEOUT = 30.0  # seconds per query on a server
CASES = cases()
KNOWN_DIFFERENCES = known_differences()


def _params() -> Iterator[Any]:
    for backend in BACKENDS:  # back-end first: each server is started and loaded once
        for case in CASES:
            known = KNOWN_DIFFERENCES.get((backend, case.id))
            marks = (
                [pytest.mark.xfail(reason=known.reason, strict=True, run=known.run)]
                if known
                else []
            )
            yield pytest.param(backend, case, marks=marks, id=f"{backend}:{case.id}")


def _load(store: EndpointStore, local: OxigraphStore) -> None:
    """Every named graph of the release, one Graph Store `PUT` each."""
    for graph, triples in quads_by_graph(local.quads()):
        store.add_graph(graph, triples)


@pytest.fixture(scope="session")
def local(built: Built) -> Iterator[OxigraphStore]:
    store = Release.current(built.out).open_store()
    yield store
    store.close()


@pytest.fixture(scope="session")
def prefixes(built: Built) -> dict[str, str]:
    return Release.current(built.out).base.prefixes()


@pytest.fixture(scope="session")
def backend(local: OxigraphStore) -> Iterator[Callable[[str], Any]]:
    """The back-end of a name, started and loaded the first time it is asked for."""
    opened: dict[str, Any] = {}
    servers: list[Any] = []

    def get(name: str) -> Any:
        if name not in opened:
            if name == "embedded":
                opened[name] = local
            elif name == "oxigraph-server":
                server = OxigraphServer()
                servers.append(server)
                opened[name] = EndpointStore(
                    server.query_url, gsp_url=server.gsp_url, timeout=TIMEOUT
                )
                _load(opened[name], local)
            elif name == "virtuoso":
                if shutil.which(VIRTUOSO) is None:
                    pytest.skip(VIRTUOSO_MISSING)
                server = VirtuosoServer()
                servers.append(server)
                opened[name] = EndpointStore(
                    server.query_url, gsp_url=server.gsp_url, auth=server.auth, timeout=TIMEOUT
                )
                _load(opened[name], local)
        return opened[name]

    yield get
    for name, store in opened.items():
        if name != "embedded":
            store.close()
    for server in servers:
        server.stop()


@pytest.mark.parametrize("name, case", list(_params()))
def test_case_gives_the_golden_rows(
    backend: Callable[[str], Any], prefixes: dict[str, str], name: str, case: Case
) -> None:
    assert case.golden.is_file(), f"no golden file {case.golden}; {UPDATE_HINT}"
    got = answer(backend(name), case, prefixes)
    problem = difference(case, got, read_golden(case))
    hint = UPDATE_HINT if name == "embedded" else f"or list it in {KNOWN.name} with the reason"
    assert problem is None, f"{name}, {case.id}: {problem} ({hint})"


@pytest.mark.parametrize("name", BACKENDS)
def test_graphs_and_counts_match_the_release(
    backend: Callable[[str], Any], local: OxigraphStore, name: str
) -> None:
    """Every back-end holds the release's named graphs with the same number of triples."""
    store = backend(name)
    assert [g.value for g in store.graphs()] == [g.value for g in local.graphs()]
    assert store.counts() == local.counts()
    assert sum(local.counts().values()) == len(local.quads())


def test_every_question_has_a_case() -> None:
    """A question with a required parameter needs an `example:` in its header to be run."""
    assert uncovered() == []


def test_known_differences_name_real_cases() -> None:
    ids = {c.id for c in CASES}
    stale = sorted({case for (b, case) in KNOWN_DIFFERENCES if case not in ids})
    assert not stale, f"{KNOWN.name} lists cases that do not exist: {stale}"
    assert {b for (b, _) in KNOWN_DIFFERENCES} <= set(BACKENDS)
