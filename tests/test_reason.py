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
