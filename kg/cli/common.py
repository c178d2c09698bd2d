"""Options and error handling shared by the commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg.errors import KgError

if TYPE_CHECKING:
    from rich.console import Console

    from kg.release.release import Release
    from kg.store.base import GraphStore
    from kg.vocab.namespaces import Base

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Output folder of the build (default: ./output, or $KG_OUTPUT).",
        show_default=False,
    ),
]

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        help="Workspace folder that imports are written to and read from "
        "(default: ./kg-workspace, or $KG_WORKSPACE).",
        show_default=False,
    ),
]


@cache
def err_console() -> Console:
    """The console that messages and progress go to (stderr), made on first use: importing rich
    is a good part of a command's start-up time."""
    from rich.console import Console

    return Console(stderr=True)


def workspace_root(option: Path | None) -> Path:
    """The workspace the user chose (option, then $KG_WORKSPACE, then ./kg-workspace)."""
    from kg.sources.workspace import default_workspace

    return option if option is not None else default_workspace()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a KgError into one readable line on stderr and exit code 2."""
    try:
        yield
    except KgError as exc:
        err_console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (OSError, RuntimeError, ValueError) as exc:  # e.g. a store or file error mid-way
        kind = type(exc).__name__
        err_console().print(f"[bold red]error:[/] {kind}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def progress(console: Console) -> Callable[[str], None]:
    """A step reporter: shows steps on a terminal, stays quiet otherwise."""
    if not sys.stderr.isatty():
        return lambda _msg: None
    return lambda msg: console.print(f"[dim]… {msg}[/]")


EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Run against this SPARQL 1.1 query endpoint (for example a store filled by "
        "'kg publish --to') instead of the built store.",
        show_default=False,
    ),
]


@dataclass
class OpenStore:
    """The store a command reads: the built release's, or a SPARQL endpoint's (`--endpoint`).
    `release` is the local release, if there is one (its base names the graphs to read)."""

    store: GraphStore
    base: Base
    release: Release | None


def open_store(out: Path | None, endpoint: str | None) -> OpenStore:
    """The release's embedded store, or with `endpoint` the release's graphs at that endpoint
    (under the local release's base if there is one, else `$KG_BASE` or the default base)."""
    from kg.release.release import Release
    from kg.store.endpoint import EndpointStore
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    try:
        release: Release | None = Release.current(out)
    except KgError:
        if endpoint is None:
            raise
        release = None
    if endpoint is None:
        assert release is not None
        return OpenStore(release.open_store(), release.base, release)
    base = release.base if release else Base(os.environ.get("KG_BASE") or DEFAULT_BASE)
    return OpenStore(EndpointStore(endpoint, base=base.base), base, release)
