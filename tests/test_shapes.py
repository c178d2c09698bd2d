"""SHACL shapes: the conforming fixture conforms; one fixture per constraint breaks exactly it.

Cases: tests/fixtures/shapes/cases.yaml (edits of tests/fixtures/shapes/conforming.ttl).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import yaml
from typer.testing import CliRunner

from conftest import Built, run_kg
from kg.checks.shacl_sparql import (
    StoreShapes,
    graph_copy,
    validate_data,
    validate_release_store,
)
from kg.checks.validate import (
    Severity,
    ValidationReport,
    load_shapes,
    validate_graph,
    validate_store,
)
from kg.cli import app
from kg.errors import KgError
from kg.release.release import Release
from kg.vocab.ontology import load_ontology

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
CASES = yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))
PREFIXES = """
@prefix gao: <https://w3id.org/genai-openness/ontology#> .
@prefix ex: <https://example.org/kg/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix cito: <http://purl.org/spar/cito/> .
@prefix sssom: <https://w3id.org/sssom/> .
"""
NS = {
    "gao": "https://w3id.org/genai-openness/ontology#",
    "ex": "https://example.org/kg/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "cito": "http://purl.org/spar/cito/",
    "sssom": "https://w3id.org/sssom/",
}


def expand(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return NS[prefix] + local


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def vocabulary() -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=ox.serialize(load_ontology(), format=ox.RdfFormat.N_TRIPLES), format="nt")
    return g


def fixture_graph(vocabulary: rdflib.Graph, case: dict | None = None) -> rdflib.Graph:
    g = rdflib.Graph()
    g += vocabulary
    g.parse(FIXTURES / "conforming.ttl", format="turtle")
    if case:
        if case.get("remove"):
            removed = rdflib.Graph().parse(data=PREFIXES + case["remove"], format="turtle")
            for t in removed:
                assert t in g, f"case removes a triple the fixture lacks: {t}"
                g.remove(t)
        if case.get("add"):
            g.parse(data=PREFIXES + case["add"], format="turtle")
    return g


def store_engine(data: rdflib.Graph, shapes: rdflib.Graph) -> ValidationReport:
    """The shapes compiled to SPARQL on a pyoxigraph copy of the data."""
    return validate_data(graph_copy(data), shapes)


_REFERENCE: dict[str, ValidationReport] = {}


def reference(case: dict, shapes: rdflib.Graph, vocabulary: rdflib.Graph) -> ValidationReport:
    """pySHACL's report on a case, computed once per session."""
    if case["name"] not in _REFERENCE:
        _REFERENCE[case["name"]] = validate_graph(fixture_graph(vocabulary, case), shapes)
    return _REFERENCE[case["name"]]


def full(report: ValidationReport) -> list[tuple]:
    """Everything a result says but the name of an unnamed (blank node) shape."""
    return sorted(
        (
            r.focus,
            r.path or "",
            r.constraint,
            r.severity.value,
            r.message,
            r.value or "",
            r.record or "",
        )
        for r in report.results
    )


@pytest.mark.parametrize("engine", ["pyshacl", "store"])
def test_conforming_fixture(engine, shapes, vocabulary):
    validate = validate_graph if engine == "pyshacl" else store_engine
    report = validate(fixture_graph(vocabulary), shapes)
    assert report.conforms
    assert report.results == []


@pytest.mark.parametrize("engine", ["pyshacl", "store"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_constraint(case, engine, shapes, vocabulary):
    if engine == "pyshacl":
        report = reference(case, shapes, vocabulary)
    else:  # the same results as pySHACL, message, value and record included
        report = store_engine(fixture_graph(vocabulary, case), shapes)
        assert full(report) == full(reference(case, shapes, vocabulary))
    got = {
        (r.focus, r.path, r.constraint.removesuffix("ConstraintComponent"), r.severity.value)
        for r in report.results
    }
    want = {
        (expand(e["focus"]), e.get("path"), e["component"], e.get("severity", "Violation"))
        for e in case["expect"]
    }
    assert got == want
    assert report.conforms is case.get("conforms", False)
    assert all(r.message for r in report.results), "every result carries its shape's message"


def test_engines_agree_on_the_paper(built: Built):
    release = Release.current(built.out)
    store = release.open_store()
    reference = validate_store(store, release.base.base)
    report = validate_release_store(store, release.base.base)
    assert full(report) == full(reference)
    assert report.conforms and len(report.results) == len(reference.results) == 5
    res = CliRunner().invoke(app, ["validate", "--engine", "pyshacl", "--out", str(built.out)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Conforms: 0 violation(s), 2 warning(s), 3 info.")


SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
COMPONENTS = {
    SH.minCount: "MinCount",
    SH.maxCount: "MaxCount",
    SH.datatype: "Datatype",
    SH["class"]: "Class",
    SH["in"]: "In",
    SH["or"]: "Or",
    SH.hasValue: "HasValue",
    SH.nodeKind: "NodeKind",
    SH.minInclusive: "MinInclusive",
    SH.maxInclusive: "MaxInclusive",
    SH.minExclusive: "MinExclusive",
    SH.maxLength: "MaxLength",
    SH.qualifiedValueShape: "QualifiedMinCount",
    SH.sparql: "SPARQL",
}
EX = rdflib.Namespace(NS["ex"])


def constraints(shapes: rdflib.Graph) -> dict[tuple[str, str], tuple]:
    """Every constraint of a targeted shape or of its property shapes: (shape, component) ->
    (shape node, its node shape, the constraint's parameter)."""
    found = {}
    for p in (SH.targetClass, SH.target, SH.targetSubjectsOf):
        for node_shape in shapes.subjects(p):
            for shape in [node_shape, *shapes.objects(node_shape, SH.property)]:
                for predicate, component in COMPONENTS.items():
                    for param in shapes.objects(shape, predicate):
                        found[(str(shape), component)] = (shape, node_shape, param)
    return found


def _values(g: rdflib.Graph, focus, path, shapes: rdflib.Graph) -> list[tuple]:
    """The triples that give `focus` its values on a predicate or alternative path."""
    if isinstance(path, rdflib.URIRef):
        return list(g.triples((focus, path, None)))
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return [
            t
            for p in rdflib.collection.Collection(shapes, alternatives)
            for t in g.triples((focus, p, None))
        ]
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return list(g.triples((None, inverse, focus)))
    return []


def _first_path(path, shapes: rdflib.Graph):
    alternatives = shapes.value(path, SH.alternativePath)
    return (
        path
        if alternatives is None
        else next(iter(rdflib.collection.Collection(shapes, alternatives)))
    )


def break_constraint(
    g: rdflib.Graph, shapes: rdflib.Graph, shape, param, component: str, focus
) -> bool:
    """Edit `g` so that `focus` breaks the constraint; False where no edit applies (the
    constraint must then break in a hand-written case of cases.yaml)."""
    path = shapes.value(shape, SH.path)
    if path is None or (shapes.value(path, SH.inversePath) is not None and component != "MinCount"):
        return False
    old = _values(g, focus, path, shapes)
    first = _first_path(path, shapes)
    if component == "MinCount":
        for t in old:
            g.remove(t)
        return bool(old)
    if component == "MaxCount":  # more values of the same kind as the one there
        for i in range(int(param) + 1):
            g.add((focus, first, _another(old[0][2] if old else None, i)))
        return True
    if component in ("Class", "In", "Or"):
        g.add((focus, first, EX["not-an-instance"]))
        return True
    if component == "Datatype":
        replacement = rdflib.Literal(1) if param == XSD_STRING else rdflib.Literal("not a value")
    elif component == "NodeKind":
        replacement = rdflib.Literal("not an IRI")
    elif component == "MaxLength":
        replacement = rdflib.Literal("x" * (int(param) + 1))
    elif component in ("MinInclusive", "MaxInclusive", "MinExclusive"):
        step = {"MinInclusive": -1, "MaxInclusive": 1, "MinExclusive": 0}[component]
        replacement = rdflib.Literal(int(param) + step)
    else:
        replacement = None
    if replacement is None or not old:
        return False
    for t in old:
        g.remove(t)
    g.add((focus, first, replacement))
    return True


XSD_STRING = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#string")


def _another(value: rdflib.term.Node | None, i: int) -> rdflib.term.Node:
    """A value like `value` (an IRI, a number, a boolean, a text) but different from it."""
    if not isinstance(value, rdflib.Literal):
        return EX[f"extra-{i}"]
    python = value.toPython()
    if isinstance(python, bool):
        return rdflib.Literal(not python)
    if isinstance(python, int):
        return rdflib.Literal(python + i + 1, datatype=value.datatype)
    if value.language or value.datatype in (None, XSD_STRING):
        return rdflib.Literal(f"{value} {i}", datatype=value.datatype, lang=value.language)
    return rdflib.Literal(f"{value} {i}")  # a plain text, never an ill-typed literal


def test_every_shape_constraint_is_exercised(shapes, vocabulary):
    """Each constraint of every targeted shape breaks, on both engines alike: in a case of
    cases.yaml, or else in a fixture edited to break it (one edited fixture per component, the
    constraints broken on one of their focus nodes each)."""
    all_constraints = constraints(shapes)
    exercised = {
        (r.shape, r.constraint.removesuffix("ConstraintComponent"))
        for case in CASES
        for r in reference(case, shapes, vocabulary).results
    }
    by_component: dict[str, list] = {}
    for key, found in sorted(all_constraints.items()):
        if key not in exercised:
            by_component.setdefault(key[1], []).append((key, *found))
    base = fixture_graph(vocabulary)
    engine = StoreShapes(shapes, graph_copy(base))
    for component, items in sorted(by_component.items()):
        g = fixture_graph(vocabulary)
        expected = {}
        for key, shape, node_shape, param in items:
            path = shapes.value(shape, SH.path)
            nodes = sorted((_rdf(n) for n in engine.focus_nodes(node_shape)), key=str)
            # a focus node that has values on the path, where there is one
            nodes.sort(key=lambda n: path is None or not _values(g, n, path, shapes))
            if nodes and break_constraint(g, shapes, shape, param, component, nodes[0]):
                expected[key] = str(nodes[0])
        report = store_engine(g, shapes)
        reference_report = validate_graph(g, shapes)
        assert full(report) == full(reference_report), (
            component,
            set(full(report)) ^ set(full(reference_report)),
        )
        fired = {
            (r.shape, r.constraint.removesuffix("ConstraintComponent"), r.focus)
            for r in report.results
        }
        exercised |= {key for key, focus in expected.items() if (*key, focus) in fired}
    missing = sorted(set(all_constraints) - exercised)
    assert missing == [], [
        (s, c, str(shapes.value(all_constraints[(s, c)][0], SH.message))) for s, c in missing
    ]


def _rdf(term) -> rdflib.term.Node:
    return rdflib.URIRef(term.value) if isinstance(term, ox.NamedNode) else rdflib.BNode(term.value)


@pytest.mark.parametrize(
    "extra",
    [
        "sh:closed true",
        "sh:xone ( [ sh:class gao:AIModel ] )",
        "sh:property [ sh:path gao:x ; sh:uniqueLang true ]",
        "sh:property [ sh:path gao:x ; sh:datatype xsd:token ]",
        "sh:property [ sh:path gao:x ; sh:qualifiedValueShape [ sh:class gao:AIModel ] ;"
        " sh:qualifiedMaxCount 1 ]",
    ],
)
def test_store_engine_refuses_what_it_does_not_evaluate(extra: str, vocabulary):
    shapes = rdflib.Graph().parse(
        data=PREFIXES + "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        f"ex:S a sh:NodeShape ; sh:targetClass gao:AIModel ; {extra} .",
        format="turtle",
    )
    with pytest.raises(KgError, match="not supported"):
        StoreShapes(shapes, graph_copy(fixture_graph(vocabulary))).validate()


def test_every_shape_constraint_has_message_and_severity(shapes):
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    constrained = set()
    for p in (
        sh.minCount,
        sh.maxCount,
        sh.datatype,
        sh["class"],
        sh["in"],
        sh["or"],
        sh.xone,
        sh.hasValue,
        sh.nodeKind,
        sh.minInclusive,
        sh.maxInclusive,
        sh.minExclusive,
        sh.qualifiedMinCount,
        sh.select,
    ):
        constrained |= set(shapes.subjects(p, None))
    # helper shapes nested in sh:or / sh:xone branches or qualified value shapes carry no
    # message: the enclosing shape reports. Targeted shapes, their sh:property shapes and their
    # SPARQL constraints must have both.
    targeted = set()
    for p in (sh.targetClass, sh.target, sh.targetSubjectsOf, sh.targetNode):
        targeted |= set(shapes.subjects(p, None))
    reported = set(targeted)
    for shape in targeted:
        reported |= set(shapes.objects(shape, sh.property)) | set(shapes.objects(shape, sh.sparql))
    missing = [
        str(s)
        for s in constrained & reported
        if shapes.value(s, sh.message) is None or shapes.value(s, sh.severity) is None
    ]
    assert missing == []


def test_malformed_shapes_file_is_named(tmp_path: Path):
    (tmp_path / "broken.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\nthis is not turtle"
    )
    with pytest.raises(KgError, match=r"broken\.ttl"):
        load_shapes(tmp_path)


def test_kg_validate_exit_codes(built: Built, tmp_path: Path):
    ok = run_kg("validate", "--out", str(built.out), "--report", str(tmp_path / "r.ttl"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("Conforms: 0 violation(s)")
    # the RDF report parses and says it conforms
    report = rdflib.Graph().parse(tmp_path / "r.ttl")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert list(report.objects(None, sh.conforms)) == [rdflib.Literal(True)]
    # developers of unknown kind are listed as information, with their source record
    assert "organisations.csv:12" in ok.stdout and "INFO" in ok.stdout

    strict = tmp_path / "shapes"
    strict.mkdir()
    for f in load_shapes_files():
        (strict / f.name).write_text(f.read_text())
    (strict / "extra.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix gao: <https://w3id.org/genai-openness/ontology#> .\n"
        "<urn:x:DevShape> a sh:NodeShape ; sh:targetClass gao:AIModel ;\n"
        "  sh:property [ sh:path gao:largestSize ; sh:minCount 1 ; sh:severity sh:Violation ;\n"
        '    sh:message "size required (test shape)" ] .\n'
    )
    bad = run_kg(
        "validate",
        "--out",
        str(built.out),
        "--shapes",
        str(strict),
        "--report",
        str(tmp_path / "r2.ttl"),
    )
    assert bad.returncode == 1
    assert "Does not conform: 7 violation(s)" in bad.stdout  # the 7 models of unknown size
    assert "paper/table2.csv:28" in bad.stdout  # GPT-4's record

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.ttl").write_text("not turtle at all")
    err = run_kg("validate", "--out", str(built.out), "--shapes", str(broken))
    assert err.returncode == 2
    assert "x.ttl" in err.stderr


def load_shapes_files() -> list[Path]:
    from kg.paths import resource_dir

    return sorted(resource_dir("shapes").glob("*.ttl"))


def test_every_severity_the_shapes_use_is_typed():
    """A result of any severity the shapes declare becomes a typed `Severity` (an unknown one
    would crash `kg validate`)."""
    import pyoxigraph as ox

    sh = "http://www.w3.org/ns/shacl#"
    used = {
        t.object.value
        for path in load_shapes_files()
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
        if t.predicate.value == sh + "severity"
    }
    assert used, "the shapes declare no severity"
    for iri in sorted(used):
        assert iri.startswith(sh), iri
        Severity(iri.removeprefix(sh))  # raises ValueError for a severity the code cannot type


def test_store_engine_counts_each_bound_of_a_shape_from_one_grouped_count():
    """sh:minCount and sh:maxCount of a shape share one grouped count (queries/shacl/count.rq):
    each bound still gives its own results, the same as pySHACL's; a class
    is checked by MINUS; and the engine's CPU per template is there when asked."""
    sh = "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
    shapes = rdflib.Graph().parse(
        data=PREFIXES + sh + "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ "
        'sh:path ex:p ; sh:minCount 2 ; sh:maxCount 2 ; sh:class ex:V ; sh:message "m" ] .',
        format="turtle",
    )
    data = rdflib.Graph().parse(
        data=PREFIXES + "ex:a a ex:T . ex:b a ex:T ; ex:p ex:x , ex:y . "
        "ex:c a ex:T ; ex:p ex:x , ex:y , ex:z . ex:x a ex:V . ex:W rdfs:subClassOf ex:V . "
        "ex:y a ex:W . ex:d a ex:T ; ex:p ex:x .",
        format="turtle",
    )
    timings: dict[str, float] = {}
    report = validate_data(graph_copy(data), shapes, timings)
    assert full(report) == full(validate_graph(data, shapes))
    found = sorted((r.focus.rsplit("/", 1)[1], r.constraint, r.value or "") for r in report.results)
    assert found == [
        ("a", "MinCountConstraintComponent", ""),
        ("c", "ClassConstraintComponent", "https://example.org/kg/z"),
        ("c", "MaxCountConstraintComponent", ""),
        ("d", "MinCountConstraintComponent", ""),
    ]
    assert {"count", "class", "focus-class", "sets"} <= set(timings)
