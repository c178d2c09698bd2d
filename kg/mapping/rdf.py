"""What every mapping uses: typed literals, `rdf:type`, and a writer of one named graph's quads."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.vocab.namespaces import DCTERMS, RDF, XSD, gao

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

    def take(self) -> list[Quad]:
        """The quads added since the last `take`, handed over (for mappers that stream record by
        record: the writer then holds one record's quads, not the graph's)."""
        quads, self.quads = self.quads, []
        return quads


def statement_graph(meta: GraphWriter, graph: NamedNode, title: str, creator: str = "") -> None:
    """In the metadata graph `meta`: `graph` is a gao:StatementGraph with its title (English)
    and, if given, its creator."""
    meta.add(graph, A, gao("StatementGraph"))
    meta.add(graph, DCTERMS + "title", Literal(title, language="en"))
    if creator:
        meta.add(graph, DCTERMS + "creator", Literal(creator))


def source_part(g: GraphWriter, part: NamedNode, file: str, dataset: NamedNode) -> None:
    """`part`, one record (file) of an imported source, as a gao:SourcePart of `dataset`."""
    g.add(part, A, gao("SourcePart"))
    g.add(part, DCTERMS + "identifier", Literal(file))
    g.add(part, DCTERMS + "isPartOf", dataset)
