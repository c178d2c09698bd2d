"""`kg check [--fail-on error|warn|info|none]`: every check of queries/checks/ on the current
release. Exit 0 when no check at or above `--fail-on` finds rows, 1 when one does, 2 on error."""

from __future__ import annotations

from typing import Annotated

import typer

from kg.checks.severity import FailOn
from kg.cli.common import EndpointOption, OutOption, open_store, user_errors


def register(app: typer.Typer) -> None:
    app.command("check")(check)


def check(
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a check of this severity or above finds rows (none: never).",
        ),
    ] = FailOn.ERROR,
    out: OutOption = None,
    endpoint: EndpointOption = None,
) -> None:
    """Run the checks (queries/checks/) and write reports/checks.{md,json} into the release
    (with --endpoint: run them on that store and write no report)."""
    from kg.checks.sparql_checks import exit_code, run_checks, summary_line, write_check_reports

    with user_errors():
        opened = open_store(out, endpoint)
        results = run_checks(opened.store)
        opened.store.close()
        written = []
        if endpoint is None and opened.release is not None:
            opened.release.reports.mkdir(exist_ok=True)
            written = write_check_reports(results, opened.release.reports, fail_on)
    for r in results:
        typer.echo(("FAIL " if r.fails(fail_on) else "     ") + summary_line(r))
    code = exit_code(results, fail_on)
    failing = sum(r.fails(fail_on) for r in results)
    typer.echo(
        f"{len(results)} checks, {sum(not r.passed for r in results)} with findings, "
        f"{failing} failing at --fail-on {fail_on.value}."
        + (" Reports: " + ", ".join(str(p) for p in written) if written else "")
    )
    raise typer.Exit(code)
