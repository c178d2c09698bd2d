"""`kg import …`: bring other sources into the workspace (never into the installed package)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import WorkspaceOption, user_errors, workspace_root
from kg.paths import resource_dir
from kg.sources.loader import load_sources
from kg.sources.tracker import IMPORT_FILE, normalise, read_tracker, to_csv
from kg.sources.workspace import Provenance, Workspace
from kg.vocab.ontology import load_ontology, vocabulary

imports = typer.Typer(
    help="Import other sources into the workspace (./kg-workspace or $KG_WORKSPACE).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")


@imports.command("tracker")
def tracker(
    folder: Annotated[Path, typer.Argument(help="Folder of tracker files (one .md per model).")],
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Curated sources folder to match models against (default: the project's)."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Read tracker files, match models to the paper's by name, write imports/tracker.csv
    into the workspace."""
    with user_errors():
        ws = Workspace(workspace_root(workspace))
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        names: dict[str, str] = {}
        for m in src.models:
            names[normalise(m.name)] = m.id
            names[normalise(m.table3_label)] = m.id
        result = read_tracker(folder, names)
        provenance = Provenance(
            source="tracker",
            title="The paper's online tracker",
            retrieved=dt.date.today().isoformat(),
            folder=str(folder),
            records=len(result.matched),
        )
        target = ws.write(Path(IMPORT_FILE).name, to_csv(result).encode("utf-8"), provenance)
    typer.echo(
        f"Imported {len(result.matched)} model file(s), {len(result.cells)} cells, into {target}."
    )
    for file, title in sorted(result.unmatched.items()):
        typer.echo(f"  not matched to a model of the paper: {file} (title '{title}')")
    typer.echo("Run kg build to load it; kg query source-disagreements compares the sources.")
