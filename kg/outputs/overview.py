"""The home page's overview of every model and its search index, for the server and the static
release alike.

The first page of the table is HTML (it works without JavaScript); the whole table and the
search index are JSON files beside the page (`overview.json`, `search.json`), which
`templates/overview.js` reads to search, filter, sort and page in the browser, so that the
page stays light with 10,000 models. Links are made by `Site.link` (only http(s) IRIs or
relative paths), so the JSON carries nothing a browser would run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import KgError
from kg.fsutil import write_atomic
from kg.outputs.pages import Site, local_path
from kg.outputs.reports import COLOURS, level_key, solutions
from kg.paths import resource_dir
from kg.store import OxigraphStore

OVERVIEW_FILE = "overview.json"  # beside the home page
OVERVIEW_FOLDED = "overview/folded.json"  # in a release: what `Folded.write` wrote
SEARCH_FILE = "search.json"
PAGE_SIZE = 100  # rows of the table on one page
HERE = "index.html"  # the home page, at the site's root
# The filters of the table: the model's field each one selects on, and its heading.
FILTERS = (
    ("developer", "developer"),
    ("year", "year"),
    ("kind", "developer kind"),
    ("source", "source"),
    ("level", "level"),
    ("verdict", "definition verdict"),
)
# What the search box finds, by class (local name), as the results name it.
KINDS = {
    "AIModel": "model",
    "License": "license",
    "Organisation": "organisation",
    "Claim": "claim",
    "Risk": "statement",
    "Opportunity": "statement",
    "HarmPathway": "statement",
    "FramingStatement": "statement",
    "PolicyInstrument": "statement",
    "Recommendation": "statement",
}


@dataclass
class ModelRow:
    """One model in the overview: what the table shows and what the filters select on."""

    iri: str
    name: str = ""
    href: str | None = None
    aliases: set[str] = field(default_factory=set)
    developer: set[str] = field(default_factory=set)
    kind: set[str] = field(default_factory=set)
    year: set[str] = field(default_factory=set)
    source: set[str] = field(default_factory=set)
    verdicts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cells: dict[str, dict[str, str]] = field(default_factory=dict)  # component -> source -> value

    def facets(self) -> dict[str, list[str]]:
        levels = {v for by_source in self.cells.values() for v in by_source.values()}
        verdicts = {f"{d}: {v}" for d, values in self.verdicts.items() for v in values}
        return {
            "developer": sorted(self.developer),
            "year": sorted(self.year),
            "kind": sorted(self.kind),
            "source": sorted(self.source),
            "level": sorted(levels),
            "verdict": sorted(verdicts),
        }


@dataclass
class Folded:
    """What the overview's two questions say (queries/pages/overview-models.rq, search-index.rq),
    folded per resource and independent of a site's layout: the rows (no link yet), each
    component's column position, and each searchable resource's kind, label and other names.
    A build writes it into the release (`write`), so that `kg serve` starts without asking the
    questions again (decision 32)."""

    rows: list[ModelRow]
    positions: dict[str, int]
    search: dict[str, dict[str, Any]]  # iri -> {"kind", "label" (if any), "names"}

    @classmethod
    def from_store(cls, store: OxigraphStore) -> Folded:
        # the solutions are folded as they come: at 100,000 models the list of them held 2 GB
        rows: dict[str, ModelRow] = {}
        positions: dict[str, int] = {}
        for r in solutions(store, "pages/overview-models"):
            iri = r["model"]
            row = rows.setdefault(iri, ModelRow(iri))
            name, value = r["field"], r["value"]
            if not value:
                continue
            if name == "label":
                row.name = min(row.name, value) if row.name else value
            elif name == "alias":
                row.aliases.add(value)
            elif name in ("developer", "kind", "year", "source"):
                getattr(row, name).add(value)
            elif name == "verdict":
                row.verdicts[r["key"]].add(value)
            elif name == "level":
                component = r["key"]
                positions.setdefault(component, int(r["position"]))
                row.cells.setdefault(component, {})[r["source"]] = value
        search: dict[str, dict[str, Any]] = {}
        for r in solutions(store, "pages/search-index"):
            entry = search.setdefault(
                r["item"], {"kind": KINDS.get(r["kind"], "other"), "names": set()}
            )
            if r["alias"] == "true":
                entry["names"].add(r["name"])
            else:
                entry["label"] = min(entry.get("label", r["name"]), r["name"])
        return cls(list(rows.values()), positions, search)

    def write(self, path: Path) -> None:
        """One JSON document, written atomically."""
        rows = [
            {
                "iri": r.iri,
                "name": r.name,
                **{k: sorted(getattr(r, k)) for k in _SETS if getattr(r, k)},
                **(
                    {"verdicts": {d: sorted(v) for d, v in r.verdicts.items()}}
                    if r.verdicts
                    else {}
                ),
                **({"cells": r.cells} if r.cells else {}),
            }
            for r in self.rows
        ]
        search = {iri: {**e, "names": sorted(e["names"])} for iri, e in sorted(self.search.items())}
        doc = {
            "version": folded_version(),
            "rows": rows,
            "positions": self.positions,
            "search": search,
        }
        write_atomic(path, json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())

    @classmethod
    def read(cls, path: Path) -> Folded | None:
        """The document `write` wrote, or None when it is missing or of another version (the
        caller then asks the questions). A file that is not such a document is an error naming
        it (the release's manifest lists it, so it was damaged after the build)."""
        try:
            doc = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise KgError(f"{path} is not the JSON the build wrote ({exc}); rebuild") from None
        if not isinstance(doc, dict) or doc.get("version") != folded_version():
            return None
        rows = []
        for r in doc["rows"]:
            row = ModelRow(r["iri"], r["name"], cells=r.get("cells", {}))
            for k in _SETS:
                getattr(row, k).update(r.get(k, ()))
            for d, values in r.get("verdicts", {}).items():
                row.verdicts[d].update(values)
            rows.append(row)
        search = {iri: {**e, "names": set(e["names"])} for iri, e in doc["search"].items()}
        return cls(rows, dict(doc["positions"]), search)


FOLDED_VERSION = 1  # the layout of the file; the questions' texts are part of the version too
_SETS = ("aliases", "developer", "kind", "year", "source")


@functools.cache
def folded_version() -> str:
    """The folded file's layout and the texts of the two questions it answers: a release folded
    by other questions (an older or newer kg) is served by asking this kg's questions."""
    digest = hashlib.sha256()
    for name in ("overview-models.rq", "search-index.rq"):
        digest.update((resource_dir("queries") / "pages" / name).read_bytes())
    return f"{FOLDED_VERSION}-{digest.hexdigest()[:16]}"


class Overview:
    """Every model of the graph (`gao:AIModel`, from every source) with its facts, and every
    searchable resource with its names, as one site links them: from the overview's questions
    (`Folded.from_store`), or from what a build folded already (`folded`)."""

    def __init__(self, site: Site, folded: Folded | None = None) -> None:
        folded = folded or Folded.from_store(site.store)
        self.site = site
        for row in folded.rows:
            row.name = row.name or site.short(row.iri)
            row.href = site.link(row.iri, HERE, row.name).href
        self.columns = sorted(folded.positions, key=folded.positions.__getitem__)
        self.rows = sorted(folded.rows, key=lambda m: (m.name.casefold(), m.iri))
        self.definitions = sorted({d for m in self.rows for d in m.verdicts})
        self._search = folded.search

    def cell(self, row: ModelRow, component: str) -> dict[str, str]:
        """One coloured cell: the level (several sources that differ: each, the first's
        colour), and which source says what, for the cell's title."""
        by_source = row.cells.get(component, {})
        values = list(dict.fromkeys(by_source[s] for s in sorted(by_source)))
        first = values[0] if values else ""
        return {
            "value": " / ".join(values),
            "colour": COLOURS.get(level_key(first), "#fff") if first else "#fff",
            "title": "; ".join(f"{s}: {v}" for s, v in sorted(by_source.items())),
        }

    def view(self, selection: Selection | None = None) -> dict[str, Any] | None:
        """What the home page's template shows: the columns, one page of the rows the
        selection keeps (the first page of every model by default), the filters with their
        options, the search's other finds, the counts (None when there is no model)."""
        if not self.rows:
            return None
        chosen = selection or Selection()
        kept = [r for r in self.rows if chosen.matches(r)] if selection else self.rows
        last = pages(len(kept))
        page = min(chosen.page, last)
        shown = kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        found = search(self.search_entries, chosen.text, 20) if chosen.text else []
        options: dict[str, set[str]] = defaultdict(set)
        for row in self.rows:
            for name, values in row.facets().items():
                options[name].update(values)
        return {
            "columns": self.columns,
            "definitions": self.definitions,
            "rows": [self.table_row(row) for row in shown],
            "total": len(self.rows),
            "kept": len(kept),
            "page": page,
            "pages": last,
            "page_size": PAGE_SIZE,
            "selection": {"q": chosen.text, **dict(chosen.filters)},
            "prev": chosen.query(page - 1),
            "next": chosen.query(page + 1),
            "found": found,
            "filters": [
                {
                    "name": name,
                    "title": title,
                    "options": sorted(options[name], key=_natural, reverse=name == "year"),
                }
                for name, title in FILTERS
                if options[name]
            ],
        }

    def table_row(self, row: ModelRow) -> dict[str, Any]:
        return {
            "name": row.name,
            "href": row.href,
            "key": local_path(row.iri, self.site.base) or row.iri,
            "developer": ", ".join(sorted(row.developer)),
            "year": ", ".join(sorted(row.year)),
            "cells": [self.cell(row, c) for c in self.columns],
            "verdicts": [", ".join(sorted(row.verdicts.get(d, ()))) for d in self.definitions],
        }

    def data(self) -> bytes:
        """overview.json: every row, compactly: `sources` and `colours` once, then per model
        its name, link, path, aliases, developer and year, per component each source's
        judgment (`[source index, value]`), per definition its verdicts, and the values the
        developer, year, kind and source filters select on (overview.js draws the rows)."""
        sources = sorted({s for row in self.rows for s in row.source} | self._cell_sources())
        index = {s: i for i, s in enumerate(sources)}
        levels = sorted({v for row in self.rows for c in row.cells.values() for v in c.values()})
        models = []
        for row in self.rows:
            models.append(
                {
                    "n": row.name,
                    "h": row.href,
                    "k": local_path(row.iri, self.site.base) or row.iri,
                    "a": sorted(row.aliases),
                    "d": ", ".join(sorted(row.developer)),
                    "y": ", ".join(sorted(row.year)),
                    "c": [
                        [[index[s], v] for s, v in sorted(row.cells.get(c, {}).items())]
                        for c in self.columns
                    ],
                    "v": [sorted(row.verdicts.get(d, ())) for d in self.definitions],
                    "f": {
                        "developer": sorted(row.developer),
                        "year": sorted(row.year),
                        "kind": sorted(row.kind),
                        "source": sorted(index[s] for s in row.source),
                    },
                }
            )
        doc = {
            "columns": self.columns,
            "definitions": self.definitions,
            "sources": sources,
            "colours": {v: COLOURS.get(level_key(v), "#fff") for v in levels},
            "models": models,
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()

    def _cell_sources(self) -> set[str]:
        return {s for row in self.rows for c in row.cells.values() for s in c}

    def entries(self) -> list[dict[str, Any]]:
        """What the search box finds: each resource once, with its label, aliases and kind."""
        out = []
        for iri, entry in sorted(self._search.items()):
            label = entry.get("label") or self.site.short(iri)
            link = self.site.link(iri, HERE, label)
            out.append(
                {
                    "label": label,
                    "href": link.href,
                    "kind": entry["kind"],
                    "aliases": sorted(entry["names"] - {label}),
                }
            )
        return out

    @functools.cached_property
    def search_entries(self) -> list[dict[str, Any]]:
        return self.entries()

    def search_data(self) -> bytes:
        """search.json: [label, link, kind, aliases] per resource."""
        doc = [[e["label"], e["href"], e["kind"], e["aliases"]] for e in self.search_entries]
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def write_home(
    site: Site, folder: Path, links: list[tuple[str, str]], folded: Folded | None = None
) -> Overview:
    """The static release's home page with the overview's data beside it (`index.html`,
    overview.json, search.json in `folder`), from the release's `folded` answers if given."""
    overview = Overview(site, folded)
    (folder / "index.html").write_text(site.index(links, overview.view()), encoding="utf-8")
    (folder / OVERVIEW_FILE).write_bytes(overview.data())
    (folder / SEARCH_FILE).write_bytes(overview.search_data())
    return overview


def search(entries: list[dict[str, Any]], text: str, limit: int = 100) -> list[dict[str, Any]]:
    """The entries whose label or an alias holds every word of `text` (case-insensitive),
    those whose label starts with the text first: the same rule as overview.js."""
    words = text.casefold().split()
    if not words:
        return []
    hits = []
    for e in entries:
        names = [e["label"], *e["aliases"]]
        hay = " ".join(names).casefold()
        if all(w in hay for w in words):
            rank = 0 if e["label"].casefold().startswith(text.casefold().strip()) else 1
            hits.append((rank, e["label"].casefold(), e))
    hits.sort(key=lambda h: (h[0], h[1]))
    return [e for _r, _l, e in hits[:limit]]


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (0, text.casefold())


@dataclass(frozen=True)
class Selection:
    """What a reader asked of the table: search words, one value per filter, a page."""

    text: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    page: int = 1

    @classmethod
    def from_params(cls, params: dict[str, list[str]]) -> Selection:
        """From the home page's query string (`?q=llama&developer=Meta&page=2`); unknown
        names and empty values are ignored, a page that is not a positive number is 1."""

        def one(name: str) -> str:
            return (params.get(name) or [""])[0].strip()

        page = one("page")
        return cls(
            one("q")[:200],
            tuple((name, one(name)) for name, _t in FILTERS if one(name)),
            int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1,
        )

    def query(self, page: int) -> str:
        """The query string of this selection at another page."""
        params = [("q", self.text)] if self.text else []
        return urllib.parse.urlencode([*params, *self.filters, ("page", str(page))])

    def matches(self, row: ModelRow) -> bool:
        """The rule overview.js applies: every search word in the name, an alias or the
        developer (case-insensitive), and every filter's value among the model's."""
        hay = " ".join([row.name, *sorted(row.aliases), *sorted(row.developer)]).casefold()
        if not all(w in hay for w in self.text.casefold().split()):
            return False
        facets = row.facets()
        return all(value in facets[name] for name, value in self.filters)


def pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))
