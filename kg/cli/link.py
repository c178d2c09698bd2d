"""`kg link wikidata`: candidate Wikidata items for the models and organisations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import WorkspaceOption, user_errors, workspace_root
from kg.paths import resource_dir
from kg.sources.endpoints import WIKIDATA_SPARQL

links = typer.Typer(
    help="Link the graph to external datasets.", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    app.add_typer(links, name="link")


@links.command("wikidata")
def wikidata(
    endpoint: Annotated[
        str, typer.Option(envvar="KG_WIKIDATA_ENDPOINT", help="SPARQL endpoint.")
    ] = WIKIDATA_SPARQL,
    cache: Annotated[Path, typer.Option(help="Folder of cached answers.")] = Path(
        ".kg-cache/wikidata"
    ),
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 30.0,
    retries: Annotated[int, typer.Option(help="Retries after a failed request.")] = 3,
    offline: Annotated[bool, typer.Option(help="Use only cached answers.")] = False,
    sources: Annotated[
        Path | None, typer.Option(help="Curated sources folder whose names are looked up.")
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Look up every model and organisation; accept single exact matches, list the rest."""
    from kg.fsutil import write_atomic
    from kg.sources.loader import load_sources
    from kg.sources.wikidata import LINK_FILE, WikidataEndpoint, link, to_csv
    from kg.sources.workspace import Workspace
    from kg.vocab.ontology import load_ontology, vocabulary

    with user_errors():
        ws = Workspace(workspace_root(workspace))
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        names = [("organisation", o.id, o.name) for o in src.organisations]
        names += [("model", m.id, m.name) for m in src.models]
        client = WikidataEndpoint(
            endpoint, cache, timeout=timeout, retries=retries, offline=offline
        )
        rows = link(names, client, dt.date.today().isoformat())
        target = ws.root / LINK_FILE
        write_atomic(target, to_csv(rows).encode("utf-8"))
    accepted = [r for r in rows if r.status == "accepted"]
    typer.echo(f"{len(accepted)} of {len(rows)} names linked; written to {target}")
    for r in rows:
        if r.status != "accepted":
            typer.echo(
                f"  {r.status}: {r.kind} {r.name}" + (f" -> {r.candidates}" if r.candidates else "")
            )
    typer.echo("Run kg build to load the links; kg query wikidata-differences lists findings.")
