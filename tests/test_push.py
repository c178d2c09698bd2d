"""`kg publish --to URL` against a real, writable Oxigraph server on loopback: what the server holds
after a push equals the local release, a second push replaces the first at once (a reader never
sees a mix), and failures leave the previous release intact. No test touches the internet."""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import OXIGRAPH, Built, free_port, run_kg, wait_for
from kg.errors import KgError
from kg.outputs.store_upload import chunks, endpoints, parse_header, upload_release
from kg.release.integrity import file_digests
from kg.release.release import Release

BASE = "https://w3id.org/genai-openness/"
RECORD = BASE + "graph/release"
STAGING = BASE + "graph/staging/"
LOCK = BASE + "graph/push-lock"
GONE = BASE + "graph/paper/section-2"  # in the first release only
ADDED = BASE + "graph/test/added"  # in the second release only
FAILING = Path(__file__).parent / "fixtures" / "wikidata" / "failing_server.py"


def push(release: Path, *args, **kwargs):
    """Upload the release in folder `release` (the tests keep releases as folders)."""
    return upload_release(Release(release), *args, **kwargs)


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
    return Release.current(built.out).path


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
    graphs: dict[str, int] = {}
    for q in store:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) + 1
    del store
    manifest = Release(release).manifest
    manifest["build_id"] = release.name
    manifest["graphs"] = graphs  # a release kg publish verifies: its manifest matches its files
    manifest["files"] = file_digests(release)
    (release / "manifest.json").write_text(json.dumps(manifest))
    (out / "current").symlink_to(Path("releases") / release.name)
    return out


def test_push_holds_the_release_and_its_record(built: Built, first: Path, server: Server):
    proc = run_kg("publish", "--to", server.store, "--out", str(built.out))
    assert proc.returncode == 0, proc.stderr
    build_id = Release(first).manifest["build_id"]
    assert f"Pushed release {build_id}" in proc.stdout and "verified" in proc.stdout
    remote = server.dataset()
    assert without_record(remote) == local(first)
    record = [
        (r["p"].value, r["o"].value)
        for r in server.select(f"SELECT ?p ?o WHERE {{ GRAPH <{RECORD}> {{ <{RECORD}> ?p ?o }} }}")
    ]
    subsets = {o for p, o in record if p.endswith("#subset")}
    assert subsets == set(Release(first).manifest["graphs"])
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

    failed: list[BaseException] = []

    def watch() -> None:
        try:
            read()
        except BaseException as exc:  # reported below, and ends the waits
            failed.append(exc)
            raise

    def wait_until(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not done():
            assert not failed, f"the reader failed: {failed[0]!r}"
            assert time.monotonic() < deadline, "the reader made no observation in 60 s"
            stop.wait(0.01)

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        wait_until(lambda: bool(seen))  # the reader has seen the first release before the swap
        two = push(Release.current(second).path, server.store)
        assert two.previous == one.build_id and two.removed == [GONE]
        assert without_record(server.dataset()) == local(Release.current(second).path)
        assert server.counts([GONE]) == {GONE: 0}  # the graph only the first release had
        assert not [g for g in server.graph_names() if g.startswith(STAGING)]
        back = push(first, server.store)  # and back again, still watched
        n = len(seen)
        wait_until(lambda: len(seen) >= n + 3)
    finally:
        stop.set()
        reader.join(timeout=60)
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
    proc = run_kg("publish", "--to", url, "--out", str(built.out), "--timeout", "5")
    assert proc.returncode == 2
    assert "take the push lock" in proc.stderr
    assert "cannot reach" in proc.stderr and url.replace("/store", "/update") in proc.stderr
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
    # the first PUT failed, so nothing was staged (staging clean-up after a failure part-way is
    # tested with the proxy below); the push's lock was released
    assert server.counts([LOCK]) == {LOCK: 0}


class _Proxy(BaseHTTPRequestHandler):
    """Forwards to the Oxigraph server; answers 503 (with `Retry-After: 0`) to the `fail_put`-th
    PUT and to the first `fail_times` - 1 retries of it; records the requests' method, path and
    headers. `swap`: "500" answers the swap update with 500 without forwarding it, "slow"
    forwards it, then waits `delay` seconds before answering."""

    upstream = ""
    fail_put = 3
    fail_times = 1000
    seen: list[tuple[str, str, dict[str, str]]]
    puts = 0
    failing: str | None = None  # the path of the PUT answered 503
    failures = 0
    swap: str | None = None
    delay = 0.0

    def _forward(self) -> None:
        cls = type(self)
        cls.seen.append((self.command, self.path, dict(self.headers)))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
        if self.command == "PUT":
            if cls.failing is None:
                cls.puts += 1
                if cls.puts == cls.fail_put:
                    cls.failing = self.path
            if self.path == cls.failing and cls.failures < cls.fail_times:
                cls.failures += 1
                self.send_response(503, "Service Unavailable")
                self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(b"overloaded, try later")
                return
        is_swap = body is not None and b"void%3Asubset+%3Fold" in body
        if is_swap and cls.swap == "500":
            self.send_response(500, "Internal Server Error")
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"boom")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
        req = urllib.request.Request(cls.upstream + self.path, body, headers, method=self.command)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                status, data = answer.status, answer.read()
                ctype = answer.headers.get("Content-Type")
        except urllib.error.HTTPError as exc:
            status, data, ctype = exc.code, exc.read(), exc.headers.get("Content-Type")
        if is_swap and cls.swap == "slow":
            time.sleep(cls.delay)
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up waiting
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, *args):  # quiet
        pass


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler], **attrs) -> Iterator[type]:
    """A loopback HTTP server running a subclass of `handler` with class attributes `attrs`
    (`seen` starts empty); yields the subclass, its `url` attribute set."""
    cls = type(handler.__name__, (handler,), {"seen": [], **attrs})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), cls)
    cls.url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield cls
    finally:
        httpd.shutdown()
        httpd.server_close()


class _Recorder(BaseHTTPRequestHandler):
    """Records each request line and headers; answers `status` (with `headers`) to each."""

    seen: list[tuple[str, str, dict[str, str]]]
    status = 500
    headers_out: tuple[tuple[str, str], ...] = ()

    def _answer(self) -> None:
        cls = type(self)
        cls.seen.append((self.command, self.path, dict(self.headers)))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(cls.status)
        for k, v in cls.headers_out:
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):  # quiet
        pass


@pytest.mark.parametrize(
    ("suffix", "words"),
    [
        ("/store?", "empty '?'"),
        ("/store#x", "fragment"),
        ("/store?graph=urn:x", "must not already name a graph"),
        ("/store?default", "must not already name a graph"),
    ],
)
def test_bad_store_urls_are_refused_before_any_request(built: Built, suffix: str, words: str):
    with serving(_Recorder) as fake:
        proc = run_kg("publish", "--to", fake.url + suffix, "--out", str(built.out))
    assert proc.returncode == 2 and words in proc.stderr, proc.stderr
    assert fake.seen == []


def test_user_info_in_the_url_is_refused_and_not_printed(built: Built):
    with serving(_Recorder) as fake:
        url = fake.url.replace("//", "//alice:s3cret@") + "/store"
        proc = run_kg("publish", "--to", url, "--out", str(built.out))
    assert (
        proc.returncode == 2
        and "KG_STORE_USER" in proc.stderr
        and "KG_STORE_PASSWORD" in proc.stderr
    )
    assert "s3cret" not in proc.stderr + proc.stdout
    assert fake.seen == []


def test_a_query_string_of_the_store_url_is_kept(first: Path, server: Server):
    with serving(_Proxy, upstream=server.url, fail_put=0) as proxy:
        result = push(first, proxy.url + "/store?repo=x")
    puts = [path for method, path, _ in proxy.seen if method == "PUT"]
    assert len(puts) == len(result.graphs)
    for path in puts:
        assert path.startswith("/store?repo=x&graph=" + urllib.parse.quote(STAGING, safe=""))
    assert without_record(server.dataset()) == local(first)


def test_failure_mid_upload_drops_staging_and_sends_credentials(
    first: Path, second: Path, server: Server, monkeypatch: pytest.MonkeyPatch
):
    push(first, server.store)
    before = server.dataset()
    monkeypatch.setenv("KG_STORE_USER", "alice")
    monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
    monkeypatch.setenv("KG_STORE_AUTH", "basic")
    with (
        serving(_Proxy, upstream=server.url) as handler,
        pytest.raises(KgError) as caught,
    ):
        push(Release.current(second).path, handler.url + "/store", headers=["X-Token: abc 123"])
    message = str(caught.value)
    assert message.startswith("upload graph https://w3id.org/genai-openness/graph/")
    assert "HTTP 503 Service Unavailable: overloaded, try later (after 3 attempts)" in message
    assert server.dataset() == before  # the previous release intact, no staging triples left
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]
    methods = [m for m, _, _ in handler.seen]
    # two PUTs went through, the third was tried three times
    assert methods[:1] == ["POST"] and methods.count("PUT") == 2 + 3 and "DELETE" in methods
    for _method, _path, headers in handler.seen:
        assert headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret
        assert headers["X-Token"] == "abc 123"


def test_a_put_answered_503_once_is_retried_and_the_push_goes_through(first: Path, server: Server):
    """A Graph Store PUT replaces its graph, so repeating it is harmless: kg.http retries it."""
    with serving(_Proxy, upstream=server.url, fail_put=2, fail_times=1) as proxy:
        result = push(first, proxy.url + "/store")
    puts = [path for method, path, _ in proxy.seen if method == "PUT"]
    assert proxy.failures == 1 and len(puts) == len(result.graphs) + 1
    assert puts[1] == puts[2]  # the failed PUT, sent again
    assert without_record(server.dataset()) == local(first)


def test_updates_are_never_retried(first: Path):
    """An update is not repeated after a 5xx (it may have taken effect: a second lock, a second
    copy of a blank node): one request, one error."""
    with serving(_Recorder, status=503) as fake, pytest.raises(KgError) as caught:
        push(first, fake.url + "/store")
    # the lock's insert, once, then (best effort) its removal, once
    assert [(m, p) for m, p, _ in fake.seen] == [("POST", "/update")] * 2
    assert str(caught.value) == (
        f"take the push lock: POST {fake.url}/update answered HTTP 503 Service Unavailable"
    )


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
    """--site-dir is the static folder (tests/test_publish.py), so it does not go with --to;
    push options need --to."""
    proc = run_kg(
        "publish",
        "--to",
        "http://127.0.0.1:9/store",
        "--site-dir",
        str(tmp_path / "site"),
        "--out",
        str(built.out),
    )
    assert proc.returncode == 2 and "static folder" in proc.stderr
    proc = run_kg("publish", "--method", "update", "--out", str(built.out))
    assert proc.returncode == 2 and "only applies with --to" in proc.stderr
    assert not (tmp_path / "site").exists()


def test_concurrent_pushes_one_wins_and_the_store_holds_it(
    first: Path, second: Path, server: Server
):
    """Two pushes that take the lock at the same moment: one pushes, the other gives way (exit
    2 in the CLI), and the store holds exactly the winner's release, graph by graph."""
    releases = {"one": first, "two": Release.current(second).path}
    barrier = threading.Barrier(2, timeout=60)
    outcome: dict[str, object] = {}

    def run(name: str) -> None:
        def step(message: str) -> None:
            if message.startswith("taking the push lock"):
                barrier.wait()  # both take the lock together

        try:
            outcome[name] = push(releases[name], server.store, step=step)
        except Exception as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in releases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    won = [n for n, r in outcome.items() if not isinstance(r, BaseException)]
    lost = [r for r in outcome.values() if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, outcome
    assert isinstance(lost[0], KgError)
    assert "is in progress on this store; try again later" in str(lost[0])
    want = local(releases[won[0]])
    remote = without_record(server.dataset())
    for graph in {q.graph_name for q in want} | {q.graph_name for q in remote}:
        assert canonical(q for q in remote if q.graph_name == graph) == canonical(
            q for q in want if q.graph_name == graph
        ), graph
    assert server.counts([LOCK]) == {LOCK: 0}  # both locks gone
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]


def _update(server: Server, text: str) -> None:
    data = urllib.parse.urlencode({"update": text}).encode()
    urllib.request.urlopen(urllib.request.Request(server.url + "/update", data=data), timeout=30)


def test_a_crashed_push_is_cleaned_up_by_the_next(built: Built, first: Path, server: Server):
    stale = STAGING + "0000-dead/paper/table-1"
    _update(
        server,
        f"INSERT DATA {{ GRAPH <{stale}> {{ <urn:a> <urn:b> <urn:c> }} "
        f'GRAPH <{LOCK}> {{ <{LOCK}#0000-dead> <{LOCK}#lockedAt> "2000-01-01T00:00:00Z"'
        "^^<http://www.w3.org/2001/XMLSchema#dateTime> } }",
    )
    proc = run_kg("publish", "--to", server.store, "--out", str(built.out))
    assert proc.returncode == 0, proc.stderr
    assert "emptied 1 staging graph(s) and removed 1 expired lock(s)" in proc.stdout
    assert without_record(server.dataset()) == local(first)
    assert not [g for g in server.graph_names() if g.startswith(STAGING)]
    assert server.counts([LOCK]) == {LOCK: 0}


def test_a_live_lock_makes_the_push_give_way(built: Built, first: Path, server: Server):
    _update(
        server,
        f"INSERT {{ GRAPH <{LOCK}> {{ <{LOCK}#1234-other> <{LOCK}#lockedAt> ?now }} }} "
        "WHERE { BIND(NOW() AS ?now) }",
    )
    proc = run_kg("publish", "--to", server.store, "--out", str(built.out))
    assert proc.returncode == 2
    assert "another push (1234-other, since " in proc.stderr
    assert "is in progress on this store; try again later" in proc.stderr
    assert server.counts([LOCK]) == {LOCK: 1}  # only the other push's lock is left
    assert [q for q in server.dataset() if q.graph_name.value != LOCK] == []


def test_a_killed_push_s_lock_names_lock_expiry_and_when_it_expires(
    built: Built, first: Path, server: Server
):
    """Regression: a push killed mid-way left its lock for an hour and the next push said only
    'try again later'. Now it says when the lock expires and which option takes it over."""
    _update(
        server,
        f"INSERT {{ GRAPH <{LOCK}> {{ <{LOCK}#5678-killed> <{LOCK}#lockedAt> ?then }} }} "
        'WHERE { BIND(NOW() - "PT10M"^^<http://www.w3.org/2001/XMLSchema#dayTimeDuration> '
        "AS ?then) }",
    )
    proc = run_kg("publish", "--to", server.store, "--release-from", str(built.out))
    assert proc.returncode == 2
    text = " ".join(proc.stderr.split())
    assert "another push (5678-killed, since " in text
    assert "its lock expires at " in text and "(in 50 min" in text
    assert "--lock-expiry 3600" in text and "shorter --lock-expiry SECONDS" in text
    taken = run_kg(
        "publish", "--to", server.store, "--release-from", str(built.out), "--lock-expiry", "300"
    )
    assert taken.returncode == 0, taken.stderr
    assert "removed 1 expired lock(s)" in taken.stdout
    assert without_record(server.dataset()) == local(first)


def test_redirects_are_not_followed(built: Built):
    with serving(_Recorder) as elsewhere, serving(_Recorder, status=302) as fake:
        fake.headers_out = (("Location", elsewhere.url + "/update"),)
        proc = run_kg(
            "publish",
            "--to",
            fake.url + "/store",
            "--header",
            "Authorization: Bearer t0ken",
            "--release-from",
            str(built.out),
        )
    assert proc.returncode == 2
    assert "take the push lock: POST " + fake.url + "/update answered HTTP 302" in proc.stderr
    assert "a redirect to " + elsewhere.url + "/update" in proc.stderr
    assert elsewhere.seen == []


class _Challenger(BaseHTTPRequestHandler):
    """Asks for credentials with `challenge` and records the Authorization headers; answers 503
    once it gets one of its scheme."""

    seen: list[str | None]
    challenge = 'Digest realm="kg", nonce="0123456789abcdef", qop="auth", algorithm="MD5"'

    def _answer(self) -> None:
        cls = type(self)
        auth = self.headers.get("Authorization")
        cls.seen.append(auth)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if auth and auth.split()[0] == cls.challenge.split()[0]:
            self.send_response(503, "Service Unavailable")
        else:
            self.send_response(401, "Unauthorized")
            self.send_header("WWW-Authenticate", cls.challenge)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):  # quiet
        pass


def test_credentials_wait_for_a_digest_challenge(first: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KG_STORE_USER", "alice")
    monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
    monkeypatch.delenv("KG_STORE_AUTH", raising=False)
    with serving(_Challenger) as fake, pytest.raises(KgError, match="HTTP 503"):
        push(first, fake.url + "/store")
    assert fake.seen[0] is None  # nothing sent before the challenge
    assert any(a and a.startswith("Digest ") and 'username="alice"' in a for a in fake.seen)
    assert not [a for a in fake.seen if a and a.lower().startswith("basic")]
    assert not [a for a in fake.seen if a and "s3cret" in a]


def test_an_unsupported_challenge_is_reported(first: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KG_STORE_USER", "alice")
    monkeypatch.setenv("KG_STORE_PASSWORD", "s3cret")
    with (
        serving(_Challenger, challenge='Bearer realm="kg"') as fake,
        pytest.raises(KgError) as caught,
    ):
        push(first, fake.url + "/store")
    message = str(caught.value)
    assert message.startswith(f"take the push lock: POST {fake.url}/update asked for credentials")
    assert "Bearer" in message and "--header" in message


def test_header_values_with_line_breaks_are_refused(built: Built):
    for bad in ("X-Token: a\r\nX-Evil: b", "X-Token: a\nb", "X-Token: a\rb"):
        with pytest.raises(KgError, match="line break"):
            parse_header(bad)
    with serving(_Recorder) as fake:
        proc = run_kg(
            "publish",
            "--to",
            fake.url + "/store",
            "--header",
            "X-Token: a\r\nX-Evil: b",
            "--release-from",
            str(built.out),
        )
    assert proc.returncode == 2 and "line break" in proc.stderr
    assert fake.seen == []


def test_a_swap_answered_with_500_says_which_release_the_store_holds(
    first: Path, second: Path, server: Server
):
    one = push(first, server.store)
    before = server.dataset()
    with (
        serving(_Proxy, upstream=server.url, fail_put=0, swap="500") as proxy,
        pytest.raises(KgError) as caught,
    ):
        push(Release.current(second).path, proxy.url + "/store")
    message = str(caught.value)
    assert message.startswith(f"swap: POST {proxy.url}/update answered HTTP 500")
    assert f"the outcome is unknown: the store holds the previous release {one.build_id}" in message
    assert server.dataset() == before  # no staging triples, the lock released
    assert server.counts([LOCK]) == {LOCK: 0}


def test_a_swap_that_times_out_leaves_staging_and_lock(first: Path, second: Path, server: Server):
    started = time.monotonic()
    push(first, server.store)
    # The swap must be done upstream before the client gives up: the time limit is set above
    # what a whole push took here (a loaded machine is slow), and the proxy answers later still.
    limit = max(3, math.ceil(time.monotonic() - started))
    new = Release.current(second).manifest["build_id"]
    with (
        serving(_Proxy, upstream=server.url, fail_put=0, swap="slow", delay=limit + 2.0) as proxy,
        pytest.raises(KgError) as caught,
    ):
        push(Release.current(second).path, proxy.url + "/store", timeout=limit)
    message = str(caught.value)
    assert message.startswith(f"swap: POST {proxy.url}/update did not answer within {limit} s")
    assert f"the store now holds the new release {new} (the swap went through)" in message
    assert "left in place because the swap may still be running" in message
    assert server.counts([LOCK]) == {LOCK: 1}  # kept until it expires
    # no clean-up after the timeout: the (emptied) staging graphs are still named
    assert [g for g in server.graph_names() if g.startswith(STAGING)]
    assert without_record(canonical(q for q in server.dataset() if q.graph_name.value != LOCK)) == (
        local(Release.current(second).path)
    )
