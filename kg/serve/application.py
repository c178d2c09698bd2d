"""What `kg serve` holds: the release's data (a private copy), the pages and descriptions made
from it (cached), the overview, and the pool of query workers."""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import functools
import html
import json
import math
import os
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.errors import KgError
from kg.outputs.badges import Badges
from kg.outputs.compare import page as compare_page
from kg.outputs.linked import (
    DCAT,
    FOAF,
    VOID,
    described_triples,
    document_iri,
    release_date,
    resolve_path,
    serialize,
)
from kg.outputs.overview import OVERVIEW_FOLDED, Folded, Overview, Selection
from kg.outputs.pages import VARIANTS, Site, page_path
from kg.outputs.site import DUMPS, ontology_html, void_description, write_dumps
from kg.release.release import Release, quad_key
from kg.serve.config import ServeConfig, check_store
from kg.serve.protocol import serialize_graph, without_header
from kg.serve.workers import WorkerPool, WorkerSettings, WorkerStartError
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
FORMATS_NS = "http://www.w3.org/ns/formats/"
PAGE_CACHE = 4096  # resource pages and RDF variants kept rendered


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
        self._tmp = _private_folder(release)
        try:
            self._load(release, dataset, manifest)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise

    def _load(self, release: Path, dataset: Path, manifest: dict[str, Any]) -> None:
        config = self.config
        copy = self._tmp / "dataset.nq"
        _link_or_copy(str(dataset), str(copy))
        store = release / "store"
        self.store_kind = check_store(config.store, store.is_dir())
        if store.is_dir():  # this process reads the pages' data from the store, never a copy
            store_copy = self._tmp / "store"
            _copy_store(store, store_copy)
            raw = ox.Store.read_only(str(store_copy))
        else:
            raw = ox.Store()
            raw.bulk_load(path=str(copy), format=ox.RdfFormat.N_QUADS)
        on_disk = self.store_kind == "disk"
        worker_data = str(store_copy) if on_disk else str(copy)
        self.store = OxigraphStore(raw, read_only=store.is_dir())
        self.badges = Badges(self.store, self.base)
        self.built = release_date(release)  # the VoID's dcterms:modified: the build's day
        self.site = Site(
            self.store, self.base, nav=[("query", "Query")], badges=self.badges, lazy=True
        )
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
        self.graphs = [  # the named graphs that hold statements
            g.value
            for g in self.store.graph_names()
            if next(raw.quads_for_pattern(None, None, None, g), None) is not None
        ]
        self._cache: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()
        self._ontology_html: bytes | None = None
        self._void: tuple[str, bytes] | None = None
        self._lock = threading.Lock()
        # what the build folded of the overview's questions, asked again only for a release
        # built before it was kept (decision 32)
        self.overview = Overview(self.site, Folded.read(release / OVERVIEW_FOLDED))
        self.overview_data = self.overview.data()
        self.search_data = self.overview.search_data()
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
                shared=self.store_kind == "shared",
                graphs=manifest["graphs"] if self.store_kind == "shared" else None,
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
        """The query page (kg/serve/query.html) with the library's questions, their parameters
        and the graph's prefixes, declared in the query it starts with."""
        examples = [
            {
                "name": q.name,
                "title": q.title,
                "description": q.description,
                "text": without_header(q.text),
                "parameters": [
                    {
                        "name": p.name,
                        "type": p.type,
                        "required": p.required,
                        "description": p.description,
                        "example": p.example or p.default or "",
                        "lang": p.lang or "",
                    }
                    for p in q.parameters
                ],
            }
            for q in library()
        ]
        prefixes = dict(sorted(self.site.base_prefixes().items()))
        start = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())
        example = (Path(__file__).parent / "query-start.rq").read_text(encoding="utf-8")
        start += "".join(line + "\n" for line in example.splitlines() if not line.startswith("#"))

        def data(value: object) -> str:
            return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")

        template = (Path(__file__).parent / "query.html").read_text(encoding="utf-8")
        page = template.replace("__LIBRARY__", data(examples)).replace(
            "__PREFIXES__", data(prefixes)
        )
        return page.replace("__START__", html.escape(start)).encode()

    def compare(self, query: str) -> tuple[int, bytes]:
        """The compare view of the models the query string names (`model=…`, 2 to 5)."""
        asked = urllib.parse.parse_qs(query, keep_blank_values=True).get("model", [])[:20]
        status, page = compare_page(self.site, asked, self.names, [("query", "Query")])
        return status, page.encode()

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """Models by their folded labels and aliases, for the compare view's form."""
        out: dict[str, str] = {}
        for row in self.overview.rows:
            for name in (row.name, *sorted(row.aliases)):
                out.setdefault(name.casefold(), row.iri)
        return out

    def _index_page(self) -> bytes:
        links = self._home_links()
        return self.site.index(links, self.overview.view(), compare_action="compare").encode()

    def _home_links(self) -> list[tuple[str, str]]:
        return [
            ("query", "SPARQL query page"),
            ("sparql", "SPARQL endpoint (/sparql)"),
            ("void.ttl", "VoID/DCAT description"),
            *((f"dumps/{name}", name) for name in DUMP_TYPES),
        ]

    def home(self, query: str) -> bytes:
        """The home page for a query string (`?q=…&developer=…&page=2`): the server's answer
        to the search form, so that it works without JavaScript."""
        selection = Selection.from_params(urllib.parse.parse_qs(query, keep_blank_values=True))
        if selection == Selection():
            return self.index_page
        links = self._home_links()
        view = self.overview.view(selection)
        return self.site.index(links, view, compare_action="compare").encode()

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
        media = VARIANTS[ext][1]
        return await self.cached(
            (iri, ext),
            lambda: serialize(
                self.site,
                described_triples(
                    self.site, iri, document_iri(iri, ext, self.base), media, self.base
                ),
                ext,
            ),
        )

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


def _private_folder(release: Path) -> Path:
    """A new temporary folder on the release's file system if the system's temporary folder is
    elsewhere (such as a tmpfs), so that the private copies are hard links rather than bytes."""
    tmp = Path(tempfile.gettempdir())
    outside = release.resolve().parent.parent  # the output folder, beside `releases/`
    try:
        if tmp.stat().st_dev != release.stat().st_dev and os.access(outside, os.W_OK):
            return Path(tempfile.mkdtemp(prefix=".kg-serve-", dir=outside))
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="kg-serve-"))


def _link_or_copy(src: str, dst: str) -> None:
    """A private copy of a release's file: a hard link where the file system allows (no bytes
    copied; a release's files are never rewritten in place), a copy otherwise."""
    try:
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


def _copy_store(source: Path, target: Path) -> None:
    """The release's RocksDB store as a private folder (hard links where possible: RocksDB never
    rewrites a file in place)."""
    shutil.copytree(source, target, copy_function=_link_or_copy)
