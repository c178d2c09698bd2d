"""`kg --help` imports no command's machinery (issue 14: the goal is under 0.2 s; the time is
measured by benchmarks/bench_cli.py, this test holds what makes it fast)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# what a command needs only when it runs: the build, the SHACL engines, rdflib, the server,
# the figures, templates, the reasoner, rich's help rendering; the readers and the store (a
# default shown in --help comes from kg.sources.endpoints, not from the reader that uses it)
HEAVY = (
    "kg.release.build",
    "kg.checks.validate",
    "kg.checks.shacl_sparql",
    "kg.checks.sparql_checks",
    "kg.checks.reason",
    "kg.serve.app",
    "kg.outputs.site",
    "kg.sources.loader",
    "kg.sources.wikidata",
    "kg.sources.hf",
    "kg.store",
    "pyshacl",
    "rdflib",
    "PIL",
    "jinja2",
    "uvicorn",
    "yaml",
    "rich",
)

LOADED = """
import contextlib, io, sys
sys.argv = ["kg", *sys.argv[1:]]
from kg.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main()
    except SystemExit:
        pass
assert "Usage: kg" in out.getvalue(), out.getvalue()
print(" ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("args", [["--help"], ["import", "--help"], ["link", "--help"]])
def test_help_imports_no_command_machinery(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], capture_output=True, text=True, check=True
    )
    loaded = set(done.stdout.split())
    heavy = sorted(m for m in HEAVY if m in loaded)
    assert not heavy, f"kg {' '.join(args)} imports {heavy}"


def test_a_command_still_finds_what_it_imports_lazily() -> None:
    """The lazily imported names resolve: `kg query --list` runs the library's parser."""
    done = subprocess.run(
        [sys.executable, "-m", "kg", "query", "--list"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "table3" in done.stdout and "lineage" in done.stdout
