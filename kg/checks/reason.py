"""`kg reason`: OWL reasoning with owlready2 and the HermiT reasoner it ships (needs Java).

The ontology plus the asserted data (not the derived graphs) is loaded into owlready2, each
model's list of assessments is closed (owlready2's `close_world`, so that the universal
restriction of gao:FullyClosedModel can be decided under OWL's open world), and HermiT checks
consistency and classifies. The members of the defined model classes are compared with the
members the SPARQL rule (queries/derive/40-model-classes.rq) derived: both must agree.
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
class ReasoningResult:
    consistent: bool
    reasoner: str
    inferred: dict[str, list[str]]  # defined class -> model IRIs, by the reasoner
    derived: dict[str, list[str]]  # defined class -> model IRIs, by the SPARQL rules
    seconds: float = 0.0
    disagreements: dict[str, dict[str, list[str]]] = field(default_factory=dict)

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


def derived_members(store: OxigraphStore) -> dict[str, list[str]]:
    query = parse_query_file(resource_dir("queries") / "internal" / "model-classes.rq")
    members: dict[str, list[str]] = {c: [] for c in DEFINED_CLASSES}
    for row in store.select(query).rows:
        members.setdefault(row["class"].value.removeprefix(GAO), []).append(row["model"].value)
    return {k: sorted(v) for k, v in members.items()}


def reason(store: OxigraphStore, base: str) -> ReasoningResult:
    import time

    import owlready2

    java_version()
    triples = asserted_triples(store, base)
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
                False, "HermiT", {}, derived_members(store), time.perf_counter() - start
            )
        except owlready2.OwlReadyJavaError as exc:  # pragma: no cover - depends on the JVM
            raise KgError(f"HermiT failed: {exc}") from None
        inferred = {
            name: sorted(ind.iri for ind in getattr(gao, name).instances())
            for name in DEFINED_CLASSES
        }
    seconds = time.perf_counter() - start
    derived = derived_members(store)
    disagreements = {}
    for name in DEFINED_CLASSES:
        only_owl = sorted(set(inferred[name]) - set(derived.get(name, [])))
        only_sparql = sorted(set(derived.get(name, [])) - set(inferred[name]))
        if only_owl or only_sparql:
            disagreements[name] = {"reasoner only": only_owl, "sparql only": only_sparql}
    return ReasoningResult(True, "HermiT", inferred, derived, seconds, disagreements)
