"""`kg build`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import (
    OutOption,
    WorkspaceOption,
    err_console,
    progress,
    user_errors,
    workspace_root,
)
from kg.vocab.namespaces import DEFAULT_BASE


def register(app: typer.Typer) -> None:
    app.command("build")(build)


def build(
    out: OutOption = None,
    sources: Annotated[
        Path | None,
        typer.Option(help="Folder of curated sources (default: the project's sources/)."),
    ] = None,
    base: Annotated[
        str, typer.Option(envvar="KG_BASE", help="Base IRI for instance IRIs.")
    ] = DEFAULT_BASE,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait",
            help="When another build is writing to the same output folder, wait for it "
            "(default) or exit with code 2 at once.",
        ),
    ] = True,
    workspace: WorkspaceOption = None,
) -> None:
    """Build the graph from the ontology and curated sources into the embedded store."""
    from rich.console import Console

    from kg.release.build import build as run_build
    from kg.release.release import default_output

    console = Console(soft_wrap=True, highlight=False)
    with user_errors():
        result = run_build(
            out,
            sources,
            base,
            step=progress(err_console()),
            workspace=workspace_root(workspace),
            wait=wait,
            notice=lambda msg: err_console().print(msg, highlight=False, soft_wrap=True),
        )
    counts = result.counts
    console.print(
        f"Built release [bold]{result.build_id}[/]"
        + (" (unchanged: same content as an existing release)" if result.reused else "")
    )
    console.print(
        f"  {counts.get('AIModel', 0)} models, {counts.get('ComponentAssessment', 0)} component "
        f"assessments, {counts.get('LicenseEvaluation', 0)} license evaluations (Table 1), "
        f"{counts.get('License', 0) + counts.get('AccessStatement', 0)} licenses, "
        f"{counts.get('Organisation', 0)} organisations"
    )
    console.print(f"  {result.triples} triples in {len(result.graphs)} named graphs")
    release = result.release
    out_dir = out or default_output()
    console.print(f"  store: {out_dir / 'current' / 'store'}  (-> {release / 'store'})")
    for dump in result.dumps:
        console.print(f"  dump:  {out_dir / 'current' / 'dumps' / dump.name}")
    console.print(f"  consistency report: {out_dir / 'current' / 'reports' / 'errata.md'}")
    console.print(
        f"  figures: {out_dir / 'current' / 'figures'}/"
        " (figure4, table3-heatmap, definitions, coverage; png, svg)"
    )
    console.print("Next: kg validate · kg reason · kg query errata · kg query --list")
