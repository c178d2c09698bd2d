"""`kg import fmti`: the Foundation Model Transparency Index into its own named graph, linked to
the graph's organisations and models only where the names match exactly. Fixtures in each
edition's format (tests/fixtures/fmti/); the real repository in ../shared/data/fmti is opt-in."""

from __future__ import annotations

import csv
import io
import shutil
import tarfile
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import run_kg
from kg.errors import SourceError
from kg.release.release import Release
from kg.sources.fmti import load_imported, read_fmti
from webfixture import Answer, web_server

FIXTURES = Path(__file__).parent / "fixtures" / "fmti"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "fmti"
GAO = "https://w3id.org/genai-openness/ontology#"
BASE = "https://w3id.org/genai-openness/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
UPSTREAM = "https://github.com/stanford-crfm/fmti"


def test_read_every_edition_as_stated():
    data = read_fmti(FIXTURES)
    assert len(data.scores) == 24 and len(data.indicators) == 9
    assert data.developers() == [
        ("2023", "Hugging Face"),
        ("2023", "Meta"),
        ("2023", "OpenAI"),
        ("2024", "Meta"),
        ("2024", "OpenAI"),
        ("2024", "Stability"),
        ("2025", "Meta"),
        ("2025", "xAI"),
    ]
    assert data.totals == {
        ("2023", "Meta"): 2,
        ("2023", "OpenAI"): 0,
        ("2023", "Hugging Face"): 3,
        ("2024", "Meta"): 3,
        ("2024", "OpenAI"): 1,
        ("2024", "Stability"): 2,
    }
    by = {(s.edition, s.developer, s.indicator): s for s in data.scores}
    # the 2024 report's header row names an indicator; its rows are still read
    assert by[("2024", "Stability", "Data size")].disclosure == "600M image-text pairs."
    assert by[("2025", "Meta", "License")].references == "https://example.org/llama4-license"
    assert by[("2024", "Meta", "Data size")].justification.startswith("The model is trained")
    # names that differ between the scores file and a report are not joined, but reported
    assert by[("2024", "Meta", "License")].disclosure == ""
    assert any("Model License" in n and "not imported" in n for n in data.notes)
    # the scores file's value wins over a report's, and the difference is reported
    assert by[("2024", "Stability", "Compute usage")].score == 0
    assert any("Stability, 'Compute usage': the report says 1" in n for n in data.notes)
    ind = {(i.edition, i.name): i for i in data.indicators}
    assert ind[("2023", "Model Asset License")].definition == ""  # no definition of that name
    assert ind[("2023", "Data size")].file == "fmti-indicators.csv"
    assert ind[("2024", "Compute usage")].file.startswith("May2024/reports/")
    assert ind[("2025", "License")].subdomain == "Usage Policy"


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "fmti"
    shutil.copytree(FIXTURES, target)
    return target


def test_a_score_that_is_not_0_or_1_names_file_line_developer_indicator(tmp_path: Path):
    folder = _copy(tmp_path)
    scores = folder / "May2024" / "May2024_scores.csv"
    scores.write_text(scores.read_text().replace("Compute usage,1,0,0", "Compute usage,1,0,2"))
    with pytest.raises(SourceError) as info:
        read_fmti(folder)
    assert (info.value.file, info.value.line) == ("May2024/May2024_scores.csv", 3)
    assert (info.value.record, info.value.field) == ("Stability", "Compute usage")
    workspace = tmp_path / "ws"
    proc = run_kg("import", "fmti", str(folder), "--workspace", str(workspace))
    assert proc.returncode == 2 and "score '2' is not 0 or 1" in proc.stderr
    assert not workspace.exists()  # nothing written


def test_a_missing_edition_is_a_clear_error(tmp_path: Path):
    folder = _copy(tmp_path)
    (folder / "Dec2025" / "Dec2025_scores.csv").unlink()
    with pytest.raises(SourceError, match=r"Dec2025/Dec2025_scores\.csv: missing"):
        read_fmti(folder)


def test_a_hand_edited_import_is_checked_at_build(tmp_path: Path):
    workspace = tmp_path / "ws"
    proc = run_kg("import", "fmti", str(FIXTURES), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert load_imported(workspace, {"meta", "openai", "xai"}, {"llama-2", "gpt-4"}) is not None
    path = workspace / "imports" / "fmti.csv"
    rows = list(csv.reader(io.StringIO(path.read_text())))
    rows[3][rows[0].index("organisation")] = "no-such-org"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    with pytest.raises(SourceError) as info:
        load_imported(workspace, {"meta", "openai", "xai"}, {"llama-2", "gpt-4"})
    where = (info.value.file, info.value.line, info.value.field)
    assert where == ("imports/fmti.csv", 4, "organisation")


def test_import_build_and_query(tmp_path: Path):
    workspace = tmp_path / "ws"
    proc = run_kg("import", "fmti", str(FIXTURES), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Imported 24 scores of 8 developer assessments (2023: 3, 2024: 3, 2025: 2)" in text
    assert "Matched 3 developer(s) to organisations and 2 flagship model(s) to models" in text
    assert "not matched: developer 'Hugging Face'" in text  # listed, never guessed
    assert "not matched: developer 'Stability'" in text  # 'Stability AI' is not the same name
    assert "not matched: flagship Gemini 1.0 Ultra API (2024, Google)" in text
    out = tmp_path / "out"
    built = run_kg("build", "--workspace", str(workspace), "--out", str(out))
    assert built.returncode == 0, built.stderr
    proc = run_kg("query", "transparency", "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {(r["edition"], r["developer"]): r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert len(rows) == 8
    meta = rows[("2024", "Meta")]
    assert (meta["score"], meta["indicators_disclosed"], meta["indicators_assessed"]) == (
        "3",
        "3",
        "3",
    )
    assert meta["flagship_model"] == "Llama 2" and meta["organisation"] == "Meta"
    xai = rows[("2025", "xAI")]
    assert xai["score"] == "" and xai["indicators_disclosed"] == "1"
    assert rows[("2023", "Hugging Face")]["organisation"] == ""
    one = run_kg(
        "query", "transparency", "-p", "developer=OpenAI", "--format", "csv", "--out", str(out)
    )
    assert [r["edition"] for r in csv.DictReader(io.StringIO(one.stdout))] == ["2023", "2024"]

    all_quads = Release.current(out).open_store().quads()

    def about(subject: str, graph: str) -> set[tuple[str, str]]:
        return {
            (q.predicate.value, q.object.value)
            for q in all_quads
            if q.subject == ox.NamedNode(subject) and q.graph_name == ox.NamedNode(graph)
        }

    quads = about(BASE + "fmti/2025/meta/license", BASE + "graph/imports/fmti")
    assert (GAO + "disclosure", "Llama 4 Community License.") in quads
    assert (GAO + "justification", "Linked.") in quads
    assert (GAO + "scoredIndicator", BASE + "fmti/2025/indicator/license") in quads
    links = about(BASE + "fmti/2024/meta", BASE + "graph/imports/fmti")
    assert (GAO + "assessedDeveloper", BASE + "organisation/meta") in links
    assert (GAO + "flagshipModel", BASE + "model/llama-2") in links
    described = about(BASE + "source/fmti", BASE + "graph/metadata")
    assert ("http://purl.org/dc/terms/license", CC_BY) in described
    assert ("http://www.w3.org/ns/prov#wasDerivedFrom", UPSTREAM) in described


def test_without_dir_the_snapshot_is_downloaded(tmp_path: Path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(FIXTURES, arcname="fmti-main")
    workspace = tmp_path / "ws"
    with web_server({"/fmti.tar.gz": Answer(buf.getvalue())}) as web:
        proc = run_kg(
            "import", "fmti", "--url", f"{web.url}/fmti.tar.gz", "--workspace", str(workspace)
        )
    assert proc.returncode == 0, proc.stderr
    assert "Imported 24 scores" in proc.stdout
    assert (workspace / "imports" / "fmti.csv").is_file()
    with web_server({}) as web:
        gone = f"{web.url}/gone.tar.gz"
        proc = run_kg("import", "fmti", "--url", gone, "--workspace", str(tmp_path / "w2"))
    assert proc.returncode == 2 and "HTTP 404 Not Found" in proc.stderr
    assert not (tmp_path / "w2" / "imports").exists()


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent (the shared data snapshot)")
def test_the_real_index_imports(tmp_path: Path):
    workspace = tmp_path / "ws"
    proc = run_kg("import", "fmti", str(SHARED), "--workspace", str(workspace))
    assert proc.returncode == 0, proc.stderr
    assert "Imported 3700 scores of 37 developer assessments (2023: 10, 2024: 14, 2025: 13)" in (
        proc.stdout
    )
    assert "on 300 indicators, 1845 with a disclosure" in proc.stdout
    assert "Matched 7 developer(s) to organisations and 2 flagship model(s)" in proc.stdout
    data = read_fmti(SHARED)
    for (edition, developer), total in data.totals.items():  # the stated totals add up
        got = sum(s.score for s in data.scores if (s.edition, s.developer) == (edition, developer))
        assert got == total, (edition, developer)
