"""Reports and pages are rendered from templates: Markdown cells cannot break a table, HTML is
escaped, and a value the template needs but does not get is an error, never an empty cell."""

from __future__ import annotations

import jinja2
import pytest

from kg.outputs.templating import environment, md_cell, render


def test_markdown_cells_cannot_break_the_table():
    assert md_cell("GPL | MIT\nor later") == "GPL \\| MIT or later"
    assert md_cell(None) == ""


def test_html_templates_autoescape_and_markdown_ones_do_not():
    select = environment().autoescape
    assert callable(select)
    assert select("page.html") and select("page.html.j2")
    assert not select("errata.md.j2")


def test_a_missing_value_is_an_error():
    with pytest.raises(jinja2.UndefinedError):
        render("errata.md.j2", results=[])  # no total
