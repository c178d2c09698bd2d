"""A large build derives in batches of models (kg.checks.batches, decision 29): the batched
build must be the whole build, byte for byte, on every source the project imports."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.checks.batches as batches_module
import kg.release.build as build_module
from kg.checks.batches import Partition, partition
from kg.checks.derive import rules
from kg.mapping.paper import model_owner
from kg.release.build import asserted_quads, build
from kg.vocab.namespaces import DEFAULT_BASE, Base
from tests.conftest import run_kg

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every importer's fixtures in one workspace: rules that join a paper model with another
    source's records (definition evidence, identity links, Hub lineages) meet them all."""
    ws = tmp_path_factory.mktemp("batches") / "workspace"
    for source, path in (
        ("tracker", FIXTURES / "tracker" / "good"),
        ("eosai", FIXTURES / "eosai" / "good"),
        ("mot", FIXTURES / "mot" / "good"),
        ("fmti", FIXTURES / "fmti"),
        ("hf", FIXTURES / "hf" / "models.jsonl"),
    ):
        proc = run_kg("import", source, str(path), "--workspace", str(ws))
        assert proc.returncode == 0, proc.stderr
    return ws


def test_the_batched_build_is_the_whole_build(workspace: Path, tmp_path: Path, monkeypatch):
    """Derived whole in memory, or split into batches of 7 models derived in worker processes
    (the dataset rules then run on the on-disk store): byte-identical dumps, the same id."""
    whole = build(out=tmp_path / "whole", workspace=workspace)
    monkeypatch.setattr(build_module, "SMALL_BUILD", 1_000)
    monkeypatch.setattr(build_module, "BATCH_MODELS", 7)
    monkeypatch.setattr(batches_module, "BATCH_MODELS", 7)
    monkeypatch.setattr(batches_module, "SHARED_RATIO", 0)  # the paper's 40 models: batch anyway
    steps: list[str] = []
    batched = build(out=tmp_path / "batched", workspace=workspace, step=steps.append)
    # the paper's 40 models and the imports' own (EOSAI and MOT records matched to no paper model)
    assert (
        "deriving classifications (queries/derive) in 7 batches of up to 7 models (45 models)"
        in steps
    )
    assert batched.build_id == whole.build_id
    assert batched.graphs == whole.graphs and batched.counts == whole.counts
    assert not (batched.release / ".batches").exists()


def test_a_batch_holds_its_models_own_quads_and_shared_quads_go_with_every_batch(tmp_path: Path):
    b = Base(DEFAULT_BASE)
    quads = list(asserted_quads())
    part = partition(iter(quads), b, tmp_path, batch_models=7)
    assert isinstance(part, Partition) and part.models == 40 and len(part.batches) == 6
    files = [part.shared, part.blank, *part.batches]
    read = {f: list(ox.parse(path=str(f), format=ox.RdfFormat.N_QUADS)) for f in files}
    assert sum(map(len, read.values())) == len(quads)  # every quad once, none lost
    assert len(read[part.shared]) + len(read[part.blank]) == part.shared_quads
    models_of = {f: {model_owner(b.base, q.subject) for q in qs} for f, qs in read.items()}
    assert models_of[part.shared] == {None}
    assert not any(model_owner(b.base, q.object) for q in read[part.shared])
    assert all(len(models_of[f]) == 7 for f in part.batches[:-1])
    assert len(models_of[part.batches[-1]]) == 5
    # a model's own quads are all in one batch: its Table 3 assessments with the model, and the
    # quads that link other resources to it
    llama = [f for f in part.batches if "llama-2" in models_of[f]]
    assert len(llama) == 1
    mine = read[llama[0]]
    assert len([q for q in mine if "/assessment/eiras2024/llama-2/" in str(q.subject)]) > 12
    model = ox.NamedNode(DEFAULT_BASE + "model/llama-2")
    linking = [q for q in quads if q.object == model]
    assert linking and all(q in mine for q in linking)
    # blank nodes (OWL class expressions) are apart, named canonically as the build names them
    blank = [q for q in read[part.blank] if isinstance(q.subject, ox.BlankNode)]
    assert blank and all(re.fullmatch(r"c14n\d+", q.subject.value) for q in blank)
    assert not any(isinstance(q.subject, ox.BlankNode) for q in read[part.shared])


@pytest.mark.parametrize(
    ("iri", "owner"),
    [
        ("model/llama-2", "llama-2"),
        ("assessment/eiras2024/llama-2/model-weights", "llama-2"),
        ("measurement/eiras2024/gpt-2/chatbot-arena-elo", "gpt-2"),
        ("license/mit", None),
        ("model/", None),
        ("assessment/eiras2024", None),
        ("hf-model/meta-llama/Llama-2-7b", None),  # a Hub record: shared (lineages join them)
    ],
)
def test_model_owner(iri: str, owner: str | None):
    assert model_owner(DEFAULT_BASE, ox.NamedNode(DEFAULT_BASE + iri)) == owner
    assert model_owner(DEFAULT_BASE, ox.NamedNode("https://elsewhere.example/" + iri)) is None


def _terms(text: str) -> set[str]:
    return set(re.findall(r"\bgao:[A-Za-z][\w-]*", text))


def test_no_model_rule_reads_what_a_dataset_rule_derives():
    """The dataset rules run after every batch, so a model rule cannot use their conclusions;
    a model rule reading one would silently find nothing in a large build."""
    dataset = [r for r in rules() if r.scope == "dataset"]
    assert {r.slug for r in dataset} == {"lineage-conflicts", "conflict-chains"}
    made: set[str] = set()
    for rule in dataset:
        template = re.search(r"CONSTRUCT\s*\{(.*?)\}\s*WHERE", rule.query.text, re.S)
        assert template, rule.query.path
        made |= _terms(template.group(1))
    for rule in rules():
        if rule.scope == "model":
            where = rule.query.text.split("WHERE", 1)[1]
            assert not (_terms(where) & made), (rule.query.path, _terms(where) & made)


# --- validation in batches ----------------------------------------------------------------------

EX = "https://example.org/kg/"


def _owned(text: str, model: str) -> str:
    """The shapes fixture (N-Triples) with its model's resources under the IRIs the mapper
    mints for a model (`model/{id}`, `assessment/{source}/{id}/...`, `measurement/...`)."""
    text = text.replace(f"<{EX}model>", f"<{EX}model/{model}>")
    text = re.sub(rf"<{EX}(a\d\d)>", rf"<{EX}assessment/src/{model}/\1>", text)
    return re.sub(rf"<{EX}(m-[a-z]+)>", rf"<{EX}measurement/src/{model}/\1>", text)


def _two_models(vocabulary, case: dict | None) -> list[ox.Quad]:
    """The case's graph for model `one`, beside the conforming fixture's model `two`."""
    from tests.test_shapes import fixture_graph

    one = _owned(fixture_graph(vocabulary, case).serialize(format="nt"), "one")
    two = _owned(fixture_graph(vocabulary).serialize(format="nt"), "two")
    quads = {*ox.parse(one, format=ox.RdfFormat.N_TRIPLES)}
    owner = Base(EX).base
    quads |= {
        q
        for q in ox.parse(two, format=ox.RdfFormat.N_TRIPLES)
        if model_owner(owner, q.subject) == "two" or model_owner(owner, q.object) == "two"
    }
    return sorted(quads, key=str)


@pytest.fixture(scope="module")
def shapes_and_vocabulary():
    from tests.test_shapes import load_ontology, load_shapes, rdflib

    vocabulary = rdflib.Graph()
    vocabulary.parse(data=ox.serialize(load_ontology(), format=ox.RdfFormat.N_TRIPLES), format="nt")
    return load_shapes(), vocabulary


def _case_names() -> list[str]:
    from tests.test_shapes import CASES

    return ["(conforming)"] + [c["name"] for c in CASES]


@pytest.mark.parametrize("name", _case_names())
def test_validation_in_batches_gives_each_case_s_results(
    name: str, shapes_and_vocabulary, tmp_path: Path, monkeypatch
):
    """Each breaking case of the shapes on model `one`, a conforming model `two` beside it:
    validated whole, and in batches of one model (each with the shared quads), the same
    results, so that no shape needs what another batch holds."""
    from kg.checks.shacl_sparql import validate_data
    from kg.checks.validate_batches import validate_partition
    from tests.test_shapes import CASES, full

    shapes, vocabulary = shapes_and_vocabulary
    case = next((c for c in CASES if c["name"] == name), None)
    quads = _two_models(vocabulary, case)
    whole = ox.Store()
    whole.extend(quads)
    expected = validate_data(whole, shapes)
    # as for a large release: records that link to one model go with it (two models' own
    # statements are fewer than the shared ones here, which alone would keep them shared)
    monkeypatch.setattr(batches_module, "SHARED_RATIO", 0)
    part = partition(iter(quads), Base(EX), tmp_path, batch_models=1)
    assert part.models == 2 and len(part.batches) == 2
    batched = validate_partition(part, workers=1)
    assert full(batched) == full(expected)
    assert batched.conforms is expected.conforms
    if case is not None:  # the case breaks model one's data or a shared resource's
        assert not batched.conforms or batched.results


def test_kg_validate_checks_a_large_release_in_batches(
    workspace: Path, tmp_path: Path, monkeypatch
):
    """The paper with every importer's fixtures: `kg validate` in batches of 7 models (forked
    workers, from the dump) says what validating the release's copy whole says."""
    from kg.checks.shacl_sparql import validate_release_store
    from kg.checks.validate_batches import validate_dump
    from kg.release.release import Release
    from tests.test_shapes import full

    build(out=tmp_path / "out", workspace=workspace)
    release = Release.current(tmp_path / "out")
    store = release.open_store()
    whole = validate_release_store(store, release.base.base)
    store.close()
    monkeypatch.setattr(batches_module, "SHARED_RATIO", 0)
    batched = validate_dump(
        release.dumps / "dataset.nq", release.base.base, batch_models=7, workers=2
    )
    assert full(batched) == full(whole) and batched.conforms is whole.conforms
    assert whole.results  # the fixtures carry warnings: something to agree on
    # the paper's 40 models are not worth splitting: the dump validated whole, the same results
    monkeypatch.setattr(batches_module, "SHARED_RATIO", 4)
    at_once = validate_dump(release.dumps / "dataset.nq", release.base.base)
    assert full(at_once) == full(whole) and at_once.conforms is whole.conforms
    # `kg validate` takes the batched path past the build's threshold, and says the same
    monkeypatch.setattr(batches_module, "SHARED_RATIO", 0)
    monkeypatch.setattr(build_module, "SMALL_BUILD", 1_000)
    called: list[Path] = []
    real = validate_dump

    def watched(dump: Path, *args, **kwargs):
        called.append(dump)
        return real(dump, *args, **kwargs)

    monkeypatch.setattr("kg.checks.validate_batches.validate_dump", watched)
    proc = run_kg("validate", "--out", str(tmp_path / "out"))
    assert called == [release.dumps / "dataset.nq"], proc.stdout
    assert proc.returncode == 0 and proc.stdout.startswith(
        f"Conforms: 0 violation(s), {_count(whole, 'Warning')} warning(s)"
    ), proc.stdout
    assert (release.reports / "validation.ttl").is_file()


def _count(report, severity: str) -> int:
    return sum(1 for r in report.results if r.severity.value == severity)


def _square_or_fail(n: int) -> int:
    if n == 3:
        raise ValueError(f"job {n} failed")
    return n * n


@pytest.mark.parametrize("workers", [1, 2])
def test_jobs_run_in_order_and_a_failing_job_stops_them(workers: int):
    """`in_order` yields results in the jobs' order (in this process, or in forked workers),
    calls `started` once, and a job's error reaches the caller: a build whose batch fails
    fails, its staging folder removed, the previous release kept."""
    from kg.checks.batches import in_order

    started: list[int] = []
    results = in_order(
        _square_or_fail, [(n,) for n in (5, 1, 2)], workers, lambda: started.append(1)
    )
    assert list(results) == [25, 1, 4] and started == [1]
    got: list[int] = []
    with pytest.raises(ValueError, match="job 3 failed"):
        got.extend(in_order(_square_or_fail, [(n,) for n in (1, 2, 3, 4, 5)], workers))
    assert got == [1, 4]
