"""`kg serve`: the release over HTTP.

- `/sparql`: SPARQL 1.1 Protocol, read-only, queries run in killable worker processes
  (`kg.serve.workers`) under a time limit and a row cap; CORS on every read endpoint.
- every IRI under the base: its description by content negotiation (HTML, Turtle, JSON-LD,
  RDF/XML, N-Triples) with `Vary: Accept`, or one variant by extension (`….ttl`, `….html`).
- `/query`: a page that runs SPARQL against `/sparql`, with the library's questions as examples.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import signal
import sys
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.outputs.pages import VARIANTS, Site, page_path
from kg.outputs.site import DCAT, DUMPS, FOAF, VOID, describe, ontology_html, write_dumps
from kg.release.release import Release, quad_key
from kg.serve.protocol import (
    FORMAT_ALIASES,
    GRAPH_TYPES,
    Refused,
    check_read_only,
    negotiate,
    serialize_graph,
    without_header,
)
from kg.serve.workers import PoolBusy, QueryRequest, QueryTimeout, WorkerCrashed, WorkerPool
from kg.store import OxigraphStore
from kg.store.queries import library
from kg.vocab.namespaces import ONTOLOGY_IRI, PREFIXES, RDF, Base

SD = "http://www.w3.org/ns/sparql-service-description#"
OWL_VERSION_IRI = "http://www.w3.org/2002/07/owl#versionIRI"
DUMP_TYPES = {
    **{name: media for name, (_f, media, _g) in DUMPS.items()},
    "dataset.nt.gz": "application/gzip",
    "ontology.ttl": "text/turtle",
}
DRAIN_LIMIT = 64 * 1024 * 1024  # bytes of an unwanted body read and dropped before answering
FORMATS_NS = "http://www.w3.org/ns/formats/"
# Resource descriptions: media type -> extension of the variant (see kg.outputs.pages.VARIANTS).
RESOURCE_TYPES: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    **{media: ext for ext, (_f, media, _n) in VARIANTS.items()},
}
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Expose-Headers": "Content-Location, Vary, X-KG-Results-Truncated",
    "Access-Control-Max-Age": "86400",
}


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    time_limit: float = 10.0
    max_rows: int = 10_000
    workers: int = 2
    max_body: int = 1_000_000  # bytes of a POST body
    quiet: bool = False
    worker_memory_mb: int = 2048  # address space of one query worker (0: no limit)
    idle_timeout: float = 30.0  # seconds a connection may stay silent mid-request or between


class Application:
    """Everything a request needs; shared by the handler threads."""

    def __init__(self, release: Path, config: ServeConfig) -> None:
        self.config = config
        manifest = Release(release).manifest
        self.build_id = manifest["build_id"]
        self.base = Base(manifest["base"])
        dataset = release / "dumps" / "dataset.nq"
        if not dataset.is_file():
            raise KgError(f"{dataset} is missing: rebuild with 'kg build'")
        # A private copy, so that a later build pruning this release cannot pull the data away
        # from a worker that is being restarted.
        self._tmp = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        copy = self._tmp / "dataset.nq"
        shutil.copyfile(dataset, copy)
        raw = ox.Store()
        raw.bulk_load(path=str(copy), format=ox.RdfFormat.N_QUADS)
        self.store = OxigraphStore(raw)
        self.site = Site(self.store, self.base, nav=[("query", "Query")])
        self.prefixes = self.site.base_prefixes()
        self._ontology_file = self._tmp / "ontology.ttl"  # a private copy, as the dataset
        shutil.copyfile(release / "dumps" / "ontology.ttl", self._ontology_file)
        self.ontology = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(path=str(self._ontology_file), format=ox.RdfFormat.TURTLE)
        ]
        # The ontology document answers for the ontology IRI and its version IRI(s).
        self.documents = {ONTOLOGY_IRI} | {
            t.object.value
            for t in self.ontology
            if t.predicate.value == OWL_VERSION_IRI and t.subject.value == ONTOLOGY_IRI
        }
        self.graphs = sorted(
            {q.graph_name.value for q in raw if isinstance(q.graph_name, ox.NamedNode)}
        )
        self._pages: dict[str, bytes] = {}
        self._ontology_html: bytes | None = None
        self._lock = threading.Lock()
        self.query_page = self._query_page()
        self.manifest = manifest
        self._dumps: Path | None = None  # written on the first request for one
        self.pool = WorkerPool(
            copy,
            config.workers,
            config.time_limit,
            config.max_rows,
            self.prefixes,
            memory_mb=config.worker_memory_mb,
        )

    def close(self) -> None:
        self.pool.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    # --- pages ---------------------------------------------------------------------------------

    def _query_page(self) -> bytes:
        examples = [
            {
                "name": q.name,
                "title": q.title,
                "description": q.description,
                "text": without_header(q.text),
            }
            for q in library()
        ]
        data = json.dumps(examples, ensure_ascii=False).replace("</", "<\\/")
        template = (Path(__file__).parent / "query.html").read_text(encoding="utf-8")
        return template.replace("__LIBRARY__", data).encode()

    def index_page(self) -> bytes:
        links = [
            ("query", "SPARQL query page"),
            ("sparql", "SPARQL endpoint (/sparql)"),
            ("void.ttl", "VoID/DCAT description"),
            *((f"dumps/{name}", name) for name in DUMP_TYPES),
        ]
        return self.site.index(links).encode()

    def void(self, root: str) -> bytes:
        """The VoID and DCAT 3 description of the served release, with this server's endpoint
        and dumps (`root`: the URL the client reached the server at, without a final slash)."""
        description = describe(
            self.base,
            self.manifest,
            self.store.quads(),
            dt.date.today().isoformat(),
            root,
            f"{root}/sparql",
        )
        prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT, "foaf": FOAF}
        return serialize_graph(sorted(description, key=str), "turtle", prefixes)

    def dump(self, name: str) -> bytes | None:
        """One dump of a static release (`kg publish`), written when the first is asked for."""
        if name not in DUMP_TYPES:
            return None
        with self._lock:
            if self._dumps is None:
                folder = self._tmp / "dumps"
                quads = sorted(self.store.quads(), key=quad_key)
                write_dumps(quads, folder, self.base.prefixes(with_base=False))
                shutil.copyfile(self._ontology_file, folder / "ontology.ttl")
                self._dumps = folder
        return (self._dumps / name).read_bytes()

    def page(self, iri: str) -> bytes:
        if iri in self.documents:
            return self.ontology_page()
        cached = self._pages.get(iri)
        if cached is None:
            cached = self._pages[iri] = self.site.render(iri).encode()
        return cached

    def ontology_page(self) -> bytes:
        with self._lock:
            if self._ontology_html is None:
                self._ontology_html = ontology_html(self._ontology_file).encode()
            return self._ontology_html

    def describe(self, iri: str, ext: str) -> bytes:
        if iri in self.documents:  # the whole ontology document: its terms are hash IRIs
            return self.site.serialize(iri, ext, self.ontology)
        return self.site.serialize(iri, ext)

    def resource(self, path: str) -> tuple[str, str | None] | None:
        """The IRI a request path names, and the variant extension if the path has one."""
        local = path.lstrip("/")
        for candidate in dict.fromkeys((local, urllib.parse.unquote(local))):
            iri = self.base.base + candidate
            if self.described(iri):
                return iri, None
            stem, dot, ext = candidate.rpartition(".")
            if dot and (ext == "html" or ext in VARIANTS):
                iri = self.base.base + stem
                if self.described(iri):
                    return iri, ext
        return None

    def described(self, iri: str) -> bool:
        if iri in self.documents:
            return True
        return iri in self.site.out and page_path(iri, self.base.base) is not None

    def service_description(self, endpoint: str) -> list[ox.Triple]:
        service = ox.BlankNode("service")
        dataset = ox.BlankNode("dataset")
        default = ox.BlankNode("default")
        out: list[ox.Triple] = []

        def add(s: ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
            out.append(ox.Triple(s, ox.NamedNode(p), o))

        add(service, RDF + "type", ox.NamedNode(SD + "Service"))
        add(service, SD + "endpoint", ox.NamedNode(endpoint))
        add(service, SD + "supportedLanguage", ox.NamedNode(SD + "SPARQL11Query"))
        add(service, SD + "feature", ox.NamedNode(SD + "UnionDefaultGraph"))
        for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV"):
            add(service, SD + "resultFormat", ox.NamedNode(FORMATS_NS + fmt))
        add(service, SD + "resultFormat", ox.NamedNode(FORMATS_NS + "SPARQL_Results_TSV"))
        for fmt in ("Turtle", "JSON-LD", "RDF_XML", "N-Triples"):
            add(service, SD + "resultFormat", ox.NamedNode(FORMATS_NS + fmt))
        add(service, SD + "defaultDataset", dataset)
        add(dataset, RDF + "type", ox.NamedNode(SD + "Dataset"))
        add(dataset, SD + "defaultGraph", default)
        add(default, RDF + "type", ox.NamedNode(SD + "Graph"))
        for g in self.graphs:
            node = ox.BlankNode()
            add(dataset, SD + "namedGraph", node)
            add(node, SD + "name", ox.NamedNode(g))
        return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kg-serve"
    # Headers and body go out in one write, at once: with Nagle's algorithm on, a small body
    # written after the headers waited for the client's delayed ACK (about 40 ms a request).
    disable_nagle_algorithm = True
    wbufsize = -1
    app: Application  # set on the subclass made by `make_server`

    # --- plumbing ------------------------------------------------------------------------------

    def log_message(self, format: str, *args: object) -> None:
        if not self.app.config.quiet:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def send(
        self,
        status: int,
        body: bytes,
        media_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**CORS, **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def setup(self) -> None:
        self.timeout = self.app.config.idle_timeout  # a silent client cannot hold a thread
        super().setup()

    def fail(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        reason = HTTPStatus(status).phrase
        self.send(
            status, f"{status} {reason}: {message}\n".encode(), "text/plain; charset=utf-8", headers
        )

    def _split(self) -> tuple[str, dict[str, list[str]]]:
        url = urllib.parse.urlsplit(self.path)
        return url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)

    # --- methods -------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        self.send(204, b"", "text/plain", {"Allow": "GET, HEAD, POST, OPTIONS"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path, params = self._split()
        if path == "/sparql":
            return self.sparql(params, None)
        if path in ("/", "/index.html"):
            return self.send(200, self.app.index_page(), "text/html; charset=utf-8")
        if path == "/query":
            return self.send(200, self.app.query_page, "text/html; charset=utf-8")
        if path in ("/void.ttl", "/.well-known/void"):
            host = self.headers.get("Host") or f"{self.app.config.host}:{self.app.config.port}"
            return self.send(200, self.app.void(f"http://{host}"), "text/turtle")
        if path.startswith("/dumps/"):
            name = path[len("/dumps/") :]
            data = self.app.dump(name)
            if data is None:
                return self.fail(404, f"no dump {name!r} (dumps: {', '.join(DUMP_TYPES)})")
            return self.send(200, data, DUMP_TYPES[name])
        return self.resource(path)

    def _drain(self, size: int) -> None:
        """Read and drop a body the server will not use, so that the client is not cut off
        while still sending (it would see a broken pipe instead of the answer). Bodies over
        `DRAIN_LIMIT` are not read; the connection is closed after the answer in every case."""
        self.close_connection = True
        if size > DRAIN_LIMIT:
            return
        try:
            while size > 0:
                chunk = self.rfile.read(min(size, 65536))
                if not chunk:
                    return
                size -= len(chunk)
        except OSError:  # includes the idle timeout
            return

    def do_POST(self) -> None:
        path, params = self._split()
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return self.fail(501, "chunked bodies are not accepted: send a Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True  # the body cannot be delimited: end the connection
            return self.fail(411, "a POST needs a Content-Length")
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            self.close_connection = True
            return self.fail(400, f"bad Content-Length {length!r}")
        if path != "/sparql":
            self._drain(size)
            return self.fail(405, "only /sparql accepts POST", {"Allow": "GET, HEAD, OPTIONS"})
        if size > self.app.config.max_body:
            self._drain(size)
            return self.fail(413, f"the body is larger than {self.app.config.max_body} bytes")
        body = self.rfile.read(size)
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.fail(400, "the body is not UTF-8")
        if media == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(text, keep_blank_values=True)
            for k, v in params.items():
                form.setdefault(k, []).extend(v)
            return self.sparql(form, None)
        if media == "application/sparql-query":
            return self.sparql(params, text)
        if media == "application/sparql-update":
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        return self.fail(
            415,
            f"Content-Type {media or '(none)'} is not accepted: send application/sparql-query "
            "or application/x-www-form-urlencoded",
        )

    def _unsupported(self) -> None:
        self.fail(
            405,
            f"{self.command} is not allowed: the server is read-only",
            {"Allow": "GET, HEAD, POST, OPTIONS"},
        )

    do_PUT = do_DELETE = do_PATCH = _unsupported

    # --- /sparql -------------------------------------------------------------------------------

    def sparql(self, params: dict[str, list[str]], text: str | None) -> None:
        if "update" in params:
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        queries = params.get("query", [])
        if text is None:
            if not queries:
                return self.service_description()
            if len(queries) > 1:
                return self.fail(400, "give exactly one 'query' parameter")
            text = queries[0]
        elif queries:
            return self.fail(400, "the query is in the body: do not also give a 'query' parameter")
        try:
            check_read_only(text)
        except Refused as exc:
            return self.fail(exc.status, exc.message)
        accept = self.headers.get("Accept")
        if params.get("format"):
            accept = FORMAT_ALIASES.get(params["format"][0].lower(), params["format"][0])
        request = QueryRequest(
            text,
            accept,
            params.get("default-graph-uri", []),
            params.get("named-graph-uri", []),
        )
        for uri in request.default_graphs + request.named_graphs:
            try:
                ox.NamedNode(uri)
            except ValueError:
                return self.fail(
                    400, f"{uri!r} (default-graph-uri or named-graph-uri) is not an IRI"
                )
        try:
            response = self.app.pool.run(request)
        except (QueryTimeout, PoolBusy) as exc:
            return self.fail(503, str(exc))
        except WorkerCrashed as exc:
            return self.fail(500, str(exc))
        headers = {"Vary": "Accept"}
        if response.truncated:
            headers["X-KG-Results-Truncated"] = str(self.app.config.max_rows)
        if response.status >= 400:
            reason = HTTPStatus(response.status).phrase
            body = f"{response.status} {reason}: ".encode() + response.body
            return self.send(response.status, body, response.media_type, headers)
        self.send(response.status, response.body, response.media_type, headers)

    def service_description(self) -> None:
        accept = self.headers.get("Accept")
        chosen = negotiate(accept, {**GRAPH_TYPES, "text/html": "html"})
        if chosen is None:
            return self.fail(406, "the service description is offered as RDF (Turtle, …)")
        fmt, media = chosen
        if fmt == "html":
            return self.send(303, b"", "text/plain", {"Location": "query", "Vary": "Accept"})
        host = self.headers.get("Host") or f"{self.app.config.host}:{self.app.config.port}"
        try:
            triples = self.app.service_description(f"http://{host}/sparql")
        except ValueError:
            return self.fail(400, f"bad Host header {host!r}")
        body = serialize_graph(triples, fmt, {"sd": SD, "formats": FORMATS_NS})
        self.send(200, body, media, {"Vary": "Accept"})

    # --- resources -----------------------------------------------------------------------------

    def resource(self, path: str) -> None:
        found = self.app.resource(path)
        if found is None:
            return self.fail(404, f"nothing is described at {path}")
        iri, ext = found
        headers: dict[str, str] = {}
        if ext is None:  # the IRI itself: the variant by content negotiation
            headers["Vary"] = "Accept"
            chosen = negotiate(self.headers.get("Accept"), RESOURCE_TYPES)
            if chosen is None:
                offered = ", ".join(dict.fromkeys(RESOURCE_TYPES))
                return self.fail(406, f"{iri} is described as {offered}", headers)
            ext = chosen[0]
            headers["Content-Location"] = f"{iri.rsplit('/', 1)[-1]}.{ext}"
        headers["ETag"] = f'"{self.app.build_id}-{ext}"'
        if self.headers.get("If-None-Match") == headers["ETag"]:
            self.send_response(304)
            for k, v in {**CORS, **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if ext == "html":
            return self.send(200, self.app.page(iri), "text/html; charset=utf-8", headers)
        media = VARIANTS[ext][1]
        return self.send(200, self.app.describe(iri, ext), media, headers)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def make_server(config: ServeConfig) -> ThreadingHTTPServer:
    """Bind the port first, so that a taken port fails at once, before workers start."""
    handler = type("BoundHandler", (Handler,), {})
    try:
        server = ThreadingHTTPServer((config.host, config.port), handler)
    except OSError as exc:
        raise KgError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None
    server.daemon_threads = True
    return server


def serve(release: Path, config: ServeConfig) -> None:
    """Serve `release` until interrupted."""
    server = make_server(config)
    try:
        app = Application(release, config)
    except BaseException:
        server.server_close()
        raise
    server.RequestHandlerClass.app = app  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C: workers and files cleaned up
    try:
        host, port = server.server_address[:2]
        print(
            f"Serving release {app.build_id} at http://{host}:{port}/ (SPARQL: /sparql)", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
        app.close()
