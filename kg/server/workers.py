"""Query workers: separate processes that each hold the release in memory and answer SPARQL.

A query runs in a worker so that one that passes the time limit can be stopped for sure: the
worker is killed and a fresh one takes its place, while the other workers go on answering.
(pyoxigraph has no way to interrupt a running query from Python.)
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from kg.server.protocol import (
    GRAPH_TYPES,
    RDF_FORMATS,
    RESULT_MEDIA,
    RESULT_TYPES,
    negotiate,
    serialize_boolean,
    serialize_graph,
    serialize_select,
)


@dataclass
class QueryRequest:
    query: str
    accept: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


@dataclass
class QueryResponse:
    status: int
    media_type: str
    body: bytes
    truncated: bool = False


def _error(status: int, message: str) -> QueryResponse:
    return QueryResponse(status, "text/plain; charset=utf-8", (message + "\n").encode())


def answer(
    store: ox.Store, request: QueryRequest, max_rows: int, prefixes: dict[str, str]
) -> QueryResponse:
    """Run one query on `store` and serialise its result as the client asked."""
    options: dict = {}
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    else:
        options["use_default_graph_as_union"] = True
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    try:
        result = store.query(request.query, **options)
    except SyntaxError as exc:
        return _error(400, f"SPARQL syntax error: {exc}")
    except (OSError, ValueError) as exc:
        return _error(400, f"the query could not be evaluated: {exc}")
    try:
        if isinstance(result, ox.QuerySolutions):
            fmt = negotiate(request.accept, RESULT_TYPES)
            if fmt is None:
                return _error(
                    406, "SELECT results are offered as " + ", ".join(RESULT_MEDIA.values())
                )
            variables = [v.value for v in result.variables]
            rows = [
                [sol[i] for i in range(len(variables))]
                for sol in itertools.islice(result, max_rows + 1)
            ]
            truncated = len(rows) > max_rows
            body = serialize_select(variables, rows[:max_rows], fmt)
            return QueryResponse(200, RESULT_MEDIA[fmt] + "; charset=utf-8", body, truncated)
        if isinstance(result, ox.QueryBoolean):
            fmt = negotiate(request.accept, RESULT_TYPES)
            if fmt is None:
                return _error(406, "ASK results are offered as " + ", ".join(RESULT_MEDIA.values()))
            return QueryResponse(200, RESULT_MEDIA[fmt], serialize_boolean(bool(result), fmt))
        fmt = negotiate(request.accept, GRAPH_TYPES)
        if fmt is None:
            offered = ", ".join(media for _f, media in RDF_FORMATS.values())
            return _error(406, f"CONSTRUCT and DESCRIBE results are offered as {offered}")
        triples = list(itertools.islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body = serialize_graph(triples[:max_rows], fmt, prefixes)
        return QueryResponse(200, RDF_FORMATS[fmt][1], body, truncated)
    except (OSError, ValueError) as exc:  # raised while the lazy result is consumed
        return _error(400, f"the query failed while running: {exc}")


def _worker_main(conn: Connection, dataset: str, max_rows: int, prefixes: dict[str, str]) -> None:
    store = ox.Store()
    store.bulk_load(path=dataset, format=ox.RdfFormat.N_QUADS)
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        conn.send(answer(store, request, max_rows, prefixes))


class Worker:
    def __init__(self, ctx: mp.context.SpawnContext, args: tuple) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self, seconds: float) -> None:
        if not self.conn.poll(seconds) or self.conn.recv() != "ready":
            self.kill()
            raise RuntimeError("a query worker did not start (could not load the release)")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryTimeout(Exception):
    """The query ran past the time limit (or no worker came free within it)."""


class WorkerCrashed(Exception):
    """The worker process died while answering, e.g. out of memory."""


class WorkerPool:
    """`size` workers over the release's N-Quads dump; `run` gives each query at most
    `time_limit` seconds, after which its worker is killed and replaced."""

    def __init__(
        self,
        dataset: Path,
        size: int,
        time_limit: float,
        max_rows: int,
        prefixes: dict[str, str],
    ) -> None:
        self.time_limit = time_limit
        self._ctx = mp.get_context("spawn")
        self._args = (str(dataset), max_rows, prefixes)
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        workers = [Worker(self._ctx, self._args) for _ in range(size)]
        for w in workers:
            w.wait_ready(120)
            self._idle.put(w)

    def run(self, request: QueryRequest) -> QueryResponse:
        start = time.monotonic()
        try:
            worker = self._idle.get(timeout=self.time_limit)
        except queue.Empty:
            raise QueryTimeout(
                f"all query workers stayed busy for the time limit ({self.time_limit:g} s)"
            ) from None
        left = max(0.0, self.time_limit - (time.monotonic() - start))
        try:
            worker.conn.send(request)
            if worker.conn.poll(left):
                response = worker.conn.recv()
                self._idle.put(worker)
                return response
            crashed = False
        except (OSError, EOFError):
            crashed = True
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()
        if crashed:
            raise WorkerCrashed("the query worker stopped while answering (it is being replaced)")
        raise QueryTimeout(f"the query ran past the time limit of {self.time_limit:g} s")

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        with self._lock:
            if self._closed:
                return
            self.restarts += 1
        fresh = Worker(self._ctx, self._args)
        fresh.wait_ready(120)
        self._idle.put(fresh)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
