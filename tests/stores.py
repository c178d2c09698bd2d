"""Real SPARQL stores for the compliance suite, each on free loopback ports in a temporary folder:
`oxigraph serve` (PyPI package oxigraph) and Virtuoso (Debian's virtuoso-opensource)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from conftest import OXIGRAPH, free_port, wait_for

VIRTUOSO = "virtuoso-t"
VIRTUOSO_MISSING = (
    "virtuoso-t is not installed (Debian package virtuoso-opensource; .ci/run installs it when "
    "it runs as root)"
)
# Virtuoso's database administrator on a new database; the server listens on loopback only
VIRTUOSO_USER, VIRTUOSO_PASSWORD = "dba", "dba"

_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 8
CheckpointInterval = 0
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = {dir}
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 4
ServerThreads = 4
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


class _Process:
    """A server process with its own temporary folder, stopped (and the folder removed) on exit."""

    name = "server"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"kg-{self.name}-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "server.log"

    def _start(self, cmd: list[str]) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OxigraphServer(_Process):
    """`oxigraph serve` on a free loopback port: `/query`, `/update`, `/store`."""

    name = "oxigraph"

    def __init__(self) -> None:
        super().__init__()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.query_url, self.gsp_url = f"{self.url}/query", f"{self.url}/store"
        try:
            self._start(
                [
                    str(OXIGRAPH),
                    "serve",
                    "--location",
                    str(self.dir / "db"),
                    "--bind",
                    f"127.0.0.1:{port}",
                ]
            )
            assert self.proc is not None
            wait_for(port, self.proc)
        except BaseException:
            self.stop()
            raise


class VirtuosoServer(_Process):
    """Virtuoso on free loopback ports (SQL and HTTP) with a new database: `/sparql` answers
    queries, `/sparql-graph-crud-auth` is the Graph Store endpoint (HTTP Digest, `dba`)."""

    name = "virtuoso"

    def __init__(self, start_seconds: float = 90) -> None:
        super().__init__()
        sql_port, http_port = free_port(), free_port()
        ini = self.dir / "virtuoso.ini"
        ini.write_text(_VIRTUOSO_INI.format(dir=self.dir, sql_port=sql_port, http_port=http_port))
        self.url = f"http://127.0.0.1:{http_port}"
        self.query_url = f"{self.url}/sparql"
        self.gsp_url = f"{self.url}/sparql-graph-crud-auth"
        self.auth = httpx.DigestAuth(VIRTUOSO_USER, VIRTUOSO_PASSWORD)
        try:
            self._start([VIRTUOSO, "+foreground", "+configfile", str(ini)])
            self._wait(start_seconds)
        except BaseException:
            self.stop()
            raise

    def _wait(self, seconds: float) -> None:
        """Until the SPARQL endpoint answers (a new database takes a few seconds to set up)."""
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                reply = httpx.get(self.query_url, params={"query": "ASK {}"}, timeout=5)
                if reply.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        log = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Virtuoso did not start: {log}")
