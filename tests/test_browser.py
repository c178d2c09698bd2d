"""The pages in headless Chromium (Debian's chromium + chromium-driver, installed when missing):
a model page renders its coloured profile table, and the query page runs a query and shows rows."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser import query_error, session
from conftest import Built, query_rows
from kg.store.queries import library
from servers import KgServer


@pytest.fixture(scope="module")
def server(built: Built):
    with KgServer(built.out, "--timeout", "10") as srv:
        yield srv


browser = pytest.fixture(scope="module", name="browser")(session)


def test_model_page_renders_its_profile_table(server: KgServer, browser, built: Built):
    browser.get(server.url + "model/llama-2")
    assert browser.title == "LLaMA-2"
    table = browser.find_element(By.CSS_SELECTOR, "table.profile")
    rows = table.find_elements(By.TAG_NAME, "tr")[1:]
    assert len(rows) == 12
    cells = [r.find_elements(By.TAG_NAME, "td") for r in rows]
    levels = [c[2] for c in cells]
    # The levels shown, in order, are the paper's Table 3 row for LLaMA-2.
    expected = [r["level"] for r in query_rows(built.out, "table3", "--param", "model=LLaMA-2")]
    assert [level.text for level in levels] == expected
    assert all(level.is_displayed() for level in levels)
    # The level cells are coloured: the browser computes a background other than white.
    colours = {level.value_of_css_property("background-color") for level in levels}
    assert colours - {"rgba(0, 0, 0, 0)", "rgba(255, 255, 255, 1)"}
    # The page offers its RDF, and following a link to another resource works.
    formats = {a.text for a in browser.find_elements(By.CSS_SELECTOR, "a[type]")}
    assert {"Turtle", "N-Triples", "JSON-LD", "RDF/XML"} <= formats
    browser.find_element(By.LINK_TEXT, "Turtle").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("llama-2.ttl"))
    assert "gao:" in browser.find_element(By.TAG_NAME, "body").text


def test_query_page_runs_a_library_question(server: KgServer, browser):
    browser.get(server.url + "query")
    names = [
        o.get_attribute("value") for o in Select(browser.find_element(By.ID, "examples")).options
    ]
    assert set(names) - {""} == {q.name for q in library()}
    Select(browser.find_element(By.ID, "examples")).select_by_value("open-weights-closed-data")
    assert "SELECT" in browser.find_element(By.ID, "query").get_attribute("value")
    browser.find_element(By.ID, "run").click()
    table = WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.ID, "result-table"))
    )
    rows = table.find_elements(By.TAG_NAME, "tr")
    assert len(rows) > 1
    assert "rows" in browser.find_element(By.ID, "status").text


def test_query_page_binds_a_parameter_where_the_question_marks_it(
    server: KgServer, browser, built: Built
):
    """table3 marks its sub-select with `# bind ?model ?component`: the page binds the model
    there, as `kg query` does, and gets kg query's rows."""
    browser.get(server.url + "query")
    Select(browser.find_element(By.ID, "examples")).select_by_value("table3")
    browser.find_element(By.ID, "param-model").send_keys("GPT-2")
    text = browser.find_element(By.ID, "query").get_attribute("value")
    assert "# bind" not in text
    inner = text.index("SELECT * WHERE {")
    assert text.index('VALUES (?model) { ("GPT-2") }') > inner
    assert "VALUES (?model)" not in text[-80:]  # not a trailing block
    browser.find_element(By.ID, "run").click()
    table = WebDriverWait(browser, 20).until(
        ec.presence_of_element_located((By.ID, "result-table"))
    )
    shown = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in table.find_elements(By.TAG_NAME, "tr")[1:]
    ]
    expected = query_rows(built.out, "table3", "--param", "model=GPT-2")
    assert [r[:3] for r in shown] == [[e["model"], e["component"], e["level"]] for e in expected]


def test_query_page_shows_the_servers_refusal(server: KgServer, browser):
    browser.get(server.url + "query")
    error = query_error(
        browser, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    )
    assert error.startswith("403") and "SERVICE" in error


def test_home_page_links_the_query_page(server: KgServer, browser):
    browser.get(server.url)
    browser.find_element(By.LINK_TEXT, "SPARQL query page").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/query"))
    assert browser.find_element(By.ID, "examples")
