"""`kg link wikidata` against real local servers: an Oxigraph SPARQL server loaded with a small
Wikidata-shaped fixture, and a deliberately failing HTTP server. No test touches the internet."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import OXIGRAPH, free_port, run_kg, wait_for

FIXTURES = Path(__file__).parent / "fixtures" / "wikidata"


@pytest.fixture
def wikidata_server(tmp_path: Path):
    if not OXIGRAPH.exists():
        pytest.skip("the oxigraph server (PyPI package oxigraph) is not installed")
    store = tmp_path / "wd-store"
    subprocess.run(
        [str(OXIGRAPH), "load", "--location", str(store), "--file", str(FIXTURES / "items.ttl")],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [str(OXIGRAPH), "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(port, proc)
        yield f"http://127.0.0.1:{port}/query", proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def failing_server():
    procs = []

    def start(mode: str) -> str:
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, str(FIXTURES / "failing_server.py"), str(port), mode]
        )
        procs.append(proc)
        wait_for(port, proc)
        return f"http://127.0.0.1:{port}/query"

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=10)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "workspace"


def link_wikidata(endpoint: str | None, cache: Path, workspace: Path, *extra: str):
    """Run `kg link wikidata` with a cache and a workspace of the test's own."""
    where = ["--endpoint", endpoint] if endpoint else []
    return run_kg(
        "link", "wikidata", *where, "--cache", str(cache), "--workspace", str(workspace), *extra
    )


def links(workspace: Path) -> dict[str, dict[str, str]]:
    with (workspace / "imports" / "wikidata.csv").open() as f:
        return {r["name"]: r for r in csv.DictReader(f)}


def test_link_accept_list_and_report(wikidata_server, workspace: Path, tmp_path: Path):
    url, server = wikidata_server
    cache = tmp_path / "cache"
    proc = link_wikidata(url, cache, workspace, "--retries", "0")
    assert proc.returncode == 0, proc.stderr
    got = links(workspace)
    assert got["GPT-2"]["status"] == "accepted"  # the @de label is not an English match
    assert got["GPT-2"]["item"] == "http://www.wikidata.org/entity/Q9010"
    assert got["OpenAI"]["item"] == "http://www.wikidata.org/entity/Q9001"
    assert got["Claude"]["status"] == "ambiguous"  # two items: listed, never guessed
    assert got["Claude"]["item"] == ""
    assert got["Meta"]["status"] == "ambiguous"
    assert got["LLaMA-2"]["status"] == "missing"  # Wikidata says 'Llama 2'
    assert got["GPT-2"]["endpoint"] == url and got["GPT-2"]["query"].endswith(".rq")
    assert "ambiguous: model Claude" in proc.stdout

    out = tmp_path / "out"
    assert run_kg("build", "--workspace", str(workspace), "--out", str(out)).returncode == 0
    found = run_kg("query", "wikidata-differences", "--format", "csv", "--out", str(out))
    rows = list(csv.DictReader(io.StringIO(found.stdout)))
    # GPT-Neo: Wikidata names EleutherAI, the paper Microsoft. GPT-2 agrees (OpenAI).
    assert [(r["model"], r["paper_developer"]) for r in rows] == [("GPT-Neo", "Microsoft")]
    assert (
        run_kg("validate", "--out", str(out), "--report", str(tmp_path / "r.ttl")).returncode == 0
    )

    # the answers are cached: with the server gone, the same run gives the same links
    server.terminate()
    server.wait(timeout=10)
    before = (workspace / "imports" / "wikidata.csv").read_text()
    again = link_wikidata(url, cache, workspace, "--offline")
    assert again.returncode == 0, again.stderr
    after = (workspace / "imports" / "wikidata.csv").read_text()
    strip = lambda text: [line.rsplit(",", 1)[0] for line in text.splitlines()]  # noqa: E731
    assert strip(after) == strip(before)  # identical apart from the run date


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error500", "HTTP 500"),
        ("malformed", "malformed JSON"),
        ("slow", "cannot reach the endpoint"),
    ],
)
def test_broken_answers_leave_links_and_cache(
    mode, message, failing_server, workspace: Path, tmp_path: Path
):
    url = failing_server(mode)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "keep.json").write_text("{}")
    target = workspace / "imports" / "wikidata.csv"
    target.parent.mkdir(parents=True)
    target.write_text("previous links\n")
    proc = link_wikidata(url, cache, workspace, "--timeout", "1", "--retries", "1")
    assert proc.returncode == 2
    assert message in " ".join(proc.stderr.split())
    assert "Traceback" not in proc.stderr
    assert target.read_text() == "previous links\n"
    assert sorted(p.name for p in cache.iterdir()) == ["keep.json"]


def test_endpoint_down(workspace: Path, tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}/query"  # nothing listens there
    proc = link_wikidata(url, tmp_path / "c", workspace, "--timeout", "1", "--retries", "1")
    assert proc.returncode == 2
    assert "cannot reach the endpoint" in proc.stderr and "2 attempt(s)" in proc.stderr


def test_offline_without_cache(workspace: Path, tmp_path: Path):
    proc = link_wikidata(None, tmp_path / "empty", workspace, "--offline")
    assert proc.returncode == 2 and "no cached answer" in proc.stderr
