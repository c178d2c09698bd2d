"""`kg validate`: exit 0 when the data conforms, 1 when it does not, 2 on an error."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg.cli.common import EndpointOption, OutOption, open_store, user_errors

if TYPE_CHECKING:
    from kg.checks.validate import ValidationReport
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
            "(default: the release's reports/validation.ttl; with --endpoint, not written "
            "unless given)."
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
    endpoint: EndpointOption = None,
) -> None:
    """Check the built graph (or the one at --endpoint) against the SHACL shapes."""
    from kg.checks.shacl_sparql import validate_release_store
    from kg.checks.validate import render_text, validate_store
    from kg.fsutil import write_atomic

    with user_errors():
        opened = open_store(out, endpoint)
        result = None
        if engine is Engine.store and endpoint is None and opened.release is not None:
            result = _in_batches(opened.release, shapes)
        if result is None:
            run = validate_release_store if engine is Engine.store else validate_store
            result = run(opened.store, opened.base.base, shapes)
        opened.store.close()
        target = report
        if target is None and endpoint is None and opened.release is not None:
            target = opened.release.reports / "validation.ttl"
        if target is not None:
            write_atomic(target, result.graph.serialize(format="turtle").encode())
    typer.echo(render_text(result), nl=False)
    if target is not None:
        typer.echo(f"Report written to {target}")
    raise typer.Exit(0 if result.conforms else 1)


def _in_batches(release: Release, shapes: Path | None) -> ValidationReport | None:
    """A large release validated from its N-Quads dump, batch by batch of models where that
    pays (decision 29), or None for a release with fewer asserted quads than a build derives
    in memory (validated on a copy of its store)."""
    from kg.checks.validate_batches import validate_dump
    from kg.release.build import SMALL_BUILD

    derived = release.base.graph("derived").value + "/"
    asserted = sum(n for g, n in release.graphs.items() if not g.startswith(derived))
    if asserted < SMALL_BUILD:
        return None
    return validate_dump(release.dumps / "dataset.nq", release.base.base, shapes)
