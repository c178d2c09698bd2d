"""Real servers for the tests: `kg serve` started as a subprocess on a free loopback port."""

from __future__ import annotations

import re
import selectors
import subprocess
import sys
import tempfile
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
        """The server's child processes (its query workers, and multiprocessing's helper)."""
        assert self.proc is not None
        # each thread lists the children it started (workers are restarted from a thread)
        found: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                found.update(int(p) for p in (task / "children").read_text().split())
            except FileNotFoundError:  # the thread ended meanwhile
                continue
        return found

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
