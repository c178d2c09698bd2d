"""HTML pages, one per resource under the base IRI, for the static release (and later the server).

A page shows the resource's label and types, every statement about it (grouped by property,
with the named graph it comes from), the resources that point to it, links to its RDF
(Turtle and N-Triples files beside the page), and a section by kind: a model's twelve-component
openness profile as a coloured table, a license evaluation's permissions and score, a claim's or
statement's evidence for and against.
"""

from __future__ import annotations

from abc import abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyoxigraph as ox

from kg.outputs.reports import COLOURS, level_key
from kg.outputs.templating import render
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import GAO, RDF, RDFS, Base


class BadgeSection(Protocol):
    """What a model's page shows of its badge (kg.outputs.badges.Badges)."""

    def view(self, model: str, here: str) -> BadgeView | None: ...

    def definition_view(self, model: str, definition: str, here: str) -> BadgeView | None: ...


LABEL = RDFS + "label"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
# The RDF variants beside each page: file extension -> (pyoxigraph format, media type, name).
VARIANTS: dict[str, tuple[ox.RdfFormat, str, str]] = {
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle", "Turtle"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples", "N-Triples"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json", "JSON-LD"),
    "rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml", "RDF/XML"),
}


@dataclass(frozen=True)
class Link:
    """A link for a template: `href` None shows `text` as code (an IRI not to follow)."""

    text: str
    href: str | None


# The kinds whose pages show the works they cite, and the kinds the home page lists.
STATEMENT_KINDS = (
    "Claim",
    "Risk",
    "Opportunity",
    "HarmPathway",
    "FramingStatement",
    "PolicyInstrument",
    "Recommendation",
)
INDEX_KINDS = (
    "license",
    "license-evaluation",
    "statement",
    "claim",
    "recommendation",
    "regulation",
    "organisation",
)

# A value on a page: a link, a literal's text, or None for a blank node (a structure).
Term = Link | str | None


@dataclass(frozen=True)
class BadgeView:
    """What a model's page shows of its badge: the image's URL and the snippets to copy."""

    image: str
    snippets: dict[str, str]


def local_path(iri: str, base: str) -> str | None:
    """The IRI's path below the base (`model/llama-2`), or None for IRIs outside the base, the
    base itself and hash or query IRIs."""
    if not iri.startswith(base) or iri == base:
        return None
    local = iri[len(base) :]
    if "#" in local or "?" in local or local.endswith("/"):
        return None
    return local


def page_path(iri: str, base: str) -> str | None:
    """The page's path relative to the server's root (`model/llama-2.html`), or None for IRIs
    outside the base."""
    local = local_path(iri, base)
    return None if local is None else local + ".html"


def folder_page_path(iri: str, base: str) -> str | None:
    """The page's path in the static release (`model/llama-2/index.html`): a folder per
    resource, so that any static host serves the page at the resource's own path."""
    local = local_path(iri, base)
    return None if local is None else local + "/index.html"


def _index(
    store: OxigraphStore,
) -> tuple[dict[str, str], dict[str, list[ox.Quad]], dict[str, set[tuple[str, str]]]]:
    """Every quad indexed in Python: labels, statements by subject, links by object."""
    labels: dict[str, str] = {}
    out: dict[str, list[ox.Quad]] = defaultdict(list)
    incoming: dict[str, set[tuple[str, str]]] = defaultdict(set)
    pref: dict[str, str] = {}
    for q in store.quads():
        s = q.subject
        if isinstance(s, ox.NamedNode):
            out[s.value].append(q)
            if q.predicate.value == LABEL and s.value not in labels:
                labels[s.value] = _value(q.object)
            elif q.predicate.value == PREF_LABEL:
                pref.setdefault(s.value, _value(q.object))
        if isinstance(q.object, ox.NamedNode) and isinstance(s, ox.NamedNode):
            incoming[q.object.value].add((s.value, q.predicate.value))
    for iri, text in pref.items():  # SKOS concepts (levels, stages, categories) by prefLabel
        labels.setdefault(iri, text)
    return labels, out, incoming


def _node(iri: str) -> ox.NamedNode | None:
    try:
        return ox.NamedNode(iri)
    except ValueError:  # not an IRI (e.g. from a request's path): nothing is said about it
        return None


class _Lookup(Mapping[str, Any]):
    """A read-only mapping from IRIs whose values are read from the store when asked, the last
    few kept. Iterating it is not offered (that is the eager index's job)."""

    def __init__(self, store: OxigraphStore, size: int = 4096) -> None:
        self.store = store
        self._cache: dict[str, Any] = {}
        self._size = size

    @abstractmethod
    def _fetch(self, node: ox.NamedNode) -> Any:
        """The value for `node`, read from the store."""

    def _found(self, value: Any) -> bool:
        return bool(value)

    def _get(self, iri: str) -> Any:
        if iri in self._cache:
            return self._cache[iri]
        node = _node(iri)
        value = None if node is None else self._fetch(node)
        if len(self._cache) >= self._size:
            self._cache.clear()
        self._cache[iri] = value
        return value

    def __getitem__(self, iri: str) -> Any:
        value = self._get(iri)
        if not self._found(value):
            raise KeyError(iri)
        return value

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self._found(self._get(iri))

    def __iter__(self) -> Iterator[str]:
        raise TypeError("a store-backed index cannot be listed")

    def __len__(self) -> int:
        raise TypeError("a store-backed index cannot be counted")


class _Statements(_Lookup):
    """IRI -> the quads it is the subject of (an empty list for none, as the eager index)."""

    def _fetch(self, node: ox.NamedNode) -> list[ox.Quad]:
        return list(self.store.quads_about(subject=node))

    def __getitem__(self, iri: str) -> list[ox.Quad]:
        return self._get(iri) or []

    def __contains__(self, iri: object) -> bool:
        """Whether anything is said of `iri`: one look-up, not its statements (a link to every
        model of the overview asks this of each)."""
        if not isinstance(iri, str):
            return False
        if iri in self._cache:
            return self._found(self._cache[iri])
        node = _node(iri)
        return node is not None and next(self.store.quads_about(subject=node), None) is not None


class _Incoming(_Lookup):
    """IRI -> (subject, predicate) of the statements pointing at it."""

    def _fetch(self, node: ox.NamedNode) -> set[tuple[str, str]]:
        return {
            (q.subject.value, q.predicate.value)
            for q in self.store.quads_about(obj=node)
            if isinstance(q.subject, ox.NamedNode)
        }


class _Labels(_Lookup):
    """IRI -> its rdfs:label, else its skos:prefLabel (the first in the store's order)."""

    def _fetch(self, node: ox.NamedNode) -> str | None:
        pref = None
        for q in self.store.quads_about(subject=node):
            if q.predicate.value == LABEL:
                return _value(q.object)
            if q.predicate.value == PREF_LABEL and pref is None:
                pref = _value(q.object)
        return pref

    def _found(self, value: Any) -> bool:
        return value is not None


def _lazy_index(store: OxigraphStore) -> tuple[_Labels, _Statements, _Incoming]:
    return _Labels(store), _Statements(store), _Incoming(store)


class Site:
    """Renders the pages. `nav` adds links (path from the site root, text) to every page's
    navigation bar, e.g. the query page when the site is served by `kg serve`. `folders`: the
    static release's layout (`model/llama-2/index.html` beside `index.ttl`, …) instead of the
    server's (`model/llama-2.html` beside `llama-2.ttl`). `lazy`: look each resource's
    statements, label and incoming links up in the store when a page needs them (`kg serve`:
    start-up time and memory independent of the data's size) rather than index every quad in
    Python first (`kg publish`, which renders every page)."""

    def __init__(
        self,
        store: OxigraphStore,
        base: Base,
        nav: list[tuple[str, str]] | None = None,
        *,
        folders: bool = False,
        badges: BadgeSection | None = None,
        lazy: bool = False,
    ) -> None:
        self.store = store
        self.base = base.base
        self.nav = nav or []
        self.folders = folders
        self.badges = badges
        self.labels: Mapping[str, str]
        self.out: Mapping[str, list[ox.Quad]]
        self.incoming: Mapping[str, set[tuple[str, str]]]
        if lazy:
            self.labels, self.out, self.incoming = _lazy_index(store)
        else:
            self.labels, self.out, self.incoming = _index(store)
        folder = resource_dir("queries") / "pages"
        self.profile_q = parse_query_file(folder / "model-profile.rq")
        self.evidence_q = parse_query_file(folder / "evidence.rq")
        self.classes_q = parse_query_file(folder / "model-derived-classes.rq")
        self.stages_q = parse_query_file(folder / "model-stage-profiles.rq")
        self.sources_q = parse_query_file(folder / "model-sources.rq")
        self.index_q = parse_query_file(folder / "index-resources.rq")
        self.explain_q = parse_query_file(resource_dir("queries") / "explain.rq")
        self.prefixes = base.prefixes()

    def subjects(self) -> list[str]:
        """The resources with a page; for a lazy site, only those the home page lists by kind
        (queries/pages/index-resources.rq), not every resource."""
        if isinstance(self.out, _Lookup):
            rows = self.store.select(self.index_q).rows
            found = {r["resource"].value for r in rows}
            return sorted(s for s in found if page_path(s, self.base))
        return sorted(s for s in self.out if page_path(s, self.base))

    def path(self, iri: str) -> str | None:
        """The page of `iri` relative to the site root, in this site's layout."""
        return (folder_page_path if self.folders else page_path)(iri, self.base)

    def variant(self, iri: str, ext: str) -> str:
        """The file of one RDF variant, relative to the page of `iri`."""
        if self.folders:
            return f"index.{ext}"
        return f"{(local_path(iri, self.base) or '').rsplit('/', 1)[-1]}.{ext}"

    def short(self, iri: str) -> str:
        for p, ns in sorted(self.prefixes.items(), key=lambda kv: -len(kv[1])):
            if iri.startswith(ns) and p != "kg":
                return f"{p}:{iri[len(ns) :]}"
        return iri

    def link(self, iri: str, here: str, label: str | None = None) -> Link:
        """A link from the page `here` to `iri`'s page, or to `iri` itself when it has none
        (only http(s) IRIs: never javascript: etc., which are shown as code)."""
        text = label or self.labels.get(iri) or self.short(iri)
        target = self.path(iri) if iri in self.out else None
        if target is None:  # outside the base, or nothing is said about it: link the IRI
            if not iri.lower().startswith(("http://", "https://")):
                return Link(text, None)
            return Link(text, iri)
        if self.folders:  # the folder, which static hosts serve as its index.html
            target = target.removesuffix("index.html")
        return Link(text, "../" * here.count("/") + target)

    def term(self, t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple, here: str) -> Term:
        if isinstance(t, ox.NamedNode):
            return self.link(t.value, here)
        if isinstance(t, ox.Literal):
            return t.value
        return None

    def render(self, iri: str) -> str:
        """The page of `iri` (templates/resource.html.j2)."""
        here = self.path(iri) or ""
        quads = self.out[iri]
        types = sorted({_value(q.object) for q in quads if q.predicate.value == RDF + "type"})
        up = "../" * here.count("/")
        return render(
            "resource.html.j2",
            iri=iri,
            label=self.labels.get(iri) or self.short(iri),
            up=up,
            nav=[Link(text, up + path) for path, text in self.nav],
            types=[self.link(t, here) for t in types],
            variants=[
                {"href": self.variant(iri, ext), "media": media, "name": name}
                for ext, (_f, media, name) in VARIANTS.items()
            ],
            model=self.model_section(iri, here) if GAO + "AIModel" in types else None,
            explanation=(
                self.explanation_section(iri, here)
                if GAO + "AIModel" in types or GAO + "SourceModel" in types
                else None
            ),
            evaluation=(
                self.evaluation_section(iri) if GAO + "LicenseEvaluation" in types else None
            ),
            evidence=(
                self.evidence_section(iri, here)
                if any(GAO + t in types for t in STATEMENT_KINDS)
                else None
            ),
            statements=[
                {
                    "property": self.link(q.predicate.value, here),
                    "value": self.term(q.object, here),
                    "graph": self.short(_value(q.graph_name)),
                }
                for q in sorted(quads, key=lambda q: (q.predicate.value, str(q.object)))
            ],
            referred=[
                {"link": self.link(s, here), "property": self.short(p)}
                for s, p in sorted(self.incoming.get(iri, ()))[:200]
            ],
        )

    def model_section(self, iri: str, here: str) -> dict[str, Any]:
        """A model's openness profile, badge and derived classes and stage counts."""
        model = {"model": ox.NamedNode(iri)}

        def text(r: dict[str, Any], name: str) -> str:
            return r[name].value if r.get(name) is not None else ""

        profile = []
        for r in self.store.select(self.profile_q, model).rows:
            value = r["value"].value
            derived = text(r, "derived")
            if not derived and r.get("unscored") is not None:
                derived = f"none: {text(r, 'unscored')} is not scored in Table 1"
            profile.append(
                {
                    "stage": r["stage"].value,
                    "component": r["component"].value,
                    "value": value,
                    "colour": COLOURS.get(level_key(value), "#fff"),
                    "licenses": text(r, "licenses"),
                    "derived": derived,
                    "written": r["written"].value,
                    "source": self.link(r["source"].value, here),
                }
            )
        counts = ("open", "semi_open", "closed", "not_public", "not_applicable")
        return {
            "profile": profile,
            "badge": None if self.badges is None else self.badges.view(iri, here),
            "classes": [
                {"link": self.link(r["class"].value, here), "rule": r["rule"].value}
                for r in self.store.select(self.classes_q, model).rows
            ],
            "stages": [
                {
                    "link": self.link(r["profile"].value, here, r["stage"].value),
                    "counts": [r[k].value for k in counts],
                }
                for r in self.store.select(self.stages_q, model).rows
            ],
            "sources": self.sources_section(model, here),
        }

    def explanation_section(self, iri: str, here: str) -> list[dict[str, Any]]:
        """Each definition's verdict on the model, condition by condition, with the checks, the
        record each rests on and where that comes from (queries/explain.rq, as `kg explain`)."""
        definitions: dict[str, dict[str, Any]] = {}
        for r in self.store.select(self.explain_q, {"model": ox.NamedNode(iri)}).rows:
            v = {k: (t.value if t is not None else "") for k, t in r.items()}
            d = definitions.setdefault(
                v["definition"],
                {
                    "definition": v["definition"],
                    "version": v.get("version", ""),
                    "verdict": v.get("verdict", ""),
                    "badge": None
                    if self.badges is None
                    else self.badges.definition_view(iri, v["definition"], here),
                    "conditions": {},
                },
            )
            c = d["conditions"].setdefault(
                v["condition"],
                {
                    "condition": v["condition"],
                    "outcome": v["outcome"],
                    "fraction": v.get("fraction", ""),
                    "checks": [],
                },
            )
            if v.get("check"):
                fact, record = r.get("fact"), v.get("record", "")
                c["checks"].append(
                    {
                        "text": v["check"],
                        "outcome": v.get("check_outcome") or v["outcome"],
                        "fact": self.link(fact.value, here) if fact is not None else None,
                        "source": v.get("source", ""),
                        "record": (
                            self.link(record, here, record)
                            if record.startswith(("http://", "https://"))
                            else record
                        ),
                    }
                )
        return [{**d, "conditions": list(d["conditions"].values())} for d in definitions.values()]

    def sources_section(self, model: dict[str, ox.NamedNode], here: str) -> dict[str, Any] | None:
        """Every source's judgments side by side, one row per component, one column per source
        (None unless more than one source judges the model or its variants): each cell lists
        the judgments with the variant judged, the crosswalk match when not exact, and links."""
        cells: dict[str, dict[str, dict[tuple[str, str, str], list[str]]]] = {}
        sources: set[str] = set()
        for r in self.store.select(self.sources_q, model).rows:
            source = r["source"].value
            sources.add(source)
            judgment, variant, match = (
                r[k].value if r.get(k) is not None else "" for k in ("judgment", "variant", "match")
            )
            key = (judgment, variant, match)
            by_source = cells.setdefault(r["component"].value, {})
            links = by_source.setdefault(source, {}).setdefault(key, [])
            if r.get("evidence") is not None:
                links.append(r["evidence"].value)
        if len(sources) < 2:
            return None
        columns = sorted(sources)
        rows = []
        for component, by_source in cells.items():
            row = []
            for source in columns:
                row.append(
                    [
                        {
                            "judgment": judgment or "not stated",
                            "note": ", ".join(
                                x for x in (variant, "" if match == "exactMatch" else match) if x
                            ),
                            "links": [
                                self.link(link, here, f"[{i}]") for i, link in enumerate(links, 1)
                            ],
                        }
                        for (judgment, variant, match), links in by_source.get(source, {}).items()
                    ]
                )
            rows.append({"component": component, "cells": row})
        return {"columns": columns, "rows": rows}

    def evaluation_section(self, iri: str) -> dict[str, Any]:
        """A license evaluation's answers (§3.1) and its stated and derived scores."""
        here = self.path(iri) or ""
        answers = []
        for a in sorted(
            _value(q.object)
            for q in self.out[iri]
            if q.predicate.value == GAO + "hasPermissionAnswer"
        ):
            props = {q.predicate.value: q.object for q in self.out[a]}
            crit = props.get(GAO + "criterion")
            granted = props.get(GAO + "granted")
            qual = props.get(GAO + "qualification")
            answers.append(
                {
                    "criterion": self.term(crit, here) if crit else None,
                    "granted": granted is not None and _value(granted) == "true",
                    "qualification": _value(qual) if qual else "",
                }
            )
        props = {q.predicate.value: q.object for q in self.out[iri]}
        scores = []
        for kind in ("stated", "derived"):
            score = props.get(GAO + f"{kind}Score")
            category = props.get(GAO + f"{kind}Restrictiveness")
            if score is None:
                continue
            scores.append(
                {
                    "kind": kind,
                    "score": _value(score),
                    "category": None if category is None else self.term(category, here),
                }
            )
        return {"answers": answers, "scores": scores}

    def evidence_section(self, iri: str, here: str) -> list[dict[str, Any]]:
        """The works a claim or statement cites, with their stance."""
        rows = self.store.select(self.evidence_q, {"statement": ox.NamedNode(iri)}).rows
        return [
            {"stance": r["stance"].value, "work": self.link(r["work"].value, here)} for r in rows
        ]

    def triples(self, iri: str) -> list[ox.Triple]:
        """What the graph says about `iri` (the triples it is the subject of)."""
        return [ox.Triple(q.subject, q.predicate, q.object) for q in self.out.get(iri, ())]

    def serialize(self, iri: str, ext: str, triples: list[ox.Triple] | None = None) -> bytes:
        """The description of `iri` (or `triples` given for it) in the RDF format of the file
        extension `ext`."""
        data = self.triples(iri) if triples is None else triples
        return ox.serialize(data, format=VARIANTS[ext][0], prefixes=self.base_prefixes()) or b""

    def index(
        self,
        links: list[tuple[str, str]],
        overview: dict[str, Any] | None = None,
        *,
        search_action: str = "",
        compare_action: str | None = None,
    ) -> str:
        """The home page (templates/index.html.j2): `links` (path, text) first, then the
        overview of every model (`kg.outputs.overview.Overview.view`), then the resources by
        kind. `search_action`: where the search form goes (the page itself by default);
        `compare_action`: the compare view's path, when there is one (the server)."""
        by_kind: dict[str, list[str]] = defaultdict(list)
        for iri in self.subjects():
            by_kind[iri[len(self.base) :].split("/", 1)[0]].append(iri)
        return render(
            "index.html.j2",
            links=[Link(text, path) for path, text in links],
            overview=overview,
            search_action=search_action,
            compare_action=compare_action,
            kinds=[
                (kind, [self.link(i, "index.html") for i in by_kind[kind]])
                for kind in INDEX_KINDS
                if by_kind.get(kind)
            ],
        )

    def base_prefixes(self) -> dict[str, str]:
        return {k: v for k, v in self.prefixes.items() if k != "kg"}


def _value(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph) -> str:
    """A term's value (IRI, blank node id or lexical form). A quoted triple and the default
    graph have none: AttributeError, as reading `.value` on them gives."""
    if isinstance(t, ox.Triple | ox.DefaultGraph):
        raise AttributeError(f"{t!r} has no value")
    return t.value
