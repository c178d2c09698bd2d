"""Curated statements -> RDF: each section of the paper in its own named graph, citations as
CiTO, the curators' links and alignments in their own graphs with one SSSOM record per row."""

from __future__ import annotations

import re
from collections.abc import Callable

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.paper import SOURCE_KEY
from kg.mapping.rdf import A, GraphWriter, boolean, integer, typed
from kg.sources.argument import CuratedStatements
from kg.vocab.namespaces import DCTERMS, PAPER_IRI, PROV, RDFS, SKOS, Base, gao

# One curated link or alignment: subject, predicate, object, justification, author, date,
# comment, curated record, kind of mapping, label.
MappingRow = tuple[NamedNode, NamedNode, NamedNode, str, str, str | None, str, str, str, str]
CITO = "http://purl.org/spar/cito/"
SSSOM = "https://w3id.org/sssom/"
STANCE = {"supports": CITO + "obtainsSupportFrom", "contests": CITO + "disagreesWith"}
KIND_CLASS = {
    "opportunity": "Opportunity",
    "risk": "Risk",
    "harm-pathway": "HarmPathway",
    "framing": "FramingStatement",
}
AREA = {
    "4.1": "quality-and-transparency",
    "4.2": "research-and-academic-impact",
    "4.3": "innovation-industry-and-economic-impact",
    "4.4": "safety",
    "4.5": "societal-and-environmental-impact",
}
RELATION = {
    "concerns-component": "concernsComponent",
    "addresses": "addresses",
    "concerns-statement": "concernsStatement",
}
INSTRUMENT = {"recommendation": "international-recommendation"}
PREFIX_IRI = {"skos": SKOS}
LABEL = NamedNode(RDFS + "label")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _SectionGraphs:
    """The named graph of each section of the paper, and which section each item is in."""

    def __init__(self, graph_of: Callable[[str], NamedNode]) -> None:
        self.graph_of = graph_of
        self.graphs: dict[str, GraphWriter] = {}
        self.sections: set[str] = set()
        self.section_of: dict[str, str] = {}

    def writer(self, section: str) -> GraphWriter:
        iri = self.graph_of(section)
        return self.graphs.setdefault(iri.value, GraphWriter(iri))


class StatementsMapper:
    def __init__(self, base: Base) -> None:
        self.b = base

    def iri(self, st: CuratedStatements, ident: str) -> NamedNode:
        kind = st.kind_of(ident)
        return self.b.iri(kind or "statement", ident)

    def work(self, ident: str) -> NamedNode:
        return self.b.iri("work", ident)

    def part(self, section: str) -> NamedNode:
        return self.b.iri("source", "paper", "section-" + _slug(section))

    def section_graph(self, section: str) -> NamedNode:
        top = section if section.startswith("5") else section.split(".")[0]
        name = "appendix-b-1" if section.startswith("B") else "section-" + _slug(top)
        return self.b.graph("paper", name)

    def quads(self, st: CuratedStatements) -> list[Quad]:
        """Every item of the argument in the graph of its section, the references, and the
        curators' links, alignments and identifiers in their own graphs."""
        sec = _SectionGraphs(self.section_graph)
        self._statements(st, sec)
        self._claims(st, sec)
        self._recommendations(st, sec)
        self._regulations(st, sec)
        refs, curation = self._works(st)
        self._citations(st, sec)
        quads = [q for gr in (*sec.graphs.values(), refs, curation) for q in gr.quads]
        quads += self._curated_records(st)
        quads += self._metadata(sec.sections, sec.graphs)
        return quads

    def _statements(self, st: CuratedStatements, sec: _SectionGraphs) -> None:
        for s in st.statements:
            n = self.iri(st, s.id)
            gr = sec.writer(s.section)
            self._common(gr, n, s.id, s.title, s.summary, s.section, s.record)
            gr.add(n, A, gao(KIND_CLASS[s.kind]))
            for stage in s.stages:
                gr.add(n, gao("developmentStage"), gao(stage))
            if s.kind in ("risk", "opportunity") and s.section in AREA:
                gr.add(n, gao("impactArea"), gao(AREA[s.section]))
            gr.add(n, gao("arguedWithoutCitation"), boolean(s.uncited))
            sec.sections.add(s.section)
            sec.section_of[s.id] = s.section

    def _claims(self, st: CuratedStatements, sec: _SectionGraphs) -> None:
        for c in st.claims:
            n = self.iri(st, c.id)
            gr = sec.writer(c.section)
            self._common(gr, n, c.id, c.title, c.summary, c.section, c.record)
            gr.add(n, A, gao("Claim"))
            gr.add(n, gao("number"), integer(c.number))
            gr.add(n, gao("verdict"), gao(c.verdict))
            gr.add(n, gao("verdictSummary"), Literal(c.verdict_summary, language="en"))
            gr.add(n, gao("arguedWithoutCitation"), boolean(c.uncited))
            sec.sections.add(c.section)
            sec.section_of[c.id] = c.section

    def _recommendations(self, st: CuratedStatements, sec: _SectionGraphs) -> None:
        for r in st.recommendations:
            n = self.iri(st, r.id)
            gr = sec.writer(r.section)
            self._common(gr, n, r.id, r.title, r.summary, r.section, r.record)
            gr.add(n, A, gao("Recommendation"))
            gr.add(n, gao("number"), integer(r.number))
            sec.sections.add(r.section)
            sec.section_of[r.id] = r.section

    def _regulations(self, st: CuratedStatements, sec: _SectionGraphs) -> None:
        for reg in st.regulations:
            n = self.iri(st, reg.id)
            gr = sec.writer(reg.section)
            self._common(gr, n, reg.id, reg.title, None, reg.section, reg.record)
            gr.add(n, A, gao("PolicyInstrument"))
            gr.add(n, gao("shortTitle"), Literal(reg.short_title))
            gr.add(n, gao("instrumentType"), gao(INSTRUMENT.get(reg.instrument, reg.instrument)))
            gr.add(n, gao("jurisdiction"), Literal(reg.jurisdiction))
            if reg.issuing_body:
                gr.add(n, gao("issuingBody"), Literal(reg.issuing_body))
            if reg.date:
                gr.add(
                    n,
                    gao("instrumentDate"),
                    typed(reg.date, "gYearMonth" if "-" in reg.date else "gYear"),
                )
            if reg.status:
                gr.add(n, gao("statusDescription"), Literal(reg.status, language="en"))
            if reg.open_source_position:
                gr.add(
                    n, gao("openSourcePosition"), Literal(reg.open_source_position, language="en")
                )
            sec.sections.add(reg.section)
            sec.section_of[reg.id] = reg.section

    def _works(self, st: CuratedStatements) -> tuple[GraphWriter, GraphWriter]:
        """The cited works, and the curators' identifiers for them (kept apart)."""
        refs = GraphWriter(self.b.graph("paper", "references"))
        curation = GraphWriter(self.b.graph("curation", "identifiers"))
        for w in st.works:
            n = self.work(w.id)
            refs.add(n, A, gao("CitedWork"))
            refs.add(n, gao("authorsAsCited"), Literal(w.authors))
            if w.year is None:
                refs.add(n, gao("yearStatus"), gao("not-reported"))
            else:
                refs.add(n, gao("publicationYear"), integer(w.year))
            label = f"{w.authors}, {w.year if w.year is not None else 'n.d.'}"
            refs.add(n, LABEL, Literal(label, language="en"))
            if w.title:
                refs.add(n, DCTERMS + "title", Literal(w.title))
            if w.identifier:  # not in the paper's text: a curators' addition, kept apart
                curation.add(n, DCTERMS + "identifier", Literal(w.identifier))
            refs.add(n, DCTERMS + "source", NamedNode(PAPER_IRI))
            refs.add(n, gao("curatedRecord"), Literal(w.record))
        return refs, curation

    def _citations(self, st: CuratedStatements, sec: _SectionGraphs) -> None:
        for cit in st.citations:
            citing = self.iri(st, cit.citing)
            gr = sec.writer(sec.section_of[cit.citing])
            node = self.b.iri("citation", SOURCE_KEY, cit.citing, cit.cited)
            stance = NamedNode(STANCE[cit.stance])
            gr.add(node, A, NamedNode(CITO + "Citation"))
            gr.add(node, CITO + "hasCitingEntity", citing)
            gr.add(node, CITO + "hasCitedEntity", self.work(cit.cited))
            gr.add(node, gao("citationStance"), stance)
            gr.add(node, gao("curatedRecord"), Literal(cit.record))
            gr.add(citing, stance, self.work(cit.cited))

    def _curated_records(self, st: CuratedStatements) -> list[Quad]:
        """The curators' links and alignments, each with its SSSOM mapping record."""
        quads: list[Quad] = []
        quads += self._records(
            st,
            self.b.graph("curation", "links"),
            [
                (
                    self.iri(st, lk.subject),
                    gao(RELATION[lk.relation]),
                    gao(lk.object)
                    if lk.relation == "concerns-component"
                    else self.iri(st, lk.object),
                    "semapv:ManualMappingCuration",
                    "kg-curators",
                    None,
                    lk.basis,
                    lk.record,
                    "link",
                    "",
                )
                for lk in st.links
            ],
        )
        quads += self._records(
            st,
            self.b.graph("curation", "alignments"),
            [
                (
                    self.iri(st, al.subject),
                    NamedNode(_expand(al.predicate)),
                    NamedNode(al.object),
                    al.justification,
                    al.author,
                    al.date,
                    al.comment,
                    al.record,
                    "alignment",
                    al.object_label,
                )
                for al in st.alignments
            ],
        )
        return quads

    def _common(
        self,
        gr: GraphWriter,
        n: NamedNode,
        ident: str,
        title: str,
        summary: str | None,
        section: str,
        record: str,
    ) -> None:
        gr.add(n, LABEL, Literal(title, language="en"))
        gr.add(n, DCTERMS + "identifier", Literal(ident))
        if summary:
            gr.add(n, DCTERMS + "description", Literal(summary, language="en"))
        gr.add(n, gao("section"), Literal(section))
        gr.add(n, DCTERMS + "source", self.part(section))
        gr.add(n, gao("curatedRecord"), Literal(record))

    def _records(
        self, st: CuratedStatements, graph: NamedNode, rows: list[MappingRow]
    ) -> list[Quad]:
        gr = GraphWriter(graph)
        for (
            subject,
            predicate,
            obj,
            justification,
            author,
            date,
            comment,
            record,
            kind,
            label,
        ) in rows:
            gr.add(subject, predicate, obj)
            node = self.b.iri(
                "mapping",
                kind,
                _slug(
                    f"{subject.value.rsplit('/', 1)[-1]}-"
                    f"{predicate.value.rsplit('#', 1)[-1]}-"
                    f"{obj.value.rsplit('/', 1)[-1]}"
                ),
            )
            gr.add(node, A, gao("MappingRecord"))
            gr.add(node, SSSOM + "subject_id", subject)
            gr.add(node, SSSOM + "predicate_id", predicate)
            gr.add(node, SSSOM + "object_id", obj)
            if label:
                gr.add(node, SSSOM + "object_label", Literal(label))
            gr.add(node, SSSOM + "mapping_justification", Literal(justification))
            gr.add(node, SSSOM + "author_id", Literal(author))
            if date:
                gr.add(node, SSSOM + "mapping_date", typed(date, "date"))
            if comment:
                gr.add(node, RDFS + "comment", Literal(comment, language="en"))
            gr.add(node, gao("curatedRecord"), Literal(record))
        return gr.quads

    def _metadata(self, sections: set[str], graphs: dict[str, GraphWriter]) -> list[Quad]:
        meta = GraphWriter(self.b.graph("metadata"))
        paper = NamedNode(PAPER_IRI)
        for section in sorted(sections):
            part = self.part(section)
            name = f"Appendix {section}" if section.startswith("B") else f"Section {section}"
            meta.add(part, A, gao("SourcePart"))
            meta.add(part, DCTERMS + "identifier", Literal(name))
            meta.add(part, LABEL, Literal(name, language="en"))
            meta.add(part, DCTERMS + "isPartOf", paper)
            graph = self.section_graph(section)
            meta.add(graph, PROV + "wasDerivedFrom", part)
        for iri in [*graphs, self.b.graph("paper", "references").value]:
            graph = NamedNode(iri)
            meta.add(graph, A, gao("StatementGraph"))
            meta.add(graph, DCTERMS + "source", paper)
            title = iri.rsplit("/", 1)[-1].replace("-", " ")
            meta.add(
                graph, DCTERMS + "title", Literal(f"The paper's statements: {title}", language="en")
            )
        refs = self.b.graph("paper", "references")
        meta.add(refs, PROV + "wasDerivedFrom", paper)
        for name, title in (
            (
                "identifiers",
                "Curators' identifiers (arXiv) for cited works the "
                "paper's text names only by author and year",
            ),
            (
                "links",
                "Curators' links between statements, components and "
                "recommendations, each with its basis",
            ),
            (
                "alignments",
                "Curators' alignments of the paper's statements to "
                "external vocabularies (SSSOM records)",
            ),
        ):
            graph = self.b.graph("curation", name)
            meta.add(graph, A, gao("StatementGraph"))
            meta.add(graph, DCTERMS + "title", Literal(title, language="en"))
            meta.add(graph, DCTERMS + "creator", Literal("GenAI Openness Knowledge Graph curators"))
        return meta.quads


def _expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return PREFIX_IRI[prefix] + local
