"""SHACL on the store: the shapes' constraints evaluated set-wise by SPARQL on pyoxigraph.

Each shape's focus nodes are computed once per target (one query per `sh:targetClass`,
`sh:targetSubjectsOf`, `sh:targetObjectsOf`, SHACL-AF `sh:SPARQLTarget`) and written into a
scratch graph of the validation copy; every core constraint is then one query over the whole
focus set (templates in queries/shacl/, the shape's path substituted as `$PATH` as the SHACL spec
does for SPARQL-based constraint components, every parameter bound by `VALUES`). `sh:or` and
qualified value shapes validate their member shapes on the value nodes as a set, the same way.
SHACL-SPARQL constraints run with `$this` pre-bound (SEP-0007 substitution) on each focus node.

What the project's shapes do not use and this engine does not implement raises `KgError` when
the shapes are compiled: nothing is ever skipped silently. Results are the same typed
`ValidationResult`s and `sh:ValidationReport` as the pySHACL engine (`kg.checks.validate`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from kg.checks.validate import (
    SD,
    Severity,
    ValidationReport,
    ValidationResult,
    load_shapes,
    path_text,
    to_rdflib,
)
from kg.errors import KgError
from kg.paths import resource_dir
from kg.store import GraphStore
from kg.store.queries import QueryFile, parse_query_file

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Tables = dict[tuple[str, ...], Iterable[tuple[Term, ...]]]
FOCUS_GRAPH = ox.NamedNode("urn:kg:shacl:focus")
MEMBER = ox.NamedNode("urn:kg:shacl:member")
SELF_PATH = "<urn:kg:shacl:self>?"  # a zero-length path: the value node is the focus node
_DATATYPES = {
    "http://www.w3.org/2001/XMLSchema#" + t
    for t in (
        *("string", "integer", "decimal", "double", "float", "boolean"),
        *("date", "dateTime", "gYear", "gYearMonth", "anyURI"),
    )
} | {"http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
# what a shape may say besides its constraints
_SHAPE_KEYS = {
    RDF.type,
    SH.targetClass,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.targetNode,
    SH.target,
    SH.property,
    SH.path,
    SH.severity,
    SH.message,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.deactivated,
    rdflib.RDFS.label,
    rdflib.RDFS.comment,
}
_VALUE_COMPONENTS = {
    SH.datatype: "Datatype",
    SH["class"]: "Class",
    SH.nodeKind: "NodeKind",
    SH["in"]: "In",
    SH.minInclusive: "MinInclusive",
    SH.minExclusive: "MinExclusive",
    SH.maxInclusive: "MaxInclusive",
    SH.maxExclusive: "MaxExclusive",
    SH.minLength: "MinLength",
    SH.maxLength: "MaxLength",
    SH.pattern: "Pattern",
}
_SUPPORTED = {
    *_VALUE_COMPONENTS,
    SH.minCount,
    SH.maxCount,
    SH.hasValue,
    SH["or"],
    SH.qualifiedValueShape,
    SH.qualifiedMinCount,
    SH.sparql,
    SH.flags,
}


@dataclass(frozen=True)
class Hit:
    """One violation found by the engine, before it becomes a `ValidationResult`."""

    focus: Term
    value: Term | None
    shape: rdflib.term.Node
    component: str  # e.g. "MinCount"
    path: rdflib.term.Node | None
    message: str
    severity: str  # Violation, Warning, Info


@dataclass
class StoreShapes:
    """The shapes graph, compiled against one in-memory data store."""

    shapes: rdflib.Graph
    data: ox.Store  # the data in the default graph; scratch sets in FOCUS_GRAPH
    # CPU seconds per template (and "sparql" for the shapes' own queries, "sets" for writing
    # focus sets), accumulated when given: for benchmarks/bench_checks.py --profile
    timings: dict[str, float] | None = None
    _sets: count[int] = field(default_factory=lambda: count(1))
    _templates: dict[str, QueryFile] = field(default_factory=dict)

    # --- entry point ---------------------------------------------------------------------------

    def validate(self) -> list[Hit]:
        self.check_supported()
        hits: list[Hit] = []
        for shape in sorted(self._targeted(), key=str):
            focus = self.focus_nodes(shape)
            if focus:
                hits += self._shape_hits(shape, self._new_set(focus), report=True)
        return hits

    def _targeted(self) -> set[rdflib.term.Node]:
        found: set[rdflib.term.Node] = set()
        for p in (
            SH.targetClass,
            SH.targetSubjectsOf,
            SH.targetObjectsOf,
            SH.targetNode,
            SH.target,
        ):
            found |= set(self.shapes.subjects(p, None))
        implicit = set(self.shapes.subjects(RDF.type, rdflib.RDFS.Class)) | set(
            self.shapes.subjects(RDF.type, rdflib.OWL.Class)
        )
        shapes = set(self.shapes.subjects(RDF.type, SH.NodeShape)) | set(
            self.shapes.subjects(RDF.type, SH.PropertyShape)
        )
        if implicit & shapes:
            raise KgError("shapes that are also classes (implicit class targets) are not supported")
        return {s for s in found if self.shapes.value(s, SH.deactivated) != rdflib.Literal(True)}

    # --- checking what the shapes say ----------------------------------------------------------

    def check_supported(self) -> None:
        """Raise on any shape feature this engine does not evaluate."""
        seen: set[rdflib.term.Node] = set()
        todo = list(self._targeted())
        while todo:
            shape = todo.pop()
            if shape in seen:
                continue
            seen.add(shape)
            for p in set(self.shapes.predicates(shape)):
                if p not in _SHAPE_KEYS and p not in _SUPPORTED and str(p).startswith(str(SH)):
                    raise KgError(f"shape {shape}: {p} is not supported by the store engine")
            datatype = self.shapes.value(shape, SH.datatype)
            if datatype is not None and str(datatype) not in _DATATYPES:
                raise KgError(f"shape {shape}: sh:datatype {datatype} is not supported")
            for target in self.shapes.objects(shape, SH.target):
                if (target, RDF.type, SH.SPARQLTarget) not in self.shapes:
                    raise KgError(f"shape {shape}: only SHACL-AF sh:SPARQLTarget targets")
            shape_path = self.shapes.value(shape, SH.path)
            if shape_path is not None:
                self._path(shape_path)  # raises on unsupported paths
            todo += list(self.shapes.objects(shape, SH.property))
            for members in self.shapes.objects(shape, SH["or"]):
                todo += list(Collection(self.shapes, members))
            todo += list(self.shapes.objects(shape, SH.qualifiedValueShape))
            for constraint in self.shapes.objects(shape, SH.sparql):
                if self.shapes.value(constraint, SH.select) is None:
                    raise KgError(f"shape {shape}: only SELECT-based SPARQL constraints")

    # --- focus and value sets ------------------------------------------------------------------

    def _template(self, name: str) -> QueryFile:
        if name not in self._templates:
            path = resource_dir("queries") / "shacl" / f"{name}.rq"
            self._templates[name] = parse_query_file(path, f"shacl/{name}")
        return self._templates[name]

    def _run(
        self,
        name: str,
        tables: Tables,
        path: str | None = None,
    ) -> list[ox.QuerySolution]:
        qf = self._template(name)
        if path is not None:
            qf = dataclasses.replace(qf, text=qf.text.replace("$PATH", path))
        text = qf.with_tables({k: list(v) for k, v in tables.items()})
        start = time.process_time()
        try:
            result = self.data.query(text)
        except SyntaxError as exc:  # a bug in a template or a path: say which
            raise KgError(f"{qf.path}: {exc}") from None
        if not isinstance(result, ox.QuerySolutions):
            raise KgError(f"{qf.path}: a template must be a SELECT query")
        rows = list(result)
        self._time(name, start)
        return rows

    def _time(self, name: str, start: float) -> None:
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + time.process_time() - start

    def records(self, nodes: set[Term]) -> dict[Term, str]:
        """The curated record each focus node comes from (its own, or its holder's)."""
        if not nodes:
            return {}
        rows = self._run("records", {("set",): [(self._new_set(nodes),)]})
        out = {}
        for row in rows:
            record = row["record"] or row["holder"]
            if record is not None:
                out[row["this"]] = record.value
        return out

    def _new_set(self, nodes: Iterable[Term]) -> ox.NamedNode:
        name = ox.NamedNode(f"urn:kg:shacl:set/{next(self._sets)}")
        start = time.process_time()
        self.data.extend(ox.Quad(name, MEMBER, n, FOCUS_GRAPH) for n in nodes)
        self._time("sets", start)
        return name

    def focus_nodes(self, shape: rdflib.term.Node) -> set[Term]:
        found: set[Term] = set()
        g = self.shapes
        for cls in g.objects(shape, SH.targetClass):
            found |= self._column("focus-class", {("class",): [(_ox(cls),)]})
        for p in g.objects(shape, SH.targetSubjectsOf):
            found |= self._column("focus-subjects-of", {("predicate",): [(_ox(p),)]})
        for p in g.objects(shape, SH.targetObjectsOf):
            found |= self._column("focus-objects-of", {("predicate",): [(_ox(p),)]})
        found |= {_ox(n) for n in g.objects(shape, SH.targetNode)}
        for target in g.objects(shape, SH.target):
            text = self._prologue(target) + str(g.value(target, SH.select))
            found |= {t for row in self._user_query(text, shape) if (t := row.get("this"))}
        return found

    def _column(self, name: str, tables: Tables, path: str | None = None) -> set[Term]:
        return {row["this"] for row in self._run(name, tables, path)}

    def _user_query(
        self, text: str, shape: rdflib.term.Node, this: Term | None = None
    ) -> list[dict[str, Term | None]]:
        subs: dict[ox.Variable, Term | ox.Triple] | None = (
            {ox.Variable("this"): this} if this is not None else None
        )
        start = time.process_time()
        try:
            result = self.data.query(text, substitutions=subs)
        except SyntaxError as exc:
            raise KgError(f"shape {shape}: its SPARQL does not parse: {exc}") from None
        if not isinstance(result, ox.QuerySolutions):
            raise KgError(f"shape {shape}: its SPARQL must be a SELECT query")
        names = [v.value for v in result.variables]
        rows = [{n: row[n] for n in names} for row in result]
        self._time("sparql", start)
        return rows

    def _prologue(self, node: rdflib.term.Node) -> str:
        """PREFIX lines from the sh:declare of the node's sh:prefixes (SHACL §5.2.1)."""
        lines = []
        for ontology in self.shapes.objects(node, SH.prefixes):
            for decl in self.shapes.objects(ontology, SH.declare):
                prefix = self.shapes.value(decl, SH.prefix)
                namespace = self.shapes.value(decl, SH.namespace)
                lines.append(f"PREFIX {prefix}: {ox.NamedNode(str(namespace))}")
        return "\n".join(sorted(set(lines))) + "\n"

    # --- one shape over one focus set ----------------------------------------------------------

    def _shape_hits(self, shape: rdflib.term.Node, focus: ox.NamedNode, report: bool) -> list[Hit]:
        """The violations of `shape` by the nodes of the focus set. With `report` False (shapes
        nested in sh:or or a qualified value shape) only the focus nodes matter."""
        g = self.shapes
        path_node = g.value(shape, SH.path)
        path = SELF_PATH if path_node is None else self._path(path_node)
        severity = str(g.value(shape, SH.severity) or SH.Violation).removeprefix(str(SH))
        message = str(g.value(shape, SH.message) or "")
        hits: list[Hit] = []

        def hit(this: Term, value: Term | None, component: str, text: str = "") -> None:
            hits.append(Hit(this, value, shape, component, path_node, text or message, severity))

        sets: Tables = {("set",): [(focus,)]}
        self._counts(shape, focus, path, hit)
        for expected in g.objects(shape, SH.hasValue):
            for row in self._run("has-value", {**sets, ("expected",): [(_ox(expected),)]}, path):
                hit(row["this"], None, "HasValue")
        for predicate, component in _VALUE_COMPONENTS.items():
            for param in g.objects(shape, predicate):
                for row in self._value_rows(component, param, shape, sets, path):
                    hit(row["this"], row["value"], component)
        for members in g.objects(shape, SH["or"]):
            for this, value in self._or(list(Collection(g, members)), focus, path):
                hit(this, value, "Or")
        for qualified in g.objects(shape, SH.qualifiedValueShape):
            least = int(str(g.value(shape, SH.qualifiedMinCount) or 0))
            for this in self._qualified(qualified, least, focus, path):
                hit(this, None, "QualifiedMinCount")
        for constraint in g.objects(shape, SH.sparql):
            hits += self._sparql(shape, constraint, focus, path_node, severity, report)
        for prop in g.objects(shape, SH.property):
            hits += self._shape_hits(prop, focus, report)
        return hits

    def _counts(
        self,
        shape: rdflib.term.Node,
        focus: ox.NamedNode,
        path: str,
        hit: Callable[[Term, Term | None, str], None],
    ) -> None:
        """sh:minCount and sh:maxCount: one grouped count of the path's values per shape."""
        bounds = [
            (ox.NamedNode(f"{SH}{component}ConstraintComponent"), _ox(bound))
            for component, predicate in (("MinCount", SH.minCount), ("MaxCount", SH.maxCount))
            for bound in self.shapes.objects(shape, predicate)
        ]
        if not bounds:
            return
        if any(c.value.endswith("MinCountConstraintComponent") for c, _ in bounds):
            rows = self._run("count", {("set",): [(focus,)], ("component", "bound"): bounds}, path)
            for row in rows:
                component = row["component"].value.removeprefix(str(SH))
                hit(row["this"], None, component.removesuffix("ConstraintComponent"))
        else:  # no minimum: focus nodes without values cannot break a maximum; no OPTIONAL
            for _, bound in bounds:
                for row in self._run(
                    "max-count", {("set",): [(focus,)], ("bound",): [(bound,)]}, path
                ):
                    hit(row["this"], None, "MaxCount")

    def _value_rows(
        self,
        component: str,
        param: rdflib.term.Node,
        shape: rdflib.term.Node,
        sets: Tables,
        path: str,
    ) -> list[ox.QuerySolution]:
        if component == "Datatype":
            return self._run("datatype", {**sets, ("datatype",): [(_ox(param),)]}, path)
        if component == "Class":
            return self._run("class", {**sets, ("class",): [(_ox(param),)]}, path)
        if component == "NodeKind":
            return self._run("node-kind", {**sets, ("kind",): [(_ox(param),)]}, path)
        if component == "In":
            allowed = [(_ox(t),) for t in Collection(self.shapes, param)]
            return self._run("in", {**sets, ("value",): allowed}, path)
        if component == "Pattern":
            flags = self.shapes.value(shape, SH.flags)
            table = [(_ox(param), ox.Literal(str(flags or "")))]
            return self._run("pattern", {**sets, ("pattern", "flags"): table}, path)
        name = "length" if component.endswith("Length") else "range"
        kind = ox.NamedNode(f"{SH}{component}ConstraintComponent")
        return self._run(name, {**sets, ("component", "bound"): [(kind, _ox(param))]}, path)

    def _value_pairs(self, focus: ox.NamedNode, path: str) -> list[tuple[Term, Term]]:
        rows = self._run("values", {("set",): [(focus,)]}, path)
        return [(r["this"], r["value"]) for r in rows]

    def _failing(self, shape: rdflib.term.Node, nodes: set[Term]) -> set[Term]:
        """The nodes that do not conform to `shape`."""
        if not nodes:
            return set()
        return {h.focus for h in self._shape_hits(shape, self._new_set(nodes), report=False)}

    def _or(
        self, members: list[rdflib.term.Node], focus: ox.NamedNode, path: str
    ) -> list[tuple[Term, Term]]:
        pairs = self._value_pairs(focus, path)
        failing = {v for _, v in pairs}
        for member in members:
            failing &= self._failing(member, failing)
        return [(t, v) for t, v in pairs if v in failing]

    def _qualified(
        self, qualified: rdflib.term.Node, least: int, focus: ox.NamedNode, path: str
    ) -> list[Term]:
        pairs = self._value_pairs(focus, path)
        failing = self._failing(qualified, {v for _, v in pairs})
        conforming: dict[Term, set[Term]] = {}
        for this, value in pairs:
            conforming.setdefault(this, set())
            if value not in failing:
                conforming[this].add(value)
        nodes = {r["this"] for r in self._run("values", {("set",): [(focus,)]}, SELF_PATH)}
        return [n for n in nodes if len(conforming.get(n, ())) < least]

    def _sparql(
        self,
        shape: rdflib.term.Node,
        constraint: rdflib.term.Node,
        focus: ox.NamedNode,
        path_node: rdflib.term.Node | None,
        severity: str,
        report: bool,
    ) -> list[Hit]:
        g = self.shapes
        text = self._prologue(constraint) + str(g.value(constraint, SH.select))
        message = str(g.value(constraint, SH.message) or g.value(shape, SH.message) or "")
        nodes = self._run("values", {("set",): [(focus,)]}, SELF_PATH)
        hits = []
        for this in sorted({r["this"] for r in nodes}, key=str):
            for row in self._user_query(text, shape, this):
                value = row.get("value")
                bound = {n: t for n, t in row.items() if t is not None}
                bound["this"] = this
                hits.append(
                    Hit(this, value, shape, "SPARQL", path_node, _fill(message, bound), severity)
                )
                if not report:
                    break
        return hits

    # --- paths ---------------------------------------------------------------------------------

    def _path(self, node: rdflib.term.Node) -> str:
        """A SHACL path as a SPARQL property path; unsupported forms raise."""
        g = self.shapes
        if isinstance(node, rdflib.URIRef):
            return str(ox.NamedNode(str(node)))
        inverse = g.value(node, SH.inversePath)
        if inverse is not None:
            return f"^({self._path(inverse)})"
        alternatives = g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self._path(m) for m in Collection(g, alternatives)) + ")"
        if g.value(node, RDF.first) is not None:
            return "(" + "/".join(self._path(m) for m in Collection(g, node)) + ")"
        for kind, op in (
            (SH.zeroOrMorePath, "*"),
            (SH.oneOrMorePath, "+"),
            (SH.zeroOrOnePath, "?"),
        ):
            inner = g.value(node, kind)
            if inner is not None:
                return f"({self._path(inner)}){op}"
        raise KgError(f"unsupported SHACL path {node}")


def _fill(message: str, bound: dict[str, Term]) -> str:
    """Put `{?var}` and `{$var}` of a SPARQL constraint's message as pySHACL does (lexical)."""
    for name, term in bound.items():
        message = message.replace("{?" + name + "}", term.value).replace(
            "{$" + name + "}", term.value
        )
    return message


def _ox(term: rdflib.term.Node) -> Term:
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise KgError(f"unexpected term in the shapes: {term!r}")


# --- the report --------------------------------------------------------------------------------


def validation_copy(store: GraphStore, exclude_prefix: str) -> ox.Store:
    """An in-memory copy of the graphs to validate (all but those under `exclude_prefix`) merged
    into the default graph, plus one `sd:NamedGraph` node per graph, as `kg validate` has always
    validated. Copied natively graph by graph (N-Triples), never a Python object per triple."""
    data = ox.Store()
    names = [g for g in store.graph_names() if not str(g.value).startswith(exclude_prefix)]
    for name in names:
        data.bulk_load(store.graph_ntriples(name), format=ox.RdfFormat.N_TRIPLES)
    data.extend(graph_inventory(names))
    return data


def graph_inventory(names: Iterable[ox.NamedNode]) -> Iterator[ox.Quad]:
    """One `sd:NamedGraph` node per graph validated, in the default graph (shapes check the
    graphs' own descriptions)."""
    kind, named = ox.NamedNode(str(RDF.type)), ox.NamedNode(str(SD.NamedGraph))
    return (ox.Quad(n, kind, named) for n in names)


def graph_copy(graph: rdflib.Graph) -> ox.Store:
    """An rdflib graph (the tests' fixtures) as a store to validate."""
    data = ox.Store()
    data.bulk_load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return data


def validate_data(
    data: ox.Store,
    shapes: rdflib.Graph | None = None,
    timings: dict[str, float] | None = None,
) -> ValidationReport:
    """Validate the default graph of `data` against the shapes, on the store (CPU seconds per
    template added to `timings` when given)."""
    shapes = shapes if shapes is not None else load_shapes()
    engine = StoreShapes(shapes, data, timings)
    hits = engine.validate()
    return report_from_hits(shapes, hits, engine.records({h.focus for h in hits}))


def report_from_hits(
    shapes: rdflib.Graph, hits: list[Hit], records: dict[Term, str]
) -> ValidationReport:
    """The typed results and the `sh:ValidationReport` of the engine's hits (`records`: the
    curated record of each focus node that has one)."""
    graph = rdflib.Graph(namespace_manager=shapes.namespace_manager)
    report = rdflib.BNode()
    conforms = not any(h.severity == "Violation" for h in hits)
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    results = []
    for h in hits:
        node = rdflib.BNode()
        graph.add((report, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, to_rdflib(h.focus)))
        graph.add((node, SH.resultSeverity, SH[h.severity]))
        graph.add((node, SH.sourceConstraintComponent, SH[f"{h.component}ConstraintComponent"]))
        graph.add((node, SH.sourceShape, h.shape))
        graph.add((node, SH.resultMessage, rdflib.Literal(h.message)))
        if h.value is not None:
            graph.add((node, SH.value, to_rdflib(h.value)))
        if h.path is not None:
            graph.add((node, SH.resultPath, h.path))
            _copy_structure(shapes, h.path, graph)
        if isinstance(h.shape, rdflib.BNode):
            _copy_structure(shapes, h.shape, graph)
        results.append(
            ValidationResult(
                severity=Severity(h.severity),
                focus=h.focus.value,
                path=path_text(graph, node),
                value=None if h.value is None else h.value.value,
                message=h.message,
                shape=str(h.shape),
                constraint=f"{h.component}ConstraintComponent",
                record=records.get(h.focus),
            )
        )
    results = sorted(set(results), key=_order)
    return ValidationReport(conforms, results, graph)


def validate_release_store(
    store: GraphStore,
    base: str,
    shapes_dir: Path | None = None,
    timings: dict[str, float] | None = None,
) -> ValidationReport:
    """`kg validate --engine store`: the asserted graphs of a release, validated on a copy."""
    shapes = load_shapes(shapes_dir)
    start = time.process_time()
    data = validation_copy(store, f"{base}graph/derived/")
    if timings is not None:
        timings["copy"] = timings.get("copy", 0.0) + time.process_time() - start
    return validate_data(data, shapes, timings)


def _order(r: ValidationResult) -> tuple[str, str, str, str, str]:
    return (r.record or "~", r.focus, r.severity, r.message, r.value or "")


def _copy_structure(source: rdflib.Graph, node: rdflib.term.Node, target: rdflib.Graph) -> None:
    """Copy a blank node's description (a path, a property shape) into the report graph."""
    todo = [node]
    seen = set()
    while todo:
        n = todo.pop()
        if n in seen or not isinstance(n, rdflib.BNode):
            continue
        seen.add(n)
        for p, o in source.predicate_objects(n):
            target.add((n, p, o))
            todo.append(o)
