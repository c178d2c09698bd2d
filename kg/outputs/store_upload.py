"""`kg publish --to URL`: push the current release into a remote SPARQL 1.1 store.

Readers of the remote store see the whole previous release or the whole new one, never a mix:

0. the push takes the store's push lock (`{base}graph/push-lock`, ordered by the server's
   clock, see `queries/internal/push-lock.ru` and `push-locks.rq`), so that pushes do not
   interleave, and empties staging graphs that pushes which did not finish left behind;
1. every named graph of the release (and a release record graph listing them) is uploaded into a
   staging graph unique to this push, with the Graph Store HTTP Protocol (`PUT ?graph=`) or, for
   stores without one (`method="update"`), with `INSERT DATA` requests of bounded size;
2. ONE SPARQL Update request (`queries/internal/push-swap.ru`) empties the graphs the previous
   release record lists, copies each staging graph onto its target and empties the staging
   graphs. Stores that run a request in one transaction make this the only moment readers see a
   change;
3. the store is asked for the triples per graph (`queries/internal/push-counts.rq`), which must
   equal the local release's.

A failure before the swap empties the staging graphs (best effort) and leaves the previous release
as it was. A swap that times out or gets a 5xx answer has an unknown outcome: the release record
is read again to tell which release the store holds. The lock is released at the end, except
after a swap timeout (the swap may still be running), when it is left to expire. The graph IRIs
reach the SPARQL text only as RDF terms serialised by pyoxigraph, in the `VALUES` blocks of the
library files; the data only as pyoxigraph's N-Triples.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyoxigraph as ox

from kg import __version__
from kg.errors import KgError
from kg.http import ChallengeAuth, HttpClient, HttpError, Retry
from kg.outputs.upload_options import CHUNK_TRIPLES as CHUNK_TRIPLES
from kg.outputs.upload_options import LOCK_EXPIRY as LOCK_EXPIRY
from kg.outputs.upload_options import METHODS as METHODS
from kg.paths import resource_dir
from kg.release.release import Release
from kg.store.queries import QueryFile, parse_query_file
from kg.vocab.namespaces import DCTERMS, RDF, XSD, Base

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
USER_ENV, PASSWORD_ENV, AUTH_ENV = "KG_STORE_USER", "KG_STORE_PASSWORD", "KG_STORE_AUTH"
# the Graph Store endpoint's last path segment -> the update and query endpoints next to it
# (Oxigraph: /store, /update, /query; Fuseki: /ds/data, /ds/update, /ds/query)
_CONVENTIONS = {"store": ("update", "query"), "data": ("update", "query")}
LOCK_SETTLE = 0.3  # seconds between the two looks at the lock
_DATETIME = re.compile(
    r"^(?P<main>-?\d{4,}-\d\d-\d\dT\d\d:\d\d:\d\d)(?P<frac>\.\d+)?(?P<zone>Z|[+-]\d\d:\d\d)?$"
)


@dataclass(frozen=True)
class StoreEndpoints:
    """Where the pieces of a push go."""

    gsp: str | None  # Graph Store HTTP Protocol endpoint (None with method "update")
    update: str
    query: str
    method: str = "gsp"


@dataclass
class UploadResult:
    build_id: str
    graphs: dict[str, int]  # target graph -> triples, the release record included
    previous: str | None  # build id of the release the store held before, if recorded
    removed: list[str]  # graphs of the previous release the new one does not have
    requests: int
    seconds: float
    record: str = ""
    staging: list[str] = field(default_factory=list)
    stale_staging: int = 0  # staging graphs of unfinished earlier pushes emptied first
    expired_locks: int = 0  # expired push locks removed

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())


def endpoints(
    to: str, update_url: str | None = None, query_url: str | None = None, method: str = "gsp"
) -> StoreEndpoints:
    """The endpoints of a push to `to`: the Graph Store endpoint (method "gsp") or, with method
    "update", a SPARQL endpoint that takes updates. Update and query endpoints not given are
    derived from the Oxigraph and Fuseki conventions (`…/store` or `…/data` -> `…/update` and
    `…/query`); with method "update" they default to `to` itself."""
    if method not in METHODS:
        raise KgError(f"unknown push method '{method}' (use {' or '.join(METHODS)})")
    for option, url in (("--to", to), ("--update-url", update_url), ("--query-url", query_url)):
        if url is not None:
            _check_url(option, url, gsp=option == "--to" and method == "gsp")
    parts = urllib.parse.urlsplit(to)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    derived: tuple[str | None, str | None] = (None, None)
    if last in _CONVENTIONS:
        derived = tuple(  # type: ignore[assignment]
            urllib.parse.urlunsplit(parts._replace(path=f"{head}/{name}", query=""))
            for name in _CONVENTIONS[last]
        )
    fallback = to if method == "update" else None
    update = update_url or derived[0] or fallback
    query = query_url or derived[1] or fallback
    if update is None or query is None:
        missing = " and ".join(
            opt for opt, url in (("--update-url", update), ("--query-url", query)) if url is None
        )
        raise KgError(
            f"cannot tell the SPARQL endpoints of {to} (its path does not end in /store or "
            f"/data): pass {missing}"
        )
    return StoreEndpoints(None if method == "update" else to, update, query, method)


def _check_url(option: str, url: str, *, gsp: bool) -> None:
    """Refuse what would make a request go elsewhere than meant: a Graph Store URL that already
    names a graph (or ends in an empty `?`) would make `PUT`/`DELETE` address the default graph or
    the whole dataset; a fragment is never sent; user info would be printed in errors."""
    parts = urllib.parse.urlsplit(url)
    if "@" in parts.netloc:
        shown = urllib.parse.urlunsplit(
            parts._replace(netloc="…@" + parts.netloc.rpartition("@")[2])
        )
        raise KgError(
            f"{option} {shown}: put no user name or password in the URL; set "
            f"${USER_ENV} and ${PASSWORD_ENV} instead"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KgError(f"'{url}' is not an http(s) URL")
    if "#" in url:
        raise KgError(f"{option} {url}: a URL with a fragment ('#…') is not allowed")
    if gsp and url.endswith("?") and not parts.query:
        raise KgError(f"{option} {url}: the URL ends in an empty '?'; leave it out")
    if gsp:
        names = {k for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)}
        if names & {"graph", "default"}:
            raise KgError(
                f"{option} {url}: the Graph Store URL must not already name a graph "
                "('graph' or 'default' parameter); kg publish adds ?graph= itself"
            )


def parse_header(text: str) -> tuple[str, str]:
    """'Name: value' -> (name, value), or a clear error."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise KgError(f"--header '{text}' is not of the form 'Name: value'")
    if "\r" in value or "\n" in value:
        raise KgError(f"--header {name.strip()}: the value must not contain a line break")
    return name.strip(), value.strip()


PUSH_RETRY = Retry(attempts=3, backoff=0.5, max_wait=30.0)
_CREDENTIALS_HINT = (
    f"; ${USER_ENV} and ${PASSWORD_ENV} answer Basic and Digest challenges only "
    "(send other schemes with --header)"
)


def store_client(headers: dict[str, str], timeout: float) -> HttpClient:
    """The project's HTTP client (kg.http) set up for a push: the time limit, the extra headers,
    no redirects (a POST would arrive as a GET and the headers, tokens included, would go to the
    new address), retries only of requests that are safe to repeat (queries, Graph Store PUT and
    DELETE; never an update), and credentials from the environment: HTTP Basic or Digest sent
    when the server asks for them, or Basic with every request with KG_STORE_AUTH=basic."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    mode = os.environ.get(AUTH_ENV, "").strip().lower()
    if mode not in ("", "challenge", "basic"):
        raise KgError(f"${AUTH_ENV} must be 'basic' or 'challenge', not '{mode}'")
    auth: httpx.Auth | None = None
    if user and mode == "basic":
        auth = httpx.BasicAuth(user, password or "")
    elif user:
        auth = ChallengeAuth(user, password or "", hint=_CREDENTIALS_HINT)
    return HttpClient(
        purpose="kg publish --to",
        timeout=timeout,
        retry=PUSH_RETRY,
        headers=headers,
        auth=auth,
        follow_redirects=False,
    )


def _send(
    http: HttpClient,
    step: str,
    method: str,
    url: str,
    body: bytes | None = None,
    content_type: str | None = None,
    accept: str | None = None,
    idempotent: bool | None = None,
) -> bytes:
    """One request of the push; a time limit passed says which option raises it."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if accept:
        headers["Accept"] = accept
    try:
        response = http.request(
            method, url, content=body, headers=headers, idempotent=idempotent, step=step
        )
    except HttpError as exc:
        if exc.timed_out:
            exc.args = (f"{exc.args[0]} (raise --timeout?)",)
        raise
    return response.content


def _query_file(name: str) -> QueryFile:
    return parse_query_file(resource_dir("queries") / "internal" / name, f"internal/{name}")


def _solutions(data: bytes, step: str, url: str) -> list[dict[str, ox.NamedNode | ox.Literal]]:
    try:
        results = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    except (SyntaxError, ValueError, OSError) as exc:
        raise KgError(f"{step}: the answer of {url} is not SPARQL JSON results ({exc})") from None
    if not isinstance(results, ox.QuerySolutions):
        raise KgError(f"{step}: the answer of {url} is not a table of solutions")
    names = [v.value for v in results.variables]
    return [{n: s[n] for n in names if s[n] is not None} for s in results]


def staging_graph(base: Base, push_id: str, graph: str) -> ox.NamedNode:
    """Where one graph waits for the swap: `{base}graph/staging/{push id}/{graph's own path}`."""
    prefix = base.graph().value + "/"
    rest = graph[len(prefix) :] if graph.startswith(prefix) else urllib.parse.quote(graph, "")
    return base.graph("staging", push_id, rest)


def release_record(
    base: Base, manifest: dict[str, Any], graphs: dict[str, int], pushed: dt.datetime
) -> tuple[ox.NamedNode, list[ox.Triple]]:
    """The release record graph (`{base}graph/release`): which release the store holds, when it
    was pushed, and its graphs with their triple counts."""
    record = base.graph("release")

    def typed(v: object, t: str) -> ox.Literal:
        return ox.Literal(str(v), datatype=ox.NamedNode(XSD + t))

    p = ox.NamedNode
    triples = [
        ox.Triple(record, p(RDF + "type"), p(VOID + "Dataset")),
        ox.Triple(record, p(DCTERMS + "isVersionOf"), base.iri("dataset")),
        ox.Triple(record, p(DCTERMS + "identifier"), ox.Literal(manifest["build_id"])),
        ox.Triple(record, p(DCAT + "version"), ox.Literal(f"{__version__}+{manifest['build_id']}")),
        ox.Triple(record, p(DCTERMS + "modified"), typed(pushed.isoformat(), "dateTime")),
        ox.Triple(record, p(VOID + "triples"), typed(sum(graphs.values()), "integer")),
    ]
    for graph, n in sorted(graphs.items()):
        triples.append(ox.Triple(record, p(VOID + "subset"), p(graph)))
        triples.append(ox.Triple(p(graph), p(VOID + "triples"), typed(n, "integer")))
    return record, triples


def chunks(triples: Sequence[ox.Triple], size: int = CHUNK_TRIPLES) -> list[list[ox.Triple]]:
    """Split triples into requests of at most `size` triples (more only for one blank-node
    structure larger than that), never separating triples that share a blank node: a blank node
    label means one node only within one request."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    groups: dict[str, list[ox.Triple]] = {}
    for t in triples:
        nodes = [str(n) for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    for i, t in enumerate(triples):
        nodes = [str(n) for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        groups.setdefault(find(nodes[0]) if nodes else f"#{i}", []).append(t)
    out: list[list[ox.Triple]] = [[]]
    for group in groups.values():
        if out[-1] and len(out[-1]) + len(group) > size:
            out.append([])
        out[-1].extend(group)
    return [c for c in out if c]


def upload_release(
    release: Release,
    to: str,
    *,
    update_url: str | None = None,
    query_url: str | None = None,
    method: str = "gsp",
    headers: Sequence[str] = (),
    timeout: float = 60.0,
    chunk_size: int = CHUNK_TRIPLES,
    lock_expiry: float = LOCK_EXPIRY,
    step: Callable[[str], None] = lambda _msg: None,
    now: dt.datetime | None = None,
) -> UploadResult:
    """Push every named graph of `release` into the store at `to` (see the module docstring);
    any failure raises KgError naming the step, the URL and the HTTP status."""
    started = time.monotonic()
    ends = endpoints(to, update_url, query_url, method)
    extra = dict(parse_header(h) for h in headers)
    _check_limits(timeout, lock_expiry, chunk_size)
    upload = _Upload(
        release, ends, extra, timeout, chunk_size=chunk_size, lock_expiry=lock_expiry, step=step
    )
    upload.prepare(now)
    upload.run()
    return upload.result(time.monotonic() - started)


def _check_limits(timeout: float, lock_expiry: float, chunk_size: int) -> None:
    if timeout <= 0:
        raise KgError(f"--timeout must be positive, got {timeout:g}")
    if lock_expiry <= 0:
        raise KgError(f"--lock-expiry must be positive, got {lock_expiry:g}")
    if chunk_size < 1:
        raise KgError(f"the chunk size must be at least 1 triple, got {chunk_size}")


def _triples_by_graph(release: Release) -> dict[str, list[ox.Triple]]:
    """The release's triples per named graph (IRI), in the release's sorted order."""
    by_graph: dict[str, list[ox.Triple]] = {}
    for q in release.sorted_quads():
        if not isinstance(q.graph_name, ox.NamedNode):
            raise KgError(
                f"{release.path}: the release has triples outside named graphs; not pushed"
            )
        by_graph.setdefault(q.graph_name.value, []).append(
            ox.Triple(q.subject, q.predicate, q.object)
        )
    return by_graph


Rows = list[dict[str, Any]]  # the solutions of a SELECT: variable -> IRI or literal
Tables = dict[tuple[str, ...], Iterable[Sequence[Any]]]  # QueryFile.with_tables' VALUES rows


class _Upload:
    """One push of one release, step by step: `prepare` (the graphs, the release record, the
    staging graphs), then `run` (lock, clean-up, upload, swap, verify, unlock), then `result`."""

    def __init__(
        self,
        release: Release,
        ends: StoreEndpoints,
        headers: dict[str, str],
        timeout: float,
        *,
        chunk_size: int,
        lock_expiry: float,
        step: Callable[[str], None],
    ) -> None:
        self.release = release
        self.ends = ends
        self.headers = headers
        self.timeout = timeout
        self.chunk_size = chunk_size
        self.lock_expiry = lock_expiry
        self.step = step
        self.uploaded: list[ox.NamedNode] = []
        self.keep = False  # the swap timed out: keep the staging graphs and the lock
        self.stale: list[ox.NamedNode] = []
        self.expired: list[ox.NamedNode] = []
        self.previous: str | None = None
        self.old_graphs: set[str] = set()

    def prepare(self, now: dt.datetime | None) -> None:
        """The graphs to push with the release record, their staging graphs, the lock's names
        and the HTTP client. Sends nothing."""
        release = self.release
        self.manifest = release.manifest
        self.base = base = release.base
        self.by_graph = _triples_by_graph(release)
        self.pushed = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        self.record, record_triples = release_record(
            base, self.manifest, {g: len(t) for g, t in self.by_graph.items()}, self.pushed
        )
        if self.record.value in self.by_graph:
            raise KgError(
                f"{release.path}: the release has a graph named {self.record.value}; not pushed"
            )
        self.by_graph[self.record.value] = record_triples
        push_id = f"{self.manifest['build_id']}-{uuid.uuid4().hex[:8]}"
        self.pairs = {g: staging_graph(base, push_id, g) for g in sorted(self.by_graph)}
        self.http = store_client(self.headers, self.timeout)
        self.lock = base.graph("push-lock")
        self.locked_at = ox.NamedNode(self.lock.value + "#lockedAt")
        self.me = ox.NamedNode(f"{self.lock.value}#{push_id}")

    def select(self, what: str, qf: QueryFile, tables: Tables) -> Rows:
        body = urllib.parse.urlencode({"query": qf.with_tables(tables)}).encode()
        answer = _send(
            self.http,
            what,
            "POST",
            self.ends.query,
            body,
            "application/x-www-form-urlencoded",
            "application/sparql-results+json",
            idempotent=True,  # a query changes nothing
        )
        return _solutions(answer, what, self.ends.query)

    def update(self, what: str, text: str) -> None:
        body = urllib.parse.urlencode({"update": text}).encode()
        _send(self.http, what, "POST", self.ends.update, body, "application/x-www-form-urlencoded")

    def locks(self, pushes: Iterable[ox.NamedNode]) -> Tables:
        return {("lock", "push", "lockedAt"): [(self.lock, p, self.locked_at) for p in pushes]}

    def run(self) -> None:
        """Every request of the push, in order; the lock is released at the end (unless the
        swap timed out)."""
        try:
            self.take_lock()
            self.drop_stale_staging()
            self.read_previous_record()
            try:
                self.upload_all()
                self.swap()
            except BaseException:
                if not self.keep:
                    _drop_staging(self.http, self.ends, self.uploaded)
                raise
            self.tidy()
            self.verify()
        finally:
            if not self.keep:
                self.unlock()
            self.http.close()

    def take_lock(self) -> None:
        """Take the push lock, make sure no earlier push holds one, remove expired locks."""
        self.step(f"taking the push lock {self.me.value} at {self.ends.update}")
        self.update(
            "take the push lock", _query_file("push-lock.ru").with_tables(self.locks([self.me]))
        )
        self.holder()
        # the server's clock orders the locks, but a lock stamped earlier can commit a moment
        # later than one stamped after it: look again once such an insert has surely committed
        time.sleep(LOCK_SETTLE)
        self.expired = self.holder()
        if self.expired:
            self.step(f"removing {len(self.expired)} expired push lock(s)")
            self.update(
                "remove expired push locks",
                _query_file("push-unlock.ru").with_tables(self.locks(self.expired)),
            )

    def holder(self) -> list[ox.NamedNode]:
        """Check that this push holds the lock; the expired locks of other pushes."""
        rows = self.select(
            "check the push lock",
            _query_file("push-locks.rq"),
            {("lock", "lockedAt"): [(self.lock, self.locked_at)]},
        )
        now = server_time(rows[0]["now"]) if rows and "now" in rows[0] else None
        if now is None:
            raise KgError(f"check the push lock: {self.ends.query} did not answer NOW()")
        live: list[tuple[dt.datetime, str]] = []
        expired: list[ox.NamedNode] = []
        for r in rows:
            if "push" not in r:
                continue
            since = server_time(r.get("since"))
            if since is None or (now - since).total_seconds() > self.lock_expiry:
                if r["push"] != self.me:
                    expired.append(r["push"])
                continue
            live.append((since, r["push"].value))
        mine = next((since for since, p in live if p == self.me.value), None)
        if mine is None:
            raise KgError(
                f"check the push lock: the lock this push took is not in {self.lock.value} at "
                f"{self.ends.query} (expired already? --lock-expiry is {self.lock_expiry:g} s)"
            )
        self.refuse_if_older(live, mine, now)
        return expired

    def refuse_if_older(
        self, live: list[tuple[dt.datetime, str]], mine: dt.datetime, now: dt.datetime
    ) -> None:
        """Another push's live lock, taken no later than ours, wins: refuse to go on."""
        older = sorted((since, p) for since, p in live if p != self.me.value and since <= mine)
        if older:
            since, other = older[0]
            expiry = self.lock_expiry
            expires = since + dt.timedelta(seconds=expiry)
            left = max(0.0, (expires - now).total_seconds())
            raise KgError(
                f"another push ({other.rpartition('#')[2]}, since {since.isoformat()}) is in "
                "progress on this store; try again later. If that push was killed, its lock "
                f"expires at {expires.isoformat()} (in {left / 60:.0f} min, by the store's clock, "
                f"with --lock-expiry {expiry:g}); to take it over sooner, run again with a "
                "shorter --lock-expiry SECONDS (only once you know that push is not running)"
            )

    def drop_stale_staging(self) -> None:
        """Empty the staging graphs that pushes which did not finish left behind."""
        rows = self.select(
            "look for staging graphs left by earlier pushes",
            _query_file("push-stale-staging.rq"),
            {("prefix",): [(ox.Literal(self.base.graph("staging").value + "/"),)]},
        )
        self.stale = [r["graph"] for r in rows if isinstance(r.get("graph"), ox.NamedNode)]
        if self.stale:
            n = len(self.stale)
            self.step(f"emptying {n} staging graph(s) left by pushes that did not finish")
            _drop_staging(self.http, self.ends, self.stale, strict=True)

    def read_previous_record(self) -> None:
        self.step(f"reading the release record at {self.ends.query}")
        rows = self.select(
            "read the previous release record",
            _query_file("push-record.rq"),
            {("record",): [(self.record,)]},
        )
        self.previous = next((r["release"].value for r in rows if "release" in r), None)
        self.old_graphs = {r["graph"].value for r in rows if "graph" in r}

    def upload_all(self) -> None:
        for graph, staging in self.pairs.items():
            self.upload_graph(graph, staging)

    def upload_graph(self, graph: str, staging: ox.NamedNode) -> None:
        """One graph into its staging graph: one GSP `PUT`, or `INSERT DATA` in chunks."""
        triples = self.by_graph[graph]
        what = f"upload graph {graph}"
        self.step(f"{what} ({len(triples)} triples) into {staging.value}")
        self.uploaded.append(staging)
        if self.ends.gsp:
            url = _with_graph(self.ends.gsp, staging.value)
            data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
            # N-Triples is a subset of Turtle; text/turtle is the type every store takes
            _send(self.http, what, "PUT", url, data, "text/turtle; charset=utf-8")
        else:
            for part in chunks(triples, self.chunk_size):
                text = _ntriples(part)
                self.update(what, f"INSERT DATA {{ GRAPH {staging} {{\n{text}}} }}")

    def swap(self) -> None:
        """The one update that replaces the previous release's graphs by the staging graphs."""
        self.step(f"swapping {len(self.pairs) - 1} graphs and the release record in one update")
        swap = _query_file("push-swap.ru").with_tables(
            {
                ("record",): [(self.record,)],
                ("staging", "target"): [(s, ox.NamedNode(g)) for g, s in self.pairs.items()],
            }
        )
        try:
            self.update("swap", swap)
        except HttpError as exc:
            if not (exc.timed_out or (exc.status or 0) >= 500):
                raise
            self.swap_outcome_unknown(exc)

    def swap_outcome_unknown(self, exc: HttpError) -> None:
        """A swap that timed out or got a 5xx: tell which release the store holds, and raise."""
        self.keep = exc.timed_out
        holds = _which_release(
            self.select, self.record, self.manifest["build_id"], self.pushed, self.previous
        )
        after = (
            "; the staging graphs and the push lock were left in place because the swap "
            f"may still be running (the lock expires after {self.lock_expiry:g} s; the next "
            "push then removes both)"
            if self.keep
            else ""
        )
        raise KgError(f"{exc}; the outcome is unknown: {holds}{after}") from None

    def tidy(self) -> None:
        """Oxigraph keeps emptied graphs as names: remove them (harmless elsewhere)."""
        if self.ends.gsp:
            with contextlib.suppress(KgError):
                for staging in self.uploaded:
                    _send(self.http, "tidy", "DELETE", _with_graph(self.ends.gsp, staging.value))

    def verify(self) -> None:
        """The store's triples per graph must equal the release's (staging graphs: none)."""
        self.step(f"verifying the triples per graph at {self.ends.query}")
        want = {g: len(t) for g, t in self.by_graph.items()}
        want |= {s.value: 0 for s in self.pairs.values()}
        rows = self.select(
            "verify",
            _query_file("push-counts.rq"),
            {("graph",): [(ox.NamedNode(g),) for g in sorted(want)]},
        )
        got = {r["graph"].value: int(r["triples"].value) for r in rows if "graph" in r}
        for graph, n in sorted(want.items()):
            if got.get(graph, 0) != n:
                raise KgError(
                    f"verify: graph {graph} has {got.get(graph, 0)} triples at {self.ends.query} "
                    f"but {n} in release {self.manifest['build_id']}"
                )

    def unlock(self) -> None:
        """Release this push's lock (best effort: an error here is not the push's)."""
        with contextlib.suppress(KgError):
            self.update(
                "release the push lock",
                _query_file("push-unlock.ru").with_tables(self.locks([self.me])),
            )

    def result(self, seconds: float) -> UploadResult:
        return UploadResult(
            build_id=self.manifest["build_id"],
            graphs={g: len(t) for g, t in self.by_graph.items()},
            previous=self.previous,
            removed=sorted(self.old_graphs - set(self.by_graph)),
            requests=self.http.requests,
            seconds=seconds,
            record=self.record.value,
            staging=[s.value for s in self.pairs.values()],
            stale_staging=len(self.stale),
            expired_locks=len(self.expired),
        )


def _ntriples(triples: Sequence[ox.Triple]) -> str:
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None  # no output file given: the serialisation is returned
    return data.decode("utf-8")


def server_time(term: ox.NamedNode | ox.Literal | None) -> dt.datetime | None:
    """An xsd:dateTime from the store (nanoseconds and `Z` allowed) as an aware datetime, or
    None if it is not one. A time without a zone is taken as UTC."""
    m = _DATETIME.match(term.value) if isinstance(term, ox.Literal) else None
    if not m:
        return None
    frac = "." + m["frac"][1:7].ljust(6, "0") if m["frac"] else ""
    zone = "+00:00" if m["zone"] in (None, "Z") else m["zone"]
    text = m["main"] + frac + zone
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _which_release(
    select: Callable[[str, QueryFile, Tables], Rows],
    record: ox.NamedNode,
    build_id: str,
    pushed: dt.datetime,
    previous: str | None,
) -> str:
    """After a swap whose outcome is unknown: which release the store's record says it holds."""
    try:
        rows = select(
            "re-read the release record", _query_file("push-record.rq"), {("record",): [(record,)]}
        )
    except KgError as exc:
        return f"cannot tell which release the store holds now ({exc})"
    held = next((r["release"].value for r in rows if "release" in r), None)
    when = next((server_time(r.get("modified")) for r in rows if "modified" in r), None)
    if held is None:
        return "the store holds no release record now"
    if held == build_id and when == pushed:
        return f"the store now holds the new release {held} (the swap went through)"
    if held == previous:
        return f"the store holds the previous release {held} for now (the swap did not take effect)"
    return f"the store now holds release {held}, neither this push's nor the previous one"


def _with_graph(gsp: str, graph: str) -> str:
    """The Graph Store URL of one graph: `graph=` added to the query string `gsp` may have."""
    p = urllib.parse.urlsplit(gsp)
    q = "&".join(x for x in (p.query, urllib.parse.urlencode({"graph": graph})) if x)
    return urllib.parse.urlunsplit(p._replace(query=q, fragment=""))


def _drop_staging(
    http: HttpClient, ends: StoreEndpoints, staging: list[ox.NamedNode], strict: bool = False
) -> None:
    """Empty staging graphs (one update), then, with the Graph Store Protocol, remove their
    names. After a failed push this is best effort (`strict` False): errors are not reported (the
    push's own error is) and the first one ends the clean-up, so an unreachable store does not
    cost a timeout per graph. Before a push (`strict`), errors are raised."""
    if not staging:
        return
    try:
        qf = _query_file("push-drop-staging.ru")
        text = qf.with_tables({("staging",): [(g,) for g in staging]})
        body = urllib.parse.urlencode({"update": text}).encode()
        _send(http, "clean up", "POST", ends.update, body, "application/x-www-form-urlencoded")
        if ends.gsp:
            for graph in staging:
                _send(http, "clean up", "DELETE", _with_graph(ends.gsp, graph.value))
    except KgError:
        if strict:
            raise
