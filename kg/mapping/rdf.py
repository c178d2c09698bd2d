"""What every mapping uses: typed literals, `rdf:type`, and a writer of one named graph's quads."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.vocab.namespaces import RDF, XSD

A = NamedNode(RDF + "type")


def integer(value: int) -> Literal:
    """An `xsd:integer` literal."""
    return Literal(str(value), datatype=NamedNode(XSD + "integer"))


def typed(value: str, datatype: str) -> Literal:
    """A literal of the XSD datatype `datatype` (local name, e.g. "date")."""
    return Literal(value, datatype=NamedNode(XSD + datatype))


def boolean(value: bool) -> Literal:
    """An `xsd:boolean` literal."""
    return Literal("true" if value else "false", datatype=NamedNode(XSD + "boolean"))


class GraphWriter:
    """Collects the triples of one named graph as quads."""

    def __init__(self, iri: NamedNode) -> None:
        self.iri = iri
        self.quads: list[Quad] = []

    def add(self, s: NamedNode, p: str | NamedNode, o: NamedNode | Literal) -> None:
        pred = p if isinstance(p, NamedNode) else NamedNode(p)
        self.quads.append(Quad(s, pred, o, self.iri))
