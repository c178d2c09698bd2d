"""Headless Chromium for the page tests: Debian's `chromium` and `chromium-driver`, installed by
`.ci/system-packages` (run by `.ci/run`); the tests skip with a reason when they are absent."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = ["chromium", "chromium-driver"]
# As the machine's closed network needs: no background connections, no GPU, no sandbox (root).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


def missing_chromium() -> str | None:
    """Why the page tests cannot run here, or None when Chromium and ChromeDriver are there."""
    absent = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not absent:
        return None
    return (
        f"{' and '.join(absent)} missing: install Debian's {' '.join(PACKAGES)} "
        "(bash .ci/system-packages does)"
    )


def driver():
    """A Selenium WebDriver over headless Chromium, with its own empty profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="kg-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    browser.profile_dir = profile  # type: ignore[attr-defined]
    return browser


def quit_driver(browser) -> None:
    browser.quit()
    shutil.rmtree(browser.profile_dir, ignore_errors=True)


def session():
    """One headless Chromium for a test module (`browser = pytest.fixture(scope="module",
    name="browser")(session)`), skipped with the reason when Chromium is not installed."""
    import pytest

    reason = missing_chromium()
    if reason:
        pytest.skip(reason)
    b = driver()
    try:
        yield b
    finally:
        quit_driver(b)


def query_error(browser, text: str) -> str:
    """Type `text` into the open query page, run it and return the error line it shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    editor = browser.find_element(By.ID, "query")
    editor.clear()
    editor.send_keys(text)
    browser.find_element(By.ID, "run").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "error").text)
    return browser.find_element(By.ID, "error").text
