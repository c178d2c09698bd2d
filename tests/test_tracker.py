"""`kg import tracker`: the paper's online tracker as a second source, and where it disagrees."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from conftest import run_kg

FIXTURES = Path(__file__).parent / "fixtures" / "tracker"


@pytest.fixture
def sources_copy(sources_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(sources_dir, target)
    return target


def test_import_build_and_disagreements(sources_copy: Path, tmp_path: Path):
    proc = run_kg("import", "tracker", str(FIXTURES / "good"), "--sources", str(sources_copy))
    assert proc.returncode == 0, proc.stderr
    assert "Imported 3 model file(s), 36 cells" in proc.stdout
    assert "zephyr.md (title 'Zephyr-7B')" in proc.stdout  # reported, not guessed
    imported = list(csv.DictReader((sources_copy / "imports" / "tracker.csv").open()))
    assert {r["model"] for r in imported} == {"gpt-2", "llama-2", "bloom"}  # 'Llama 2' matched

    out = tmp_path / "out"
    assert run_kg("build", "--sources", str(sources_copy), "--out", str(out)).returncode == 0
    proc = run_kg("query", "source-disagreements", "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    got = {(r["model"], r["component"], r["first"], r["second"]) for r in rows}
    assert got == {
        ("BLOOM", "pretraining-data", "?", "D4"),
        ("LLaMA-2", "safety-eval-code", "N/A", "?"),
        ("LLaMA-2", "inference-code", "C3", "C4"),
    }
    assert all("online tracker" in r["second_source"] for r in rows)
    assert all("Near to Mid-term" in r["first_source"] for r in rows)
    # GPT-2 agrees cell by cell with Table 3: no row
    assert not any(r["model"] == "GPT-2" for r in rows)
    # the imported graph has provenance and validates
    check = run_kg("validate", "--out", str(out), "--report", str(tmp_path / "r.ttl"))
    assert check.returncode == 0, check.stdout


def test_bad_tracker_value_names_file_and_field(sources_copy: Path):
    before = list((sources_copy).rglob("*"))
    proc = run_kg("import", "tracker", str(FIXTURES / "bad"), "--sources", str(sources_copy))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "gpt-2.md" in message and "training.code.pretraining.value" in message
    assert "unknown value '7'" in message
    assert list((sources_copy).rglob("*")) == before  # nothing written


def test_malformed_front_matter(sources_copy: Path, tmp_path: Path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "x.md").write_text("---\ntitle: [unclosed\n---\n")
    proc = run_kg("import", "tracker", str(folder), "--sources", str(sources_copy))
    assert proc.returncode == 2
    assert "x.md" in proc.stderr and "malformed YAML" in proc.stderr
    (folder / "x.md").write_text("no front matter here\n")
    proc = run_kg("import", "tracker", str(folder), "--sources", str(sources_copy))
    assert proc.returncode == 2 and "no YAML front matter" in proc.stderr


def test_missing_folder(sources_copy: Path, tmp_path: Path):
    proc = run_kg("import", "tracker", str(tmp_path / "nope"), "--sources", str(sources_copy))
    assert proc.returncode == 2 and "no such folder" in proc.stderr
