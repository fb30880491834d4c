# SPDX-License-Identifier: GPL-3.0-or-later
"""The gadget end to end: a real MediaWiki 1.39 (Ukrainian, with Gadgets and WikiEditor), real
articles from the uk fixture, the gadget installed by ``flask deploy-gadget``, the service as a
real HTTP server with an SQLite store, and a person's clicks in headless Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from suggest.store.schema import decisions, edits, shown
from suggest.wiki.wikitext import remove_categories
from tests.conftest import DUMPS, app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.e2e import helpers as h
from tests.support.browser import save_screenshot
from tests.support.mediawiki import LocalMediaWiki
from tests.test_auth import FakeMediaWiki, consumer

pytestmark = pytest.mark.mediawiki

GADGET = "wiki-suggest"
DESCRIBED_IN = ("bn", "en", "ja", "uk", "vi")  # the gadget's description, from gadget/i18n
# "Коло" (circle) links to three other fixture articles whose categories it shares.
ARTICLE = "Коло"
PAGES = (ARTICLE, "Точка", "Радіус", "Діаметр")
CATEGORY_PREFIXES = ("Категорія", "Category")
DEPLOYER, DEPLOYER_PASSWORD = "Gadget deployer", "Deployer-password-1234"
EDITOR, EDITOR_PASSWORD = "Editor Ukr", "Editor-password-1234"
READER, READER_PASSWORD = "Reader Ukr", "Reader-password-1234"
# Grants of the deploy bot password: create and edit pages, the MediaWiki namespace, site JS/CSS.
DEPLOY_GRANTS = ("basic", "highvolume", "editpage", "createeditmovepage", "editinterface",
                 "editsiteconfig")
CONFIRM, CONFIRMED = ".wiki-suggest-confirm", ".wiki-suggest-confirmed"  # the account's control, status
OTHER_GADGET_LINES = "== tools ==\n* other-gadget[ResourceLoader]|other-gadget.js\n"


@pytest.fixture(scope="module")
def wiki(mediawiki_factory: MediaWikiFactory, tmp_path_factory: pytest.TempPathFactory) -> LocalMediaWiki:
    t0 = time.monotonic()
    wiki = mediawiki_factory("uk", shared=False)
    subset = h.dump_subset(DUMPS / "ukwiki-sample.xml", PAGES,
                           tmp_path_factory.mktemp("e2e") / "uk-subset.xml")
    # No job queue run: category links in the text are written at import time.
    wiki.php("importDump.php", "--username-prefix=imported", str(subset))
    wiki.create_category_pages()
    wiki.create_user(DEPLOYER, DEPLOYER_PASSWORD, groups=("interface-admin", "bot"))
    # Normal accounts are made the quick way: through the API, like a person signing up.
    for user, password in ((EDITOR, EDITOR_PASSWORD), (READER, READER_PASSWORD)):
        h.create_account(wiki, user, password)
    # Another gadget is defined already: deploying must keep it.
    admin = h.session(wiki, wiki.admin_user, wiki.admin_password)
    admin.post(action="edit", title="MediaWiki:Gadgets-definition", text=OTHER_GADGET_LINES,
               summary="other gadgets", token=h.csrf(admin))
    print(f"e2e wiki ready in {time.monotonic() - t0:.1f} s")
    return wiki


@pytest.fixture(scope="module")
def oauth() -> Iterator[FakeMediaWiki]:
    """Special:OAuth for the tool's login (the extension cannot run here: test_auth's fake, which
    checks the signatures and replays recorded answers)."""
    fake = FakeMediaWiki()
    yield fake
    fake.local.close()


@pytest.fixture(scope="module")
def service(wiki: LocalMediaWiki, oauth: FakeMediaWiki,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from suggest.web import create_app

    database = tmp_path_factory.mktemp("e2e-store") / "events.sqlite3"
    app = create_app(app_config(f"sqlite:///{database}",
                                EXTRA_WIKIS={wiki.dbname: {"api_url": wiki.api_url, "lang": "uk"}},
                                OAUTH=consumer(oauth.mw_uri, callback=None)))
    assert app.extensions["wiki_suggest"].backend.info.id == "tfidf"  # loaded now, not on request
    app.config["SESSION_COOKIE_SECURE"] = False  # the test serves the tool over http
    with h.ServiceServer(app) as server:
        app.config["OAUTH"]["callback"] = f"{server.url}/oauth-callback"
        server.app = app
        server.store = app.extensions["wiki_suggest"].store
        yield server


def deploy(service: Any, wiki: LocalMediaWiki, login: str, password: str) -> Any:
    runner = service.app.test_cli_runner()
    return runner.invoke(args=["deploy-gadget", "--wiki", wiki.dbname],
                         env={"WIKI_SUGGEST_DEPLOY_USER": login,
                              "WIKI_SUGGEST_DEPLOY_PASSWORD": password})


@pytest.fixture(scope="module")
def deployed(wiki: LocalMediaWiki, service: Any) -> dict[str, Any]:
    """The gadget installed with the deploy command, as a bot password of an interface admin."""
    login, password = wiki.create_bot_password(DEPLOYER, "deploy", grants=DEPLOY_GRANTS)
    t0 = time.monotonic()
    result = deploy(service, wiki, login, password)
    assert result.exit_code == 0, result.output
    return {"login": login, "password": password, "output": result.output,
            "seconds": time.monotonic() - t0}


def enable_gadget(wiki: LocalMediaWiki, service: Any, user: str, password: str,
                  enable: bool) -> Any:
    """What the documented settings say: the gadget preference and ``userjs-wiki-suggest``.
    Returns the user's logged-in API session."""
    s = h.session(wiki, user, password)
    token = h.csrf(s)
    s.post(action="options", change=f"gadget-{GADGET}={1 if enable else 0}", token=token)
    s.post(action="options", optionname="userjs-wiki-suggest",
           optionvalue=json.dumps({"backend": service.url}), token=token)
    return s


@pytest.fixture(scope="module")
def stripped(wiki: LocalMediaWiki, deployed: dict[str, Any]) -> dict[str, Any]:
    """The article without its category links, saved by the editor, who enables the gadget."""
    s = h.session(wiki, EDITOR, EDITOR_PASSWORD)
    original = h.page_text(s, ARTICLE)
    text = remove_categories(original, CATEGORY_PREFIXES)
    assert text != original
    s.post(action="edit", title=ARTICLE, text=text, summary="categories removed for a test",
           token=h.csrf(s))
    revision = h.latest_revision(s, ARTICLE)
    return {"original": original, "text": text, "revid": revision["revid"]}


def stored(service: Any, table: Any, *where: Any) -> list[dict[str, Any]]:
    with service.store.engine.begin() as conn:
        return [dict(r._mapping) for r in conn.execute(select(table).where(*where)).all()]


def shown_on(service: Any, wiki_id: str) -> int:
    """Suggestions the service issued on the wiki (its in-memory counts written first)."""
    service.app.extensions["wiki_suggest"].shown.flush()
    with service.store.engine.begin() as conn:
        return int(conn.execute(select(func.coalesce(func.sum(shown.c.shown), 0))
                                .where(shown.c.wiki == wiki_id)).scalar_one())


# --- the deploy command ------------------------------------------------------------------------

def test_deploy_command_writes_the_gadget_pages(wiki: LocalMediaWiki, service: Any,
                                                 deployed: dict[str, Any]) -> None:
    s = h.session(wiki)
    root = Path(__file__).resolve().parents[2] / "gadget"
    for title, source in ((f"MediaWiki:Gadget-{GADGET}.js", root / "dist" / "wiki-suggest.js"),
                          (f"MediaWiki:Gadget-{GADGET}.css", root / "dist" / "wiki-suggest.css")):
        revision = h.latest_revision(s, title)
        assert revision["slots"]["main"]["content"] == source.read_text(encoding="utf-8").rstrip()
        assert revision["user"] == DEPLOYER
        assert "0.1.0" in revision["comment"] and GADGET in revision["comment"]
    # The page itself in the wiki's content language, the other languages on subpages.
    content_lang = service.app.extensions["wiki_suggest"].registry.get(wiki.dbname).lang
    for lang in DESCRIBED_IN:
        messages = json.loads((root / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        title = f"MediaWiki:Gadget-{GADGET}" + ("" if lang == content_lang else f"/{lang}")
        assert h.page_text(s, title) == messages["wiki-suggest-gadget-description"], title
    definition = h.page_text(s, "MediaWiki:Gadgets-definition")
    assert OTHER_GADGET_LINES.strip() in definition, "the other gadget's lines are kept"
    line = (root / "Gadgets-definition.txt").read_text(encoding="utf-8").strip()
    assert definition.splitlines()[-1] == line
    # Flagged as bot edits.
    changes = s.get(action="query", list="recentchanges", rcuser=DEPLOYER, rcprop="title|flags",
                    rclimit="max")["query"]["recentchanges"]
    assert len(changes) == 3 + len(DESCRIBED_IN) and all(c["bot"] for c in changes)
    # The Gadgets extension sees the gadget (opt-in: not on by default).
    gadgets = s.get(action="query", list="gadgets", gaprop="id|metadata")["query"]["gadgets"]
    ours = [g for g in gadgets if g["id"] == GADGET]
    assert ours and not ours[0]["metadata"]["settings"]["default"]
    assert "jquery.textSelection" in ours[0]["metadata"]["module"]["dependencies"]


def test_deploy_again_changes_nothing(wiki: LocalMediaWiki, service: Any,
                                      deployed: dict[str, Any]) -> None:
    s = h.session(wiki)
    content_lang = service.app.extensions["wiki_suggest"].registry.get(wiki.dbname).lang
    titles = [f"MediaWiki:Gadget-{GADGET}.js", f"MediaWiki:Gadget-{GADGET}.css",
              f"MediaWiki:Gadget-{GADGET}", "MediaWiki:Gadgets-definition",
              *(f"MediaWiki:Gadget-{GADGET}/{lang}" for lang in DESCRIBED_IN if lang != content_lang)]
    before = {t: h.revision_count(s, t) for t in titles}
    result = deploy(service, wiki, deployed["login"], deployed["password"])
    assert result.exit_code == 0, result.output
    assert result.output.count(": unchanged") == len(titles), result.output
    assert {t: h.revision_count(s, t) for t in titles} == before


def test_deploy_refuses_bad_credentials_and_unknown_wikis(wiki: LocalMediaWiki, service: Any,
                                                          deployed: dict[str, Any]) -> None:
    result = deploy(service, wiki, deployed["login"], "x" * 32)
    assert result.exit_code != 0 and "login" in result.output
    runner = service.app.test_cli_runner()
    result = runner.invoke(args=["deploy-gadget", "--wiki", "nosuchwiki"],
                           env={"WIKI_SUGGEST_DEPLOY_USER": deployed["login"],
                                "WIKI_SUGGEST_DEPLOY_PASSWORD": deployed["password"]})
    assert result.exit_code != 0 and "unknown wiki" in result.output
    result = runner.invoke(args=["deploy-gadget", "--wiki", wiki.dbname],
                           env={"WIKI_SUGGEST_DEPLOY_USER": "", "WIKI_SUGGEST_DEPLOY_PASSWORD": ""})
    assert result.exit_code != 0 and "WIKI_SUGGEST_DEPLOY_USER" in result.output


# --- the gadget in the browser -----------------------------------------------------------------

def test_editor_adds_rejects_skips_and_saves(wiki: LocalMediaWiki, service: Any,
                                             stripped: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_login(browser, wiki, EDITOR, EDITOR_PASSWORD)
    t0 = time.monotonic()
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert h.gadget_startup(browser) == "panel"
    items = h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item"),
                       what="suggestions")
    shown_after = time.monotonic() - t0
    assert len(items) == 3
    panel = browser.find_element(By.ID, "wiki-suggest-panel")
    assert panel.find_element(By.CSS_SELECTOR, ".wiki-suggest-disclaimer").is_displayed()
    # Directly above WikiEditor's toolbar and edit box.
    assert browser.execute_script(
        "return $('#wiki-suggest-panel').next().is('.wikiEditor-ui')"), "panel above WikiEditor"
    save_screenshot(browser, "e2e-panel-suggestions")

    ids = [item.get_attribute("data-id") for item in items]
    rows = h.issued(service, ids)
    assert set(rows) == set(ids), "every suggestion shown was issued, and computed and stored first"
    added, rejected, skipped = (rows[i] for i in ids)
    for row in rows.values():
        assert row["wikitext"].startswith("[[Категорія:")
        assert row["wikitext"] not in stripped["text"]
        assert row["revid"] == stripped["revid"]

    textbox = "return $('#wpTextbox1').textSelection('getContents')"
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    assert items[0].get_attribute("data-state") == "accepted"
    assert browser.execute_script(textbox).rstrip().endswith(added["wikitext"])

    items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    reasons = items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-reasons")
    assert reasons.is_displayed()
    items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-comment").send_keys("belongs elsewhere")
    items[1].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="too_general"]').click()
    assert items[1].get_attribute("data-state") == "rejected"

    items[2].find_element(By.CSS_SELECTOR, ".wiki-suggest-skip").click()
    assert items[2].get_attribute("data-state") == "skipped"
    assert rejected["wikitext"] not in browser.execute_script(textbox)
    save_screenshot(browser, "e2e-panel-decided")

    got = h.wait_for(lambda: (lambda r: r if len(r) == 3 else None)(
        stored(service, decisions, decisions.c.suggestion_id.in_(ids))), what="three decisions")
    by_id = {d["suggestion_id"]: d for d in got}
    assert (by_id[added["id"]]["decision"], by_id[rejected["id"]]["decision"],
            by_id[skipped["id"]]["decision"]) == ("accept", "reject", "skip")
    assert by_id[rejected["id"]]["reason"] == "too_general"
    assert by_id[rejected["id"]]["comment"] == "belongs elsewhere"
    assert {d["user_name"] for d in got} == {EDITOR}

    browser.find_element(By.ID, "wpSave").click()
    h.wait_for(lambda: browser.execute_script(
        "return window.mw && mw.config.get('wgAction') === 'view'"), what="the saved page")
    assert h.gadget_startup(browser) is True, "the post-save report was sent"

    s = h.session(wiki)
    revision = h.latest_revision(s, ARTICLE)
    assert revision["revid"] > stripped["revid"] and revision["user"] == EDITOR
    content = revision["slots"]["main"]["content"]
    assert added["wikitext"] in content and rejected["wikitext"] not in content
    assert skipped["wikitext"] not in content
    assert f"+{added['wikitext']} (suggested by [[toolforge:wiki-suggest|wiki-suggest]])" in (
        revision["comment"])
    category = added["wikitext"].strip("[]")
    h.wait_for(lambda: category in [c["title"] for c in s.get(
        action="query", prop="categories", titles=ARTICLE)["query"]["pages"][0].get("categories", [])],
        what="the category link to be registered")

    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id.in_(ids)),
                        what="the edit report")
    assert [(e["suggestion_id"], e["revid"], e["user_name"]) for e in linked] == [
        (added["id"], revision["revid"], EDITOR)]
    print(f"suggestions shown {shown_after:.1f} s after opening the edit page")


def test_editor_confirms_the_account_and_the_decisions_count_as_confirmed(
        wiki: LocalMediaWiki, service: Any, oauth: FakeMediaWiki, stripped: dict[str, Any],
        browser: Any) -> None:
    """"Confirm your account" opens the tool's /confirm in a popup: the tool's login goes through
    the wiki's Special:OAuth (the fake, which names the editor), and the popup hands the ticket to
    the wiki page and closes. The ticket outlives the page, and the editor's decisions are
    stored as confirmed."""
    from selenium.webdriver.common.by import By

    oauth.identity["username"] = EDITOR  # the account the OAuth login confirms
    oauth.calls.clear()
    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_session(browser, editor)
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert h.gadget_startup(browser) == "panel"
    h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item"), what="suggestions")
    assert not browser.find_elements(By.CSS_SELECTOR, CONFIRMED)
    save_screenshot(browser, "e2e-panel-confirm")
    page = browser.current_window_handle
    since = len(service.requests)
    browser.find_element(By.CSS_SELECTOR, CONFIRM).click()
    h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, CONFIRMED), timeout=20,
               what="the confirmed status")
    h.wait_for(lambda: browser.window_handles == [page] or None, what="the popup to close itself")
    assert oauth.calls == ["Special:OAuth/initiate", "Special:OAuth/authenticate",
                           "Special:OAuth/token", "Special:OAuth/identify"]
    assert service.answered("GET", "/confirm", since)[-1] == 200
    assert not browser.find_elements(By.CSS_SELECTOR, CONFIRM)

    browser.get(wiki.page_url(ARTICLE, action="edit"))  # another page view: the ticket is kept
    assert h.gadget_startup(browser) == "panel"
    items = h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item"),
                       what="suggestions")
    assert browser.find_elements(By.CSS_SELECTOR, CONFIRMED)
    save_screenshot(browser, "e2e-panel-confirmed")
    sid = items[0].get_attribute("data-id")
    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-skip").click()
    (row,) = h.wait_for(lambda: stored(service, decisions, decisions.c.suggestion_id == sid),
                        what="the decision")
    assert (row["decision"], row["user_name"], row["confirmed"]) == ("skip", EDITOR, True)


def test_paused_task_shows_only_the_notice(wiki: LocalMediaWiki, service: Any,
                                           stripped: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    issued_before = shown_on(service, wiki.dbname)
    service.store.pause(wiki.dbname, "categories", "Checking a report of bad suggestions", "tests")
    try:
        h.browser_session(browser, editor)
        browser.get(wiki.page_url(ARTICLE, action="edit"))
        assert browser.execute_script("return mw.config.get('wgUserName')") == EDITOR
        assert h.gadget_startup(browser) == "panel"
        panel = browser.find_element(By.ID, "wiki-suggest-panel")
        notice = panel.find_element(By.CSS_SELECTOR, ".wiki-suggest-paused")
        assert notice.is_displayed()
        assert "Checking a report of bad suggestions" in notice.text
        for selector in (".wiki-suggest-item", ".wiki-suggest-list", ".wiki-suggest-disclaimer",
                         ".wiki-suggest-error", ".wiki-suggest-none"):
            assert not panel.find_elements(By.CSS_SELECTOR, selector), selector
        save_screenshot(browser, "e2e-panel-paused")
    finally:
        service.store.resume(wiki.dbname, "categories", "test over", "tests")
    assert shown_on(service, wiki.dbname) == issued_before


def test_gadget_is_silent_when_not_enabled(wiki: LocalMediaWiki, service: Any,
                                           stripped: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    # The reader has the service configured but has not turned the gadget on.
    reader = enable_gadget(wiki, service, READER, READER_PASSWORD, enable=False)
    issued_before = shown_on(service, wiki.dbname)
    h.browser_session(browser, reader)
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert browser.execute_script("return mw.config.get('wgUserName')") == READER
    h.wait_for(lambda: h.page_ready(browser), what="the edit page to settle")
    assert browser.find_elements(By.ID, "wpTextbox1")
    assert browser.execute_script("return mw.loader.getState('ext.gadget.wiki-suggest')") == (
        "registered"), "the gadget exists on the wiki but is not loaded"
    time.sleep(0.5)
    assert not browser.find_elements(By.ID, "wiki-suggest-panel")
    assert shown_on(service, wiki.dbname) == issued_before


def test_an_addition_survives_preview_and_is_reported_after_saving(
        wiki: LocalMediaWiki, service: Any, deployed: dict[str, Any], browser: Any) -> None:
    """Add one and reject another, then Preview (a real form submission): the panel still knows
    the addition and the rejection (the service offers the rejected one again under a new id: it
    is not shown as new), no decision is sent twice, and Save reports the addition with the new
    revision."""
    from selenium.webdriver.common.by import By

    title = "Радіус"
    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    base = h.latest_revision(editor, title)["revid"]
    h.browser_session(browser, editor)
    browser.get(wiki.page_url(title, action="edit"))
    assert h.gadget_startup(browser) == "panel"
    first, second = browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item")[:2]
    added_id, rejected_id = first.get_attribute("data-id"), second.get_attribute("data-id")
    added = h.issued(service, [added_id])[added_id]
    rejected = h.issued(service, [rejected_id])[rejected_id]
    first.find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
    second.find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    second.find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="wrong_topic"]').click()
    h.wait_for(lambda: stored(service, decisions, decisions.c.suggestion_id == rejected_id),
               what="the rejection")

    browser.find_element(By.ID, "wpPreview").click()
    h.wait_for(lambda: browser.execute_script(
        "return window.mw && mw.config.get('wgAction') === 'submit'"), what="the preview")
    assert h.gadget_startup(browser) == "panel"
    carried = browser.find_element(By.CSS_SELECTOR, f'.wiki-suggest-item[data-id="{added_id}"]')
    assert carried.get_attribute("data-state") == "accepted"
    assert carried.find_element(By.CSS_SELECTOR, ".wiki-suggest-undo").is_displayed()
    text = browser.execute_script("return $('#wpTextbox1').textSelection('getContents')")
    assert text.count(added["wikitext"]) == 1
    still = browser.find_element(By.CSS_SELECTOR, f'.wiki-suggest-item[data-id="{rejected_id}"]')
    assert still.get_attribute("data-state") == "rejected"
    assert not still.find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").is_displayed()
    shown = [item.get_attribute("data-id")
             for item in browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item")]
    assert [i for i, row in h.issued(service, shown).items()
            if row["wikitext"] == rejected["wikitext"]] == [rejected_id], "not offered again as new"
    save_screenshot(browser, "e2e-panel-after-preview")

    browser.find_element(By.ID, "wpSave").click()
    h.wait_for(lambda: browser.execute_script(
        "return window.mw && mw.config.get('wgAction') === 'view'"), what="the saved page")
    assert h.gadget_startup(browser) is True
    revision = h.latest_revision(editor, title)
    assert revision["revid"] > base and added["wikitext"] in revision["slots"]["main"]["content"]
    assert f"+{added['wikitext']} (suggested by" in revision["comment"]
    linked = h.wait_for(lambda: stored(service, edits, edits.c.suggestion_id == added_id),
                        what="the edit report")
    assert linked[0]["revid"] == revision["revid"]
    assert [d["decision"] for d in stored(service, decisions, decisions.c.suggestion_id == added_id)] == [
        "accept"]
    assert [d["decision"] for d in stored(service, decisions, decisions.c.suggestion_id.in_(shown))
            if d["suggestion_id"] != added_id] == ["reject"], "the rejection was sent once"


def test_panel_sits_above_a_plain_textarea(wiki: LocalMediaWiki, service: Any,
                                           deployed: dict[str, Any], browser: Any) -> None:
    """With WikiEditor turned off in the preferences the panel goes above the bare edit box."""
    from selenium.webdriver.common.by import By

    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    editor.post(action="options", change="usebetatoolbar=0", token=h.csrf(editor))
    try:
        h.browser_session(browser, editor)
        browser.get(wiki.page_url("Діаметр", action="edit"))
        assert h.gadget_startup(browser) == "panel"
        assert not browser.find_elements(By.CSS_SELECTOR, ".wikiEditor-ui")
        assert browser.execute_script("return $('#wiki-suggest-panel').next().is('#wpTextbox1')")
        assert browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item")
    finally:
        editor.post(action="options", change="usebetatoolbar=1", token=h.csrf(editor))


XSS_PAYLOADS = ('<img src=x onerror="window.wikiSuggestXss=1">',
                '"><svg onload="window.wikiSuggestXss=2">')


def test_hostile_suggestion_text_is_shown_as_text(wiki: LocalMediaWiki, service: Any,
                                                  deployed: dict[str, Any], browser: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Suggestion text is untrusted: in the real browser, markup in it stays text."""
    from selenium.webdriver.common.by import By

    from suggest.tasks.base import Suggestion

    def hostile(*args: Any, **kwargs: Any) -> list[Suggestion]:
        return [Suggestion(task="categories", label=payload, wikitext=f"[[Категорія:{payload}]]",
                           score=0.9, explanation=f"because {payload}", insert={"kind": "category"})
                for payload in XSS_PAYLOADS]

    task = service.app.extensions["wiki_suggest"].tasks["categories"]
    monkeypatch.setattr(task, "suggest", hostile)
    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_session(browser, editor)
    browser.get(wiki.page_url("Точка", action="edit"))
    assert h.gadget_startup(browser) == "panel"
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-label")]
    assert labels == list(XSS_PAYLOADS)
    panel = browser.find_element(By.ID, "wiki-suggest-panel")
    assert not panel.find_elements(By.CSS_SELECTOR, "img, svg")
    time.sleep(0.3)  # an injected onerror/onload would have fired by now
    assert browser.execute_script("return window.wikiSuggestXss") is None
    save_screenshot(browser, "e2e-panel-xss")

    # A narrow (mobile) window: the actions stack, each as wide as the item.
    browser.set_window_size(420, 900)
    widths = browser.execute_script(
        "var item = $('.wiki-suggest-item').first();"
        "return [item.find('.wiki-suggest-actions').width(), item.find('.wiki-suggest-add').outerWidth(),"
        " item.find('.wiki-suggest-skip').outerWidth()];")
    assert widths[1] >= 0.95 * widths[0] and widths[2] >= 0.95 * widths[0], widths
    save_screenshot(browser, "e2e-panel-narrow")


# --- the decision outbox -----------------------------------------------------------------------

BATCH = "/api/v1/decisions/batch"


def messages(lang: str) -> dict[str, str]:
    """The gadget's messages in ``lang``, English where it has none (as the gadget falls back)."""
    root = Path(__file__).resolve().parents[2] / "gadget" / "i18n"
    found = json.loads((root / "en.json").read_text(encoding="utf-8"))
    if (root / f"{lang}.json").exists():
        found.update(json.loads((root / f"{lang}.json").read_text(encoding="utf-8")))
    return found


def item_status(item: Any) -> tuple[str, bool]:
    """An item's status text, and whether it is shown as an error."""
    from selenium.webdriver.common.by import By

    element = item.find_element(By.CSS_SELECTOR, ".wiki-suggest-item-status")
    return element.text, "wiki-suggest-item-error" in (element.get_attribute("class") or "").split()


def outbox(browser: Any) -> list[dict[str, Any]]:
    return list(json.loads(browser.execute_script(
        "return localStorage.getItem('wiki-suggest-outbox')") or "[]"))


def test_decisions_made_while_the_database_is_down_are_stored_later(
        wiki: LocalMediaWiki, service: Any, stripped: dict[str, Any], browser: Any) -> None:
    """The service cannot store decisions for a while (its database is away: 503). A rejection
    and a skip made then are not lost: the items say they will be sent again, the retry waits as
    long as the answer's Retry-After says, and once the database is back they are stored with
    their reason, comment and user, and the items show their usual status again."""
    from selenium.webdriver.common.by import By

    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_session(browser, editor)
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert h.gadget_startup(browser) == "panel"
    text = messages(browser.execute_script("return mw.config.get('wgUserLanguage')"))
    retrying = text["wiki-suggest-post-retrying"]
    items = browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item")
    assert len(items) >= 2
    rejected, skipped = (item.get_attribute("data-id") for item in items[:2])
    mark = len(service.requests)

    with h.database_unavailable(service.store):
        items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
        items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-comment").send_keys("not a point")
        items[0].find_element(By.CSS_SELECTOR, '.wiki-suggest-reason[data-reason="too_general"]').click()
        h.wait_for(lambda: item_status(items[0]) == (retrying, True), what="the retry notice")
        assert items[0].get_attribute("data-state") == "rejected"
        # Made while the first one waits for its retry: waits with it.
        items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-skip").click()
        h.wait_for(lambda: item_status(items[1]) == (retrying, True), what="the second notice")
        assert [e["body"]["suggestion_id"] for e in outbox(browser)] == [rejected, skipped]
        save_screenshot(browser, "e2e-panel-retrying")
        # The 503 says Retry-After: 60, and the browser lets the gadget read it (CORS exposes
        # it): the retry is due in about a minute, and the skip waits for it.
        due = browser.execute_script("return mw.libs.wikiSuggest.outbox.retryAt - Date.now();")
        assert 50_000 < due <= 60_000, due
        assert service.answered("POST", BATCH, mark) == [503]

    # Back. Without waiting the minute: the browser says it is online again, which sends at once.
    browser.execute_script("window.dispatchEvent(new Event('online'));")
    got = h.wait_for(lambda: (lambda r: r if len(r) == 2 else None)(
        stored(service, decisions, decisions.c.suggestion_id.in_([rejected, skipped]))),
        timeout=30, what="the two decisions")
    by_id = {d["suggestion_id"]: d for d in got}
    assert (by_id[rejected]["decision"], by_id[rejected]["reason"], by_id[rejected]["comment"]) == (
        "reject", "too_general", "not a point")
    assert (by_id[skipped]["decision"], by_id[skipped]["reason"]) == ("skip", None)
    assert {d["user_name"] for d in got} == {EDITOR}
    h.wait_for(lambda: item_status(items[0]) == (text["wiki-suggest-status-rejected"], False),
               what="the rejection's status back")
    assert item_status(items[1]) == (text["wiki-suggest-status-skipped"], False)
    assert service.answered("POST", BATCH, mark) == [503, 200]
    assert outbox(browser) == []


def test_a_waiting_decision_is_sent_on_leaving_the_page_or_on_the_next_page_view(
        wiki: LocalMediaWiki, service: Any, deployed: dict[str, Any], browser: Any) -> None:
    """A decision waiting for its retry when the editor leaves the page: sent as the page goes
    (pagehide, fetch keepalive), and stored though the page is gone. If that fails too (the
    database still away), the next page view where the gadget runs sends it."""
    from selenium.webdriver.common.by import By

    title = "Діаметр"
    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_session(browser, editor)

    def open_editor() -> Any:
        """The edit page (its suggestions need the database); its first suggestion."""
        browser.get(wiki.page_url(title, action="edit"))
        assert h.gadget_startup(browser) == "panel"
        return browser.find_element(By.CSS_SELECTOR, ".wiki-suggest-item")

    def skip(item: Any) -> str:
        retrying = messages(browser.execute_script(
            "return mw.config.get('wgUserLanguage')"))["wiki-suggest-post-retrying"]
        item.find_element(By.CSS_SELECTOR, ".wiki-suggest-skip").click()
        h.wait_for(lambda: item_status(item) == (retrying, True), what="the retry notice")
        return str(item.get_attribute("data-id"))

    # Leaving the page: the service can store again before the retry is due.
    item = open_editor()
    mark = len(service.requests)
    with h.database_unavailable(service.store):
        left = skip(item)  # the 503 came back: the retry is a minute away (Retry-After)
        assert service.answered("POST", BATCH, mark) == [503]
    gone = len(service.requests)
    browser.get("about:blank")
    h.wait_for(lambda: stored(service, decisions, decisions.c.suggestion_id == left),
               what="the decision sent with keepalive")
    assert browser.current_url == "about:blank", "stored while no page of the wiki is open"
    assert service.answered("POST", BATCH, gone) == [200]
    print("requests after leaving the page:", service.requests[gone:])

    # Leaving while the database is still away: the page's last attempt fails as well.
    item = open_editor()
    with h.database_unavailable(service.store):
        waiting = skip(item)
        gone = len(service.requests)
        browser.get("about:blank")
        h.wait_for(lambda: service.answered("POST", BATCH, gone), what="the keepalive request")
    assert service.answered("POST", BATCH, gone) == [503]
    assert not stored(service, decisions, decisions.c.suggestion_id == waiting)
    # Any page view of the wiki where the gadget runs (here a plain view) sends it.
    viewed = len(service.requests)
    browser.get(wiki.page_url(title))
    assert h.gadget_startup(browser) is False, "no saved edit to report"
    row = h.wait_for(lambda: stored(service, decisions, decisions.c.suggestion_id == waiting),
                     what="the decision sent on the next page view")
    assert (row[0]["decision"], row[0]["user_name"]) == ("skip", EDITOR)
    assert service.answered("POST", BATCH, viewed) == [200]
    h.wait_for(lambda: outbox(browser) == [], what="the outbox to be empty")


def test_panel_passes_the_automated_wcag_checks(wiki: LocalMediaWiki, service: Any,
                                                stripped: dict[str, Any], browser: Any) -> None:
    """axe-core's WCAG 2.1 A/AA rules over the panel as an editor meets it in Chromium: with its
    suggestions, with a rejection's reasons open, after an addition, and paused. (The jsdom tests
    check the roles and live regions; contrast, focus order and names need a real page.)"""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    editor = enable_gadget(wiki, service, EDITOR, EDITOR_PASSWORD, enable=True)
    h.browser_session(browser, editor)
    browser.get(wiki.page_url(ARTICLE, action="edit"))
    assert h.gadget_startup(browser) == "panel"
    items = h.wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".wiki-suggest-item"),
                       what="suggestions")
    panel = "#wiki-suggest-panel"
    assert h.axe_violations(browser, panel) == [], "the list of suggestions"
    for button in (".wiki-suggest-add", ".wiki-suggest-reject"):  # colours change under the pointer
        ActionChains(browser).move_to_element(items[0].find_element(By.CSS_SELECTOR, button)).perform()
        assert h.axe_violations(browser, panel) == [], f"the pointer on {button}"

    items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-reject").click()
    assert items[0].find_element(By.CSS_SELECTOR, ".wiki-suggest-reasons").is_displayed()
    assert h.axe_violations(browser, panel) == [], "a rejection's reasons open"

    if len(items) > 1:
        items[1].find_element(By.CSS_SELECTOR, ".wiki-suggest-add").click()
        assert items[1].get_attribute("data-state") == "accepted"
        assert h.axe_violations(browser, panel) == [], "after an addition"

    service.store.pause(wiki.dbname, "categories", "Checking a report of bad suggestions", "tests")
    try:
        browser.get(wiki.page_url(ARTICLE, action="edit"))
        assert h.gadget_startup(browser) == "panel"
        assert browser.find_element(By.CSS_SELECTOR, ".wiki-suggest-paused").is_displayed()
        assert h.axe_violations(browser, panel) == [], "the paused notice"
    finally:
        service.store.resume(wiki.dbname, "categories", "test over", "tests")
