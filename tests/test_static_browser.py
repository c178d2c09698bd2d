"""The static release as a person sees it on a plain static host, in headless Chromium: a model's
page at its IRI's path with its profile and its badge (the image loads, the snippets are there),
and a link to another resource that works without any server configuration (the home page's
overview: tests/test_front.py)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from static_hosts import PlainStaticServer

from browser import session

BASE = "https://w3id.org/genai-openness/"


browser = pytest.fixture(scope="module", name="browser")(session)


@pytest.fixture(scope="module")
def host(published: Path):
    with PlainStaticServer(published) as server:
        yield server


def test_model_page_at_its_path_shows_profile_and_badge(host: PlainStaticServer, browser):
    browser.get(host.url + "model/llama-2")  # the IRI's path, no extension, no slash
    assert browser.title == "LLaMA-2"
    assert browser.current_url == host.url + "model/llama-2/"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.profile tr")[1:]
    assert len(rows) == 12
    badge = browser.find_element(By.CSS_SELECTOR, "p.badge img")
    WebDriverWait(browser, 10).until(
        lambda b: b.execute_script("return arguments[0].complete", badge)
    )
    assert browser.execute_script("return arguments[0].naturalWidth", badge) > 50
    assert badge.is_displayed()
    with urllib.request.urlopen(badge.get_attribute("src")) as r:
        assert r.headers["Content-Type"] == "image/svg+xml"
    markdown = browser.find_element(By.CSS_SELECTOR, "textarea.badge-markdown")
    assert markdown.get_attribute("value") == (
        f"[![openness of the model's components]({BASE}badge/model/llama-2.svg)]"
        f"({BASE}model/llama-2)"
    )
    assert browser.find_element(By.CSS_SELECTOR, "textarea.badge-html").get_attribute("value")


def test_links_between_resources_work_on_a_plain_host(host: PlainStaticServer, browser):
    browser.get(host.url + "model/llama-2/")
    browser.find_element(By.LINK_TEXT, "Meta").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/organisation/meta/"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Meta"
    # the page offers its RDF beside it
    browser.find_element(By.LINK_TEXT, "Turtle").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/meta/index.ttl"))
    assert "primaryTopic" in browser.find_element(By.TAG_NAME, "body").text
