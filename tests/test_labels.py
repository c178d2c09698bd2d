"""Every linkable resource is labelled (in English, tagged the same way everywhere) and every term
of our own ontology has a definition and says which ontology defines it."""

from __future__ import annotations

import pyoxigraph as ox

from conftest import Built
from kg.release.release import Release
from kg.vocab.namespaces import GAO, ONTOLOGY_IRI, RDF, RDFS, SKOS

LABELS = {RDFS + "label", SKOS + "prefLabel"}
DEFINITIONS = {SKOS + "definition", RDFS + "comment"}
BASE = "https://w3id.org/genai-openness/"


def quads(built: Built) -> list[ox.Quad]:
    path = Release.current(built.out).dumps / "dataset.nq"
    return list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))


def test_every_linkable_resource_has_an_english_label(built: Built):
    data = quads(built)
    linkable = {
        q.subject.value
        for q in data
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(BASE)
    }
    labelled = {q.subject.value for q in data if q.predicate.value in LABELS}
    assert len(linkable) > 1300
    assert sorted(linkable - labelled) == []
    untagged = sorted(
        {
            f"{q.subject.value} {q.object.value!r}"
            for q in data
            if q.predicate.value in LABELS and q.object.language != "en"
        }
    )
    assert untagged == []


def test_derived_labels_read_as_what_they_join(built: Built):
    data = quads(built)
    label = {q.subject.value: q.object.value for q in data if q.predicate.value == RDFS + "label"}
    assert label[BASE + "assessment/eiras2024/llama-2/weights"] == (
        "LLaMA-2: model architecture and weights (Table 3)"
    )
    assert label[BASE + "model/llama-2/profile/training"] == "LLaMA-2: training profile"
    assert label[ONTOLOGY_IRI] == "GenAI Openness Ontology"


def test_every_own_term_has_a_definition_and_is_defined_by_the_ontology(built: Built):
    data = quads(built)
    terms = {
        q.subject.value
        for q in data
        if isinstance(q.subject, ox.NamedNode)
        and q.subject.value.startswith(GAO)
        and q.predicate.value == RDF + "type"
    }
    assert len(terms) > 150
    defined = {q.subject.value for q in data if q.predicate.value in DEFINITIONS}
    by = {
        q.subject.value
        for q in data
        if q.predicate.value == RDFS + "isDefinedBy" and q.object.value == ONTOLOGY_IRI
    }
    assert sorted(terms - defined) == []
    assert sorted(terms - by) == []
