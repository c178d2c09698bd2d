"""Query workers: separate processes that each hold the release in memory and answer SPARQL.

A query runs in a worker so that one that passes the time limit can be stopped for sure: the
worker is killed and a fresh one takes its place, while the other workers go on answering.
(pyoxigraph has no way to interrupt a running query from Python.)
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import resource
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from kg.serve.protocol import (
    GRAPH_TYPES,
    RDF_FORMATS,
    RESULT_MEDIA,
    RESULT_TYPES,
    names_dataset,
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
    """Run one query on `store` and serialise its result as the client asked.

    The default graph is the union of all named graphs, unless the request names a dataset
    (`default-graph-uri`, `named-graph-uri`) or the query does (FROM, FROM NAMED)."""
    options: dict = {}
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    if not options and not names_dataset(request.query):
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(request.query, **options)
    except SyntaxError as exc:
        return _error(400, f"SPARQL syntax error: {exc}")
    except Exception as exc:
        return _error(400, f"the query could not be evaluated: {exc}")
    try:
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            chosen = negotiate(request.accept, RESULT_TYPES)
            if chosen is None:
                offered = ", ".join(RESULT_MEDIA.values())
                return _error(406, f"SELECT and ASK results are offered as {offered}")
            fmt = chosen[0]
            if isinstance(result, ox.QueryBoolean):
                return QueryResponse(200, RESULT_MEDIA[fmt], serialize_boolean(bool(result), fmt))
            variables = [v.value for v in result.variables]
            rows = [
                [sol[i] for i in range(len(variables))]
                for sol in itertools.islice(result, max_rows + 1)
            ]
            truncated = len(rows) > max_rows
            body = serialize_select(variables, rows[:max_rows], fmt)
            return QueryResponse(200, RESULT_MEDIA[fmt] + "; charset=utf-8", body, truncated)
        chosen = negotiate(request.accept, GRAPH_TYPES)
        if chosen is None:
            offered = ", ".join(media for _f, media in RDF_FORMATS.values())
            return _error(406, f"CONSTRUCT and DESCRIBE results are offered as {offered}")
        fmt, media = chosen
        triples = list(itertools.islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        body = serialize_graph(triples[:max_rows], fmt, prefixes)
        return QueryResponse(200, media, body, truncated)
    except Exception as exc:  # raised while the lazy result is consumed
        return _error(400, f"the query failed while running: {exc}")


def _worker_main(
    conn: Connection, dataset: str, max_rows: int, prefixes: dict[str, str], memory_mb: int
) -> None:
    if memory_mb > 0:  # a query that builds huge values fails here instead of taking the machine
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    store = ox.Store()
    store.bulk_load(path=dataset, format=ox.RdfFormat.N_QUADS)
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            response = answer(store, request, max_rows, prefixes)
        except MemoryError:
            response = _error(503, "the query needed more memory than a worker may use")
        except Exception as exc:  # never let one request end the worker
            response = _error(500, f"the worker failed on this query: {exc}")
        conn.send(response)


class Worker:
    def __init__(self, ctx: mp.context.SpawnContext, args: tuple) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, *args), daemon=True)
        self.process.start()
        child.close()

    def wait_ready(self, seconds: float) -> None:
        try:
            ready = self.conn.poll(seconds) and self.conn.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self.kill()
            raise RuntimeError("a query worker did not start (could not load the release)")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryTimeout(Exception):
    """The query ran past the time limit; its worker was stopped."""


class PoolBusy(Exception):
    """No worker came free while the request waited."""


class WorkerCrashed(Exception):
    """The worker process died while answering, e.g. out of memory."""


class WorkerPool:
    """`size` workers over the release's N-Quads dump. A request waits at most `wait_limit`
    seconds for a free worker (then PoolBusy), and its query then has `time_limit` seconds,
    after which the worker is killed and replaced (QueryTimeout)."""

    def __init__(
        self,
        dataset: Path,
        size: int,
        time_limit: float,
        max_rows: int,
        prefixes: dict[str, str],
        memory_mb: int = 0,
        wait_limit: float | None = None,
    ) -> None:
        self.time_limit = time_limit
        self.wait_limit = time_limit if wait_limit is None else wait_limit
        self._ctx = mp.get_context("spawn")
        self._args = (str(dataset), max_rows, prefixes, memory_mb)
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        workers = [Worker(self._ctx, self._args) for _ in range(size)]
        for w in workers:
            w.wait_ready(120)
            self._idle.put(w)

    def _take(self) -> Worker:
        deadline = time.monotonic() + self.wait_limit
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise PoolBusy(
                    f"every query worker stayed busy for {self.wait_limit:g} s; try again"
                ) from None
            if worker.process.is_alive():
                return worker
            self._restart(worker)  # died while idle: replace it and take another

    def run(self, request: QueryRequest) -> QueryResponse:
        worker = self._take()
        try:
            worker.conn.send(request)
            if worker.conn.poll(self.time_limit):
                response = worker.conn.recv()
                self._idle.put(worker)
                return response
            crashed = False
        except (OSError, EOFError):
            crashed = True
        self._restart(worker)
        if crashed:
            raise WorkerCrashed("the query worker stopped while answering (it is being replaced)")
        raise QueryTimeout(f"the query ran past the time limit of {self.time_limit:g} s")

    def _restart(self, worker: Worker) -> None:
        threading.Thread(target=self._replace, args=(worker,), daemon=True).start()

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        delay = 0.5
        while True:
            with self._lock:
                if self._closed:
                    return
            try:
                fresh = Worker(self._ctx, self._args)
                fresh.wait_ready(120)
            except Exception as exc:  # keep the slot: try again, more slowly
                print(
                    f"kg serve: a query worker failed to start ({exc}); retrying", file=sys.stderr
                )
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            self._idle.put(fresh)
            return

    def close(self) -> None:
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
