"""`kg import hf`: Hub records read, checked and mapped; lineage conflicts found by the rules and
checks; the live path against a real local server answering like the Hub's /api/models (paged
by Link headers). No test touches the internet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import free_port, query_rows, run_kg, wait_for
from kg.checks.derive import derive
from kg.mapping.hf import hf_quads
from kg.mapping.paper import Mapper
from kg.sources.hf import ReadReport, check_record, read_records
from kg.sources.workspace import Provenance
from kg.store import OxigraphStore
from kg.store.queries import resolve
from kg.vocab.namespaces import Base, gao
from kg.vocab.ontology import load_ontology, vocabulary

FIXTURES = Path(__file__).parent / "fixtures" / "hf"
MODELS = FIXTURES / "models.jsonl"
VALID = 15  # the fixture's first 15 lines are valid records


def hub_store(path: Path = MODELS) -> OxigraphStore:
    """The ontology, the stand-in knowledge base and the records' quads, derived."""
    base = Base()
    store = OxigraphStore.in_memory()
    triples = load_ontology()
    store.add_quads(Mapper(base, vocabulary(triples)).ontology(triples))
    kb = base.graph("curation", "licenses")
    store.add_quads(
        ox.Quad(t.subject, t.predicate, t.object, kb)
        for t in ox.parse(path=str(FIXTURES / "kb.ttl"))
    )
    info = Provenance("hf", "Hub", retrieved="2026-11-30", folder=str(path), records=VALID)
    store.add_quads(hf_quads(read_records(path, ReadReport()), base, info))
    derive(store, base, [])
    return store


@pytest.fixture(scope="module")
def store() -> OxigraphStore:
    return hub_store()


def rows(store: OxigraphStore, name: str, **params: str) -> list[dict[str, str | None]]:
    bound = {k: ox.Literal(v) for k, v in params.items()}
    result = store.select(resolve(name), bound)
    return [{k: (v.value if v is not None else None) for k, v in r.items()} for r in result.rows]


# --- reading --------------------------------------------------------------------------------


def test_malformed_records_are_reported_with_line_and_field_and_skipped():
    report = ReadReport()
    ids = [r.id for r in read_records(MODELS, report)]
    assert len(ids) == VALID and ids[0] == "meta-llama/Llama-2-7b-hf" and "gpt2" in ids
    assert report.read == 25 and report.kept == VALID and report.problem_count == 10
    assert [(p.line, p.field) for p in report.problems] == [
        (16, "(record)"),
        (17, "id"),
        (18, "downloads"),
        (19, "gated"),
        (20, "base_model"),
        (21, "tags"),
        (22, "id"),  # a duplicate of line 2
        (23, "tags (arxiv:not-an-id)"),
        (24, "(record)"),
        (25, "id"),  # javascript:alert(1) is no repository id
    ]
    assert "not valid JSON" in report.problems[0].message
    assert "duplicate" in report.problems[6].message


def test_record_fields_and_round_trip():
    first = next(read_records(MODELS, ReadReport()))
    assert first.licenses == ("llama2",) and first.gated == "manual"
    assert first.arxiv == ("2307.09288",) and first.downloads == 1200000
    assert first.created == "2023-07-13T16:15:40Z"
    for record in read_records(MODELS, ReadReport()):
        again = check_record(json.loads(record.to_json()), record.line)
        assert again == record
    ft = check_record(
        {
            "id": "a/b",
            "tags": ["base_model:c/d", "base_model:finetune:c/d", "dataset:x/y"],
            "cardData": {"base_model": ["e/f"], "datasets": "x/y", "license": "MIT"},
        },
        1,
    )
    # a typed tag wins over the untyped one for the same base; card bases are added
    assert ft.bases == (("c/d", "finetune"), ("e/f", None))
    assert ft.datasets == ("x/y",) and ft.licenses == ("MIT",)
    other = check_record(
        {"id": "a/b", "tags": ["license:other"], "cardData": {"license_name": "Acme  License"}}, 1
    )
    assert other.licenses_as_written() == ("Acme  License",)  # as written; rule 62 folds case


# --- mapping and rules ----------------------------------------------------------------------


def test_mapping_keeps_what_the_hub_states(store: OxigraphStore):
    base = Base()
    llama = base.iri("hf-model", "meta-llama", "Llama-2-7b-hf")
    ft = base.iri("hf-model", "org", "llama-ft")
    graph = base.graph("imports", "hf")

    quads = store.quads()

    def objects(s: ox.NamedNode, p: str) -> set[str]:
        return {q.object.value for q in quads if q.subject == s and q.predicate == gao(p)}

    assert objects(llama, "gating") == {gao("gated-manual").value}
    assert objects(llama, "declaredLicenseText") == {"llama2"}
    # the string the knowledge base resolves, as every source writes it (rule 62)
    assert objects(llama, "licenseAsWritten") == {"llama2"}
    assert objects(base.iri("hf-model", "org", "other"), "licenseAsWritten") == {"Acme  License"}
    assert objects(llama, "describedInPaper") == {"https://arxiv.org/abs/2307.09288"}
    assert objects(ft, "fineTunedFrom") == {llama.value}
    assert objects(ft, "trainedOn") == {"https://huggingface.co/datasets/tatsu-lab/alpaca"}
    assert objects(base.iri("hf-model", "org", "other"), "licenseLink") == {"LICENSE.md"}
    stated = [q for q in quads if q.subject == ft and q.predicate == gao("fineTunedFrom")]
    assert [q.graph_name for q in stated] == [graph]
    # the graph's provenance is in the metadata graph
    meta = [q for q in quads if q.subject == graph and q.graph_name == base.graph("metadata")]
    assert any(q.object == gao("StatementGraph") for q in meta)


def test_weights_level_by_the_papers_rule(store: OxigraphStore):
    levels = {
        r["model"]: r["level"]
        for r in rows(store, "lineage", model="org/nc-merge")
        for r in (
            {"model": r["derivative"], "level": r["derivative_level"]},
            {"model": r["base"], "level": r["base_level"]},
        )
    }
    # MIT: five permissions, D5; Llama 2: four, D4; CC BY-NC: three, D3
    assert levels == {
        "org/nc-merge": "D5",
        "lab/nc-base": "D3",
        "org/good-ft": "D4",
        "meta-llama/Llama-2-7b-hf": "D4",
    }


def test_one_conflict_of_each_kind_with_chain_and_clause(store: OxigraphStore):
    found = {(r["model"], r["ancestor"], r["kind"]) for r in rows(store, "license-conflicts")}
    assert found == {
        ("org/llama-ft", "meta-llama/Llama-2-7b-hf", "license-not-kept"),
        ("org/llama-ft", "meta-llama/Llama-2-7b-hf", "use-restrictions-dropped"),
        ("org/llama-ft", "meta-llama/Llama-2-7b-hf", "openness-exceeds-base"),
        ("org/llama-ft-gguf", "meta-llama/Llama-2-7b-hf", "license-not-kept"),
        ("org/llama-ft-gguf", "meta-llama/Llama-2-7b-hf", "use-restrictions-dropped"),
        ("org/llama-ft-gguf", "meta-llama/Llama-2-7b-hf", "openness-exceeds-base"),
        ("org/nc-merge", "lab/nc-base", "non-commercial-base"),
        ("org/nc-merge", "lab/nc-base", "openness-exceeds-base"),
        ("org/nc-merge", "org/good-ft", "license-not-kept"),
        ("org/nc-merge", "org/good-ft", "use-restrictions-dropped"),
        ("org/nc-merge", "org/good-ft", "openness-exceeds-base"),
        ("org/nc-merge", "meta-llama/Llama-2-7b-hf", "license-not-kept"),
        ("org/nc-merge", "meta-llama/Llama-2-7b-hf", "use-restrictions-dropped"),
        ("org/nc-merge", "meta-llama/Llama-2-7b-hf", "openness-exceeds-base"),
        ("org/sa-adapter", "lab/sa-base", "share-alike-base"),
        ("org/sa-adapter", "lab/sa-base", "openness-exceeds-base"),
        ("org/rail-q", "lab/rail-base", "use-restrictions-dropped"),
    }
    # no conflict where the derivative keeps its base's license, or the base asks nothing
    models = {m for m, _, _ in found}
    assert "org/good-ft" not in models and "org/mit-of-apache" not in models
    gguf = next(
        r
        for r in rows(store, "license-conflicts", kind="license-not-kept")
        if r["model"] == "org/llama-ft-gguf"
    )
    assert gguf["chain"] == "org/llama-ft-gguf < org/llama-ft < meta-llama/Llama-2-7b-hf"
    assert gguf["license"] == "apache-2.0" and gguf["ancestor_license"] == "llama2"
    assert "Acceptable Use Policy" in gguf["clause"]
    nc = next(r for r in rows(store, "license-conflicts", kind="non-commercial-base"))
    assert nc["clause"] == "§2.a.1: NonCommercial purposes only"
    exceeds = next(
        r
        for r in rows(store, "license-conflicts", kind="openness-exceeds-base")
        if r["ancestor"] == "lab/sa-base"
    )
    assert exceeds["clause"] == "§3.b: same License Elements"  # the permission it withholds


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("license-not-kept", 4),
        ("non-commercial-base", 1),
        ("share-alike-base", 1),
        ("use-restrictions-dropped", 5),
        ("openness-exceeds-base", 6),
    ],
)
def test_each_check_lists_its_kind(store: OxigraphStore, check: str, expected: int):
    found = rows(store, f"checks/hub-{check}")
    assert len(found) == expected
    assert all(r["chain"] and r["chain"].startswith(r["model"]) for r in found)
    assert resolve(f"checks/hub-{check}").extra["severity"] in ("error", "warn")


def test_every_hub_check_is_tested():
    from kg.checks.sparql_checks import load_checks

    hub = {c.name for c in load_checks() if c.name.startswith("hub-")}
    tested = {
        f"hub-{k}"
        for k in (
            "license-not-kept",
            "non-commercial-base",
            "share-alike-base",
            "use-restrictions-dropped",
            "openness-exceeds-base",
        )
    }
    assert hub == tested | {"hub-unresolved-license"}


def test_unresolved_licenses_listed_never_guessed(store: OxigraphStore):
    assert rows(store, "checks/hub-unresolved-license") == [
        {"key": "acme license", "repositories": "1", "example": "org/other"},
        {"key": "my-custom-thing", "repositories": "1", "example": "org/weird"},
    ]


def test_hub_licenses_resolve_through_the_knowledge_base_like_every_source(
    store: OxigraphStore,
):
    """One rule resolves every source's license strings (62): the Hub's are in the library's
    license questions, and a Hub repository's level is its license's level in the knowledge
    base (gao:licenseDataLevel), not a second computation."""
    base = Base()
    resolved = {
        (t.subject.value.rsplit("/", 1)[-1], t.object.value.rsplit("/", 1)[-1])
        for t in store.construct(resolve("derive/62-license-strings"))
        if t.predicate == gao("resolvedLicense") and "/hf-model/" in t.subject.value
    }
    assert ("Llama-2-7b-hf", "t-llama-2") in resolved and ("gpt2", "t-mit") in resolved
    unresolved = {r["text"]: r["mentions"] for r in rows(store, "unresolved-licenses")}
    assert unresolved == {"Acme  License": "1", "my-custom-thing": "1"}
    coverage = {r["graph"]: r for r in rows(store, "license-coverage")}
    assert base.graph("imports", "hf").value in coverage
    kb_level = {
        t.subject.value.rsplit("/", 1)[-1]: t.object.value.rsplit("#", 1)[-1]
        for t in store.construct(resolve("derive/60-license-kb-level"))
        if t.predicate == gao("licenseDataLevel")
    }
    assert kb_level["t-cc-by-nc"] == "D3" and kb_level["t-mit"] == "D5"


def test_lineage_walks_up_and_down(store: OxigraphStore):
    found = {
        (r["direction"], r["derivative"], r["relation"], r["base"])
        for r in rows(store, "lineage", model="org/llama-ft")
    }
    assert found == {
        ("ancestor", "org/llama-ft", "finetune", "meta-llama/Llama-2-7b-hf"),
        ("descendant", "org/llama-ft-gguf", "quantized", "org/llama-ft"),
    }
    assert rows(store, "lineage", model="no/such-model") == []


# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


def imported(workspace: Path) -> list[str]:
    return (workspace / "imports" / "hf.jsonl").read_text().splitlines()


def provenance(workspace: Path) -> dict:
    return json.loads((workspace / "imports" / "hf.provenance.json").read_text())


def test_import_file_reports_malformed_and_unresolved(workspace: Path):
    proc = run_kg("import", "hf", str(MODELS), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert f"Imported {VALID} repositories of 25 records" in proc.stdout
    assert "line 18, record 'org/bad-downloads', field 'downloads'" in proc.stdout
    assert "'my-custom-thing': 1" in proc.stdout
    assert len(imported(workspace)) == VALID
    meta = provenance(workspace)
    assert meta["records"] == VALID and meta["folder"] == str(MODELS)


def test_import_missing_file_is_a_clear_error(workspace: Path, tmp_path: Path):
    proc = run_kg("import", "hf", str(tmp_path / "nope.jsonl"), "--workspace", str(workspace))
    assert proc.returncode == 2 and "nope.jsonl: no such file" in proc.stderr


# --- live, against a local server that answers like the Hub -----------------------------------


@pytest.fixture
def hub(tmp_path: Path):
    procs: list[subprocess.Popen] = []

    def start(mode: str = "ok") -> tuple[str, Path]:
        port = free_port()
        log = tmp_path / f"requests-{port}.log"
        proc = subprocess.Popen(
            [
                sys.executable,
                str(FIXTURES / "hub_server.py"),
                str(port),
                str(MODELS),
                str(log),
                mode,
            ],
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        wait_for(port, proc)
        return f"http://127.0.0.1:{port}", log

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


def live(endpoint: str, workspace: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_HUB_OFFLINE", None)
    return run_kg(
        "import",
        "hf",
        "--workspace",
        str(workspace),
        "--cache",
        str(cache),
        "--page-size",
        "4",
        "--retries",
        "0",
        *extra,
        env=env,
    )


def test_live_pages_by_link_headers(hub, workspace: Path, tmp_path: Path):
    endpoint, log = hub()
    proc = live(endpoint, workspace, tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    # the server serves the 23 JSON objects of the fixture, 4 a page: 6 pages
    assert len(log.read_text().splitlines()) == 6
    assert "Imported 15 repositories of 23 records" in proc.stdout
    by_file = tmp_path / "by-file"
    assert run_kg("import", "hf", str(MODELS), "--workspace", str(by_file)).returncode == 0
    assert imported(workspace) == imported(by_file)
    meta = provenance(workspace)
    assert meta["upstream"] == f"{endpoint}/api/models" and meta["extra"]["endpoint"] == endpoint


def test_live_follows_a_relative_next_link(hub, workspace: Path, tmp_path: Path):
    endpoint, log = hub("relative")
    assert live(endpoint, workspace, tmp_path / "cache").returncode == 0
    assert len(log.read_text().splitlines()) == 6 and len(imported(workspace)) == VALID


def test_live_resumes_where_it_stopped(hub, workspace: Path, tmp_path: Path):
    endpoint, log = hub("fail-at-8")
    cache = tmp_path / "cache"
    proc = live(endpoint, workspace, cache)
    assert proc.returncode == 2 and "503" in proc.stderr
    assert not (workspace / "imports" / "hf.jsonl").exists()  # nothing half-imported
    state = json.loads((cache / "checkpoint.json").read_text())
    assert state["records"] == 8 and "cursor=8" in state["next"]
    Path(f"{log}.heal").touch()
    proc = live(endpoint, workspace, cache)
    assert proc.returncode == 0, proc.stderr
    requests = log.read_text().splitlines()
    # two pages, a failed third, then the third again and the rest: the first two not refetched
    assert len(requests) == 7 and "cursor=8" in requests[3]
    assert len(imported(workspace)) == VALID


def test_offline_is_a_clear_error(workspace: Path, tmp_path: Path):
    proc = live(f"http://127.0.0.1:{free_port()}", workspace, tmp_path / "cache")
    assert proc.returncode == 2
    assert "cannot reach" in proc.stderr and "offline" in proc.stderr


def test_next_link_to_another_host_is_refused(hub, workspace: Path, tmp_path: Path):
    endpoint, log = hub("offsite")
    proc = live(endpoint, workspace, tmp_path / "cache")
    assert proc.returncode == 2 and "refused" in proc.stderr
    assert len(log.read_text().splitlines()) == 1


def test_build_loads_the_import_into_its_own_graph(workspace: Path, tmp_path: Path):
    assert run_kg("import", "hf", str(MODELS), "--workspace", str(workspace)).returncode == 0
    out = tmp_path / "output"
    proc = run_kg("build", "--workspace", str(workspace), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert manifest["graphs"][f"{Base().base}graph/imports/hf"] > 15 * 5
    lineage = query_rows(out, "lineage", "-p", "model=org/llama-ft-gguf")
    assert {(r["derivative"], r["base"]) for r in lineage} == {
        ("org/llama-ft-gguf", "org/llama-ft"),
        ("org/llama-ft", "meta-llama/Llama-2-7b-hf"),
    }
    unresolved = {r["key"] for r in query_rows(out, "checks/hub-unresolved-license")}
    assert {"my-custom-thing", "acme license"} <= unresolved
