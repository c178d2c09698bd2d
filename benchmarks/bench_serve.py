"""What `kg serve` costs over a bare Oxigraph server, measured side by side on the same data.

Mode `load` (the default; issue 10): requests per second, p50 and p99 for a cheap query (GET
/sparql?query=…, a 10-row SELECT) and a resource page (GET /model/llama-2 as HTML) at 1, 8 and 32
concurrent clients (`--levels`), with keep-alive and with a new connection per request, against
bare `oxigraph serve-read-only` on the same data in the same run (the query only: it has no
pages). Each cell runs `--seconds` split in two halves in mirrored order (kg, bare, bare, kg).
kg serve runs once per `--stores` value: workers holding the data in memory, or opening the
release's RocksDB store read-only; its start-up time and memory (PSS of the process tree) are
printed for each. Clients: asyncio in two processes. kg serve runs with
`--max-workers-per-client WORKERS --no-reserve-worker`: every client here has the same address,
and the fair-share defaults would (rightly) keep one address from taking every worker.

    python benchmarks/bench_serve.py [--seconds 4] [--levels 1,8,32] [--stores memory,disk]

Mode `library` (`--mode library`): the library's queries, as follows.

Both servers answer the library queries (`kg.store.queries.library()`, header comments removed) over
the release's `dumps/dataset.nq`, with the default graph as the union of the named graphs:
  kg    : `kg serve --workers N` (Python HTTP server, queries in worker processes over pipes,
          results serialised to SPARQL JSON in Python), endpoint /sparql
  bare  : `oxigraph load` + `oxigraph serve-read-only --union-default-graph` (RocksDB on disk),
          endpoint /query; with --bare-store memory, `oxigraph serve` in memory with the dump
          POSTed to it (the storage kg serve's workers use, so that only the server layers differ)
First both must give the same number of rows for every query (differences are printed at once
and in the summary, never hidden). Then:
  latency    : per query, a warm-up, then --rounds sequential POSTs on one keep-alive connection
               per server, the two servers alternating request by request (so machine noise hits
               both alike); median ms per query and the ratio kg/bare, their median and geomean
  throughput : --clients concurrent clients, each with its own keep-alive connection, cycling
               through the whole library for --seconds per server, run as two halves ordered kg,
               bare, bare, kg; queries per second and the ratio bare/kg (above 1: kg is slower)
Clients are processes by default, so that no GIL is shared between them and the timings; the
run prints the CPU the clients used (about 0.05 of a core here), and `--client-mode thread` gives
the same figures within the noise. Clients and servers share the machine's cores (2 here).
Prints the ratios side by side and a summary line against the goal (within 1.5x).

    python benchmarks/bench_serve.py [--rounds 30] [--clients 4] [--seconds 10] [--workers 2]
                                     [--out output] [--json FILE] [--bare-store disk|memory]
                                     [--client-mode process|thread] [--warmup 3]

Mode `scale` (`--mode scale`; issue 14): kg serve on a large release (`--out` the output folder
of a `kg build`, e.g. of `benchmarks/synth_hub.py` records through `kg import hf`), once per
`--stores` value (`memory`, `disk`, `auto`). For each: the start-up time until the first query
answers, the memory of the server and its workers (PSS, RSS, and each worker's peak address
space, which `--worker-memory` limits), cheap-query throughput (`--clients` clients for
`--seconds`), and every library question's latency (one warm-up, then the median of
`--rounds`), with the required parameters bound to their `example:` (or `--param
QUESTION.NAME=VALUE`) and the optional ones left unbound (the whole list: the most work). Row
counts must agree between the stores. Prints the stores side by side with the ratio of each to
the first, flags questions over 5 s, and with `--baseline FILE` (the `--json` of a run at a
smaller N) the ratio of every figure to that run's (10 per decade is linear cost).

    python benchmarks/bench_serve.py --mode scale --out /tmp/out-100000 --stores memory,disk \
        [--rounds 3] [--clients 4] [--seconds 5] [--param lineage.model=ID] [--json FILE]
        [--baseline FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import multiprocessing as mp
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from kg.serve.protocol import without_header
from kg.store.queries import library

ACCEPT = "application/sparql-results+json"
GOAL = 1.5
CLIENT_PROCESSES = 2
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Endpoint:
    name: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, name: str, url: str) -> Endpoint:
        u = urlsplit(url)
        return cls(name, u.hostname or "127.0.0.1", u.port or 80, u.path)


# --- the two servers ---------------------------------------------------------------------------


def _stop(proc: subprocess.Popen, first: int = signal.SIGINT) -> None:
    """Stop one server we started: SIGINT first (kg serve then closes its workers and removes
    its private copy of the data), SIGTERM and SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((first, 15), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def kg_server(
    out: Path, workers: int, extra: list[str] | None = None, info: dict | None = None
) -> Iterator[Endpoint]:
    cmd = [sys.executable, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", "0", "--quiet"]
    cmd += ["--out", str(out), "--workers", str(workers), *(extra or [])]
    with contextlib.ExitStack() as stack:
        err = stack.enter_context(tempfile.TemporaryFile())
        # a session of its own: a Ctrl-C at the terminal reaches only us, and we stop it in order
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=err, text=True, start_new_session=True
        )
        stack.callback(_stop, proc)
        if info is not None:
            info["pid"] = proc.pid
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 180
            url = None
            while url is None and time.monotonic() < deadline:
                if not sel.select(timeout=0.5):
                    if proc.poll() is not None:
                        break
                    continue
                line = proc.stdout.readline()
                if not line:
                    break
                found = re.search(r" at (http://\S+/) ", line)
                if found:
                    url = found.group(1)
        if url is None:
            _stop(proc)
            err.seek(0)
            raise RuntimeError(f"kg serve did not start: {err.read().decode().strip()}")
        yield Endpoint.parse("kg", url + "sparql")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oxigraph_binary() -> str:
    local = Path(sys.executable).parent / "oxigraph"
    found = str(local) if local.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("no oxigraph binary: pip install 'oxigraph>=0.5,<0.6'")
    return found


@contextlib.contextmanager
def bare_server(dataset: Path, store: str) -> Iterator[Endpoint]:
    """`store` disk: `oxigraph load` then `serve-read-only` (RocksDB, as deployed);
    memory: `oxigraph serve` without a location, the dump POSTed to /store (the in-memory
    storage kg serve's workers use, so that only the server layers differ)."""
    binary = oxigraph_binary()
    tmp = Path(tempfile.mkdtemp(prefix="kg-bench-oxigraph-"))
    proc: subprocess.Popen | None = None
    port = free_port()
    bind = ["--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    try:
        if store == "disk":
            location = str(tmp / "store")
            subprocess.run(
                [binary, "load", "--location", location, "--file", str(dataset)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            cmd = [binary, "serve-read-only", "--location", location, *bind]
        else:
            cmd = [binary, "serve", *bind]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        endpoint = Endpoint("bare", "127.0.0.1", port, "/query")
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(cmd[1:2])} exited ({proc.returncode})")
            try:
                status, _ = Client(endpoint).query("ASK {}")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"oxigraph {cmd[1]} did not answer within 60 s")
            time.sleep(0.1)
        if store == "memory":
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            conn.request(
                "POST", "/store", dataset.read_bytes(), {"Content-Type": "application/n-quads"}
            )
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status >= 300:
                raise RuntimeError(f"oxigraph serve did not take the data: HTTP {resp.status}")
        yield endpoint
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


# --- the client ----------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection; counts the times the server closed it on us."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=120)
        self.connects = 0
        self.headers = {"Content-Type": "application/sparql-query", "Accept": ACCEPT}

    def query(self, text: str) -> tuple[int, bytes]:
        body = text.encode()
        for attempt in (0, 1):
            if self.conn.sock is None:
                self.conn.connect()
                self.connects += 1
            try:
                self.conn.request("POST", self.endpoint.path, body, self.headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.will_close:
                    self.conn.close()
                return resp.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()  # a keep-alive connection the server dropped: retry once
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def rows(status: int, data: bytes) -> int | str:
    if status != 200:
        return f"HTTP {status}: {data[:200].decode(errors='replace').strip()}"
    doc = json.loads(data)
    return len(doc["results"]["bindings"]) if "results" in doc else int(bool(doc.get("boolean")))


# --- latency ---------------------------------------------------------------------------------


def latency(
    endpoints: list[Endpoint], queries: dict[str, str], rounds: int, warmup: int
) -> tuple[dict[str, dict[str, list[float]]], dict[str, int]]:
    """Per query and server, `rounds` request times in seconds; the two servers alternate
    request by request, which of them goes first swapping every round."""
    clients = {e.name: Client(e) for e in endpoints}
    samples: dict[str, dict[str, list[float]]] = {}
    try:
        for name, text in queries.items():
            per = samples[name] = {e.name: [] for e in endpoints}
            for _ in range(warmup):
                for c in clients.values():
                    c.query(text)
            for i in range(rounds):
                order = endpoints if i % 2 == 0 else endpoints[::-1]
                for e in order:
                    t = time.perf_counter()
                    status, _ = clients[e.name].query(text)
                    per[e.name].append(time.perf_counter() - t)
                    if status != 200:
                        raise RuntimeError(f"{e.name}: {name} answered HTTP {status}")
    finally:
        for c in clients.values():
            c.close()
    return samples, {n: c.connects for n, c in clients.items()}


# --- throughput --------------------------------------------------------------------------------


def _client_loop(
    endpoint: Endpoint, texts: list[str], start: int, begin: float, seconds: float
) -> dict:
    """One client: from wall-clock `begin`, cycle through `texts` for `seconds`."""
    client = Client(endpoint)
    client.query(texts[start % len(texts)])  # connect and warm before the start
    done = errors = 0
    i = start
    time.sleep(max(0.0, begin - time.time()))
    t0 = time.perf_counter()
    cpu0 = time.thread_time()  # this client's own CPU time (thread or process alike)
    end = t0 + seconds
    t = t0
    while t < end:
        status, _ = client.query(texts[i % len(texts)])
        t = time.perf_counter()
        i += 1
        done += 1
        errors += status != 200
    cpu = time.thread_time() - cpu0
    client.close()
    return {
        "done": done,
        "errors": errors,
        "elapsed": t - t0,
        "cpu": cpu,
        "connects": client.connects,
    }


def _client_process(args: tuple) -> dict:
    return _client_loop(*args)


def throughput(
    endpoint: Endpoint, texts: list[str], clients: int, seconds: float, mode: str, pool
) -> dict:
    """`clients` concurrent clients, each starting at another place in the library."""
    begin = time.time() + 1.0  # all clients connected and warmed first
    jobs = [(endpoint, texts, k * len(texts) // clients, begin, seconds) for k in range(clients)]
    if mode == "process":
        results = pool.map(_client_process, jobs)
    else:
        results: list[dict] = [{}] * clients

        def run(k: int) -> None:
            results[k] = _client_loop(*jobs[k])

        threads = [threading.Thread(target=run, args=(k,), daemon=True) for k in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if any(not r for r in results):
            raise RuntimeError("a client thread failed")
    return {
        "qps": sum(r["done"] / r["elapsed"] for r in results),
        "done": sum(r["done"] for r in results),
        "errors": sum(r["errors"] for r in results),
        "client_cpu": sum(r["cpu"] for r in results) / max(r["elapsed"] for r in results),
        "connects": sum(r["connects"] for r in results),
        "clients": results,
    }


def combine(slices: list[dict]) -> dict:
    """One server's throughput over its slices (queries per second over their total time)."""
    done = sum(r["done"] for r in slices)
    weight = [r["done"] / r["qps"] for r in slices]  # each slice's effective duration
    return {
        "qps": done / sum(weight),
        "done": done,
        "errors": sum(r["errors"] for r in slices),
        "client_cpu": sum(r["client_cpu"] * w for r, w in zip(slices, weight, strict=True))
        / sum(weight),
        "slices": slices,
    }


# --- load: requests/s and p50/p99 at 1, 8 and 32 clients ---------------------------------------

CHEAP_QUERY = (
    "SELECT ?m ?label WHERE { ?m a <https://w3id.org/genai-openness/ontology#AIModel> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?m LIMIT 10"
)
PAGE = "/model/llama-2"


async def _one_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Send `request`, read the answer (by Content-Length or chunked); (status, whether the
    server keeps the connection open)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    keep, chunked = True, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and "close" in value.lower():
            keep = False
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep


async def _load_clients(
    host: str, port: int, path: str, clients: int, keep_alive: bool, begin: float, seconds: float
) -> dict:
    """`clients` concurrent clients in this process, each sending GET `path` in a loop from
    wall-clock `begin` for `seconds`; on a keep-alive connection each, or a new connection per
    request (`Connection: close`)."""
    accept = "text/html" if not path.startswith(("/sparql", "/query")) else ACCEPT
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: {accept}\r\n"
        + ("" if keep_alive else "Connection: close\r\n")
        + "\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        await asyncio.sleep(max(0.0, begin - time.time()))
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            try:
                if conn is None:
                    conn = await asyncio.open_connection(host, port)
                status, keep = await _one_request(*conn, request)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                conn = None
                continue
            latencies.append(time.perf_counter() - t)
            errors += status != 200
            if not (keep and keep_alive):
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return {"latencies": latencies, "errors": errors}


def _load_process(args: tuple) -> dict:
    return asyncio.run(_load_clients(*args))


def load(
    endpoint: Endpoint, path: str, clients: int, keep_alive: bool, seconds: float, pool
) -> dict:
    """Requests per second and latency percentiles of `clients` concurrent clients, spread over
    the client processes of `pool` (asyncio in each)."""
    procs = min(clients, CLIENT_PROCESSES)
    shares = [clients // procs + (k < clients % procs) for k in range(procs)]
    begin = time.time() + 0.5
    jobs = [
        (endpoint.host, endpoint.port, path, n, keep_alive, begin, seconds) for n in shares if n
    ]
    results = pool.map(_load_process, jobs)
    latencies = sorted(x for r in results for x in r["latencies"])
    if not latencies:
        return {"rps": 0.0, "p50": math.nan, "p99": math.nan, "errors": 0, "n": 0}
    return {
        "rps": len(latencies) / seconds,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "errors": sum(r["errors"] for r in results),
        "n": len(latencies),
    }


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MB (shared pages split)."""
    return float(tree_memory(pid)["pss_mb"])


def run_load(args: argparse.Namespace, dataset: Path) -> None:
    """The issue's load matrix: a cheap query and a resource page, at 1, 8 and 32 clients, with
    and without keep-alive, kg serve (in-memory and on-disk workers) against bare Oxigraph."""
    levels = [int(c) for c in args.levels.split(",")]
    kg_args = [
        "--max-workers-per-client",
        str(args.workers),  # one address (this benchmark) may use every worker...
        "--no-reserve-worker",  # ...and none is kept back for other clients
    ]
    query_path = "/sparql?" + urllib.parse.urlencode({"query": CHEAP_QUERY})
    bare_path = "/query?" + urllib.parse.urlencode({"query": CHEAP_QUERY})
    rows: list[dict] = []
    starts: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(
            mp.get_context("spawn").Pool(
                CLIENT_PROCESSES,
                initializer=signal.signal,
                initargs=(signal.SIGINT, signal.SIG_IGN),
            )
        )
        bare = stack.enter_context(bare_server(dataset, "disk"))
        servers = {"bare": bare}
        for store in args.stores.split(","):
            started = time.monotonic()
            info: dict = {}
            kg = stack.enter_context(
                kg_server(args.out, args.workers, [*kg_args, "--store", store], info)
            )
            starts[store] = {"seconds": time.monotonic() - started}
            servers[f"kg-{store}"] = kg
            # every variant warmed (pages rendered and cached, workers' first query)
            for path in (query_path, PAGE):
                load(kg, path, 1, True, 0.3, pool)
            starts[store]["pss_mb"] = tree_pss_mb(info["pid"])
        load(bare, bare_path, 1, True, 0.3, pool)
        for keep_alive in (True, False):
            for clients in levels:
                for what, paths in (
                    (
                        "query",
                        {"bare": bare_path, **{k: query_path for k in servers if k != "bare"}},
                    ),
                    ("page", {k: PAGE for k in servers if k != "bare"}),
                ):
                    order = list(paths)
                    halves: dict[str, list[dict]] = {k: [] for k in order}
                    for name in [*order, *order[::-1]]:  # two halves, mirrored order
                        r = load(
                            servers[name], paths[name], clients, keep_alive, args.seconds / 2, pool
                        )
                        halves[name].append(r)
                    for name, rs in halves.items():
                        rows.append(
                            {
                                "what": what,
                                "server": name,
                                "clients": clients,
                                "keep_alive": keep_alive,
                                "rps": statistics.fmean(r["rps"] for r in rs),
                                "p50": statistics.fmean(r["p50"] for r in rs),
                                "p99": max(r["p99"] for r in rs),
                                "errors": sum(r["errors"] for r in rs),
                            }
                        )
                    print(f"  done: {what}, {clients} clients, keep-alive {keep_alive}", flush=True)
    report_load(rows, starts, args)


def report_load(rows: list[dict], starts: dict[str, dict], args: argparse.Namespace) -> None:
    cores = os.cpu_count()
    print(
        f"\nmachine: {cores} cores shared by clients ({CLIENT_PROCESSES} processes, asyncio) and "
        f"servers; load average {os.getloadavg()[0]:.1f}; kg serve --workers {args.workers}; "
        f"oxigraph {_oxigraph_version()} (load + serve-read-only); {args.seconds:g} s per cell "
        "in two mirrored halves"
    )
    print("start-up and memory of kg serve (main process and workers, PSS):")
    for store, s in starts.items():
        print(f"  --store {store:6}: started in {s['seconds']:.1f} s, {s['pss_mb']:.0f} MB")
    print(
        f"\n  {'what':6} {'server':10} {'clients':>7} {'keep-alive':>10} {'req/s':>8} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'bare/kg':>8}"
    )
    bare = {(r["clients"], r["keep_alive"]): r for r in rows if r["server"] == "bare"}
    goals: list[str] = []
    for r in rows:
        ratio = ""
        key = (r["clients"], r["keep_alive"])
        if r["what"] == "query" and r["server"] != "bare" and key in bare and r["rps"]:
            value = bare[key]["rps"] / r["rps"]
            ratio = f"{value:7.2f}x"
            if value > GOAL:
                goals.append(f"{r['server']} query throughput {value:.2f}x bare at {key}")
        if r["server"] != "bare" and r["clients"] == 32 and r["p99"] >= 100:
            goals.append(f"{r['server']} {r['what']} p99 {r['p99']:.0f} ms at 32 clients {key}")
        alive = "yes" if r["keep_alive"] else "no"
        print(
            f"  {r['what']:6} {r['server']:10} {r['clients']:7} {alive:>10} "
            f"{r['rps']:8.0f} {r['p50']:8.1f} {r['p99']:8.1f} {r['errors']:6} {ratio:>8}"
        )
    queries = {
        (r["server"], r["clients"], r["keep_alive"]): r for r in rows if r["what"] == "query"
    }
    for r in rows:
        if r["what"] == "page":
            q = queries.get((r["server"], r["clients"], r["keep_alive"]))
            if q and r["rps"] < q["rps"]:
                goals.append(
                    f"{r['server']} pages slower than queries at {r['clients']} clients "
                    f"(keep-alive {r['keep_alive']})"
                )
    print(
        f"\ngoals (queries within {GOAL}x of bare, p99 < 100 ms at 32 clients, pages faster than "
        "queries): " + ("all met" if not goals else "NOT met: " + "; ".join(goals))
    )
    if args.json:
        args.json.write_text(
            json.dumps({"rows": rows, "starts": starts}, indent=1) + "\n", encoding="utf-8"
        )


# --- report ----------------------------------------------------------------------------------


def tree_memory(pid: int) -> dict:
    """PSS and RSS (MB) of a process and its descendants, and each descendant's peak address
    space (VmPeak, MB): what `--worker-memory` limits."""
    pss = rss = 0
    peaks: list[float] = []
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
            if p != pid:
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("VmPeak:"):
                        peaks.append(int(line.split()[1]) / 1024)
            for task in Path(f"/proc/{p}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return {"pss_mb": pss / 1024, "rss_mb": rss / 1024, "worker_peak_mb": peaks}


def library_texts(out: Path, overrides: list[str]) -> dict[str, str]:
    """Every library question's text as a client sends it: required parameters bound (at the
    start of the pattern, as `kg query` binds them) to their example or to `--param`."""
    from kg.release.release import Release

    prefixes = Release.current(out).base.prefixes()
    given: dict[str, dict[str, str]] = {}
    for item in overrides:
        key, _, value = item.partition("=")
        name, _, param = key.rpartition(".")
        given.setdefault(name, {})[param] = value
    texts = {}
    for q in library():
        if q.path.suffix != ".rq":
            continue
        values = {p.name: p.example or "" for p in q.parameters if p.required}
        values.update(given.get(q.name, {}))
        texts[q.name] = without_header(q.with_values(q.bindings(values, prefixes)))
    return texts


def run_scale(args: argparse.Namespace) -> None:
    """Start-up, memory, cheap-query throughput and every library question, per --stores."""
    texts = library_texts(args.out, args.param)
    from kg.release.release import Release

    manifest = Release.current(args.out).manifest
    quads = sum(manifest["graphs"].values())
    figures: dict[str, dict] = {}
    cheap = [CHEAP_QUERY]
    for store in args.stores.split(","):
        info: dict = {}
        extra = ["--store", store, "--max-workers-per-client", str(args.workers)]
        extra += ["--no-reserve-worker", "--timeout", str(args.timeout)]
        started = time.monotonic()
        with kg_server(args.out, args.workers, extra, info) as kg:
            client = Client(kg)
            status, _ = client.query("ASK { ?s ?p ?o }")
            first = time.monotonic() - started
            if status != 200:
                raise RuntimeError(f"kg serve --store {store}: first query answered {status}")
            row: dict = {"startup_s": first, **tree_memory(info["pid"])}
            print(
                f"  --store {store}: first answer after {first:.1f} s; PSS {row['pss_mb']:.0f} MB, "
                f"RSS {row['rss_mb']:.0f} MB; worker peaks "
                + ", ".join(f"{m:.0f}" for m in row["worker_peak_mb"])
                + " MB",
                flush=True,
            )
            tp = throughput(kg, cheap, args.clients, args.seconds, "thread", None)
            row["cheap_qps"] = tp["qps"]
            row["cheap_errors"] = tp["errors"]
            print(
                f"    cheap query: {tp['qps']:.0f} queries/s at {args.clients} clients", flush=True
            )
            row["latency_ms"], row["rows"] = {}, {}
            for name, text in texts.items():
                times = []
                answer: int | str = ""
                for i in range(args.rounds + 1):
                    t = time.perf_counter()
                    status, data = client.query(text)
                    if i:
                        times.append(time.perf_counter() - t)
                    answer = rows(status, data)
                ms = statistics.median(times) * 1000
                row["latency_ms"][name], row["rows"][name] = ms, answer
                flag = "  <- over 5 s" if ms > 5000 else ""
                print(f"    {name:36} {answer!s:>8} rows {ms:9.1f} ms{flag}", flush=True)
            row.update(tree_memory(info["pid"]) | {"startup_s": first})
            client.close()
        figures[store] = row
    report_scale(figures, quads, texts, args)


def report_scale(figures: dict[str, dict], quads: int, texts: dict, args: argparse.Namespace):
    stores = list(figures)
    first = stores[0]
    base = json.loads(args.baseline.read_text())["figures"] if args.baseline else {}
    print(
        f"\nkg serve at {quads:,} quads, --workers {args.workers}, load average "
        f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); ratios: store / {first}"
        + (f"; [x] this run / {args.baseline.name}" if base else "")
    )

    def vs(store: str, key: str, value: float, name: str | None = None) -> str:
        old = base.get(store, {}).get(key)
        if name is not None:
            old = (old or {}).get(name)
        return f" [x{value / old:.1f}]" if old else ""

    print(f"  {'':36} " + " ".join(f"{s:>22}" for s in stores))
    for key, label, unit in (
        ("startup_s", "start-up (first answer)", "s"),
        ("pss_mb", "memory, PSS (after the run)", "MB"),
        ("rss_mb", "memory, RSS (after the run)", "MB"),
        ("cheap_qps", "cheap query, queries/s", ""),
    ):
        cells = [f"{figures[s][key]:.1f}{unit}{vs(s, key, figures[s][key])}" for s in stores]
        print(f"  {label:36} " + " ".join(f"{c:>22}" for c in cells))
    peaks = [max(figures[s]["worker_peak_mb"], default=0) for s in stores]
    print(f"  {'worker peak address space':36} " + " ".join(f"{p:>20.0f}MB" for p in peaks))
    print(f"  {'question (median ms)':36} " + " ".join(f"{s:>22}" for s in stores))
    slow, differ = [], []
    for name in texts:
        cells = []
        for s in stores:
            ms = figures[s]["latency_ms"][name]
            ratio = ms / figures[first]["latency_ms"][name] if s != first else None
            cell = f"{ms:.0f}" + (f" ({ratio:.2f}x)" if ratio else "")
            cells.append(cell + vs(s, "latency_ms", ms, name))
            if ms > 5000:
                slow.append(f"{name} ({s}, {ms / 1000:.1f} s)")
        if len({str(figures[s]["rows"][name]) for s in stores}) > 1:
            differ.append(name)
        print(f"  {name:36} " + " ".join(f"{c:>22}" for c in cells))
    print("questions over 5 s: " + (", ".join(slow) if slow else "none"))
    print("row counts: " + ("DIFFER for " + ", ".join(differ) if differ else "the same"))
    if args.json:
        args.json.write_text(json.dumps({"quads": quads, "figures": figures}, indent=1) + "\n")


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "output", help="build output folder")
    parser.add_argument("--rounds", type=int, default=30, help="timed requests per query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per query")
    parser.add_argument("--clients", type=int, default=4, help="concurrent throughput clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="throughput run per server")
    parser.add_argument("--workers", type=int, default=2, help="kg serve --workers")
    parser.add_argument(
        "--client-mode",
        choices=("process", "thread"),
        default="process",
        help="throughput clients as processes (default: no GIL shared among them) or threads",
    )
    parser.add_argument(
        "--bare-store",
        choices=("disk", "memory"),
        default="disk",
        help="bare server over a RocksDB store (load + serve-read-only, default) or in memory "
        "(serve, data POSTed; the storage kg serve uses, so only the server layers differ)",
    )
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")
    parser.add_argument("--mode", choices=("load", "library", "scale"), default="load")
    parser.add_argument("--timeout", type=float, default=60.0, help="scale: kg serve --timeout")
    parser.add_argument(
        "--param", action="append", default=[], help="scale: QUESTION.NAME=VALUE for a question"
    )
    parser.add_argument("--baseline", type=Path, help="scale: --json of a run at a smaller N")
    parser.add_argument("--levels", default="1,8,32", help="load: concurrent clients per cell")
    parser.add_argument(
        "--stores", default="memory,disk", help="load, scale: kg serve --store values to measure"
    )
    args = parser.parse_args()

    dataset = args.out / "current" / "dumps" / "dataset.nq"
    if not dataset.is_file():
        sys.exit(f"{dataset} is missing: run 'kg build' first")
    if args.mode == "load":
        signal.signal(signal.SIGINT, signal.default_int_handler)
        run_load(args, dataset)
        return
    if args.mode == "scale":  # Ctrl-C and SIGTERM stop the server it started, cleanly
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        run_scale(args)
        return
    queries = {q.name: without_header(q.text) for q in library() if q.path.suffix == ".rq"}

    # Ctrl-C and SIGTERM unwind the same way, so that the servers and temp folders go either way
    # (SIGINT even if we were started with it ignored, as `cmd &` does: the servers inherit the
    # default, and `kg serve` stops cleanly on it)
    def on_term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    with contextlib.ExitStack() as stack:
        pool = None
        if args.client_mode == "process":
            pool = stack.enter_context(
                mp.get_context("spawn").Pool(
                    args.clients,  # the parent handles Ctrl-C and terminates the pool
                    initializer=signal.signal,
                    initargs=(signal.SIGINT, signal.SIG_IGN),
                )
            )
        kg = stack.enter_context(kg_server(args.out, args.workers))
        bare = stack.enter_context(bare_server(dataset, args.bare_store))
        endpoints = [kg, bare]

        # 1. the same answers (as row counts)
        counts: dict[str, dict[str, int | str]] = {}
        for name, text in queries.items():
            counts[name] = {}
            for e in endpoints:
                c = Client(e)
                counts[name][e.name] = rows(*c.query(text))
                c.close()
        differ = [n for n, c in counts.items() if c["kg"] != c["bare"]]
        for n in differ:
            print(f"ROWS DIFFER: {n}: kg {counts[n]['kg']}, bare {counts[n]['bare']}", flush=True)

        # 2. latency, alternating request by request
        samples, connects = latency(endpoints, queries, args.rounds, args.warmup)

        # 3. throughput, one server after the other, in two halves ordered kg, bare, bare, kg
        #    so that a drift in the machine's load over the run affects both alike
        texts = list(queries.values())
        slices: dict[str, list[dict]] = {e.name: [] for e in endpoints}
        for e in [*endpoints, *endpoints[::-1]]:
            r = throughput(e, texts, args.clients, args.seconds / 2, args.client_mode, pool)
            slices[e.name].append(r)
        tput = {name: combine(v) for name, v in slices.items()}

    med = {
        n: {s: statistics.median(v) * 1000 for s, v in per.items()} for n, per in samples.items()
    }
    ratios = {n: m["kg"] / m["bare"] for n, m in med.items()}
    r_med = statistics.median(ratios.values())
    r_geo = geomean(list(ratios.values()))
    t_ratio = tput["bare"]["qps"] / tput["kg"]["qps"]  # >1: kg answers fewer per second

    cores = os.cpu_count()
    print(
        f"machine: {cores} cores (clients and servers share them), {platform.python_version()}; "
        f"kg serve --workers {args.workers}; oxigraph {_oxigraph_version()} "
        f"({'load + serve-read-only' if args.bare_store == 'disk' else 'serve, in memory'})"
    )
    print(
        f"latency: {args.rounds} requests per query per server after {args.warmup} warm-up, "
        "one keep-alive connection each, servers alternating; median ms"
    )
    print(f"  {'query':36} {'rows':>6} {'kg':>8} {'bare':>8} {'kg/bare':>8}")
    worst = sorted(ratios, key=ratios.get, reverse=True)
    for name in queries:
        m = med[name]
        n_rows = counts[name]["kg"]
        flag = "  <- rows differ" if name in differ else ""
        print(
            f"  {name:36} {n_rows!s:>6} {m['kg']:8.2f} {m['bare']:8.2f} {ratios[name]:7.2f}x{flag}"
        )
    print(f"  {'median of ratios':36} {'':6} {'':8} {'':8} {r_med:7.2f}x")
    print(f"  {'geometric mean of ratios':36} {'':6} {'':8} {'':8} {r_geo:7.2f}x")
    print(
        f"  highest ratios: {', '.join(f'{n} {ratios[n]:.2f}x' for n in worst[:3])}; "
        f"lowest: {', '.join(f'{n} {ratios[n]:.2f}x' for n in worst[-3:])}"
    )
    extra = {s: c - 1 for s, c in connects.items() if c > 1}
    if extra:
        print(f"  note: connections reopened during the latency run: {extra}")
    print(
        f"throughput: {args.clients} concurrent clients ({args.client_mode} each, own keep-alive "
        f"connection), cycling through the {len(texts)} queries for {args.seconds:g} s per "
        f"server, run as two halves ordered kg, bare, bare, kg"
    )
    for s in ("kg", "bare"):
        r = tput[s]
        err = f", {r['errors']} errors" if r["errors"] else ""
        halves = " / ".join(f"{h['qps']:.1f}" for h in r["slices"])
        print(
            f"  {s:5} {r['qps']:8.1f} queries/s  (halves {halves}; {r['done']} answered{err}; "
            f"clients used {r['client_cpu']:.2f} of the {cores} cores)"
        )
    print(
        f"  bare/kg {t_ratio:.2f}x (kg answers {1 / t_ratio:.0%} as many queries per second "
        "as bare)"
    )
    if differ:
        print("ROW COUNTS DIFFER (kg vs bare):")
        for n in differ:
            print(f"  {n}: kg {counts[n]['kg']}, bare {counts[n]['bare']}")
    else:
        print(f"row counts: the same for all {len(queries)} queries")
    met = r_med <= GOAL and r_geo <= GOAL and t_ratio <= GOAL
    print(
        f"kg serve vs bare oxigraph: median latency ratio {r_med:.2f} (geomean {r_geo:.2f}), "
        f"throughput ratio {t_ratio:.2f} (goal: within {GOAL}x{'' if met else ' - NOT met'})"
    )
    if args.json:
        raw = {
            "config": {**{k: str(v) for k, v in vars(args).items()}, "cores": cores},
            "rows": counts,
            "rows_differ": differ,
            "latency_seconds": samples,
            "latency_median_ms": med,
            "latency_ratio": ratios,
            "latency_ratio_median": r_med,
            "latency_ratio_geomean": r_geo,
            "throughput": tput,
            "throughput_ratio": t_ratio,
        }
        args.json.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")


def _oxigraph_version() -> str:
    try:
        out = subprocess.run(
            [oxigraph_binary(), "--version"], capture_output=True, text=True, check=True
        ).stdout
        return out.split()[-1]
    except (OSError, subprocess.CalledProcessError, RuntimeError, IndexError):
        return "?"


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, temp folders removed")
