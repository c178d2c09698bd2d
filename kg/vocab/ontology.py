"""Loading the ontology modules and reading the controlled vocabularies the sources refer to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import GAO, ONTOLOGY_IRI, RDF, RDFS


def ontology_files(folder: Path | None = None) -> list[Path]:
    folder = folder or resource_dir("ontology")
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise KgError(f"no ontology modules (*.ttl) in {folder}")
    return files


def load_ontology(folder: Path | None = None) -> list[ox.Triple]:
    """Parse every module; a syntax error names the file and line. Every term the modules
    declare in the ontology's namespace gets `rdfs:isDefinedBy` the ontology."""
    triples: list[ox.Triple] = []
    for path in ontology_files(folder):
        try:
            triples.extend(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except SyntaxError as exc:
            raise KgError(f"{path}: not valid Turtle: {exc}") from None
    return triples + defined_by(triples)


def defined_by(triples: list[ox.Triple]) -> list[ox.Triple]:
    """`rdfs:isDefinedBy` the ontology for each own term (a typed subject in its namespace)."""
    terms = sorted(
        {
            t.subject.value
            for t in triples
            if isinstance(t.subject, ox.NamedNode)
            and t.subject.value.startswith(GAO)
            and t.predicate.value == RDF + "type"
        }
    )
    stated = {
        (t.subject.value, t.predicate.value) for t in triples if isinstance(t.subject, ox.NamedNode)
    }
    return [
        ox.Triple(
            ox.NamedNode(term), ox.NamedNode(RDFS + "isDefinedBy"), ox.NamedNode(ONTOLOGY_IRI)
        )
        for term in terms
        if (term, RDFS + "isDefinedBy") not in stated
    ]


@dataclass(frozen=True)
class Concept:
    iri: str
    notation: str | None
    label: str
    position: int | None

    @property
    def slug(self) -> str:
        return self.iri.removeprefix(GAO)


@dataclass(frozen=True)
class Vocabulary:
    """The concepts curated sources may name, read from the ontology (the one source of truth)."""

    components: dict[str, tuple[str, str]]  # notation -> (IRI, kind C/D), in column order
    levels: dict[str, tuple[str, str, int]]  # notation -> (IRI, kind, rank)
    criteria: list[Concept]
    restrictiveness: list[Concept]
    metrics: list[Concept]
    organisation_kinds: list[Concept]


def vocabulary(triples: list[ox.Triple]) -> Vocabulary:
    store = OxigraphStore.in_memory()
    store.add_quads(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    internal = resource_dir("queries") / "internal"
    comps = store.select(parse_query_file(internal / "components.rq"))
    levels = store.select(parse_query_file(internal / "levels.rq"))
    concepts_q = parse_query_file(internal / "concepts.rq")

    def scheme(local: str) -> list[Concept]:
        result = store.select(concepts_q, {"scheme": ox.NamedNode(GAO + local)})
        return [
            Concept(
                iri=r["concept"].value,
                notation=r["notation"].value if r.get("notation") else None,
                label=r["label"].value,
                position=int(r["position"].value) if r.get("position") else None,
            )
            for r in result.rows
        ]

    return Vocabulary(
        components={
            r["notation"].value: (r["component"].value, r["kind"].value) for r in comps.rows
        },
        levels={
            r["notation"].value: (r["level"].value, r["kind"].value, int(r["rank"].value))
            for r in levels.rows
        },
        criteria=scheme("permission-criteria"),
        restrictiveness=scheme("restrictiveness-categories"),
        metrics=scheme("impact-metrics"),
        organisation_kinds=scheme("organisation-kinds"),
    )
