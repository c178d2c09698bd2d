"""Openness badges: one SVG per model at a stable URL (`{base}badge/model/{slug}.svg`), with the
Markdown and HTML to paste it into a README or a page. The static release writes them; `kg serve`
answers the same URL with `Badges.svg`.

The badge shows how many of the model's components that apply (of twelve) the paper's Table 3
rates fully open, and its colour the share of them that are open or semi-open.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kg.outputs.pages import BadgeView, local_path
from kg.outputs.reports import VERDICT_COLOURS
from kg.paths import resource_dir
from kg.store import OxigraphStore
from kg.store.queries import parse_query_file
from kg.vocab.namespaces import Base

SOURCE = "source/paper/table-3"  # whose assessments the badge counts (below the base)
FOLDER = "badge"
# Widths of Verdana 11px glyphs (as badge services measure them); other characters count 7.
_NARROW = {c: 3.9 for c in "iljI.,:;!'|() "}
_WIDE = {c: 10.0 for c in "mwMW@%"}
COLOURS = (  # (least share of open or semi-open components, colour), first match wins
    (0.75, "#2e7d32"),
    (0.5, "#7cb342"),
    (0.25, "#f9a825"),
    (0.0001, "#ef6c00"),
    (0.0, "#c62828"),
)


UNDECIDED = "#9e9e9e"  # a score, or releases with different verdicts


@dataclass(frozen=True)
class Verdict:
    """What a model's badge for one definition shows: the definition's short name and the
    verdict (or the score; several releases' verdicts joined when they differ)."""

    model: str
    definition: str  # the definition's IRI
    name: str
    short: str
    verdicts: tuple[str, ...]
    notations: tuple[str, ...]

    @property
    def slug(self) -> str:
        return self.definition.rsplit("#", 1)[-1]

    @property
    def value(self) -> str:
        return " / ".join(self.verdicts)

    @property
    def colour(self) -> str:
        if len(set(self.notations)) != 1:
            return UNDECIDED
        return VERDICT_COLOURS.get(self.notations[0], UNDECIDED)

    @property
    def title(self) -> str:
        return f"{self.name}: {self.value} (kg explain says why)"


def _width(text: str) -> float:
    return sum(_NARROW.get(c, _WIDE.get(c, 7.0)) for c in text)


@dataclass(frozen=True)
class Openness:
    model: str
    label: str
    open: int
    semi_open: int
    closed: int
    not_public: int
    not_applicable: int
    assessed: int

    @property
    def applicable(self) -> int:
        return self.assessed - self.not_applicable

    @property
    def value(self) -> str:
        """Fully open components out of those that apply: `4/7 open`."""
        return f"{self.open}/{self.applicable} open"

    @property
    def colour(self) -> str:
        if self.applicable == 0:
            return "#9e9e9e"
        share = (self.open + self.semi_open) / self.applicable
        return next(colour for least, colour in COLOURS if share >= least)

    @property
    def title(self) -> str:
        return (
            f"{self.label}: of {self.assessed} components in the paper's Table 3, {self.open} "
            f"fully open, {self.semi_open} semi-open, {self.closed} closed, {self.not_public} "
            f"not publicly known, {self.not_applicable} not applicable"
        )


def svg(label: str, value: str, colour: str, title: str) -> str:
    """A flat two-part badge, `label` on grey and `value` on `colour`."""
    left, right = _width(label) + 10, _width(value) + 10
    total = left + right
    e = html.escape
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total:.0f}" height="20" role="img" '
        f'aria-label="{e(label)}: {e(value)}"><title>{e(title)}</title>'
        f'<rect width="{left:.0f}" height="20" fill="#555"/>'
        f'<rect x="{left:.0f}" width="{right:.0f}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        'font-size="11">'
        f'<text x="{left / 2:.1f}" y="14">{e(label)}</text>'
        f'<text x="{left + right / 2:.1f}" y="14">{e(value)}</text></g></svg>\n'
    )


class Badges:
    """Badges of the models in a store (`model`: a model's IRI)."""

    def __init__(self, store: OxigraphStore, base: Base) -> None:
        self.store = store
        self.base = base
        self.query = parse_query_file(resource_dir("queries") / "pages" / "model-badge.rq")
        self._seen: dict[str, list[Verdict]] = {}
        self.verdicts_q = parse_query_file(
            resource_dir("queries") / "pages" / "model-verdict-badges.rq"
        )

    def path(self, model: str) -> str | None:
        """The badge's path below the base: `badge/model/llama-2.svg`."""
        local = local_path(model, self.base.base)
        return None if local is None else f"{FOLDER}/{local}.svg"

    def url(self, model: str) -> str | None:
        path = self.path(model)
        return None if path is None else self.base.base + path

    def model_for(self, path: str) -> str | None:
        """The model IRI a badge path (`badge/model/llama-2.svg`) names, or None."""
        path = path.lstrip("/")
        if not (path.startswith(FOLDER + "/model/") and path.endswith(".svg")):
            return None
        return self.base.base + path[len(FOLDER) + 1 : -len(".svg")]

    def openness(self, model: str) -> Openness | None:
        """What the badge of `model` shows, or None when it is not a model."""
        return self._openness({"model": ox.NamedNode(model)}).get(model)

    def all(self) -> dict[str, Openness]:
        """Every model's openness, by one query (for writing every badge)."""
        return self._openness({})

    def _openness(self, bindings: dict[str, ox.NamedNode]) -> dict[str, Openness]:
        bindings = {**bindings, "source": ox.NamedNode(self.base.base + SOURCE)}
        rows = self.store.select(self.query, bindings).rows
        kinds: dict[str, dict[str, str]] = {}
        labels: dict[str, str] = {}
        for r in rows:  # one row per assessment (a model with two labels gives two)
            model = r["model"].value
            kind = r.get("category") or r.get("status")
            label = kind.value.rsplit("#", 1)[-1] if kind else ""
            kinds.setdefault(model, {}).setdefault(r["assessment"].value, label)
            labels[model] = min(labels.get(model, r["label"].value), r["label"].value)
        out = {}
        for model, seen in kinds.items():
            k = list(seen.values())
            out[model] = Openness(
                model,
                labels[model],
                k.count("open"),
                k.count("semi-open"),
                k.count("closed"),
                k.count("not-publicly-available"),
                k.count("not-applicable"),
                len(k),
            )
        return out

    @staticmethod
    def image(o: Openness | None) -> str | None:
        """The badge's SVG for what `o` counts (None: no badge)."""
        if o is None or o.assessed == 0:
            return None
        return svg("openness", o.value, o.colour, o.title)

    def svg(self, model: str) -> str | None:
        """The badge of `model`, or None when the paper does not assess it."""
        return self.image(self.openness(model))

    def snippets(self, model: str) -> dict[str, str]:
        """Markdown and HTML that show the badge and link to the model's page."""
        url = self.url(model) or ""
        alt = "openness of the model's components"
        return {
            "Markdown": f"[![{alt}]({url})]({model})",
            "HTML": f'<a href="{html.escape(model)}"><img src="{html.escape(url)}" '
            f'alt="{alt}"></a>',
        }

    def view(self, model: str, here: str) -> BadgeView | None:
        """The badge with its snippets, for the model's page (`here`: the page's path)."""
        path = self.path(model)
        if path is None or self.svg(model) is None:
            return None
        return BadgeView("../" * here.count("/") + path, self.snippets(model))

    # --- one badge per model and definition: badge/model/llama-2/osaid-1-0.svg --------------
    def verdicts(self, model: str | None = None) -> list[Verdict]:
        """The verdict badges of `model` (every model's when None), by one query."""
        bindings = {} if model is None else {"model": ox.NamedNode(model)}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for r in self.store.select(self.verdicts_q, bindings).rows:
            key = (r["model"].value, r["definition"].value)
            v = found.setdefault(
                key, {"name": r["name"].value, "short": r["short"].value, "seen": {}}
            )
            v["seen"].setdefault(r["verdict"].value, r["notation"].value)
        return [
            Verdict(m, d, v["name"], v["short"], tuple(v["seen"]), tuple(v["seen"].values()))
            for (m, d), v in sorted(found.items())
        ]

    def verdict_path(self, v: Verdict) -> str | None:
        local = local_path(v.model, self.base.base)
        return None if local is None else f"{FOLDER}/{local}/{v.slug}.svg"

    @staticmethod
    def verdict_image(v: Verdict) -> str:
        return svg(v.short, v.value, v.colour, v.title)

    def svg_at(self, path: str) -> str | None:
        """The badge at `path` below the base: a model's (`badge/model/llama-2.svg`) or a
        model's under one definition (`badge/model/llama-2/osaid-1-0.svg`); None if none."""
        model = self.model_for(path)
        if model is None:
            return None
        image = self.svg(model)
        if image is not None:
            return image
        owner, _, slug = model.rpartition("/")
        for v in self.verdicts(owner) if owner else []:
            if v.slug == slug:
                return self.verdict_image(v)
        return None

    def definition_view(self, model: str, definition: str, here: str) -> BadgeView | None:
        """The badge of `model` under the definition named `definition`, with its snippets."""
        if model not in self._seen:  # a page asks once per definition: one query per model
            self._seen = {model: self.verdicts(model)}
        for v in self._seen[model]:
            path = self.verdict_path(v)
            if v.name == definition and path is not None:
                url = self.base.base + path
                alt = f"{v.short}: {v.value}"
                snippets = {
                    "Markdown": f"[![{alt}]({url})]({model})",
                    "HTML": f'<a href="{html.escape(model)}"><img src="{html.escape(url)}" '
                    f'alt="{html.escape(alt)}"></a>',
                }
                return BadgeView("../" * here.count("/") + path, snippets)
        return None
