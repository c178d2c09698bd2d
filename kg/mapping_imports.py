"""Imported sources (EOSAI, MOT), their frameworks, the crosswalk and model identities -> quads.

Each source goes into its own named graph (`graph/imports/eosai`, `graph/imports/mot`), the
curated framework tables into `graph/curation/frameworks`, and the identity of each record's
model into `graph/links/model-identities`; the metadata graph describes each with PROV/DCTERMS
(upstream, commit or retrieval date, license, attribution).
"""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping import LABEL, SOURCE, TITLE, A, _Graph, _typed
from kg.namespaces import DCTERMS, PROV, RDFS, SCHEMA, SKOS, Base, gao
from kg.sources import eosai, mot
from kg.sources.frameworks import FRAMEWORKS, Frameworks
from kg.sources.identity import Record as IdRecord
from kg.sources.identity import Resolution, load_curated, resolve, slug
from kg.sources.workspace import Provenance, Workspace

SKOS_MATCH = {
    p: NamedNode(SKOS + p.split(":")[1])
    for p in ("skos:exactMatch", "skos:closeMatch", "skos:broadMatch", "skos:narrowMatch")
}
SSSOM = "https://w3id.org/sssom/"
EOSAI_BASE_PARAMETERS = {"datasources_basemodel", "weights_basemodel", "llmdata", "llmweights"}
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
    root: Path, paper: dict[str, list[str]], eosai_records: list, mot_records: list
) -> Resolution:
    return resolve(paper, identity_records(eosai_records, mot_records), load_curated(root))


class ImportMapper:
    """Maps one build's imports under one base."""

    def __init__(self, base: Base) -> None:
        self.b = base
        self.meta = _Graph(base.graph("metadata"))

    # IRIs -------------------------------------------------------------------------
    def term(self, framework: str, term: str) -> NamedNode:
        return self.b.iri("framework", framework, term)

    def scale_value(self, framework: str, value: str) -> NamedNode:
        return self.b.iri("framework", framework, "value", slug(value) or "empty")

    def record(self, source: str, file: str) -> NamedNode:
        return self.b.iri("source", source, slug(Path(file).stem))

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
        m.add(graph, A, gao("StatementGraph"))
        m.add(graph, TITLE, Literal(title, language="en"))
        m.add(graph, PROV + "wasDerivedFrom", dataset)
        m.add(dataset, A, NamedNode(PROV + "Entity"))
        m.add(dataset, LABEL, Literal(p.title or fallback.title))
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
            m.add(dataset, DCTERMS + "date", _typed(p.retrieved, "date"))

    # frameworks, crosswalk, scales -------------------------------------------------
    def frameworks(self, fw: Frameworks) -> list[Quad]:
        graph = self.b.graph("curation", "frameworks")
        g = _Graph(graph)
        for key, label in FRAMEWORKS.items():
            node = self.b.iri("framework", key)
            g.add(node, A, gao("Framework"))
            g.add(node, LABEL, Literal(label, language="en"))
        for t in fw.terms:
            node = self.term(t.framework, t.term)
            g.add(node, A, gao("FrameworkTerm"))
            g.add(node, SKOS + "prefLabel", Literal(t.label))
            g.add(node, SKOS + "notation", Literal(t.term))
            g.add(node, SKOS + "definition", Literal(t.definition, language="en"))
            g.add(node, gao("inFramework"), self.b.iri("framework", t.framework))
            g.add(node, gao("curatedRecord"), Literal(t.record))
        for s in fw.scales:
            if s.framework == "eiras2024":
                continue  # the paper's levels carry their own category in the ontology
            node = self.scale_value(s.framework, s.value)
            g.add(node, A, gao("ScaleValue"))
            g.add(node, SKOS + "prefLabel", Literal(s.value))
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
                g.add(node, SSSOM + "mapping_date", _typed(mp.date, "date"))
            g.add(node, RDFS + "comment", Literal(mp.comment, language="en"))
            g.add(node, gao("curatedRecord"), Literal(mp.record))
        m = self.meta
        m.add(graph, A, gao("StatementGraph"))
        m.add(
            graph,
            TITLE,
            Literal(
                "Curators' framework tables: each framework's terms, the crosswalk onto the "
                "component vocabulary (SSSOM) and the scale correspondences",
                language="en",
            ),
        )
        m.add(graph, DCTERMS + "creator", Literal("GenAI Openness Knowledge Graph curators"))
        return g.quads

    # identities --------------------------------------------------------------------
    def identities(self, res: Resolution, paper: set[str]) -> list[Quad]:
        graph = self.b.graph("links", "model-identities")
        g = _Graph(graph)
        for mid, label in sorted(res.labels.items()):
            if mid in paper:
                continue
            g.add(self.model(mid), A, gao("SourceModel"))
            g.add(self.model(mid), LABEL, Literal(label))
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
        m = self.meta
        m.add(graph, A, gao("StatementGraph"))
        m.add(
            graph,
            TITLE,
            Literal(
                "Which model each imported record describes: automatic where unambiguous (same "
                "normalised name, a Hugging Face repository another source gives, a variant of a "
                "known family by name), curated otherwise (sources/curation/model-identities.csv)",
                language="en",
            ),
        )
        m.add(
            graph,
            DCTERMS + "creator",
            Literal("kg build, from the imports and the curators' identity table"),
        )
        return g.quads

    def _evidence(self, g: _Graph, node: NamedNode, links: list[str]) -> None:
        for link in links:
            doc = NamedNode(link)
            g.add(node, gao("evidence"), doc)
            g.add(doc, A, gao("EvidenceDocument"))

    # EOSAI --------------------------------------------------------------------------
    def eosai(
        self, records: list[eosai.Record], res: Resolution, p: Provenance | None
    ) -> list[Quad]:
        if not records:
            return []
        graph = self.b.graph("imports", "eosai")
        dataset = self.b.iri("source", "eosai")
        g = _Graph(graph)
        for rec in records:
            ident = res.of("eosai", rec.file)
            part = self.record("eosai", rec.file)
            model = self.model(ident.model)
            g.add(part, A, gao("SourcePart"))
            g.add(part, DCTERMS + "identifier", Literal(rec.file))
            g.add(part, DCTERMS + "isPartOf", dataset)
            g.add(part, gao("schemaGeneration"), Literal(rec.generation))
            s = rec.system
            for key, prop in (
                ("name", "nameInSource"),
                ("type", "modelType"),
                ("performanceclass", "performanceClass"),
                ("basemodelname", "baseModelName"),
                ("llmbase", "baseModelName"),
                ("endmodelname", "endModelName"),
                ("endmodellicense", "endModelLicense"),
                ("license", "endModelLicense"),
                ("releasedate", "releaseDateInSource"),
                ("notes", "note"),
            ):
                if s.get(key):
                    g.add(part, gao(prop), Literal(s[key]))
            if s.get("rlbase"):
                g.add(part, gao("note"), Literal(f"rlbase: {s['rlbase']}"))
            if rec.org.get("name"):
                g.add(part, gao("organisationInSource"), Literal(rec.org["name"]))
            for link in rec.links.get("system.link", []):
                g.add(part, SCHEMA + "url", NamedNode(link))
            for link in rec.links.get("org.link", []):
                g.add(part, gao("organisationLink"), NamedNode(link))
            for texts in rec.texts.values():
                for text in texts:
                    g.add(part, gao("linkAsWritten"), Literal(text))
            for j in rec.judgments:
                node = self.b.iri("judgment", "eosai", slug(Path(rec.file).stem), j.parameter)
                g.add(node, A, gao("SourceJudgment"))
                g.add(node, gao("judgedModel"), model)
                g.add(node, gao("assessedTerm"), self.term("eosai", j.parameter))
                g.add(node, SOURCE, part)
                g.add(node, gao("notationInSource"), Literal(j.value))
                if j.value:
                    g.add(node, gao("scaleValue"), self.scale_value("eosai", j.value))
                else:
                    g.add(node, gao("assessmentStatus"), gao("not-applicable"))
                variant = s.get(
                    "basemodelname" if j.parameter in EOSAI_BASE_PARAMETERS else "endmodelname"
                ) or s.get("name", "")
                if variant:
                    g.add(node, gao("judgedVariant"), Literal(variant))
                if j.notes:
                    g.add(node, gao("note"), Literal(j.notes))
                self._evidence(g, node, j.links)
        self.describe(
            graph,
            "Judgments imported from the European Open Source AI Index",
            dataset,
            p,
            Provenance("eosai", eosai.TITLE, eosai.UPSTREAM, eosai.LICENSE, eosai.ATTRIBUTION),
        )
        return g.quads

    # MOT -----------------------------------------------------------------------------
    def mot(
        self, records: list[mot.Record], fw: Frameworks, res: Resolution, p: Provenance | None
    ) -> list[Quad]:
        if not records:
            return []
        graph = self.b.graph("imports", "mot")
        dataset = self.b.iri("source", "mot")
        g = _Graph(graph)
        scaled = {s.value for s in fw.scales if s.framework == "mof"}
        for rec in records:
            ident = res.of("mot", rec.file)
            part = self.record("mot", rec.file)
            model = self.model(ident.model)
            g.add(part, A, gao("SourcePart"))
            g.add(part, DCTERMS + "identifier", Literal(rec.file))
            g.add(part, DCTERMS + "isPartOf", dataset)
            r = rec.release
            for key, prop in (
                ("name", "nameInSource"),
                ("version", "releaseVersion"),
                ("date", "releaseDateInSource"),
                ("type", "modelType"),
                ("architecture", "architectureInSource"),
                ("origin", "originInSource"),
                ("producer", "organisationInSource"),
            ):
                if r.get(key):
                    g.add(part, gao(prop), Literal(r[key]))
            if r.get("repository"):
                g.add(part, SCHEMA + "codeRepository", NamedNode(r["repository"]))
            if r.get("huggingface"):
                g.add(part, SCHEMA + "url", NamedNode(r["huggingface"]))
            if rec.hf_repo:
                g.add(part, gao("huggingFaceRepo"), Literal(rec.hf_repo))
            for text in rec.texts.values():
                g.add(part, gao("linkAsWritten"), Literal(text))
            fwv = " ".join(
                x for x in (rec.framework.get("name"), rec.framework.get("version")) if x
            )
            if rec.framework.get("date"):
                fwv += f" ({rec.framework['date']})"
            if fwv:
                g.add(part, gao("frameworkVersion"), Literal(fwv))
            for kind, lic in sorted(rec.licenses.items()):
                node = NamedNode(f"{part.value}/license/{kind}")
                g.add(part, gao("hasLicenseStatement"), node)
                g.add(node, A, gao("LicenseStatement"))
                g.add(node, gao("contentType"), Literal(kind))
                if lic["name"]:
                    g.add(node, gao("licenseAsWritten"), Literal(lic["name"]))
                if lic["spdx"]:
                    g.add(
                        node,
                        gao("spdxLicense"),
                        NamedNode(f"http://spdx.org/licenses/{lic['spdx']}"),
                    )
                if lic["path"]:
                    g.add(node, gao("licensePath"), Literal(lic["path"]))
            for comp in rec.components:
                term = fw.term_for("mof", comp.name)
                assert term is not None  # the reader keeps only the MOF's components
                node = self.b.iri("judgment", "mot", slug(Path(rec.file).stem), term.term)
                g.add(node, A, gao("SourceJudgment"))
                g.add(node, gao("judgedModel"), model)
                g.add(node, gao("assessedTerm"), self.term("mof", term.term))
                g.add(node, SOURCE, part)
                g.add(node, gao("judgedVariant"), Literal(rec.name))
                g.add(node, gao("notationInSource"), Literal(comp.license))
                if comp.license:
                    g.add(node, gao("licenseAsWritten"), Literal(comp.license))
                    if comp.license in scaled:
                        g.add(node, gao("scaleValue"), self.scale_value("mof", comp.license))
                if comp.spdx:
                    g.add(
                        node, gao("spdxLicense"), NamedNode(f"http://spdx.org/licenses/{comp.spdx}")
                    )
                if comp.license_path:
                    g.add(node, gao("licensePath"), Literal(comp.license_path))
                    if eosai.is_iri(comp.license_path):
                        self._evidence(g, node, [comp.license_path])
                if comp.component_path:
                    g.add(node, gao("componentPath"), Literal(comp.component_path))
                    if eosai.is_iri(comp.component_path):
                        self._evidence(g, node, [comp.component_path])
        self.describe(
            graph,
            "Model releases and components imported from the Model Openness Tool",
            dataset,
            p,
            Provenance("mot", mot.TITLE, mot.UPSTREAM, mot.LICENSE, mot.ATTRIBUTION),
        )
        return g.quads


def import_quads(
    root: Path,
    workspace: Workspace | None,
    base: Base,
    fw: Frameworks,
    paper: dict[str, list[str]],
) -> list[Quad]:
    """The framework tables, and every quad of the EOSAI and MOT imports in `workspace` (if
    any) with the identities of their models."""
    mapper = ImportMapper(base)
    quads = mapper.frameworks(fw)
    if workspace is None:
        return quads + mapper.meta.quads
    e = eosai.load_imported(workspace.path(eosai.IMPORT_FILE))
    m = mot.load_imported(workspace.path(mot.IMPORT_FILE))
    res = resolve_all(root, paper, e, m)
    quads += mapper.identities(res, set(paper))
    quads += mapper.eosai(e, res, workspace.provenance("eosai"))
    quads += mapper.mot(m, fw, res, workspace.provenance("mot"))
    return quads + mapper.meta.quads
