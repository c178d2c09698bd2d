"""`kg build`: the whole paper in the store, deterministic dumps, atomic releases."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Built, run_kg
from kg.errors import KgError
from kg.release import build as build_module
from kg.release.build import DUMPS, build
from kg.release.release import Release
from kg.store import OxigraphStore

GAO = "https://w3id.org/genai-openness/ontology#"


def _count(store: OxigraphStore, cls: str) -> int:
    q = f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{GAO}{cls}> }}"
    return int(next(iter(store.raw_query(q)))["n"].value)


def test_counts_in_the_store(built: Built):
    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    assert _count(store, "AIModel") == 40
    assert _count(store, "ComponentAssessment") == 480
    assert _count(store, "LicenseEvaluation") == 12
    assert _count(store, "PipelineComponent") == 12
    assert _count(store, "OpennessLevel") == 10
    assert _count(store, "PermissionAnswer") == 60
    assert _count(store, "ImpactMeasurement") == 120
    assert built.result.counts["AIModel"] == 40


def test_every_model_has_twelve_assessments(built: Built):
    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    q = f"""SELECT ?m (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        ?a <{GAO}assessedModel> ?m ; <{GAO}assessedComponent> ?c }} GROUP BY ?m"""
    counts = {r["m"].value: int(r["n"].value) for r in store.raw_query(q)}
    assert len(counts) == 40
    assert set(counts.values()) == {12}


def test_named_graphs_and_provenance(built: Built):
    """Each table's facts sit in their own graph, whose metadata names the paper and the table."""
    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    base = "https://w3id.org/genai-openness/"
    q = f"""SELECT ?g ?part ?id WHERE {{
        GRAPH <{base}graph/metadata> {{
          ?g a <{GAO}StatementGraph> ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?part ;
             <http://purl.org/dc/terms/source> <https://arxiv.org/abs/2404.17047> .
          ?part <http://purl.org/dc/terms/identifier> ?id ;
                <http://purl.org/dc/terms/isPartOf> <https://arxiv.org/abs/2404.17047> .
        }} }}"""
    found = {
        r["g"].value: r["id"].value for r in store.raw_query(q) if r["id"].value.startswith("Table")
    }
    assert found == {
        f"{base}graph/paper/table-1": "Table 1",
        f"{base}graph/paper/table-2": "Table 2",
        f"{base}graph/paper/table-3": "Table 3",
    }
    # the assessments are in the Table 3 graph only
    q = f"""SELECT ?g (COUNT(?a) AS ?n) WHERE {{ GRAPH ?g {{ ?a a <{GAO}ComponentAssessment> }} }}
            GROUP BY ?g"""
    assert {r["g"].value: int(r["n"].value) for r in store.raw_query(q)} == {
        f"{base}graph/paper/table-3": 480
    }
    # developer kinds are curators' statements, not the paper's
    q = f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?o <{GAO}organisationKind> ?k }} }}"""
    assert [r["g"].value for r in store.raw_query(q)] == [f"{base}graph/curation"]


def test_unknown_values_are_not_zero(built: Built):
    store = OxigraphStore.open_read_only(Release.current(built.out).store_path)
    q = f"""SELECT ?v ?status WHERE {{
        <https://w3id.org/genai-openness/model/gpt-4> <{GAO}hasImpactMeasurement> ?m .
        ?m <{GAO}metric> <{GAO}huggingface-downloads-last-month> .
        OPTIONAL {{ ?m <{GAO}measuredValue> ?v }} OPTIONAL {{ ?m <{GAO}valueStatus> ?status }} }}"""
    row = next(iter(store.raw_query(q)))
    assert row["v"] is None
    assert row["status"].value == GAO + "not-reported"


def test_dumps_are_deterministic(tmp_path: Path):
    """Two builds in two processes give byte-identical dumps and the same build id."""
    first = run_kg("build", "--out", str(tmp_path / "a"))
    second = run_kg("build", "--out", str(tmp_path / "b"))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    for name in DUMPS:
        a = (tmp_path / "a" / "current" / "dumps" / name).read_bytes()
        b = (tmp_path / "b" / "current" / "dumps" / name).read_bytes()
        assert a == b, name
    assert (tmp_path / "a" / "current").resolve().name == (
        tmp_path / "b" / "current"
    ).resolve().name


def test_dumps_round_trip_to_the_store(built: Built):
    release = Release.current(built.out).path
    store = OxigraphStore.open_read_only(release / "store")
    in_store = {str(q) for q in store.quads()}
    for name, fmt in (("dataset.nq", ox.RdfFormat.N_QUADS), ("dataset.trig", ox.RdfFormat.TRIG)):
        parsed = {str(q) for q in ox.parse(path=str(release / "dumps" / name), format=fmt)}
        assert parsed == in_store, name
    manifest = json.loads((release / "manifest.json").read_text())
    assert sum(manifest["graphs"].values()) == len(in_store)


def test_rebuild_of_same_sources_reuses_release(built: Built, tmp_path: Path):
    out = tmp_path / "output"
    shutil.copytree(built.out, out, symlinks=True)
    again = build(out)
    assert again.reused
    assert again.build_id == built.result.build_id


def test_failure_midway_leaves_previous_release(built: Built, tmp_path: Path, monkeypatch):
    out = tmp_path / "output"
    shutil.copytree(built.out, out, symlinks=True)
    before = (out / "current").resolve()
    dumps_before = {n: (before / "dumps" / n).read_bytes() for n in DUMPS}

    def broken_store(path):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(build_module.OxigraphStore, "create", staticmethod(broken_store))
    with pytest.raises(OSError, match="disk full"):
        build(out, base="https://example.org/other/")
    assert (out / "current").resolve() == before
    assert {n: (before / "dumps" / n).read_bytes() for n in DUMPS} == dumps_before
    assert not [p for p in (out / "releases").iterdir() if p.name.startswith(".staging")]


def test_base_iri_is_configurable(tmp_path: Path):
    proc = run_kg("build", "--out", str(tmp_path / "o"), "--base", "https://example.org/kg/")
    assert proc.returncode == 0, proc.stderr
    nq = (tmp_path / "o" / "current" / "dumps" / "dataset.nq").read_text()
    assert "<https://example.org/kg/model/gpt-2>" in nq
    assert "https://w3id.org/genai-openness/model/" not in nq
    # the ontology's own namespace does not move with the instance base
    assert "<https://w3id.org/genai-openness/ontology#AIModel>" in nq


def test_query_without_build_is_a_clear_error(tmp_path: Path):
    proc = run_kg("query", "table3", "--out", str(tmp_path / "nothing"))
    assert proc.returncode == 2
    assert "run 'kg build' first" in proc.stderr


def test_missing_release_folder_error():
    with pytest.raises(KgError, match="kg build"):
        Release.current(Path("/nonexistent/output"))


def test_build_summary_names_outputs(tmp_path: Path):
    proc = run_kg("build", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "40 models, 480 component assessments, 12 license evaluations" in text
    assert "current/store" in text and "dataset.trig" in text
