"""`kg import tracker DIR`: bring the paper's online tracker into the curated sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import user_errors
from kg.fsutil import write_atomic
from kg.paths import resource_dir
from kg.sources.loader import load_sources
from kg.sources.tracker import IMPORT_FILE, normalise, read_tracker, to_csv
from kg.vocab.ontology import load_ontology, vocabulary

imports = typer.Typer(help="Import other sources into the curated sources.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")


@imports.command("tracker")
def tracker(
    folder: Annotated[Path, typer.Argument(help="Folder of tracker files (one .md per model).")],
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Curated sources folder to write imports/tracker.csv into "
            "(default: the project's sources/)."
        ),
    ] = None,
) -> None:
    """Read tracker files, match models to the paper's by name, write imports/tracker.csv."""
    with user_errors():
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        names: dict[str, str] = {}
        for m in src.models:
            names[normalise(m.name)] = m.id
            names[normalise(m.table3_label)] = m.id
        result = read_tracker(folder, names)
        target = root / IMPORT_FILE
        write_atomic(target, to_csv(result).encode("utf-8"))
    typer.echo(
        f"Imported {len(result.matched)} model file(s), {len(result.cells)} cells, into {target}."
    )
    for file, title in sorted(result.unmatched.items()):
        typer.echo(f"  not matched to a model of the paper: {file} (title '{title}')")
    typer.echo("Run kg build to load it; kg query source-disagreements compares the sources.")
