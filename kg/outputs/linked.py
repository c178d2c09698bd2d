"""Linked data that resolves anywhere: what every resource's RDF says about itself and its
document, the `Link` headers that go with it, the compact JSON-LD form, and the static release's
layout (a folder per resource, so that any static host serves it at its IRI's path).

Both `kg publish` (the static folder) and `kg serve` use these functions, so that a resource is
described the same way wherever it is published.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.outputs.pages import VARIANTS, Site, local_path
from kg.outputs.templating import render
from kg.vocab.namespaces import DCTERMS, ONTOLOGY_IRI, RDF, XSD, Base

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
CONTEXT = "context.jsonld"  # the compact JSON-LD context, at the site's root
VOID_FILE = "void.ttl"
HTML_MEDIA = "text/html"


def dataset_iri(base: Base) -> str:
    return base.base + "dataset"


def document_iri(iri: str, ext: str, base: Base) -> str:
    """The IRI of one document describing `iri` (ext: html, ttl, nt, jsonld, rdf).

    Documents sit in the resource's folder (`{iri}/index.ttl`), which a static host serves as
    it is and the server answers too; the ontology's documents are those of its IRI."""
    return f"{iri}/index.{ext}"


def described_triples(
    site: Site, iri: str, document: str, media: str, base: Base
) -> list[ox.Triple]:
    """What a document about `iri` says: the statements about it, the statements that point to
    it (so that a client can walk from a model to its assessments), and the document's own
    description (its topic, license and dataset)."""
    out = site.triples(iri)
    node = ox.NamedNode(iri)
    seen = {str(t) for t in out}
    for s, p in sorted(site.incoming.get(iri, ())):
        t = ox.Triple(ox.NamedNode(s), ox.NamedNode(p), node)
        if str(t) not in seen:
            seen.add(str(t))
            out.append(t)
    return out + document_triples(document, iri, media, base)


def document_triples(document: str, topic: str, media: str, base: Base) -> list[ox.Triple]:
    doc = ox.NamedNode(document)

    def t(p: str, o: ox.NamedNode | ox.Literal) -> ox.Triple:
        return ox.Triple(doc, ox.NamedNode(p), o)

    return [
        t(RDF + "type", ox.NamedNode(FOAF + "Document")),
        t(FOAF + "primaryTopic", ox.NamedNode(topic)),
        t(DCTERMS + "license", ox.NamedNode(LICENSE)),
        t(VOID + "inDataset", ox.NamedNode(dataset_iri(base))),
        t(DCTERMS + "format", ox.Literal(media)),
    ]


def link_header(iri: str, base: Base, *, void: str | None = None) -> str:
    """The `Link` header for a response about `iri`: its documents in each format
    (`alternate`), the license, and the dataset's VoID description (`describedby`)."""
    links = [
        f'<{document_iri(iri, ext, base)}>; rel="alternate"; type="{media}"'
        for ext, media in (("html", HTML_MEDIA), *((e, v[1]) for e, v in VARIANTS.items()))
    ]
    links.append(f'<{LICENSE}>; rel="license"')
    links.append(f'<{void or base.base + VOID_FILE}>; rel="describedby"; type="text/turtle"')
    return ", ".join(links)


# --- JSON-LD ------------------------------------------------------------------------------------


def context(base: Base) -> dict[str, dict[str, str]]:
    """The compact JSON-LD context: the graph's prefixes (the base as `kg`)."""
    prefixes = {**base.prefixes(with_base=False), "kg": base.base, "foaf": FOAF, "void": VOID}
    return {"@context": dict(sorted(prefixes.items()))}


class Compactor:
    """Writes triples as compact JSON-LD that refers to the published context by its URL."""

    def __init__(self, base: Base, context_url: str) -> None:
        self.context_url = context_url
        prefixes = context(base)["@context"]
        # longest namespace first, so that `model:llama-2` wins over `kg:model/llama-2`
        self.prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))

    def iri(self, iri: str) -> str:
        for prefix, ns in self.prefixes:
            if iri.startswith(ns) and len(iri) > len(ns) and not iri[len(ns) :].startswith("/"):
                return f"{prefix}:{iri[len(ns) :]}"
        return iri

    def term(self, t: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
        if isinstance(t, ox.NamedNode):
            return {"@id": self.iri(t.value)}
        if isinstance(t, ox.BlankNode):
            return {"@id": f"_:{t.value}"}
        if t.language:
            return {"@value": t.value, "@language": t.language}
        if t.datatype.value == XSD + "string":
            return t.value
        return {"@value": t.value, "@type": self.iri(t.datatype.value)}

    def serialize(self, triples: Iterable[ox.Triple]) -> bytes:
        nodes: dict[str, dict[str, Any]] = {}
        for t in sorted(triples, key=str):
            subject, obj = t.subject, t.object
            if isinstance(subject, ox.Triple) or isinstance(obj, ox.Triple):
                continue  # RDF 1.2 triple terms: none in the graph, no compact form here
            key = str(subject)
            node = nodes.setdefault(
                key,
                {
                    "@id": self.iri(subject.value)
                    if isinstance(subject, ox.NamedNode)
                    else f"_:{subject.value}"
                },
            )
            if t.predicate.value == RDF + "type" and isinstance(obj, ox.NamedNode):
                node.setdefault("@type", []).append(self.iri(obj.value))
            else:
                node.setdefault(self.iri(t.predicate.value), []).append(self.term(obj))
        graph = [
            {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in n.items()}
            for n in nodes.values()
        ]
        doc = {"@context": self.context_url, "@graph": graph}
        return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


def serialize(
    site: Site, triples: list[ox.Triple], ext: str, compactor: Compactor | None = None
) -> bytes:
    """`triples` in the RDF format of the file extension `ext`; JSON-LD compact when a
    `compactor` (with the context's URL) is given."""
    if ext == "jsonld" and compactor is not None:
        return compactor.serialize(triples)
    prefixes = {**site.base_prefixes(), "foaf": FOAF, "void": VOID}
    return ox.serialize(triples, format=VARIANTS[ext][0], prefixes=prefixes) or b""


def release_date(release: Path) -> str:
    """The day the release was built (its manifest's time, UTC): the same for every request
    and every publication of the release."""
    stamp = (release / "manifest.json").stat().st_mtime
    return dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()


def ontology_iris(ontology: list[ox.Triple]) -> set[str]:
    """The ontology's IRI and its version IRIs: each names the whole ontology document."""
    return {ONTOLOGY_IRI} | {
        t.object.value
        for t in ontology
        if isinstance(t.subject, ox.NamedNode)
        and isinstance(t.object, ox.NamedNode)
        and t.subject.value == ONTOLOGY_IRI
        and t.predicate.value == "http://www.w3.org/2002/07/owl#versionIRI"
    }


def static_path(iri: str, base: Base) -> str | None:
    """The folder of `iri` in the static release (`model/llama-2`), or None."""
    return local_path(iri, base.base)


def redirect_page(target: str) -> str:
    """A page that sends a browser on to `target` (a relative URL): the old `….html` links."""
    return render("redirect.html.j2", target=target)


def write_resources(
    site: Site,
    folder: Path,
    base: Base,
    ontology: list[ox.Triple],
    ontology_page: str,
    context_url: str,
) -> list[str]:
    """Write every resource's folder (`{path}/index.html` and `index.{ttl,nt,jsonld,rdf}`), a
    redirect page at each old `{path}.html`, and the ontology's folders (its IRI and each
    version IRI: pyLODE's page and the whole ontology). Returns the IRIs written, in order."""
    compactor = Compactor(base, context_url)
    documents = ontology_iris(ontology)
    written = []
    for iri in sorted(set(site.subjects()) | documents):
        local = static_path(iri, base)
        if local is None:
            continue
        target = folder / local
        target.mkdir(parents=True, exist_ok=True)
        page = ontology_page if iri in documents else site.render(iri)
        (target / "index.html").write_text(page, encoding="utf-8")
        for ext, (_fmt, media, _name) in VARIANTS.items():
            doc = document_iri(iri, ext, base)
            if iri in documents:
                triples = ontology + document_triples(doc, iri, media, base)
            else:
                triples = described_triples(site, iri, doc, media, base)
            (target / f"index.{ext}").write_bytes(serialize(site, triples, ext, compactor))
        name = local.rsplit("/", 1)[-1]
        (folder / f"{local}.html").write_text(redirect_page(f"{name}/"), encoding="utf-8")
        written.append(iri)
    return written


def resolve_path(
    path: str, base: Base, described: Callable[[str], bool]
) -> tuple[str, str | None] | None:
    """The IRI a request path names and the variant asked for by name (None: negotiate), for
    a server that answers like the static release: `model/llama-2`, `model/llama-2/`,
    `model/llama-2/index.ttl` and the old `model/llama-2.ttl`. `described(iri)` says whether
    the server has a description of `iri`."""
    local = path.lstrip("/")
    for candidate in dict.fromkeys((local, urllib.parse.unquote(local))):
        stem = candidate.removesuffix("/")
        if stem and described(base.base + stem):
            return base.base + stem, None
        folder, _slash, name = candidate.rpartition("/")
        if name.startswith("index.") and folder and described(base.base + folder):
            ext = name[len("index.") :]
            if ext == "html" or ext in VARIANTS:
                return base.base + folder, ext
        head, dot, ext = candidate.rpartition(".")
        if dot and (ext == "html" or ext in VARIANTS) and described(base.base + head):
            return base.base + head, ext
    return None
