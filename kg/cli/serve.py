"""`kg serve`: a read-only SPARQL endpoint with linked-data pages over the current release."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.cli.common import OutOption, user_errors
from kg.release.release import Release
from kg.serve.app import ServeConfig
from kg.serve.app import serve as run_serve


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    timeout: Annotated[
        float,
        typer.Option(help="Time limit of one query, in seconds; past it the query is stopped."),
    ] = 10.0,
    max_rows: Annotated[
        int, typer.Option(help="Most result rows (or triples) one query returns.")
    ] = 10_000,
    workers: Annotated[
        int, typer.Option(help="Query worker processes (queries answered at the same time).")
    ] = 2,
    worker_memory: Annotated[
        int,
        typer.Option(help="Memory (MB of address space) one query worker may use; 0: no limit."),
    ] = 2048,
    quiet: Annotated[bool, typer.Option(help="Do not log each request.")] = False,
    out: OutOption = None,
) -> None:
    """Serve the current release: SPARQL 1.1 Protocol at /sparql, a page and RDF per resource."""
    with user_errors():
        if timeout <= 0 or max_rows < 1 or workers < 1 or worker_memory < 0:
            raise typer.BadParameter(
                "--timeout, --max-rows and --workers must be positive, --worker-memory not negative"
            )
        config = ServeConfig(
            host, port, timeout, max_rows, workers, quiet=quiet, worker_memory_mb=worker_memory
        )
        run_serve(Release.current(out).path, config)
