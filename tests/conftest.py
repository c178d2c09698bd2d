"""Shared fixtures: one real build of the project's sources per test session, and a CLI runner."""

from __future__ import annotations

import os
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


def run_kg(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `kg ARGS` and return what a subprocess would: exit code, stdout and stderr.

    In-process by default (the typer app with click's runner, the working directory and the
    environment switched for the call and restored after): the same code path as the console
    script minus the interpreter start. `process=True` runs the real command in a subprocess,
    for what only a process shows (signals, concurrency, a fresh interpreter)."""
    if process:
        return subprocess.run(
            [sys.executable, "-m", "kg", *args],
            cwd=cwd or ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    from typer.testing import CliRunner

    from kg.cli import app
    from kg.errors import KgError

    overrides: dict[str, str | None] | None = None
    if env is not None:  # the call sees exactly `env`, as a subprocess would
        overrides = {name: None for name in os.environ if name not in env}
        overrides.update(env)
    before = Path.cwd()
    os.chdir(cwd or ROOT)
    try:
        result = CliRunner().invoke(app, list(args), env=overrides, catch_exceptions=True)
    finally:
        os.chdir(before)
    code, stderr = result.exit_code, result.stderr
    error = result.exception
    if error is not None and not isinstance(error, SystemExit):
        if isinstance(error, KgError):  # as kg.cli.main reports it
            code, stderr = 2, stderr + f"error: {error}\n"
        else:  # as the interpreter would: a traceback and exit 1
            import traceback

            code = 1
            stderr += "".join(traceback.format_exception(error))
    return subprocess.CompletedProcess(["kg", *args], code, result.stdout, stderr)


def publish(target: Path, built: Built):
    """`kg publish --site-dir TARGET` of the session build, with a fixed issued date."""
    return run_kg(
        "publish",
        "--site-dir",
        str(target),
        "--issued",
        "2026-11-22",
        "--sparql",
        "https://example.org/sparql",
        "--site",
        "https://example.org/kg/",
        "--out",
        str(built.out),
    )


@pytest.fixture(scope="session")
def published(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static release of the session build (`kg publish --out`), shared by the tests that
    read it and never changed by them."""
    target = tmp_path_factory.mktemp("pub") / "site"
    proc = publish(target, built)
    assert proc.returncode == 0, proc.stderr
    return target


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
