"""The store interface: what the package needs from a store, whatever holds the data.

Back-ends: `kg.store.oxigraph.OxigraphStore` (pyoxigraph, embedded, the default) and
`kg.store.endpoint.EndpointStore` (any SPARQL 1.1 store over HTTP: queries over the SPARQL
Protocol, graphs loaded over the Graph Store Protocol). Both give the library's queries the same
dataset: the default graph is the union of the release's named graphs (a triple stated in two
graphs counts twice) and `GRAPH ?g` ranges over those graphs. `tests/test_compliance.py` runs
every question, rule and check on each back-end against the same golden answers.

Parameters are RDF terms already checked against the query's header
(`QueryFile.bindings`); no back-end pastes a value into query text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import pyoxigraph as ox

from kg.store.queries import QueryFile

QueryResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple]
"""What `GraphStore.run` gives: CONSTRUCT triples come as a list from an endpoint."""


@dataclass
class SelectResult:
    """A SELECT result: the variable names in projection order and the rows as RDF terms
    (None where a variable is unbound)."""

    variables: list[str]
    rows: list[dict[str, Any]]


class GraphStore(Protocol):
    """One store interface, several back-ends."""

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads (in named graphs) to the store."""
        ...

    def add_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        """Replace the named graph `graph` with `triples`."""
        ...

    def select(self, query: QueryFile, params: dict[str, Any] | None = None) -> SelectResult:
        """A SELECT query's solutions, `params` bound as RDF terms."""
        ...

    def construct(self, query: QueryFile, params: dict[str, Any] | None = None) -> list[ox.Triple]:
        """A CONSTRUCT query's triples."""
        ...

    def ask(self, query: QueryFile, params: dict[str, Any] | None = None) -> bool:
        """An ASK query's answer."""
        ...

    def run(self, query: QueryFile, params: dict[str, Any] | None = None) -> QueryResult:
        """Any query's result: solutions or a boolean for SELECT and ASK, triples for
        CONSTRUCT and DESCRIBE (pyoxigraph's own result objects, or a list of triples)."""
        ...

    def graph_names(self) -> list[ox.NamedNode]:
        """The dataset's named graphs, sorted by IRI."""
        ...

    def graph_ntriples(self, graph: ox.NamedNode) -> bytes:
        """One named graph as N-Triples."""
        ...

    def counts(self) -> dict[str, int]:
        """Triples per named graph."""
        ...

    def quads(self) -> Iterable[ox.Quad]:
        """Every quad of the dataset."""
        ...

    def close(self) -> None:
        """Release the store (flush an embedded one, close an HTTP client)."""
        ...


def quads_by_graph(quads: Iterable[ox.Quad]) -> Iterator[tuple[ox.NamedNode, list[ox.Triple]]]:
    """Quads grouped into their named graphs (sorted by graph IRI), as triples."""
    groups: dict[ox.NamedNode, list[ox.Triple]] = {}
    for q in quads:
        if not isinstance(q.graph_name, ox.NamedNode):
            raise ValueError(f"only quads in named graphs can be stored, not {q}")
        groups.setdefault(q.graph_name, []).append(ox.Triple(q.subject, q.predicate, q.object))
    yield from sorted(groups.items(), key=lambda kv: kv[0].value)
