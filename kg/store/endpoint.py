"""The SPARQL 1.1 endpoint back-end: a store on a server (Oxigraph, Virtuoso, Fuseki, GraphDB, …).

Queries go over the SPARQL 1.1 Protocol (a form-encoded POST); graphs are loaded over the
Graph Store HTTP Protocol (`PUT`/`POST ?graph=`). Parameters are bound by a `VALUES` block at the
end of the query's outermost group rather than after it: Virtuoso 7 takes a trailing block for
fixed values instead of joining it (every model came back named after the one asked for).

The library's queries read the default graph as the union of the release's named graphs, as
the embedded store does. Servers disagree on what their default graph is (Oxigraph: an empty
graph of its own, or the union of all graphs with `--union-default-graph`; Virtuoso: the union
of every graph it holds, its own system graphs included), so this back-end never relies on it:
every query is sent with the dataset spelled out, one `default-graph-uri` and one
`named-graph-uri` per graph of the release. The default graph is then the union of those graphs
(a triple stated in two graphs counts twice, as in the embedded store) and `GRAPH ?g` ranges
over them only.

The release's graphs are those this back-end loaded, or those given, or else found in the
store: every graph under `{base}graph/` but the bookkeeping graphs of `kg publish --to`
(`queries/internal/endpoint-graphs.rq`).

SPARQL JSON results are read here rather than by pyoxigraph's parser, because Virtuoso names
blank nodes `nodeID://b1000`, which is not a blank node label, and writes `typed-literal`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import httpx
import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError, QueryError
from kg.paths import resource_dir
from kg.store.base import SelectResult, quads_by_graph
from kg.store.queries import QueryFile, parse_query_file
from kg.vocab.namespaces import Base

RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
_BODY_EXCERPT = 300
# the prologue of a query: comments, BASE and PREFIX declarations
_PROLOGUE = re.compile(
    r"\A(?:\s+|#[^\n]*(?:\n|\Z)|BASE\s*<[^>]*>|PREFIX\s+[^\s:]*:\s*<[^>]*>)", re.IGNORECASE
)
_FORM = re.compile(r"\A(SELECT|CONSTRUCT|ASK|DESCRIBE)\b", re.IGNORECASE)


def query_form(text: str) -> str:
    """SELECT, CONSTRUCT, ASK or DESCRIBE: the form of a query, read after its prologue."""
    rest = text
    while True:
        m = _PROLOGUE.match(rest)
        if not m or not m.group(0):
            break
        rest = rest[m.end() :]
    form = _FORM.match(rest)
    if not form:
        raise QueryError(
            "not a SPARQL query (no SELECT, CONSTRUCT, ASK or DESCRIBE after the prologue)"
        )
    return form.group(1).upper()


def _internal(name: str) -> QueryFile:
    return parse_query_file(resource_dir("queries") / "internal" / name, f"internal/{name}")


class EndpointStore:
    """A SPARQL 1.1 store over HTTP. `query_url` answers queries; `gsp_url` (the Graph Store
    endpoint) is needed only to load graphs. `graphs` are the release's graphs; without them
    they are found in the store under `base` (see the module's description)."""

    def __init__(
        self,
        query_url: str,
        *,
        gsp_url: str | None = None,
        graphs: Sequence[str] | None = None,
        base: str | None = None,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        for url in (query_url, gsp_url):
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise KgError(f"'{url}' is not an http(s) URL")
        self.query_url = query_url
        self.gsp_url = gsp_url
        self.base = Base(base) if base else Base()
        self._graphs: list[str] | None = list(graphs) if graphs is not None else None
        self._client = httpx.Client(
            auth=auth,
            headers={"User-Agent": f"genai-openness-kg/{__version__}", **(headers or {})},
            timeout=timeout,
            follow_redirects=False,
            transport=httpx.HTTPTransport(retries=2),  # connection failures only
        )

    # --- loading (Graph Store Protocol) ------------------------------------------------------

    def add_graph(self, graph: ox.NamedNode, triples: Iterable[ox.Triple]) -> None:
        """Replace the named graph `graph` with `triples` (GSP `PUT`)."""
        self._send_graph("PUT", graph, list(triples))

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads to their named graphs (one GSP `POST` per graph)."""
        try:
            groups = list(quads_by_graph(quads))
        except ValueError as exc:
            raise KgError(f"{self.query_url}: {exc}") from None
        for graph, triples in groups:
            self._send_graph("POST", graph, triples)

    def _send_graph(self, method: str, graph: ox.NamedNode, triples: list[ox.Triple]) -> None:
        if not self.gsp_url:
            raise KgError(f"{self.query_url}: no Graph Store endpoint given to load graphs into")
        # N-Triples is a subset of Turtle, and text/turtle is the type every store takes
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        self._request(
            f"load graph {graph.value}",
            method,
            self.gsp_url,
            params={"graph": graph.value},
            content=data,
            headers={"Content-Type": "text/turtle; charset=utf-8"},
        )
        if self._graphs is not None and graph.value not in self._graphs:
            self._graphs.append(graph.value)
        elif self._graphs is None:
            self._graphs = [graph.value]

    # --- the dataset -------------------------------------------------------------------------

    def _dataset(self) -> list[str]:
        """The release's graphs (looked up once in the store when not given or loaded)."""
        if self._graphs is None:
            qf = _internal("endpoint-graphs.rq")
            b = self.base
            row = (
                ox.Literal(b.graph().value + "/"),
                ox.Literal(b.graph("staging").value + "/"),
                b.graph("push-lock"),
                b.graph("release"),
            )
            text = qf.with_tables({("prefix", "staging", "lock", "record"): [row]})
            doc = self._query(f"{qf.path}", text, RESULTS_JSON, dataset=False)
            names = sorted(t.value for t in _column(doc, "graph"))
            if not names:
                raise KgError(
                    f"{self.query_url} holds no graph under {b.graph().value}/: nothing to query "
                    "(push a release with 'kg publish --to', or check the base with --base)"
                )
            self._graphs = names
        return list(self._graphs)

    def graph_names(self) -> list[ox.NamedNode]:
        return sorted((ox.NamedNode(g) for g in self._dataset()), key=str)  # as OxigraphStore

    def graph_ntriples(self, graph: ox.NamedNode) -> bytes:
        triples = self.construct(_internal("graph-triples.rq"), {"graph": graph})
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        assert data is not None  # without an output, serialize returns the bytes
        return data

    def counts(self) -> dict[str, int]:
        rows = self.select(_internal("graph-counts.rq")).rows
        return {r["graph"].value: int(r["triples"].value) for r in rows}

    def quads(self) -> Iterator[ox.Quad]:
        for r in self.select(_internal("quads.rq")).rows:
            yield ox.Quad(r["s"], r["p"], r["o"], r["graph"])

    # --- queries ------------------------------------------------------------------------------

    def run(
        self, query: QueryFile, params: dict[str, Any] | None = None
    ) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        """Run a library query with parameters already converted to RDF terms: pyoxigraph's
        solutions or boolean for SELECT and ASK, the triples for CONSTRUCT and DESCRIBE."""
        text = query.with_values_in_group(params or {})
        return self._run(str(query.path), text)

    def raw_query(self, text: str) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        return self._run("query", text)

    def _run(self, where: str, text: str) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        form = query_form(text)
        if form in ("CONSTRUCT", "DESCRIBE"):
            return self._triples(where, text)
        doc = self._query(where, text, RESULTS_JSON)
        # re-serialised in the standard form (blank node labels, `literal` with a datatype),
        # so that callers get pyoxigraph's own result objects, as from the embedded store
        return ox.parse_query_results(
            json.dumps(_standard(doc)).encode(), ox.QueryResultsFormat.JSON
        )

    def select(self, query: QueryFile, params: dict[str, Any] | None = None) -> SelectResult:
        text = query.with_values_in_group(params or {})
        if query_form(text) != "SELECT":
            raise QueryError(f"{query.path}: expected a SELECT query")
        doc = self._query(str(query.path), text, RESULTS_JSON)
        names = list(doc.get("head", {}).get("vars", []))
        rows = [{n: _term(b.get(n)) for n in names} for b in _bindings(doc)]
        return SelectResult(names, rows)

    def construct(self, query: QueryFile, params: dict[str, Any] | None = None) -> list[ox.Triple]:
        text = query.with_values_in_group(params or {})
        if query_form(text) not in ("CONSTRUCT", "DESCRIBE"):
            raise QueryError(f"{query.path}: expected a CONSTRUCT query")
        return self._triples(str(query.path), text)

    def ask(self, query: QueryFile, params: dict[str, Any] | None = None) -> bool:
        text = query.with_values_in_group(params or {})
        if query_form(text) != "ASK":
            raise QueryError(f"{query.path}: expected an ASK query")
        doc = self._query(str(query.path), text, RESULTS_JSON)
        answer = doc.get("boolean")
        if not isinstance(answer, bool):
            raise QueryError(f"{query.path}: {self.query_url} did not answer with a boolean")
        return answer

    def _triples(self, where: str, text: str) -> list[ox.Triple]:
        data = self._request(
            where, "POST", self.query_url, data=self._form(text), accept=N_TRIPLES
        ).content
        try:
            return [
                ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
            ]
        except SyntaxError as exc:
            raise QueryError(f"{where}: {self.query_url} answered no N-Triples ({exc})") from None

    def _query(self, where: str, text: str, accept: str, dataset: bool = True) -> dict[str, Any]:
        form = self._form(text) if dataset else {"query": text}
        reply = self._request(where, "POST", self.query_url, data=form, accept=accept)
        try:
            doc = reply.json()
        except ValueError:
            raise QueryError(f"{where}: {self.query_url} answered no SPARQL JSON results") from None
        if not isinstance(doc, dict):
            raise QueryError(f"{where}: {self.query_url} answered no SPARQL JSON results")
        return doc

    def _form(self, text: str) -> dict[str, Any]:
        graphs = self._dataset()
        return {"query": text, "default-graph-uri": graphs, "named-graph-uri": graphs}

    def _request(
        self,
        where: str,
        method: str,
        url: str,
        *,
        accept: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(headers or {})
        if accept:
            headers["Accept"] = accept
        try:
            reply = self._client.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise KgError(f"{where}: {url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise KgError(f"{where}: cannot reach {url} ({exc})") from None
        if reply.is_success:
            return reply
        body = " ".join(reply.text.split())
        if len(body) > _BODY_EXCERPT:
            body = body[:_BODY_EXCERPT] + "…"
        error = QueryError if reply.status_code == 400 else KgError
        raise error(
            f"{where}: {method} {url} answered HTTP {reply.status_code} {reply.reason_phrase}"
            + (f": {body}" if body else "")
        )

    def close(self) -> None:
        self._client.close()


def _bindings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    bindings = doc.get("results", {}).get("bindings", [])
    if not isinstance(bindings, list):
        raise QueryError("the SPARQL JSON results have no list of bindings")
    return bindings


def _column(doc: dict[str, Any], name: str) -> list[Any]:
    return [t for t in (_term(b.get(name)) for b in _bindings(doc)) if t is not None]


def _term(cell: dict[str, Any] | None) -> ox.NamedNode | ox.BlankNode | ox.Literal | None:
    """One SPARQL JSON result cell as a pyoxigraph term (`typed-literal` and Virtuoso's
    `nodeID://` blank nodes taken as they are meant)."""
    if cell is None:
        return None
    kind, value = cell.get("type"), cell.get("value")
    if not isinstance(value, str):
        raise QueryError(f"a SPARQL JSON result cell without a string value: {cell}")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(_bnode_label(value))
    if kind in ("literal", "typed-literal"):
        lang = cell.get("xml:lang")
        if lang:
            return ox.Literal(value, language=lang)
        datatype = cell.get("datatype")
        return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)
    raise QueryError(f"a SPARQL JSON result cell of unknown type '{kind}': {cell}")


def _bnode_label(value: str) -> str:
    """A valid blank node label for a server's blank node name (the same name, the same label)."""
    label = re.sub(r"[^A-Za-z0-9_]", "_", value.removeprefix("nodeID://"))
    return label if label and label[0].isalpha() else f"b{label}"


def _standard(doc: dict[str, Any]) -> dict[str, Any]:
    """SPARQL JSON results in the standard form pyoxigraph reads."""
    if "boolean" in doc:
        return {"head": {}, "boolean": bool(doc["boolean"])}
    names = list(doc.get("head", {}).get("vars", []))
    rows = []
    for b in _bindings(doc):
        row = {}
        for n in names:
            t = _term(b.get(n))
            if isinstance(t, ox.NamedNode):
                row[n] = {"type": "uri", "value": t.value}
            elif isinstance(t, ox.BlankNode):
                row[n] = {"type": "bnode", "value": t.value}
            elif isinstance(t, ox.Literal):
                cell: dict[str, str] = {"type": "literal", "value": t.value}
                if t.language:
                    cell["xml:lang"] = t.language
                else:
                    cell["datatype"] = t.datatype.value
                row[n] = cell
        rows.append(row)
    return {"head": {"vars": names}, "results": {"bindings": rows}}
