"""`kg publish --site-dir DIR`: a static LOD release whose every dump parses back to the store."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Built, publish, query_rows, run_kg
from kg.outputs.site import DUMPS
from kg.release.release import Release
from kg.store import OxigraphStore

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
A = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
GAO_MODEL = ox.NamedNode("https://w3id.org/genai-openness/ontology#AIModel")


def canonical(items) -> ox.Dataset:
    ds = ox.Dataset(
        i if isinstance(i, ox.Quad) else ox.Quad(i.subject, i.predicate, i.object) for i in items
    )
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return ds


def pylode(path: Path, site: Path) -> bool:
    """Whether `path` is pyLODE's ontology page (at the ontology's IRI and its version IRI)."""
    return path.name == "index.html" and path.relative_to(site).parts[0] == "ontology"


@pytest.fixture(scope="module")
def site(published: Path) -> Path:
    return published


def test_every_dump_parses_back_to_the_store(built: Built, site: Path):
    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    quads = store.quads()
    want_quads = canonical(quads)
    want_triples = canonical(ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    for name, (fmt, _media, with_graphs) in DUMPS.items():
        data = (site / "dumps" / name).read_bytes()
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        parsed = canonical(ox.parse(data, format=fmt))
        assert parsed == (want_quads if with_graphs else want_triples), name


def test_void_and_dcat_description(built: Built, site: Path):
    triples_ = list(ox.parse(path=str(site / "void.ttl"), format=ox.RdfFormat.TURTLE))
    ds = ox.NamedNode("https://w3id.org/genai-openness/dataset")

    def values(s, p):
        return [t.object for t in triples_ if t.subject == s and t.predicate.value == p]

    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    triples = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in store.quads()}
    assert int(values(ds, VOID + "triples")[0].value) == len(triples)
    assert values(ds, "http://purl.org/dc/terms/license") == [
        ox.NamedNode("https://creativecommons.org/licenses/by/4.0/")
    ]
    assert values(ds, "http://purl.org/dc/terms/issued")[0].value == "2026-11-22"
    # the dumps, and the SPARQL endpoint's distribution
    assert len(values(ds, DCAT + "distribution")) == len(DUMPS) + 1
    assert values(ds, VOID + "sparqlEndpoint") == [ox.NamedNode("https://example.org/sparql")]
    (service,) = [t.subject for t in triples_ if t.object == ox.NamedNode(DCAT + "DataService")]
    assert values(service, DCAT + "endpointURL") == [ox.NamedNode("https://example.org/sparql")]
    assert values(service, DCAT + "servesDataset") == [ds]
    # publisher, contact point and landing page
    (publisher,) = values(ds, "http://purl.org/dc/terms/publisher")
    assert values(publisher, "http://xmlns.com/foaf/0.1/name")
    (contact,) = values(ds, DCAT + "contactPoint")
    assert values(contact, VCARD + "fn") and values(contact, VCARD + "hasURL")
    assert values(ds, DCAT + "landingPage") == [ox.NamedNode("https://example.org/kg/")]
    # modified: the day of the build, not of the request or the publication
    built_on = dt.datetime.fromtimestamp(
        (Release.current(built.out).path / "manifest.json").stat().st_mtime, dt.UTC
    ).date()
    assert values(ds, "http://purl.org/dc/terms/modified")[0].value == built_on.isoformat()
    # class and property partitions count what the store holds
    classes = {
        values(p, VOID + "class")[0].value: int(values(p, VOID + "entities")[0].value)
        for p in values(ds, VOID + "classPartition")
    }
    models = {str(q.subject) for q in store.quads() if q.object == GAO_MODEL and q.predicate == A}
    assert classes["https://w3id.org/genai-openness/ontology#AIModel"] == len(models) == 40
    props = {
        values(p, VOID + "property")[0].value: int(values(p, VOID + "triples")[0].value)
        for p in values(ds, VOID + "propertyPartition")
    }
    assessed = {str(q) for q in store.quads() if q.predicate.value.endswith("#assessedModel")}
    assert props["https://w3id.org/genai-openness/ontology#assessedModel"] == len(assessed)
    assert sum(props.values()) == len(triples)
    # linksets to the external datasets, e.g. SPDX by skos:exactMatch
    linksets = [t.subject for t in triples_ if t.object == ox.NamedNode(VOID + "Linkset")]
    targets = {
        (
            values(values(ls, VOID + "objectsTarget")[0], RDFS_LABEL)[0].value,
            values(ls, VOID + "linkPredicate")[0].value,
        ): int(values(ls, VOID + "triples")[0].value)
        for ls in linksets
    }
    spdx = {str(q) for q in store.quads() if q.object.value.startswith("http://spdx.org/licenses/")}
    assert targets[("SPDX License List", SKOS + "exactMatch")] == len(spdx) > 0
    assert {name for name, _p in targets} >= {"SPDX License List", "Data Privacy Vocabulary (DPV)"}
    assert all(values(ls, VOID + "subjectsTarget") == [ds] for ls in linksets)
    assert len(values(ds, VOID + "exampleResource")) >= 3
    subsets = values(ds, VOID + "subset")
    assert ox.NamedNode("https://w3id.org/genai-openness/graph/paper/table-3") in subsets
    assert (site / "reports" / "errata.md").exists() and (site / "figures" / "figure4.svg").exists()


def test_publish_is_deterministic(built: Built, site: Path, tmp_path: Path):
    again = tmp_path / "again"
    assert publish(again, built).returncode == 0
    for path in sorted(site.rglob("*")):
        if path.is_file() and not pylode(path, site):  # pyLODE's order may vary
            assert path.read_bytes() == (again / path.relative_to(site)).read_bytes(), path


def test_publish_replaces_a_release_but_not_other_folders(built: Built, tmp_path: Path):
    target = tmp_path / "site"
    assert (
        run_kg(
            "publish",
            "--dir",
            str(target),
            "--issued",
            "2026-01-01",
            "--out",
            str(built.out),
        ).returncode
        == 0
    )
    assert (
        run_kg(
            "publish",
            "--site-dir",
            str(target),
            "--issued",
            "2026-02-02",
            "--out",
            str(built.out),
        ).returncode
        == 0
    )
    assert "2026-02-02" in (target / "void.ttl").read_text()
    other = tmp_path / "home"
    other.mkdir()
    (other / "precious.txt").write_text("keep")
    proc = run_kg("publish", "--site-dir", str(other), "--out", str(built.out))
    assert proc.returncode == 2 and "not a previous release" in proc.stderr
    assert (other / "precious.txt").read_text() == "keep"
    assert not [p for p in tmp_path.iterdir() if ".staging-" in p.name]


class _Links:
    def __init__(self, text: str) -> None:
        from html.parser import HTMLParser

        self.hrefs: list[str] = []
        self.level_cells: list[tuple[str, str]] = []
        outer = self

        class P(HTMLParser):
            cell_style = None

            def handle_starttag(self, tag, attrs):
                a = dict(attrs)
                if tag == "a" and "href" in a:
                    outer.hrefs.append(a["href"])
                if tag == "td" and a.get("class") == "level":
                    self.cell_style = a.get("style", "")

            def handle_data(self, data):
                if self.cell_style is not None:
                    outer.level_cells.append((data.strip(), self.cell_style))
                    self.cell_style = None

        P().feed(text)


def test_pages_per_resource(site: Path):
    page = site / "model" / "llama-2" / "index.html"
    text = page.read_text()
    links = _Links(text)
    assert [v for v, _ in links.level_cells] == [
        "C1",
        "C1",
        "C1",
        "D1",
        "D1",
        "D1",
        "C1",
        "N/A",
        "N/A",
        "D1",
        "C3",
        "D3",
    ]
    assert all("background:#" in style for _, style in links.level_cells)
    assert "LLaMA-2" in text and "open-weights model" in text
    # every local link of every page points to a file of the release
    broken = []
    for html_file in sorted(site.rglob("*.html")):
        if pylode(html_file, site):  # pyLODE's page, with its own in-page anchors
            continue
        for href in _Links(html_file.read_text()).hrefs:
            if href.startswith(("http://", "https://")):
                continue
            # a folder link is served as its index.html by any static host
            target = html_file.parent / (href + "index.html" if href.endswith("/") else href)
            if not target.resolve().exists():
                broken.append((str(html_file.relative_to(site)), href))
    assert broken == []
    # each page offers its RDF, which parses and describes the resource
    ttl = list(
        ox.parse(path=str(site / "model" / "llama-2" / "index.ttl"), format=ox.RdfFormat.TURTLE)
    )
    assert any(t.subject.value.endswith("/model/llama-2") for t in ttl)
    lic = (site / "license-evaluation" / "eiras2024" / "llama-2" / "index.html").read_text()
    assert "Permissions" in lic and "For models with up to 700M users." in lic
    claim = (
        site / "claim" / "claim-1-closed-models-stronger-safeguards" / "index.html"
    ).read_text()
    assert "supports" in claim and "contests" in claim


def test_ontology_documentation(site: Path):
    text = (site / "ontology" / "index.html").read_text()
    assert "GenAI Openness Ontology" in text
    for term in ("AIModel", "ComponentAssessment", "OpennessLevel", "LicenseEvaluation"):
        assert term in text


def test_home_page_overview_has_every_models_components(built: Built, site: Path):
    """The home page's table: one row per model, one coloured cell per component, as Table 3
    (rows in the overview's own order, cells in Table 3's component order)."""
    from html.parser import HTMLParser

    rows: dict[str, list[str]] = {}
    styles: list[str] = []

    class P(HTMLParser):
        inside = False
        model: str | None = None
        style: str | None = None
        in_link = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table" and a.get("id") == "overview":
                self.inside = True
            if not self.inside:
                return
            if tag == "tr":
                self.model = None
            if tag == "a" and self.model is None:
                self.in_link = True
            if tag == "td" and a.get("class") == "level":
                self.style = a.get("style", "")

        def handle_endtag(self, tag):
            if tag == "table":
                self.inside = False
            if tag == "a":
                self.in_link = False

        def handle_data(self, data):
            if self.in_link and self.model is None:
                self.model = data.strip()
                rows[self.model] = []
            elif self.style is not None and self.model is not None:
                rows[self.model].append(data.strip())
                styles.append(self.style)
                self.style = None

    P().feed((site / "index.html").read_text())
    expected: dict[str, list[str]] = {}
    for r in query_rows(built.out, "table3"):
        expected.setdefault(r["model"], []).append(r["level"])
    # Table 3's row labels are the paper's ("Anthropic 175B"), the overview's the models' names
    assert len(rows) == len(expected) == 40
    assert sorted(rows.values()) == sorted(expected.values())
    assert rows["GPT-2"] == expected["GPT-2"] and rows["LLaMA-2"] == expected["LLaMA-2"]
    assert len(styles) == 480 and all("background:#" in style for style in styles)
