# SPDX-License-Identifier: GPL-3.0-or-later
"""Headless Chromium driven by Selenium, for end-to-end tests.

Only the Debian ``chromium`` and ``chromium-driver`` packages are used: no tool
may download a browser of its own (that fails on machines without internet).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts"
WINDOW_SIZE = (1280, 900)

# Flags that let Chromium run headless as root in a container without reaching out to
# the network on its own (updates, sync, QUIC probes).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


class BrowserUnavailable(RuntimeError):
    """Chromium or its WebDriver is not installed."""


@contextmanager
def chromium_driver(window_size: tuple[int, int] = WINDOW_SIZE) -> Iterator[object]:
    """Start a headless Chromium with a fresh profile; quit it and remove the profile after."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        raise BrowserUnavailable(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing; "
            "run tests/support/install_mediawiki_packages.sh"
        )
    # A fresh profile per test: the ResourceLoader startup module and cookies
    # must not leak from one test into the next.
    profile = Path(tempfile.mkdtemp(prefix="wiki-suggest-chromium-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={window_size[0]},{window_size[1]}")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.set_window_size(*window_size)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(driver: object, name: str) -> Path:
    """Save a PNG of the current page as ``test-artifacts/<name>.png`` and return its path."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "screenshot"
    if not safe.endswith(".png"):
        safe += ".png"
    path = ARTIFACTS_DIR / safe
    if not driver.save_screenshot(str(path)):  # type: ignore[attr-defined]
        raise RuntimeError(f"could not save screenshot {path}")
    return path
