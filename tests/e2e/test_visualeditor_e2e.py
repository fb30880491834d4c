# SPDX-License-Identifier: GPL-3.0-or-later
"""The gadget in VisualEditor's visual mode, end to end: the real VisualEditor of the Debian
MediaWiki 1.39 (with its bundled Parsoid), the uk fixture's articles, the gadget installed by
``flask deploy-gadget``, the service over real HTTP, and a person's clicks in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from suggest.store.schema import decisions, edits
from suggest.wiki.wikitext import category_links, remove_categories
from tests.conftest import DUMPS, app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.e2e import helpers as h
from tests.e2e.test_gadget_e2e import (
    ARTICLE,
    CATEGORY_PREFIXES,
    DEPLOY_GRANTS,
    DEPLOYER,
    DEPLOYER_PASSWORD,
    EDITOR,
    EDITOR_PASSWORD,
    PAGES,
    deploy,
    enable_gadget,
    stored,
)
from tests.support.browser import save_screenshot
from tests.support.mediawiki import LocalMediaWiki

pytestmark = pytest.mark.mediawiki

VISUAL_EDITOR = """
wfLoadExtension( 'VisualEditor' );
$wgDefaultUserOptions['visualeditor-enable'] = 1;
$wgVisualEditorAvailableNamespaces = [ 'Main' => true ];
# No first-visit welcome dialog or education popups over the document.
$wgDefaultUserOptions['visualeditor-hidebetawelcome'] = 1;
$wgDefaultUserOptions['visualeditor-hideusered'] = 1;
"""
# The document's categories, as VisualEditor holds them.
CATEGORIES = ("return ve.init.target.getSurface().getModel().getMetaList().getItemsInGroup('mwCategory')"
              ".map(function (m) { return m.getElement().attributes.category; })")


@pytest.fixture(scope="module")
def wiki(mediawiki_factory: MediaWikiFactory, tmp_path_factory: pytest.TempPathFactory) -> LocalMediaWiki:
    wiki = mediawiki_factory("uk", shared=False)
    wiki.append_settings(VISUAL_EDITOR)
    subset = h.dump_subset(DUMPS / "ukwiki-sample.xml", PAGES,
                           tmp_path_factory.mktemp("ve") / "uk-subset.xml")
    wiki.php("importDump.php", "--username-prefix=imported", str(subset))
    wiki.create_category_pages()
    wiki.create_user(DEPLOYER, DEPLOYER_PASSWORD, groups=("interface-admin", "bot"))
    h.create_account(wiki, EDITOR, EDITOR_PASSWORD)
    return wiki


@pytest.fixture(scope="module")
def service(wiki: LocalMediaWiki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from suggest.web import create_app

    database = tmp_path_factory.mktemp("ve-store") / "events.sqlite3"
    app = create_app(app_config(f"sqlite:///{database}",
                                EXTRA_WIKIS={wiki.dbname: {"api_url": wiki.api_url, "lang": "uk"}}))
    with h.ServiceServer(app) as server:
        server.app = app
        server.store = app.extensions["wiki_suggest"].store
        login, password = wiki.create_bot_password(DEPLOYER, "deploy", grants=DEPLOY_GRANTS)
        result = deploy(server, wiki, login, password)
        assert result.exit_code == 0, result.output
        yield server


@pytest.fixture
def stripped(wiki: LocalMediaWiki, service: Any) -> dict[str, Any]:
    """The article without its category links, saved by the editor, who enables the gadget."""
    s = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    original = h.page_text(s, ARTICLE)
    text = remove_categories(original, CATEGORY_PREFIXES)
    s.post(action="edit", title=ARTICLE, text=text, summary="categories removed for a test",
           token=h.csrf(s))
    return {"session": s, "text": text, "revid": h.latest_revision(s, ARTICLE)["revid"]}


def open_visual_editor(browser: Any, wiki: LocalMediaWiki, session: Any) -> list[Any]:
    """The article in VisualEditor, as the editor; the suggestion items once shown."""
    from selenium.webdriver.common.by import By

    h.browser_session(browser, session)
    browser.get(wiki.page_url(ARTICLE, veaction="edit"))
    assert browser.execute_script("return mw.config.get('wgUserName')") == EDITOR
    h.wait_for(lambda: browser.execute_script(
        "return !!(window.ve && ve.init && ve.init.target && ve.init.target.getSurface &&"
        " ve.init.target.getSurface())"), timeout=60, what="VisualEditor to open")
    items = ".wiki-suggest-panel-visual .wiki-suggest-item"
    return h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, items), timeout=30,
                      what="suggestions in VisualEditor")


def test_editor_adds_a_category_in_visual_mode_and_saves(wiki: LocalMediaWiki, service: Any,
                                                         stripped: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    items = open_visual_editor(browser, wiki, stripped["session"])
    assert len(items) >= 2
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    assert set(rows) == set(ids)
    assert {row["task"] for row in rows.values()} == {"categories"}
    added, rejected = rows[ids[0]], rows[ids[1]]
    name = added["wikitext"].strip("[]")  # Категорія:...
    # Above the document, below VisualEditor's toolbar.
    assert browser.execute_script("return $('.wiki-suggest-panel-visual').next().is('.ve-ui-surface')")
    assert browser.execute_script(CATEGORIES) == []

    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    assert items[0].get_attribute("data-state") == "accepted"
    assert browser.execute_script(CATEGORIES) == [name]
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert browser.execute_script(CATEGORIES) == []
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    assert browser.execute_script(CATEGORIES) == [name]

    items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[1].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="wrong_topic"]').click()
    assert items[1].get_attribute("data-state") == "rejected"
    assert browser.execute_script(CATEGORIES) == [name]
    save_screenshot(browser, "e2e-visualeditor-panel")
    assert h.axe_violations(browser, ".wiki-suggest-panel-visual") == []

    # VisualEditor's own save: its toolbar button, its dialog's summary, its publish button.
    browser.find_element(By.CSS_SELECTOR, "a.ve-ui-toolbar-saveButton").click()
    summary = h.wait_for(lambda: [e for e in browser.find_elements(
        By.CSS_SELECTOR, ".ve-ui-mwSaveDialog-summary textarea") if e.is_displayed()],
        timeout=20, what="the save dialog")[0]
    summary.send_keys("geometry")
    publish = ".ve-ui-mwSaveDialog .oo-ui-processDialog-actions-primary .oo-ui-widget-enabled a"
    h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, publish), what="the publish button")[0].click()
    s = h.session(wiki)
    revision = h.wait_for(lambda: (lambda r: r if r["revid"] > stripped["revid"] else None)(
        h.latest_revision(s, ARTICLE)), timeout=30, what="the saved revision")
    assert revision["user"] == EDITOR
    content = revision["slots"]["main"]["content"]
    # The one category added, as the link the service proposed (Parsoid may write the rest of
    # the text its own way: here it adds the <references /> the page showed without one).
    assert category_links(content, CATEGORY_PREFIXES) == [name.split(":", 1)[1]]
    assert added["wikitext"] in content
    assert revision["comment"].startswith("geometry ")
    marker = f"+{added['wikitext']} (suggested by [[toolforge:wiki-suggest|wiki-suggest]])"
    assert marker in revision["comment"]

    got = stored(service, decisions, decisions.c.suggestion_id.in_(ids[:2]))
    assert sorted((d["suggestion_id"], d["decision"], d["reason"]) for d in got) == sorted(
        [(added["id"], "accept", None), (rejected["id"], "reject", "wrong_topic")])
    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id.in_(ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"], e["user_name"]) for e in linked] == [
        (added["id"], revision["revid"], EDITOR)]
    # VisualEditor closed on saving, and its panel with it.
    h.wait_for(lambda: not browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-panel-visual"),
               what="the panel to close with VisualEditor")
