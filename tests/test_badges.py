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
    assert not [p for p in (published / "badge" / "model").iterdir() if p.is_dir()]
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
