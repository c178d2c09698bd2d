"""`kg publish --to URL` against a real, writable Oxigraph server on loopback: what the server holds
after a push equals the local release, a second push replaces the first at once (a reader never
sees a mix), and failures leave the previous release intact. No test touches the internet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import OXIGRAPH, Built, free_port, run_kg, wait_for
from kg.build import current_release, read_manifest
from kg.errors import KgError
from kg.push import chunks, endpoints, parse_header, push

BASE = "https://w3id.org/genai-openness/"
RECORD = BASE + "graph/release"
STAGING = BASE + "graph/staging/"
GONE = BASE + "graph/paper/section-2"  # in the first release only
ADDED = BASE + "graph/test/added"  # in the second release only
FAILING = Path(__file__).parent / "fixtures" / "wikidata" / "failing_server.py"


@dataclass
class Server:
    url: str

    @property
    def store(self) -> str:
        return self.url + "/store"

    def select(self, text: str) -> list[dict]:
        data = urllib.parse.urlencode({"query": text}).encode()
        req = urllib.request.Request(
            self.url + "/query", data=data, headers={"Accept": "application/sparql-results+json"}
        )
        with urllib.request.urlopen(req, timeout=30) as response:
            results = ox.parse_query_results(response.read(), ox.QueryResultsFormat.JSON)
        names = [v.value for v in results.variables]
        return [{n: s[n] for n in names} for s in results]

    def dataset(self) -> ox.Dataset:
        """Every quad the server holds, blank nodes canonicalised."""
        rows = self.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        return canonical(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)

    def graph_names(self) -> set[str]:
        """Named graphs, empty ones included (Oxigraph keeps emptied graphs as names)."""
        return {r["g"].value for r in self.select("SELECT ?g WHERE { GRAPH ?g { } }")}

    def counts(self, graphs: list[str]) -> dict[str, int]:
        values = " ".join(f"<{g}>" for g in graphs)
        rows = self.select(
            f"SELECT ?g (COUNT(?s) AS ?n) WHERE {{ VALUES ?g {{ {values} }} "
            "OPTIONAL { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?g"
        )
        return {r["g"].value: int(r["n"].value) for r in rows}


def canonical(quads) -> ox.Dataset:
    ds = ox.Dataset(quads)
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return ds


def local(release: Path) -> ox.Dataset:
    return canonical(ox.Store.read_only(str(release / "store")))


def without_record(ds: ox.Dataset) -> ox.Dataset:
    return canonical(q for q in ds if q.graph_name.value != RECORD)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    if not OXIGRAPH.exists():
        pytest.skip("the oxigraph server (PyPI package oxigraph) is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [
            str(OXIGRAPH),
            "serve",
            "--location",
            str(tmp_path / "remote"),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(port, proc)
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def first(built: Built) -> Path:
    return current_release(built.out)


@pytest.fixture(scope="module")
def second(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder whose current release differs from the first: one graph gone, one
    added, one changed."""
    out = tmp_path_factory.mktemp("second") / "output"
    release = out / "releases" / "0000000000second"
    shutil.copytree(first, release)
    store = ox.Store(str(release / "store"))
    store.remove_graph(ox.NamedNode(GONE))
    ex = "https://example.org/test#"
    store.add(
        ox.Quad(
            ox.NamedNode(ex + "a"), ox.NamedNode(ex + "p"), ox.Literal("x"), ox.NamedNode(ADDED)
        )
    )
    store.add(
        ox.Quad(
            ox.NamedNode(ex + "b"),
            ox.NamedNode(ex + "p"),
            ox.Literal("y", language="en"),
            ox.NamedNode(ADDED),
        )
    )
    store.add(
        ox.Quad(
            ox.NamedNode(ex + "release"),
            ox.NamedNode(ex + "note"),
            ox.Literal("second"),
            ox.NamedNode(BASE + "graph/metadata"),
        )
    )
    store.flush()
    del store
    manifest = read_manifest(release)
    manifest["build_id"] = release.name
    (release / "manifest.json").write_text(json.dumps(manifest))
    (out / "current").symlink_to(Path("releases") / release.name)
    return out


def test_push_holds_the_release_and_its_record(built: Built, first: Path, server: Server):
    proc = run_kg("publish", "--to", server.store, "--release-from", str(built.out))
    assert proc.returncode == 0, proc.stderr
    build_id = read_manifest(first)["build_id"]
    assert f"Pushed release {build_id}" in proc.stdout and "verified" in proc.stdout
    remote = server.dataset()
    assert without_record(remote) == local(first)
    record = [
        (r["p"].value, r["o"].value)
        for r in server.select(f"SELECT ?p ?o WHERE {{ GRAPH <{RECORD}> {{ <{RECORD}> ?p ?o }} }}")
    ]
    subsets = {o for p, o in record if p.endswith("#subset")}
    assert subsets == set(read_manifest(first)["graphs"])
    assert ("http://purl.org/dc/terms/identifier", build_id) in record
    assert any(p == "http://purl.org/dc/terms/modified" for p, _ in record)
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]


def test_second_push_replaces_the_first_at_once(first: Path, second: Path, server: Server):
    one = push(first, server.store)
    assert one.previous is None and one.removed == []
    watched = sorted(set(one.graphs) | {ADDED})
    seen: list[dict[str, int]] = []
    stop = threading.Event()

    def read() -> None:  # one query, so one snapshot, per observation
        while not stop.is_set():
            seen.append(server.counts(watched))
            stop.wait(0.005)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        while not seen:  # the reader has seen the first release before the swap
            stop.wait(0.01)
        two = push(current_release(second), server.store)
        assert two.previous == one.build_id and two.removed == [GONE]
        assert without_record(server.dataset()) == local(current_release(second))
        assert server.counts([GONE]) == {GONE: 0}  # the graph only the first release had
        assert not [g for g in server.graph_names() if g.startswith(STAGING)]
        back = push(first, server.store)  # and back again, still watched
        n = len(seen)
        while len(seen) < n + 3:
            stop.wait(0.01)
    finally:
        stop.set()
        reader.join()
    states = [
        {g: one.graphs.get(g, 0) for g in watched},
        {g: two.graphs.get(g, 0) for g in watched},
    ]
    assert states[0] != states[1]
    mixed = [s for s in seen if s not in states]
    assert not mixed, f"{len(mixed)} of {len(seen)} observations mix the releases: {mixed[0]}"
    assert states[0] in seen and states[1] in seen
    assert back.previous == two.build_id and back.removed == [ADDED]
    assert without_record(server.dataset()) == local(first)
    assert server.counts([ADDED]) == {ADDED: 0}


def test_push_with_update_requests(built: Built, first: Path, server: Server):
    proc = run_kg(
        "publish",
        "--to",
        server.url + "/update",
        "--method",
        "update",
        "--query-url",
        server.url + "/query",
        "--chunk",
        "700",  # several requests per large graph; blank-node structures stay whole
        "--release-from",
        str(first),
    )
    assert proc.returncode == 0, proc.stderr
    assert without_record(server.dataset()) == local(first)
    quads = server.select(
        f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER STRSTARTS(STR(?g), '{STAGING}') }}"
    )
    assert quads == []


def test_chunks_keep_blank_node_structures_together():
    n = ox.NamedNode
    p = n("http://example.org/p")
    a, b, c = ox.BlankNode("a"), ox.BlankNode("b"), ox.BlankNode("c")
    triples = [ox.Triple(n(f"http://example.org/{i}"), p, ox.Literal(str(i))) for i in range(5)]
    triples += [ox.Triple(n("http://example.org/x"), p, a), ox.Triple(a, p, b), ox.Triple(b, p, c)]
    triples += [ox.Triple(c, p, ox.Literal("end"))]
    parts = chunks(triples, 3)
    assert sum(len(part) for part in parts) == len(triples)
    holding = [
        i
        for i, part in enumerate(parts)
        if any(ox.BlankNode("a") in (t.subject, t.object) for t in part)
    ]
    assert len(holding) == 1 and len(parts[holding[0]]) == 4  # the 4 linked triples, together
    assert all(len(part) <= 3 for i, part in enumerate(parts) if i != holding[0])


def test_nothing_listening(built: Built):
    url = f"http://127.0.0.1:{free_port()}/store"
    proc = run_kg("publish", "--to", url, "--release-from", str(built.out), "--timeout", "5")
    assert proc.returncode == 2
    assert "read the previous release record" in proc.stderr
    assert "cannot reach" in proc.stderr and url.replace("/store", "/query") in proc.stderr
    assert "Traceback" not in proc.stderr


def test_http_error_on_upload_keeps_the_previous_release(built: Built, first: Path, server: Server):
    push(first, server.store)
    before = server.dataset()
    proc = run_kg(
        "publish",
        "--to",
        server.url + "/nope",
        "--update-url",
        server.url + "/update",
        "--query-url",
        server.url + "/query",
        "--release-from",
        str(built.out),
    )
    assert proc.returncode == 2
    assert "upload graph https://w3id.org/genai-openness/graph/" in proc.stderr
    assert "HTTP 404" in proc.stderr and server.url + "/nope?graph=" in proc.stderr
    assert server.dataset() == before
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]


class _Proxy(BaseHTTPRequestHandler):
    """Forwards to the Oxigraph server; answers 503 to one PUT; records the requests' headers."""

    upstream = ""
    fail_put = 3
    seen: list[tuple[str, dict[str, str]]]
    puts = 0

    def _forward(self) -> None:
        cls = type(self)
        cls.seen.append((self.command, dict(self.headers)))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
        if self.command == "PUT":
            cls.puts += 1
            if cls.puts == cls.fail_put:
                self.send_response(503, "Service Unavailable")
                self.end_headers()
                self.wfile.write(b"overloaded, try later")
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
        req = urllib.request.Request(cls.upstream + self.path, body, headers, method=self.command)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                status, data = answer.status, answer.read()
                ctype = answer.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            status, data, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, *args):  # quiet
        pass


def test_failure_mid_upload_drops_staging_and_sends_credentials(
    first: Path, second: Path, server: Server, monkeypatch: pytest.MonkeyPatch
):
    push(first, server.store)
    before = server.dataset()
    handler = type("Proxy", (_Proxy,), {"upstream": server.url, "seen": [], "puts": 0})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("KG_STORE_USER", "alice")
    monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
    try:
        with pytest.raises(KgError) as caught:
            push(
                current_release(second),
                f"http://127.0.0.1:{proxy.server_port}/store",
                headers=["X-Token: abc 123"],
            )
    finally:
        proxy.shutdown()
        proxy.server_close()
    message = str(caught.value)
    assert message.startswith("upload graph https://w3id.org/genai-openness/graph/")
    assert "HTTP 503 Service Unavailable: overloaded, try later" in message
    assert server.dataset() == before  # the previous release intact, no staging triples left
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]
    methods = [m for m, _ in handler.seen]
    assert methods[:1] == ["POST"] and methods.count("PUT") == 3 and "DELETE" in methods
    for _method, headers in handler.seen:
        assert headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
        assert headers["X-Token"] == "abc 123"


def test_timeout(first: Path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(FAILING), str(port), "slow"])
    try:
        wait_for(port, proc)
        with pytest.raises(KgError, match=r"did not answer within 0.5 s"):
            push(first, f"http://127.0.0.1:{port}/store", timeout=0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_endpoints_and_headers():
    e = endpoints("http://localhost:7878/store")
    assert (e.gsp, e.update, e.query) == (
        "http://localhost:7878/store",
        "http://localhost:7878/update",
        "http://localhost:7878/query",
    )
    e = endpoints("https://kg.example.org/ds/data")
    assert (e.update, e.query) == (
        "https://kg.example.org/ds/update",
        "https://kg.example.org/ds/query",
    )
    e = endpoints("https://neptune.example:8182/sparql", method="update")
    assert (e.gsp, e.update, e.query) == (None, *["https://neptune.example:8182/sparql"] * 2)
    with pytest.raises(KgError, match="--update-url and --query-url"):
        endpoints("http://graphdb:7200/repositories/kg/rdf-graphs/service")
    with pytest.raises(KgError, match="not an http"):
        endpoints("file:///etc/passwd")
    assert parse_header("Authorization: Bearer x:y") == ("Authorization", "Bearer x:y")
    with pytest.raises(KgError, match="Name: value"):
        parse_header("no colon")


def test_publish_options(built: Built, tmp_path: Path):
    """--out is the static folder (tests/test_publish.py), so it does not go with --to; push
    options need --to."""
    proc = run_kg(
        "publish",
        "--to",
        "http://127.0.0.1:9/store",
        "--out",
        str(tmp_path / "site"),
        "--release-from",
        str(built.out),
    )
    assert proc.returncode == 2 and "static folder" in proc.stderr
    proc = run_kg("publish", "--method", "update", "--release-from", str(built.out))
    assert proc.returncode == 2 and "only applies with --to" in proc.stderr
    assert not (tmp_path / "site").exists()
