"""HTML pages, one per resource under the base IRI, for the static release (and later the server).

A page shows the resource's label and types, every statement about it (grouped by property,
with the named graph it comes from), the resources that point to it, links to its RDF
(Turtle and N-Triples files beside the page), and a section by kind: a model's twelve-component
openness profile as a coloured table, a license evaluation's permissions and score, a claim's or
statement's evidence for and against.
"""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Protocol

import pyoxigraph as ox

from kg.outputs.reports import COLOURS, level_key
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import GAO, RDF, RDFS, Base


class BadgeSection(Protocol):
    """What a model's page shows of its badge (kg.outputs.badges.Badges)."""

    def html_section(self, model: str, here: str) -> list[str]: ...


LABEL = RDFS + "label"
PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
# The RDF variants beside each page: file extension -> (pyoxigraph format, media type, name).
VARIANTS: dict[str, tuple[ox.RdfFormat, str, str]] = {
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle", "Turtle"),
    "nt": (ox.RdfFormat.N_TRIPLES, "application/n-triples", "N-Triples"),
    "jsonld": (ox.RdfFormat.JSON_LD, "application/ld+json", "JSON-LD"),
    "rdf": (ox.RdfFormat.RDF_XML, "application/rdf+xml", "RDF/XML"),
}
STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}code{font-size:.9em}.graph{color:#777;font-size:.8em}
td.level{font-weight:bold;text-align:center}nav a{margin-right:1rem}"""


# Sorting (click a header; again to reverse) and filtering of the home page's table; the table
# is complete without it.
OVERVIEW_JS = """(() => {
const table = document.getElementById("overview"), body = table.tBodies[0];
const filter = document.getElementById("overview-filter");
const count = document.getElementById("overview-count");
const show = () => {
  const words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let n = 0;
  for (const row of body.rows) {
    const text = (row.cells[0].textContent + " " + row.cells[1].textContent).toLowerCase();
    row.hidden = !words.every(w => text.includes(w));
    if (!row.hidden) n++;
  }
  count.textContent = n + " of " + body.rows.length + " models";
};
table.tHead.addEventListener("click", e => {
  const th = e.target.closest("th"); if (!th) return;
  const i = th.cellIndex, down = th.dataset.sort !== "up";
  for (const h of table.tHead.rows[0].cells) delete h.dataset.sort;
  th.dataset.sort = down ? "up" : "down";
  const rows = [...body.rows].sort((a, b) =>
    a.cells[i].textContent.localeCompare(b.cells[i].textContent, undefined, {numeric: true}));
  if (!down) rows.reverse();
  body.append(...rows);
});
filter.addEventListener("input", show);
show();
})();"""


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


class Site:
    """Renders the pages. `nav` adds links (path from the site root, text) to every page's
    navigation bar, e.g. the query page when the site is served by `kg serve`. `folders`: the
    static release's layout (`model/llama-2/index.html` beside `index.ttl`, …) instead of the
    server's (`model/llama-2.html` beside `llama-2.ttl`)."""

    def __init__(
        self,
        store: OxigraphStore,
        base: Base,
        nav: list[tuple[str, str]] | None = None,
        *,
        folders: bool = False,
        badges: BadgeSection | None = None,
    ) -> None:
        self.store = store
        self.base = base.base
        self.nav = nav or []
        self.folders = folders
        self.badges = badges
        self.labels: dict[str, str] = {}
        self.out: dict[str, list[ox.Quad]] = defaultdict(list)
        self.incoming: dict[str, set[tuple[str, str]]] = defaultdict(set)
        pref: dict[str, str] = {}
        for q in store.quads():
            s = q.subject
            if isinstance(s, ox.NamedNode):
                self.out[s.value].append(q)
                if q.predicate.value == LABEL and s.value not in self.labels:
                    self.labels[s.value] = q.object.value
                elif q.predicate.value == PREF_LABEL:
                    pref.setdefault(s.value, q.object.value)
            if isinstance(q.object, ox.NamedNode) and isinstance(s, ox.NamedNode):
                self.incoming[q.object.value].add((s.value, q.predicate.value))
        for iri, text in pref.items():  # SKOS concepts (levels, stages, categories) by prefLabel
            self.labels.setdefault(iri, text)
        folder = resource_dir("queries") / "pages"
        self.profile_q = parse_query_file(folder / "model-profile.rq")
        self.evidence_q = parse_query_file(folder / "evidence.rq")
        self.classes_q = parse_query_file(folder / "model-derived-classes.rq")
        self.stages_q = parse_query_file(folder / "model-stage-profiles.rq")
        self.sources_q = parse_query_file(folder / "model-sources.rq")
        self.overview_q = parse_query_file(folder / "overview.rq")
        self.prefixes = base.prefixes()

    def subjects(self) -> list[str]:
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

    def link(self, iri: str, here: str, label: str | None = None) -> str:
        text = html.escape(label or self.labels.get(iri) or self.short(iri))
        target = self.path(iri) if iri in self.out else None
        if target is None:  # outside the base, or nothing is said about it: link the IRI
            if not iri.lower().startswith(("http://", "https://")):  # never javascript: etc.
                return f"<code>{text}</code>"
            return f'<a href="{html.escape(iri)}">{text}</a>'
        if self.folders:  # the folder, which static hosts serve as its index.html
            target = target.removesuffix("index.html")
        depth = here.count("/")
        return f'<a href="{"../" * depth}{html.escape(target)}">{text}</a>'

    def term(self, t: ox.NamedNode | ox.BlankNode | ox.Literal, here: str) -> str:
        if isinstance(t, ox.NamedNode):
            return self.link(t.value, here)
        if isinstance(t, ox.Literal):
            return html.escape(t.value)
        return "<em>(structure)</em>"

    def render(self, iri: str) -> str:
        here = self.path(iri) or ""
        quads = self.out[iri]
        label = self.labels.get(iri) or self.short(iri)
        types = sorted({q.object.value for q in quads if q.predicate.value == RDF + "type"})
        up = "../" * here.count("/")
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(label)}</title>",
            f"<style>{STYLE}</style>",
            *(
                f'<link rel="alternate" type="{media}" href="{self.variant(iri, ext)}">'
                for ext, (_f, media, _n) in VARIANTS.items()
            ),
            "</head><body>",
            f'<nav><a href="{up}index.html">GenAI openness graph</a>'
            + "".join(f'<a href="{up}{html.escape(p)}">{html.escape(t)}</a>' for p, t in self.nav)
            + "</nav>",
            f"<h1>{html.escape(label)}</h1>",
            f"<p><code>{html.escape(iri)}</code> · "
            + " ".join(self.link(t, here) for t in types)
            + "".join(
                f' · <a href="{self.variant(iri, ext)}" type="{media}">{title}</a>'
                for ext, (_f, media, title) in VARIANTS.items()
            )
            + "</p>",
        ]
        if GAO + "AIModel" in types:
            parts += self.model_section(iri, here)
        if GAO + "LicenseEvaluation" in types:
            parts += self.evaluation_section(iri, here)
        if any(
            t in types
            for t in (
                GAO + "Claim",
                GAO + "Risk",
                GAO + "Opportunity",
                GAO + "HarmPathway",
                GAO + "FramingStatement",
                GAO + "PolicyInstrument",
                GAO + "Recommendation",
            )
        ):
            parts += self.evidence_section(iri, here)
        parts += [
            "<h2>Statements</h2>",
            "<table><tr><th>property</th><th>value</th><th>named graph</th></tr>",
        ]
        for q in sorted(quads, key=lambda q: (q.predicate.value, str(q.object))):
            parts.append(
                f"<tr><td>{self.link(q.predicate.value, here)}</td>"
                f"<td>{self.term(q.object, here)}</td>"
                f'<td class="graph">{html.escape(self.short(q.graph_name.value))}</td></tr>'
            )
        parts.append("</table>")
        incoming = sorted(self.incoming.get(iri, ()))
        if incoming:
            parts += ["<h2>Referred to by</h2>", "<ul>"]
            parts += [
                f"<li>{self.link(s, here)} <span class=graph>"
                f"{html.escape(self.short(p))}</span></li>"
                for s, p in incoming[:200]
            ]
            parts.append("</ul>")
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"

    def model_section(self, iri: str, here: str) -> list[str]:
        model = {"model": ox.NamedNode(iri)}
        rows = self.store.select(self.profile_q, model).rows
        out = [
            "<h2>Openness profile</h2>",
            '<table class="profile"><tr><th>stage</th><th>component</th><th>level</th>'
            "<th>licenses</th><th>level by the license rule</th><th>as written</th>"
            "<th>source</th></tr>",
        ]

        def text(r: dict, name: str) -> str:
            return html.escape(r[name].value) if r.get(name) is not None else ""

        for r in rows:
            value = r["value"].value
            colour = COLOURS.get(level_key(value), "#fff")
            derived = text(r, "derived")
            if not derived and r.get("unscored") is not None:
                derived = f"none: {text(r, 'unscored')} is not scored in Table 1"
            out.append(
                f"<tr><td>{html.escape(r['stage'].value)}</td>"
                f"<td>{html.escape(r['component'].value)}</td>"
                f'<td class="level" style="background:{colour}">{html.escape(value)}</td>'
                f"<td>{text(r, 'licenses')}</td><td>{derived}</td>"
                f"<td>{html.escape(r['written'].value)}</td>"
                f"<td>{self.link(r['source'].value, here)}</td></tr>"
            )
        out.append("</table>")
        out += self.sources_section(model, here)
        if self.badges is not None:
            out += self.badges.html_section(iri, here)
        classes = self.store.select(self.classes_q, model).rows
        stages = self.store.select(self.stages_q, model).rows
        if classes or stages:
            out.append("<h2>Derived</h2>")
        if classes:
            out.append('<ul class="derived">')
            out += [
                f"<li>{self.link(r['class'].value, here)} "
                f'<span class="graph">by {html.escape(r["rule"].value)}</span></li>'
                for r in classes
            ]
            out.append("</ul>")
        if stages:
            heads = ("stage", "open", "semi-open", "closed", "not public", "not applicable")
            out.append(
                '<table class="stages"><tr>' + "".join(f"<th>{h}</th>" for h in heads) + "</tr>"
            )
            for r in stages:
                cells = [self.link(r["profile"].value, here, r["stage"].value)] + [
                    html.escape(r[k].value)
                    for k in ("open", "semi_open", "closed", "not_public", "not_applicable")
                ]
                out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            out.append("</table>")
        return out

    def sources_section(self, model: dict[str, ox.NamedNode], here: str) -> list[str]:
        """Every source's judgments side by side, one row per component, one column per source
        (shown when more than one source judges the model or its variants)."""
        cells: dict[str, dict[str, dict[tuple[str, str, str], list[str]]]] = {}
        sources: set[str] = set()
        for r in self.store.select(self.sources_q, model).rows:
            source = r["source"].value
            sources.add(source)
            key = tuple(
                r[k].value if r.get(k) is not None else "" for k in ("judgment", "variant", "match")
            )
            links = (
                cells.setdefault(r["component"].value, {})
                .setdefault(source, {})
                .setdefault(key, [])
            )
            if r.get("evidence") is not None:
                links.append(r["evidence"].value)
        if len(sources) < 2:
            return []
        columns = sorted(sources)
        out = [
            "<h2>What each source says</h2>",
            '<table class="sources"><tr><th>component</th>'
            + "".join(f"<th>{html.escape(c)}</th>" for c in columns)
            + "</tr>",
        ]
        for component, by_source in cells.items():
            row = [f"<td>{html.escape(component)}</td>"]
            for source in columns:
                parts = []
                for (judgment, variant, match), links in by_source.get(source, {}).items():
                    evidence = " ".join(
                        self.link(link, here, f"[{i}]") for i, link in enumerate(links, 1)
                    )
                    note = ", ".join(
                        x for x in (variant, "" if match == "exactMatch" else match) if x
                    )
                    parts.append(
                        f"<b>{html.escape(judgment) or 'not stated'}</b>"
                        + (f" ({html.escape(note)})" if note else "")
                        + (f" {evidence}" if evidence else "")
                    )
                row.append(f"<td>{'<br>'.join(parts)}</td>")
            out.append("<tr>" + "".join(row) + "</tr>")
        out.append("</table>")
        return out

    def evaluation_section(self, iri: str, here: str) -> list[str]:
        answers = [
            q.object.value
            for q in self.out[iri]
            if q.predicate.value == GAO + "hasPermissionAnswer"
        ]
        out = [
            "<h2>Permissions (§3.1)</h2>",
            "<table><tr><th>criterion</th><th>granted</th><th>qualification</th></tr>",
        ]
        for a in sorted(answers):
            props = {q.predicate.value: q.object for q in self.out[a]}
            crit = props.get(GAO + "criterion")
            granted = props.get(GAO + "granted")
            qual = props.get(GAO + "qualification")
            out.append(
                f"<tr><td>{self.term(crit, here) if crit else ''}</td>"
                f"<td>{'yes' if granted and granted.value == 'true' else 'no'}</td>"
                f"<td>{html.escape(qual.value) if qual else ''}</td></tr>"
            )
        out.append("</table>")
        props = {q.predicate.value: q.object for q in self.out[iri]}
        for kind in ("stated", "derived"):
            score = props.get(GAO + f"{kind}Score")
            category = props.get(GAO + f"{kind}Restrictiveness")
            if score is None:
                continue
            where = "the paper (Table 1)" if kind == "stated" else "the paper's rule, recomputed"
            out.append(
                f'<p class="score">Score by {where}: <strong>{html.escape(score.value)}</strong>'
                + (f" · {self.term(category, here)}" if category is not None else "")
                + "</p>"
            )
        return out

    def evidence_section(self, iri: str, here: str) -> list[str]:
        rows = self.store.select(self.evidence_q, {"statement": ox.NamedNode(iri)}).rows
        if not rows:
            return ["<h2>Evidence</h2>", "<p>No cited work.</p>"]
        out = ["<h2>Evidence</h2>", "<table><tr><th>stance</th><th>cited work</th></tr>"]
        for r in rows:
            out.append(
                f"<tr><td>{html.escape(r['stance'].value)}</td>"
                f"<td>{self.link(r['work'].value, here)}</td></tr>"
            )
        out.append("</table>")
        return out

    def triples(self, iri: str) -> list[ox.Triple]:
        """What the graph says about `iri` (the triples it is the subject of)."""
        return [ox.Triple(q.subject, q.predicate, q.object) for q in self.out.get(iri, ())]

    def serialize(self, iri: str, ext: str, triples: list[ox.Triple] | None = None) -> bytes:
        """The description of `iri` (or `triples` given for it) in the RDF format of the file
        extension `ext`."""
        data = self.triples(iri) if triples is None else triples
        return ox.serialize(data, format=VARIANTS[ext][0], prefixes=self.base_prefixes()) or b""

    def index(self, links: list[tuple[str, str]]) -> str:
        """The home page: `links` (path, text) first, then the resources by kind."""
        index = [
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
            f"<title>GenAI openness graph</title><style>{STYLE}</style></head><body>",
            "<h1>GenAI openness knowledge graph</h1>",
            "<p>"
            + " · ".join(f'<a href="{html.escape(p)}">{html.escape(t)}</a>' for p, t in links)
            + "</p>",
        ]
        index += self.overview()
        by_kind: dict[str, list[str]] = defaultdict(list)
        for iri in self.subjects():
            by_kind[iri[len(self.base) :].split("/", 1)[0]].append(iri)
        for kind in (
            "license",
            "license-evaluation",
            "statement",
            "claim",
            "recommendation",
            "regulation",
            "organisation",
        ):
            if by_kind.get(kind):
                index.append(f"<h2>{html.escape(kind)}</h2><ul>")
                index += [f"<li>{self.link(i, 'index.html')}</li>" for i in by_kind[kind]]
                index.append("</ul>")
        index.append("</body></html>")
        return "\n".join(index) + "\n"

    def overview(self) -> list[str]:
        """Every model the paper's Table 3 assesses: one row, one coloured cell per component."""
        source = ox.NamedNode(self.base + "source/paper/table-3")
        rows = self.store.select(self.overview_q, {"source": source}).rows
        models: dict[str, dict[str, str]] = {}
        names: dict[str, tuple[str, str]] = {}
        components: dict[str, int] = {}
        for r in rows:
            model = r["model"].value
            names.setdefault(
                model, (r["label"].value, r["developer"].value if r.get("developer") else "")
            )
            components.setdefault(r["component"].value, int(r["position"].value))
            models.setdefault(model, {}).setdefault(r["component"].value, r["value"].value)
        if not models:
            return []
        columns = sorted(components, key=components.__getitem__)
        out = [
            "<h2>Models</h2>",
            '<p><label>Filter: <input id="overview-filter" type="search" '
            'placeholder="model or developer"></label> '
            '<span id="overview-count"></span></p>',
            '<table id="overview"><thead><tr><th>model</th><th>developer</th>'
            + "".join(f"<th><code>{html.escape(c)}</code></th>" for c in columns)
            + "</tr></thead><tbody>",
        ]
        for model, cells in models.items():
            label, developer = names[model]
            tds = "".join(
                f'<td class="level" style="background:{COLOURS.get(level_key(v), "#fff")}">'
                f"{html.escape(v)}</td>"
                for v in (cells.get(c, "") for c in columns)
            )
            out.append(
                f"<tr><td>{self.link(model, 'index.html', label)}</td>"
                f"<td>{html.escape(developer)}</td>{tds}</tr>"
            )
        out += ["</tbody></table>", f"<script>{OVERVIEW_JS}</script>"]
        return out

    def base_prefixes(self) -> dict[str, str]:
        return {k: v for k, v in self.prefixes.items() if k != "kg"}
