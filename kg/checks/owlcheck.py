"""A fast structural check of the OWL 2 DL typing rules that RDF data most often breaks.

It is no full profile checker (the test suite also runs the OWL API's OWL2DLProfile through
tools/owl-profile/run.sh); it catches, in milliseconds and without Java:
- a predicate that is not declared as exactly one of object, datatype or annotation property;
- an IRI declared both as a class and as a property, or as two kinds of property;
- an object property with a literal value, or a datatype property with an IRI value;
- an rdf:type to something that is not a declared class;
- a literal whose datatype is outside the OWL 2 datatype map on a datatype property;
- a literal whose datatype differs from the datatype property's declared range (a language-tagged
  string on an xsd:string property makes HermiT report the whole graph inconsistent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.vocab.namespaces import OWL, RDF, RDFS, XSD

_BUILTIN_PROPERTIES = {
    RDF + "type": "builtin",
    RDFS + "label": "annotation",
    RDFS + "comment": "annotation",
    RDFS + "seeAlso": "annotation",
    RDFS + "isDefinedBy": "annotation",
    RDFS + "subClassOf": "builtin",
    RDFS + "subPropertyOf": "builtin",
    RDFS + "domain": "builtin",
    RDFS + "range": "builtin",
    OWL + "versionIRI": "builtin",
    OWL + "versionInfo": "annotation",
    OWL + "imports": "builtin",
    OWL + "inverseOf": "builtin",
    OWL + "equivalentClass": "builtin",
    OWL + "disjointWith": "builtin",
    OWL + "sameAs": "builtin",
    # class-expression vocabulary (structural; lists use rdf:first/rdf:rest)
    **{
        OWL + t: "builtin"
        for t in (
            "unionOf",
            "intersectionOf",
            "complementOf",
            "oneOf",
            "onProperty",
            "someValuesFrom",
            "allValuesFrom",
            "hasValue",
            "minCardinality",
            "maxCardinality",
            "cardinality",
            "qualifiedCardinality",
            "onClass",
        )
    },
    RDF + "first": "builtin",
    RDF + "rest": "builtin",
}
_KINDS = {
    OWL + "ObjectProperty": "object",
    OWL + "DatatypeProperty": "datatype",
    OWL + "AnnotationProperty": "annotation",
}
_BUILTIN_CLASSES = {
    OWL + "Thing",
    OWL + "Class",
    OWL + "Ontology",
    OWL + "NamedIndividual",
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
    OWL + "FunctionalProperty",
    OWL + "TransitiveProperty",
    OWL + "SymmetricProperty",
    OWL + "InverseFunctionalProperty",
    RDFS + "Datatype",
    OWL + "Restriction",
}
# The OWL 2 datatype map (OWL 2 Structural Specification, section 4), as used in data.
DATATYPE_MAP = {
    RDF + "PlainLiteral",
    RDF + "XMLLiteral",
    RDFS + "Literal",
    OWL + "real",
    OWL + "rational",
    *(
        XSD + t
        for t in (
            "decimal",
            "integer",
            "nonNegativeInteger",
            "nonPositiveInteger",
            "positiveInteger",
            "negativeInteger",
            "long",
            "int",
            "short",
            "byte",
            "unsignedLong",
            "unsignedInt",
            "unsignedShort",
            "unsignedByte",
            "double",
            "float",
            "string",
            "normalizedString",
            "token",
            "language",
            "Name",
            "NCName",
            "NMTOKEN",
            "boolean",
            "hexBinary",
            "base64Binary",
            "anyURI",
            "dateTime",
            "dateTimeStamp",
        )
    ),
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
}


@dataclass(frozen=True)
class Violation:
    rule: str
    term: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.term} ({self.detail})"


def check(triples: Iterable[ox.Triple]) -> list[Violation]:
    """Return the violations found in `triples` (ontology and data together)."""
    triples = list(triples)
    kinds: dict[str, set[str]] = {}
    classes: set[str] = set(_BUILTIN_CLASSES)
    ranges: dict[str, str] = {}
    for t in triples:
        if t.predicate.value == RDFS + "range" and isinstance(t.object, ox.NamedNode):
            ranges[_name(t.subject)] = t.object.value
        if t.predicate.value == RDF + "type" and isinstance(t.object, ox.NamedNode):
            if t.object.value in _KINDS:
                kinds.setdefault(_name(t.subject), set()).add(_KINDS[t.object.value])
            elif t.object.value in (OWL + "Class", RDFS + "Datatype"):
                classes.add(_name(t.subject))
    out: list[Violation] = []
    for iri, ks in sorted(kinds.items()):
        if len(ks) > 1:
            out.append(Violation("property declared as several kinds", iri, ", ".join(sorted(ks))))
        if iri in classes:
            out.append(Violation("IRI is both a class and a property", iri, ", ".join(ks)))
    seen: set[tuple[str, str]] = set()
    for t in triples:
        p = t.predicate.value
        kind = _BUILTIN_PROPERTIES.get(p) or next(iter(kinds.get(p, {"undeclared"})))
        key = (p, kind)
        if kind == "undeclared":
            if key not in seen:
                out.append(Violation("undeclared property", p, f"used on {_name(t.subject)}"))
            seen.add(key)
            continue
        obj = t.object
        if kind == "object" and isinstance(obj, ox.Literal):
            out.append(
                Violation(
                    "object property with a literal value",
                    p,
                    f"{_name(t.subject)} -> {obj.value!r}",
                )
            )
        elif kind == "datatype":
            if not isinstance(obj, ox.Literal):
                out.append(Violation("datatype property with an IRI value", p, str(obj)))
            elif obj.datatype.value not in DATATYPE_MAP:
                out.append(
                    Violation(
                        "datatype outside the OWL 2 datatype map",
                        p,
                        f"{obj.datatype.value} on {_name(t.subject)}",
                    )
                )
            elif (
                ranges.get(p) in DATATYPE_MAP
                and ranges[p] != RDFS + "Literal"
                and obj.datatype.value != ranges[p]
            ):
                # e.g. a language-tagged string on an xsd:string property: HermiT then finds
                # the whole graph inconsistent (rdf:langString and xsd:string are disjoint)
                out.append(
                    Violation(
                        "value outside the property's datatype range",
                        p,
                        f"{obj.datatype.value} (range {ranges[p]}) on {_name(t.subject)}",
                    )
                )
        elif p == RDF + "type" and isinstance(obj, ox.NamedNode) and obj.value not in classes:
            if (obj.value, "type") not in seen:
                out.append(
                    Violation("type is not a declared class", obj.value, f"on {_name(t.subject)}")
                )
            seen.add((obj.value, "type"))
    return out


def _name(term: ox.NamedNode | ox.BlankNode | ox.Triple) -> str:
    """The IRI or blank-node id of a subject (a quoted triple as its text)."""
    return str(term) if isinstance(term, ox.Triple) else term.value
