"""`kg serve`: the release over HTTP, on Starlette and uvicorn.

- `/sparql`: SPARQL 1.1 Protocol, read-only, queries run in killable worker processes without
  network access (`kg.serve.workers`) under a time limit, a row cap and a byte cap, shared
  fairly among clients; CORS on every read endpoint.
- every IRI under the base: its description by content negotiation (HTML, Turtle, JSON-LD,
  RDF/XML, N-Triples) with `Vary: Accept`, or one variant by extension (`….ttl`, `….html`).
- `/query`: a page that runs SPARQL against `/sparql`, with the library's questions as examples.

The HTTP layer (connections, parsing, keep-alive, the accept backlog, the connection limit,
graceful shutdown) is uvicorn's; this module adds the limits uvicorn leaves to the application:
the request body's size and read time, a deadline for a request's head, and the Host check.
Absolute URLs (VoID, service description) come from the configured public URL, never from the
request's Host header.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import datetime as dt
import functools
import hashlib
import json
import math
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import uvicorn
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from kg.errors import KgError
from kg.outputs.badges import Badges
from kg.outputs.linked import DCAT, FOAF, VOID, link_header, release_date, resolve_path
from kg.outputs.pages import VARIANTS, Site, page_path
from kg.outputs.site import DUMPS, ontology_html, void_description, write_dumps
from kg.release.release import Release, quad_key
from kg.serve.protocol import (
    FORMAT_ALIASES,
    GRAPH_TYPES,
    negotiate,
    serialize_graph,
    without_header,
)
from kg.serve.workers import (
    PoolBusy,
    QueryRequest,
    QueryTimeout,
    WorkerCrashed,
    WorkerPool,
    WorkerSettings,
    WorkerStartError,
)
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
    "Access-Control-Expose-Headers": (
        "Content-Location, Vary, X-KG-Results-Truncated, X-KG-Results-Truncated-By"
    ),
    "Access-Control-Max-Age": "86400",
}
ALLOW = "GET, HEAD, POST, OPTIONS"
# A Host header: a registered name or IPv4 address, or an IPv6 literal in brackets; a port.
HOST = re.compile(r"(?:[A-Za-z0-9._~\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
PAGE_CACHE = 4096  # resource pages and RDF variants kept rendered


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
    max_bytes: int = 20_000_000  # bytes of one answer
    public_url: str | None = None  # the URL clients reach the server at (behind a proxy)
    per_client: int | None = None  # workers one client may hold (None: half, rounded up)
    api_keys: dict[str, str] = field(default_factory=dict)  # key -> name
    max_connections: int = 1000
    backlog: int = 2048
    allow_network: bool = False  # run queries in workers that can reach the network (unsafe)
    text_check: bool = True  # the friendly 403 for SERVICE and Update (off only in tests)
    store: str = "memory"  # workers hold the data in memory, or open the release's store
    reserve: bool = True  # keep the last free worker for a client that used little lately


def public_root(url: str) -> str:
    """The public base URL without its final slash; KgError unless it is an http(s) URL with a
    host and without query or fragment."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise KgError(
            f"--public-url {url!r} must be an http:// or https:// URL without ?query or #fragment"
        )
    try:
        ox.NamedNode(url)
    except ValueError as exc:
        raise KgError(f"--public-url {url!r} is not a valid IRI: {exc}") from None
    return url.rstrip("/")


class Application:
    """Everything a request needs: the data, the pages, the worker pool."""

    def __init__(self, release: Path, config: ServeConfig, root: str) -> None:
        self.config = config
        self.root = root  # the public URL without its final slash
        manifest = Release(release).manifest
        self.build_id = manifest["build_id"]
        self.base = Base(manifest["base"])
        dataset = release / "dumps" / "dataset.nq"
        if not dataset.is_file():
            raise KgError(f"{dataset} is missing: rebuild with 'kg build'")
        # A private copy, so that a later build pruning this release cannot pull the data away
        # from a worker that is being restarted.
        self._tmp = Path(tempfile.mkdtemp(prefix="kg-serve-"))
        try:
            self._load(release, dataset, manifest)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise

    def _load(self, release: Path, dataset: Path, manifest: dict[str, Any]) -> None:
        config = self.config
        copy = self._tmp / "dataset.nq"
        shutil.copyfile(dataset, copy)
        if config.store == "disk":
            store_copy = self._tmp / "store"
            _copy_store(release / "store", store_copy)
            raw = ox.Store.read_only(str(store_copy))
            worker_data, on_disk = str(store_copy), True
        else:
            raw = ox.Store()
            raw.bulk_load(path=str(copy), format=ox.RdfFormat.N_QUADS)
            worker_data, on_disk = str(copy), False
        self.store = OxigraphStore(raw)
        self.badges = Badges(self.store, self.base)
        self.built = release_date(release)  # the VoID's dcterms:modified: the build's day
        self.site = Site(self.store, self.base, nav=[("query", "Query")], badges=self.badges)
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
            if t.predicate.value == OWL_VERSION_IRI
            and isinstance(t.subject, ox.NamedNode)
            and t.subject.value == ONTOLOGY_IRI
            and not isinstance(t.object, ox.Triple)
        }
        self.graphs = sorted(
            {q.graph_name.value for q in raw if isinstance(q.graph_name, ox.NamedNode)}
        )
        self._cache: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()
        self._ontology_html: bytes | None = None
        self._void: tuple[str, bytes] | None = None
        self._lock = threading.Lock()
        self.query_page = self._query_page()
        self.index_page = self._index_page()
        self.manifest = manifest
        self._dumps: Path | None = None  # written on the first request for one
        self.pool = WorkerPool(
            WorkerSettings(
                worker_data,
                on_disk,
                config.max_rows,
                config.max_bytes,
                self.prefixes,
                memory_mb=config.worker_memory_mb,
                isolate=not config.allow_network,
                probe=(config.host, config.port),
                text_check=config.text_check,
            ),
            config.workers,
            config.time_limit,
            per_client=config.per_client or math.ceil(config.workers / 2),
            reserve=config.reserve,
        )
        try:
            self.pool.start()
        except WorkerStartError as exc:
            if exc.isolation:
                raise KgError(
                    f"the query workers could not be cut off from the network ({exc}). Run "
                    "kg serve as root, or allow unprivileged user namespaces "
                    "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0), "
                    "or, knowing that any query may then make this machine connect anywhere, "
                    "pass --allow-network-in-queries"
                ) from None
            raise KgError(str(exc)) from None

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

    def _index_page(self) -> bytes:
        links = [
            ("query", "SPARQL query page"),
            ("sparql", "SPARQL endpoint (/sparql)"),
            ("void.ttl", "VoID/DCAT description"),
            *((f"dumps/{name}", name) for name in DUMP_TYPES),
        ]
        return self.site.index(links).encode()

    def void(self) -> bytes:
        """The VoID and DCAT 3 description of the served release, with this server's endpoint
        and dumps under the public URL; issued today."""
        today = dt.date.today().isoformat()
        if self._void is None or self._void[0] != today:
            description = void_description(
                self.base,
                self.manifest,
                self.store.quads(),
                today,
                self.root,
                f"{self.root}/sparql",
                modified=self.built,
            )
            prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT, "foaf": FOAF}
            body = serialize_graph(sorted(description, key=str), "turtle", prefixes)
            self._void = (today, body)
        return self._void[1]

    def dump(self, name: str) -> Path | None:
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
        return self._dumps / name

    async def cached(self, key: tuple[str, str], make: Callable[[], bytes]) -> bytes:
        """A rendered page or description, made in a thread (off the event loop) on a miss."""
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        made = await asyncio.to_thread(make)
        self._cache[key] = made
        while len(self._cache) > PAGE_CACHE:
            self._cache.popitem(last=False)
        return made

    async def page(self, iri: str) -> bytes:
        if iri in self.documents:
            return await asyncio.to_thread(self.ontology_page)
        return await self.cached((iri, "html"), lambda: self.site.render(iri).encode())

    def ontology_page(self) -> bytes:
        with self._lock:
            if self._ontology_html is None:
                self._ontology_html = ontology_html(self._ontology_file).encode()
            return self._ontology_html

    async def resource_rdf(self, iri: str, ext: str) -> bytes:
        if iri in self.documents:  # the whole ontology document: its terms are hash IRIs
            return await self.cached(
                (iri, ext), lambda: self.site.serialize(iri, ext, self.ontology)
            )
        return await self.cached((iri, ext), lambda: self.site.serialize(iri, ext))

    def resource(self, path: str) -> tuple[str, str | None] | None:
        """The IRI a request path names, and the variant extension if the path has one (the
        static release's paths too: `model/llama-2/index.ttl`)."""
        return resolve_path(path, self.base, self.described)

    def described(self, iri: str) -> bool:
        if iri in self.documents:
            return True
        return iri in self.site.out and page_path(iri, self.base.base) is not None

    @functools.cached_property
    def service_description(self) -> list[ox.Triple]:
        service = ox.BlankNode("service")
        dataset = ox.BlankNode("dataset")
        default = ox.BlankNode("default")
        out: list[ox.Triple] = []

        def add(s: ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal) -> None:
            out.append(ox.Triple(s, ox.NamedNode(p), o))

        add(service, RDF + "type", ox.NamedNode(SD + "Service"))
        add(service, SD + "endpoint", ox.NamedNode(f"{self.root}/sparql"))
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


def _copy_store(source: Path, target: Path) -> None:
    """The release's RocksDB store as a private folder: hard links where the file system allows
    (no bytes copied; RocksDB never rewrites a file in place), copies otherwise."""

    def link(src: str, dst: str) -> None:
        try:
            Path(dst).hardlink_to(src)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


# --- HTTP ---------------------------------------------------------------------------------------

_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<code>.*?)</script>", re.DOTALL | re.IGNORECASE)


@functools.lru_cache(maxsize=1024)
def content_security_policy(page: bytes) -> str:
    """The CSP of one of our HTML pages: nothing from elsewhere, no plugins, no framing; inline
    styles; scripts only those inline in the page itself, by hash."""
    hashes = []
    for m in _SCRIPT.finditer(page.decode("utf-8", "replace")):
        attrs = m.group("attrs").lower()
        if "src=" in attrs or "application/json" in attrs:
            continue
        digest = hashlib.sha256(m.group("code").encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    scripts = " ".join(hashes) if hashes else "'none'"
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


class BodyRefused(Exception):
    def __init__(self, status: int, message: str, close: bool) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


class ClientGone(Exception):
    """The client closed the connection before its request was read."""


class KgApp:
    """The ASGI application: routes, the SPARQL protocol, resources, and the common headers."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.config = app.config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off; nothing else is served
            return
        request = Request(scope, receive)
        try:
            response = await self.dispatch(request)
        except ClientGone:
            return
        except Exception as exc:  # a bug: answer, log, keep serving
            print(f"kg serve: {request.method} {request.url.path}: {exc!r}", file=sys.stderr)
            response = self.fail(500, "the server failed on this request")
        for k, v in CORS.items():
            response.headers.setdefault(k, v)
        response.headers["X-Content-Type-Options"] = "nosniff"
        await response(scope, receive, send)

    # --- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def send(
        status: int, body: bytes, media_type: str, headers: dict[str, str] | None = None
    ) -> Response:
        response = Response(body, status, headers)
        response.headers["Content-Type"] = media_type
        if media_type.startswith(("text/html", "image/svg+xml")):  # documents that run scripts
            response.headers["Content-Security-Policy"] = content_security_policy(body)
        return response

    def fail(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        reason = HTTPStatus(status).phrase
        body = f"{status} {reason}: {message}\n".encode()
        return self.send(status, body, "text/plain; charset=utf-8", headers)

    async def read_body(self, request: Request) -> bytes:
        """The request's body, read with a time limit per piece; BodyRefused past the size
        limit (after reading and dropping up to DRAIN_LIMIT bytes, so that the client is not
        cut off while it still sends and sees the answer)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(request.receive(), self.config.idle_timeout)
            except TimeoutError:
                raise BodyRefused(408, "the body did not arrive in time", close=True) from None
            if message["type"] == "http.disconnect":
                raise ClientGone
            piece = message.get("body", b"")
            size += len(piece)
            if size <= self.config.max_body:
                chunks.append(piece)
            elif size > DRAIN_LIMIT:
                break
            if not message.get("more_body", False):
                break
        if size > self.config.max_body:
            raise BodyRefused(
                413,
                f"the body is larger than {self.config.max_body} bytes",
                close=size > DRAIN_LIMIT,
            )
        return b"".join(chunks)

    async def drain(self, request: Request) -> bool:
        """Read and drop a body the server will not use; True when it was read to its end."""
        if not self._has_body(request):
            return True
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > DRAIN_LIMIT:
            return False
        try:
            await self.read_body(request)
        except BodyRefused as exc:
            return exc.status == 413 and not exc.close
        return True

    @staticmethod
    def _has_body(request: Request) -> bool:
        headers = request.headers
        return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"

    def client(self, request: Request) -> str | None:
        """Who asks, for the fair share of workers: the API key's name, or the address.
        None when an API key is given that the server does not know."""
        key = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if key is None and auth[:7].lower() == "bearer ":
            key = auth[7:].strip()
        if key is not None and self.config.api_keys:
            name = self.config.api_keys.get(key)
            return None if name is None else f"key:{name}"
        return f"addr:{request.client.host if request.client else '?'}"

    # --- routes --------------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        host = request.headers.get("host")
        if host is not None and not HOST.fullmatch(host):
            return self.fail(400, "malformed Host header", {"Connection": "close"})
        method = request.method
        if method in ("GET", "HEAD"):
            return await self.get(request)
        if method == "OPTIONS":
            return self.send(204, b"", "text/plain", {"Allow": ALLOW})
        if method == "POST":
            return await self.post(request)
        closing = {} if await self.drain(request) else {"Connection": "close"}
        return self.fail(
            405, f"{method} is not allowed: the server is read-only", {"Allow": ALLOW, **closing}
        )

    async def get(self, request: Request) -> Response:
        path = request.url.path
        if path == "/sparql":
            return await self.sparql(request, _params(request.url.query), None)
        if path in ("/", "/index.html"):
            return self.send(200, self.app.index_page, "text/html; charset=utf-8")
        if path == "/query":
            return self.send(200, self.app.query_page, "text/html; charset=utf-8")
        if path in ("/void.ttl", "/.well-known/void"):
            return self.send(200, await asyncio.to_thread(self.app.void), "text/turtle")
        if path.startswith("/badge/"):
            return await self.badge(path)
        if path.startswith("/dumps/"):
            name = path[len("/dumps/") :]
            file = await asyncio.to_thread(self.app.dump, name)
            if file is None:
                return self.fail(404, f"no dump {name!r} (dumps: {', '.join(DUMP_TYPES)})")
            return FileResponse(file, media_type=DUMP_TYPES[name])
        return await self.resource(request, path)

    async def post(self, request: Request) -> Response:
        headers = request.headers
        if "content-length" not in headers and "transfer-encoding" not in headers:
            return self.fail(411, "a POST needs a Content-Length", {"Connection": "close"})
        if request.url.path != "/sparql":
            closing = {} if await self.drain(request) else {"Connection": "close"}
            return self.fail(
                405, "only /sparql accepts POST", {"Allow": "GET, HEAD, OPTIONS", **closing}
            )
        length = headers.get("content-length")
        if length is not None and int(length) > DRAIN_LIMIT:  # h11 checked it is a number
            return self.fail(
                413,
                f"the body is larger than {self.config.max_body} bytes",
                {"Connection": "close"},
            )
        try:
            body = await self.read_body(request)
        except BodyRefused as exc:
            return self.fail(exc.status, exc.message, {"Connection": "close"} if exc.close else {})
        media = (headers.get("content-type") or "").split(";")[0].strip().lower()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self.fail(400, "the body is not UTF-8")
        params = _params(request.url.query)
        if media == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(text, keep_blank_values=True)
            for k, v in params.items():
                form.setdefault(k, []).extend(v)
            return await self.sparql(request, form, None)
        if media == "application/sparql-query":
            return await self.sparql(request, params, text)
        if media == "application/sparql-update":
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        return self.fail(
            415,
            f"Content-Type {media or '(none)'} is not accepted: send application/sparql-query "
            "or application/x-www-form-urlencoded",
        )

    # --- /sparql -------------------------------------------------------------------------------

    async def sparql(
        self, request: Request, params: dict[str, list[str]], text: str | None
    ) -> Response:
        if "update" in params:
            return self.fail(403, "this endpoint is read-only: SPARQL Update is not accepted")
        queries = params.get("query", [])
        if text is None:
            if not queries:
                return self.service_description(request)
            if len(queries) > 1:
                return self.fail(400, "give exactly one 'query' parameter")
            text = queries[0]
        elif queries:
            return self.fail(400, "the query is in the body: do not also give a 'query' parameter")
        accept = request.headers.get("accept")
        if params.get("format"):
            accept = FORMAT_ALIASES.get(params["format"][0].lower(), params["format"][0])
        query = QueryRequest(
            text,
            accept,
            params.get("default-graph-uri", []),
            params.get("named-graph-uri", []),
        )
        for uri in query.default_graphs + query.named_graphs:
            try:
                ox.NamedNode(uri)
            except ValueError:
                return self.fail(
                    400, f"{uri!r} (default-graph-uri or named-graph-uri) is not an IRI"
                )
        client = self.client(request)
        if client is None:
            return self.fail(401, "unknown API key")
        try:
            response = await self.app.pool.run(client, query)
        except (QueryTimeout, PoolBusy) as exc:
            return self.fail(503, str(exc))
        except WorkerCrashed as exc:
            return self.fail(500, str(exc))
        headers = {"Vary": "Accept"}
        if response.cut:
            headers["X-KG-Results-Truncated"] = str(response.rows)
            headers["X-KG-Results-Truncated-By"] = response.cut
        if response.status >= 400:
            reason = HTTPStatus(response.status).phrase
            body = f"{response.status} {reason}: ".encode() + response.body
            return self.send(response.status, body, response.media_type, headers)
        return self.send(response.status, response.body, response.media_type, headers)

    def service_description(self, request: Request) -> Response:
        chosen = negotiate(request.headers.get("accept"), {**GRAPH_TYPES, "text/html": "html"})
        if chosen is None:
            return self.fail(406, "the service description is offered as RDF (Turtle, …)")
        fmt, media = chosen
        if fmt == "html":
            return self.send(303, b"", "text/plain", {"Location": "query", "Vary": "Accept"})
        triples = self.app.service_description
        body = serialize_graph(triples, fmt, {"sd": SD, "formats": FORMATS_NS})
        return self.send(200, body, media, {"Vary": "Accept"})

    async def badge(self, path: str) -> Response:
        """A model's openness badge, or its badge under one definition (kg.outputs.badges), at
        the static release's URL."""
        image = await asyncio.to_thread(self.app.badges.svg_at, path)
        if image is None:
            return self.fail(404, f"no badge at {path}")
        return self.send(200, image.encode(), "image/svg+xml")

    # --- resources -----------------------------------------------------------------------------

    async def resource(self, request: Request, path: str) -> Response:
        found = self.app.resource(path)
        if found is None:
            return self.fail(404, f"nothing is described at {path}")
        iri, ext = found
        headers: dict[str, str] = {"Link": link_header(iri, self.app.base)}
        if ext is None:  # the IRI itself: the variant by content negotiation
            headers["Vary"] = "Accept"
            chosen = negotiate(request.headers.get("accept"), RESOURCE_TYPES)
            if chosen is None:
                offered = ", ".join(dict.fromkeys(RESOURCE_TYPES))
                return self.fail(406, f"{iri} is described as {offered}", headers)
            ext = chosen[0]
            headers["Content-Location"] = f"{iri.rsplit('/', 1)[-1]}.{ext}"
        headers["ETag"] = f'"{self.app.build_id}-{ext}"'
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(b"", 304, headers)
        if ext == "html":
            return self.send(200, await self.app.page(iri), "text/html; charset=utf-8", headers)
        media = VARIANTS[ext][1]
        return self.send(200, await self.app.resource_rdf(iri, ext), media, headers)


def _params(query: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(query, keep_blank_values=True)


# --- the server ---------------------------------------------------------------------------------


class Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's head: a connection that
    sends no complete request line and headers within `head_timeout` seconds of opening (or of
    its last answer) is closed, so that silent or trickling connections do not pile up."""

    head_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired)

    def _disarm(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _head_expired(self) -> None:
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._waiting_for_head():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._waiting_for_head():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def bind(config: ServeConfig) -> socket.socket:
    """The listening socket, bound before anything else starts, so that a taken port fails at
    once (and workers can check they cannot reach it)."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    # IPPROTO_TCP named, so that asyncio turns Nagle's algorithm off on every connection (it
    # checks the protocol number; with Nagle on, an answer written as head and body waited for
    # the client's delayed ACK: about 40 ms a request on a keep-alive connection)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        raise KgError(
            f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
        ) from None
    return sock


def serve(release: Path, config: ServeConfig) -> None:
    """Serve `release` until interrupted (Ctrl-C or SIGTERM: a graceful shutdown)."""
    root = public_root(config.public_url) if config.public_url else None
    sock = bind(config)
    host, port = sock.getsockname()[:2]
    config.port = port
    listen = f"[{host}]" if ":" in host else host
    if root is None:
        root = f"http://{listen}:{port}"
        if host in ("0.0.0.0", "::"):
            print(
                f"kg serve: absolute URLs name {root}; give --public-url (or $KG_PUBLIC_URL) "
                "with the URL clients use",
                file=sys.stderr,
            )
    try:
        app = Application(release, config, root)
    except BaseException:
        sock.close()
        raise
    protocol = type("Protocol", (Protocol,), {"head_timeout": config.idle_timeout})
    server = uvicorn.Server(
        uvicorn.Config(
            KgApp(app),
            lifespan="off",
            http=protocol,
            ws="none",
            interface="asgi3",
            backlog=config.backlog,
            limit_concurrency=config.max_connections,
            timeout_keep_alive=max(1, int(config.idle_timeout)),
            timeout_graceful_shutdown=max(1, math.ceil(config.time_limit)) + 1,
            h11_max_incomplete_event_size=64 * 1024,  # request line and headers
            proxy_headers=False,
            server_header=False,
            access_log=not config.quiet,
            log_level="warning" if config.quiet else "info",
        )
    )
    # uvicorn handles SIGINT and SIGTERM while it serves (stop accepting, finish what is in
    # flight), then raises the signal again: this handler turns SIGTERM into the same unwinding
    # as Ctrl-C, so that the workers stop and the private copy of the data is removed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sock.listen(config.backlog)  # connections queue from now on, before uvicorn accepts
        print(
            f"Serving release {app.build_id} at http://{listen}:{port}/ (SPARQL: /sparql; "
            f"public URL {root}/; query workers: {app.pool.isolation or 'no network isolation'})",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            server.run(sockets=[sock])
    finally:
        sock.close()
        app.close()
