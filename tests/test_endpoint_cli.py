"""`kg query`, `kg validate` and `kg check` with `--endpoint`: the same answers from a real
`oxigraph serve` filled by `kg publish --to` as from the built store."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from typer.testing import CliRunner

from conftest import Built, free_port
from kg.cli import app
from kg.release.release import Release
from kg.store.endpoint import EndpointStore
from stores import OxigraphServer

runner = CliRunner()


def kg(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def published(built: Built) -> Iterator[str]:
    """A real `oxigraph serve` holding the release, pushed by `kg publish --to`; its query URL."""
    with OxigraphServer() as server:
        code, output = kg("publish", "--to", server.gsp_url, "--release-from", str(built.out))
        assert code == 0, output
        yield server.query_url


def rows(output: str) -> list[tuple[str, ...]]:
    return sorted(tuple(r) for r in csv.reader(io.StringIO(output)))


@pytest.mark.parametrize(
    "args",
    [
        ("table3", "-p", "model=GPT-2"),
        ("models",),
        ("figure4",),
        ("openness-by-developer", "-p", "kind=company"),
        ("pages/model-profile", "-p", "model=kg:model/llama-2"),
    ],
)
def test_query_gives_the_same_rows(published: str, built: Built, args: tuple[str, ...]) -> None:
    out = ("--out", str(built.out), "--format", "csv")
    code, local = kg("query", *args, *out)
    assert code == 0, local
    code, remote = kg("query", *args, *out, "--endpoint", published)
    assert code == 0, remote
    assert len(rows(local)) > 1
    assert rows(remote) == rows(local)


def test_construct_and_ask_files(published: str, built: Built, tmp_path: Path) -> None:
    construct = tmp_path / "labels.rq"
    construct.write_text(
        "# title: t\n# description: d\n"
        "PREFIX gao: <https://w3id.org/genai-openness/ontology#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "CONSTRUCT { ?m rdfs:label ?l } WHERE { ?m a gao:AIModel ; rdfs:label ?l }\n"
    )
    ask = tmp_path / "ask.rq"
    ask.write_text(
        "# title: t\n# description: d\n"
        "ASK { GRAPH <https://w3id.org/genai-openness/graph/paper/table-2> { ?s ?p ?o } }\n"
    )
    graphs = []
    for endpoint in ((), ("--endpoint", published)):
        code, output = kg("query", str(construct), "--out", str(built.out), *endpoint)
        assert code == 0, output
        graphs.append(set(ox.parse(output.encode(), format=ox.RdfFormat.TURTLE)))
        code, output = kg("query", str(ask), "--out", str(built.out), *endpoint)
        assert (code, output) == (0, "true\n")
    assert len(graphs[0]) == 40
    assert graphs[1] == graphs[0]


def test_without_a_local_build(published: str, tmp_path: Path) -> None:
    """--endpoint needs no build: the default base names the graphs."""
    code, output = kg(
        "query", "table3", "-p", "model=GPT-2", "-p", "component=weights", "--format", "csv",
        "--out", str(tmp_path / "none"), "--endpoint", published,
    )  # fmt: skip
    assert code == 0, output
    assert rows(output) == [
        ("GPT-2", "weights", "D5", "Mod. MIT"),
        ("model", "component", "level", "license"),
    ]


def test_only_the_release_graphs_are_read(published: str, built: Built) -> None:
    """The push's release record (a graph of the store) is not part of the dataset queried."""
    store = EndpointStore(published)
    try:
        names = sorted(g.value for g in store.graph_names())
        assert names == sorted(Release.current(built.out).graphs)
    finally:
        store.close()


def test_validate_reads_the_same_data(published: str, built: Built, tmp_path: Path) -> None:
    """`kg validate --endpoint` reads the release's quads from the endpoint and gives the same
    verdict and findings as on the built store."""
    local = list(Release.current(built.out).open_store().quads())
    store = EndpointStore(published)
    try:
        remote = list(store.quads())
    finally:
        store.close()
    ground = lambda qs: {q for q in qs if not any(isinstance(t, ox.BlankNode) for t in q)}  # noqa: E731
    assert len(remote) == len(local)
    assert ground(remote) == ground(local)
    reports = {}
    for where, endpoint in (("local", ()), ("remote", ("--endpoint", published))):
        report = tmp_path / f"{where}.ttl"
        code, output = kg("validate", "--out", str(built.out), "--report", str(report), *endpoint)
        assert code in (0, 1), output
        reports[where] = (code, output.replace(str(report), "REPORT"))
        assert report.is_file()
    assert reports["remote"] == reports["local"]


def test_check_gives_the_same_findings(published: str, built: Built) -> None:
    release = Release.current(built.out)
    code, local = kg("check", "--out", str(built.out), "--fail-on", "none")
    before = {p: p.stat().st_mtime_ns for p in release.reports.glob("checks.*")}
    remote_code, remote = kg(
        "check", "--out", str(built.out), "--fail-on", "none", "--endpoint", published
    )
    assert (remote_code, code) == (0, 0)
    assert remote.splitlines()[:-1] == local.splitlines()[:-1]  # the last line names the reports
    assert "finding(s)" in remote
    assert {p: p.stat().st_mtime_ns for p in release.reports.glob("checks.*")} == before


def test_unreachable_or_empty_endpoint_is_a_clear_error(published: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/query"
    code, output = kg("query", "models", "--out", str(tmp_path), "--endpoint", dead)
    assert code == 2 and "cannot reach" in output
    with OxigraphServer() as empty:
        code, output = kg("query", "models", "--out", str(tmp_path), "--endpoint", empty.query_url)
    assert code == 2 and "holds no graph under https://w3id.org/genai-openness/graph/" in output
