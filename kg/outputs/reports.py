"""Build outputs for people: the consistency report (errata) and the figures.

Both are computed from the store by library queries (`errata`, `figure4`, `table3`,
`definitions`, `coverage`), so what a person reads is exactly what an analyst gets from
`kg query`.
"""

from __future__ import annotations

from collections.abc import Sized
from pathlib import Path
from typing import Any

from kg.checks.sparql_checks import CheckResult, errata_checks, run_checks
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


def _rows(store: OxigraphStore, name: str) -> list[dict[str, str]]:
    result = store.select(resolve(name))
    return [{k: (v.value if v is not None else "") for k, v in r.items()} for r in result.rows]


def errata_markdown(results: list[CheckResult]) -> str:
    """The consistency report: the findings of the errata checks, titled by their headers
    (template `templates/errata.md.j2`)."""
    results = [r for r in results if r.check.group == "errata"]
    return render("errata.md.j2", results=results, total=sum(len(r.rows) for r in results))


def _matplotlib() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.hashsalt"] = "genai-openness"  # stable SVG ids
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> list[Path]:
    out = []
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        target = path.with_suffix(f".{ext}")
        fig.savefig(target, dpi=150, bbox_inches="tight", metadata=meta)
        out.append(target)
    return out


def figure4(rows: list[dict[str, str]], path: Path) -> list[Path]:
    """Figure 4: one bar per component, stacked by level in the paper's legend order."""
    plt = _matplotlib()
    components: list[str] = []
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["component"] not in components:
            components.append(r["component"])
        counts[(r["component"], level_key(r["level"]))] = int(r["models"])
    fig, ax = plt.subplots(figsize=(10, 5.5))
    left = [0] * len(components)
    for key in LEVEL_ORDER:
        widths = [counts.get((c, key), 0) for c in components]
        ax.barh(
            components,
            widths,
            left=left,
            color=COLOURS[key],
            label=LEGEND[key],
            edgecolor="white",
            linewidth=0.5,
        )
        for i, w in enumerate(widths):
            if w:
                ax.text(left[i] + w / 2, i, str(w), ha="center", va="center", fontsize=7)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("models")
    ax.set_title("Openness level per pipeline component (40 models, Table 3)")
    ax.legend(ncol=4, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    paths = _save(fig, path)
    plt.close(fig)
    return paths


def heatmap(rows: list[dict[str, str]], path: Path) -> list[Path]:
    """Table 3 as a model x component grid coloured by level, each cell labelled."""
    plt = _matplotlib()
    from matplotlib.colors import ListedColormap

    models: dict[str, None] = {}  # insertion-ordered sets: O(1) per row, not a list scan
    components: dict[str, None] = {}
    cells: dict[tuple[str, str], str] = {}
    for r in rows:
        models.setdefault(r["model"])
        components.setdefault(r["component"])
        cells[(r["model"], r["component"])] = r["level"]
    grid = [[LEVEL_ORDER.index(level_key(cells[(m, c)])) for c in components] for m in models]
    fig, ax = plt.subplots(figsize=(9, 12))
    ax.imshow(grid, cmap=ListedColormap([COLOURS[k] for k in LEVEL_ORDER]), **_span(LEVEL_ORDER))
    _label_grid(ax, list(models), list(components), cells, (6, 7, 60), "in Table 3's order")
    return _finish(plt, fig, ax, "Table 3: openness of each component of each model", path)


def _span(keys: Sized) -> dict[str, Any]:
    return {"vmin": -0.5, "vmax": len(keys) - 0.5, "aspect": "auto"}


def _finish(plt: Any, fig: Any, ax: Any, title: str, path: Path) -> list[Path]:
    ax.set_title(title)
    paths = _save(fig, path)
    plt.close(fig)
    return paths


def _label_grid(
    ax: Any,
    rows: list[str],
    columns: list[str],
    cells: dict[tuple[str, str], str],
    sizes: tuple[int, int, int],  # cell text size, row label size, column label rotation
    order: str,
) -> None:
    """Label a grid's cells and axes; beyond LABELLED_ROWS rows a text per cell is unreadable
    and costs O(N) draws, so only the row count is given."""
    cell_size, row_size, rotation = sizes
    if len(rows) <= LABELLED_ROWS:
        for i, r in enumerate(rows):
            for j, c in enumerate(columns):
                ax.text(j, i, cells.get((r, c), ""), ha="center", va="center", fontsize=cell_size)
        ax.set_yticks(range(len(rows)), rows, fontsize=row_size)
    else:
        ax.set_ylabel(f"{len(rows)} models, {order}")
    ax.set_xticks(range(len(columns)), columns, rotation=rotation, ha="right", fontsize=7)


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


def definitions_matrix(rows: list[dict[str, str]], path: Path) -> list[Path]:
    """The models x definitions matrix (`kg query definitions`), each cell its verdict."""
    plt = _matplotlib()
    from matplotlib.colors import ListedColormap

    models: dict[str, None] = {}
    definitions: dict[str, None] = {}
    cells: dict[tuple[str, str], str] = {}
    for r in rows:
        if r["verdict"] not in VERDICT_COLOURS:
            continue  # a score (the EOSAI openness score), not a class: no colour of its own
        models.setdefault(r["name"])
        definition = r["definition"].rsplit("#", 1)[-1]
        definitions.setdefault(definition)
        cells[(r["name"], definition)] = r["verdict"]
    if not cells:
        return []
    keys = list(VERDICT_COLOURS)
    grid = [
        [
            keys.index(cells[(m, d)]) if (m, d) in cells else keys.index("undetermined")
            for d in definitions
        ]
        for m in models
    ]
    # past LABELLED_ROWS the rows are not labelled, and the height stops growing (a figure of
    # 100,000 rows at 0.22 in each would pass the image size Agg can draw)
    height = 2 + 0.22 * min(len(models), LABELLED_ROWS)
    fig, ax = plt.subplots(figsize=(2 + 1.6 * len(definitions), height))
    ax.imshow(grid, cmap=ListedColormap(list(VERDICT_COLOURS.values())), **_span(keys))
    _label_grid(ax, list(models), list(definitions), cells, (5, 6, 30), "by name")
    title = "Verdicts of each openness definition (kg query definitions)"
    return _finish(plt, fig, ax, title, path)


def coverage_matrix(rows: list[dict[str, str]], path: Path) -> list[Path]:
    """Which models each source judges and where the sources overlap (`kg query coverage`): a
    source x source grid whose cells count the models (or families) both judge, the diagonal
    the source's own, shaded by the share of the row source's models. Its size is the number of
    sources, whatever the number of models: readable at any N."""
    import textwrap

    plt = _matplotlib()
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
    grid = [[shared.get((a, b), 0) / own[a] if own[a] else 0.0 for b in names] for a in names]
    side = 2.5 + 1.3 * len(names)
    fig, ax = plt.subplots(figsize=(side + 2, side))
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="equal")
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            count = shared.get((a, b), 0)
            dark = grid[i][j] > 0.6
            text = f"{count:,}" + (" models" if i == j else "")
            ax.text(
                j, i, text, ha="center", va="center", fontsize=8, color="white" if dark else "black"
            )
    short = [textwrap.fill(n, 28) for n in names]
    rows_labels = [
        f"{s}\n({own[n]:,} models, {int(judgments.get(n, '0')):,} judgments)"
        for s, n in zip(short, names, strict=True)
    ]
    ax.set_yticks(range(len(names)), rows_labels, fontsize=7)
    ax.set_xticks(range(len(names)), short, rotation=30, ha="right", fontsize=7)
    ax.set_xlabel(
        "shade: the share of the row source's models the column source judges too", fontsize=7
    )
    title = "Coverage and overlap: models (or families) judged by both sources (kg query coverage)"
    return _finish(plt, fig, ax, textwrap.fill(title, 60), path)


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
    written += figure4(_rows(store, "figure4"), figures / "figure4")
    written += heatmap(_rows(store, "table3"), figures / "table3-heatmap")
    written += definitions_matrix(_rows(store, "definitions"), figures / "definitions")
    written += coverage_matrix(_rows(store, "coverage"), figures / "coverage")
    return written
