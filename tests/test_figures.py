"""The build's figures, drawn by `kg.outputs.drawing` (decision 26): what they show, that the
PNG and the SVG are the same drawing, and that the grids stay one picture at any number of
models (in bands past LABELLED_ROWS)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from kg.outputs.drawing import SCALE, Drawing, text_width
from kg.outputs.reports import COLOURS, LABELLED_ROWS, figure4, heatmap

SVG = "{http://www.w3.org/2000/svg}"


def _svg(path: Path) -> ElementTree.Element:
    root = ElementTree.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root


def _texts(root: ElementTree.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_a_drawing_covers_its_items_and_both_formats_are_the_same_size(tmp_path: Path):
    d = Drawing("a title <&>")
    d.rect(0, 0, 20, 10, "#123456")
    wide = "a label much wider than the rectangle next to it"
    d.text(20, 5, wide, 9)  # starts at the rectangle's right edge and runs past it
    png, svg = d.save(tmp_path / "one", margin=10)
    root = _svg(svg)
    width, height = float(root.get("width")), float(root.get("height"))
    assert width >= 20 + text_width(wide, 9) + 2 * 10
    assert root.find(f"{SVG}title").text == "a title <&>"
    with Image.open(png) as image:
        assert image.size == (math.ceil(width * SCALE), math.ceil(height * SCALE))
        # the rectangle is drawn at the margin, in its colour
        assert image.getpixel((12 * SCALE, 15 * SCALE)) == (0x12, 0x34, 0x56)
    again = Drawing("a title <&>")
    again.rect(0, 0, 20, 10, "#123456")
    again.text(20, 5, wide, 9)
    png2, svg2 = again.save(tmp_path / "two", margin=10)
    assert png2.read_bytes() == png.read_bytes() and svg2.read_bytes() == svg.read_bytes()


def test_figure4_counts_the_models_it_is_given(tmp_path: Path):
    rows = [
        {"component": "weights", "level": "C1", "models": "5"},
        {"component": "weights", "level": "C5", "models": "2"},
        {"component": "sft-data", "level": "N/A", "models": "7"},
    ]
    _, svg = figure4(rows, tmp_path / "figure4")
    texts = _texts(_svg(svg))
    assert "Openness level per pipeline component (7 models, Table 3)" in texts
    assert {"weights", "sft-data", "5", "2", "7"} <= set(texts)
    fills = [r.get("fill") for r in _svg(svg).iter(f"{SVG}rect")]
    assert fills.count(COLOURS["1"]) == 2  # the bar segment and the legend's swatch


def _table3(n: int, level: Callable[[int], str]) -> list[dict[str, str]]:
    return [
        {"model": f"model {i}", "component": c, "level": level(i)}
        for i in range(n)
        for c in ("weights", "sft-data")
    ]


def test_heatmap_labels_each_cell_up_to_the_limit(tmp_path: Path):
    _, svg = heatmap(_table3(3, lambda i: ("C1", "D4", "N/A")[i]), tmp_path / "small")
    texts = _texts(_svg(svg))
    assert {"model 0", "model 1", "model 2", "C1", "D4", "N/A"} <= set(texts)


def test_heatmap_past_the_limit_shows_each_band_s_shares(tmp_path: Path):
    """300 models in 100 bands of 3; one in three is C1, the others N/A: every cell is a C1
    segment a third of its width beside an N/A segment two thirds of it."""
    n = 3 * LABELLED_ROWS
    _, svg = heatmap(_table3(n, lambda i: "C1" if i % 3 == 0 else "N/A"), tmp_path / "bands")
    root = _svg(svg)
    texts = _texts(root)
    assert not any(t.startswith("model ") for t in texts)  # no row per model
    assert "1-3" in texts and f"{n - 2:,}-{n:,}" in texts
    assert any(f"{n:,} models in Table 3's order, in bands of 3" in t for t in texts)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("stroke") is None]  # not the legend
    c1 = [float(r.get("width")) for r in rects if r.get("fill") == COLOURS["1"]]
    na = [float(r.get("width")) for r in rects if r.get("fill") == COLOURS["N/A"]]
    assert len(c1) == len(na) == 2 * LABELLED_ROWS  # a segment of each per band and column
    assert all(abs(b - 2 * a) < 0.02 for a, b in zip(c1, na, strict=True))


def test_heatmap_is_the_same_size_at_any_number_of_models(tmp_path: Path):
    sizes = []
    for n in (1_000, 10_000):
        png, svg = heatmap(_table3(n, lambda i: ("C1", "C5", "?")[i % 3]), tmp_path / f"h{n}")
        with Image.open(png) as image:
            sizes.append((image.size, svg.stat().st_size))
    (small_png, small_svg), (large_png, large_svg) = sizes
    assert large_png[1] <= small_png[1] * 1.05  # the same height: bands, not rows
    assert large_svg < 1.3 * small_svg


def test_a_share_narrower_than_a_pixel_is_still_drawn(tmp_path: Path):
    """Regression: 10,000 models in bands of 100 where one band holds a single C1 among 99 N/A:
    the C1 segment is a fraction of a pixel wide, and drawing the PNG failed (x1 < x0) at the
    end of a 10,000-model build. It is drawn one pixel wide."""
    n = 100 * LABELLED_ROWS
    png, _ = heatmap(_table3(n, lambda i: "C1" if i == 5 else "N/A"), tmp_path / "thin")
    c1 = tuple(int(COLOURS["1"][k : k + 2], 16) for k in (1, 3, 5))
    with Image.open(png) as image:  # the lone C1 is still there, a pixel wide
        assert c1 in {rgb[:3] for _, rgb in image.convert("RGB").getcolors(1 << 20)}
    d = Drawing("thin")
    d.rect(10, 10, 0.01, 0.01, "#f00")
    d.save(tmp_path / "tiny")
    with Image.open(tmp_path / "tiny.png") as image:
        assert image.getpixel((10 * SCALE, 10 * SCALE))[:3] == (255, 0, 0)


def test_the_heat_map_counted_in_the_store_is_the_one_drawn_from_table3(
    built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Past LABELLED_ROWS models the build draws the heat map from counts the store makes by
    band of rows (`internal/table3-bands`), not from `table3`'s row per cell (1.2 million rows
    at 100,000 models, held twice over, ran the report process out of memory). With bands of 4
    of the paper's 40 models, both ways give the same drawing, byte for byte."""
    from kg.outputs import reports
    from kg.release.release import Release

    monkeypatch.setattr(reports, "LABELLED_ROWS", 10)
    store = Release.current(built.out).open_store()
    try:
        table3 = list(reports.solutions(store, "table3"))
        _, counted = reports.write_heatmap(store, tmp_path / "counted")
    finally:
        store.close()
    _, folded = heatmap(table3, tmp_path / "folded")
    assert "40 models in Table 3's order, in bands of 4" in counted.read_text()
    assert counted.read_bytes() == folded.read_bytes()


def test_the_definitions_figure_reads_the_verdicts_definitions_lists(built, tmp_path: Path):
    """The figure reads `internal/definition-verdicts` (no condition counts, in any order)
    and draws what it drew from the library's `definitions` rows (by name, then definition)."""
    from kg.outputs import reports
    from kg.outputs.reports import definitions_matrix
    from kg.release.release import Release

    store = Release.current(built.out).open_store()
    try:
        library = list(reports.solutions(store, "definitions"))
        lean = list(reports.solutions(store, "internal/definition-verdicts"))
    finally:
        store.close()
    assert len(lean) == len([r for r in library if r["verdict"] in reports.VERDICT_COLOURS])
    _, a = definitions_matrix(library, tmp_path / "library")
    _, b = definitions_matrix(reversed(lean), tmp_path / "lean")
    assert a.read_bytes() == b.read_bytes()


def test_the_consistency_report_lists_the_first_findings_and_counts_them_all():
    from kg.checks.sparql_checks import CheckResult, errata_checks
    from kg.outputs.reports import ERRATA_LISTED, errata_markdown

    check = next(c for c in errata_checks() if c.name == "license-level-inconsistent")
    columns = ("component", "license", "stated_level", "derived_level", "explanation")
    rows = [
        {"model": f"model {i:04}"} | dict.fromkeys(columns, "x") for i in range(ERRATA_LISTED + 850)
    ]
    text = errata_markdown([CheckResult(check, list(rows[0]), rows)])
    assert f"**{ERRATA_LISTED + 850:,} findings.**" in text  # 1,050: thousands separated
    assert f"The first {ERRATA_LISTED} of {ERRATA_LISTED + 850:,} findings" in text
    assert "kg query errata -p rule=license-level-inconsistent" in text
    assert f"model {ERRATA_LISTED - 1:04}" in text and f"model {ERRATA_LISTED:04}" not in text
    few = errata_markdown([CheckResult(check, list(rows[0]), rows[:3])])
    assert "The first" not in few and "model 0002" in few
