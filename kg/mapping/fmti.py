"""The Foundation Model Transparency Index (as imported by `kg import fmti`) -> quads in
`graph/imports/fmti`, described with PROV/DCTERMS in the metadata graph.

    {base}fmti/{edition}                               gao:TransparencyIndexEdition
    {base}fmti/{edition}/indicator/{indicator}         gao:TransparencyIndicator
    {base}fmti/{edition}/{developer}                   gao:TransparencyAssessment
    {base}fmti/{edition}/{developer}/{indicator}       gao:IndicatorScore
    {base}fmti/developer/{developer}                   a developer the graph has no organisation for
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.rdf import A, GraphWriter, integer, typed
from kg.sources.fmti import (
    ATTRIBUTION,
    EDITIONS,
    IMPORT_FILE,
    LICENSE,
    TITLE,
    UPSTREAM,
    Imported,
    slug,
)
from kg.sources.workspace import Provenance
from kg.vocab.namespaces import DCTERMS, PROV, RDFS, SKOS, Base, gao

LABEL = RDFS + "label"


def fmti_quads(data: Imported | None, base: Base, p: Provenance | None = None) -> list[Quad]:
    """The imported editions, indicators, assessments and scores, with provenance."""
    if data is None or not data.scores:
        return []
    graph = base.graph("imports", "fmti")
    g = GraphWriter(graph)
    dataset = base.iri("source", "fmti")
    editions = {e.key: e for e in EDITIONS}
    used = sorted({s.edition for s in data.scores})
    for key in used:
        node = base.iri("fmti", key)
        g.add(node, A, gao("TransparencyIndexEdition"))
        g.add(node, LABEL, Literal(f"{TITLE}, {key} edition", language="en"))
        g.add(node, DCTERMS + "issued", typed(editions[key].month, "gYearMonth"))
        g.add(node, DCTERMS + "source", dataset)
    for i in data.indicators:
        node = base.iri("fmti", i.edition, "indicator", slug(i.name))
        g.add(node, A, gao("TransparencyIndicator"))
        g.add(node, SKOS + "prefLabel", Literal(i.name, language="en"))
        g.add(node, gao("indicatorOfEdition"), base.iri("fmti", i.edition))
        if i.domain:
            g.add(node, gao("indicatorDomain"), Literal(i.domain))
        if i.subdomain:
            g.add(node, gao("indicatorSubdomain"), Literal(i.subdomain))
        if i.definition:
            g.add(node, SKOS + "definition", Literal(i.definition, language="en"))
        if i.notes:
            g.add(node, RDFS + "comment", Literal(i.notes, language="en"))
    seen: set[NamedNode] = set()
    for s in data.scores:
        dev = slug(s.developer)
        assessment = base.iri("fmti", s.edition, dev)
        if assessment not in seen:
            seen.add(assessment)
            g.add(assessment, A, gao("TransparencyAssessment"))
            g.add(assessment, LABEL, Literal(f"{s.developer}, FMTI {s.edition}", language="en"))
            g.add(assessment, gao("inEdition"), base.iri("fmti", s.edition))
            g.add(assessment, DCTERMS + "source", dataset)
            if s.organisation:
                developer = base.iri("organisation", s.organisation)
            else:
                developer = base.iri("fmti", "developer", dev)
                g.add(developer, A, NamedNode(PROV + "Agent"))
                g.add(developer, LABEL, Literal(s.developer, language="en"))
            g.add(assessment, gao("assessedDeveloper"), developer)
            g.add(assessment, gao("notationInSource"), Literal(s.developer))
            if s.model:
                g.add(assessment, gao("flagshipModelName"), Literal(s.model))
            if s.model_id:
                g.add(assessment, gao("flagshipModel"), base.iri("model", s.model_id))
            if s.stated_total is not None:
                g.add(assessment, gao("statedTotalScore"), integer(s.stated_total))
        score = base.iri("fmti", s.edition, dev, slug(s.indicator))
        g.add(score, A, gao("IndicatorScore"))
        g.add(assessment, gao("hasIndicatorScore"), score)
        g.add(
            score,
            gao("scoredIndicator"),
            base.iri("fmti", s.edition, "indicator", slug(s.indicator)),
        )
        g.add(score, gao("scoreValue"), integer(s.score))
        g.add(score, gao("curatedRecord"), Literal(f"{IMPORT_FILE} ({s.where})"))
        if s.disclosure:
            g.add(score, gao("disclosure"), Literal(s.disclosure))
        if s.justification:
            g.add(score, gao("justification"), Literal(s.justification))
        if s.references:
            g.add(score, gao("scoreReferences"), Literal(s.references))
    meta = GraphWriter(base.graph("metadata"))
    meta.add(graph, A, gao("StatementGraph"))
    meta.add(
        graph,
        DCTERMS + "title",
        Literal(f"Scores of the {TITLE} ({', '.join(used)} editions)", language="en"),
    )
    meta.add(graph, PROV + "wasDerivedFrom", dataset)
    meta.add(dataset, A, NamedNode(PROV + "Entity"))
    meta.add(
        dataset,
        LABEL,
        Literal(f"{TITLE} (stanford-crfm/fmti, imported with kg import fmti)", language="en"),
    )
    meta.add(dataset, PROV + "wasDerivedFrom", NamedNode(UPSTREAM))
    meta.add(dataset, DCTERMS + "source", NamedNode(UPSTREAM))
    meta.add(dataset, DCTERMS + "license", NamedNode(LICENSE))
    meta.add(dataset, DCTERMS + "bibliographicCitation", Literal(ATTRIBUTION))
    if p is not None and p.commit:
        meta.add(dataset, DCTERMS + "hasVersion", Literal(p.commit))
    if p is not None and p.retrieved:
        meta.add(dataset, DCTERMS + "date", typed(p.retrieved, "date"))
    return [*g.quads, *meta.quads]
