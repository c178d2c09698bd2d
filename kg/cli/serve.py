"""`kg serve`: a read-only SPARQL endpoint with linked-data pages over the current release."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kg.cli.common import OutOption, user_errors
from kg.errors import KgError


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def read_api_keys(path: Path) -> dict[str, str]:
    """`--api-keys FILE`: one `NAME KEY` a line (blank lines and `#` comments skipped)."""
    keys: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KgError(f"{path}: cannot read the API keys: {exc.strerror or exc}") from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.split()
        if len(fields) != 2 or len(fields[1]) < 16:
            raise KgError(f"{path}, line {number}: write NAME KEY (a key of 16 characters or more)")
        name, key = fields
        if key in keys:
            raise KgError(f"{path}, line {number}: the key of {name!r} is also {keys[key]!r}'s")
        keys[key] = name
    return keys


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
    max_bytes: Annotated[
        int, typer.Option(help="Most bytes one query's answer holds (the rest is cut).")
    ] = 20_000_000,
    workers: Annotated[
        int, typer.Option(help="Query worker processes (queries answered at the same time).")
    ] = 2,
    max_workers_per_client: Annotated[
        int,
        typer.Option(help="Workers one client (address or API key) may hold; 0: half of them."),
    ] = 0,
    reserve_worker: Annotated[
        bool,
        typer.Option(
            help="Keep the last free worker for clients that used little of them lately, so "
            "that cheap queries answer while others loop expensive ones."
        ),
    ] = True,
    api_keys: Annotated[
        Path | None,
        typer.Option(help="File of 'NAME KEY' lines: clients sending a key get their own share."),
    ] = None,
    worker_memory: Annotated[
        int,
        typer.Option(
            help="Memory (MB of address space) one query worker may use beyond the data it "
            "holds; 0: no limit."
        ),
    ] = 2048,
    public_url: Annotated[
        str | None,
        typer.Option(
            envvar="KG_PUBLIC_URL",
            help="The URL clients reach the server at (e.g. behind a proxy); absolute URLs use it.",
        ),
    ] = None,
    idle_timeout: Annotated[
        float, typer.Option(help="Seconds a connection may stay silent before it is closed.")
    ] = 30.0,
    max_connections: Annotated[
        int, typer.Option(help="Open connections at most; past it new requests get 503.")
    ] = 1000,
    store: Annotated[
        str,
        typer.Option(
            help="'shared': one copy of the data in memory, shared by the workers; 'memory': "
            "one copy per worker; 'disk': workers open the release's store."
        ),
    ] = "shared",
    allow_network_in_queries: Annotated[
        bool,
        typer.Option(
            help="UNSAFE: run queries in workers that can reach the network (SERVICE clauses "
            "then make this machine connect anywhere). Only where network isolation cannot work."
        ),
    ] = False,
    check_fully: Annotated[
        bool,
        typer.Option(
            help="Hash every file of the release and count its store's triples even if no file "
            "changed since the last full check (which finds what kept a file's size and time)."
        ),
    ] = False,
    no_text_check: Annotated[bool, typer.Option(hidden=True)] = False,  # tests of the isolation
    quiet: Annotated[bool, typer.Option(help="Do not log each request.")] = False,
    out: OutOption = None,
) -> None:
    """Serve the current release: SPARQL 1.1 Protocol at /sparql, a page and RDF per resource."""
    from kg.release.release import Release
    from kg.serve.config import ServeConfig
    from kg.serve.server import serve as run_serve

    with user_errors():
        if timeout <= 0 or max_rows < 1 or workers < 1 or worker_memory < 0 or max_bytes < 1:
            raise typer.BadParameter(
                "--timeout, --max-rows, --max-bytes and --workers must be positive, "
                "--worker-memory not negative"
            )
        if idle_timeout <= 0 or max_connections < 1 or max_workers_per_client < 0:
            raise typer.BadParameter(
                "--idle-timeout and --max-connections must be positive, "
                "--max-workers-per-client not negative"
            )
        if store not in ("shared", "memory", "disk"):
            raise typer.BadParameter("--store is 'shared', 'memory' or 'disk'")
        config = ServeConfig(
            host,
            port,
            timeout,
            max_rows,
            workers,
            quiet=quiet,
            worker_memory_mb=worker_memory,
            idle_timeout=idle_timeout,
            max_bytes=max_bytes,
            public_url=public_url,
            per_client=max_workers_per_client or None,
            api_keys=read_api_keys(api_keys) if api_keys else {},
            max_connections=max_connections,
            allow_network=allow_network_in_queries,
            text_check=not no_text_check,
            store=store,
            reserve=reserve_worker,
        )
        # a corrupt or truncated release is refused, naming the file; with --store shared the
        # triples per graph are counted in the loaded copy the workers share (much faster)
        # (decision 33: files unchanged since the last full check, or the build, are not
        # hashed again)
        release = Release.current(out).verify(store=store != "shared", fully=check_fully)
        run_serve(release.path, config)
