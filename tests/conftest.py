"""Shared fixtures: one real build of the project's sources per test session, and a CLI runner."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.paths import resource_dir
from kg.release.build import BuildResult, build

ROOT = Path(__file__).resolve().parent.parent
# Table 1's five permission columns, in the paper's order.
CRITERIA = (
    "research",
    "commercial",
    "modify",
    "copyright_derivative",
    "other_license_derivative",
)
OXIGRAPH = Path(sys.executable).parent / "oxigraph"  # the server (PyPI package oxigraph)


@dataclass
class Built:
    out: Path
    result: BuildResult


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("build") / "output"
    return Built(out, build(out))


@pytest.fixture(scope="session")
def sources_dir() -> Path:
    return resource_dir("sources")


def run_kg(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
    """Run the real `kg` command in a subprocess and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def query_rows(out: Path, *args: str) -> list[dict[str, str]]:
    """`kg query ARGS --format csv` on the build in `out`, as rows keyed by column."""
    import csv
    import io

    proc = run_kg("query", *args, "--format", "csv", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return list(csv.DictReader(io.StringIO(proc.stdout)))


def free_port() -> int:
    """A TCP port on loopback that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    """Wait until the server process `proc` listens on `port`."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")
