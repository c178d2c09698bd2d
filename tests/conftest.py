"""Shared fixtures: one real build of the project's sources per test session, and a CLI runner."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.build import BuildResult, build
from kg.paths import resource_dir

ROOT = Path(__file__).resolve().parent.parent


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
