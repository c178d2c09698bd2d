"""Accepted Wikidata links (as written by `kg link wikidata`) -> quads in their own graph."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.rdf import GraphWriter, statement_graph, typed
from kg.sources.wikidata import LinkRow
from kg.vocab.namespaces import DCTERMS, PROV, SKOS, Base, gao


def link_quads(rows: list[LinkRow], base: Base) -> list[Quad]:
    """Accepted links (skos:exactMatch) and the item's developers, with provenance."""
    if not rows:
        return []
    graph = base.graph("links", "wikidata")
    g = GraphWriter(graph)
    for r in rows:
        if r.status != "accepted":
            continue
        subject = base.iri("model" if r.kind == "model" else "organisation", r.id)
        item = NamedNode(r.item)
        g.add(subject, SKOS + "exactMatch", item)
        for dev in r.developers.split():
            g.add(item, "http://www.wikidata.org/prop/direct/P178", NamedNode(dev))
    meta = GraphWriter(base.graph("metadata"))
    statement_graph(
        meta,
        graph,
        "Links to Wikidata accepted by kg link wikidata (single exact-label candidates), with "
        "the developer (P178) Wikidata gives",
    )
    first = rows[0]
    meta.add(graph, PROV + "wasDerivedFrom", NamedNode(first.endpoint))
    meta.add(graph, gao("derivationRule"), Literal(first.query))
    meta.add(graph, DCTERMS + "created", typed(first.date, "date"))
    meta.add(
        graph,
        gao("reviewStatus"),
        Literal(
            "accepted automatically: exactly one item has "
            "the exact English label; ambiguous and missing "
            "names await a person"
        ),
    )
    return g.quads + meta.quads
