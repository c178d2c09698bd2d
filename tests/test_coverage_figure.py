"""The coverage figure (issue 12): which models each source judges and where the sources
overlap, drawn from `kg query coverage`'s rows, a grid of sources whose drawing does not grow
with the number of models."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from kg.outputs.reports import coverage_matrix

SOURCES = ("The paper", "European Open Source AI Index", "Model Openness Tool (LF AI & Data)")


def coverage_rows(n: int) -> list[dict[str, str]]:
    """The rows `kg query coverage` gives for three sources judging about n models each."""
    own = {SOURCES[0]: 40, SOURCES[1]: n, SOURCES[2]: n + n // 3}
    rows = []
    for a in SOURCES:
        for b in SOURCES:
            both = own[a] if a == b else min(own[a], own[b]) // 2
            if both:
                rows.append(
                    {
                        "source": a,
                        "other": b,
                        "models": str(both),
                        "judgments": str(12 * own[a]) if a == b else "",
                        "evidence_links": "",
                    }
                )
    return rows


def test_one_cell_per_pair_of_sources_at_any_number_of_models(tmp_path: Path):
    small = coverage_matrix(coverage_rows(200), tmp_path / "small")
    large = coverage_matrix(coverage_rows(1_000_000), tmp_path / "large")
    assert [p.name for p in small] == ["small.png", "small.svg"]
    sizes = []
    for svg in (small[1], large[1]):
        root = ElementTree.parse(svg).getroot()
        assert root.tag.endswith("svg")
        sizes.append(svg.stat().st_size)
    # the same drawing but for the digits: a figure per model would grow 5,000-fold
    assert abs(sizes[1] - sizes[0]) < 0.2 * sizes[0]


def test_no_source_judged_draws_nothing(tmp_path: Path):
    assert coverage_matrix([], tmp_path / "none") == []
