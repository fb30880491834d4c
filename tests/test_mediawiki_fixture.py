# SPDX-License-Identifier: GPL-3.0-or-later
"""The local MediaWiki fixture works: real imports, real API, real logins, a real browser."""

from __future__ import annotations

import re
import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import mwapi
import pytest
import requests

from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.browser import save_screenshot
from tests.support.mediawiki import LocalMediaWiki, MediaWikiError

pytestmark = pytest.mark.mediawiki

DUMPS = Path(__file__).parent / "fixtures" / "dumps"
USER_AGENT = "wiki-suggest-tests/0.1 (local test fixture) requests"
EXPORT_NS = "{http://www.mediawiki.org/xml/export-0.10/}"


def explicit_categories(dump: Path, title: str) -> set[str]:
    """Category names written in the page's wikitext in ``dump`` (canonical or local prefix)."""
    root = ET.parse(dump).getroot()
    local = root.find(f"{EXPORT_NS}siteinfo/{EXPORT_NS}namespaces/{EXPORT_NS}namespace[@key='14']")
    prefixes = {"Category", local.text if local is not None else "Category"}
    for page in root.iter(f"{EXPORT_NS}page"):
        if page.findtext(f"{EXPORT_NS}title") == title:
            text = page.findtext(f"{EXPORT_NS}revision/{EXPORT_NS}text") or ""
            names = "|".join(map(re.escape, prefixes))
            pattern = rf"\[\[\s*(?:{names})\s*:\s*([^\]|]+)"
            return {re.sub(r"[_\s]+", " ", m).strip() for m in re.findall(pattern, text)}
    raise AssertionError(f"{title!r} is not in {dump}")


def api(wiki: LocalMediaWiki, **params: str) -> dict:
    r = requests.get(
        wiki.api_url,
        params={**params, "format": "json", "formatversion": "2"},
        headers={"User-Agent": USER_AGENT},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()


def page_categories(wiki: LocalMediaWiki, title: str) -> tuple[set[str], str]:
    """Return the page's category names without prefix, and the prefix the wiki uses."""
    doc = api(wiki, action="query", prop="categories", titles=title, cllimit="max")
    page = doc["query"]["pages"][0]
    assert "missing" not in page, f"{title!r} was not imported"
    full = [c["title"] for c in page.get("categories", [])]
    prefixes = {t.split(":", 1)[0] for t in full}
    assert len(prefixes) <= 1, full
    return {t.split(":", 1)[1] for t in full}, next(iter(prefixes), "")


@pytest.fixture(scope="module")
def en_wiki(mediawiki: LocalMediaWiki) -> LocalMediaWiki:
    t0 = time.monotonic()
    mediawiki.import_xml(DUMPS / "enwiki-sample.xml")
    mediawiki.import_seconds = time.monotonic() - t0  # type: ignore[attr-defined]
    return mediawiki


@pytest.fixture(scope="module")
def uk_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("uk")
    wiki.import_xml(DUMPS / "ukwiki-sample.xml")
    return wiki


def test_en_import_registers_categories(en_wiki: LocalMediaWiki) -> None:
    expected = explicit_categories(DUMPS / "enwiki-sample.xml", "Albedo")
    assert "Climatology" in expected
    categories, prefix = page_categories(en_wiki, "Albedo")
    assert prefix == "Category"
    assert expected <= categories

    # The imported text is intact.
    doc = api(
        en_wiki,
        action="query",
        prop="revisions",
        titles="Albedo",
        rvprop="content",
        rvslots="main",
    )
    text = doc["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
    assert "[[Category:Climatology]]" in text
    assert "'''Albedo'''" in text

    general = api(en_wiki, action="query", meta="siteinfo", siprop="general")["query"]["general"]
    assert general["server"] == en_wiki.url

    # Every page of the fixture in the main namespace arrived (plus the installer's Main Page).
    root = ET.parse(DUMPS / "enwiki-sample.xml").getroot()
    in_dump = {
        p.findtext(f"{EXPORT_NS}title")
        for p in root.iter(f"{EXPORT_NS}page")
        if p.findtext(f"{EXPORT_NS}ns") == "0"
    }
    doc = api(en_wiki, action="query", list="allpages", apnamespace="0", aplimit="max")
    assert {p["title"] for p in doc["query"]["allpages"]} == in_dump | {"Main Page"}


def test_uk_wiki_uses_localized_category_namespace(uk_wiki: LocalMediaWiki) -> None:
    doc = api(uk_wiki, action="query", meta="siteinfo", siprop="namespaces|general")
    assert doc["query"]["namespaces"]["14"]["name"] == "Категорія"
    assert doc["query"]["namespaces"]["14"]["canonical"] == "Category"
    assert doc["query"]["general"]["lang"] == "uk"

    expected = explicit_categories(DUMPS / "ukwiki-sample.xml", "Коло")
    assert "Планіметрія" in expected
    categories, prefix = page_categories(uk_wiki, "Коло")
    assert prefix == "Категорія"
    assert expected <= categories


def test_edit_and_users(en_wiki: LocalMediaWiki) -> None:
    en_wiki.create_user("Fixture tester", "Fixture-tester-pass-1", groups=("bot", "suppress"))
    en_wiki.edit(
        "Fixture edit test", "Text.\n[[Category:Fixture category]]", "test", user="Fixture tester"
    )
    categories, _ = page_categories(en_wiki, "Fixture edit test")
    assert categories == {"Fixture category"}
    doc = api(en_wiki, action="query", list="users", ususers="Fixture tester", usprop="groups")
    groups = set(doc["query"]["users"][0]["groups"])
    assert {"bot", "suppress", "user"} <= groups
    doc = api(
        en_wiki, action="query", prop="revisions", titles="Fixture edit test", rvprop="user|comment"
    )
    rev = doc["query"]["pages"][0]["revisions"][0]
    assert (rev["user"], rev["comment"]) == ("Fixture tester", "test")


def test_bot_password_login(en_wiki: LocalMediaWiki) -> None:
    en_wiki.create_user("Suggest bot", "Suggest-bot-pass-123")
    login_name, password = en_wiki.create_bot_password(
        "Suggest bot", "tests", grants=("basic", "editpage")
    )
    assert login_name == "Suggest bot@tests"

    # mwapi's login() uses action=clientlogin, which does not accept bot passwords.
    with pytest.raises(mwapi.errors.LoginError):
        mwapi.Session(en_wiki.url, user_agent=USER_AGENT, api_path="/api.php").login(
            login_name, password
        )

    session = mwapi.Session(
        en_wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2
    )
    # Bot passwords are accepted by action=login only (clientlogin refuses them).
    token = session.get(action="query", meta="tokens", type="login")["query"]["tokens"]
    result = session.post(
        action="login", lgname=login_name, lgpassword=password, lgtoken=token["logintoken"]
    )["login"]
    assert result["result"] == "Success", result
    assert session.get(action="query", meta="userinfo")["query"]["userinfo"]["name"] == (
        "Suggest bot"
    )

    # A wrong bot password is refused: the check is real.
    other = mwapi.Session(en_wiki.url, user_agent=USER_AGENT, api_path="/api.php")
    token = other.get(action="query", meta="tokens", type="login")["query"]["tokens"]
    bad = other.post(
        action="login", lgname=login_name, lgpassword="x" * 32, lgtoken=token["logintoken"]
    )["login"]
    assert bad["result"] != "Success"


def test_mwapi_clientlogin(en_wiki: LocalMediaWiki) -> None:
    session = mwapi.Session(
        en_wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2
    )
    session.login(en_wiki.admin_user, en_wiki.admin_password)
    info = session.get(action="query", meta="userinfo", uiprop="groups")["query"]["userinfo"]
    assert info["name"] == en_wiki.admin_user
    assert "interface-admin" in info["groups"]
    with pytest.raises(mwapi.errors.LoginError):
        mwapi.Session(en_wiki.url, user_agent=USER_AGENT, api_path="/api.php").login(
            en_wiki.admin_user, "wrong-password-123"
        )


def test_browser_opens_imported_page(en_wiki: LocalMediaWiki, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    browser.get(en_wiki.page_url("Albedo"))
    assert browser.title.startswith("Albedo")
    heading = browser.find_element(By.ID, "firstHeading").text
    assert heading == "Albedo"
    catlinks = browser.find_element(By.ID, "catlinks").text
    assert "Climatology" in catlinks

    shot = save_screenshot(browser, "fixture-albedo")
    assert shot.parent.name == "test-artifacts"
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_shared_wiki_is_cached_and_private_wiki_is_separate(
    mediawiki_factory: MediaWikiFactory, en_wiki: LocalMediaWiki
) -> None:
    assert mediawiki_factory("en") is en_wiki
    private = mediawiki_factory("en", shared=False)
    assert private is not en_wiki and private.port != en_wiki.port
    # A private wiki starts empty: the imports into the shared one are not there.
    doc = api(private, action="query", titles="Albedo")
    assert doc["query"]["pages"][0].get("missing") is True
    assert api(private, action="query", meta="siteinfo")["query"]["general"]["server"] == (
        private.url
    )


def test_stop_frees_the_port(tmp_path: Path) -> None:
    wiki = LocalMediaWiki(tmp_path / "wiki", lang="en")
    wiki.install()
    with pytest.raises(MediaWikiError):
        wiki.install()  # refuses to install over an existing wiki
    wiki.start()
    try:
        assert api(wiki, action="query", meta="siteinfo")["query"]["general"]["lang"] == "en"
    finally:
        wiki.stop()
    assert not wiki.running
    # No worker is left listening.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        assert s.connect_ex(("127.0.0.1", wiki.port)) != 0


def test_missing_packages_are_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import mediawiki as mw

    failing = tmp_path / "install.sh"
    failing.write_text("echo 'E: Unable to locate package mediawiki' >&2; exit 100\n")
    monkeypatch.setattr(mw, "MEDIAWIKI_DIR", tmp_path / "no-mediawiki")
    monkeypatch.setattr(mw, "INSTALL_SCRIPT", failing)
    with pytest.raises(mw.MediaWikiUnavailable, match="Unable to locate package"):
        mw.ensure_packages()
