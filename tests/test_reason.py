"""`kg reason`: HermiT (via owlready2) finds the graph consistent and classifies the same models
into the defined classes as the SPARQL derivation rules."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import Built, run_kg
from kg.release.release import Release


@pytest.mark.slow
def test_reasoner_agrees_with_the_rules(built: Built):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed; test_reason_without_java covers the error")
    proc = run_kg("reason", "--out", str(built.out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Consistent (HermiT" in proc.stdout
    assert "classify the same models" in proc.stdout
    report = json.loads((Release.current(built.out).reports / "reasoning.json").read_text())
    assert report["consistent"] is True and report["disagreements"] == {}
    sizes = {k: len(v) for k, v in report["inferred"].items()}
    assert sizes == {"OpenWeightsModel": 23, "FullyOpenDeploymentModel": 18, "FullyClosedModel": 9}
    assert report["inferred"] == report["derived"]


def test_reason_without_java(built: Built, tmp_path: Path):
    # a PATH with python but no java
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bindir)}
    proc = run_kg("reason", "--out", str(built.out), env=env)
    assert proc.returncode == 2
    assert "needs Java" in proc.stderr and "default-jre-headless" in proc.stderr


def test_scope_of_one_model_is_the_ontology_and_its_own_facts(built: Built):
    """`kg reason --model` gives HermiT the ontology and one model's asserted facts (its
    statements, its assessments', the types of what they name), never a derived graph."""
    from kg.checks.reason import asserted_triples, ontology_triples, scoped_triples

    release = Release.current(built.out)
    store = release.open_store()
    base = release.base.base
    llama = f"{base}model/llama-2"
    scoped = scoped_triples(store, base, [llama])
    ontology = set(ontology_triples(store, base))
    facts = [t for t in scoped if t not in ontology]
    subjects = {t.subject.value for t in facts}
    assert llama in subjects
    assessments = {t.subject.value for t in facts if t.predicate.value.endswith("#assessedModel")}
    assert len(assessments) >= 12  # the paper's 12 components, at least
    assert subjects <= {llama} | assessments | {
        t.subject.value for t in facts if t.predicate.value.endswith("22-rdf-syntax-ns#type")
    }
    # nothing derived: the rules' classes are what HermiT must infer by itself
    assert not any(t.object.value.endswith("#OpenWeightsModel") for t in facts)
    assert set(asserted_triples(store, base)) >= set(facts)
    assert len(scoped) < len(asserted_triples(store, base)) / 2


@pytest.mark.slow
def test_reasoning_scoped_to_one_model_says_what_it_checked(built: Built):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed; test_reason_without_java covers the error")
    proc = run_kg("reason", "--model", "LLaMA-2", "--out", str(built.out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Checked the ontology (" in proc.stdout
    assert "and the asserted facts of 1 model(s) (llama-2)" in proc.stdout
    report = json.loads((Release.current(built.out).reports / "reasoning-models.json").read_text())
    assert report["checked"]["models"] == [f"{Release.current(built.out).base.base}model/llama-2"]
    assert report["consistent"] is True and report["disagreements"] == {}
    assert report["inferred"] == report["derived"]
    assert sum(len(v) for v in report["inferred"].values()) >= 1  # LLaMA-2 is classified


def test_reason_names_an_unknown_model(built: Built):
    proc = run_kg("reason", "--model", "no-such-model", "--out", str(built.out))
    assert proc.returncode == 2
    assert "no-such-model" in proc.stderr
