"""The front door in headless Chromium and over HTTP: the home page's overview of every model
(search, filters, sorting, paging; the first page without JavaScript), its search of models,
licenses, organisations, statements and claims by name or alias, on a plain static host and
under `kg serve` (whose home page answers the search form itself)."""

from __future__ import annotations

import json
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from static_hosts import PlainStaticServer

from browser import query_error, session
from conftest import Built
from servers import KgServer

ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = 130  # models: two pages of the table


browser = pytest.fixture(scope="module", name="browser")(session)


@pytest.fixture(scope="module")
def host(published: Path) -> Iterator[PlainStaticServer]:
    with PlainStaticServer(published) as server:
        yield server


@pytest.fixture(scope="module")
def server(built: Built) -> Iterator[KgServer]:
    with KgServer(built.out, "--timeout", "10") as srv:
        yield srv


@pytest.fixture(scope="module")
def synthetic() -> Iterator[PlainStaticServer]:
    """The home page of a graph of 130 paper-shaped models (benchmarks/synth_paper.py), as
    `kg publish` writes it, on a plain static host."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from synth_paper import synth_sources

    from kg.outputs.overview import write_home
    from kg.outputs.pages import Site
    from kg.release.build import assemble
    from kg.store import OxigraphStore
    from kg.vocab.namespaces import DEFAULT_BASE, Base

    with tempfile.TemporaryDirectory(prefix="kg-front-") as tmp:
        store = OxigraphStore.in_memory()
        store.add_quads(assemble(synth_sources(SYNTHETIC, Path(tmp) / "sources")))
        site = Path(tmp) / "site"
        site.mkdir()
        write_home(Site(store, Base(DEFAULT_BASE), folders=True), site, [])
        with PlainStaticServer(site) as server:
            yield server


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read().decode("utf-8")


def ready(browser, url: str) -> None:
    browser.get(url)
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "overview").get_attribute("data-ready") == "1"
    )


def column(browser, index: int) -> list[str]:
    """The texts of one column of the rows shown (in one round trip)."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#overview tbody tr')]"
        ".map(r => r.cells[arguments[0]].innerText.trim())",
        index,
    )


def text(browser, id_: str) -> str:
    return browser.find_element(By.ID, id_).text


def test_first_page_is_html_and_paging_filters_and_sorting_work(synthetic, browser):
    page = get(synthetic.url)  # what a browser without JavaScript shows
    assert page.count("<tr><td><a href=") == 100
    assert f"100 of {SYNTHETIC} models" not in page and f"{SYNTHETIC} of {SYNTHETIC}" in page
    ready(browser, synthetic.url)
    assert text(browser, "overview-count") == f"{SYNTHETIC} of {SYNTHETIC} models"
    assert len(column(browser, 0)) == 100 and text(browser, "overview-pages") == "2"
    browser.find_element(By.ID, "overview-next").click()
    assert len(column(browser, 0)) == SYNTHETIC - 100
    assert text(browser, "overview-page") == "2" and "page=2" in browser.current_url
    ready(browser, browser.current_url)  # the page's URL is a permalink
    assert text(browser, "overview-page") == "2"
    # a filter: every row shown has that developer; the count and the URL say so
    developer = Select(browser.find_element(By.CSS_SELECTOR, "select[data-filter=developer]"))
    choice = developer.options[1].text
    developer.select_by_visible_text(choice)
    developers = column(browser, 1)
    assert developers and all(choice in d for d in developers)
    assert text(browser, "overview-count").startswith(f"{len(developers)} of {SYNTHETIC}")
    assert text(browser, "overview-page") == "1"
    assert urllib.parse.urlencode({"developer": choice}) in browser.current_url
    developer.select_by_index(0)
    # sorting by year, both ways, over every model (not just the page shown)
    header = browser.find_elements(By.CSS_SELECTOR, "#overview thead th")[2]
    header.click()
    years = column(browser, 2)
    header.click()
    assert column(browser, 2)[0] >= years[-1] and years == sorted(years)


def test_search_finds_every_kind_by_name_or_alias(host, browser, built: Built):
    ready(browser, host.url)
    assert len(column(browser, 0)) == 40
    box = browser.find_element(By.ID, "overview-search")
    finds = {
        "llama": ("model", "LLaMA-2"),
        "apache": ("license", "Apache"),
        "mistral ai": ("organisation", "Mistral AI"),
        "safeguards": ("claim", "Closed Models Have Inherently Stronger Safeguards"),
    }
    for words, (kind, name) in finds.items():
        box.clear()
        box.send_keys(words)
        results = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#search-results li")]
        assert any(r.startswith(f"{kind}: {name}") for r in results), (words, results)
    box.clear()
    box.send_keys("llama")
    names = column(browser, 0)
    assert names and all("llama" in n.lower() for n in names)
    # an alias of a license (a string sources write for it) finds the license
    aliases = json.loads(get(host.url + "search.json"))
    entry = next(e for e in aliases if e[2] == "license" and e[3])
    box.clear()
    box.send_keys(entry[3][0])
    results = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#search-results li")]
    assert any(r.startswith(f"license: {entry[0]}") for r in results)
    link = browser.find_element(By.CSS_SELECTOR, "#search-results li a")
    assert not link.get_attribute("href").lower().startswith("javascript:")


def test_server_home_answers_the_form_without_javascript(server: KgServer):
    query = urllib.parse.urlencode({"q": "llama", "developer": "Meta"})
    page = get(server.url + "?" + query)
    rows = re.findall(r'<tr><td class="pick">.*?</tr>', page)
    assert rows and all("LLaMA" in r and "<td>Meta</td>" in r for r in rows)
    assert "model: <a href=" in page  # the search's other finds
    hostile = get(server.url + "?" + urllib.parse.urlencode({"q": '"><script>alert(1)</script>'}))
    assert "<script>alert(1)" not in hostile and "0 of 40 models" in hostile
    assert "of 40 models" in get(server.url + "?page=-3&developer=" + "x" * 5000)
    data = json.loads(get(server.url + "overview.json"))
    assert len(data["models"]) == 40 and len(data["columns"]) == 12


def test_the_overview_folded_by_the_build_reads_back_as_asked(built: Built):
    """`kg serve` starts from the overview the build folded (decision 32): read back, it gives
    the same table, JSON, search index and first page as asking the store again."""
    from kg.errors import KgError
    from kg.outputs.overview import OVERVIEW_FOLDED, Folded, Overview
    from kg.outputs.pages import Site
    from kg.release.release import Release
    from kg.store import OxigraphStore
    from kg.vocab.namespaces import Base

    release = Release.current(built.out)
    folded = Folded.read(release.path / OVERVIEW_FOLDED)
    assert folded is not None and len(folded.rows) == 40
    store = OxigraphStore.open_read_only(release.path / "store")
    try:
        site = Site(store, Base(release.manifest["base"]), lazy=True)
        kept, asked = Overview(site, folded), Overview(site)
        assert kept.data() == asked.data()
        assert kept.search_data() == asked.search_data()
        assert kept.view() == asked.view()
        llama = next(r for r in kept.rows if r.name == "LLaMA-2")
        assert llama.developer == {"Meta"} and len(llama.cells) == 12
    finally:
        store.close()
    stale = Path(tempfile.mkdtemp()) / "folded.json"
    stale.write_text(json.dumps({"version": 0, "rows": []}))
    assert Folded.read(stale) is None  # another version: asked again
    assert Folded.read(stale.parent / "missing.json") is None
    stale.write_bytes(b'{"version": "1-')  # cut short: an error naming the file, not a trace
    with pytest.raises(KgError, match=r"folded\.json is not the JSON the build wrote"):
        Folded.read(stale)
    # folded by other questions (the version carries their texts, review of decision 32)
    doc = json.loads((release.path / OVERVIEW_FOLDED).read_text())
    assert doc["version"].startswith("1-")
    doc["version"] = "1-" + "0" * 16
    stale.write_text(json.dumps(doc))
    assert Folded.read(stale) is None


def test_hostile_names_and_iris_stay_inert_in_the_overview():
    import pyoxigraph as ox
    from test_templating import hostile_site

    from kg.outputs.overview import Overview
    from kg.vocab.namespaces import GAO, RDF, RDFS

    site, base = hostile_site()
    evil = ox.NamedNode("javascript:alert(3)")
    graph = ox.NamedNode(base + "graph/x")
    site.store.add_quads(
        [
            ox.Quad(evil, ox.NamedNode(RDF + "type"), ox.NamedNode(GAO + "AIModel"), graph),
            ox.Quad(evil, ox.NamedNode(RDFS + "label"), ox.Literal("evil"), graph),
        ]
    )
    overview = Overview(site)
    page = site.index([], overview.view())
    assert "<script>alert" not in page and 'href="javascript:' not in page.lower()
    assert "<code>evil</code>" in page  # shown, not linked
    models = {m["n"]: m for m in json.loads(overview.data())["models"]}
    assert models["evil"]["h"] is None and models['<script>alert("x")</script>']["h"]
    assert all(
        e[1] is None or not e[1].startswith("javascript")
        for e in json.loads(overview.search_data())
    )


def test_compare_from_the_overview_with_a_permalink(server: KgServer, browser):
    ready(browser, server.url)
    box = browser.find_element(By.ID, "overview-search")
    picked = []
    for words in ("llama-2", "mistral", "gpt-4"):
        box.clear()
        box.send_keys(words)
        tick = browser.find_element(By.CSS_SELECTOR, "#overview tbody input[name=model]")
        picked.append(tick.get_attribute("value"))
        tick.click()
    browser.find_element(By.CSS_SELECTOR, "#overview-compare button").click()
    WebDriverWait(browser, 20).until(lambda b: "/compare?" in b.current_url)
    heads = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#compare thead th")][1:]
    assert len(heads) == 3 and heads[0].startswith("LLaMA") and heads[2] == "GPT-4"
    rows = browser.find_elements(By.CSS_SELECTOR, "#compare tbody tr")
    assert len(rows) == 12
    weights = next(r for r in rows if r.find_element(By.TAG_NAME, "th").text == "weights")
    cells = weights.find_elements(By.TAG_NAME, "td")
    assert all(c.find_elements(By.CSS_SELECTOR, "div.judgment a") for c in cells)  # evidence
    permalink = browser.current_url
    assert [urllib.parse.parse_qs(urllib.parse.urlsplit(permalink).query)["model"]] == [picked]
    assert get(permalink).count('<div class="judgment"') >= 36  # the same page, served again
    # names work as well as paths; what cannot be compared says why
    by_name = get(server.url + "compare?model=llama-2&model=GPT-4")
    assert by_name.count("<th><a href=") == 2
    for query, message in (
        ("model=model/llama-2", "choose at least 2 models"),
        (
            "&".join(f"model={m}" for m in ["llama-2", "gpt-4", "gpt-2", "bloom", "opt", "falcon"]),
            "at most 5",
        ),
        ("model=model/llama-2&model=%3Cscript%3E", "no model &#x27;&lt;script&gt;&#x27;"),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(server.url + "compare?" + query)
        assert refused.value.code == 400
        assert message in refused.value.read().decode()


def test_query_page_permalink_downloads_prefixes_parameters_and_errors(server: KgServer, browser):
    from selenium.webdriver.support import expected_conditions as ec

    browser.get(server.url + "query")
    editor = browser.find_element(By.ID, "query")
    start = editor.get_attribute("value")
    assert "PREFIX gao: <https://w3id.org/genai-openness/ontology#>" in start
    assert "PREFIX rdfs:" in start and "gao:AIModel" in start
    # a permalink loads the query and runs it
    text = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + (
        'SELECT ?s WHERE { ?s rdfs:label "LLaMA-2"@en }'
    )
    browser.get(server.url + "query?" + urllib.parse.urlencode({"query": text}))
    table = WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.ID, "result-table"))
    )
    assert "model/llama-2" in table.text
    assert browser.find_element(By.ID, "query").get_attribute("value") == text
    permalink = browser.find_element(By.ID, "permalink").get_attribute("href")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(permalink).query)["query"] == [text]
    downloads = {}
    for fmt in ("csv", "tsv", "json"):
        with urllib.request.urlopen(
            browser.find_element(By.ID, f"download-{fmt}").get_attribute("href"), timeout=60
        ) as r:
            downloads[fmt] = (r.headers["Content-Type"], r.read().decode())
    assert downloads["csv"][0].startswith("text/csv") and "model/llama-2" in downloads["csv"][1]
    assert downloads["tsv"][0].startswith("text/tab-separated-values")
    assert json.loads(downloads["json"][1])["results"]["bindings"]
    # a library question with a parameter: its hint, its example, bound as a VALUES block
    Select(browser.find_element(By.ID, "examples")).select_by_value("evidence-for")
    field = browser.find_element(By.ID, "param-id")
    assert field.get_attribute("value") == "open-models-cannot-be-rolled-back"
    assert "required" in browser.find_element(By.ID, "parameters").text
    assert "VALUES (?id)" in browser.find_element(By.ID, "query").get_attribute("value")
    field.clear()
    field.send_keys('x" } ; DROP ALL ; #')  # a value stays a string literal
    value = browser.find_element(By.ID, "query").get_attribute("value")
    assert 'VALUES (?id) { ("x\\" } ; DROP ALL ; #") }' in value
    # a syntax error: where and what, in a few words
    error = query_error(browser, "SELECT ?x WHERE {\n  ?x a foo:Bar }")
    assert error.startswith("400") and "line 2, column" in error
    assert "prefix 'foo:' is not declared" in error and "u{" not in error and len(error) < 300


def test_kg_query_parameters_match_as_the_graph_spells_them_or_say_so(built: Built):
    from conftest import run_kg

    out = str(built.out)
    proc = run_kg("query", "table3", "-p", "model=gpt-2", "-p", "component=WEIGHTS", "--out", out)
    assert proc.returncode == 0 and "D5" in proc.stdout
    assert "model='gpt-2' matched as \"GPT-2\"" in proc.stderr
    proc = run_kg("query", "models", "-p", "model=LLaMA-2", "-f", "csv", "--out", out)
    assert proc.returncode == 0 and proc.stdout.count("\n") == 2  # header and LLaMA-2
    proc = run_kg("query", "models", "-p", "model=no-such-model", "--out", out)
    assert proc.returncode == 2
    assert "parameter model='no-such-model' matches nothing" in proc.stderr
    # a parameter the graph holds, with an answer that is empty for another reason: no error
    proc = run_kg("query", "risks-by-component", "-p", "component=Meta", "--out", out)
    assert proc.returncode == 0 and "matches nothing" not in proc.stderr


def test_syntax_errors_read_short():
    import pyoxigraph as ox

    from kg.store.syntax import readable

    text = "SELECT ?x WHERE { ?x a foo:Bar }"
    with pytest.raises(SyntaxError) as raised:
        ox.Store().query(text)
    assert len(str(raised.value)) > 300  # the parser's list of Unicode ranges
    assert readable(str(raised.value), text) == (
        "line 1, column 31: the prefix 'foo:' is not declared (add PREFIX foo: <…>)\n"
        f"  {text}\n" + " " * 32 + "^"
    )
    assert readable("no position here", text) == "no position here"
