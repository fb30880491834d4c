# SPDX-License-Identifier: GPL-3.0-or-later
"""The tool's own pages for people (index, stats, tool card, data, review, login, admin), as an
accessibility and layout audit found them: one h1, unique ids, a title, lang and dir on every page;
tables that scroll sideways are focusable, named regions (axe: scrollable-region-focusable); text
from a right-to-left wiki (Arabic reasons, user names, titles, leads) keeps its own direction; a
long reason pasted without spaces does not make the page scroll sideways; the charts' figures are
also a table; the header links to the login and, for maintainers, to the controls; no page asks
for a /favicon.ico that is not there."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from suggest.store.events import utcnow
from suggest.store.schema import decisions
from suggest.web import create_app, stats
from tests.conftest import app_config

MAINTAINER = "Audit Maint"
REVIEWER = "مراجع عربي"  # a reviewer with an Arabic user name
AR_WIKI = "audit-arwiki"  # not on the tool's list: the review page reads nothing from any wiki for it
AR_REASON = "نسبة الرفض مرتفعة جدا في هذه الويكي (تجربة)"
AR_TITLE = "القاهرة"
AR_LABEL = "مدن مصر"
LONG_REASON = "https://phabricator.wikimedia.org/T" + "0123456789abcdef" * 30  # no spaces
RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
OAUTH = {"consumer_key": "k", "consumer_secret": "s", "mw_uri": "http://127.0.0.1:9/index.php"}


class Page(HTMLParser):
    """What the audit checks in one page: headings, ids, regions, references, and every text
    with a right-to-left letter together with whether it sits in a <bdi> or an element with dir."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.rtl_texts: list[tuple[str, bool]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag not in self.VOID:
            self.stack.append((tag, found))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if any(t == "title" for t, _ in self.stack):
            self.title += data
        if RTL.search(data):
            isolated = any(t == "bdi" or "dir" in a for t, a in self.stack[1:])  # not <html dir>
            self.rtl_texts.append((data.strip(), isolated))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    def ids(self) -> list[str]:
        return [str(a["id"]) for _, a in self.tags if a.get("id")]

    def scroll_regions(self) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == "div" and set(str(a.get("class") or "").split()) &
                {"table-scroll", "cdx-table__table-wrapper"}]


def signed_in(app: Any, name: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = name
        session["csrf"] = "token"
    return client


def suggestion_row(sid: str, wiki: str, at: dt.datetime, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "created_at": at, "wiki": wiki, "task": "categories", "task_version": "1",
            "page_title": AR_TITLE, "page_id": 1, "revid": 1, "rank": 0, "label": AR_LABEL,
            "wikitext": f"[[تصنيف:{AR_LABEL}]]", "score": 0.5, "explanation": "in 1 of 2",
            "details": "{}", "backend": "tfidf", "model_checksum": "sha256:ab", "config_hash": "h",
            "app_version": "0", **extra}


def populate(app: Any, reason: str = AR_REASON) -> None:
    """Decisions through the API on the Ukrainian fixture; on an Arabic wiki: suggestions shown
    over two weeks and decided, a computed suggestion for the review page, a pause by a
    maintainer with an Arabic name and an Arabic reason (in the audit log too)."""
    client = app.test_client()
    body = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"}).get_json()
    for s, decision in zip(body["suggestions"], ("accept", "reject", "skip"), strict=False):
        answer = client.post("/api/v1/decisions", json={
            "suggestion_id": s["id"], "decision": decision,
            **({"reason": "wrong_topic"} if decision == "reject" else {})})
        assert answer.status_code == 201, answer.get_data(as_text=True)
    store = app.extensions["wiki_suggest"].store
    now = utcnow()
    rows = [suggestion_row(f"ar-{age}-{i}", AR_WIKI, now - dt.timedelta(weeks=age, hours=1))
            for age in (0, 1) for i in range(4)]
    store.issue(rows)
    with store.engine.begin() as conn:
        conn.execute(decisions.insert(), [
            {"suggestion_id": r["id"], "wiki": r["wiki"],
             "decision": ("accept", "accept", "reject", "skip")[i % 4],
             "reason": "too_general" if i % 4 == 2 else None, "created_at": r["created_at"]}
            for i, r in enumerate(rows)])
    store.store_computed([{k: v for k, v in suggestion_row("c" * 20, AR_WIKI, now).items()
                           if k != "created_at"}])
    store.pause(AR_WIKI, "categories", reason, "مشرف")
    app.extensions["wiki_suggest"].shown.flush()


@pytest.fixture
def app(sqlite_url: str) -> Any:
    return create_app(app_config(sqlite_url, MAINTAINERS=[MAINTAINER], OAUTH=OAUTH))


def pages(app: Any) -> dict[str, Page]:
    """Every page for people, as a visitor, a reviewer and a maintainer see it."""
    anonymous, reviewer, maintainer = (app.test_client(), signed_in(app, REVIEWER),
                                       signed_in(app, MAINTAINER))
    found = {}
    for name, client, url in [
            ("index", anonymous, "/"), ("stats", anonymous, "/stats"),
            ("stats-ar", anonymous, f"/stats?wiki={AR_WIKI}"),
            ("stats-empty", anonymous, "/stats?wiki=dewiki"),
            ("toolcard", anonymous, "/toolcard"), ("data", anonymous, "/data"),
            ("review", anonymous, "/review"),
            ("review-ar", reviewer, f"/review?wiki={AR_WIKI}&task=categories"),
            ("review-uk", reviewer, "/review?wiki=fixture-ukwiki&task=categories"),
            ("login-status", anonymous, "/login-status"), ("login-status-in", reviewer, "/login-status"),
            ("admin", maintainer, "/admin")]:
        response = client.get(url)
        assert response.status_code == 200, url
        found[name] = Page(response.get_data(as_text=True))
    return found


def test_every_page_has_a_title_one_h1_unique_ids_lang_and_dir(app: Any) -> None:
    populate(app)
    for name, page in pages(app).items():
        html = page.all("html")[0]
        assert html.get("lang") == "en" and html.get("dir") == "ltr", name
        assert page.title.strip(), name
        assert len(page.all("h1")) == 1, name
        ids = page.ids()
        assert len(ids) == len(set(ids)), (name, sorted(i for i in ids if ids.count(i) > 1))
        for attr in ("aria-describedby", "aria-labelledby"):  # every reference names an element here
            for a in page.tags:
                for ref in str(a[1].get(attr) or "").split():
                    assert ref in ids, (name, attr, ref)
        assert page.all("main") and page.all("nav"), name


def test_tables_that_scroll_sideways_are_focusable_named_regions(app: Any) -> None:
    """axe-core's scrollable-region-focusable (serious): on a phone the counts, audit, models,
    configuration, evaluation, live-rates, data and review tables scroll inside their wrapper,
    which a keyboard user can only scroll once it can take the focus."""
    populate(app)
    seen = 0
    for name, page in pages(app).items():
        regions = page.scroll_regions()
        labels = [r.get("aria-label") for r in regions]
        for region in regions:
            assert region.get("tabindex") == "0", (name, region)
            assert region.get("role") == "region" and region.get("aria-label"), (name, region)
        assert len(labels) == len(set(labels)), (name, labels)  # each region has its own name
        seen += len(regions)
    assert seen >= 8


def test_text_from_a_right_to_left_wiki_keeps_its_direction(app: Any) -> None:
    """Arabic reasons, user names, labels and titles inside English sentences: without <bdi> or
    dir="auto" the browser lays them out left to right (the reason's closing bracket and a
    lead's full stop end up on the wrong side)."""
    populate(app)
    found = pages(app)
    for name, page in found.items():
        bare = [text for text, isolated in page.rtl_texts if not isolated]
        assert not bare, (name, bare)
    assert any(AR_REASON in t for t, _ in found["stats"].rtl_texts)  # the pause and the audit log
    assert sum(AR_REASON in t for t, _ in found["toolcard"].rtl_texts) == 1
    assert sum(AR_REASON in t for t, _ in found["admin"].rtl_texts) == 2  # paused now, recent changes
    assert any(AR_TITLE in t for t, _ in found["review-ar"].rtl_texts)
    assert any(REVIEWER in t for t, _ in found["login-status-in"].rtl_texts)
    # A lead from the wiki (here Ukrainian, read from the fixture) takes the direction of its text.
    leads = found["review-uk"].all("blockquote")
    assert leads and all(a.get("dir") == "auto" for a in leads)
    # The paused task's form says which pause it resumes; a label button, which suggestion.
    described = [a.get("aria-describedby") for a in found["admin"].all("input") if a.get("name") == "reason"]
    assert described == [f"paused-{AR_WIKI}-categories", None]  # resume, then the pause form
    heading_ids = {a.get("id") for a in found["review-uk"].all("h2")}
    buttons = [a for a in found["review-uk"].all("button") if a.get("name") == "label"]
    assert buttons and all(a.get("aria-describedby") in heading_ids for a in buttons)


def test_the_charts_figures_are_also_a_table_that_agrees_with_the_json(app: Any) -> None:
    populate(app)
    client = app.test_client()
    data = client.get("/api/v1/stats", query_string={"wiki": AR_WIKI}).get_json()
    html = client.get("/stats", query_string={"wiki": AR_WIKI}).get_data(as_text=True)
    table = re.search(r'<table class="stats-weeks">(.*?)</table>', html, re.S)
    assert table, "no table of the weekly figures"
    headers = re.findall(r'<th scope="col">([^<]*)</th>', table.group(1))
    assert headers == ["Week", "shown", "decided", *(title for _, title in stats.CHARTS)]
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', table.group(1), re.S)
    weeks = data["weeks"]
    assert [w for w, _ in rows] == [w["week"] for w in weeks] and len(weeks) == 2
    for (_, cells), week in zip(rows, weeks, strict=True):
        values = re.findall(r"<td>(.*?)</td>", cells, re.S)
        assert values[:2] == [str(week["shown"]), str(week["decided"])]
        acceptance = week["rates"]["acceptance"]
        assert f'{acceptance["value"] * 100:.1f}%' in values[2]
        assert f'n={acceptance["total"]}' in values[2]
    assert week["shown"] == 4 and acceptance["value"] == pytest.approx(0.5)


def test_header_links_to_login_and_to_the_controls(app: Any, sqlite_url: str) -> None:
    anonymous = app.test_client().get("/stats?wiki=dewiki").get_data(as_text=True)
    assert '<a class="site-login" href="/login?next=/stats?wiki%3Ddewiki">Log in</a>' in anonymous
    maintainer = signed_in(app, MAINTAINER).get("/").get_data(as_text=True)
    assert f'href="/login-status"><bdi>{MAINTAINER}</bdi></a>' in maintainer
    assert '<a href="/admin">Controls</a>' in maintainer and "site-login" not in maintainer
    reviewer = signed_in(app, "Someone").get("/").get_data(as_text=True)
    assert '<a href="/admin">' not in reviewer
    without_oauth = create_app(app_config(sqlite_url)).test_client().get("/").get_data(as_text=True)
    assert "site-login" not in without_oauth  # no login link where login cannot work


def test_no_page_asks_for_a_missing_favicon(app: Any) -> None:
    client = app.test_client()
    assert client.get("/favicon.ico").status_code == 404
    for url in ("/", "/stats", "/toolcard", "/data", "/review", "/login-status"):
        icons = Page(client.get(url).get_data(as_text=True)).all("link")
        assert any(a.get("rel") == "icon" and str(a.get("href")).startswith("data:") for a in icons), url


def test_admin_says_when_there_are_no_control_actions(app: Any) -> None:
    html = signed_in(app, MAINTAINER).get("/admin").get_data(as_text=True)
    assert "Nothing is paused." in html and "No control actions yet." in html
    assert not re.search(r"<ul>\s*</ul>", html)


@pytest.mark.mediawiki
def test_long_reasons_do_not_widen_pages_on_a_phone(app: Any, served: str, browser: Any) -> None:
    """A reason pasted without spaces (a Phabricator link) in the pause list, the audit log, the
    tool card's monitoring and the maintainer's form: the page still fits a phone, and the header's
    links are touch targets of at least 24 px (WCAG 2.5.8)."""
    populate(app, reason=LONG_REASON)
    cookie = app.session_interface.get_signing_serializer(app).dumps({"user": MAINTAINER})
    browser.set_window_size(390, 844)
    browser.get(f"{served}/healthz")
    browser.add_cookie({"name": "session", "value": cookie, "path": "/"})
    for path in ("/stats", f"/stats?wiki={AR_WIKI}", "/toolcard", "/admin"):
        browser.get(f"{served}{path}")
        assert browser.find_elements("css selector", "h1"), path
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
        heights = browser.execute_script(
            "return [...document.querySelectorAll('.site-header nav a')]"
            ".map(a => a.getBoundingClientRect().height)")
        assert heights and min(heights) >= 24, (path, heights)
        # The audit log's reason wraps in its cell: its six columns may scroll a little on a
        # phone (the region can take the focus), but the table is not thousands of pixels wide.
        audit = browser.execute_script(
            "const t = document.querySelector('.stats-audit');"
            "return t && t.parentElement.scrollWidth - t.parentElement.clientWidth")
        assert audit is None or audit < 390, f"{path}: the audit log scrolls by {audit}px"


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_errors_on_pages_are_pages_in_the_sites_frame(app: Any) -> None:
    """A browser that meets an error on one of the pages (an unknown address, a page's own check
    of its query, the controls for someone who is not a maintainer) gets a page with the site's
    header, a main landmark and the reason, and the error's stable code in X-Error-Code; the API
    and programs that ask for JSON still get the JSON error."""
    anonymous, someone = app.test_client(), signed_in(app, "Someone")
    for client, url, status, code, says in [
            (anonymous, "/nope", 404, "not_found", "Not Found"),
            (anonymous, "/stats?weeks=0", 400, "invalid_parameter", "weeks"),
            (someone, "/admin", 403, "forbidden", "maintainers may use the controls")]:
        response = client.get(url, headers=BROWSER)
        html = response.get_data(as_text=True)
        assert (response.status_code, response.mimetype) == (status, "text/html"), url
        assert response.headers["X-Error-Code"] == code, url
        page = Page(html)
        assert len(page.all("h1")) == 1 and page.all("main") and page.all("header"), url
        assert says in html, url
        as_program = client.get(url, headers={"Accept": "application/json"})
        assert as_program.status_code == status
        if url.startswith("/stats"):  # the page's own check answers programs in JSON as before
            assert as_program.get_json()["error"]["code"] == code
    api = anonymous.get("/api/v1/nope", headers=BROWSER)
    assert (api.status_code, api.get_json()["error"]["code"]) == (404, "not_found")


def test_text_from_a_wiki_carries_the_wikis_language(app: Any) -> None:
    """WCAG 3.1.2: the review card's label, title, wikitext and lead are in the wiki's language
    (a screen reader switches voice); a wiki not on the tool's list gets no guess."""
    populate(app)
    reviewer = signed_in(app, REVIEWER)
    page = Page(reviewer.get("/review?wiki=fixture-ukwiki&task=categories").get_data(as_text=True))
    titles = [a for a in page.all("h2") if "cdx-card__text__title" in str(a.get("class"))]
    assert titles and {a.get("lang") for a in titles} == {"uk"}
    assert {a.get("lang") for a in page.all("code")} == {"uk"}
    other = reviewer.get(f"/review?wiki={AR_WIKI}&task=categories").get_data(as_text=True)
    assert AR_LABEL in other and 'lang="' not in other.split("<main", 1)[1]
