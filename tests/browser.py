"""Headless Chromium for the page tests: Debian's `chromium` and `chromium-driver`, installed by the
test setup when missing (the machine's user must be allowed to run apt-get, as in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
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


def ensure_chromium() -> None:
    """Install Chromium and ChromeDriver from Debian if they are not there yet."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError("Chromium is missing and there is no apt-get to install it with")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, apt, "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run([*sudo, apt, "update", "-q"], env=env, capture_output=True, check=False)
        proc = subprocess.run(install, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"could not install {' '.join(PACKAGES)}: {proc.stderr[-2000:]}")


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
