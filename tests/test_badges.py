"""Openness badges: a valid SVG per model at a stable URL, showing what the paper's Table 3 says,
with copy-paste Markdown and HTML on the model's page."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import Built, query_rows

SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://w3id.org/genai-openness/"


def test_every_model_has_a_valid_badge_that_matches_table_3(built: Built, published: Path):
    models = query_rows(built.out, "models")
    badges = sorted((published / "badge" / "model").glob("*.svg"))
    assert len(badges) == len(models) == 40
    # beside each model's badge, a folder of its badges under each definition (below)
    folders = [p for p in (published / "badge" / "model").iterdir() if p.is_dir()]
    assert {p.name for p in folders} == {b.stem for b in badges}
    cells = query_rows(built.out, "table3", "--param", "model=LLaMA-2")
    applicable = [c["level"] for c in cells if c["level"] != "N/A"]
    fully_open = [level for level in applicable if level in ("C5", "D5")]
    root = ET.parse(published / "badge" / "model" / "llama-2.svg").getroot()
    assert root.tag == f"{SVG}svg" and int(root.get("height")) == 20 and int(root.get("width")) > 50
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["openness", f"{len(fully_open)}/{len(applicable)} open"]
    assert root.get("aria-label") == f"openness: {texts[1]}"
    title = root.find(f"{SVG}title").text
    assert title.startswith("LLaMA-2: of 12 components in the paper's Table 3")


def test_the_model_page_shows_the_badge_and_snippets(published: Path):
    page = (published / "model" / "llama-2" / "index.html").read_text()
    assert '<img src="../../badge/model/llama-2.svg"' in page
    assert (published / "model" / "llama-2" / "../../badge/model/llama-2.svg").resolve().is_file()
    url = f"{BASE}badge/model/llama-2.svg"
    markdown = f"[![openness of the model's components]({url})]({BASE}model/llama-2)"
    assert html.escape(markdown) in page
    assert html.escape(f'<a href="{BASE}model/llama-2"><img src="{url}"') in page


SHORT = {
    "paper-levels": "Eiras et al. levels",
    "osaid-1-0": "OSAID 1.0",
    "eu-ai-act-open-source-exemption": "EU AI Act 53(2)",
}


def test_one_badge_per_model_and_definition_showing_its_verdict(built: Built, published: Path):
    """Every model's verdict under each definition (`kg query definitions`) as a valid SVG at
    badge/model/<model>/<definition>.svg, its label the definition, its text the verdict."""
    verdicts = {
        (r["model"].rsplit("/model/", 1)[-1], r["definition"].rsplit("#", 1)[-1]): r["verdict"]
        for r in query_rows(built.out, "definitions")
    }
    files = sorted((published / "badge" / "model").glob("*/*.svg"))
    assert {(p.parent.name, p.stem) for p in files} == set(verdicts)
    assert len(files) == 3 * 40
    for path in files:
        root = ET.parse(path).getroot()  # well-formed XML, one SVG
        assert root.tag == f"{SVG}svg"
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert texts[0] == SHORT[path.stem]
        # the verdict's label, whose notation the definitions question gives
        assert texts[1].replace(" ", "-") == verdicts[(path.parent.name, path.stem)], path


def test_the_model_page_explains_each_verdict_with_its_badge(published: Path):
    page = (published / "model" / "gpt-4" / "index.html").read_text()
    assert "Is it open? Each definition" in page
    # a failed condition, the check that fails it, and the record it rests on
    assert '<li class="outcome-failed"><b>parameters under OSI-approved terms</b>: failed' in page
    assert "failed: model architecture and weights: D2 (API access only) · rests on" in page
    assert "undecidable from public data: Art. 51(2)" in page
    url = f"{BASE}badge/model/gpt-4/osaid-1-0.svg"
    assert '<img src="../../badge/model/gpt-4/osaid-1-0.svg"' in page
    assert html.escape(f"[![OSAID 1.0: not conformant]({url})]({BASE}model/gpt-4)") in page
