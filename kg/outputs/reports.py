"""Build outputs for people: the consistency report (errata) and the figures.

Both are computed from the store by library queries (`errata`, `figure4`, `table3`,
`coverage`), so what a person reads is what an analyst gets from `kg query`; where a figure of
many models draws shares, by queries of `queries/internal/` that read the same statements and
count in the store (`table3-bands`: `table3`'s cells by band of rows; `definition-verdicts`:
`definitions`' verdicts without their condition counts). Every query's solutions are folded as
they come: at 100,000 models no list of a row per cell is held, and the report stays readable
(the consistency report lists the first ERRATA_LISTED findings of each check and counts all).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.checks.sparql_checks import CheckResult, errata_checks, run_checks
from kg.errors import QueryError
from kg.mapping.rdf import integer
from kg.outputs.drawing import LINE_HEIGHT, Drawing, text_width
from kg.outputs.templating import render
from kg.store import OxigraphStore
from kg.store.queries import resolve

# Figure 4's legend order, closed to open, then unknown and not applicable.
LEVEL_ORDER = ("1", "2", "3", "4", "5", "?", "N/A")
COLOURS = {
    "1": "#b2182b",
    "2": "#ef8a62",
    "3": "#fddbc7",
    "4": "#a6d96a",
    "5": "#1a9641",
    "?": "#9e9ac8",
    "N/A": "#d9d9d9",
}
LEGEND = {
    "1": "C1/D1",
    "2": "C2/D2",
    "3": "C3/D3",
    "4": "C4/D4",
    "5": "C5/D5",
    "?": "? (not publicly available)",
    "N/A": "N/A (not applicable)",
}


LABELLED_ROWS = 100  # the heat map labels cells and models up to this many models


def level_key(level: str) -> str:
    """'C3' -> '3', '?' -> '?', 'N/A' -> 'N/A'."""
    return level[1] if len(level) == 2 and level[0] in "CD" else level


def solutions(
    store: OxigraphStore, name: str, params: dict[str, ox.Literal] | None = None
) -> Iterator[dict[str, str]]:
    """A query's solutions one at a time, each value as text ("" when unbound): a figure folds
    them as they come, so no list of every row is held (1.2 million at 100,000 models)."""
    result = store.run(resolve(name), params)
    if not isinstance(result, ox.QuerySolutions):
        raise QueryError(f"{name}: expected a SELECT query")
    names = [v.value for v in result.variables]
    for solution in result:
        yield {n: (v.value if (v := solution[n]) is not None else "") for n in names}


def errata_markdown(results: list[CheckResult]) -> str:
    """The consistency report: the findings of the errata checks, titled by their headers
    (template `templates/errata.md.j2`)."""
    results = [r for r in results if r.check.group == "errata"]
    return render(
        "errata.md.j2",
        results=results,
        total=f"{sum(len(r.rows) for r in results):,}",
        listed=ERRATA_LISTED,
    )


ERRATA_LISTED = 200  # findings listed per check in the consistency report (all are counted)


def figure4(rows: Iterable[dict[str, str]], path: Path) -> list[Path]:
    """Figure 4: one bar per component, stacked by level in the paper's legend order, each
    segment labelled with its count where the count fits."""
    components: dict[str, None] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        components.setdefault(r["component"])
        counts[(r["component"], level_key(r["level"]))] = int(r["models"])
    totals = [sum(counts.get((c, k), 0) for k in LEVEL_ORDER) for c in components]
    models = max(totals, default=0)
    title = f"Openness level per pipeline component ({models:,} models, Table 3)"
    bar, gap, chart_w, label = 18.0, 6.0, 560.0, 9.0
    left = PAD + max((text_width(c, label) for c in components), default=0) + 8
    top = PAD + TITLE * LINE_HEIGHT + 10
    chart_h = len(components) * (bar + gap) + gap
    scale = chart_w / max(models, 1)
    d = Drawing(title)
    d.text(left + chart_w / 2, PAD + TITLE * LINE_HEIGHT / 2, title, TITLE, "middle")
    for i, c in enumerate(components):
        y = top + gap + i * (bar + gap)
        d.text(left - 6, y + bar / 2, c, label, "end")
        x = left
        for key in LEVEL_ORDER:
            n = counts.get((c, key), 0)
            if not n:
                continue
            d.rect(x, y, n * scale, bar, COLOURS[key], "#fff")
            if text_width(f"{n:,}", 7) + 2 <= n * scale:
                d.text(x + n * scale / 2, y + bar / 2, f"{n:,}", 7, "middle")
            x += n * scale
    bottom = top + chart_h
    d.line(left, top, left, bottom, AXIS)
    d.line(left, bottom, left + chart_w, bottom, AXIS)
    step = _tick_step(models)
    for t in range(0, max(models, 1) + 1, step):
        d.line(left + t * scale, bottom, left + t * scale, bottom + 4, AXIS)
        d.text(left + t * scale, bottom + 11, f"{t:,}", label, "middle")
    d.text(left + chart_w / 2, bottom + 28, "models", label, "middle")
    legend = [(COLOURS[k], LEGEND[k]) for k in LEVEL_ORDER]
    _legend(d, legend, left + chart_w / 2, bottom + 42, columns=4)
    return d.save(path)


PAD = 10.0  # around the drawing, in drawing units (about points)
TITLE = 13.0  # the title's font size
AXIS = "#333"


def _tick_step(top: int) -> int:
    """A round step (1, 2, 5 x 10^k) giving at most eight ticks from 0 to `top`."""
    magnitude = 1
    while True:
        for m in (1, 2, 5):
            if top <= 8 * m * magnitude:
                return m * magnitude
        magnitude *= 10


def _legend(
    d: Drawing, entries: list[tuple[str, str]], centre: float, y: float, columns: int
) -> None:
    """Colour swatches with their labels, `columns` to a row, centred on `centre` from `y`."""
    size, swatch = 8.0, 9.0
    width = swatch + 4 + max((text_width(t, size) for _, t in entries), default=0) + 14
    columns = max(1, min(columns, len(entries)))
    x0 = centre - columns * width / 2
    for n, (colour, label) in enumerate(entries):
        x, row = x0 + (n % columns) * width, y + (n // columns) * (swatch + 5)
        d.rect(x, row, swatch, swatch, colour, "#999")
        d.text(x + swatch + 4, row + swatch / 2, label, size)


@dataclass(frozen=True)
class _Cell:
    """A grid cell: its colour, or the shares of several (a band of rows), and its text."""

    segments: tuple[tuple[str, float], ...]
    text: str = ""
    colour: str = "#000"


Tally = list[dict[str, int]]  # per column, how many rows of a band have each category


def _bands(
    names: list[str], columns: list[str], cells: dict[str, list[str | None]], keys: list[str]
) -> tuple[list[str], list[Tally]]:
    """Rows in bands of consecutive names, at most LABELLED_ROWS bands: each band's label and,
    per column, how many of its rows have each key (`cells`: a row's category per column,
    None where it has none). One pass over the cells: O(N)."""
    size = math.ceil(len(names) / LABELLED_ROWS)
    labels, tallies = [], []
    for start in range(0, len(names), size):
        band = names[start : start + size]
        labels.append(f"{start + 1:,}-{start + len(band):,}")
        tally: Tally = [dict.fromkeys(keys, 0) for _ in columns]
        for name in band:
            for j, key in enumerate(cells[name]):
                if key in tally[j]:
                    tally[j][key] += 1
        tallies.append(tally)
    return labels, tallies


def _category_grid(
    path: Path,
    title: str,
    names: list[str],
    columns: list[str],
    cells: dict[str, list[str | None]],  # row -> the category shown in each column's cell
    colour: dict[str, str],  # category -> colour
    legend: list[tuple[str, str]],
    order: str,
    sizes: tuple[float, float, float],  # cell width, cell height, cell text size
) -> list[Path]:
    """A grid of categories: each cell coloured and labelled while there are at most
    LABELLED_ROWS rows; past that, rows in bands whose cells show each category's share (the
    drawing stays the same size whatever the number of rows)."""
    if len(names) <= LABELLED_ROWS:
        grid = [
            [
                _Cell(((colour[key], 1.0),), key) if key is not None else _Cell(())
                for key in _padded(cells[n], len(columns))
            ]
            for n in names
        ]
        return _grid(path, title, "", names, columns, grid, legend, sizes)
    labels, tallies = _bands(names, columns, cells, list(colour))
    size = math.ceil(len(names) / LABELLED_ROWS)
    return _banded_grid(
        path,
        title,
        f"{len(names):,} models {order}, in bands of {size:,}",
        labels,
        columns,
        tallies,
        colour,
        legend,
        sizes,
    )


def _padded(keys: list[str | None], n: int) -> list[str | None]:
    return keys + [None] * (n - len(keys))


def _banded_grid(
    path: Path,
    title: str,
    bands: str,  # what the bands are ("N models …, in bands of S")
    labels: list[str],
    columns: list[str],
    tallies: list[Tally],
    colour: dict[str, str],
    legend: list[tuple[str, str]],
    sizes: tuple[float, float, float],
) -> list[Path]:
    """Bands of rows: each cell shows the share of each category among its band's rows."""
    grid = [
        [
            _Cell(
                tuple((colour[k], n / total) for k, n in t.items() if n)
                if (total := sum(t.values()))
                else ()
            )
            for t in row
        ]
        for row in tallies
    ]
    note = f"{bands}: each cell shows the share of each value in its band"
    return _grid(path, title, note, labels, columns, grid, legend, (sizes[0], 9.0, sizes[2]))


def _grid(
    path: Path,
    title: str,
    note: str,
    rows: list[str],
    columns: list[str],
    grid: list[list[_Cell]],
    legend: list[tuple[str, str]],
    sizes: tuple[float, float, float],
    columns_per_legend_row: int = 4,
) -> list[Path]:
    """Draw a labelled grid: row labels left, column labels (wrapped) below, legend last."""
    cell_w, cell_h, cell_text = sizes
    label = 8.0
    heads = [
        textwrap.fill(c, max(6, int(cell_w / (label * 0.55))), break_long_words=False)
        for c in columns
    ]
    texts = {c.text for row in grid for c in row if c.text}
    cell_w = max(
        [cell_w]
        + [text_width(h, label) + 6 for h in heads]
        + [text_width(t, cell_text) + 4 for t in texts]
    )
    left = PAD + max((text_width(r, label) for r in rows), default=0) + 8
    title_lines = textwrap.fill(title, 60)
    top = PAD + TITLE * LINE_HEIGHT * (title_lines.count("\n") + 1) + 8
    if note:
        note = textwrap.fill(note, max(60, int(len(columns) * cell_w / 4.5)))
        top += 8 * LINE_HEIGHT * (note.count("\n") + 1) + 6
    d = Drawing(title)
    centre = left + len(columns) * cell_w / 2
    title_h = TITLE * LINE_HEIGHT * (title_lines.count("\n") + 1)
    d.text(centre, PAD + title_h / 2, title_lines, TITLE, "middle")
    if note:
        note_h = 8 * LINE_HEIGHT * (note.count("\n") + 1)
        d.text(centre, PAD + title_h + 4 + note_h / 2, note, 8, "middle")
    for i, row in enumerate(grid):
        y = top + i * cell_h
        d.text(left - 5, y + cell_h / 2, rows[i], label, "end")
        for j, cell in enumerate(row):
            x = left + j * cell_w
            if not cell.segments:
                d.rect(x, y, cell_w, cell_h, "#fff", "#ccc")
            for colour, share in cell.segments:
                d.rect(x, y, cell_w * share, cell_h, colour)
                x += cell_w * share
            if cell.text:
                d.text(
                    left + (j + 0.5) * cell_w,
                    y + cell_h / 2,
                    cell.text,
                    cell_text,
                    "middle",
                    cell.colour,
                )
    bottom = top + len(grid) * cell_h
    d.rect(left, top, len(columns) * cell_w, bottom - top, None, AXIS)
    head_h = max((label * LINE_HEIGHT * (h.count("\n") + 1) for h in heads), default=0)
    for j, h in enumerate(heads):
        d.text(left + (j + 0.5) * cell_w, bottom + 6 + head_h / 2, h, label, "middle")
    _legend(d, legend, centre, bottom + 14 + head_h, columns_per_legend_row)
    return d.save(path)


HEATMAP_TITLE = "Table 3: openness of each component of each model"
HEATMAP_SIZES = (44.0, 17.0, 6.5)  # cell width, height, text size


def heatmap(rows: Iterable[dict[str, str]], path: Path) -> list[Path]:
    """Table 3 as a model x component grid coloured by level, each cell labelled (in bands of
    models past LABELLED_ROWS). `rows`: `table3`'s, in its order, folded as they come (a
    model's levels in a list, the level strings shared)."""
    components: dict[str, int] = {}
    models: dict[str, list[str | None]] = {}  # insertion-ordered: Table 3's order
    levels: dict[str, str] = {}
    for r in rows:
        if not r["level"]:
            continue  # a cell with no level: nothing to colour
        j = components.setdefault(r["component"], len(components))
        cells = models.setdefault(r["model"], [])
        cells.extend([None] * (j + 1 - len(cells)))
        cells[j] = levels.setdefault(r["level"], r["level"])
    if len(models) > LABELLED_ROWS:  # bands count levels, C1 and D1 alike
        models = {m: [level_key(v) if v else None for v in c] for m, c in models.items()}
        colour = COLOURS
    else:
        colour = {v: COLOURS[level_key(v)] for v in levels}
    return _category_grid(
        path,
        HEATMAP_TITLE,
        list(models),
        list(components),
        models,
        colour,
        _level_legend(),
        "in Table 3's order",
        HEATMAP_SIZES,
    )


def _level_legend() -> list[tuple[str, str]]:
    return [(COLOURS[k], LEGEND[k]) for k in LEVEL_ORDER]


def heatmap_in_bands(
    rows: Iterable[dict[str, str]], extent: Table3Extent, path: Path
) -> list[Path]:
    """The heat map of a Table 3 counted in bands of rows by the store
    (`internal/table3-bands`: band, component, level, cells): the same drawing `heatmap` makes
    past LABELLED_ROWS models, from a few thousand counts instead of a row per cell."""
    components: dict[str, int] = {}
    counts: dict[tuple[int, int], dict[str, int]] = {}
    for r in rows:
        j = components.setdefault(r["component"], len(components))
        tally = counts.setdefault((int(float(r["band"])), j), dict.fromkeys(COLOURS, 0))
        tally[level_key(r["level"])] += int(r["cells"])
    span, rows_per_band = extent.span, extent.rows_per_band
    bands = math.ceil(span / rows_per_band)
    labels = [
        f"{b * rows_per_band + 1:,}-{min((b + 1) * rows_per_band, span):,}" for b in range(bands)
    ]
    tallies = [
        [counts.get((b, j), dict.fromkeys(COLOURS, 0)) for j in range(len(components))]
        for b in range(bands)
    ]
    return _banded_grid(
        path,
        HEATMAP_TITLE,
        f"{extent.models:,} models in Table 3's order, in bands of {rows_per_band:,}",
        labels,
        list(components),
        tallies,
        COLOURS,
        _level_legend(),
        HEATMAP_SIZES,
    )


@dataclass(frozen=True)
class Table3Extent:
    """How many models Table 3 has and its row numbers (`internal/table3-extent`)."""

    models: int
    first: int
    last: int

    @property
    def span(self) -> int:
        return self.last - self.first + 1

    @property
    def rows_per_band(self) -> int:
        return math.ceil(self.span / LABELLED_ROWS)


def table3_extent(store: OxigraphStore) -> Table3Extent:
    row = next(solutions(store, "internal/table3-extent"))
    return Table3Extent(int(row["models"] or 0), int(row["first"] or 1), int(row["last"] or 0))


def table3_bands(store: OxigraphStore, extent: Table3Extent) -> Iterator[dict[str, str]]:
    """`internal/table3-bands`'s counts, bands of `extent.rows_per_band` rows from its first."""
    params = {"first": integer(extent.first), "size": integer(extent.rows_per_band)}
    return solutions(store, "internal/table3-bands", params)


def write_heatmap(store: OxigraphStore, path: Path) -> list[Path]:
    """The heat map of Table 3 from the store: labelled cell by cell from `table3` up to
    LABELLED_ROWS models; past that, counted in bands of rows in the store, so that neither the
    store nor this process holds a row per cell."""
    extent = table3_extent(store)
    if extent.models <= LABELLED_ROWS:
        return heatmap(solutions(store, "table3"), path)
    return heatmap_in_bands(table3_bands(store, extent), extent, path)


VERDICT_COLOURS = {  # open-ish verdicts green, negative red, undecided grey
    "conformant": "#1a9850",
    "eligible": "#1a9850",
    "I": "#1a9850",
    "fully-open-deployment": "#1a9850",
    "II": "#66bd63",
    "open-weights": "#a6d96a",
    "III": "#a6d96a",
    "partly-open": "#fee08b",
    "undetermined": "#d9d9d9",
    "not-conformant": "#d73027",
    "not-eligible": "#d73027",
    "unclassified": "#d73027",
    "fully-closed": "#d73027",
}


def definitions_matrix(rows: Iterable[dict[str, str]], path: Path) -> list[Path]:
    """The models x definitions matrix (`kg query definitions`), each cell its verdict (in
    bands of models past LABELLED_ROWS, so the drawing stays the same size at any N). `rows`:
    name, definition, verdict, in any order; models drawn by name, definitions by IRI."""
    verdicts: dict[str, dict[str, str]] = {}  # model -> definition IRI -> verdict
    shared: dict[str, str] = {}  # one string per distinct definition and verdict
    for r in rows:
        if r["verdict"] not in VERDICT_COLOURS:
            continue  # a score (the EOSAI openness score), not a class: no colour of its own
        definition = shared.setdefault(r["definition"], r["definition"])
        verdicts.setdefault(r["name"], {})[definition] = shared.setdefault(
            r["verdict"], r["verdict"]
        )
    if not verdicts:
        return []
    iris = sorted({d for v in verdicts.values() for d in v})
    names = sorted(verdicts)
    # a definition that says nothing of a model: undetermined
    cells: dict[str, list[str | None]] = {
        n: [verdicts[n].get(d, "undetermined") for d in iris] for n in names
    }
    del verdicts
    shown = {v for row in cells.values() for v in row}
    legend = [(c, v) for v, c in VERDICT_COLOURS.items() if v in shown]
    title = "Verdicts of each openness definition (kg query definitions)"
    return _category_grid(
        path,
        title,
        names,
        [d.rsplit("#", 1)[-1] for d in iris],
        cells,
        VERDICT_COLOURS,
        legend,
        "by name",
        (150, 14, 6),
    )


def _blues(share: float) -> str:
    """A shade from white to dark blue for a share in [0, 1] (ColorBrewer's Blues)."""
    stops = BLUES
    at = min(max(share, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(at), len(stops) - 2)
    f = at - i
    a, b = stops[i], stops[i + 1]
    channels = (
        round(int(a[k : k + 2], 16) * (1 - f) + int(b[k : k + 2], 16) * f) for k in (1, 3, 5)
    )
    return "#" + "".join(f"{c:02x}" for c in channels)


BLUES = (
    "#f7fbff",
    "#deebf7",
    "#c6dbef",
    "#9ecae1",
    "#6baed6",
    "#4292c6",
    "#2171b5",
    "#08519c",
    "#08306b",
)


def coverage_matrix(rows: Iterable[dict[str, str]], path: Path) -> list[Path]:
    """Which models each source judges and where the sources overlap (`kg query coverage`): a
    source x source grid whose cells count the models (or families) both judge, the diagonal
    the source's own, shaded by the share of the row source's models. Its size is the number of
    sources, whatever the number of models: readable at any N."""
    sources: dict[str, None] = {}
    shared: dict[tuple[str, str], int] = {}
    judgments: dict[str, str] = {}
    for r in rows:
        sources.setdefault(r["source"])
        shared[(r["source"], r["other"])] = int(r["models"])
        if r["source"] == r["other"] and r["judgments"]:
            judgments[r["source"]] = r["judgments"]
    if not sources:
        return []
    names = list(sources)
    own = {s: shared.get((s, s), 0) for s in names}
    grid = []
    for i, a in enumerate(names):
        row = []
        for j, b in enumerate(names):
            share = shared.get((a, b), 0) / own[a] if own[a] else 0.0
            text = f"{shared.get((a, b), 0):,}" + (" models" if i == j else "")
            row.append(_Cell(((_blues(share), 1.0),), text, "#fff" if share > 0.6 else "#000"))
        grid.append(row)
    labels = [
        f"{textwrap.fill(n, 28)}\n({own[n]:,} models, {int(judgments.get(n, '0')):,} judgments)"
        for n in names
    ]
    title = "Coverage and overlap: models (or families) judged by both sources (kg query coverage)"
    note = "shade: the share of the row source's models the column source judges too"
    legend = [(_blues(x), f"{x:.0%}") for x in (0.0, 0.25, 0.5, 0.75, 1.0)]
    return _grid(path, title, note, labels, names, grid, legend, (140, 70, 8), 5)


def write_reports(store: OxigraphStore, release: Path) -> list[Path]:
    """Write reports/errata.md and figures/ into a release folder."""
    reports = release / "reports"
    figures = release / "figures"
    reports.mkdir(exist_ok=True)
    figures.mkdir(exist_ok=True)
    errata = reports / "errata.md"
    results = run_checks(store, errata_checks())
    errata.write_text(errata_markdown(results), encoding="utf-8")
    written = [errata]
    written += figure4(solutions(store, "figure4"), figures / "figure4")
    written += write_heatmap(store, figures / "table3-heatmap")
    verdicts = solutions(store, "internal/definition-verdicts")
    written += definitions_matrix(verdicts, figures / "definitions")
    written += coverage_matrix(solutions(store, "coverage"), figures / "coverage")
    return written
