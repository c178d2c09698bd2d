"""`kg publish --site-dir DIR`: a static linked-open-data release; `kg publish --to URL`: push the
release into a remote SPARQL 1.1 store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg.cli.common import err_console, progress, user_errors
from kg.errors import KgError
from kg.outputs.upload_options import CHUNK_TRIPLES, LOCK_EXPIRY, METHODS

if TYPE_CHECKING:
    from kg.outputs.store_upload import UploadResult
    from kg.release.release import Release


def register(app: typer.Typer) -> None:
    app.command("publish")(publish)


def release_folder(path: Path | None) -> Release:
    """The release to publish: PATH is a build's output folder (its `current` release) or a
    release folder itself; by default ./output or $KG_OUTPUT."""
    from kg.release.release import Release

    if path is not None and (path / "manifest.json").is_file():
        return Release(path.resolve())
    return Release.current(path)


def publish(
    target: Annotated[
        Path | None,
        typer.Option(
            "--site-dir",
            "--dir",
            help="Folder of the static release (default: site).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Push to a SPARQL store instead: its Graph Store endpoint "
            "(Oxigraph http://host:7878/store, Fuseki http://host:3030/ds/data).",
            show_default=False,
        ),
    ] = None,
    update_url: Annotated[
        str | None,
        typer.Option(
            help="SPARQL Update endpoint (default: derived from --to).", show_default=False
        ),
    ] = None,
    query_url: Annotated[
        str | None,
        typer.Option(
            help="SPARQL Query endpoint (default: derived from --to).", show_default=False
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            metavar="gsp|update",
            help="How to upload: gsp (Graph Store Protocol PUT) or update (INSERT DATA, for "
            "stores without a Graph Store endpoint; --to is then the SPARQL endpoint).",
        ),
    ] = "gsp",
    header: Annotated[
        list[str] | None,
        typer.Option(
            metavar="'NAME: VALUE'",
            help="Extra HTTP header (repeatable), e.g. a bearer token. HTTP Basic or Digest "
            "credentials come from $KG_STORE_USER and $KG_STORE_PASSWORD (sent when the "
            "server asks; at once with KG_STORE_AUTH=basic).",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each HTTP answer.")] = 60.0,
    chunk: Annotated[
        int, typer.Option(help="Triples per INSERT DATA request (--method update).")
    ] = CHUNK_TRIPLES,
    lock_expiry: Annotated[
        float,
        typer.Option(
            help="Seconds after which another push's lock on the store is taken as left by a "
            "push that crashed, and removed."
        ),
    ] = LOCK_EXPIRY,
    issued: Annotated[
        str | None,
        typer.Option(help="Issued date for the DCAT description (YYYY-MM-DD; default today)."),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(help="Public URL the folder will be served at (default: the base IRI)."),
    ] = None,
    sparql: Annotated[str | None, typer.Option(help="Public SPARQL endpoint, if any.")] = None,
    contact: Annotated[
        str | None,
        typer.Option(
            help="How to reach the publishers (a URL or mailto: address) for the DCAT "
            "contact point (default: the site's URL).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "--release-from",
            help="Output folder of the build to publish, or a release folder "
            "(default: ./output, or $KG_OUTPUT).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a static release (dumps in six syntaxes, VoID/DCAT, pages, reports) with
    --site-dir DIR, or push the release into a SPARQL 1.1 store with --to URL."""
    with user_errors():
        release = release_folder(out).verify()  # never publish a corrupt or truncated release
        pushing = {
            "--update-url": update_url,
            "--query-url": query_url,
            "--header": header,
            "--lock-expiry": lock_expiry != LOCK_EXPIRY,
            "--method": method != "gsp",
        }
        static = {"--site-dir": target, "--issued": issued, "--site": site}
        static |= {"--sparql": sparql, "--contact": contact}
        if to is None:
            if given := [name for name, value in pushing.items() if value]:
                raise KgError(f"{', '.join(given)} only applies with --to URL")
            _publish_site(release, target, issued, site, sparql, contact)
            return
        if [name for name, value in static.items() if value]:
            raise KgError(
                "--to pushes to a store; --site-dir, --issued, --site, --sparql and --contact "
                "are for the static folder: run kg publish twice for both"
            )
        if method not in METHODS:
            raise KgError(f"unknown --method '{method}' (use {' or '.join(METHODS)})")
        from kg.outputs.store_upload import upload_release

        result = upload_release(
            release,
            to,
            update_url=update_url,
            query_url=query_url,
            method=method,
            headers=header or (),
            timeout=timeout,
            chunk_size=chunk,
            lock_expiry=lock_expiry,
            step=progress(err_console()),
        )
    typer.echo(_upload_summary(result, to))


def _publish_site(
    release: Release,
    target: Path | None,
    issued: str | None,
    site: str | None,
    sparql: str | None,
    contact: str | None,
) -> None:
    """`kg publish --site-dir DIR`: the static release."""
    from kg.outputs.site import publish as run_publish

    date = issued or dt.date.today().isoformat()
    dt.date.fromisoformat(date)
    written = run_publish(release, target or Path("site"), date, site, sparql, contact)
    typer.echo(f"Published to {written} (void.ttl, dumps/, reports/, figures/)")


def _upload_summary(result: UploadResult, to: str) -> str:
    """One line on what `kg publish --to URL` did."""
    before = (
        f"replacing release {result.previous}" if result.previous else "no release recorded before"
    )
    if result.removed:
        before += f", removing {len(result.removed)} graph(s) it had"
    if result.stale_staging or result.expired_locks:
        before += (
            f"; first emptied {result.stale_staging} staging graph(s) and removed "
            f"{result.expired_locks} expired lock(s) of pushes that did not finish"
        )
    return (
        f"Pushed release {result.build_id} to {to}: {len(result.graphs) - 1} graphs and the "
        f"release record {result.record}, {result.triples} triples ({before}); verified; "
        f"{result.requests} requests in {result.seconds:.1f} s"
    )
