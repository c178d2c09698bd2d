"""Options and error handling shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kg.errors import KgError

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

err_console = Console(stderr=True)


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
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (OSError, RuntimeError, ValueError) as exc:  # e.g. a store or file error mid-way
        kind = type(exc).__name__
        err_console.print(f"[bold red]error:[/] {kind}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def progress(console: Console) -> Callable[[str], None]:
    """A step reporter: shows steps on a terminal, stays quiet otherwise."""
    if not sys.stderr.isatty():
        return lambda _msg: None
    return lambda msg: console.print(f"[dim]… {msg}[/]")
