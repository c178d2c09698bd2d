"""The paper's online tracker (as imported by `kg import tracker`) -> quads in its own graph."""

from __future__ import annotations

import re

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.rdf import A, GraphWriter, integer, source_part, statement_graph
from kg.sources.tracker import IMPORT_FILE, TrackerCell
from kg.vocab.namespaces import DCTERMS, PROV, RDFS, Base, gao


def tracker_quads(cells: list[TrackerCell], base: Base) -> list[Quad]:
    """The imported cells as judgments (gao:SourceJudgment, on the paper's own scale) in
    `graph/imports/tracker`, with provenance."""
    if not cells:
        return []
    graph = base.graph("imports", "tracker")
    g = GraphWriter(graph)
    dataset = base.iri("source", "tracker")
    files = sorted({c.file for c in cells})
    for c in cells:
        row = files.index(c.file) + 1
        part = base.iri("source", "tracker", re.sub(r"[^a-z0-9]+", "-", c.file.lower()).strip("-"))
        node = base.iri("judgment", "tracker", c.model, c.component)
        kind = "C" if c.component.endswith("-code") else "D"
        # a judgment of another source, not one of the paper's Table 3 cells: the paper's
        # questions (gao:ComponentAssessment) never see it; who-says and source-disagreements do
        g.add(node, A, gao("SourceJudgment"))
        g.add(node, gao("judgedModel"), base.iri("model", c.model))
        g.add(node, gao("assessedTerm"), base.iri("framework", "eiras2024", c.component))
        g.add(node, gao("judgedVariant"), Literal(c.title))
        g.add(node, DCTERMS + "source", part)
        g.add(node, gao("sourceRow"), integer(row))
        g.add(node, gao("curatedRecord"), Literal(f"{IMPORT_FILE} ({c.file})"))
        written = c.value + (f" ({c.license})" if c.license else "")
        g.add(node, gao("notationInSource"), Literal(written))
        if c.value == "N/A":
            g.add(node, gao("scaleValue"), gao("not-applicable"))
        elif c.value == "Unknown":
            g.add(node, gao("scaleValue"), gao("not-publicly-available"))
        else:
            g.add(node, gao("scaleValue"), gao(f"{kind}{c.value}"))
        source_part(g, part, c.file, dataset)
        if c.link:
            g.add(part, RDFS + "seeAlso", NamedNode(c.link))
    meta = GraphWriter(base.graph("metadata"))
    statement_graph(meta, graph, "Judgments imported from the paper's online tracker")
    meta.add(graph, PROV + "wasDerivedFrom", dataset)
    meta.add(
        dataset,
        RDFS + "label",
        Literal(
            f"The paper's online tracker ({len(files)} model "
            "files, imported with kg import tracker)",
            language="en",
        ),
    )
    return [*g.quads, *(Quad(q.subject, q.predicate, q.object, q.graph_name) for q in meta.quads)]
