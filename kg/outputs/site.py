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
from kg.outputs.pages import Site
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


def _local(iri: str) -> str:
    """A slug for a class or property IRI: `gao-AIModel`, `rdfs-label`."""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns):
            return f"{prefix}-{iri[len(ns) :]}"
    return "".join(c if c.isalnum() else "-" for c in iri.split("://", 1)[-1]).strip("-")


def describe(
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
    ds = ox.NamedNode(base.base + "dataset")
    site = site if site.endswith("/") else site + "/"
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    def node(*parts: str) -> ox.NamedNode:
        return ox.NamedNode(base.base + "dataset/" + "/".join(parts))

    def typed(v: object, t: str) -> ox.Literal:
        return ox.Literal(str(v), datatype=ox.NamedNode(XSD + t))

    add(ds, RDF + "type", ox.NamedNode(VOID + "Dataset"))
    add(ds, RDF + "type", ox.NamedNode(DCAT + "Dataset"))
    add(ds, RDFS + "label", ox.Literal("GenAI openness knowledge graph", language="en"))
    add(ds, DCTERMS + "title", ox.Literal("GenAI openness knowledge graph", language="en"))
    add(
        ds,
        DCTERMS + "description",
        ox.Literal(
            "How open the parts of 40 generative AI models are, with the licenses, risks, "
            "opportunities, claims, evidence and regulations around them, transcribed from "
            "Eiras et al. (arXiv:2404.17047) with provenance.",
            language="en",
        ),
    )
    add(ds, DCTERMS + "license", ox.NamedNode(LICENSE))
    add(ds, DCTERMS + "source", ox.NamedNode("https://arxiv.org/abs/2404.17047"))
    add(ds, DCTERMS + "issued", typed(issued, "date"))
    if modified:
        add(ds, DCTERMS + "modified", typed(modified, "date"))
    add(ds, DCAT + "version", ox.Literal(f"{__version__}+{manifest['build_id']}"))
    add(ds, DCAT + "landingPage", ox.NamedNode(site))
    add(ds, FOAF + "homepage", ox.NamedNode(site))
    publisher = node("publisher")
    add(ds, DCTERMS + "publisher", publisher)
    add(publisher, RDF + "type", ox.NamedNode(FOAF + "Organization"))
    add(publisher, FOAF + "name", ox.Literal(PUBLISHER))
    add(publisher, RDFS + "label", ox.Literal(PUBLISHER, language="en"))
    add(publisher, FOAF + "homepage", ox.NamedNode(site))
    contact_node = node("contact")
    add(ds, DCAT + "contactPoint", contact_node)
    add(contact_node, RDF + "type", ox.NamedNode(VCARD + "Organization"))
    add(contact_node, VCARD + "fn", ox.Literal(PUBLISHER))
    add(contact_node, RDFS + "label", ox.Literal(f"Contact: {PUBLISHER}", language="en"))
    if contact and contact.startswith("mailto:"):
        add(contact_node, VCARD + "hasEmail", ox.NamedNode(contact))
    else:
        add(contact_node, VCARD + "hasURL", ox.NamedNode(contact or site))
    add(ds, VOID + "uriSpace", ox.Literal(base.base))
    add(ds, VOID + "vocabulary", ox.NamedNode(GAO))
    add(ds, VOID + "rootResource", ox.NamedNode(ONTOLOGY_IRI))
    for example in (
        "model/llama-2",
        "license/apache-2-0",
        "claim/claim-1-closed-models-stronger-safeguards",
    ):
        add(ds, VOID + "exampleResource", ox.NamedNode(base.base + example))
    if sparql:
        add(ds, VOID + "sparqlEndpoint", ox.NamedNode(sparql))
        service = node("sparql-service")
        add(service, RDF + "type", ox.NamedNode(DCAT + "DataService"))
        add(service, DCTERMS + "title", ox.Literal("SPARQL endpoint", language="en"))
        add(service, RDFS + "label", ox.Literal("SPARQL endpoint", language="en"))
        add(service, DCAT + "endpointURL", ox.NamedNode(sparql))
        add(service, DCTERMS + "conformsTo", ox.NamedNode(SPARQL_PROTOCOL))
        add(service, DCAT + "servesDataset", ds)
        add(service, DCTERMS + "license", ox.NamedNode(LICENSE))
        dist = node("distribution", "sparql")
        add(ds, DCAT + "distribution", dist)
        add(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution"))
        add(dist, DCAT + "accessURL", ox.NamedNode(sparql))
        add(dist, DCAT + "accessService", service)
        add(dist, DCTERMS + "license", ox.NamedNode(LICENSE))
    for name, (_fmt, media, _g) in DUMPS.items():
        dist = node("distribution", name)
        url = ox.NamedNode(f"{site}dumps/{name}")
        add(ds, DCAT + "distribution", dist)
        add(ds, VOID + "dataDump", url)
        add(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution"))
        add(dist, DCAT + "downloadURL", url)
        add(dist, DCAT + "accessURL", url)
        add(
            dist,
            DCAT + "mediaType",
            ox.NamedNode(f"https://www.iana.org/assignments/media-types/{media}"),
        )
        add(dist, DCTERMS + "format", ox.Literal(media))
        add(dist, DCTERMS + "license", ox.NamedNode(LICENSE))
        if name.endswith(".gz"):
            add(
                dist,
                DCAT + "compressFormat",
                ox.NamedNode("https://www.iana.org/assignments/media-types/application/gzip"),
            )
    # One pass over the quads: graphs, classes, properties, links to other datasets.
    graphs: Counter[str] = Counter()
    properties: Counter[str] = Counter()
    members: dict[str, set[str]] = defaultdict(set)
    links: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str, str]] = set()
    ontology_graph = base.graph("ontology").value
    for q in quads:
        in_graph = q.graph_name
        if isinstance(in_graph, ox.DefaultGraph):
            raise ValueError(f"only quads in named graphs are described, not {q}")
        graphs[in_graph.value] += 1
        key = (str(q.subject), q.predicate.value, str(q.object))
        if key in seen:
            continue
        seen.add(key)
        properties[q.predicate.value] += 1
        if q.predicate.value == RDF + "type" and not isinstance(q.object, ox.Triple):
            members[q.object.value].add(str(q.subject))
        elif isinstance(q.object, ox.NamedNode) and in_graph.value != ontology_graph:
            for prefix in LINK_TARGETS:
                if q.object.value.startswith(prefix):
                    links[(prefix, q.predicate.value)] += 1
                    break
    add(ds, VOID + "triples", typed(len(seen), "integer"))
    add(ds, VOID + "distinctSubjects", typed(len({k[0] for k in seen}), "integer"))
    add(ds, VOID + "properties", typed(len(properties), "integer"))
    add(ds, VOID + "classes", typed(len(members), "integer"))
    for graph, n in sorted(graphs.items()):
        sub = ox.NamedNode(graph)
        add(ds, VOID + "subset", sub)
        add(sub, RDF + "type", ox.NamedNode(VOID + "Dataset"))
        add(sub, VOID + "triples", typed(n, "integer"))
        add(sub, RDFS + "seeAlso", ox.NamedNode(base.base + "graph/metadata"))
    for cls, subjects in sorted(members.items()):
        part = node("class", _local(cls))
        add(ds, VOID + "classPartition", part)
        add(part, RDF + "type", ox.NamedNode(VOID + "Dataset"))
        add(part, RDFS + "label", ox.Literal(f"Instances of {_local(cls)}", language="en"))
        add(part, VOID + "class", ox.NamedNode(cls))
        add(part, VOID + "entities", typed(len(subjects), "integer"))
    for prop, n in sorted(properties.items()):
        part = node("property", _local(prop))
        add(ds, VOID + "propertyPartition", part)
        add(part, RDF + "type", ox.NamedNode(VOID + "Dataset"))
        add(part, RDFS + "label", ox.Literal(f"Statements with {_local(prop)}", language="en"))
        add(part, VOID + "property", ox.NamedNode(prop))
        add(part, VOID + "triples", typed(n, "integer"))
    for (prefix, prop), n in sorted(links.items()):
        slug, title, home = LINK_TARGETS[prefix]
        target = node("external", slug)
        linkset = node("linkset", f"{slug}-{_local(prop)}")
        add(ds, VOID + "subset", linkset)
        add(linkset, RDF + "type", ox.NamedNode(VOID + "Linkset"))
        add(
            linkset,
            RDFS + "label",
            ox.Literal(f"Links to {title} by {_local(prop)}", language="en"),
        )
        add(linkset, VOID + "subjectsTarget", ds)
        add(linkset, VOID + "objectsTarget", target)
        add(linkset, VOID + "linkPredicate", ox.NamedNode(prop))
        add(linkset, VOID + "triples", typed(n, "integer"))
        add(target, RDF + "type", ox.NamedNode(VOID + "Dataset"))
        add(target, RDFS + "label", ox.Literal(title, language="en"))
        add(target, FOAF + "homepage", ox.NamedNode(home))
        add(target, VOID + "uriSpace", ox.Literal(prefix))
    return sorted(set(out), key=str)


def dumps_page() -> str:
    """The dumps folder's page: a link to each file, so that no host needs a folder listing."""
    items = "".join(
        f'<li><a href="{name}" type="{media}">{name}</a> ({media})</li>'
        for name, (_f, media, _g) in DUMPS.items()
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Dumps</title>'
        f"</head><body><h1>Dumps</h1><ul>{items}"
        '<li><a href="ontology.ttl" type="text/turtle">ontology.ttl</a> (the ontology)</li>'
        '</ul><p><a href="../">Home</a></p></body></html>\n'
    )


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
        description = describe(
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
        (staging / "index.html").write_text(pages.index(links), encoding="utf-8")
        (staging / "dumps" / "index.html").write_text(dumps_page(), encoding="utf-8")
        for iri, openness in sorted(badges.all().items()):
            image, path = badges.image(openness), badges.path(iri)
            if image is not None and path is not None:
                (staging / path).parent.mkdir(parents=True, exist_ok=True)
                (staging / path).write_text(image, encoding="utf-8")
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
