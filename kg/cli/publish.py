"""`kg publish --out DIR`: a static linked-open-data release."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from kg.build import current_release
from kg.cli.common import OutOption, user_errors
from kg.publish import publish as run_publish


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)


def publish(
    target: Annotated[
        Path, typer.Option("--to-dir", "--dir", help="Folder of the static release.")
    ] = Path("site"),
    issued: Annotated[
        str | None,
        typer.Option(help="Issued date for the DCAT description (YYYY-MM-DD; default today)."),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(help="Public URL the folder will be served at (default: the base IRI)."),
    ] = None,
    sparql: Annotated[str | None, typer.Option(help="Public SPARQL endpoint, if any.")] = None,
    out: OutOption = None,
) -> None:
    """Write dumps (TriG, N-Quads, N-Triples.gz, Turtle, JSON-LD, RDF/XML), VoID/DCAT, reports."""
    with user_errors():
        date = issued or dt.date.today().isoformat()
        dt.date.fromisoformat(date)
        written = run_publish(current_release(out), target, date, site, sparql)
    typer.echo(f"Published to {written} (void.ttl, dumps/, reports/, figures/)")
