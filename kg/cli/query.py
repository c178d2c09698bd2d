"""`kg query NAME|FILE.rq [--param k=v] [--format table|csv|json]` and `kg query --list`."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import pyoxigraph as ox
import typer

from kg.cli.common import EndpointOption, OutOption, open_store, user_errors
from kg.errors import QueryError

if TYPE_CHECKING:
    from rich.console import Console

    from kg.store.base import GraphStore, QueryResult
    from kg.store.queries import QueryFile


MAX_SPELLINGS = 3  # other spellings of one parameter tried after an empty answer
MAX_TRIES = 12  # runs of the query with other spellings, at most


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
        answer: QueryResult | Solutions = result
        if terms and isinstance(result, ox.QuerySolutions):
            answer = _answer_or_respell(opened.store, qf, terms, result)
        _print(answer, fmt, console, prefixes)
        opened.store.close()


def _answer_or_respell(
    store: GraphStore, qf: QueryFile, terms: dict[str, Any], result: ox.QuerySolutions
) -> ox.QuerySolutions | Solutions:
    """The answer of a query with parameters. When it is empty, each parameter is tried as
    the graph spells it (ignoring case and language tag: `gpt-2` as `GPT-2`, `LLaMA-2` as
    `"LLaMA-2"@en`), and the first spelling that answers is kept (said on stderr); a
    parameter that no literal or IRI of the graph spells is a QueryError."""
    variables, rows = result.variables, list(result)
    if rows:
        return Solutions(variables, rows)
    from kg.store.queries import parse_query_file, queries_dir

    spellings = parse_query_file(queries_dir() / "internal" / "spellings.rq")
    choices: list[list[tuple[str, Any]]] = []
    for name, term in terms.items():
        if not isinstance(term, ox.Literal | ox.NamedNode):
            continue
        found = [
            r["term"]
            for r in store.select(spellings, {"key": ox.Literal(term.value.lower())}).rows
            if isinstance(r["term"], type(term))
        ]
        if not found:
            raise QueryError(
                f"query '{qf.name}': parameter {name}={term.value!r} matches nothing in the "
                "graph (no literal or IRI is spelled that way, in any case)"
            )
        others = sorted(
            {str(f): f for f in found if f != term}.values(),
            key=lambda f: (f.value != term.value, str(f)),
        )
        choices.append([(name, term)] + [(name, o) for o in others[:MAX_SPELLINGS]])
    # every combination of spellings, fewest changes first, up to MAX_TRIES runs
    combos = sorted(
        itertools.product(*choices),
        key=lambda c: sum(t is not terms[n] for n, t in c),
    )
    for combo in combos[1 : MAX_TRIES + 1]:
        changed = {n: t for n, t in combo if t is not terms[n]}
        again = store.run(qf, {**terms, **changed})
        got = list(again) if isinstance(again, ox.QuerySolutions) else []
        if got and isinstance(again, ox.QuerySolutions):
            for name, other in changed.items():
                shown = other.value if isinstance(other, ox.NamedNode) else str(other)
                print(
                    f"kg query: parameter {name}={terms[name].value!r} matched as {shown} "
                    "(as the graph spells it)",
                    file=sys.stderr,
                )
            return Solutions(again.variables, got)
    return Solutions(variables, rows)


@dataclass
class Solutions:
    """A SELECT answer already read: its variables and rows."""

    variables: list[ox.Variable]
    rows: list[ox.QuerySolution]

    def __iter__(self) -> Iterator[ox.QuerySolution]:
        return iter(self.rows)


def _list(console: Console) -> None:
    from rich.table import Table

    from kg.store.queries import library

    table = Table("name", "title", "parameters", "columns", box=None, show_lines=False)
    for qf in library():
        params = ", ".join(p.name + ("" if p.required else "?") for p in qf.parameters)
        table.add_row(qf.name, qf.title, params, ", ".join(qf.columns))
    console.print(table)


def _print(
    result: QueryResult | Solutions,
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
        if isinstance(result, Solutions):
            from kg.serve.protocol import serialize_select

            names = [v.value for v in result.variables]
            out.write(serialize_select(names, ([s[n] for n in names] for s in result), "json").body)
        else:
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
