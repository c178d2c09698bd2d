"""The compare view: two to five models side by side, one row per component of the common
vocabulary, each cell every source's judgment of that model (or of its variants) with its
evidence (queries/pages/model-sources.rq, the model page's "every source" table, once per
model). Its URL names the models (`compare?model=model/llama-2&model=model/mistral-7b`), so the
page's address is the comparison's permalink."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kg.outputs.pages import Link, Site, local_path
from kg.outputs.reports import COLOURS, level_key
from kg.outputs.templating import render

FEWEST, MOST = 2, 5
HERE = "compare"  # the view's path, at the site's root


@dataclass(frozen=True)
class Chosen:
    """The models a comparison asks for, as found, and what could not be found."""

    models: list[str]
    unknown: list[str]


def choose(site: Site, asked: list[str], names: dict[str, str]) -> Chosen:
    """The models named in `asked`, each by its path below the base (`model/llama-2`), its IRI,
    or its label (case-insensitive; `names` maps folded labels to IRIs); duplicates and blanks
    are dropped, the order kept."""
    models: list[str] = []
    unknown: list[str] = []
    for text in (a.strip() for a in asked):
        if not text:
            continue
        iri = None
        for candidate in (site.base + text.strip("/"), text):
            if candidate in site.out and local_path(candidate, site.base):
                iri = candidate
                break
        iri = iri or names.get(text.casefold())
        if iri is None:
            unknown.append(text)
        elif iri not in models:
            models.append(iri)
    return Chosen(models, unknown)


def comparison(site: Site, models: list[str]) -> dict[str, Any]:
    """Rows (component, one cell per model) of every source's judgments, with evidence links."""
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    positions: dict[str, int] = {}
    for model in models:
        found: dict[tuple[str, str, str, str], list[str]] = {}
        comps: dict[tuple[str, str, str, str], str] = {}
        for r in site.store.select(site.sources_q, {"model": ox.NamedNode(model)}).rows:
            component = r["component"].value
            positions.setdefault(component, int(r["position"].value))
            judgment, variant, match = (
                r[k].value if r.get(k) is not None else "" for k in ("judgment", "variant", "match")
            )
            key = (component, r["source"].value, judgment, f"{variant}|{match}")
            comps[key] = component
            links = found.setdefault(key, [])
            if r.get("evidence") is not None and r["evidence"].value not in links:
                links.append(r["evidence"].value)
        for (component, source, judgment, note), links in found.items():
            variant, match = note.split("|", 1)
            by_model = cells.setdefault(component, {})
            by_model.setdefault(model, []).append(
                {
                    "source": source,
                    "judgment": judgment or "not stated",
                    "colour": COLOURS.get(level_key(judgment), "") if judgment else "",
                    "note": ", ".join(
                        x for x in (variant, "" if match == "exactMatch" else match) if x
                    ),
                    "links": [site.link(e, HERE, f"[{i}]") for i, e in enumerate(links, 1)],
                }
            )
    columns = sorted(positions, key=positions.__getitem__)
    return {
        "models": [site.link(m, HERE) for m in models],
        "rows": [
            {"component": c, "cells": [cells.get(c, {}).get(m, []) for m in models]}
            for c in columns
        ],
    }


def page(
    site: Site, asked: list[str], names: dict[str, str], nav: list[tuple[str, str]]
) -> tuple[int, str]:
    """The compare view for the models `asked` (status 200, or 400 with the form and what is
    wrong when fewer than two or more than five models, or unknown ones, are asked for)."""
    chosen = choose(site, asked, names)
    problems = [f"no model {u!r}" for u in chosen.unknown]
    if len(chosen.models) < FEWEST:
        problems.append(f"choose at least {FEWEST} models")
    if len(chosen.models) > MOST:
        problems.append(f"choose at most {MOST} models")
    table = None if problems else comparison(site, chosen.models)
    fields = [local_path(m, site.base) or m for m in chosen.models] + list(chosen.unknown)
    fields += [""] * max(0, MOST - len(fields))
    return (
        400 if problems and asked else 200,
        render(
            "compare.html.j2",
            nav=[Link(text, path) for path, text in nav],
            problems=problems if asked else [],
            fields=fields[: max(MOST, len(fields))],
            table=table,
        ),
    )
