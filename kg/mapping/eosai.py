"""EOSAI records -> quads in `graph/imports/eosai`: each parameter's class as the index writes it,
its evidence links as resources, its notes, the variant judged, and the record's own fields."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Quad

from kg.mapping.sources import ImportMapper
from kg.sources import eosai
from kg.sources.identity import Resolution
from kg.sources.workspace import Provenance
from kg.vocab.namespaces import SCHEMA, gao

EOSAI_BASE_PARAMETERS = {"datasources_basemodel", "weights_basemodel", "llmdata", "llmweights"}
SYSTEM_FIELDS = (  # a system's field -> the property of the record, value as written
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
)


def eosai_quads(
    mapper: ImportMapper, records: list[eosai.Record], res: Resolution, p: Provenance | None
) -> list[Quad]:
    """The EOSAI records' quads; the graph's provenance goes to the mapper's metadata."""
    if not records:
        return []
    g, dataset = mapper.source_graph("eosai")
    for rec in records:
        part = mapper.source_part(g, "eosai", rec.file)
        model = mapper.model(res.of("eosai", rec.file).model)
        g.add(part, gao("schemaGeneration"), Literal(rec.generation))
        s = rec.system
        mapper.fields(g, part, s, SYSTEM_FIELDS)
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
            node = mapper.judgment(
                g,
                "eosai",
                rec.file,
                j.parameter,
                model=model,
                term=mapper.term("eosai", j.parameter),
                part=part,
            )
            g.add(node, gao("notationInSource"), Literal(j.value))
            if j.value:
                g.add(node, gao("scaleValue"), mapper.scale_value("eosai", j.value))
            else:
                g.add(node, gao("scaleValue"), gao("not-applicable"))
            variant = s.get(
                "basemodelname" if j.parameter in EOSAI_BASE_PARAMETERS else "endmodelname"
            ) or s.get("name", "")
            if variant:
                g.add(node, gao("judgedVariant"), Literal(variant))
            if j.notes:
                g.add(node, gao("note"), Literal(j.notes))
            mapper.evidence(g, node, j.links)
    mapper.describe(
        g.iri,
        "Judgments imported from the European Open Source AI Index",
        dataset,
        p,
        Provenance("eosai", eosai.TITLE, eosai.UPSTREAM, eosai.LICENSE, eosai.ATTRIBUTION),
    )
    return g.quads
