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


HOSTILE = '<script>alert("x")</script>'


def hostile_site():
    """A store whose model is labelled with a script and points to a `javascript:` IRI, as a
    hostile source could state."""
    import pyoxigraph as ox

    from kg.outputs.pages import Site
    from kg.store import OxigraphStore
    from kg.vocab.namespaces import GAO, RDF, RDFS, Base

    base = "https://example.org/kg/"
    graph = ox.NamedNode(base + "graph/imports/tracker")
    model, other = ox.NamedNode(base + "model/x"), ox.NamedNode(base + "model/y")
    license = ox.NamedNode(base + "license/z")  # listed on the home page
    store = ox.Store()
    for s, p, o in (
        (model, ox.NamedNode(RDF + "type"), ox.NamedNode(GAO + "AIModel")),
        (model, ox.NamedNode(RDFS + "label"), ox.Literal(HOSTILE)),
        (model, ox.NamedNode(RDFS + "comment"), ox.Literal("a 'quoted' & <b>bold</b> note")),
        (model, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode("javascript:alert(1)")),
        (model, ox.NamedNode(RDFS + "seeAlso"), ox.NamedNode("JavaScript:alert(2)")),
        (other, ox.NamedNode(RDFS + "seeAlso"), model),
        (license, ox.NamedNode(RDFS + "label"), ox.Literal(HOSTILE)),
    ):
        store.add(ox.Quad(s, p, o, graph))
    return Site(OxigraphStore(store), Base(base)), base


def test_a_script_label_and_a_javascript_iri_are_inert_on_a_page():
    site, base = hostile_site()
    for page in (site.render(base + "model/x"), site.render(base + "model/y"), site.index([])):
        assert "<script>alert" not in page
        assert 'href="javascript:' not in page.lower()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    page = site.render(base + "model/x")
    assert "<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</title>" in page
    assert "<code>javascript:alert(1)</code>" in page  # shown as text, not followed
    assert "<code>JavaScript:alert(2)</code>" in page
    assert "a &#x27;quoted&#x27; &amp; &lt;b&gt;bold&lt;/b&gt; note" in page


def test_a_redirect_target_cannot_leave_its_attribute():
    from kg.outputs.linked import redirect_page

    page = redirect_page('x"><script>alert(1)</script>')
    assert "<script>" not in page and 'href="x&quot;&gt;&lt;script&gt;' in page


def test_markup_passes_unescaped_and_markdown_is_not_html_escaped():
    from markupsafe import Markup

    escaped = "{% autoescape true %}{{ a }}|{{ b }}{% endautoescape %}"
    page = environment().from_string(escaped).render(a=Markup("<br>"), b="<br>'")
    assert page == "<br>|&lt;br&gt;&#x27;"
    plain = "{% autoescape false %}{{ b }}{% endautoescape %}"
    assert environment().from_string(plain).render(b="<b>'") == "<b>'"
