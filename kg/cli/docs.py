"""`kg docs`: regenerate the documentation that is derived from project files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.docs import write_docs


def register(app: typer.Typer) -> None:
    app.command("docs")(docs)


def docs(
    out: Annotated[Path, typer.Option(help="The docs folder.")] = Path("docs"),
) -> None:
    """Regenerate docs/queries.md from the query headers."""
    for path in write_docs(out):
        typer.echo(f"wrote {path}")
