"""Shared by the importers' mappings: IRIs, provenance, the framework tables and model identities.

Imported sources (EOSAI, MOT), their frameworks, the crosswalk and model identities -> quads.

Each source goes into its own named graph (`graph/imports/eosai`, `graph/imports/mot`), the
curated framework tables into `graph/curation/frameworks`, and the identity of each record's
model into `graph/links/model-identities`; the metadata graph describes each with PROV/DCTERMS
(upstream, commit or retrieval date, license, attribution).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.paper import LABEL, SOURCE
from kg.mapping.rdf import A, GraphWriter, source_part, statement_graph, typed
from kg.sources import eosai, mot
from kg.sources.frameworks import FRAMEWORKS, Frameworks
from kg.sources.identity import Record as IdRecord
from kg.sources.identity import Resolution, load_curated, record_slug, resolve, slug
from kg.sources.workspace import Provenance
from kg.vocab.namespaces import DCTERMS, PROV, RDFS, SKOS, Base, gao

SKOS_MATCH = {
    p: NamedNode(SKOS + p.split(":")[1])
    for p in ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch")
}
SSSOM = "https://w3id.org/sssom/"
KIND_IRI = {"base": "base-variant", "chat": "chat-variant", "instruct": "instruct-variant"}


def hf_repos_in(links: list[str]) -> tuple[str, ...]:
    out = []
    for link in links:
        m = re.match(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)", link)
        if m and m.group(1).split("/")[0] not in ("datasets", "spaces", "docs", "blog"):
            out.append(m.group(1))
    return tuple(out)


def identity_records(
    eosai_records: list[eosai.Record], mot_records: list[mot.Record]
) -> list[IdRecord]:
    recs = [
        IdRecord("eosai", r.file, r.name, hf_repos_in(r.links.get("system.link", [])))
        for r in eosai_records
    ]
    recs += [
        IdRecord("mot", r.file, r.name, (r.hf_repo,) if r.hf_repo else ()) for r in mot_records
    ]
    return recs


def resolve_all(
    root: Path,
    paper: dict[str, list[str]],
    eosai_records: list[eosai.Record],
    mot_records: list[mot.Record],
) -> Resolution:
    return resolve(paper, identity_records(eosai_records, mot_records), load_curated(root))


class ImportMapper:
    """Maps one build's imports under one base."""

    def __init__(self, base: Base) -> None:
        self.b = base
        self.meta = GraphWriter(base.graph("metadata"))

    # IRIs -------------------------------------------------------------------------
    def term(self, framework: str, term: str) -> NamedNode:
        return self.b.iri("framework", framework, term)

    def scale_value(self, framework: str, value: str) -> NamedNode:
        return self.b.iri("framework", framework, "value", slug(value) or "empty")

    def record(self, source: str, file: str) -> NamedNode:
        return self.b.iri("source", source, record_slug(file))

    def model(self, mid: str) -> NamedNode:
        return self.b.iri("model", mid)

    # provenance -------------------------------------------------------------------
    def describe(
        self,
        graph: NamedNode,
        title: str,
        dataset: NamedNode,
        p: Provenance | None,
        fallback: Provenance,
    ) -> None:
        p = p or fallback
        m = self.meta
        statement_graph(m, graph, title)
        m.add(graph, PROV + "wasDerivedFrom", dataset)
        m.add(dataset, A, NamedNode(PROV + "Entity"))
        m.add(dataset, LABEL, Literal(p.title or fallback.title, language="en"))
        upstream = p.upstream or fallback.upstream
        if upstream:
            m.add(dataset, PROV + "wasDerivedFrom", NamedNode(upstream))
            m.add(dataset, SOURCE, NamedNode(upstream))
        lic = p.license or fallback.license
        if lic:
            m.add(dataset, DCTERMS + "license", NamedNode(lic))
        if p.attribution or fallback.attribution:
            m.add(
                dataset,
                DCTERMS + "bibliographicCitation",
                Literal(p.attribution or fallback.attribution),
            )
        if p.commit:
            m.add(dataset, DCTERMS + "hasVersion", Literal(p.commit))
        if p.retrieved:
            m.add(dataset, DCTERMS + "date", typed(p.retrieved, "date"))

    # frameworks, crosswalk, scales -------------------------------------------------
    def frameworks(self, fw: Frameworks) -> list[Quad]:
        graph = self.b.graph("curation", "frameworks")
        g = GraphWriter(graph)
        for key, label in FRAMEWORKS.items():
            node = self.b.iri("framework", key)
            g.add(node, A, gao("Framework"))
            g.add(node, LABEL, Literal(label, language="en"))
        for t in fw.terms:
            node = self.term(t.framework, t.term)
            g.add(node, A, gao("FrameworkTerm"))
            g.add(node, SKOS + "prefLabel", Literal(t.label, language="en"))
            g.add(node, SKOS + "notation", Literal(t.term))
            g.add(node, SKOS + "definition", Literal(t.definition, language="en"))
            g.add(node, gao("inFramework"), self.b.iri("framework", t.framework))
            g.add(node, gao("curatedRecord"), Literal(t.record))
        for s in fw.scales:
            if s.framework == "eiras2024":
                continue  # the paper's levels carry their own category in the ontology
            node = self.scale_value(s.framework, s.value)
            g.add(node, A, gao("ScaleValue"))
            g.add(node, SKOS + "prefLabel", Literal(s.value, language="en"))
            g.add(node, SKOS + "notation", Literal(s.value))
            g.add(node, gao("inFramework"), self.b.iri("framework", s.framework))
            g.add(node, gao("opennessCategory"), gao(s.category))
            g.add(node, SKOS + "scopeNote", Literal(s.basis, language="en"))
            g.add(node, gao("curatedRecord"), Literal(s.record))
        for mp in fw.mappings:
            subject = self.term(mp.framework, mp.term)
            obj = gao(mp.component)
            g.add(subject, SKOS_MATCH[mp.predicate], obj)
            node = self.b.iri(
                "mapping",
                "crosswalk",
                f"{mp.framework}-{slug(mp.term)}-"
                f"{mp.predicate.split(':')[1].lower()}-{mp.component}",
            )
            g.add(node, A, gao("MappingRecord"))
            g.add(node, SSSOM + "subject_id", subject)
            g.add(node, SSSOM + "predicate_id", SKOS_MATCH[mp.predicate])
            g.add(node, SSSOM + "object_id", obj)
            g.add(node, SSSOM + "mapping_justification", Literal(mp.justification))
            g.add(node, SSSOM + "author_id", Literal(mp.author))
            if mp.date:
                g.add(node, SSSOM + "mapping_date", typed(mp.date, "date"))
            g.add(node, RDFS + "comment", Literal(mp.comment, language="en"))
            g.add(node, gao("curatedRecord"), Literal(mp.record))
        statement_graph(
            self.meta,
            graph,
            "Curators' framework tables: each framework's terms, the crosswalk onto the "
            "component vocabulary (SSSOM) and the scale correspondences",
            "GenAI Openness Knowledge Graph curators",
        )
        return g.quads

    # identities --------------------------------------------------------------------
    def identities(self, res: Resolution, paper: set[str]) -> list[Quad]:
        graph = self.b.graph("links", "model-identities")
        g = GraphWriter(graph)
        for mid, label in sorted(res.labels.items()):
            if mid in paper:
                continue
            g.add(self.model(mid), A, gao("SourceModel"))
            g.add(self.model(mid), LABEL, Literal(label, language="en"))
        for i in res.identities:
            part = self.record(i.source, i.record)
            g.add(part, gao("describesModel"), self.model(i.model))
            g.add(part, gao("identityBasis"), Literal(i.basis))
            if i.variant_of:
                g.add(self.model(i.model), gao("variantOf"), self.model(i.variant_of))
                v = i.variant
                if v is not None:
                    if v.size:
                        g.add(self.model(i.model), gao("variantSize"), Literal(v.size))
                    if v.kind:
                        g.add(self.model(i.model), gao("variantKind"), gao(KIND_IRI[v.kind]))
                    if v.version:
                        g.add(self.model(i.model), gao("variantVersion"), Literal(v.version))
        if not res.identities:
            return []
        statement_graph(
            self.meta,
            graph,
            "Which model each imported record describes: automatic where unambiguous (same "
            "normalised name, a Hugging Face repository another source gives, a variant of a "
            "known family by name), curated otherwise (sources/curation/model-identities.csv)",
            "kg build, from the imports and the curators' identity table",
        )
        return g.quads

    # one imported source's graph ------------------------------------------------------
    def source_graph(self, source: str) -> tuple[GraphWriter, NamedNode]:
        """The writer of `graph/imports/{source}` and the source's dataset IRI."""
        return GraphWriter(self.b.graph("imports", source)), self.b.iri("source", source)

    def source_part(self, g: GraphWriter, source: str, file: str) -> NamedNode:
        """One record (file) of `source` as a part of the source's dataset."""
        part = self.record(source, file)
        source_part(g, part, file, self.b.iri("source", source))
        return part

    def fields(
        self,
        g: GraphWriter,
        node: NamedNode,
        values: dict[str, str],
        props: Iterable[tuple[str, str]],
    ) -> None:
        """`node gao:{prop} "value"` for each (key, prop) whose value is not empty, as written."""
        for key, prop in props:
            if values.get(key):
                g.add(node, gao(prop), Literal(values[key]))

    def judgment(
        self,
        g: GraphWriter,
        source: str,
        file: str,
        local: str,
        *,
        model: NamedNode,
        term: NamedNode,
        part: NamedNode,
    ) -> NamedNode:
        """A source's judgment of one model on one framework term, from one record (`part`):
        `{base}judgment/{source}/{record}/{local}`."""
        node = self.b.iri("judgment", source, record_slug(file), local)
        g.add(node, A, gao("SourceJudgment"))
        g.add(node, gao("judgedModel"), model)
        g.add(node, gao("assessedTerm"), term)
        g.add(node, SOURCE, part)
        return node

    def evidence(self, g: GraphWriter, node: NamedNode, links: Iterable[str]) -> None:
        """Each link (an absolute IRI) as an evidence document of `node`."""
        for link in links:
            doc = NamedNode(link)
            g.add(node, gao("evidence"), doc)
            g.add(doc, A, gao("EvidenceDocument"))
