"""`kg explain MODEL`: each openness definition's verdict on a model, condition by condition,
with the facts each check used and where they come from."""

from __future__ import annotations

import json
from collections import OrderedDict
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import pyoxigraph as ox
import typer

from kg.cli.common import OutOption, user_errors
from kg.errors import KgError
from kg.paths import resource_dir

if TYPE_CHECKING:  # imported where used: `kg --help` stays quick
    from rich.console import Console

    from kg.store.oxigraph import OxigraphStore
    from kg.vocab.namespaces import Base

MARK = {"met": "✓", "failed": "✗", "undetermined": "?", "undecidable from public data": "~"}


class Format(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)


def explain(
    model: Annotated[str, typer.Argument(help="A model: its name, slug or IRI.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    out: OutOption = None,
) -> None:
    """Why a model is or is not open under each definition, with the evidence."""
    from rich.console import Console

    from kg.release.release import Release
    from kg.store.queries import resolve

    console = Console(highlight=False)
    with user_errors():
        release = Release.current(out)
        base = release.base
        store = release.open_store()
        iri, label = find_model(store, base, model)
        result = store.select(resolve("explain"), {"model": iri})
        report = build_report(iri, label, result.rows)
    if fmt == Format.json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    print_report(console, report)


def find_model(store: OxigraphStore, base: Base, name: str) -> tuple[ox.NamedNode, str]:
    """The one model a name, slug or IRI denotes; an unknown or ambiguous name is an error."""
    from kg.store.queries import parse_query_file

    query = parse_query_file(resource_dir("queries") / "internal" / "model-names.rq")
    wanted = name.strip().casefold()
    prefix = base.base + "model/"
    found: dict[str, tuple[ox.NamedNode, str]] = {}
    for row in store.select(query).rows:
        iri, label = row["model"], row["label"].value
        keys = {label.casefold(), iri.value.casefold(), iri.value.removeprefix(prefix).casefold()}
        if wanted in keys:
            found.setdefault(iri.value, (iri, label))
    if not found:
        raise KgError(
            f"no model named '{name}' (give its name as `kg query models` lists it, or its slug)"
        )
    if len(found) > 1:
        options = ", ".join(sorted(iri.removeprefix(prefix) for iri in found))
        raise KgError(f"'{name}' names several models ({options}): give the slug")
    return next(iter(found.values()))


def _v(row: dict[str, Any], key: str) -> str | None:
    term = row.get(key)
    return None if term is None else term.value


def build_report(iri: ox.NamedNode, label: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The explain rows grouped: definition -> condition -> checks."""
    definitions: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for row in rows:
        name = _v(row, "definition") or ""
        d = definitions.setdefault(
            name,
            {
                "definition": name,
                "version": _v(row, "version"),
                "verdict": _v(row, "verdict"),
                "conditions": OrderedDict(),
            },
        )
        cname = _v(row, "condition") or ""
        c = d["conditions"].setdefault(
            cname,
            {
                "condition": cname,
                "outcome": _v(row, "outcome"),
                "fraction": _v(row, "fraction"),
                "checks": [],
            },
        )
        check = {
            "found": _v(row, "check"),
            "outcome": _v(row, "check_outcome"),
            "fact": _v(row, "fact"),
            "source": _v(row, "source"),
            "record": _v(row, "record"),
        }
        if check["found"] and check not in c["checks"]:
            c["checks"].append(check)
    return {
        "model": iri.value,
        "label": label,
        "definitions": [
            {**d, "conditions": list(d["conditions"].values())} for d in definitions.values()
        ],
    }


def print_report(console: Console, report: dict[str, Any]) -> None:
    console.print(f"[bold]{report['label']}[/] <{report['model']}>")
    if not report["definitions"]:
        console.print("No definition has a verdict for this model (no assessments).")
    for d in report["definitions"]:
        version = f" {d['version']}" if d["version"] else ""
        console.print(f"\n[bold]{d['definition']}[/]{version}: [bold]{d['verdict'] or '—'}[/]")
        for c in d["conditions"]:
            fraction = f" ({float(c['fraction']):.0%} met)" if c["fraction"] else ""
            mark = MARK.get(c["outcome"] or "", " ")
            console.print(f"  {mark} {c['condition']}: {c['outcome']}{fraction}")
            for k in c["checks"]:
                console.print(f"      {MARK.get(k['outcome'] or '', ' ')} {k['found']}")
                where = " · ".join(x for x in (k["source"], k["record"]) if x)
                if k["fact"]:
                    console.print(f"        [dim]{k['fact']}{' · ' + where if where else ''}[/]")
