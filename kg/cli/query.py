"""`kg query NAME|FILE.rq [--param k=v] [--format table|csv|json]` and `kg query --list`."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import pyoxigraph as ox
import typer

from kg.cli.common import EndpointOption, OutOption, open_store, user_errors
from kg.errors import QueryError

if TYPE_CHECKING:
    from rich.console import Console

    from kg.store.base import QueryResult


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("query")(query)


def _parse_params(params: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param '{item}' must read NAME=VALUE")
        values[key.strip()] = value
    return values


def query(
    name: Annotated[
        str | None, typer.Argument(help="A query of the library (see --list) or a .rq file.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as NAME=VALUE (repeatable)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    list_: Annotated[bool, typer.Option("--list", help="List the library's queries.")] = False,
    out: OutOption = None,
    endpoint: EndpointOption = None,
) -> None:
    """Run a named query or a .rq file against the built store (or --endpoint)."""
    from rich.console import Console

    from kg.store.queries import resolve

    console = Console()
    with user_errors():
        if list_:
            _list(console)
            return
        if not name:
            raise QueryError("give a query name or a .rq file (or --list)")
        qf = resolve(name)
        opened = open_store(out, endpoint)
        prefixes = opened.base.prefixes()
        terms = qf.bindings(_parse_params(param or []), prefixes)
        result = opened.store.run(qf, terms)
        _print(result, fmt, console, prefixes)
        opened.store.close()


def _list(console: Console) -> None:
    from rich.table import Table

    from kg.store.queries import library

    table = Table("name", "title", "parameters", "columns", box=None, show_lines=False)
    for qf in library():
        params = ", ".join(p.name + ("" if p.required else "?") for p in qf.parameters)
        table.add_row(qf.name, qf.title, params, ", ".join(qf.columns))
    console.print(table)


def _print(
    result: QueryResult,
    fmt: Format,
    console: Console,
    prefixes: dict[str, str],
) -> None:
    out = sys.stdout.buffer
    if isinstance(result, ox.QueryBoolean):
        print("true" if bool(result) else "false")
        return
    if isinstance(result, ox.QueryTriples | list):  # a CONSTRUCT (a list from an endpoint)
        out.write(ox.serialize(list(result), format=ox.RdfFormat.TURTLE, prefixes=prefixes) or b"")
        return
    if fmt is Format.csv:  # formula cells neutralised, as in CSV from the server
        from kg.serve.protocol import serialize_select

        names = [v.value for v in result.variables]
        rows = ([sol[n] for n in names] for sol in result)
        out.write(serialize_select(names, rows, "csv").body)
        return
    if fmt is Format.json:
        out.write(result.serialize(format=ox.QueryResultsFormat.JSON) or b"")
        out.write(b"\n")
        return
    from rich.table import Table

    names = [v.value for v in result.variables]
    table = Table(*names, box=None)
    count = 0
    for sol in result:
        table.add_row(*(_show(sol[n], prefixes) for n in names))
        count += 1
    console.print(table)
    console.print(f"[dim]{count} row(s)[/]")


def _show(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, prefixes: dict[str, str]
) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for p, ns in sorted(prefixes.items(), key=lambda kv: -len(kv[1])):
            if term.value.startswith(ns):
                return f"{p}:{term.value[len(ns) :]}"
        return str(term) if isinstance(term, ox.Triple) else term.value
    return str(term) if isinstance(term, ox.Triple) else term.value
