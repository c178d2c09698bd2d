"""Reading the curated framework tables: each framework's terms, the crosswalk (SSSOM) from
them onto the component vocabulary, and the scale correspondences.

- `curation/framework-terms.csv`: framework, term (IRI slug), label (the framework's own name),
  generations, definition;
- `curation/crosswalk.csv`: SSSOM columns (subject_id `framework:term`, subject_label,
  predicate_id, object_id a component notation, mapping_justification, author_id, mapping_date,
  comment: the reason);
- `curation/scales.csv`: framework, value (as the framework writes it), category (closed,
  semi-open, open: the paper's openness categories), basis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.sources.csvio import read_table

TERMS_FILE = "curation/framework-terms.csv"
CROSSWALK_FILE = "curation/crosswalk.csv"
SCALES_FILE = "curation/scales.csv"
FRAMEWORKS = {
    "eiras2024": "The paper's openness taxonomy (Eiras et al., 2024)",
    "eosai": "European Open Source AI Index",
    "mof": "Model Openness Framework 1.0 (Model Openness Tool)",
}
PREDICATES = ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch")
CATEGORIES = ("closed", "semi-open", "open")


@dataclass(frozen=True)
class Term:
    framework: str
    term: str
    label: str
    generations: str
    definition: str
    record: str = field(kw_only=True)


@dataclass(frozen=True)
class Mapping:
    framework: str
    term: str
    predicate: str  # skos:exactMatch ...
    component: str  # component notation
    justification: str
    author: str
    date: str
    comment: str
    record: str


@dataclass(frozen=True)
class ScaleEntry:
    framework: str
    value: str
    category: str
    basis: str
    record: str = field(kw_only=True)


@dataclass(frozen=True)
class Frameworks:
    terms: list[Term]
    mappings: list[Mapping]
    scales: list[ScaleEntry]

    def term_for(self, framework: str, label: str) -> Term | None:
        """The term a framework writes as `label` (MOF components are named by label)."""
        for t in self.terms:
            if t.framework == framework and (t.label == label or t.term == label):
                return t
        return None


def component_notations(triples: list[ox.Triple]) -> set[str]:
    """The notations of the component vocabulary (every gao:OpennessComponent and
    gao:PipelineComponent of the ontology)."""
    from kg.vocab.namespaces import GAO, RDF, SKOS

    kinds = {GAO + "OpennessComponent", GAO + "PipelineComponent"}
    spo = [  # as values; quoted triples (RDF-star) have none
        (t.subject.value, t.predicate.value, t.object.value)
        for t in triples
        if not isinstance(t.subject, ox.Triple) and not isinstance(t.object, ox.Triple)
    ]
    members = {s for s, p, o in spo if p == RDF + "type" and o in kinds}
    return {o for s, p, o in spo if s in members and p == SKOS + "notation"}


def load_frameworks(root: Path, components: set[str]) -> Frameworks:
    """Read and check the three tables; `components` are the vocabulary's notations."""
    terms: list[Term] = []
    seen: set[tuple[str, str]] = set()
    for row in read_table(root / TERMS_FILE, [*_TERM_COLUMNS], display=TERMS_FILE):
        if row["framework"] not in FRAMEWORKS:
            raise row.error(f"unknown framework '{row['framework']}'", field="framework")
        key = (row["framework"], row["term"])
        if key in seen:
            raise row.error("a second row for the same term", field="term")
        seen.add(key)
        terms.append(Term(*(row[c] for c in _TERM_COLUMNS), record=row.where))
    mappings = []
    for row in read_table(root / CROSSWALK_FILE, [*_MAP_COLUMNS], display=CROSSWALK_FILE):
        framework, _, term = row["subject_id"].partition(":")
        if (framework, term) not in seen:
            raise row.error(
                f"'{row['subject_id']}' is not a term of framework-terms.csv", field="subject_id"
            )
        if row["predicate_id"] not in PREDICATES:
            raise row.error(
                f"predicate '{row['predicate_id']}' is not one of {', '.join(PREDICATES)}",
                field="predicate_id",
            )
        if row["object_id"] not in components:
            raise row.error(f"unknown component '{row['object_id']}'", field="object_id")
        if not row["comment"].strip():
            raise row.error("every mapping needs its reason", field="comment")
        mappings.append(
            Mapping(
                framework,
                term,
                row["predicate_id"],
                row["object_id"],
                row["mapping_justification"],
                row["author_id"],
                row["mapping_date"],
                row["comment"],
                row.where,
            )
        )
    scales = []
    values: set[tuple[str, str]] = set()
    for row in read_table(root / SCALES_FILE, [*_SCALE_COLUMNS], display=SCALES_FILE):
        if row["framework"] not in FRAMEWORKS:
            raise row.error(f"unknown framework '{row['framework']}'", field="framework")
        if row["category"] not in CATEGORIES:
            raise row.error(f"unknown category '{row['category']}'", field="category")
        if not row["basis"].strip():
            raise row.error("every correspondence needs its reasoning", field="basis")
        if (row["framework"], row["value"]) in values:
            raise row.error("a second row for the same value", field="value")
        values.add((row["framework"], row["value"]))
        scales.append(ScaleEntry(*(row[c] for c in _SCALE_COLUMNS), record=row.where))
    return Frameworks(terms, mappings, scales)


_TERM_COLUMNS = ("framework", "term", "label", "generations", "definition")
_MAP_COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "author_id",
    "mapping_date",
    "comment",
)
_SCALE_COLUMNS = ("framework", "value", "category", "basis")
