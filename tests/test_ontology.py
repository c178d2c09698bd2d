"""The ontology parses with independent parsers, is documented, and stays within OWL 2 DL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from conftest import ROOT, Built
from kg.checks import owlcheck
from kg.release.release import Release
from kg.vocab.namespaces import GAO, ONTOLOGY_IRI
from kg.vocab.ontology import load_ontology, ontology_files

VANN = rdflib.Namespace("http://purl.org/vocab/vann/")


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    g = rdflib.Graph()
    for path in ontology_files():
        g.parse(path, format="turtle")  # rdflib: a second, independent Turtle parser
    return g


def test_ontology_metadata(onto: rdflib.Graph):
    o = rdflib.URIRef(ONTOLOGY_IRI)
    assert (o, RDF.type, OWL.Ontology) in onto
    for prop in (
        OWL.versionIRI,
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.creator,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ):
        assert onto.value(o, prop) is not None, prop
    assert str(onto.value(o, VANN.preferredNamespaceUri)) == GAO
    assert str(onto.value(o, OWL.versionIRI)).startswith(ONTOLOGY_IRI + "/")


def _own_terms(g: rdflib.Graph) -> set[str]:
    return {str(s) for s in g.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(GAO)}


def test_every_own_term_is_labelled_and_defined(onto: rdflib.Graph):
    missing = []
    for iri in sorted(_own_terms(onto)):
        s = rdflib.URIRef(iri)
        if onto.value(s, RDFS.label) is None and onto.value(s, SKOS.prefLabel) is None:
            missing.append(f"{iri}: no label")
        is_schema_term = any(
            (s, RDF.type, t) in onto
            for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
        )
        if (
            is_schema_term
            and onto.value(s, SKOS.definition) is None
            and not ((s, RDFS.domain, None) in onto and (s, RDFS.range, None) in onto)
        ):
            missing.append(f"{iri}: no definition")
    assert missing == []


def test_docs_explain_every_own_term(onto: rdflib.Graph):
    doc = (ROOT / "docs" / "ontology.md").read_text(encoding="utf-8")
    documented = {GAO + m for m in re.findall(r"`gao:([A-Za-z0-9_-]+)`", doc)}
    terms = _own_terms(onto)
    assert sorted(terms - documented) == [], "terms missing from docs/ontology.md"
    assert sorted(documented - terms) == [], "docs/ontology.md names terms that do not exist"


def test_levels_form_two_ordered_scales(onto: rdflib.Graph):
    q = """SELECT ?n ?rank ?kind ?cat WHERE {
        ?l a gao:OpennessLevel ; skos:notation ?n ; gao:rank ?rank ;
           gao:artefactKind/skos:notation ?kind ; gao:opennessCategory ?cat ;
           skos:inScheme gao:openness-levels }"""
    rows = {
        str(r.n): (int(r.rank), str(r.kind), str(r.cat).removeprefix(GAO))
        for r in onto.query(q, initNs={"gao": GAO, "skos": SKOS})
    }
    assert len(rows) == 10
    for kind in "CD":
        for rank in range(1, 6):
            cat = "closed" if rank == 1 else "open" if rank == 5 else "semi-open"
            assert rows[f"{kind}{rank}"] == (rank, kind, cat)


def test_restrictiveness_covers_every_score_once(onto: rdflib.Graph):
    q = """SELECT ?c ?min ?max ?code ?data WHERE { ?c a gao:RestrictivenessCategory ;
        gao:minScore ?min ; gao:maxScore ?max ; gao:impliesCodeLevel/skos:notation ?code ;
        gao:impliesDataLevel/skos:notation ?data }"""
    by_score = {}
    for r in onto.query(q, initNs={"gao": GAO, "skos": SKOS}):
        for score in range(int(r.min), int(r.max) + 1):
            assert score not in by_score
            by_score[score] = (str(r.code), str(r.data))
    # §3.1 as the paper states it, including D3 for highly restrictive licenses
    assert by_score == {
        0: ("C2", "D3"),
        1: ("C2", "D3"),
        2: ("C3", "D3"),
        3: ("C3", "D3"),
        4: ("C4", "D4"),
        5: ("C5", "D5"),
    }


def test_components_match_design(onto: rdflib.Graph):
    q = """SELECT ?n ?stage ?kind WHERE { ?c a gao:PipelineComponent ; skos:notation ?n ;
        gao:position ?p ; gao:stage ?stage ; gao:artefactKind/skos:notation ?kind } ORDER BY ?p"""
    rows = [
        (str(r.n), str(r.stage).removeprefix(GAO), str(r.kind))
        for r in onto.query(q, initNs={"gao": GAO, "skos": SKOS})
    ]
    assert rows == [
        ("pretraining-code", "training", "C"),
        ("finetuning-code", "training", "C"),
        ("alignment-code", "training", "C"),
        ("pretraining-data", "training", "D"),
        ("sft-data", "training", "D"),
        ("alignment-data", "training", "D"),
        ("general-eval-code", "evaluation", "C"),
        ("safety-eval-code", "evaluation", "C"),
        ("utility-benchmark-data", "evaluation", "D"),
        ("safety-eval-data", "evaluation", "D"),
        ("inference-code", "deployment", "C"),
        ("weights", "deployment", "D"),
    ]


def _all_triples(built: Built) -> list[ox.Triple]:
    nq = Release.current(built.out).dumps / "dataset.nq"
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(path=str(nq), format=ox.RdfFormat.N_QUADS)
    ]


def test_structural_dl_check_passes_on_ontology_and_data(built: Built):
    assert [str(v) for v in owlcheck.check(_all_triples(built))] == []


def test_structural_dl_check_finds_violations():
    bad = """@prefix : <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    :p a owl:ObjectProperty . :d a owl:DatatypeProperty . :both a owl:ObjectProperty ,
    owl:DatatypeProperty . :C a owl:Class .
    :s a owl:DatatypeProperty ; <http://www.w3.org/2000/01/rdf-schema#range> xsd:string .
    :x a :C ; :p "literal" ; :d :y ; :undeclared 1 ; :d "2020-01"^^xsd:gYearMonth . :y a :Nope .
    :x :s "tagged"@en ."""
    rules = {v.rule for v in owlcheck.check(ox.parse(bad, format=ox.RdfFormat.TURTLE))}
    assert rules == {
        "property declared as several kinds",
        "object property with a literal value",
        "datatype property with an IRI value",
        "undeclared property",
        "datatype outside the OWL 2 datatype map",
        "type is not a declared class",
        "value outside the property's datatype range",  # regression: langString on xsd:string
    }


def test_owl_api_dl_profile(built: Built, tmp_path: Path):
    """The OWL API's OWL2DLProfile finds no violation in the ontology plus all data.

    Needs Debian's libowlapi-java and a JDK (installed by .ci/system-packages); skipped without.
    """
    absent = [
        what
        for what, there in (
            ("libowlapi-java", Path("/usr/share/java/owlapi-api.jar").is_file()),
            ("a JDK (javac)", shutil.which("javac") is not None),
        )
        if not there
    ]
    if absent:
        pytest.skip(f"needs {' and '.join(absent)} (bash .ci/system-packages installs them)")
    nt = tmp_path / "all.nt"
    ox.serialize(_all_triples(built), str(nt), ox.RdfFormat.N_TRIPLES)
    proc = subprocess.run(
        [str(ROOT / "tools" / "owl-profile" / "run.sh"), str(nt)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OWL_PROFILE_INSTALL": "0"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("violations: 0")


def test_owlready2_loads_the_ontology(tmp_path: Path):
    path = tmp_path / "ontology.nt"
    ox.serialize(load_ontology(), str(path), ox.RdfFormat.N_TRIPLES)
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load(format="ntriples")
    names = {c.name for c in onto.classes()}
    assert {
        "AIModel",
        "ComponentAssessment",
        "OpennessLevel",
        "License",
        "LicenseEvaluation",
    } <= names
    assert world["https://w3id.org/genai-openness/ontology#C5"] is not None
