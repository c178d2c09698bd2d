"""The embedded back-end of the store interface (pyoxigraph on disk or in memory)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError, QueryError
from kg.paths import resource_dir
from kg.store.base import SelectResult
from kg.store.queries import QueryFile, parse_query_file


class OxigraphStore:
    """pyoxigraph, on disk (`path`) or in memory. Queries see the union of all named graphs."""

    def __init__(
        self, store: ox.Store, *, read_only: bool = False, path: Path | None = None
    ) -> None:
        self._store = store
        self._read_only = read_only
        self.path = path  # None: in memory

    @classmethod
    def in_memory(cls) -> OxigraphStore:
        return cls(ox.Store())

    @classmethod
    def create(cls, path: Path) -> OxigraphStore:
        return cls(ox.Store(str(path)), path=path)

    @classmethod
    def open_read_only(cls, path: Path) -> OxigraphStore:
        if not path.is_dir():
            raise KgError(f"no built store at {path}: run 'kg build' first")
        try:
            return cls(ox.Store.read_only(str(path)), read_only=True, path=path)
        except OSError as exc:
            raise KgError(f"cannot open the store at {path}: {exc}") from None

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only (`open_read_only`)."""
        return self._read_only

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        self._store.bulk_extend(quads)
        self._store.flush()

    def load_file(self, path: Path, fmt: ox.RdfFormat) -> None:
        """Bulk-load an RDF file, parsed natively (no Python object per quad)."""
        self._store.bulk_load(path=str(path), format=fmt)
        self._store.flush()

    def raw_query(self, text: str) -> Any:
        try:
            return self._store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except OSError as exc:
            raise QueryError(f"the store failed while answering: {exc}") from None

    def run(
        self, query: QueryFile, params: dict[str, Any] | None = None
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a library query with parameters already converted to RDF terms."""
        text = query.with_values(params or {})
        try:
            return self._store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(f"{query.path}: SPARQL syntax error: {exc}") from None

    def select(self, query: QueryFile, params: dict[str, Any] | None = None) -> SelectResult:
        result = self.run(query, params)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError(f"{query.path}: expected a SELECT query")
        names = [v.value for v in result.variables]
        rows = [{n: sol[n] for n in names} for sol in result]
        return SelectResult(names, rows)

    def construct(self, query: QueryFile, params: dict[str, Any] | None = None) -> list[ox.Triple]:
        result = self.run(query, params)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError(f"{query.path}: expected a CONSTRUCT query")
        return list(result)

    def ask(self, query: QueryFile, params: dict[str, Any] | None = None) -> bool:
        result = self.run(query, params)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError(f"{query.path}: expected an ASK query")
        return bool(result)

    def add_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        """Replace the named graph `graph` with `triples`."""
        if self._store.contains_named_graph(graph):
            self._store.remove_graph(graph)
        self.add_quads(ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples)

    def counts(self) -> dict[str, int]:
        """Triples per named graph."""
        qf = parse_query_file(resource_dir("queries") / "internal" / "graph-counts.rq")
        rows = self.select(qf)
        return {r["graph"].value: int(r["triples"].value) for r in rows.rows}

    def quads(self) -> list[ox.Quad]:
        return list(self._store)

    def quads_about(
        self, subject: ox.NamedNode | None = None, obj: ox.NamedNode | None = None
    ) -> Iterator[ox.Quad]:
        """The quads with this subject and/or object, in any graph, read from the store's
        indexes (nothing else is loaded)."""
        return iter(self._store.quads_for_pattern(subject, None, obj, None))

    def iter_quads(self) -> Iterator[ox.Quad]:
        """Every quad, one at a time, in the store's own order (on disk: by graph, subject,
        predicate and object as Oxigraph encodes them, the order of `dump`)."""
        return iter(self._store)

    def dump(
        self,
        path: Path,
        fmt: ox.RdfFormat,
        *,
        graph: ox.NamedNode | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        """Serialise the store (or one named graph of it) to `path`, natively: no Python object
        per quad. On disk the order is the store's index order, the same for the same quads
        whatever order they were loaded in (decision 24)."""
        if graph is None:
            self._store.dump(str(path), fmt, prefixes=prefixes)
        else:
            self._store.dump(str(path), fmt, from_graph=graph, prefixes=prefixes)

    def graph_names(self) -> list[ox.NamedNode]:
        names = (g for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))
        return sorted(names, key=str)

    def graph_ntriples(self, graph: ox.NamedNode) -> bytes:
        """One named graph as N-Triples, serialised natively (no Python object per triple)."""
        data = self._store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
        return data or b""

    def close(self) -> None:
        if not self._read_only:  # a read-only store cannot flush
            self._store.flush()
        del self._store
