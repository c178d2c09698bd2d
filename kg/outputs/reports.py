"""Build outputs for people: the consistency report (errata) and the figures.

Both are computed from the store by library queries (`errata`, `figure4`, `table3`), so what a
person reads is exactly what an analyst gets from `kg query`.
"""

from __future__ import annotations

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
    cmap = ListedColormap([COLOURS[k] for k in LEVEL_ORDER])
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(LEVEL_ORDER) - 0.5, aspect="auto")
    if len(models) <= LABELLED_ROWS:  # beyond, a text per cell is unreadable and costs O(N) draws
        for i, m in enumerate(models):
            for j, c in enumerate(components):
                ax.text(j, i, cells[(m, c)], ha="center", va="center", fontsize=6)
        ax.set_yticks(range(len(models)), list(models), fontsize=7)
    else:
        ax.set_ylabel(f"{len(models)} models, in Table 3's order")
    ax.set_xticks(range(len(components)), list(components), rotation=60, ha="right", fontsize=7)
    ax.set_title("Table 3: openness of each component of each model")
    paths = _save(fig, path)
    plt.close(fig)
    return paths


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
    return written
