"""`kg publish --out DIR`: a static linked-open-data release of the current build.

The release holds the dataset in several serialisations, a VoID and DCAT 3 description, and the
build's reports and figures. It is deterministic (the same build and `--issued` date give the
same bytes) and replaces a previous release in DIR only once it is complete.
"""

from __future__ import annotations

import gzip
import io
import shutil
import tempfile
from pathlib import Path

import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError
from kg.outputs.pages import Site
from kg.release.release import Release
from kg.vocab.namespaces import DCTERMS, PREFIXES, RDF, RDFS, XSD, Base

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
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
        if name.endswith(".gz"):
            buf = io.BytesIO()
            with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as gz:
                gz.write(body)
            body = buf.getvalue()
        (folder / name).write_bytes(body)


def describe(
    base: Base,
    manifest: dict,
    quads: list[ox.Quad],
    issued: str,
    site: str,
    sparql: str | None,
) -> list[ox.Triple]:
    """The VoID and DCAT 3 description of the release."""
    ds = ox.NamedNode(base.base + "dataset")
    out: list[ox.Triple] = []

    def add(s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(s, ox.NamedNode(p), o))

    typed = lambda v, t: ox.Literal(str(v), datatype=ox.NamedNode(XSD + t))  # noqa: E731
    add(ds, RDF + "type", ox.NamedNode(VOID + "Dataset"))
    add(ds, RDF + "type", ox.NamedNode(DCAT + "Dataset"))
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
    add(
        ds,
        ox.NamedNode(DCAT + "version").value,
        ox.Literal(f"{__version__}+{manifest['build_id']}"),
    )
    add(ds, VOID + "uriSpace", ox.Literal(base.base))
    add(ds, VOID + "triples", typed(len(_triples(quads)), "integer"))
    add(ds, VOID + "vocabulary", ox.NamedNode("https://w3id.org/genai-openness/ontology#"))
    for example in (
        "model/llama-2",
        "license/apache-2-0",
        "claim/claim-1-closed-models-stronger-safeguards",
    ):
        add(ds, VOID + "exampleResource", ox.NamedNode(base.base + example))
    if sparql:
        add(ds, VOID + "sparqlEndpoint", ox.NamedNode(sparql))
    for name, (_fmt, media, _g) in DUMPS.items():
        dist = ox.NamedNode(f"{base.base}dataset/distribution/{name}")
        url = ox.NamedNode(f"{site.rstrip('/')}/dumps/{name}")
        add(ds, DCAT + "distribution", dist)
        add(ds, VOID + "dataDump", url)
        add(dist, RDF + "type", ox.NamedNode(DCAT + "Distribution"))
        add(dist, DCAT + "downloadURL", url)
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
    graphs: dict[str, int] = {}
    for q in quads:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) + 1
    for graph, n in sorted(graphs.items()):
        sub = ox.NamedNode(graph)
        add(ds, VOID + "subset", sub)
        add(sub, RDF + "type", ox.NamedNode(VOID + "Dataset"))
        add(sub, VOID + "triples", typed(n, "integer"))
        add(sub, RDFS + "seeAlso", ox.NamedNode(base.base + "graph/metadata"))
    return out


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
    release: Release, target: Path, issued: str, site: str | None = None, sparql: str | None = None
) -> Path:
    """Write a complete release into `target`, replacing the previous one only at the end."""
    manifest = release.manifest
    base = release.base
    store = release.open_store()
    quads = list(release.sorted_quads(store))
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-", dir=target.parent))
    staging.chmod(0o755)  # a static host must be able to read it
    try:
        prefixes = base.prefixes(with_base=False)
        write_dumps(quads, staging / "dumps", prefixes)
        shutil.copy2(release.dumps / "ontology.ttl", staging / "dumps" / "ontology.ttl")
        description = describe(base, manifest, quads, issued, site or base.base, sparql)
        void_prefixes = {**PREFIXES, "void": VOID, "dcat": DCAT, "foaf": FOAF}
        ox.serialize(
            sorted(description, key=str),
            str(staging / "void.ttl"),
            ox.RdfFormat.TURTLE,
            prefixes=void_prefixes,
        )
        Site(store, base).write(staging)
        (staging / "ontology.html").write_text(
            ontology_html(staging / "dumps" / "ontology.ttl"), encoding="utf-8"
        )
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
