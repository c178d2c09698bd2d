"""Query workers: separate processes, without network access, that each hold the release and
answer SPARQL; and the pool that shares them fairly among clients.

A query runs in a worker so that one that passes the time limit can be stopped for sure: the
worker is killed and a fresh one takes its place, while the other workers go on answering.
(pyoxigraph has no way to interrupt a running query from Python.) Each worker leaves the network
before it opens the store (`kg.serve.isolation`), so no query can make it connect anywhere.

The pool runs on the server's event loop. A request waits in its client's queue; whenever a
worker is free, the clients with waiting requests are served in turn (round robin, each
client's requests in order), and a client already holding `per_client` workers is skipped, so
one client looping expensive queries cannot hold every worker.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import math
import multiprocessing as mp
import os
import resource
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import TypedDict

import pyoxigraph as ox

from kg.release.integrity import ReleaseCorrupt, verify_counts
from kg.serve.isolation import IsolationError, leave_network
from kg.serve.protocol import (
    GRAPH_TYPES,
    RDF_FORMATS,
    RESULT_MEDIA,
    RESULT_TYPES,
    Refused,
    check_read_only,
    names_dataset,
    negotiate,
    serialize_boolean,
    serialize_graph_capped,
    serialize_select,
)
from kg.store import OxigraphStore
from kg.store.syntax import readable as readable_syntax


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
    rows: int = 0
    cut: str | None = None  # "rows" or "bytes" when the answer was cut


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker needs to start: the data, the caps, and whether to leave the network."""

    dataset: str  # N-Quads file loaded into memory, or a store folder opened read-only
    on_disk: bool
    max_rows: int
    max_bytes: int
    prefixes: dict[str, str]
    memory_mb: int = 0  # address space a worker may use beyond the data it holds (0: no limit)
    isolate: bool = True
    probe: tuple[str, int] | None = None  # an address the worker must not reach
    text_check: bool = True  # the friendly 403 for Update and SERVICE (off only for tests)
    shared: bool = False  # one loader holds the data in memory; workers are forked from it
    graphs: dict[str, int] | None = None  # the loader checks the data holds these triples


def _error(status: int, message: str) -> QueryResponse:
    return QueryResponse(status, "text/plain; charset=utf-8", (message + "\n").encode())


class _Dataset(TypedDict, total=False):
    """The dataset options of `ox.Store.query` a request may set."""

    default_graph: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]
    named_graphs: list[ox.NamedNode | ox.BlankNode]
    use_default_graph_as_union: bool


def answer(store: ox.Store, request: QueryRequest, settings: WorkerSettings) -> QueryResponse:
    """Run one query on `store` and serialise its result as the client asked.

    The default graph is the union of all named graphs, unless the request names a dataset
    (`default-graph-uri`, `named-graph-uri`) or the query does (FROM, FROM NAMED)."""
    if settings.text_check:
        try:
            check_read_only(request.query)
        except Refused as exc:
            return _error(exc.status, exc.message)
    options: _Dataset = {}
    if request.default_graphs:
        options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
    if request.named_graphs:
        options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
    if not options and not names_dataset(request.query):
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(request.query, **options)
    except SyntaxError as exc:
        return _error(400, f"SPARQL syntax error at {readable_syntax(str(exc), request.query)}")
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
            width = range(len(variables))
            rows = ([sol[i] for i in width] for sol in result)
            out = serialize_select(variables, rows, fmt, settings.max_rows, settings.max_bytes)
            media = RESULT_MEDIA[fmt] + "; charset=utf-8"
            return QueryResponse(200, media, out.body, out.rows, out.cut)
        chosen = negotiate(request.accept, GRAPH_TYPES)
        if chosen is None:
            offered = ", ".join(media for _f, media in RDF_FORMATS.values())
            return _error(406, f"CONSTRUCT and DESCRIBE results are offered as {offered}")
        fmt, media = chosen
        graph = serialize_graph_capped(
            result, fmt, settings.prefixes, settings.max_rows, settings.max_bytes
        )
        return QueryResponse(200, media, graph.body, graph.rows, graph.cut)
    except Exception as exc:  # raised while the lazy result is consumed
        return _error(400, f"the query failed while running: {exc}")


def open_store(settings: WorkerSettings) -> ox.Store:
    if settings.on_disk:
        return ox.Store.read_only(settings.dataset)
    store = ox.Store()
    store.bulk_load(path=settings.dataset, format=ox.RdfFormat.N_QUADS)
    return store


def _limit_memory(megabytes: int) -> None:
    """Cap this process's address space at what it uses now (the data it holds) plus
    `megabytes`: a query that builds huge values fails instead of the machine."""
    if megabytes <= 0:
        return
    with open("/proc/self/status", encoding="ascii") as status:
        now = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = now * 1024 + megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _leave_network(conn: Connection, settings: WorkerSettings) -> str | None:
    """Leave the network (first of all, while the process has a single thread); the isolation
    achieved, or None after telling `conn` why it failed."""
    if not settings.isolate:
        return "none (--allow-network-in-queries)"
    try:
        return leave_network(settings.probe)
    except IsolationError as exc:
        conn.send(("failed", str(exc)))
        return None


def _serve(conn: Connection, store: ox.Store, settings: WorkerSettings) -> None:
    """Answer the requests arriving on `conn` until it closes."""
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            response = answer(store, request, settings)
        except MemoryError:
            response = _error(503, "the query needed more memory than a worker may use")
        except Exception as exc:  # never let one request end the worker
            response = _error(500, f"the worker failed on this query: {exc}")
        conn.send(response)


def _worker_main(conn: Connection, settings: WorkerSettings) -> None:
    isolation = _leave_network(conn, settings)
    if isolation is None:
        return
    store = open_store(settings)
    _limit_memory(settings.memory_mb)
    conn.send(("ready", isolation))
    _serve(conn, store, settings)


def _loader_main(conn: Connection, settings: WorkerSettings) -> None:
    """The loader of `--store shared`: leaves the network, loads the data once, then forks a
    worker whenever asked. A forked worker shares the loaded data with the loader and every
    other worker (copy-on-write: the engine only reads it) and inherits the isolation; the
    loader sends the server its end of a new pipe to the worker, and never runs a query."""
    isolation = _leave_network(conn, settings)
    if isolation is None:
        return
    store = open_store(settings)
    if settings.graphs is not None:  # the data served is the data the build described
        try:
            verify_counts(OxigraphStore(store), {"graphs": settings.graphs}, settings.dataset)
        except ReleaseCorrupt as exc:
            conn.send(("corrupt", str(exc)))
            return
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    conn.send(("ready", isolation))
    while True:
        try:
            conn.recv()  # a request for one more worker
        except (EOFError, OSError):
            return  # the server is gone: so is the loader (its workers stop on their own)
        ours, theirs = mp.Pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            try:
                conn.close()
                ours.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _limit_memory(settings.memory_mb)
                theirs.send(("ready", isolation))
                _serve(theirs, store, settings)
            finally:
                os._exit(0)
        theirs.close()
        conn.send(("forked", pid, isolation))
        reduction.send_handle(conn, ours.fileno(), os.getppid())
        ours.close()


class WorkerStartError(Exception):
    """A worker could not start: `isolation` when it could not leave the network."""

    def __init__(self, message: str, isolation: bool = False) -> None:
        super().__init__(message)
        self.isolation = isolation


def _await_ready(conn: Connection, seconds: float, stop: Callable[[], None], silent: str) -> str:
    """Wait for a worker's or the loader's first message: its isolation report when it is
    ready. Otherwise stop it and raise what it said (could not leave the network; a release
    that does not match its manifest), or `silent` when it said nothing in time."""
    message = None
    with contextlib.suppress(EOFError, OSError):
        message = conn.recv() if conn.poll(seconds) else None
    if isinstance(message, tuple) and message[0] == "ready":
        return str(message[1])
    stop()
    if isinstance(message, tuple) and message[0] == "failed":
        raise WorkerStartError(message[1], isolation=True)
    if isinstance(message, tuple) and message[0] == "corrupt":
        raise WorkerStartError(message[1])
    raise WorkerStartError(silent)


class Worker:
    def __init__(self, ctx: mp.context.SpawnContext, settings: WorkerSettings) -> None:
        self.conn, child = ctx.Pipe()
        self.process: mp.process.BaseProcess | _Forked = ctx.Process(
            target=_worker_main, args=(child, settings), daemon=True
        )
        self.process.start()
        child.close()
        self.isolation = ""

    @classmethod
    def forked(cls, conn: Connection, pid: int, isolation: str) -> Worker:
        """A worker the loader forked, reached through `conn`."""
        worker = cls.__new__(cls)
        worker.conn = conn
        worker.process = _Forked(pid)
        worker.isolation = isolation
        return worker

    def wait_ready(self, seconds: float) -> None:
        """Block until the worker has its store open (run this off the event loop)."""
        self.isolation = _await_ready(
            self.conn,
            seconds,
            self.kill,
            "a query worker did not start (could not load the release)",
        )

    async def readable(self, seconds: float) -> bool:
        """Whether the worker's answer (or its end) arrives within `seconds`."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[bool] = loop.create_future()
        fd = self.conn.fileno()

        def wake() -> None:
            if not ready.done():
                ready.set_result(True)

        loop.add_reader(fd, wake)
        try:
            done, _ = await asyncio.wait({ready}, timeout=seconds)
            return bool(done)
        finally:
            loop.remove_reader(fd)
            ready.cancel()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class _Forked:
    """A worker forked by the loader (not a child of the server): watched and stopped through
    a pidfd, which names this very process even after its id is reused."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone
            self._fd = None

    def is_alive(self) -> bool:
        if self._fd is None:
            return False
        return not select.select([self._fd], [], [], 0)[0]  # readable once it has exited

    def kill(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)

    def join(self, seconds: float) -> None:
        if self._fd is not None:
            select.select([self._fd], [], [], seconds)
            os.close(self._fd)
            self._fd = None


class Loader:
    """The process that holds the data for `--store shared` and forks the workers."""

    def __init__(self, ctx: mp.context.SpawnContext, settings: WorkerSettings) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_loader_main, args=(child, settings), daemon=True)
        self.process.start()
        child.close()
        self.isolation = ""
        self._lock = threading.Lock()

    def wait_ready(self, seconds: float) -> None:
        """Block until the loader holds the data and has left the network."""
        self.isolation = _await_ready(
            self.conn,
            seconds,
            self.close,
            "the query workers' loader did not start (could not load the data)",
        )

    def fork(self) -> Worker:
        """One more worker, forked from the loader (blocking; a fraction of a second)."""
        with self._lock:
            try:
                self.conn.send("fork")
                message = self.conn.recv() if self.conn.poll(30) else None
                if not (isinstance(message, tuple) and message[0] == "forked"):
                    raise WorkerStartError("the loader did not fork a query worker")
                fd = reduction.recv_handle(self.conn)
            except (EOFError, OSError) as exc:
                raise WorkerStartError(f"the query workers' loader is gone ({exc})") from None
        worker = Worker.forked(Connection(fd), message[1], message[2])
        worker.wait_ready(30)  # its memory limit is set
        return worker

    def close(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryTimeout(Exception):
    """The query ran past the time limit; its worker was stopped."""


class PoolBusy(Exception):
    """No worker came free for this client while the request waited."""


class WorkerCrashed(Exception):
    """The worker process died while answering, e.g. out of memory."""


USAGE_WINDOW = 30.0  # seconds over which a client's use of the workers is remembered (decaying)
LIGHT = 0.05  # a client using less than this share of one worker lately is "light"


class WorkerPool:
    """`size` workers. A request waits at most `wait_limit` seconds for a worker (then
    PoolBusy), and its query then has `time_limit` seconds, after which the worker is killed and
    replaced (QueryTimeout). One client holds at most `per_client` workers at a time."""

    def __init__(
        self,
        settings: WorkerSettings,
        size: int,
        time_limit: float,
        per_client: int | None = None,
        wait_limit: float | None = None,
        reserve: bool = True,
    ) -> None:
        self.settings = settings
        self.size = size
        self.time_limit = time_limit
        self.wait_limit = time_limit if wait_limit is None else wait_limit
        self.per_client = max(1, min(size, per_client or size))
        self._ctx = mp.get_context("spawn")
        self._idle: collections.deque[Worker] = collections.deque()
        self.reserve = reserve and size > 1
        # per client, its waiting requests in order: (arrival number, ticket for a worker)
        self._queues: dict[str, collections.deque[tuple[int, asyncio.Future[Worker]]]] = {}
        self._arrivals = itertools.count()
        self._running: collections.Counter[str] = collections.Counter()
        self._used: dict[str, tuple[float, float]] = {}  # client -> (worker-seconds, when)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._all: set[Worker] = set()  # idle or busy
        self.isolation = ""
        self.loader: Loader | None = None

    def start(self) -> None:
        """Start every worker and wait until each has the release open (blocking)."""
        workers: list[Worker] = []
        try:
            if self.settings.shared:
                self.loader = Loader(self._ctx, self.settings)
                self.loader.wait_ready(600)
                workers = [self.loader.fork() for _ in range(self.size)]
            else:
                workers = [Worker(self._ctx, self.settings) for _ in range(self.size)]
                for w in workers:
                    w.wait_ready(300)
        except BaseException:
            for w in workers:
                with contextlib.suppress(Exception):
                    w.kill()
            if self.loader is not None:
                self.loader.close()
            raise
        self.isolation = workers[0].isolation
        self._idle.extend(workers)
        self._all.update(workers)

    # --- scheduling ------------------------------------------------------------------------------

    def _usage(self, client: str, now: float) -> float:
        """The share of one worker `client` used lately (worker-seconds per second, decayed
        over `USAGE_WINDOW` seconds)."""
        value, at = self._used.get(client, (0.0, now))
        return value * math.exp(-(now - at) / USAGE_WINDOW) / USAGE_WINDOW

    def _dispatch(self) -> None:
        """Give free workers to waiting requests. Among the clients that wait and hold fewer
        than `per_client` workers, the one that used the least worker time lately goes first
        (then the one waiting longest); the last free worker is kept for a light client (one
        that used less than `LIGHT` of a worker lately) when `reserve` is on."""
        now = time.monotonic()
        while self._idle:
            best: tuple[float, int, str] | None = None
            for client, waiting in list(self._queues.items()):
                while waiting and waiting[0][1].done():  # given up (timed out, disconnected)
                    waiting.popleft()
                if not waiting:
                    del self._queues[client]
                    continue
                if self._running[client] >= self.per_client:
                    continue
                usage = self._usage(client, now)
                if self.reserve and len(self._idle) == 1 and usage >= LIGHT:
                    continue
                candidate = (usage, waiting[0][0], client)
                if best is None or candidate < best:
                    best = candidate
            if best is None:
                return
            worker = self._idle.popleft()
            if not worker.process.is_alive():  # died while idle: replace it, try another
                self._restart(worker)
                continue
            client = best[2]
            self._running[client] += 1
            self._queues[client].popleft()[1].set_result(worker)

    def _release(self, client: str, worker: Worker | None, started: float) -> None:
        now = time.monotonic()
        self._running[client] -= 1
        if self._running[client] <= 0:
            del self._running[client]
        self._used[client] = (self._usage(client, now) * USAGE_WINDOW + (now - started), now)
        if len(self._used) > 10_000:  # forget the clients that have not asked lately
            self._used = {
                c: u
                for c, u in self._used.items()
                if self._usage(c, now) > 1e-4 or c in self._running
            }
        if worker is not None:
            self._idle.append(worker)
        self._dispatch()

    async def _take(self, client: str) -> Worker:
        loop = asyncio.get_running_loop()
        ticket: asyncio.Future[Worker] = loop.create_future()
        self._queues.setdefault(client, collections.deque()).append((next(self._arrivals), ticket))
        self._dispatch()
        try:
            await asyncio.wait({ticket}, timeout=self.wait_limit)
        except asyncio.CancelledError:  # the client went away while waiting
            if ticket.done():
                self._release(client, ticket.result(), time.monotonic())
            else:
                ticket.cancel()
            raise
        if not ticket.done():
            ticket.cancel()
            raise PoolBusy(
                f"every query worker stayed busy for {self.wait_limit:g} s "
                f"(one client may use {self.per_client} of {self.size}); try again"
            )
        return ticket.result()

    async def run(self, client: str, request: QueryRequest) -> QueryResponse:
        """Answer `request` on a worker, `client` naming who asks (for the fair share)."""
        worker = await self._take(client)
        started = time.monotonic()
        finished = False
        try:
            worker.conn.send(request)
            if not await worker.readable(self.time_limit):
                finished = True
                self._restart(worker)
                self._release(client, None, started)
                raise QueryTimeout(f"the query ran past the time limit of {self.time_limit:g} s")
            response: QueryResponse = worker.conn.recv()
            finished = True
            self._release(client, worker, started)
            return response
        except (OSError, EOFError):
            if not finished:
                finished = True
                self._restart(worker)
                self._release(client, None, started)
            raise WorkerCrashed(
                "the query worker stopped while answering (it is being replaced)"
            ) from None
        finally:
            if not finished:  # the client went away mid-query: let the worker finish first
                self._spawn(self._finish_abandoned(client, worker, started))

    async def _finish_abandoned(self, client: str, worker: Worker, started: float) -> None:
        try:
            if await worker.readable(self.time_limit - (time.monotonic() - started)):
                worker.conn.recv()
                self._release(client, worker, started)
                return
        except (OSError, EOFError):
            pass
        self._restart(worker)
        self._release(client, None, started)

    # --- workers coming and going ----------------------------------------------------------------

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _restart(self, worker: Worker) -> None:
        self._spawn(self._replace(worker))

    async def _replace(self, worker: Worker) -> None:
        self._all.discard(worker)
        await asyncio.to_thread(worker.kill)
        delay = 0.5
        while not self._closed:
            try:
                fresh = await asyncio.to_thread(self._fresh)
            except Exception as exc:  # keep the slot: try again, more slowly
                print(
                    f"kg serve: a query worker failed to start ({exc}); retrying", file=sys.stderr
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if self._closed:
                fresh.kill()
                return
            self._all.add(fresh)
            self._idle.append(fresh)
            self._dispatch()
            return

    def _fresh(self) -> Worker:
        if self.loader is not None:
            return self.loader.fork()
        worker = Worker(self._ctx, self.settings)
        worker.wait_ready(300)
        return worker

    def close(self) -> None:
        self._closed = True
        for worker in list(self._all):
            with contextlib.suppress(Exception):
                worker.kill()
        for task in self._tasks:
            task.cancel()
        if self.loader is not None:
            self.loader.close()
