"""`kg publish --out DIR`: a static linked-open-data release of the current build.

The release holds the dataset in several serialisations, a VoID and DCAT 3 description, and the
build's reports and figures. It is deterministic (the same build and `--issued` date give the
same bytes) and replaces a previous release in DIR only once it is complete.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError
from kg.outputs import hosting
from kg.outputs.badges import Badges
from kg.outputs.linked import (
    CONTEXT,
    DCAT,
    FOAF,
    LICENSE,
    VOID,
    context,
    release_date,
    static_path,
    write_resources,
)
from kg.outputs.overview import OVERVIEW_FOLDED, Folded, write_home
from kg.outputs.pages import Site
from kg.outputs.templating import render
from kg.release.release import Release
from kg.vocab.namespaces import DCTERMS, GAO, ONTOLOGY_IRI, PREFIXES, RDF, RDFS, XSD, Base

# file name -> (format, media type, whole dataset with graphs?)
DUMPS = {
    "dataset.trig": (ox.RdfFormat.TRIG, "application/trig", True),
    "dataset.nq": (ox.RdfFormat.N_QUADS, "application/n-quads", True),
    "dataset.nt.gz": (ox.RdfFormat.N_TRIPLES, "application/n-triples", False),
    "dataset.ttl": (ox.RdfFormat.TURTLE, "text/turtle", False),
    "dataset.jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json", True),
    "dataset.rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml", False),
}


def _triples(quads: list[ox.Quad]) -> list[ox.Triple]:
    seen: dict[str, ox.Triple] = {}
    for q in quads:
        t = ox.Triple(q.subject, q.predicate, q.object)
        seen.setdefault(str(t), t)
    return [seen[k] for k in sorted(seen)]


def write_dumps(quads: list[ox.Quad], folder: Path, prefixes: dict[str, str]) -> None:
    """Write every dump of `DUMPS` into `folder` (pyoxigraph ignores prefixes where a syntax has
    none, so every dump gets the same ones)."""
    folder.mkdir(parents=True, exist_ok=True)
    triples = _triples(quads)
    for name, (fmt, _media, with_graphs) in DUMPS.items():
        body = ox.serialize(quads if with_graphs else triples, format=fmt, prefixes=prefixes)
        assert body is not None  # without an output, serialize returns the bytes
        if name.endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
                gz.write(body)
            body = buf.getvalue()
        (folder / name).write_bytes(body)


# External datasets the graph links to: IRI prefix -> (slug, title, the dataset's home page).
LINK_TARGETS: dict[str, tuple[str, str, str]] = {
    "http://www.wikidata.org/entity/": ("wikidata", "Wikidata", "https://www.wikidata.org/"),
    "http://spdx.org/licenses/": ("spdx", "SPDX License List", "https://spdx.org/licenses/"),
    "https://w3id.org/dpv": ("dpv", "Data Privacy Vocabulary (DPV)", "https://w3id.org/dpv"),
    "https://w3id.org/airo": ("airo", "AI Risk Ontology (AIRO)", "https://w3id.org/airo"),
    "https://w3id.org/vair": ("vair", "Vocabulary of AI Risks (VAIR)", "https://w3id.org/vair"),
    "http://data.europa.eu/eli/": (
        "eli",
        "European Legislation Identifier",
        "http://data.europa.eu/eli/",
    ),
    "https://www.federalregister.gov/": (
        "federal-register",
        "Federal Register",
        "https://www.federalregister.gov/",
    ),
    "https://arxiv.org/abs/": ("arxiv", "arXiv", "https://arxiv.org/"),
}
PUBLISHER = "GenAI Openness Knowledge Graph contributors"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
DATASET_DESCRIPTION = (
    "How open the parts of 40 generative AI models are, with the licenses, risks, "
    "opportunities, claims, evidence and regulations around them, transcribed from "
    "Eiras et al. (arXiv:2404.17047) with provenance."
)
EXAMPLE_RESOURCES = (
    "model/llama-2",
    "license/apache-2-0",
    "claim/claim-1-closed-models-stronger-safeguards",
)
MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


def _local(iri: str) -> str:
    """A slug for a class or property IRI: `gao-AIModel`, `rdfs-label`."""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}-{iri[len(ns) :]}"
    return "".join(c if c.isalnum() else "-" for c in iri.split("://", 1)[-1]).strip("-")


def void_description(
    base: Base,
    manifest: dict[str, Any],
    quads: Iterable[ox.Quad],
    issued: str,
    site: str,
    sparql: str | None,
    *,
    modified: str | None = None,
    contact: str | None = None,
) -> list[ox.Triple]:
    """The VoID and DCAT 3 description of the release: the dataset (publisher, contact point,
    landing page, license, version, issued and modified dates), its dumps, the SPARQL endpoint as
    a dcat:DataService, one subset per named graph, class and property partitions, and a
    linkset per external dataset and link predicate. `modified` is the build's date (never the
    request's); `site` the URL the release is served at; `contact` a URL or mailto: address."""
    site = site if site.endswith("/") else site + "/"
    stats = _QuadStats.count(quads, base.graph("ontology").value)
    out = [
        *_dataset(base, manifest, issued, site, modified, contact),
        *(_service(base, sparql) if sparql else ()),
        *_distributions(base, site),
        *_partitions(base, stats),
        *_linksets(base, stats),
    ]
    return sorted(set(out), key=str)


def _t(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
    return ox.Triple(s, ox.NamedNode(p), o)


def _typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def _dataset_iri(base: Base) -> ox.NamedNode:
    return ox.NamedNode(base.base + "dataset")


def _node(base: Base, *parts: str) -> ox.NamedNode:
    """A node of the description: `{base}dataset/{parts joined by /}`."""
    return ox.NamedNode(base.base + "dataset/" + "/".join(parts))


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def _dataset(
    base: Base,
    manifest: dict[str, Any],
    issued: str,
    site: str,
    modified: str | None,
    contact: str | None,
) -> list[ox.Triple]:
    """The dataset itself: titles, license, dates, version, pages, publisher, contact, URIs."""
    ds = _dataset_iri(base)
    title = _en("GenAI openness knowledge graph")
    out = [
        _t(ds, RDF + "type", ox.NamedNode(VOID + "Dataset")),
        _t(ds, RDF + "type", ox.NamedNode(DCAT + "Dataset")),
        _t(ds, RDFS + "label", title),
        _t(ds, DCTERMS + "title", title),
        _t(ds, DCTERMS + "description", _en(DATASET_DESCRIPTION)),
        _t(ds, DCTERMS + "license", ox.NamedNode(LICENSE)),
        _t(ds, DCTERMS + "source", ox.NamedNode("https://arxiv.org/abs/2404.17047")),
        _t(ds, DCTERMS + "issued", _typed(issued, "date")),
    ]
    if modified:
        out.append(_t(ds, DCTERMS + "modified", _typed(modified, "date")))
    out += [
        _t(ds, DCAT + "version", ox.Literal(f"{__version__}+{manifest['build_id']}")),
        _t(ds, DCAT + "landingPage", ox.NamedNode(site)),
        _t(ds, FOAF + "homepage", ox.NamedNode(site)),
        _t(ds, VOID + "uriSpace", ox.Literal(base.base)),
        _t(ds, VOID + "vocabulary", ox.NamedNode(GAO)),
        _t(ds, VOID + "rootResource", ox.NamedNode(ONTOLOGY_IRI)),
    ]
    out += [
        _t(ds, VOID + "exampleResource", ox.NamedNode(base.base + e)) for e in EXAMPLE_RESOURCES
    ]
    return out + _publisher(base, site, contact)


def _publisher(base: Base, site: str, contact: str | None) -> list[ox.Triple]:
    """The publisher (a foaf:Organization) and the contact point (a vcard:Organization)."""
    ds = _dataset_iri(base)
    publisher = _node(base, "publisher")
    contact_node = _node(base, "contact")
    if contact and contact.startswith("mailto:"):
        reach = _t(contact_node, VCARD + "hasEmail", ox.NamedNode(contact))
    else:
        reach = _t(contact_node, VCARD + "hasURL", ox.NamedNode(contact or site))
    return [
        _t(ds, DCTERMS + "publisher", publisher),
        _t(publisher, RDF + "type", ox.NamedNode(FOAF + "Organization")),
        _t(publisher, FOAF + "name", ox.Literal(PUBLISHER)),
        _t(publisher, RDFS + "label", _en(PUBLISHER)),
        _t(publisher, FOAF + "homepage", ox.NamedNode(site)),
        _t(ds, DCAT + "contactPoint", contact_node),
        _t(contact_node, RDF + "type", ox.NamedNode(VCARD + "Organization")),
        _t(contact_node, VCARD + "fn", ox.Literal(PUBLISHER)),
        _t(contact_node, RDFS + "label", _en(f"Contact: {PUBLISHER}")),
        reach,
    ]


def _service(base: Base, sparql: str) -> list[ox.Triple]:
    """The SPARQL endpoint: a dcat:DataService and a distribution accessed through it."""
    ds = _dataset_iri(base)
    service = _node(base, "sparql-service")
    dist = _node(base, "distribution", "sparql")
    return [
        _t(ds, VOID + "sparqlEndpoint", ox.NamedNode(sparql)),
        _t(service, RDF + "type", ox.NamedNode(DCAT + "DataService")),
        _t(service, DCTERMS + "title", _en("SPARQL endpoint")),
        _t(service, RDFS + "label", _en("SPARQL endpoint")),
        _t(service, DCAT + "endpointURL", ox.NamedNode(sparql)),
        _t(service, DCTERMS + "conformsTo", ox.NamedNode(SPARQL_PROTOCOL)),
        _t(service, DCAT + "servesDataset", ds),
        _t(service, DCTERMS + "license", ox.NamedNode(LICENSE)),
        _t(ds, DCAT + "distribution", dist),
        _t(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution")),
        _t(dist, DCAT + "accessURL", ox.NamedNode(sparql)),
        _t(dist, DCAT + "accessService", service),
        _t(dist, DCTERMS + "license", ox.NamedNode(LICENSE)),
    ]


def _distributions(base: Base, site: str) -> list[ox.Triple]:
    """One dcat:Distribution (and void:dataDump) per file of `DUMPS`."""
    ds = _dataset_iri(base)
    out: list[ox.Triple] = []
    for name, (_fmt, media, _g) in DUMPS.items():
        dist = _node(base, "distribution", name)
        url = ox.NamedNode(f"{site}dumps/{name}")
        out += [
            _t(ds, DCAT + "distribution", dist),
            _t(ds, VOID + "dataDump", url),
            _t(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution")),
            _t(dist, DCAT + "downloadURL", url),
            _t(dist, DCAT + "accessURL", url),
            _t(dist, DCAT + "mediaType", ox.NamedNode(f"{MEDIA_TYPES}{media}")),
            _t(dist, DCTERMS + "format", ox.Literal(media)),
            _t(dist, DCTERMS + "license", ox.NamedNode(LICENSE)),
        ]
        if name.endswith(".gz"):
            gzip_type = ox.NamedNode(f"{MEDIA_TYPES}application/gzip")
            out.append(_t(dist, DCAT + "compressFormat", gzip_type))
    return out


@dataclass
class _QuadStats:
    """What one pass over the quads finds: triples per graph, distinct triples, statements per
    property, members per class, links per (external dataset prefix, predicate)."""

    graphs: Counter[str] = field(default_factory=Counter)
    properties: Counter[str] = field(default_factory=Counter)
    members: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    links: Counter[tuple[str, str]] = field(default_factory=Counter)
    seen: set[tuple[str, str, str]] = field(default_factory=set)

    @classmethod
    def count(cls, quads: Iterable[ox.Quad], ontology_graph: str) -> _QuadStats:
        """Links from the ontology graph are the ontology's, not the data's: not counted."""
        stats = cls()
        for q in quads:
            in_graph = q.graph_name
            if isinstance(in_graph, ox.DefaultGraph):
                raise ValueError(f"only quads in named graphs are described, not {q}")
            stats.graphs[in_graph.value] += 1
            key = (str(q.subject), q.predicate.value, str(q.object))
            if key in stats.seen:
                continue
            stats.seen.add(key)
            stats.properties[q.predicate.value] += 1
            if q.predicate.value == RDF + "type" and not isinstance(q.object, ox.Triple):
                stats.members[q.object.value].add(str(q.subject))
            elif isinstance(q.object, ox.NamedNode) and in_graph.value != ontology_graph:
                for prefix in LINK_TARGETS:
                    if q.object.value.startswith(prefix):
                        stats.links[(prefix, q.predicate.value)] += 1
                        break
        return stats


def _partitions(base: Base, stats: _QuadStats) -> list[ox.Triple]:
    """The dataset's counts, one subset per named graph, class and property partitions."""
    ds = _dataset_iri(base)
    out = [
        _t(ds, VOID + "triples", _typed(len(stats.seen), "integer")),
        _t(ds, VOID + "distinctSubjects", _typed(len({k[0] for k in stats.seen}), "integer")),
        _t(ds, VOID + "properties", _typed(len(stats.properties), "integer")),
        _t(ds, VOID + "classes", _typed(len(stats.members), "integer")),
    ]
    for graph, n in sorted(stats.graphs.items()):
        sub = ox.NamedNode(graph)
        out += [
            _t(ds, VOID + "subset", sub),
            _t(sub, RDF + "type", ox.NamedNode(VOID + "Dataset")),
            _t(sub, VOID + "triples", _typed(n, "integer")),
            _t(sub, RDFS + "seeAlso", ox.NamedNode(base.base + "graph/metadata")),
        ]
    for cls, subjects in sorted(stats.members.items()):
        out += _partition(
            base, "class", cls, f"Instances of {_local(cls)}", "entities", len(subjects)
        )
    for prop, n in sorted(stats.properties.items()):
        out += _partition(base, "property", prop, f"Statements with {_local(prop)}", "triples", n)
    return out


def _partition(base: Base, kind: str, iri: str, label: str, count: str, n: int) -> list[ox.Triple]:
    """A void:classPartition (`kind` "class") or void:propertyPartition ("property") of the
    dataset, with its size as void:entities or void:triples (`count`)."""
    part = _node(base, kind, _local(iri))
    return [
        _t(_dataset_iri(base), VOID + f"{kind}Partition", part),
        _t(part, RDF + "type", ox.NamedNode(VOID + "Dataset")),
        _t(part, RDFS + "label", _en(label)),
        _t(part, VOID + kind, ox.NamedNode(iri)),
        _t(part, VOID + count, _typed(n, "integer")),
    ]


def _linksets(base: Base, stats: _QuadStats) -> list[ox.Triple]:
    """One void:Linkset per external dataset and link predicate, and the external datasets."""
    ds = _dataset_iri(base)
    out: list[ox.Triple] = []
    for (prefix, prop), n in sorted(stats.links.items()):
        slug, title, home = LINK_TARGETS[prefix]
        target = _node(base, "external", slug)
        linkset = _node(base, "linkset", f"{slug}-{_local(prop)}")
        out += [
            _t(ds, VOID + "subset", linkset),
            _t(linkset, RDF + "type", ox.NamedNode(VOID + "Linkset")),
            _t(linkset, RDFS + "label", _en(f"Links to {title} by {_local(prop)}")),
            _t(linkset, VOID + "subjectsTarget", ds),
            _t(linkset, VOID + "objectsTarget", target),
            _t(linkset, VOID + "linkPredicate", ox.NamedNode(prop)),
            _t(linkset, VOID + "triples", _typed(n, "integer")),
            _t(target, RDF + "type", ox.NamedNode(VOID + "Dataset")),
            _t(target, RDFS + "label", _en(title)),
            _t(target, FOAF + "homepage", ox.NamedNode(home)),
            _t(target, VOID + "uriSpace", ox.Literal(prefix)),
        ]
    return out


def dumps_page() -> str:
    """The dumps folder's page: a link to each file, so that no host needs a folder listing."""
    dumps = [{"name": name, "media": media} for name, (_f, media, _g) in DUMPS.items()]
    return render("dumps.html.j2", dumps=dumps)


def ontology_html(path: Path) -> str:
    """Ontology documentation generated with pyLODE, its blank-node ids renumbered in order of
    appearance (pyLODE's member order inside class expressions may still vary between runs)."""
    import logging
    import re

    root = logging.getLogger()
    level = root.level
    try:
        from pylode import OntPub

        root.setLevel(logging.WARNING)
        page = OntPub(ontology=str(path)).make_html()
    finally:
        root.setLevel(level)
    ids: dict[str, str] = {}
    return re.sub(
        r"\bn[0-9a-f]{32}b\d+\b",
        lambda m: ids.setdefault(m.group(0), f"bnode-{len(ids) + 1}"),
        page,
    )


def publish(
    release: Release,
    target: Path,
    issued: str,
    site: str | None = None,
    sparql: str | None = None,
    contact: str | None = None,
) -> Path:
    """Write a complete release into `target`, replacing the previous one only at the end."""
    manifest = release.manifest
    base = release.base
    public = site or base.base
    public = public if public.endswith("/") else public + "/"
    store = release.open_store()
    quads = list(release.sorted_quads(store))
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    staging.chmod(0o755)  # a static host must be able to read it
    try:
        prefixes = base.prefixes(with_base=False)
        write_dumps(quads, staging / "dumps", prefixes)
        ontology_file = release.dumps / "ontology.ttl"
        shutil.copy2(ontology_file, staging / "dumps" / "ontology.ttl")
        shutil.copy2(ontology_file, staging / "ontology.ttl")  # the old link: the whole ontology
        built = release_date(release.path)
        description = void_description(
            base, manifest, quads, issued, public, sparql, modified=built, contact=contact
        )
        void_prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT, "foaf": FOAF}
        ox.serialize(
            description, str(staging / "void.ttl"), ox.RdfFormat.TURTLE, prefixes=void_prefixes
        )
        (staging / CONTEXT).write_text(
            json.dumps(context(base), indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        ontology = list(ox.parse(path=str(ontology_file), format=ox.RdfFormat.TURTLE))
        badges = Badges(store, base)
        pages = Site(store, base, folders=True, badges=badges)
        written = write_resources(
            pages,
            staging,
            base,
            ontology,
            ontology_html(ontology_file),
            base.base + CONTEXT,
        )
        links = [
            ("ontology/", "ontology"),
            ("void.ttl", "VoID/DCAT description"),
            ("dumps/", "dumps"),
        ]
        write_home(pages, staging, links, Folded.read(release.path / OVERVIEW_FOLDED))
        (staging / "dumps" / "index.html").write_text(dumps_page(), encoding="utf-8")
        for iri, openness in sorted(badges.all().items()):
            image, path = badges.image(openness), badges.path(iri)
            if image is not None and path is not None:
                (staging / path).parent.mkdir(parents=True, exist_ok=True)
                (staging / path).write_text(image, encoding="utf-8")
        for verdict in badges.verdicts():  # one per model and definition
            path = badges.verdict_path(verdict)
            if path is not None:
                (staging / path).parent.mkdir(parents=True, exist_ok=True)
                (staging / path).write_text(badges.verdict_image(verdict), encoding="utf-8")
        paths = [f"{static_path(iri, base)}/" for iri in written]
        files = {
            ".htaccess": hosting.htaccess(public),
            "nginx.conf": hosting.nginx(public),
            "_redirects": hosting.redirects(public, sparql),
            "_headers": hosting.headers(public),
            "robots.txt": hosting.robots(public),
            "sitemap.xml": hosting.sitemap(public, paths, built),
        }
        if public != base.base:  # w3id.org's rules send the base's IRIs to the site
            files["w3id.htaccess"] = hosting.w3id_htaccess(base.base, public)
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        for folder in ("reports", "figures"):
            if (release.path / folder).is_dir():
                shutil.copytree(release.path / folder, staging / folder)
        old = None
        if target.exists():
            if not (target / "void.ttl").exists() and any(target.iterdir()):
                raise KgError(
                    f"{target} exists and is not a previous release (no void.ttl); "
                    "refusing to replace it"
                )
            old = target.with_name(f".{target.name}.old-{staging.name.rsplit('-', 1)[-1]}")
            target.rename(old)
        staging.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
