"""`kg reason`: OWL reasoning with owlready2 and the HermiT reasoner it ships (needs Java).

The ontology plus the asserted data (not the derived graphs) is loaded into owlready2, each
model's list of assessments is closed (owlready2's `close_world`, so that the universal
restriction of gao:FullyClosedModel can be decided under OWL's open world), and HermiT checks
consistency and classifies. The members of the defined model classes are compared with the
members the SPARQL rule (queries/derive/40-model-classes.rq) derived: both must agree.

HermiT's cost grows faster than the data (over 11 minutes at 400 models), so reasoning can be
scoped: the ontology plus the asserted facts of some models (`models`; the facts read by
queries/internal/reason-scope.rq: each model's statements, its assessments' and the types of
what they point to). The result says what was checked.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import KgError
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import GAO

DEFINED_CLASSES = ("OpenWeightsModel", "FullyOpenDeploymentModel", "FullyClosedModel")


@dataclass
class Scope:
    """What the reasoner was given: the ontology and all asserted data, or the ontology and the
    asserted facts of some models."""

    models: list[str]  # the models' IRIs; empty: every model
    triples: int = 0  # asserted triples given to the reasoner, the ontology's included
    ontology_triples: int = 0

    def describe(self) -> str:
        data = (
            "all asserted data"
            if not self.models
            else f"the asserted facts of {len(self.models)} model(s) "
            f"({', '.join(m.rsplit('/', 1)[-1] for m in self.models)})"
        )
        return (
            f"the ontology ({self.ontology_triples} triples) and {data}: "
            f"{self.triples} triples in all"
        )


@dataclass
class ReasoningResult:
    consistent: bool
    reasoner: str
    inferred: dict[str, list[str]]  # defined class -> model IRIs, by the reasoner
    derived: dict[str, list[str]]  # defined class -> model IRIs, by the SPARQL rules
    seconds: float = 0.0
    disagreements: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    scope: Scope = field(default_factory=lambda: Scope([]))

    @property
    def agrees(self) -> bool:
        return not self.disagreements


def java_version() -> str:
    """The Java runtime HermiT will use, or a KgError saying how to get one."""
    java = shutil.which("java")
    if java is None:
        raise KgError(
            "kg reason needs Java (11 or later) for the HermiT reasoner, and no 'java' is on "
            "the PATH. Install a Java runtime (Debian/Ubuntu: apt-get install "
            "default-jre-headless) and try again."
        )
    proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise KgError(f"'{java} -version' failed: {proc.stderr.strip()}")
    return (proc.stderr or proc.stdout).splitlines()[0]


def asserted_triples(store: OxigraphStore, base: str) -> list[ox.Triple]:
    derived = f"{base}graph/derived/"
    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in store.quads()
        if not str(q.graph_name).startswith(f"<{derived}")
    ]


def scoped_triples(store: OxigraphStore, base: str, models: list[str]) -> list[ox.Triple]:
    """The ontology's triples, then each model's asserted facts (queries/internal/
    reason-scope.rq), each triple once."""
    out = ontology_triples(store, base)
    seen = set(out)
    query = parse_query_file(resource_dir("queries") / "internal" / "reason-scope.rq")
    derived = ox.Literal(f"{base}graph/derived/")
    for model in models:
        for t in store.construct(query, {"model": ox.NamedNode(model), "derived": derived}):
            if t not in seen:
                seen.add(t)
                out.append(t)
    return out


def ontology_triples(store: OxigraphStore, base: str) -> list[ox.Triple]:
    query = parse_query_file(resource_dir("queries") / "internal" / "graph-triples.rq")
    return store.construct(query, {"graph": ox.NamedNode(f"{base}graph/ontology")})


def derived_members(store: OxigraphStore) -> dict[str, list[str]]:
    query = parse_query_file(resource_dir("queries") / "internal" / "model-classes.rq")
    members: dict[str, list[str]] = {c: [] for c in DEFINED_CLASSES}
    for row in store.select(query).rows:
        members.setdefault(row["class"].value.removeprefix(GAO), []).append(row["model"].value)
    return {k: sorted(v) for k, v in members.items()}


def reason(store: OxigraphStore, base: str, models: list[str] | None = None) -> ReasoningResult:
    """Check consistency and classify: the ontology and all asserted data, or with `models`
    (IRIs) the ontology and those models' facts only; the classes are compared with the SPARQL
    rules' for the models checked."""
    import time

    import owlready2

    java_version()
    triples = scoped_triples(store, base, models) if models else asserted_triples(store, base)
    scope = Scope(sorted(models or []), len(triples), len(ontology_triples(store, base)))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kg-reason-") as tmp:
        path = Path(tmp) / "graph.nt"
        ox.serialize(triples, str(path), ox.RdfFormat.N_TRIPLES)
        world = owlready2.World()
        onto = world.get_ontology(path.as_uri()).load(format="ntriples")
        gao = world.get_namespace(GAO)
        model_class = gao.AIModel
        has_assessment = gao.hasAssessment
        with onto:
            for model in list(model_class.instances()):
                assessments = [a for a in world.search(assessedModel=model)]
                model.hasAssessment = assessments
                owlready2.close_world(model, Properties=[has_assessment])
        try:
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasoningResult(
                False,
                "HermiT",
                {},
                _within(derived_members(store), scope),
                time.perf_counter() - start,
                scope=scope,
            )
        except owlready2.OwlReadyJavaError as exc:  # pragma: no cover - depends on the JVM
            raise KgError(f"HermiT failed: {exc}") from None
        inferred = {
            name: sorted(ind.iri for ind in getattr(gao, name).instances())
            for name in DEFINED_CLASSES
        }
    seconds = time.perf_counter() - start
    inferred = _within(inferred, scope)
    derived = _within(derived_members(store), scope)
    disagreements = {}
    for name in DEFINED_CLASSES:
        only_owl = sorted(set(inferred[name]) - set(derived.get(name, [])))
        only_sparql = sorted(set(derived.get(name, [])) - set(inferred[name]))
        if only_owl or only_sparql:
            disagreements[name] = {"reasoner only": only_owl, "sparql only": only_sparql}
    return ReasoningResult(True, "HermiT", inferred, derived, seconds, disagreements, scope)


def _within(members: dict[str, list[str]], scope: Scope) -> dict[str, list[str]]:
    """The members among the models checked (all of them when the scope is the whole graph)."""
    if not scope.models:
        return members
    wanted = set(scope.models)
    return {name: [m for m in found if m in wanted] for name, found in members.items()}
