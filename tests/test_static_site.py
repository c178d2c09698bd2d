"""The static release resolves wherever it is published: every IRI of the graph dereferences on a
plain static host (python's http.server) and, with the shipped configuration, by content
negotiation (nginx when installed; the Apache and w3id.org rules through a mod_rewrite
interpreter). Each resource's RDF carries its incoming links and describes its document."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest
import rewrite
from static_hosts import NGINX, NginxServer, PlainStaticServer

from conftest import Built
from kg.outputs.linked import link_header
from kg.release.release import Release
from kg.vocab.namespaces import ONTOLOGY_IRI, Base

BASE = "https://w3id.org/genai-openness/"
SITE = "https://example.org/kg/"  # where the release is published (kg publish --site)
PATH = "/kg/"  # the site's path: where the shipped rules expect the release
FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
LICENSE = ox.NamedNode("http://purl.org/dc/terms/license")
RDF_TYPES = {
    "ttl": ("text/turtle", ox.RdfFormat.TURTLE),
    "nt": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdf": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
}


def graph_iris(built: Built) -> list[str]:
    """Every IRI under the base that the dataset names (subjects, objects, graphs), without
    the fragment a client keeps to itself."""
    out: set[str] = set()
    dataset = Release.current(built.out).dumps / "dataset.nq"
    for q in ox.parse(path=str(dataset), format=ox.RdfFormat.N_QUADS):
        for term in (q.subject, q.object, q.graph_name):
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE):
                out.add(term.value.split("#", 1)[0])
    return sorted(out)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, accept: str | None = None, follow: bool = True):
    """(status, content type, body, final URL)."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read(), r.url
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read(), e.headers.get("Location")


def parse_variant(body: bytes, ext: str, site: Path) -> list[ox.Triple]:
    if ext == "jsonld":  # the compact form refers to the published context: give it inline
        doc = json.loads(body)
        doc["@context"] = json.loads((site / "context.jsonld").read_text())["@context"]
        body = json.dumps(doc).encode()
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(body, format=RDF_TYPES[ext][1])
    ]


@pytest.fixture(scope="module")
def iris(built: Built) -> list[str]:
    found = graph_iris(built)
    assert len(found) > 1000
    return found


@pytest.fixture(scope="module")
def hosted(published: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A web root that holds the release at the base's path, as a host would."""
    root = tmp_path_factory.mktemp("webroot")
    os.symlink(published, root / PATH.strip("/"))
    return root


def test_every_iri_resolves_on_a_plain_static_host(hosted: Path, published: Path, iris: list[str]):
    """No configuration at all: each IRI answers with its page (with or without Accept, as a
    plain host ignores it), and its RDF is at the documents the page and the RDF name."""
    problems = []
    with PlainStaticServer(hosted) as server:
        for i, iri in enumerate(iris):
            url = server.url + PATH[1:] + iri[len(BASE) :]
            # a plain host ignores Accept: checked on every ninth IRI, the rest without
            for accept in (None, "text/turtle") if i % 9 == 0 else (None,):
                status, media, body, _final = get(url, accept)
                if status != 200 or not media.startswith("text/html") or b"<html" not in body:
                    problems.append((iri, accept, status, media))
            if iri == BASE:
                continue
            status, media, body, _ = get(url.rstrip("/") + "/index.ttl")
            if status != 200:
                problems.append((iri, "index.ttl", status, media))
                continue
            triples = parse_variant(body, "ttl", published)
            node = ox.NamedNode(iri)
            doc = ox.NamedNode(iri + "/index.ttl")
            if not any(node in (t.subject, t.object) for t in triples):
                problems.append((iri, "index.ttl does not mention it"))
            if ox.Triple(doc, ox.NamedNode(FOAF + "primaryTopic"), node) not in triples:
                problems.append((iri, "no foaf:primaryTopic"))
        # the old flat links still lead to the page
        status, _m, body, _final = get(server.url + "kg/model/llama-2.html")
        assert status == 200 and b"url=llama-2/" in body
    assert problems == []


def test_a_resource_describes_its_document_and_incoming_links(published: Path):
    folder = published / "model" / "llama-2"
    model = ox.NamedNode(BASE + "model/llama-2")
    for ext in RDF_TYPES:
        triples = parse_variant((folder / f"index.{ext}").read_bytes(), ext, published)
        doc = ox.NamedNode(f"{BASE}model/llama-2/index.{ext}")
        about = {(t.predicate.value, t.object) for t in triples if t.subject == doc}
        assert (FOAF + "primaryTopic", model) in about, ext
        assert (LICENSE.value, ox.NamedNode("https://creativecommons.org/licenses/by/4.0/")) in (
            about
        )
        assert (VOID + "inDataset", ox.NamedNode(BASE + "dataset")) in about
        # from the model a client reaches its twelve assessments (they point to the model)
        assessments = {
            t.subject.value
            for t in triples
            if t.object == model and t.predicate.value.endswith("#assessedModel")
        }
        assert len(assessments) == 12, ext
    # and from an assessment, the model and the claim's evidence the same way
    claim = published / "claim" / "claim-1-closed-models-stronger-safeguards" / "index.ttl"
    triples = parse_variant(claim.read_bytes(), "ttl", published)
    citations = [t for t in triples if t.predicate.value.endswith("hasCitingEntity")]
    assert citations


def test_jsonld_variants_are_compact_and_mean_what_the_turtle_says(published: Path):
    context = json.loads((published / "context.jsonld").read_text())["@context"]
    assert context["gao"] == "https://w3id.org/genai-openness/ontology#"
    for local in ("model/llama-2", "license/apache-2-0", "ontology"):
        folder = published / local
        doc = json.loads((folder / "index.jsonld").read_text())
        assert doc["@context"] == BASE + "context.jsonld"
        as_jsonld = ox.Dataset(
            ox.Quad(t.subject, t.predicate, t.object)
            for t in parse_variant((folder / "index.jsonld").read_bytes(), "jsonld", published)
        )
        turtle = (folder / "index.ttl").read_bytes()
        as_turtle = ox.Dataset(
            ox.Quad(t.subject, t.predicate, t.object)
            for t in parse_variant(turtle, "ttl", published)
        )
        for ds in (as_jsonld, as_turtle):
            ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)

        # the documents differ only in what they say about themselves (format)
        def strip(ds):
            return {
                str(q) for q in ds if not str(q.subject).endswith(("/index.jsonld>", "/index.ttl>"))
            }

        assert strip(as_jsonld) == strip(as_turtle), local


def test_the_static_ontology_is_whole_and_its_version_iri_serves_it(built: Built, published: Path):
    release = Release.current(built.out)
    whole = {
        str(t)
        for t in ox.parse(path=str(release.dumps / "ontology.ttl"), format=ox.RdfFormat.TURTLE)
        if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)
    }
    version = next(
        t.object.value
        for t in ox.parse(path=str(published / "ontology.ttl"), format=ox.RdfFormat.TURTLE)
        if t.subject.value == ONTOLOGY_IRI and t.predicate.value.endswith("#versionIRI")
    )
    for path in ("ontology.ttl", "ontology/index.ttl", version[len(BASE) :] + "/index.ttl"):
        got = {str(t) for t in ox.parse(path=str(published / path), format=ox.RdfFormat.TURTLE)}
        assert whole <= got, path
    assert (
        "GenAI Openness Ontology" in (published / version[len(BASE) :] / "index.html").read_text()
    )


def test_robots_and_sitemap(published: Path, iris: list[str]):
    robots = (published / "robots.txt").read_text()
    assert f"Sitemap: {SITE}sitemap.xml" in robots.splitlines()
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [
        e.text for e in ET.parse(published / "sitemap.xml").getroot().findall("s:url/s:loc", ns)
    ]
    assert locs[0] == SITE and len(locs) == len(set(locs))
    pages = {
        SITE + str(p.parent.relative_to(published)) + "/" for p in published.rglob("index.html")
    }
    pages -= {SITE + "./", SITE + "dumps/"}
    assert set(locs[1:]) == pages
    assert {SITE + "model/llama-2/", SITE + "ontology/"} <= set(locs)


def test_link_header_names_formats_license_and_void():
    header = link_header(BASE + "model/llama-2", Base(BASE))
    links = {part.split(";")[0].strip("<> "): part for part in header.split(", ")}
    assert 'rel="alternate"; type="text/turtle"' in links[BASE + "model/llama-2/index.ttl"]
    assert 'type="application/ld+json"' in links[BASE + "model/llama-2/index.jsonld"]
    assert 'rel="license"' in links["https://creativecommons.org/licenses/by/4.0/"]
    assert 'rel="describedby"' in links[BASE + "void.ttl"]


# --- the shipped rules -------------------------------------------------------------------------


def test_apache_rules_negotiate_every_resource(published: Path, iris: list[str]):
    rules = rewrite.parse((published / ".htaccess").read_text())

    def is_file(path: str) -> bool:
        local = path[len(PATH) :] if path.startswith(PATH) else path
        return (published / local.replace("//", "/")).is_file()

    wrong = []
    for iri in [*iris[::7], BASE + "model/llama-2"]:
        local = iri[len(BASE) :]
        if not local:
            continue
        for path in (local, local + "/"):
            html = rewrite.rewrite(
                rules, path, "text/html,application/xhtml+xml,*/*;q=0.8", is_file
            )
            if html is not None:  # HTML: the folder's index.html, untouched
                wrong.append((path, "html", html))
            for ext, (media, _fmt) in RDF_TYPES.items():
                got = rewrite.rewrite(rules, path, media, is_file)
                if (
                    got is None
                    or got.status is not None
                    or got.path != f"{PATH}{local}/index.{ext}"
                ):
                    wrong.append((path, media, got))
                elif not (published / local / f"index.{ext}").is_file():
                    wrong.append((path, media, "missing"))
    old = rewrite.rewrite(rules, "model/llama-2.ttl", "*/*", is_file)
    assert old is not None and (old.status, old.path) == (301, f"{PATH}model/llama-2/index.ttl")
    assert rewrite.rewrite(rules, "void.ttl", "text/turtle", is_file) is None  # a file: as it is
    assert wrong == []


def test_w3id_rules_redirect_every_iri_to_a_document_that_exists(
    hosted: Path, published: Path, iris: list[str]
):
    """The w3id.org rules (for a release published at another host), applied to every IRI of
    the graph: 303 to the page or the asked-for RDF, which the static host then serves."""
    site = SITE
    rules = rewrite.parse((published / "w3id.htaccess").read_text())
    problems = []
    with PlainStaticServer(hosted) as server:
        rdf = [(media, ext) for ext, (media, _f) in RDF_TYPES.items()]
        for i, iri in enumerate(iris):
            local = iri[len(BASE) :]
            # the page, and one RDF format in turn (all four for every eleventh IRI)
            for accept, ext in [("text/html", None), *(rdf if i % 11 == 0 else [rdf[i % 4]])]:
                got = rewrite.rewrite(rules, local, accept)
                if got is None or got.status not in (302, 303) or not got.path.startswith(site):
                    problems.append((iri, accept, got))
                    continue
                url = server.url + PATH[1:] + got.path[len(site) :]
                status, media, body, _ = get(url)
                if status != 200:
                    problems.append((iri, accept, got.path, status))
                elif ext is not None:
                    if not media.startswith(RDF_TYPES[ext][0]) and ext != "jsonld":
                        problems.append((iri, accept, media))
                    elif not parse_variant(body, ext, published):
                        problems.append((iri, accept, "empty"))
    assert problems == []


@pytest.mark.skipif(NGINX is None, reason="nginx is missing (.ci/system-packages installs it)")
def test_nginx_with_the_shipped_config_negotiates_every_iri(
    hosted: Path, published: Path, iris: list[str]
):
    problems = []
    with NginxServer(hosted, published) as server:
        for iri in iris:
            url = server.url + PATH[1:] + iri[len(BASE) :]
            status, media, body, _final = get(url, "text/html,*/*;q=0.8")
            if status != 200 or not media.startswith("text/html"):
                problems.append((iri, "html", status, media))
            if iri == BASE:
                continue
            for ext, (want, _fmt) in RDF_TYPES.items():
                status, media, body, _ = get(url, want)
                if status != 200 or not media.startswith(want):
                    problems.append((iri, want, status, media))
                elif not parse_variant(body, ext, published):
                    problems.append((iri, want, "empty"))
        status, _m, _b, location = get(server.url + "kg/model/llama-2.ttl", follow=False)
        assert status == 301 and location.endswith("/kg/model/llama-2/index.ttl")
        status, media, _b, _u = get(server.url + "kg/model/llama-2", "text/turtle")
        assert media.startswith("text/turtle")
    assert problems == []


def test_a_server_resolves_the_paths_the_static_release_uses():
    from kg.outputs.linked import resolve_path

    known = {BASE + "model/llama-2", BASE + "ontology/0.1.0"}
    base = Base(BASE)
    cases = {
        "/model/llama-2": (BASE + "model/llama-2", None),
        "/model/llama-2/": (BASE + "model/llama-2", None),
        "/model/llama-2/index.ttl": (BASE + "model/llama-2", "ttl"),
        "/model/llama-2/index.html": (BASE + "model/llama-2", "html"),
        "/model/llama-2.jsonld": (BASE + "model/llama-2", "jsonld"),
        "/ontology/0.1.0/index.rdf": (BASE + "ontology/0.1.0", "rdf"),
        "/ontology/0.1.0": (BASE + "ontology/0.1.0", None),
        "/model/llama-2/index.exe": None,
        "/model/gpt-9": None,
        "/": None,
    }
    for path, want in cases.items():
        assert resolve_path(path, base, known.__contains__) == want, path
