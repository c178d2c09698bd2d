"""IRIs in every curated source and import are checked where they are read: a bad one stops with
its file, record and field (issue 10 item 6, issue 12 item 8), and a `javascript:` link never
gets in."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from conftest import run_kg
from kg.errors import SourceError
from kg.sources.argument import load_statements
from kg.sources.iri import iri_problem
from kg.sources.loader import load_sources
from kg.sources.tracker import load_imported
from kg.sources.wikidata import COLUMNS as LINK_COLUMNS
from kg.sources.wikidata import load_links
from kg.vocab.ontology import load_ontology, vocabulary

TRACKER = Path(__file__).parent / "fixtures" / "tracker" / "good"


@pytest.mark.parametrize(
    "value",
    [
        "https://example.org/a b",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.org/x",
        "https://",
        "https://example.org/{x}",
        "https://example.org/%zz",
        "example.org/x",
        "",
    ],
)
def test_bad_iris_are_named(value: str):
    assert iri_problem(value)


@pytest.mark.parametrize(
    "value", ["https://example.org/a%20b", "http://www.wikidata.org/entity/Q1", "https://ex.org/é"]
)
def test_good_iris_pass(value: str):
    assert iri_problem(value) is None


def _set(path: Path, line: int, column: str, value: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.fixture
def sources(sources_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(sources_dir, target)
    return target


def test_a_license_url_with_a_space_is_a_clear_build_error(sources: Path, tmp_path: Path):
    """Regression: an IRI with a space crashed `kg build` ('ValueError: Invalid IRI code point')
    with no file, record or field."""
    _set(sources / "curation" / "licenses.csv", 2, "url", "https://opensource.org/license/m it")
    proc = run_kg("build", "--sources", str(sources), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "curation/licenses.csv, line 2, record 'mit', field 'url'" in message
    assert "Invalid IRI code point ' '" in message
    assert "ValueError" not in message and "Traceback" not in message


def test_an_alignment_object_with_a_bad_iri(sources: Path):
    alignments = sources / "curation" / "alignments.csv"
    _set(alignments, 2, "object_id", "https://w3id.org/dpv/ai#Model Risk")
    triples = load_ontology()
    with pytest.raises(SourceError) as info:
        load_statements(sources, set(vocabulary(triples).components))
    assert info.value.field == "object_id" and info.value.line == 2
    assert "Invalid IRI code point" in str(info.value)


def test_license_url_schemes(sources: Path):
    _set(sources / "curation" / "licenses.csv", 3, "url", "javascript:alert(document.cookie)")
    with pytest.raises(SourceError) as info:
        load_sources(sources, vocabulary(load_ontology()))
    assert (info.value.line, info.value.field) == (3, "url")
    assert "scheme 'javascript' is not allowed" in str(info.value)


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("javascript:alert(1)", "scheme 'javascript' is not allowed"),
        ("https://example.org/gpt 2", "Invalid IRI code point ' '"),
    ],
)
def test_a_tracker_link_is_refused_at_import(tmp_path: Path, link: str, words: str):
    folder = tmp_path / "tracker"
    shutil.copytree(TRACKER, folder)
    page = folder / "gpt-2.md"
    page.write_text(
        page.read_text().replace("link: https://example.org/tracker/gpt-2", f"link: '{link}'")
    )
    workspace = tmp_path / "workspace"
    proc = run_kg("import", "tracker", str(folder), "--workspace", str(workspace))
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "gpt-2.md, record 'GPT-2', field 'link'" in message and words in message
    assert not workspace.exists()  # nothing written


def test_a_bad_link_in_an_imported_tracker_table(tmp_path: Path):
    """An import file edited by hand is checked again when the build loads it."""
    workspace = tmp_path / "workspace"
    (workspace / "imports").mkdir(parents=True)
    (workspace / "imports" / "tracker.csv").write_text(
        "file,title,link,release,model,component,value,license\n"
        "gpt-2.md,GPT-2,javascript:alert(1),2019-02,gpt-2,weights,1,\n"
    )
    with pytest.raises(SourceError) as info:
        load_imported(workspace, {"weights"}, {"gpt-2"})
    where = (info.value.file, info.value.line, info.value.field)
    assert where == ("imports/tracker.csv", 2, "link")


def test_a_bad_item_in_the_wikidata_links(tmp_path: Path):
    workspace = tmp_path / "workspace"
    (workspace / "imports").mkdir(parents=True)
    row = {c: "" for c in LINK_COLUMNS} | {
        "kind": "model",
        "id": "gpt-2",
        "name": "GPT-2",
        "status": "accepted",
        "item": "http://www.wikidata.org/entity/Q95726734",
        "developers": "http://www.wikidata.org/entity/Q21708200 http://www.wikidata.org/entity/Q 1",
        "endpoint": "https://query.wikidata.org/sparql",
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, LINK_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    (workspace / "imports" / "wikidata.csv").write_text(out.getvalue())
    with pytest.raises(SourceError) as info:
        load_links(workspace)
    assert (info.value.line, info.value.record, info.value.field) == (2, "gpt-2", "developers")
