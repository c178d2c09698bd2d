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
from pathlib import Path
from typing import Any

import pyoxigraph as ox
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
from conftest import Built
from kg.release.release import Release
from kg.store import OxigraphStore
from kg.store.base import quads_by_graph
from kg.store.endpoint import EndpointStore
from kg.store.queries import parse_query_file
from stores import VIRTUOSO, VIRTUOSO_MISSING, OxigraphServer, VirtuosoServer

BACKENDS = ("embedded", "oxigraph-server", "virtuoso")
TIMEOUT = 120.0  # seconds per query on a server (a loaded CI machine is slow)
CASES = cases()
KNOWN_DIFFERENCES = known_differences()


def _params() -> Iterator[Any]:
    for backend in BACKENDS:  # back-end first: each server is started and loaded once
        for case in CASES:
            known = KNOWN_DIFFERENCES.get((backend, case.id))
            marks = (
                # a known difference is in the rows: a back-end that fails to answer at all
                # (an error) fails the suite, rather than hiding behind the listed reason
                [
                    pytest.mark.xfail(
                        reason=known.reason, strict=True, run=known.run, raises=AssertionError
                    )
                ]
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
    assert sorted(g.value for g in store.graph_names()) == sorted(
        g.value for g in local.graph_names()
    )
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


HEADER = (
    "# title: t\n# description: d\n# parameters:\n"
    "#   x: {type: iri, required: true, description: required}\n"
    "#   y: {type: iri, description: optional}\n"
)
X = "VALUES (?x) { (<http://e/a>) }"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # keywords in IRIs, braces and keywords in strings and comments are not syntax
        (
            'SELECT ?x ?y # { where\n WHERE {\n  ?x <http://e/where> "a{b" .\n'
            "  FILTER(?x != '{')\n}\nORDER BY ?x # }\n",
            f"SELECT ?x ?y # {{ where\n WHERE {{\n  {X}\n",
        ),
        # a CONSTRUCT's template comes before its WHERE group
        (
            "CONSTRUCT { ?x <http://e/p> ?y } WHERE { ?x <http://e/q> ?y }",
            f"CONSTRUCT {{ ?x <http://e/p> ?y }} WHERE {{\n  {X}\n",
        ),
        # WHERE left out; a subquery's own keywords and groups are inside the outer one
        (
            "SELECT ?x ?y { { SELECT ?x WHERE { ?x ?p ?o } } ?x <http://e/select> ?y }",
            f"SELECT ?x ?y {{\n  {X}\n {{ SELECT ?x WHERE",
        ),
        # the short CONSTRUCT form's group is its template: the block trails
        (
            "CONSTRUCT WHERE { ?x <http://e/p> ?y }",
            "CONSTRUCT WHERE { ?x <http://e/p> ?y }\n"
            "VALUES (?x ?y) { (<http://e/a> <http://e/b>) }",
        ),
    ],
)
def test_required_values_bind_at_the_start_of_the_where_group(
    tmp_path: Path, query: str, expected: str
) -> None:
    """Required parameters open the WHERE group, optional ones trail (or end the group, for the
    endpoint back-end)."""
    path = tmp_path / "q.rq"
    path.write_text(HEADER + query)
    qf = parse_query_file(path)
    terms = {"x": ox.NamedNode("http://e/a"), "y": ox.NamedNode("http://e/b")}
    for bound in (qf.with_values(terms), qf.with_values_in_group(terms)):
        assert bound.startswith(HEADER + expected), bound
        ox.Store().query(bound)  # well-formed SPARQL
    if "CONSTRUCT WHERE" not in query:
        assert qf.with_values(terms).endswith("\nVALUES (?y) { (<http://e/b>) }\n")
        in_group = qf.with_values_in_group(terms)
        assert "  VALUES (?y) { (<http://e/b>) }\n}" in in_group


@pytest.mark.parametrize("case", [c for c in CASES if c.params], ids=lambda c: c.id)
def test_values_in_the_group_join_as_the_trailing_block(
    local: OxigraphStore, prefixes: dict[str, str], case: Case
) -> None:
    """Every back-end binds parameters at the start of the WHERE group (the store then evaluates
    the pattern with them bound); on the embedded store the library's questions give the same
    rows as with a trailing VALUES block."""
    terms = case.query.bindings(case.params, prefixes)
    trailing = local.raw_query(case.query.with_trailing_values(terms))
    in_group = local.raw_query(case.query.with_values(terms))
    names = [v.value for v in trailing.variables]
    assert sorted(str([s[n] for n in names]) for s in trailing) == sorted(
        str([s[n] for n in names]) for s in in_group
    )
