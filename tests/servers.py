"""Real servers for the tests: `kg serve` started as a subprocess on a free loopback port, and a
loopback listener that records who connects to it."""

from __future__ import annotations

import re
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


class KgServer:
    """`kg serve --port 0 --out OUT [ARGS]` in a subprocess; `url` ends with a slash."""

    def __init__(self, out: Path, *args: str, start_seconds: float = 120) -> None:
        self.cmd = [
            sys.executable,
            "-m",
            "kg",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--quiet",
            "--out",
            str(out),
            *args,
        ]
        self.start_seconds = start_seconds
        self.url = ""
        self.banner = ""  # the line the server printed when it started
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> KgServer:
        # stderr goes to a file: a pipe nobody reads could fill up and block the server.
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            self.cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True
        )
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if not sel.select(timeout=0.5):
                if self.proc.poll() is not None:
                    break
                continue
            line = self.proc.stdout.readline()
            if not line:
                break
            found = re.search(r"at (http://[^ ]+/) ", line)
            if found:
                self.url = found.group(1)
                self.banner = line
                return self
        self.__exit__(None, None, None)
        self.stderr.seek(0)
        raise RuntimeError(f"kg serve did not start: {self.stderr.read()}")

    def children(self) -> set[int]:
        """The server's descendant processes: its query workers (children of the loader with
        `--store shared`, of the server otherwise), the loader, multiprocessing's helper."""
        assert self.proc is not None
        found: set[int] = set()
        stack = [self.proc.pid]
        while stack:
            pid = stack.pop()
            # each thread lists the children it started (workers are restarted from a thread)
            try:
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
            except FileNotFoundError:  # ended meanwhile
                continue
            for task in tasks:
                try:
                    new = {int(p) for p in (task / "children").read_text().split()} - found
                except FileNotFoundError:  # the thread ended meanwhile
                    continue
                found |= new
                stack += new
        return found

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Listener:
    """A loopback TCP listener that records the connections it accepts and answers each like a
    web server (so that a client would read a body back): a SERVICE target that must never be
    reached. `hits` counts the connections, the listener's own probes left out.

    Whether nothing reached it is known only once every connection made so far has been
    accepted: `settle()` connects once itself and waits (with a deadline) until that probe is
    accepted. The kernel queues connections in the order they are made, so any connection made
    before the probe has been counted by then. No sleep, and no race with the accepting thread."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.peers: list[tuple[str, int]] = []  # in the order accepted
        self._probes: set[tuple[str, int]] = set()
        self._accepted = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def hits(self) -> int:
        with self._accepted:
            return sum(1 for peer in self.peers if peer not in self._probes)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with self._accepted:
                self.peers.append(peer)
                self._accepted.notify_all()
            with conn:
                conn.settimeout(0.5)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nSECRET")
                except OSError:
                    pass

    def settle(self, seconds: float = 30.0) -> int:
        """Wait until every connection made before this call has been accepted; `hits` then."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=seconds) as probe:
            me = probe.getsockname()[:2]
            with self._accepted:
                self._probes.add(me)
                if not self._accepted.wait_for(lambda: me in self.peers, timeout=seconds):
                    raise TimeoutError(f"the listener did not accept a connection in {seconds} s")
        return self.hits

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
