# SPDX-License-Identifier: GPL-3.0-or-later
"""The gadget's references flow end to end: a real MediaWiki 1.39 (English, with Cite, Gadgets and
WikiEditor), the gadget installed by ``flask deploy-gadget``, the service (categories and references
enabled) as a real HTTP server with an SQLite store, and an editor's clicks in headless Chromium.

The article is a stub whose statement carries ``{{cn}}`` (a redirect to ``{{Citation needed}}``);
the article it links to, Albedo (tests/fixtures/references/enwiki-39.wiki), cites the source."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from suggest.store.schema import decisions, edits, suggestions
from suggest.tasks.references import citation_needed_names
from suggest.wiki import references as refs
from tests.conftest import app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.e2e import helpers as h
from tests.support.browser import save_screenshot
from tests.support.mediawiki import LocalMediaWiki

pytestmark = pytest.mark.mediawiki

GADGET = "wiki-suggest"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "references"
ARTICLE = "Earthshine"
MARKER = "{{cn|date=May 2016}}"
STATEMENT = "Earthshine observations are used to estimate the Earth's reflectance and its changes."
STUB = ("'''Earthshine''' is sunlight reflected by the Earth onto the night side of the "
        "[[Albedo|Moon]].\n\n"
        f"== Measurements ==\n{STATEMENT}{MARKER} The effect was described by Leonardo da Vinci."
        "\n\n== See also ==\n* [[Albedo]]\n")
SOURCE_TITLE = "Earthshine Observations of the Earth's Reflectance"
DEPLOYER, DEPLOYER_PASSWORD = "Gadget deployer", "Deployer-password-1234"
EDITOR, EDITOR_PASSWORD = "Reference Editor", "Editor-password-1234"
DEPLOY_GRANTS = ("basic", "highvolume", "editpage", "createeditmovepage", "editinterface",
                 "editsiteconfig")


@pytest.fixture(scope="module")
def wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    return reference_wiki(mediawiki_factory)


def reference_wiki(mediawiki_factory: MediaWikiFactory, settings: str = "") -> LocalMediaWiki:
    """A wiki of its own with the stub, Albedo and the citation-needed templates, the deployer
    and the editor; ``settings`` appended to its LocalSettings.php first."""
    wiki = mediawiki_factory("en", shared=False)
    if settings:
        wiki.append_settings(settings)
    # A fresh MediaWiki has no citation-needed template: create it and its usual redirect.
    wiki.edit("Template:Citation needed", "<sup>[''citation needed'']</sup>")
    wiki.edit("Template:Cn", "#REDIRECT [[Template:Citation needed]]")
    wiki.edit("Albedo", (FIXTURES / "enwiki-39.wiki").read_text(encoding="utf-8"))
    wiki.edit(ARTICLE, STUB)
    wiki.create_user(DEPLOYER, DEPLOYER_PASSWORD, groups=("interface-admin", "bot"))
    h.create_account(wiki, EDITOR, EDITOR_PASSWORD)
    return wiki


@pytest.fixture(scope="module")
def service(wiki: LocalMediaWiki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from suggest.web import create_app

    database = tmp_path_factory.mktemp("e2e-refs-store") / "events.sqlite3"
    app = create_app(app_config(f"sqlite:///{database}", TASKS=["categories", "references"],
                                EXTRA_WIKIS={wiki.dbname: {"api_url": wiki.api_url, "lang": "en"}}))
    with h.ServiceServer(app) as server:
        server.app = app
        server.store = app.extensions["wiki_suggest"].store
        yield server


@pytest.fixture(scope="module")
def deployed(wiki: LocalMediaWiki, service: Any) -> None:
    login, password = wiki.create_bot_password(DEPLOYER, "deploy", grants=DEPLOY_GRANTS)
    result = service.app.test_cli_runner().invoke(
        args=["deploy-gadget", "--wiki", wiki.dbname],
        env={"WIKI_SUGGEST_DEPLOY_USER": login, "WIKI_SUGGEST_DEPLOY_PASSWORD": password})
    assert result.exit_code == 0, result.output


def stored(service: Any, table: Any, *where: Any) -> list[dict[str, Any]]:
    with service.store.engine.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(*where)).all()]


def test_editor_adds_a_reference_rejects_one_and_saves(wiki: LocalMediaWiki, service: Any,
                                                        deployed: None, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    editor = h.session(wiki, EDITOR, EDITOR_PASSWORD)
    token = h.csrf(editor)
    editor.post(action="options", change=f"gadget-{GADGET}=1", token=token)
    editor.post(action="options", optionname="userjs-wiki-suggest", token=token,
                optionvalue=json.dumps({"backend": service.url, "tasks": ["references"]}))
    base = h.latest_revision(editor, ARTICLE)["revid"]
    h.browser_session(browser, editor)
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert browser.execute_script("return mw.config.get('wgUserName')") == EDITOR
    assert h.gadget_startup(browser) == "panel"
    items = h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item"),
                       what="suggestions")
    save_screenshot(browser, "e2e-references-suggestions")
    # A reference's item (its statement, "Show in text") passes the automated WCAG 2.1 A/AA checks.
    assert h.axe_violations(browser, "#wiki-suggest-panel") == []
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    assert set(rows) == set(ids) and {r["task"] for r in rows.values()} == {"references"}
    labels = [item.find_element(By.CSS_SELECTOR, ".wiki-suggest-label").text for item in items]
    assert SOURCE_TITLE in labels, labels
    assert len(items) >= 2, "one to add and one to reject"
    chosen = labels.index(SOURCE_TITLE)
    other = 1 if chosen == 0 else 0
    added, rejected = rows[ids[chosen]], rows[ids[other]]
    for row in (added, rejected):
        insert = json.loads(row["details"])["insert"]
        assert (insert["anchor"], insert["replace"]) == (STATEMENT, MARKER)
        assert row["wikitext"].startswith("<ref>") and row["wikitext"].endswith("</ref>")
    assert "in [[Albedo]]" in added["explanation"]
    task_label = items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-task").text
    assert task_label == "Reference"

    statement = items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-statement-text")
    assert statement.text.strip("\u201c\u201d\"") == STATEMENT
    # "Show in text" selects the statement in the edit box (WikiEditor's textarea).
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-locate").click()
    assert browser.execute_script("return $('#wpTextbox1').textSelection('getSelection')") == STATEMENT
    assert browser.execute_script("return document.activeElement.id") == "wpTextbox1"

    textbox = "return $('#wpTextbox1').textSelection('getContents')"
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    assert items[chosen].get_attribute("data-state") == "accepted"
    text = browser.execute_script(textbox)
    # Right after the statement, in place of the citation-needed template.
    assert STATEMENT + added["wikitext"] + " The effect was described" in text
    assert MARKER not in text

    items[other].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[other].find_element(By.CSS_SELECTOR,
                              '.wiki-suggest-reason[data-reason="not_supporting"]').click()
    assert items[other].get_attribute("data-state") == "rejected"
    assert rejected["wikitext"] not in browser.execute_script(textbox)
    save_screenshot(browser, "e2e-references-decided")

    got = h.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        stored(service, decisions, decisions.c.suggestion_id.in_([added["id"], rejected["id"]]))),
        what="two decisions")
    by_id = {d["suggestion_id"]: d for d in got}
    assert by_id[added["id"]]["decision"] == "accept"
    assert (by_id[rejected["id"]]["decision"], by_id[rejected["id"]]["reason"]) == (
        "reject", "not_supporting")
    assert {d["user_name"] for d in got} == {EDITOR}

    browser.find_element(By.ID, "wpSave").click()
    h.wait_for(lambda: browser.execute_script(
        "return window.mw && mw.config.get('wgAction') === 'view'"), what="the saved page")
    assert h.gadget_startup(browser) is True, "the post-save report was sent"

    # The saved revision, read through the API.
    revision = h.latest_revision(h.session(wiki), ARTICLE)
    assert revision["revid"] > base and revision["user"] == EDITOR
    content = revision["slots"]["main"]["content"]
    assert STATEMENT + added["wikitext"] + " The effect" in content
    assert MARKER not in content and rejected["wikitext"] not in content
    assert "+ref (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in revision["comment"]
    after = refs.parse_article(content, citation_needed_names("en"))
    assert not any(s.marker for s in after.statements)
    cited = next(s for s in after.statements if s.text == STATEMENT)
    assert [after.references[c.key].title for c in cited.citations] == [SOURCE_TITLE]
    # Cite renders the footnote on the saved page (the cite templates are not on this wiki).
    assert browser.find_elements(By.CSS_SELECTOR, "sup.reference")

    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id.in_(ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"], e["user_name"]) for e in linked] == [
        (added["id"], revision["revid"], EDITOR)]
    assert stored(service, suggestions, suggestions.c.id == added["id"])[0]["revid"] == base
