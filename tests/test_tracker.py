"""`kg import tracker`: the paper's online tracker as a second source, and where it disagrees."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

import kg
from conftest import run_kg

FIXTURES = Path(__file__).parent / "fixtures" / "tracker"
YAML_FIXTURES = Path(__file__).parent / "fixtures" / "yaml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


def test_import_build_and_disagreements(workspace: Path, tmp_path: Path):
    proc = run_kg("import", "tracker", str(FIXTURES / "good"), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert "Imported 3 model file(s), 36 cells" in proc.stdout
    assert "zephyr.md (title 'Zephyr-7B')" in proc.stdout  # reported, not guessed
    imported = list(csv.DictReader((workspace / "imports" / "tracker.csv").open()))
    assert {r["model"] for r in imported} == {"gpt-2", "llama-2", "bloom"}  # 'Llama 2' matched

    out = tmp_path / "out"
    assert run_kg("build", "--workspace", str(workspace), "--out", str(out)).returncode == 0
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


def test_bad_tracker_value_names_file_and_field(workspace: Path):
    before = list((workspace).rglob("*"))
    proc = run_kg("import", "tracker", str(FIXTURES / "bad"), "--workspace", str(workspace))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "gpt-2.md" in message and "training.code.pretraining.value" in message
    assert "unknown value '7'" in message
    assert list((workspace).rglob("*")) == before  # nothing written


def test_malformed_front_matter(workspace: Path, tmp_path: Path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "x.md").write_text("---\ntitle: [unclosed\n---\n")
    proc = run_kg("import", "tracker", str(folder), "--workspace", str(workspace))
    assert proc.returncode == 2
    assert "x.md" in proc.stderr and "malformed YAML" in proc.stderr
    (folder / "x.md").write_text("no front matter here\n")
    proc = run_kg("import", "tracker", str(folder), "--workspace", str(workspace))
    assert proc.returncode == 2 and "no YAML front matter" in proc.stderr


def test_missing_folder(workspace: Path, tmp_path: Path):
    proc = run_kg("import", "tracker", str(tmp_path / "nope"), "--workspace", str(workspace))
    assert proc.returncode == 2 and "no such folder" in proc.stderr


def test_yaml_bomb_fails_fast_with_file_and_line(workspace: Path, tmp_path: Path):
    """Regression (issue 10): a 'billion laughs' tracker file ran 25 s and died of MemoryError."""
    folder = tmp_path / "bomb"
    folder.mkdir()
    (folder / "bomb.md").write_bytes((YAML_FIXTURES / "billion-laughs.md").read_bytes())
    proc = run_kg("import", "tracker", str(folder), "--workspace", str(workspace))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "bomb.md, line 8, field 'f'" in message and "billion laughs" in message
    assert not workspace.exists()  # nothing written


def test_imports_go_to_the_workspace_never_the_package(tmp_path: Path, sources_dir: Path):
    """A non-editable install's sources (kg/_data/sources) are read-only: imports never go there.
    Run from a folder of the user's own, the default workspace is ./kg-workspace."""
    before = {p: p.stat().st_mtime_ns for p in sources_dir.rglob("*")}
    readonly = tmp_path / "site-packages" / "kg" / "_data" / "sources"
    import shutil

    shutil.copytree(sources_dir, readonly)
    for p in [readonly, *readonly.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("KG_WORKSPACE", None)
    user = tmp_path / "user"
    user.mkdir()
    proc = run_kg(
        "import", "tracker", str(FIXTURES / "good"), "--sources", str(readonly), cwd=user, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert (user / "kg-workspace" / "imports" / "tracker.csv").exists()
    provenance = json.loads(
        (user / "kg-workspace" / "imports" / "tracker.provenance.json").read_text()
    )
    assert provenance["source"] == "tracker" and provenance["records"] == 3
    assert not (readonly / "imports").exists()
    assert {p: p.stat().st_mtime_ns for p in sources_dir.rglob("*")} == before
    # the build reads the workspace it is given: with it, the tracker's graph; without, none
    out = tmp_path / "out"
    built = run_kg("build", "--out", str(out), cwd=user, env=env)
    assert built.returncode == 0, built.stderr
    graphs = json.loads((out / "current" / "manifest.json").read_text())["graphs"]
    assert any(g.endswith("graph/imports/tracker") for g in graphs)
    empty = run_kg("build", "--out", str(out), "--workspace", str(tmp_path / "none"), cwd=user)
    graphs = json.loads((out / "current" / "manifest.json").read_text())["graphs"]
    assert empty.returncode == 0 and not any("imports" in g for g in graphs)
    # a workspace inside the installed package is refused
    package = Path(kg.__file__).resolve().parent / "_data"
    proc = run_kg("import", "tracker", str(FIXTURES / "good"), "--workspace", str(package))
    assert proc.returncode == 2 and "inside the installed package" in proc.stderr


def test_a_link_that_is_not_an_iri_is_refused_with_file_and_field(workspace: Path, tmp_path: Path):
    """Regression: a link with a space crashed `kg build` with no file or line; a javascript:
    link became clickable in the pages."""
    folder = tmp_path / "links"
    folder.mkdir()
    text = (FIXTURES / "good" / "gpt-2.md").read_text()
    for bad in ("https://example.org/a b", "javascript:alert(1)"):
        (folder / "gpt-2.md").write_text(
            "\n".join(
                f"link: {bad}" if line.startswith("link:") else line for line in text.splitlines()
            )
        )
        proc = run_kg("import", "tracker", str(folder), "--workspace", str(workspace))
        assert proc.returncode == 2
        message = " ".join(proc.stderr.split())
        assert "gpt-2.md" in message and "field 'link'" in message
    # an import edited by hand is checked again by the build, with file, line and field
    assert (
        run_kg(
            "import", "tracker", str(FIXTURES / "good"), "--workspace", str(workspace)
        ).returncode
        == 0
    )
    csv_path = workspace / "imports" / "tracker.csv"
    rows = csv_path.read_text().splitlines()
    rows[1] = rows[1].replace(rows[1].split(",")[2], "https://example.org/a b", 1)
    csv_path.write_text("\n".join(rows) + "\n")
    proc = run_kg("build", "--workspace", str(workspace), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "tracker.csv, line 2" in proc.stderr and "field 'link'" in proc.stderr
