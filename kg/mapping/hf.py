"""Hub records -> quads in `{base}graph/imports/hf`, one record at a time (a generator).

Each repository is a `gao:HubModel` at `{base}hf-model/{owner}/{name}` (the Hub id kept exactly:
ids differ by case on the Hub). What the record states is kept as stated: the declared license
texts, the card's license name and link (as text, never followed), gating, base models by kind
of derivation, datasets and arXiv papers as links, counts and dates. Each license is also
written as `gao:licenseAsWritten` (the card's license_name for 'other'), the property every
source's license strings carry: which license record it resolves to (rule 62, through the
license knowledge base) and the weights' level (rule 70) are derived, never written here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.sources.hf import DEFAULT_ENDPOINT, HubRecord
from kg.sources.workspace import Provenance
from kg.vocab.namespaces import DCTERMS, PROV, RDF, RDFS, XSD, Base, gao

A = NamedNode(RDF + "type")
LABEL = NamedNode(RDFS + "label")
RELATION = {
    None: gao("derivedFromModel"),
    "finetune": gao("fineTunedFrom"),
    "adapter": gao("adapterOf"),
    "merge": gao("mergedFrom"),
    "quantized": gao("quantizedFrom"),
}
GATING = {"false": gao("not-gated"), "auto": gao("gated-automatic"), "manual": gao("gated-manual")}
INTEGER = NamedNode(XSD + "integer")
DATETIME = NamedNode(XSD + "dateTime")


def model_iri(base: Base, repo_id: str) -> NamedNode:
    return base.iri("hf-model", *repo_id.split("/"))


def hf_quads(records: Iterable[HubRecord], base: Base, meta: Provenance) -> Iterator[Quad]:
    """The quads of every record, then the graph's provenance. Streams: nothing is kept."""
    graph = base.graph("imports", "hf")
    source = base.iri("source", "hf")
    pred = {
        name: gao(name)
        for name in (
            "hubId",
            "declaredLicenseText",
            "licenseName",
            "licenseLink",
            "gating",
            "trainedOn",
            "describedInPaper",
            "pipelineTag",
            "libraryName",
            "downloads",
            "likes",
        )
    }
    hub_model = gao("HubModel")
    as_written = gao("licenseAsWritten")  # what rule 62 resolves, as for every source
    dsource = NamedNode(DCTERMS + "source")
    creator = NamedNode(DCTERMS + "creator")
    created = NamedNode(DCTERMS + "created")
    modified = NamedNode(DCTERMS + "modified")
    see_also = NamedNode(RDFS + "seeAlso")
    site = meta.extra.get("endpoint", DEFAULT_ENDPOINT).rstrip("/")
    for r in records:
        s = model_iri(base, r.id)

        def q(p: NamedNode, o: NamedNode | Literal, s: NamedNode = s) -> Quad:
            return Quad(s, p, o, graph)

        yield q(A, hub_model)
        yield q(LABEL, Literal(r.id, language="en"))
        yield q(pred["hubId"], Literal(r.id))
        yield q(dsource, source)
        yield q(see_also, NamedNode(f"{site}/{r.id}"))
        if r.author:
            yield q(creator, Literal(r.author))
        for text in r.licenses:
            yield q(pred["declaredLicenseText"], Literal(text))
        for written in r.licenses_as_written():
            yield q(as_written, Literal(written))
        if r.license_name:
            yield q(pred["licenseName"], Literal(r.license_name))
        if r.license_link:
            yield q(pred["licenseLink"], Literal(r.license_link))
        if r.gated is not None:
            yield q(pred["gating"], GATING[r.gated])
        for base_id, relation in r.bases:
            yield q(RELATION[relation], model_iri(base, base_id))
        for ds in r.datasets:
            yield q(pred["trainedOn"], NamedNode(f"{site}/datasets/{ds}"))
        for paper in r.arxiv:
            yield q(pred["describedInPaper"], NamedNode(f"https://arxiv.org/abs/{paper}"))
        if r.pipeline_tag:
            yield q(pred["pipelineTag"], Literal(r.pipeline_tag))
        if r.library_name:
            yield q(pred["libraryName"], Literal(r.library_name))
        if r.downloads is not None:
            yield q(pred["downloads"], Literal(str(r.downloads), datatype=INTEGER))
        if r.likes is not None:
            yield q(pred["likes"], Literal(str(r.likes), datatype=INTEGER))
        if r.created:
            yield q(created, Literal(r.created, datatype=DATETIME))
        if r.modified:
            yield q(modified, Literal(r.modified, datatype=DATETIME))
    yield from provenance(base, meta)


def provenance(base: Base, meta: Provenance) -> Iterator[Quad]:
    graph = base.graph("imports", "hf")
    source = base.iri("source", "hf")
    g = base.graph("metadata")
    yield Quad(graph, A, gao("StatementGraph"), g)
    yield Quad(
        graph,
        NamedNode(DCTERMS + "title"),
        Literal("Model repositories imported from the Hugging Face Hub", language="en"),
        g,
    )
    yield Quad(graph, NamedNode(PROV + "wasDerivedFrom"), source, g)
    yield Quad(
        source,
        LABEL,
        Literal(
            f"Hugging Face Hub model listing ({meta.records} repositories, read "
            f"{meta.retrieved} from {meta.upstream or Path(meta.folder).name}, "
            "imported with kg import hf)",
            language="en",
        ),
        g,
    )
    if meta.upstream:
        yield Quad(source, NamedNode(PROV + "wasDerivedFrom"), NamedNode(meta.upstream), g)
    yield Quad(
        source,
        NamedNode(DCTERMS + "created"),
        Literal(meta.retrieved, datatype=NamedNode(XSD + "date")),
        g,
    )
