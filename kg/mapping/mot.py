"""MOT records -> quads in `graph/imports/mot`: the release's metadata, its licenses per content
type, and every component with its license as written (and the SPDX id when it is one)."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.rdf import A
from kg.mapping.sources import ImportMapper
from kg.sources import eosai, mot
from kg.sources.frameworks import Frameworks
from kg.sources.identity import Resolution
from kg.sources.workspace import Provenance
from kg.vocab.namespaces import SCHEMA, gao

RELEASE_FIELDS = (  # a release's field -> the property of the record, value as written
    ("name", "nameInSource"),
    ("version", "releaseVersion"),
    ("date", "releaseDateInSource"),
    ("type", "modelType"),
    ("architecture", "architectureInSource"),
    ("origin", "originInSource"),
    ("producer", "organisationInSource"),
)


def mot_quads(
    mapper: ImportMapper,
    records: list[mot.Record],
    fw: Frameworks,
    res: Resolution,
    p: Provenance | None,
) -> list[Quad]:
    if not records:
        return []
    g, dataset = mapper.source_graph("mot")
    scaled = {s.value for s in fw.scales if s.framework == "mof"}
    for rec in records:
        part = mapper.source_part(g, "mot", rec.file)
        model = mapper.model(res.of("mot", rec.file).model)
        r = rec.release
        mapper.fields(g, part, r, RELEASE_FIELDS)
        if r.get("repository"):
            g.add(part, SCHEMA + "codeRepository", NamedNode(r["repository"]))
        if r.get("huggingface"):
            g.add(part, SCHEMA + "url", NamedNode(r["huggingface"]))
        if rec.hf_repo:
            g.add(part, gao("huggingFaceRepo"), Literal(rec.hf_repo))
        for text in rec.texts.values():
            g.add(part, gao("linkAsWritten"), Literal(text))
        fwv = " ".join(x for x in (rec.framework.get("name"), rec.framework.get("version")) if x)
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
        seen: dict[str, int] = {}
        for comp in rec.components:
            term = fw.term_for("mof", comp.name)
            assert term is not None  # the reader keeps only the MOF's components
            seen[term.term] = seen.get(term.term, 0) + 1  # a component listed twice: both kept
            local = term.term + (f"-{seen[term.term]}" if seen[term.term] > 1 else "")
            mof = mapper.term("mof", term.term)
            node = mapper.judgment(g, "mot", rec.file, local, model=model, term=mof, part=part)
            g.add(node, gao("judgedVariant"), Literal(rec.name))
            g.add(node, gao("notationInSource"), Literal(comp.license))
            if comp.license:
                g.add(node, gao("licenseAsWritten"), Literal(comp.license))
                if comp.license in scaled:
                    g.add(node, gao("scaleValue"), mapper.scale_value("mof", comp.license))
            if comp.spdx:
                g.add(node, gao("spdxLicense"), NamedNode(f"http://spdx.org/licenses/{comp.spdx}"))
            if comp.license_path:
                g.add(node, gao("licensePath"), Literal(comp.license_path))
                if eosai.is_iri(comp.license_path):
                    mapper.evidence(g, node, [comp.license_path])
            if comp.component_path:
                g.add(node, gao("componentPath"), Literal(comp.component_path))
                if eosai.is_iri(comp.component_path):
                    mapper.evidence(g, node, [comp.component_path])
    mapper.describe(
        g.iri,
        "Model releases and components imported from the Model Openness Tool",
        dataset,
        p,
        Provenance("mot", mot.TITLE, mot.UPSTREAM, mot.LICENSE, mot.ATTRIBUTION),
    )
    return g.quads
