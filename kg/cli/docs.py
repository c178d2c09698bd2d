"""`kg docs`: regenerate the documentation that is derived from project files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import user_errors


def register(app: typer.Typer) -> None:
    app.command("docs")(docs)


def docs(
    out: Annotated[Path, typer.Option(help="The docs folder.")] = Path("docs"),
) -> None:
    """Regenerate docs/queries.md from the query headers."""
    from kg.outputs.docs import write_docs

    with user_errors():
        written = write_docs(out)
    for path in written:
        typer.echo(f"wrote {path}")
