"""`kg validate`: the SHACL shapes of shapes/ run with pySHACL over the asserted graphs.

The data graph is every named graph of the store except the derived ones (shapes check what
sources state; derivation is separate), plus one `sd:NamedGraph` node per graph name in the
store, so that shapes can require every graph to be described in the metadata graph. Results
come back as typed objects with a severity and the curated record they trace to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from kg.errors import KgError
from kg.paths import resource_dir
from kg.store import GraphStore
from kg.vocab.namespaces import GAO

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
CURATED = rdflib.URIRef(GAO + "curatedRecord")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class Severity(StrEnum):
    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"


@dataclass(frozen=True)
class ValidationResult:
    severity: Severity
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str
    constraint: str
    record: str | None  # where the focus node's statement is written in the curated sources


@dataclass
class ValidationReport:
    conforms: bool
    results: list[ValidationResult]
    graph: rdflib.Graph

    def count(self, severity: Severity) -> int:
        return sum(1 for r in self.results if r.severity is severity)


def load_shapes(folder: Path | None = None) -> rdflib.Graph:
    """Parse every shapes file; a malformed one is an error that names it."""
    folder = folder or resource_dir("shapes")
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise KgError(f"no SHACL shapes (*.ttl) in {folder}")
    shapes = rdflib.Graph()
    for path in files:
        try:
            shapes.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several parser exception types
            raise KgError(f"{path}: not valid Turtle: {exc}") from None
    return shapes


def data_graph(quads: Iterable[ox.Quad], exclude_prefix: str) -> rdflib.Graph:
    """The union of the asserted graphs, plus an inventory of the graph names."""
    keep = [
        q
        for q in quads
        if isinstance(q.graph_name, ox.NamedNode)
        and not q.graph_name.value.startswith(exclude_prefix)
    ]
    names = sorted({q.graph_name.value for q in keep if isinstance(q.graph_name, ox.NamedNode)})
    g = rdflib.Graph()
    g.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), g) for q in keep)
    for name in names:
        g.add((rdflib.URIRef(name), RDF.type, SD.NamedGraph))
    return g


def to_rdflib(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    """pyoxigraph term -> rdflib term, without a serialise-and-parse round trip."""
    if isinstance(t, ox.Triple):
        raise TypeError(f"quoted triples are not validated with rdflib: {t}")
    if isinstance(t, ox.NamedNode):
        return rdflib.URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return rdflib.BNode(t.value)
    if t.language:
        return rdflib.Literal(t.value, lang=t.language)
    if t.datatype.value == _XSD_STRING:  # rdflib keeps simple literals untyped, as its parsers do
        return rdflib.Literal(t.value)
    return rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph) -> ValidationReport:
    try:
        conforms, results_graph, _text = shacl_validate(
            data, shacl_graph=shapes, inference="none", allow_warnings=True, advanced=True
        )
    except Exception as exc:  # pySHACL reports broken shapes with its own exception types
        raise KgError(f"the SHACL shapes could not be applied: {exc}") from None
    results = []
    for node in results_graph.subjects(RDF.type, SH.ValidationResult):

        def one(pred: rdflib.URIRef, _node: rdflib.term.Node = node) -> str | None:
            value = results_graph.value(_node, pred)
            return None if value is None else str(value)

        focus = results_graph.value(node, SH.focusNode)
        results.append(
            ValidationResult(
                severity=Severity(str(one(SH.resultSeverity)).removeprefix(str(SH))),
                focus=str(focus),
                path=path_text(results_graph, node),
                value=one(SH.value),
                message=one(SH.resultMessage) or "",
                shape=str(one(SH.sourceShape)),
                constraint=str(one(SH.sourceConstraintComponent)).removeprefix(str(SH)),
                record=_record(data, focus),
            )
        )
    results.sort(key=lambda r: (r.record or "~", r.focus, r.severity, r.message, r.value or ""))
    return ValidationReport(bool(conforms), results, results_graph)


def path_text(g: rdflib.Graph, node: rdflib.term.Node) -> str | None:
    path = g.value(node, SH.resultPath)
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return g.namespace_manager.normalizeUri(str(path))
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + g.namespace_manager.normalizeUri(str(inverse))
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        members = rdflib.collection.Collection(g, alternatives)
        return "|".join(g.namespace_manager.normalizeUri(str(m)) for m in members)
    items = list(rdflib.collection.Collection(g, path)) if g.value(path, RDF.first) else []
    return "/".join(g.namespace_manager.normalizeUri(str(i)) for i in items) or str(path)


def _record(data: rdflib.Graph, focus: rdflib.term.Node | None) -> str | None:
    """The curated record of the focus node, or of the record that holds it (an answer's
    evaluation, a measurement's model)."""
    if focus is None:
        return None
    own = {str(rec) for rec in data.objects(focus, CURATED)}
    if own:
        return min(own)
    # the smallest of the holders' records, so that a node held by several records always
    # names the same one (the store engine's records.rq takes MIN too)
    held = {
        str(rec) for parent in data.subjects(None, focus) for rec in data.objects(parent, CURATED)
    }
    return min(held) if held else None


def validate_store(
    store: GraphStore, base: str, shapes_dir: Path | None = None
) -> ValidationReport:
    shapes = load_shapes(shapes_dir)
    data = data_graph(list(store.quads()), exclude_prefix=f"{base}graph/derived/")
    return validate_graph(data, shapes)


def render_text(report: ValidationReport) -> str:
    """A report for a person: counts, then results grouped by focus node and source record."""
    lines = [
        f"{'Conforms' if report.conforms else 'Does not conform'}: "
        f"{report.count(Severity.VIOLATION)} violation(s), "
        f"{report.count(Severity.WARNING)} warning(s), {report.count(Severity.INFO)} info."
    ]
    current = None
    for r in report.results:
        key = (r.focus, r.record)
        if key != current:
            current = key
            where = f"  ({r.record})" if r.record else ""
            lines.append("")
            lines.append(f"{r.focus}{where}")
        detail = f" [{r.path}]" if r.path else ""
        value = f" value: {r.value}" if r.value else ""
        lines.append(f"  {r.severity.upper():9} {r.message}{detail}{value}")
    return "\n".join(lines) + "\n"
