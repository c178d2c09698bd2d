"""`kg validate`: exit 0 when the data conforms, 1 when it does not, 2 on an error."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kg.checks.shacl_sparql import validate_release_store
from kg.checks.validate import render_text, validate_store
from kg.cli.common import OutOption, user_errors
from kg.fsutil import write_atomic
from kg.release.release import Release


class Engine(StrEnum):
    store = "store"
    pyshacl = "pyshacl"


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)


def validate(
    out: OutOption = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Where to write the sh:ValidationReport as Turtle "
            "(default: the release's reports/validation.ttl)."
        ),
    ] = None,
    shapes: Annotated[
        Path | None, typer.Option(help="Folder of SHACL shapes (default: the project's shapes/).")
    ] = None,
    engine: Annotated[
        Engine,
        typer.Option(
            help="store: the shapes compiled to SPARQL on the store (set-wise); pyshacl: the "
            "reference engine over an rdflib copy (same results, slower)."
        ),
    ] = Engine.store,
) -> None:
    """Check the built graph against the SHACL shapes."""
    with user_errors():
        release = Release.current(out)
        run = validate_release_store if engine is Engine.store else validate_store
        result = run(release.open_store(), release.base.base, shapes)
        target = report or release.reports / "validation.ttl"
        write_atomic(target, result.graph.serialize(format="turtle").encode())
    typer.echo(render_text(result), nl=False)
    typer.echo(f"Report written to {target}")
    raise typer.Exit(0 if result.conforms else 1)
