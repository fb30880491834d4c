# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the end-to-end tests: a dump subset, the service as a real HTTP server, API
sessions on the local wiki, and browser steps."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import mwapi
from werkzeug.serving import BaseWSGIServer, make_server

from suggest.store.schema import issued_row
from tests.support.mediawiki import LocalMediaWiki, free_port

USER_AGENT = "wiki-suggest-tests/0.1 (end-to-end tests) mwapi"
T = TypeVar("T")


def dump_subset(dump: Path, titles: Iterable[str], target: Path) -> Path:
    """Write the pages ``titles`` of ``dump`` (with its siteinfo) to ``target``.

    Importing a whole fixture takes about 25 s; the pages a test needs take a few seconds.
    """
    text = dump.read_text(encoding="utf-8")
    head, first_page, _ = text.partition("<page>")
    wanted = set(titles)
    pages = re.findall(r"<page>.*?</page>", text, flags=re.S)
    kept = [p for p in pages if re.search(r"<title>(.*?)</title>", p).group(1) in wanted]  # type: ignore[union-attr]
    found = {re.search(r"<title>(.*?)</title>", p).group(1) for p in kept}  # type: ignore[union-attr]
    assert first_page and found == wanted, f"not in {dump.name}: {wanted - found}"
    target.write_text(head + "\n".join(kept) + "\n</mediawiki>\n", encoding="utf-8")
    return target


class ServiceServer:
    """The Flask app served over real HTTP on 127.0.0.1 (werkzeug, threaded) in a thread.
    ``requests`` lists what it answered: (method, path, status), in order."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.requests: list[tuple[str, str, int]] = []
        self.server: BaseWSGIServer = make_server("127.0.0.1", self.port, self._logged(app),
                                                  threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _logged(self, app: Any) -> Any:
        def logged(environ: dict[str, Any], start_response: Any) -> Any:
            def start(status: str, headers: Any, exc_info: Any = None) -> Any:
                self.requests.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                      int(status.split()[0])))
                return start_response(status, headers, exc_info)
            return app(environ, start)
        return logged

    def answered(self, method: str, path: str, since: int = 0) -> list[int]:
        """The statuses of the ``method`` ``path`` requests answered since ``requests[since]``."""
        return [status for m, p, status in self.requests[since:] if m == method and p == path]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServiceServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@contextmanager
def database_unavailable(store: Any) -> Iterator[None]:
    """The service's SQLite database gone for a while, as if its disk were away: the file (with
    its WAL files, if any) is moved aside and a directory takes its place, so no connection can
    be opened and every request that needs the database gets 503 ``database_unavailable``. The
    pooled connections are closed first (they would go on using the moved file) and again at the
    end (the ones that failed); then the file is back."""
    path = Path(store.engine.url.database)
    store.engine.dispose()
    moved = []
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        here = path.with_name(name)
        if here.exists():
            away = here.with_name(f"{name}.away")
            here.rename(away)
            moved.append((here, away))
    path.mkdir()
    try:
        yield
    finally:
        path.rmdir()
        store.engine.dispose()
        for here, away in moved:
            away.rename(here)


def issued(service: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The suggestions behind ids the service issued, found as a decision finds them (stored, or
    signed and computed); an id it did not issue is left out."""
    svc = service.app.extensions["wiki_suggest"]
    found = {}
    for sid in ids:
        opened = svc.ids.open(sid)
        if opened is None:
            hit = svc.store.get_suggestion(sid)
        else:
            content = svc.store.get_computed(opened[0])
            hit = issued_row(content, sid, opened[1]) if content is not None else None
        if hit is not None:
            found[sid] = hit
    return found


def session(wiki: LocalMediaWiki, user: str | None = None, password: str | None = None) -> mwapi.Session:
    """An mwapi session on the local wiki, logged in with ``clientlogin`` when a user is given."""
    s = mwapi.Session(wiki.url, user_agent=USER_AGENT, api_path="/api.php", formatversion=2)
    if user is not None:
        s.login(user, password)
    return s


def create_account(wiki: LocalMediaWiki, user: str, password: str) -> None:
    s = session(wiki)
    token = s.get(action="query", meta="tokens", type="createaccount")["query"]["tokens"]
    answer = s.post(action="createaccount", username=user, password=password, retype=password,
                    createreturnurl=wiki.url, createtoken=token["createaccounttoken"])
    assert answer["createaccount"]["status"] == "PASS", answer


def csrf(s: mwapi.Session) -> str:
    return str(s.get(action="query", meta="tokens", type="csrf")["query"]["tokens"]["csrftoken"])


def page_text(s: mwapi.Session, title: str) -> str:
    return str(latest_revision(s, title)["slots"]["main"]["content"])


def latest_revision(s: mwapi.Session, title: str) -> dict[str, Any]:
    doc = s.get(action="query", prop="revisions", titles=title, rvslots="main",
                rvprop="ids|content|comment|user|flags")
    return dict(doc["query"]["pages"][0]["revisions"][0])


def revision_count(s: mwapi.Session, title: str) -> int:
    doc = s.get(action="query", prop="revisions", titles=title, rvprop="ids", rvlimit="max")
    return len(doc["query"]["pages"][0].get("revisions", []))


def wait_for(check: Callable[[], T | None], timeout: float = 10.0, interval: float = 0.1,
             what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# --- browser steps ---------------------------------------------------------------------------

def browser_login(driver: Any, wiki: LocalMediaWiki, user: str, password: str) -> None:
    """Log in through Special:UserLogin like a person would."""
    from selenium.webdriver.common.by import By

    driver.get(wiki.page_url("Special:UserLogin"))
    driver.find_element(By.ID, "wpName1").send_keys(user)
    driver.find_element(By.ID, "wpPassword1").send_keys(password)
    driver.find_element(By.ID, "wpLoginAttempt").click()
    wait_for(lambda: driver.execute_script("return mw.config.get('wgUserName')") == user,
             what=f"{user} to be logged in")


def browser_session(driver: Any, logged_in: mwapi.Session) -> None:
    """Give the browser the session cookies of an API login (saves two page loads per test).

    The next page the browser opens on the wiki is then seen by that user; tests check
    ``wgUserName`` there.
    """
    cookies = list(logged_in.session.cookies)
    assert cookies, "the API session has no cookies: not logged in"
    # Cookies can only be set for the origin of the current page: open a cheap one first.
    driver.get(f"{logged_in.host}/api.php?action=query&format=json")
    for cookie in cookies:
        driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": cookie.path or "/"})


def page_ready(driver: Any) -> bool:
    """True once the page's ResourceLoader queue has settled (nothing loading any more)."""
    return bool(driver.execute_script(
        "return window.mw && mw.loader && document.readyState === 'complete' && "
        "mw.loader.getModuleNames().every(function (m) {"
        "  var s = mw.loader.getState(m); return s !== 'loading' && s !== 'loaded'; })"))


def gadget_startup(driver: Any, timeout: float = 20.0) -> Any:
    """Wait for ``mw.libs.wikiSuggest.startup`` and return what it resolved to (null = no gadget)."""
    driver.set_script_timeout(timeout)
    return driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "mw.loader.using('ext.gadget.wiki-suggest').then(function () {"
        "  return mw.libs.wikiSuggest.startup; }).then(function (r) {"
        "  done(r === null || r === undefined ? null : (typeof r === 'object' ? 'panel' : r)); },"
        "  function (e) { done('error: ' + e); });")


# axe-core (npm, a devDependency): the accessibility rules of WCAG 2.1 A and AA that a machine
# can check, run in the page itself.
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")


def axe_violations(driver: Any, selector: str) -> list[str]:
    """What axe-core finds against WCAG 2.1 A/AA inside the element ``selector`` of the page
    open in ``driver``: one line per rule and element, empty when nothing is found."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    driver.set_script_timeout(60)
    found = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document.querySelector(arguments[0]),"
        "  {runOnly: {type: 'tag', values: arguments[1]}, resultTypes: ['violations']})"
        ".then(function (r) { done(r.violations); }, function (e) { done('error: ' + e); });",
        selector, list(WCAG_TAGS))
    assert isinstance(found, list), found
    return [f"{v['id']} ({v['impact']}): {' '.join(n['target'])}: {n['failureSummary']}"
            for v in found for n in v["nodes"]]
