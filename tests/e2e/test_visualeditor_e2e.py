# SPDX-License-Identifier: GPL-3.0-or-later
"""The gadget in VisualEditor, end to end, in both its modes: the real VisualEditor of the Debian
MediaWiki 1.39 (with its bundled Parsoid), the uk fixture's articles for categories and the
references tests' stub for references, the gadget installed by ``flask deploy-gadget``, the
service over real HTTP, and a person's clicks in headless Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from suggest.config import DEFAULTS
from suggest.store.schema import decisions, edits
from suggest.tasks.references import citation_needed_names
from suggest.wiki import references as refs
from suggest.wiki.wikitext import category_links, remove_categories
from tests.conftest import DUMPS, app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.e2e import helpers as h
from tests.e2e import test_references_e2e as refs_e2e
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
# Its source mode (the 2017 wikitext editor) for "Edit source".
$wgVisualEditorEnableWikitext = true;
$wgDefaultUserOptions['visualeditor-newwikitext'] = 1;
"""
# The document's text in source mode.
SOURCE = "return ve.init.target.getSurface().getDom()"
# The selected text of the document, in either mode.
SELECTED = "return ve.init.target.getSurface().getModel().getFragment().getText()"
# How many reference nodes and {{cn}} nodes the visual document has.
NODES = ("var doc = ve.init.target.getSurface().getModel().getDocument(); return {"
         "mwReference: doc.getNodesByType('mwReference').length,"
         "cn: doc.getNodesByType('mwTransclusionInline').filter(function (n) {"
         "  var parts = n.getAttribute('mw').parts;"
         "  return parts.length === 1 && parts[0].template && parts[0].template.target.wt === 'cn';"
         "}).length}")
# The type of what follows a text in the visual document.
AFTER_STATEMENT = ("var doc = ve.init.target.getSurface().getModel().getDocument();"
                   "var found = doc.findText(arguments[0], {caseSensitiveString: true});"
                   "var next = doc.data.getData(found[0].end); return next && next.type")
SPAN = "Citation needed span"
# The template whose node is selected (the selection is the node's range), if one is.
SELECTED_NODE = ("var model = ve.init.target.getSurface().getModel(),"
                 " range = model.getSelection().getCoveringRange(),"
                 " node = range && model.getDocument().getNodesByType('mwTransclusionInline')"
                 "  .filter(function (n) { return n.getOuterRange().equalsSelection(range); })[0];"
                 "return node ? node.getAttribute('mw').parts[0].template.target.wt : null")
# The types of the nodes right before and after the first node of a template in the document.
AROUND_TEMPLATE = ("var doc = ve.init.target.getSurface().getModel().getDocument(), name = arguments[0];"
                   "var node = doc.getNodesByType('mwTransclusionInline').filter(function (n) {"
                   "  return n.getAttribute('mw').parts[0].template.target.wt === name;"
                   "})[0]; if (!node) { return null; }"
                   "var range = node.getOuterRange(), before = doc.data.getData(range.start - 1),"
                   " after = doc.data.getData(range.end);"
                   "return [before && (before.type || before), after && (after.type || after)]")
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


@contextmanager
def serving(wiki: LocalMediaWiki, database: Path, lang: str, **config: Any) -> Iterator[Any]:
    """The service over real HTTP for ``wiki``, with the gadget deployed there."""
    from suggest.web import create_app

    app = create_app(app_config(f"sqlite:///{database}", **config,
                                EXTRA_WIKIS={wiki.dbname: {"api_url": wiki.api_url, "lang": lang}}))
    with h.ServiceServer(app) as server:
        server.app = app
        server.store = app.extensions["wiki_suggest"].store
        login, password = wiki.create_bot_password(DEPLOYER, "deploy", grants=DEPLOY_GRANTS)
        result = deploy(server, wiki, login, password)
        assert result.exit_code == 0, result.output
        yield server


@pytest.fixture(scope="module")
def service(wiki: LocalMediaWiki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with serving(wiki, tmp_path_factory.mktemp("ve-store") / "events.sqlite3", "uk") as server:
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


def open_visual_editor(browser: Any, wiki: LocalMediaWiki, session: Any, mode: str = "visual",
                       title: str = ARTICLE, user: str = EDITOR) -> list[Any]:
    """``title`` in VisualEditor's ``mode``, as ``user``; the suggestion items once shown."""
    from selenium.webdriver.common.by import By

    h.browser_session(browser, session)
    browser.get(wiki.page_url(title, veaction="edit" if mode == "visual" else "editsource"))
    assert browser.execute_script("return mw.config.get('wgUserName')") == user
    h.wait_for(lambda: browser.execute_script(
        "return !!(window.ve && ve.init && ve.init.target && ve.init.target.getSurface &&"
        " ve.init.target.getSurface())"), timeout=60, what="VisualEditor to open")
    assert browser.execute_script("return ve.init.target.getSurface().getMode()") == mode
    items = f".wiki-suggest-panel-{mode} .wiki-suggest-item"
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

    revision = save(browser, wiki, "geometry", stripped["revid"])
    content = revision["slots"]["main"]["content"]
    # The one category added, as the link the service proposed (Parsoid may write the rest of
    # the text its own way: here it adds the <references /> the page showed without one).
    assert category_links(content, CATEGORY_PREFIXES) == [name.split(":", 1)[1]]
    assert added["wikitext"] in content
    assert revision["comment"].startswith("geometry ")
    marker = f"+{added['wikitext']} (suggested by [[toolforge:wiki-suggest|wiki-suggest]])"
    assert marker in revision["comment"]

    decided_and_reported(service, browser, ids, added, rejected, revision)


def save(browser: Any, wiki: LocalMediaWiki, summary: str, base_revid: int,
         title: str = ARTICLE, user: str = EDITOR) -> dict[str, Any]:
    """VisualEditor's own save: its toolbar button, its dialog's summary, its publish button.
    Returns the saved revision."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, "a.ve-ui-toolbar-saveButton").click()
    field = h.wait_for(lambda: [e for e in browser.find_elements(
        By.CSS_SELECTOR, ".ve-ui-mwSaveDialog-summary textarea") if e.is_displayed()],
        timeout=20, what="the save dialog")[0]
    field.send_keys(summary)
    publish = ".ve-ui-mwSaveDialog .oo-ui-processDialog-actions-primary .oo-ui-widget-enabled a"
    h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, publish), what="the publish button")[0].click()
    s = h.session(wiki)
    revision: dict[str, Any] = h.wait_for(lambda: (lambda r: r if r["revid"] > base_revid else None)(
        h.latest_revision(s, title)), timeout=30, what="the saved revision")
    assert revision["user"] == user
    return revision


def decided_and_reported(service: Any, browser: Any, ids: list[str], added: dict[str, Any],
                         rejected: dict[str, Any], revision: dict[str, Any]) -> None:
    """The service holds the acceptance and the rejection, and the saved revision with the
    accepted suggestion; VisualEditor closed on saving, and the panel with it."""
    from selenium.webdriver.common.by import By

    got = stored(service, decisions, decisions.c.suggestion_id.in_(ids[:2]))
    assert sorted((d["suggestion_id"], d["decision"], d["reason"]) for d in got) == sorted(
        [(added["id"], "accept", None), (rejected["id"], "reject", "wrong_topic")])
    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id.in_(ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"], e["user_name"]) for e in linked] == [
        (added["id"], revision["revid"], EDITOR)]
    h.wait_for(lambda: not browser.find_elements(By.CSS_SELECTOR, "#wiki-suggest-panel"),
               what="the panel to close with VisualEditor")


def test_editor_adds_a_category_in_source_mode_and_saves(wiki: LocalMediaWiki, service: Any,
                                                         stripped: dict[str, Any], browser: Any) -> None:
    """VisualEditor's source mode: the wikitext takes the category as the source editor's would."""
    from selenium.webdriver.common.by import By

    items = open_visual_editor(browser, wiki, stripped["session"], mode="source")
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    added, rejected = rows[ids[0]], rows[ids[1]]
    before = browser.execute_script(SOURCE)
    assert before.strip() == stripped["text"].strip()

    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    text = browser.execute_script(SOURCE)
    assert text.rstrip().endswith("\n\n" + added["wikitext"])  # after a blank line, at the end
    assert text.replace(added["wikitext"], "").strip() == before.strip()
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert browser.execute_script(SOURCE) == before
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[1].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="wrong_topic"]').click()
    assert rejected["wikitext"] not in browser.execute_script(SOURCE)
    assert h.axe_violations(browser, ".wiki-suggest-panel-source") == []

    revision = save(browser, wiki, "geometry", stripped["revid"])
    content = revision["slots"]["main"]["content"]
    assert category_links(content, CATEGORY_PREFIXES) == [added["label"]]
    assert remove_categories(content, CATEGORY_PREFIXES).strip() == stripped["text"].strip()
    assert revision["comment"].startswith("geometry ") and f"+{added['wikitext']} (suggested by" in (
        revision["comment"])
    decided_and_reported(service, browser, ids, added, rejected, revision)


def category_added_and_rejected(browser: Any, wiki: LocalMediaWiki, service: Any, stripped: dict[str, Any],
                                mode: str) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The article in VisualEditor's ``mode``: the first category suggestion added, the second
    rejected. The ids shown, and the two suggestions as issued."""
    from selenium.webdriver.common.by import By

    items = open_visual_editor(browser, wiki, stripped["session"], mode=mode)
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[1].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="wrong_topic"]').click()
    return ids, rows[ids[0]], rows[ids[1]]


def switched(browser: Any, to: str, added: dict[str, Any], rejected: dict[str, Any]) -> tuple[list[Any], Any]:
    """VisualEditor switched to mode ``to``, keeping the changes: the suggestion added is still
    added and the one rejected still rejected, under the ids they were decided on, and neither is
    offered again (the panel offers the same wikitexts as before). The new panel's items, and the
    added one's."""
    from selenium.webdriver.common.by import By

    offered = [item.get_attribute("textContent") for item in browser.find_elements(
        By.CSS_SELECTOR, ".wiki-suggest-item .wiki-suggest-wikitext")]
    browser.execute_script("ve.init.target.switchToWikitextEditor(true)" if to == "source" else
                           "ve.init.target.switchToVisualEditor()")
    selector = f".wiki-suggest-panel-{to} .wiki-suggest-item"
    items = h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, selector), timeout=30,
                       what=f"the panel in {to} mode")
    state = {item.get_attribute("data-id"): item.get_attribute("data-state") for item in items}
    assert len(state) == len(items)
    assert state[added["id"]] == "accepted" and state[rejected["id"]] == "rejected"
    # What the items hold, not what is rendered: VisualEditor's switch may still hold the page
    # under a modal window, where the rendered text is empty.
    shown = [item.find_element(By.CSS_SELECTOR, ".wiki-suggest-wikitext").get_attribute("textContent")
             for item in items]
    assert sorted(shown) == sorted(offered), "not offered again"
    assert added["wikitext"] in shown and rejected["wikitext"] in shown
    return items, next(item for item in items if item.get_attribute("data-id") == added["id"])


def test_switching_to_source_mode_keeps_what_was_decided(wiki: LocalMediaWiki, service: Any,
                                                          stripped: dict[str, Any], browser: Any) -> None:
    """VisualEditor switched from visual to source mode (keeping the changes): the new panel shows
    the category added and the one rejected as decided, under the ids they were decided on; Undo
    and Add work in the wikitext; the save reports the addition once and nothing is decided twice."""
    from selenium.webdriver.common.by import By

    ids, added, rejected = category_added_and_rejected(browser, wiki, service, stripped, "visual")
    source, carried = switched(browser, "source", added, rejected)
    second = [item.get_attribute("data-id") for item in source]  # the ids the new panel was given
    assert browser.execute_script(SOURCE).count(added["wikitext"]) == 1
    carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    # No category left (the text is Parsoid's now, which adds the <references /> the page showed).
    assert category_links(browser.execute_script(SOURCE), CATEGORY_PREFIXES) == []
    carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()

    revision = save(browser, wiki, "switched", stripped["revid"])
    assert category_links(revision["slots"]["main"]["content"], CATEGORY_PREFIXES) == [added["label"]]
    assert f"+{added['wikitext']} (suggested by" in revision["comment"]
    decided_and_reported(service, browser, ids, added, rejected, revision)
    # One decision each, on the ids of the first panel; none on the ids the second one was given.
    got = stored(service, decisions, decisions.c.suggestion_id.in_(ids + second))
    assert sorted(d["suggestion_id"] for d in got) == sorted([added["id"], rejected["id"]])


def click_in_view(browser: Any, element: Any) -> None:
    """Click ``element`` as a person would after scrolling back to it. After a switch from
    source mode VisualEditor scrolls to the editor's cursor (here at the page's end, where the
    category went) more than once, as its switch settles and as the document changes: the panel
    is then under its floating toolbar."""
    from selenium.common.exceptions import ElementClickInterceptedException, ElementNotInteractableException

    def clicked() -> bool:
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        try:
            element.click()
        except (ElementClickInterceptedException, ElementNotInteractableException):
            return False
        return True

    h.wait_for(clicked, timeout=20, what="the panel's button to take a click")


def test_switching_to_visual_mode_keeps_what_was_decided(wiki: LocalMediaWiki, service: Any,
                                                          stripped: dict[str, Any], browser: Any) -> None:
    """VisualEditor switched from source to visual mode with the changes (Parsoid reads the
    wikitext again): the category added in the wikitext is a category item of the document and
    stays added under its id, Undo and Add work on it, the rejected one stays rejected."""
    from selenium.webdriver.common.by import By

    ids, added, rejected = category_added_and_rejected(browser, wiki, service, stripped, "source")
    _, carried = switched(browser, "visual", added, rejected)
    category = added["wikitext"].strip("[]")
    assert browser.execute_script(CATEGORIES) == [category]
    click_in_view(browser, carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo"))
    assert browser.execute_script(CATEGORIES) == []
    click_in_view(browser, carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-add"))
    assert browser.execute_script(CATEGORIES) == [category]

    revision = save(browser, wiki, "switched", stripped["revid"])
    assert category_links(revision["slots"]["main"]["content"], CATEGORY_PREFIXES) == [added["label"]]
    assert f"+{added['wikitext']} (suggested by" in revision["comment"]
    decided_and_reported(service, browser, ids, added, rejected, revision)


@pytest.fixture(scope="module")
def en_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    """The references end-to-end tests' wiki (a stub with {{cn}}, Albedo citing the source), with
    VisualEditor."""
    return refs_e2e.reference_wiki(mediawiki_factory, VISUAL_EDITOR)


@pytest.fixture(scope="module")
def en_service(en_wiki: LocalMediaWiki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    # Also {{Citation needed span}}, which holds the text it marks (as {{要出典範囲}} on jawiki).
    needed = {**DEFAULTS["CITATION_NEEDED"], "en": [SPAN]}
    with serving(en_wiki, tmp_path_factory.mktemp("ve-refs-store") / "events.sqlite3", "en",
                 TASKS=["categories", "references"], CITATION_NEEDED=needed) as server:
        yield server


@pytest.fixture
def earthshine(en_wiki: LocalMediaWiki, en_service: Any) -> dict[str, Any]:
    """The stub with its {{cn}} again, and its editor, who enables the gadget for references."""
    editor = h.session(en_wiki, refs_e2e.EDITOR, refs_e2e.EDITOR_PASSWORD)
    token = h.csrf(editor)
    editor.post(action="options", change="gadget-wiki-suggest=1", token=token)
    editor.post(action="options", optionname="userjs-wiki-suggest", token=token,
                optionvalue=json.dumps({"backend": en_service.url, "tasks": ["references"]}))
    if h.page_text(editor, refs_e2e.ARTICLE) != refs_e2e.STUB.rstrip("\n"):
        editor.post(action="edit", title=refs_e2e.ARTICLE, text=refs_e2e.STUB, token=token,
                    summary="the stub again")
    return {"session": editor, "revid": h.latest_revision(editor, refs_e2e.ARTICLE)["revid"]}


class Offered(NamedTuple):
    """The stub's reference suggestions in the panel: the item suggesting the source Albedo cites
    (chosen) and another, with the suggestions behind them."""

    items: list[Any]
    ids: list[str]
    chosen: int
    other: int
    added: dict[str, Any]
    rejected: dict[str, Any]


def reference_items(browser: Any, wiki: LocalMediaWiki, service: Any, editor: Any, mode: str,
                    selects: bool = True) -> Offered:
    """The stub in VisualEditor's ``mode``, its reference suggestions shown; "Show in text" of
    the chosen one selects its statement in the document (``selects``: as text)."""
    from selenium.webdriver.common.by import By

    items = open_visual_editor(browser, wiki, editor, mode=mode, title=refs_e2e.ARTICLE,
                               user=refs_e2e.EDITOR)
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    assert {r["task"] for r in rows.values()} == {"references"}
    labels = [item.find_element(By.CSS_SELECTOR, ".wiki-suggest-label").text for item in items]
    chosen = labels.index(refs_e2e.SOURCE_TITLE)
    other = 1 if chosen == 0 else 0
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-locate").click()
    if selects:
        assert browser.execute_script(SELECTED) == refs_e2e.STATEMENT
    return Offered(items, ids, chosen, other, rows[ids[chosen]], rows[ids[other]])


def saved_with_the_reference(browser: Any, wiki: LocalMediaWiki, service: Any, base: int,
                             ids: list[str], added: dict[str, Any], rejected: dict[str, Any]) -> None:
    """Saved through VisualEditor's dialog: the statement cites the source instead of {{cn}},
    the summary has the marker, and the service has the decisions and the saved revision."""
    revision = save(browser, wiki, "source", base, title=refs_e2e.ARTICLE, user=refs_e2e.EDITOR)
    content = revision["slots"]["main"]["content"]
    after = refs.parse_article(content, citation_needed_names("en"))
    cited = next(s for s in after.statements if s.text == refs_e2e.STATEMENT)
    assert not cited.marker and not any(s.marker for s in after.statements)
    assert [after.references[c.key].title for c in cited.citations] == [refs_e2e.SOURCE_TITLE]
    assert refs_e2e.MARKER not in content and rejected["wikitext"] not in content
    assert "+ref (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in revision["comment"]
    got = stored(service, decisions, decisions.c.suggestion_id.in_([added["id"], rejected["id"]]))
    assert sorted((d["decision"], d["reason"]) for d in got) == [
        ("accept", None), ("reject", "not_supporting")]
    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id.in_(ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"]) for e in linked] == [(added["id"], revision["revid"])]


def test_editor_adds_a_reference_in_source_mode_and_saves(en_wiki: LocalMediaWiki, en_service: Any,
                                                          earthshine: dict[str, Any], browser: Any) -> None:
    """VisualEditor's source mode takes references too: "Show in text" selects the statement in
    its document, Add puts the source in place of {{cn}}."""
    from selenium.webdriver.common.by import By

    items, ids, chosen, other, added, rejected = reference_items(
        browser, en_wiki, en_service, earthshine["session"], "source")
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    text = browser.execute_script(SOURCE)
    assert refs_e2e.STATEMENT + added["wikitext"] + " The effect was described" in text
    assert refs_e2e.MARKER not in text
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert refs_e2e.STATEMENT + refs_e2e.MARKER + " The effect" in browser.execute_script(SOURCE)
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    items[other].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[other].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="not_supporting"]').click()
    saved_with_the_reference(browser, en_wiki, en_service, earthshine["revid"], ids, added, rejected)


def test_editor_adds_a_reference_in_visual_mode_and_saves(en_wiki: LocalMediaWiki, en_service: Any,
                                                          earthshine: dict[str, Any], browser: Any) -> None:
    """Visual mode: the reference goes in as the Cite extension's node, in place of the {{cn}}
    template's node, and Undo puts the template back."""
    from selenium.webdriver.common.by import By

    items, ids, chosen, other, added, rejected = reference_items(
        browser, en_wiki, en_service, earthshine["session"], "visual")
    assert browser.execute_script(NODES) == {"mwReference": 0, "cn": 1}
    add_reference(items[chosen], "the reference, parsed by Parsoid, in the document")
    assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}
    assert browser.execute_script(AFTER_STATEMENT, refs_e2e.STATEMENT) == "mwReference"
    items[chosen].find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert browser.execute_script(NODES) == {"mwReference": 0, "cn": 1}
    assert browser.execute_script(AFTER_STATEMENT, refs_e2e.STATEMENT) == "mwTransclusionInline"
    add_reference(items[chosen], "the reference again")
    items[other].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    items[other].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="not_supporting"]').click()
    assert h.axe_violations(browser, ".wiki-suggest-panel-visual") == []
    saved_with_the_reference(browser, en_wiki, en_service, earthshine["revid"], ids, added, rejected)


def switched_with_the_reference(browser: Any, offered: Offered, to: str) -> Any:
    """VisualEditor switched to mode ``to`` after a reference was added and another rejected
    (:func:`switched`); the added one's item in the new panel."""
    return switched(browser, to, offered.added, offered.rejected)[1]


def add_reference(item: Any, what: str) -> None:
    """Add on a reference item, and wait until Parsoid made the reference and it is in the
    document (the item accepted)."""
    from selenium.webdriver.common.by import By

    item.find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    h.wait_for(lambda: item.get_attribute("data-state") == "accepted", timeout=20, what=what)


def add_and_reject(offered: Offered) -> None:
    from selenium.webdriver.common.by import By

    chosen, other = offered.items[offered.chosen], offered.items[offered.other]
    add_reference(chosen, "the reference in the document")
    other.find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    other.find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="not_supporting"]').click()


@pytest.mark.parametrize("undo", [False, True], ids=["kept", "undone-and-added-again"])
def test_a_reference_added_in_visual_mode_stays_added_in_source_mode(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any,
        undo: bool) -> None:
    """Added in visual mode, then VisualEditor switched to source mode: the reference is found in
    the wikitext Parsoid wrote, so the save's summary marker and report count it, and Undo takes
    it out there, putting {{cn}} back."""
    from selenium.webdriver.common.by import By

    offered = reference_items(browser, en_wiki, en_service, earthshine["session"], "visual")
    add_and_reject(offered)
    carried = switched_with_the_reference(browser, offered, "source")
    statement = refs_e2e.STATEMENT + offered.added["wikitext"] + " The effect"
    assert statement in browser.execute_script(SOURCE)
    if undo:
        carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
        assert carried.get_attribute("data-state") == "pending"
        assert refs_e2e.STATEMENT + refs_e2e.MARKER + " The effect" in browser.execute_script(SOURCE)
        carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
        assert statement in browser.execute_script(SOURCE)
    saved_with_the_reference(browser, en_wiki, en_service, earthshine["revid"], offered.ids,
                             offered.added, offered.rejected)


@pytest.mark.parametrize("undo", [False, True], ids=["kept", "undone-and-added-again"])
def test_a_reference_added_in_source_mode_stays_added_in_visual_mode(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any,
        undo: bool) -> None:
    """Added in source mode, then VisualEditor switched to visual mode with the change (Parsoid
    reads the wikitext again): the reference node after the statement is the one added, so the
    save's summary marker and report count it, and Undo takes it out, putting {{cn}} back."""
    from selenium.webdriver.common.by import By

    offered = reference_items(browser, en_wiki, en_service, earthshine["session"], "source")
    add_and_reject(offered)
    carried = switched_with_the_reference(browser, offered, "visual")
    assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}
    if undo:
        carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
        h.wait_for(lambda: carried.get_attribute("data-state") == "pending", timeout=20,
                   what="{{cn}} made by Parsoid and put back")
        assert browser.execute_script(NODES) == {"mwReference": 0, "cn": 1}
        assert browser.execute_script(AFTER_STATEMENT, refs_e2e.STATEMENT) == "mwTransclusionInline"
        add_reference(carried, "the reference again")
        assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}
    saved_with_the_reference(browser, en_wiki, en_service, earthshine["revid"], offered.ids,
                             offered.added, offered.rejected)


def test_a_reference_replaced_by_hand_before_switching_is_not_taken_for_the_added_one(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any) -> None:
    """Added in source mode, then replaced by hand with a reference of the editor's own, then
    VisualEditor switched to visual mode: the one reference after the statement is the editor's,
    so the suggestion stays accepted without a place (Undo asks to remove it by hand and leaves
    the editor's reference), and the save neither marks nor reports it."""
    from selenium.webdriver.common.by import By

    offered = reference_items(browser, en_wiki, en_service, earthshine["session"], "source")
    add_and_reject(offered)
    own = "<ref>An encyclopedia of the Moon, p. 12.</ref>"
    browser.execute_script(
        "var m = ve.init.target.getSurface().getModel(), t = m.getDom(), i = t.indexOf(arguments[0]);"
        "m.getLinearFragment(m.getRangeFromSourceOffsets(i, i + arguments[0].length))"
        ".insertContent(arguments[1])",
        offered.added["wikitext"], own)
    assert refs_e2e.STATEMENT + own in browser.execute_script(SOURCE)
    carried = switched_with_the_reference(browser, offered, "visual")
    assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}
    click_in_view(browser, carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo"))
    assert carried.get_attribute("data-state") == "accepted"
    assert "by hand" in carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-item-status").text
    assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}

    revision = save(browser, en_wiki, "own source", earthshine["revid"], title=refs_e2e.ARTICLE,
                     user=refs_e2e.EDITOR)
    assert own in revision["slots"]["main"]["content"]
    assert "suggested by" not in revision["comment"]
    got = stored(en_service, decisions, decisions.c.suggestion_id.in_(offered.ids))
    assert sorted(d["decision"] for d in got) == ["accept", "reject"]
    # VisualEditor closed on saving, and the panel with it; a report would follow at once (the
    # other tests see it within a second), so a few seconds without one mean none was sent.
    h.wait_for(lambda: not browser.find_elements(By.CSS_SELECTOR, "#wiki-suggest-panel"),
               what="the panel to close with VisualEditor")
    time.sleep(3)
    assert stored(en_service, edits, edits.c.suggestion_id.in_(offered.ids)) == []


def test_a_statement_a_template_holds_takes_its_reference_in_visual_mode(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any) -> None:
    """A statement whose text a citation-needed template holds ({{Citation needed span|text}}, as
    {{要出典範囲|text}} on jawiki) is not text of the visual document but a template node that
    shows it: the reference goes right after that node, which stays, as in the source editors."""
    from selenium.webdriver.common.by import By

    editor = earthshine["session"]
    token = h.csrf(editor)
    editor.post(action="edit", title=f"Template:{SPAN}", token=token, summary="template",
                text="{{{1}}}<sup>[''citation needed'']</sup>")
    held = f"{{{{{SPAN}|{refs_e2e.STATEMENT}|date=May 2016}}}}"
    editor.post(action="edit", title=refs_e2e.ARTICLE, token=token, summary="the statement in a span",
                text=refs_e2e.STUB.replace(refs_e2e.STATEMENT + refs_e2e.MARKER, held))
    base = h.latest_revision(editor, refs_e2e.ARTICLE)["revid"]

    offered = reference_items(browser, en_wiki, en_service, editor, "visual", selects=False)
    assert browser.execute_script(SELECTED_NODE) == SPAN  # Show in text selected the template
    # For the revision just saved (the gadget asks for the revision, not for the title, whose
    # latest revision the service looked up in the tests before).
    assert offered.added["revid"] == offered.rejected["revid"] == base
    assert browser.execute_script(AROUND_TEMPLATE, SPAN) == ["paragraph", " "]
    add_and_reject(offered)
    assert browser.execute_script(NODES)["mwReference"] == 1
    assert browser.execute_script(AROUND_TEMPLATE, SPAN)[1] == "mwReference"
    chosen = offered.items[offered.chosen]
    chosen.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert browser.execute_script(NODES)["mwReference"] == 0
    assert browser.execute_script(AROUND_TEMPLATE, SPAN)[1] == " "
    add_reference(chosen, "the reference again")

    revision = save(browser, en_wiki, "span", base, title=refs_e2e.ARTICLE, user=refs_e2e.EDITOR)
    content = revision["slots"]["main"]["content"]
    assert held + offered.added["wikitext"] + " The effect" in content
    assert "+ref (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in revision["comment"]
    linked = h.wait_for(lambda: stored(en_service, edits, edits.c.suggestion_id.in_(offered.ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"]) for e in linked] == [(offered.added["id"], revision["revid"])]


# The selection's first and last characters (what the document holds there: a character, or the
# type of a node), and how many inline nodes it covers.
SELECTION_ENDS = ("var model = ve.init.target.getSurface().getModel(), data = model.getDocument().data,"
                  " range = model.getSelection().getCoveringRange(), nodes = 0, i;"
                  "function at(i) { var d = data.getData(i); return d.type || data.getCharacterData(i); }"
                  "for (i = range.start; i < range.end; i++) { nodes += data.isOpenElementData(i) ? 1 : 0; }"
                  "return [at(range.start), at(range.end - 1), nodes]")


def test_a_statement_with_a_template_and_an_entity_takes_its_reference_in_visual_mode(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any) -> None:
    """A statement whose page text differs from its text in the wikitext: a template's output in
    it ({{Lang|la|...}}) and an entity (&nbsp;), which the visual document holds as nodes. The
    service reads the statement without the template's output; visual mode finds it so too:
    Show in text selects it, the reference goes after it in place of {{cn}}, Undo puts {{cn}}
    back, and the saved wikitext has the reference right after the statement."""
    from selenium.webdriver.common.by import By

    editor = earthshine["session"]
    token = h.csrf(editor)
    editor.post(action="edit", title="Template:Lang", token=token, summary="template",
                text='<span lang="{{{1}}}">{{{2}}}</span>')
    statement = refs_e2e.STATEMENT.replace(
        "Earthshine observations", "Earthshine ({{Lang|la|lumen cinereum}}) observations").replace(
        "reflectance and", "reflectance&nbsp;and")
    editor.post(action="edit", title=refs_e2e.ARTICLE, token=token, summary="a template and an entity",
                text=refs_e2e.STUB.replace(refs_e2e.STATEMENT, statement))
    base = h.latest_revision(editor, refs_e2e.ARTICLE)["revid"]

    offered = reference_items(browser, en_wiki, en_service, editor, "visual", selects=False)
    assert offered.added["revid"] == base
    # Show in text: from the statement's first character to its full stop, the template's and
    # the entity's nodes inside
    assert browser.execute_script(SELECTION_ENDS) == ["E", ".", 2]
    assert browser.execute_script(NODES) == {"mwReference": 0, "cn": 1}
    add_and_reject(offered)
    assert browser.execute_script(NODES) == {"mwReference": 1, "cn": 0}
    chosen = offered.items[offered.chosen]
    chosen.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").click()
    assert browser.execute_script(NODES) == {"mwReference": 0, "cn": 1}
    add_reference(chosen, "the reference again")

    revision = save(browser, en_wiki, "template and entity", base, title=refs_e2e.ARTICLE,
                    user=refs_e2e.EDITOR)
    content = revision["slots"]["main"]["content"]
    assert statement + offered.added["wikitext"] + " The effect" in content
    assert refs_e2e.MARKER not in content
    assert "+ref (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in revision["comment"]


# The article citing before the full stop ("...Moon<ref/>."), as Japanese and Ukrainian
# articles do, with the statement in a paragraph without sources (no {{cn}}). The task offers
# the article's own references for it: a reuse tag of a named one, or a copy with a name of an
# unnamed one (`names_reference`).
BEFORE_STOP = ("'''Earthshine''' is sunlight reflected by the Earth onto the night side of the "
               "[[Albedo|Moon]]<ref{moon}>Moonlight, 2004.</ref>. It is visible to the eye"
               "<ref{eye}>The eye, 2005.</ref>.\n\n"
               f"== Measurements ==\n{refs_e2e.STATEMENT} The effect was described by Leonardo da "
               "Vinci.\n\n== See also ==\n* [[Albedo]]\n")
BODIES = {"moon": "Moonlight, 2004.", "eye": "The eye, 2005."}
# How many times a text is in the visual document.
FOUND = ("return ve.init.target.getSurface().getModel().getDocument()"
         ".findText(arguments[0], {caseSensitiveString: true}).length")
# For each reference node of the visual document: the text of the 7 places before it and of the
# 2 after it, and its footnote's key.
AROUND_REFERENCES = ("var doc = ve.init.target.getSurface().getModel().getDocument();"
                     "return doc.getNodesByType('mwReference').map(function (node) {"
                     "  var r = node.getOuterRange();"
                     "  return [doc.data.getText(false, new ve.Range(r.start - 7, r.start)),"
                     "          doc.data.getText(false, new ve.Range(r.end, r.end + 2)),"
                     "          node.getAttribute('listKey')]; })")


def the_statements_footnote(browser: Any) -> str:
    """The key of the footnote cited before the statement's full stop, which is one of the
    lead's footnotes: its reuse, not a footnote of its own."""
    around = browser.execute_script(AROUND_REFERENCES)
    assert len(around) == 3
    key: str = next(k for before, after, k in around if (before, after) == ("changes", ". "))
    assert [k for _, _, k in around].count(key) == 2
    return key


class StatementOffers(NamedTuple):
    """An article opened in VisualEditor, and what its panel offers: the suggestions' rows and
    places by item, and the item for the stub's statement (chosen)."""

    base: int
    items: list[Any]
    ids: list[str]
    rows: dict[str, dict[str, Any]]
    inserts: list[dict[str, Any]]
    chosen: int


def open_article(browser: Any, wiki: LocalMediaWiki, service: Any, editor: Any, text: str,
                 summary: str, mode: str) -> StatementOffers:
    """``text`` saved as the stub's article, opened in VisualEditor's ``mode``."""
    editor.post(action="edit", title=refs_e2e.ARTICLE, token=h.csrf(editor), summary=summary, text=text)
    base = h.latest_revision(editor, refs_e2e.ARTICLE)["revid"]
    items = open_visual_editor(browser, wiki, editor, mode=mode, title=refs_e2e.ARTICLE,
                               user=refs_e2e.EDITOR)
    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    inserts = [json.loads(rows[i]["details"])["insert"] for i in ids]
    chosen = next(n for n, insert in enumerate(inserts) if insert["statement"] == refs_e2e.STATEMENT)
    return StatementOffers(base, items, ids, rows, inserts, chosen)


def citation_keys(content: str) -> dict[str, list[str]]:
    """The keys of the footnotes each statement of a saved wikitext cites, by its text."""
    after = refs.parse_article(content, citation_needed_names("en"))
    return {s.text: [c.key for c in s.citations] for s in after.statements}


@pytest.mark.parametrize("named", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize("mode", ["visual", "source", "visual-then-source"],
                         ids=["added-in-visual-mode", "added-in-source-mode", "undone-in-source-mode"])
def test_a_reference_goes_before_the_full_stop_where_the_article_cites_so(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any,
        mode: str, named: bool) -> None:
    """Where an article cites before the full stop, a statement without a citation-needed
    template takes its reference before its full stop, in the source editors (its anchor ends
    there) and in visual mode alike. The article's own reference it takes is another use of that
    footnote in either mode, named or not (the source editors name an unnamed one at both uses,
    VisualEditor on saving), so the saved page has the source once. Added in source mode and
    switched to visual mode, the node before the full stop is the added reference: Undo takes it
    out there, not the lead's use. Added in visual mode and switched to source mode, the reuse
    tag Parsoid wrote is the added reference: Undo takes it out there, and the name VisualEditor
    gave an unnamed footnote for it, so the text is the article's again."""
    from selenium.webdriver.common.by import By

    article = BEFORE_STOP.format(**{k: f' name="{k}"' if named else "" for k in BODIES})
    base, items, ids, rows, inserts, chosen = open_article(
        browser, en_wiki, en_service, earthshine["session"], article, "before the stop",
        "source" if mode == "source" else "visual")
    # The service's placement: after the statement's text up to its full stop
    assert inserts[chosen]["anchor"] == refs_e2e.STATEMENT[:-1]
    other = 1 if chosen == 0 else 0
    added = rows[ids[chosen]]
    source = next(k for k, body in BODIES.items() if (f'"{k}"' if named else body) in added["wikitext"])
    assert added["revid"] == base
    assert ("names_reference" in inserts[chosen]) is not named
    offered = Offered(items, ids, chosen, other, added, rows[ids[other]])
    add_and_reject(offered)
    item = items[chosen]
    placed = refs_e2e.STATEMENT[:-1] + added["wikitext"] + ". The effect"
    if mode == "visual-then-source":
        key = the_statements_footnote(browser)
        item = switched_with_the_reference(browser, offered, "source")
        written = browser.execute_script(SOURCE)
        assert refs_e2e.STATEMENT[:-1] + "<ref name=" in written and BODIES[source] in written
        assert written.count(BODIES[source]) == 1, written  # one footnote, cited twice
        click_in_view(browser, item.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo"))
        assert item.get_attribute("data-state") == "pending"
        assert browser.execute_script(SOURCE).rstrip("\n") == article.rstrip("\n")
        add_reference(item, "the reference again, in source mode")
        assert placed in browser.execute_script(SOURCE)
    else:
        if mode == "source":
            assert placed in browser.execute_script(SOURCE)
            item = switched_with_the_reference(browser, offered, "visual")
        key = the_statements_footnote(browser)
        if named:
            assert key == f"literal/{source}"
        click_in_view(browser, item.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo"))
        assert item.get_attribute("data-state") == "pending"
        assert len(browser.execute_script(AROUND_REFERENCES)) == 2  # the lead's own
        assert browser.execute_script(FOUND, refs_e2e.STATEMENT) == 1  # its text whole again
        add_reference(item, "the reference again")
        assert the_statements_footnote(browser) == key

    revision = save(browser, en_wiki, "before the stop", base, title=refs_e2e.ARTICLE,
                    user=refs_e2e.EDITOR)
    content = revision["slots"]["main"]["content"]
    assert content.count(BODIES[source]) == 1, content  # one footnote
    cited = citation_keys(content)
    lead = next(keys for text, keys in cited.items()
                if text.startswith("Earthshine is" if source == "moon" else "It is visible"))
    assert cited[refs_e2e.STATEMENT[:-1]] == lead and lead[0].startswith("name:"), cited
    assert refs_e2e.STATEMENT[:-1] + "<ref name=" in content  # before the full stop
    if named:
        assert placed in content or placed.replace(" />", "/>") in content, content
    assert "+ref (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in revision["comment"]


@pytest.mark.parametrize("mode", ["visual", "source"])
def test_a_copy_of_an_unnamed_reference_the_article_cites_twice_reuses_the_first(
        en_wiki: LocalMediaWiki, en_service: Any, earthshine: dict[str, Any], browser: Any,
        mode: str) -> None:
    """The lead cites the same source twice, in two unnamed footnotes of the same text. A copy
    suggested for the statement becomes another use of the first of them in visual mode, as the
    source editors name the first at both uses, not a third footnote with that text."""
    twice = BEFORE_STOP.format(moon="", eye="").replace(BODIES["eye"], BODIES["moon"])
    base, items, ids, rows, inserts, chosen = open_article(
        browser, en_wiki, en_service, earthshine["session"], twice, "cited twice", mode)
    assert "names_reference" in inserts[chosen] and BODIES["moon"] in rows[ids[chosen]]["wikitext"]
    add_reference(items[chosen], "the reference in the document")
    if mode == "visual":
        around = browser.execute_script(AROUND_REFERENCES)
        assert len(around) == 3 and around[0][2] == around[2][2] != around[1][2]  # the first footnote's

    revision = save(browser, en_wiki, "cited twice", base, title=refs_e2e.ARTICLE, user=refs_e2e.EDITOR)
    content = revision["slots"]["main"]["content"]
    assert content.count(BODIES["moon"]) == 2, content  # the lead's two footnotes, no third
    cited = citation_keys(content)
    assert cited[refs_e2e.STATEMENT[:-1]] == next(keys for text, keys in cited.items()
                                                  if text.startswith("Earthshine is")), cited
