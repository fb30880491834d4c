# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest plugin: a local MediaWiki and a headless browser for end-to-end tests.

Registered from tests/conftest.py with ``pytest_plugins = ["tests.conftest_mediawiki"]``.

Fixtures:

``mediawiki_factory`` (session)
    ``mediawiki_factory(lang="en")`` returns a started :class:`LocalMediaWiki`
    for that content language, one per language for the whole session.
    ``mediawiki_factory(lang, shared=False)`` returns a new wiki of its own
    (copied from an installed template, about a second). All are stopped at
    the end of the session. If the Debian packages are missing and cannot be
    installed, the fixture fails: these tests are meant to run, not to skip.
``mediawiki`` (session)
    ``mediawiki_factory("en")``.
``browser`` (function)
    A Selenium driver for headless Chromium with a fresh profile; a screenshot
    goes to ``test-artifacts/`` when the test fails.

Mark tests that use them with ``@pytest.mark.mediawiki``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.support.browser import BrowserUnavailable, chromium_driver, save_screenshot
from tests.support.mediawiki import LocalMediaWiki, MediaWikiError, ensure_packages

MediaWikiFactory = Callable[..., LocalMediaWiki]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mediawiki: needs the local MediaWiki fixture (and maybe Chromium)"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    # Keep each phase's report on the item so the browser fixture can tell a failed test.
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def mediawiki_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MediaWikiFactory]:
    try:
        ensure_packages()
    except MediaWikiError as e:
        pytest.fail(f"The local MediaWiki test fixture is unavailable: {e}", pytrace=False)

    root = tmp_path_factory.mktemp("mediawiki")
    by_lang: dict[str, LocalMediaWiki] = {}
    started: list[LocalMediaWiki] = []
    counter = 0

    def factory(lang: str = "en", *, shared: bool = True) -> LocalMediaWiki:
        nonlocal counter
        if shared and lang in by_lang:
            return by_lang[lang]
        counter += 1
        wiki = LocalMediaWiki(root / f"{lang}-{counter}", lang=lang)
        t0 = time.monotonic()
        try:
            wiki.install(template_dir=root / f"template-{lang}")
            wiki.start()
        except MediaWikiError as e:
            wiki.stop()
            pytest.fail(f"Could not start a local MediaWiki ({lang}): {e}", pytrace=False)
        wiki.startup_seconds = time.monotonic() - t0  # type: ignore[attr-defined]
        started.append(wiki)
        if shared:
            by_lang[lang] = wiki
        return wiki

    yield factory

    for wiki in started:
        wiki.stop()


@pytest.fixture(scope="session")
def mediawiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    return mediawiki_factory("en")


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[object]:
    try:
        driver_cm = chromium_driver()
        driver = driver_cm.__enter__()
    except BrowserUnavailable as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield driver
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            try:
                save_screenshot(driver, f"{request.node.nodeid}-failed")
            except Exception as e:  # the failure itself matters more than its picture
                print(f"could not save a screenshot: {e}")
    finally:
        driver_cm.__exit__(None, None, None)
