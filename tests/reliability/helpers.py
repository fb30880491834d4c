"""Throwaway servers for the reliability suite, all on 127.0.0.1: a Redis and a MariaDB of our own
(so the machine's shared ones are never stopped), and a fake MediaWiki API that misbehaves on
request."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.http import LocalServer, QuietHandler, send


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def listening_sockets(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on ``port`` (``/proc/net/tcp``, state 0A)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll ``condition`` every 50 ms until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def wait_for_listeners(port: int, count: int, timeout: float = 180.0) -> None:
    """Wait until ``count`` sockets listen on ``port``: gunicorn's workers with ``--reuse-port``
    each open theirs once they have loaded the service (``gunicorn.conf.py``), so a port that
    takes a connection is not yet a server that answers."""
    if not wait_until(lambda: len(listening_sockets(port)) >= count, timeout):
        raise TimeoutError(f"fewer than {count} sockets listen on 127.0.0.1:{port}")


def worker_pids(master: int) -> list[int]:
    """The processes a gunicorn master has forked (its workers)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


class OwnRedis:
    """A redis-server of our own on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def freeze(self) -> None:
        """The server stops answering but keeps its socket: every call times out."""
        assert self.proc
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc
        os.kill(self.proc.pid, signal.SIGCONT)


class OwnMariaDB:
    """A mariadbd of our own: temp datadir, free port, root without password."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ws-mariadb-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/wstest"

    def install(self) -> None:
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", *self._user(), f"--datadir={self.dir / 'data'}",
             "--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"],
            check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", *self._user(), f"--datadir={self.dir / 'data'}",
             f"--port={self.port}", "--bind-address=127.0.0.1", f"--socket={self.dir / 'sock'}",
             f"--pid-file={self.dir / 'pid'}",
             "--skip-grant-tables", "--skip-name-resolve", "--innodb-buffer-pool-size=16M",
             "--skip-log-bin", f"--log-error={self.dir / 'error.log'}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, timeout=60)

    @staticmethod
    def _user() -> list[str]:
        # mariadbd refuses to run as root unless told to (as in a container).
        return ["--user=root"] if os.geteuid() == 0 else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# -- a fake MediaWiki action API ------------------------------------------------------------------
ARTICLE = "Circle"
ARTICLE_TEXT = ("A '''circle''' is a [[Shape]] whose points are at one [[Radius]] from its centre.\n\n"
                "[[Category:Curves]]\n")
LINKED_CATEGORIES = {"Shape": ["Geometry", "Curves"], "Radius": ["Geometry", "Length"]}


def _with_page(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(document: dict[str, Any]) -> dict[str, Any]:
        page = document["query"]["pages"][0]
        for key, value in changes.items():
            if key == "revid":
                page["revisions"][0]["revid"] = value
            else:
                page[key] = value
        return document
    return change


PAGE_MODES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "shape": lambda document: {"query": [1, 2, 3]},
    "bad-revid": _with_page(revid="abc"),
    "user-page": _with_page(ns=2, title="User:Someone"),
}


class FakeWiki:
    """``mode`` decides the answer: ok, maxlag, ratelimited, 500, slow, malformed, redirect; or,
    for the page query only (siteinfo and the rest answer as usual): shape (JSON of another
    shape), bad-revid (a revision id that is no number), user-page (the page is in the User
    namespace)."""

    def __init__(self, redirect_to: str | None = None, slow_seconds: float = 3.0) -> None:
        self.mode = "ok"
        self.hits = 0
        self.paths: list[str] = []
        self.redirect_to = redirect_to
        self.slow_seconds = slow_seconds
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server interface
                with fake._lock:
                    fake.hits += 1
                    fake.paths.append(self.path)
                fake.answer(self)

        self.local = LocalServer(Handler)
        self.port = self.local.port

    def most_repeated(self) -> int:
        """How often the most repeated request was sent (retries of one query)."""
        return max((self.paths.count(p) for p in self.paths), default=0)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/w/api.php"

    def __enter__(self) -> FakeWiki:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.local.close()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        mode = self.mode
        if mode == "slow":
            time.sleep(self.slow_seconds)
            return self._send(handler, 200, self.ok_document(handler.path))
        if mode == "redirect":
            return send(handler, 302, b"", {"Location": str(self.redirect_to)}, content_type=None)
        if mode == "maxlag":
            lagged = {"error": {"code": "maxlag", "info": "Waiting for db: 7 s lagged"}}
            return self._send(handler, 200, lagged, {"Retry-After": "5", "X-Database-Lag": "7"})
        if mode == "ratelimited":
            return self._send(handler, 200, {"error": {"code": "ratelimited", "info": "slow down"}})
        if mode == "500":
            return self._send(handler, 500, {"error": {"code": "internal_api_error", "info": "boom"}})
        if mode == "malformed":
            return send(handler, 200, b'{"query": {"pages": [ {"title": "Circle", ')
        document = self.ok_document(handler.path)
        if mode in PAGE_MODES and "revisions" in handler.path:
            document = PAGE_MODES[mode](document)
        return self._send(handler, 200, document)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, doc: Any,
              headers: dict[str, str] | None = None) -> None:
        send(handler, status, doc, headers, content_type="application/json; charset=utf-8")

    @staticmethod
    def ok_document(path: str) -> dict[str, Any]:
        params = {k: v[0] for k, v in parse_qs(urlsplit(path).query).items()}
        if params.get("meta") == "siteinfo":
            return {"batchcomplete": True, "query": {
                "general": {"sitename": "Fake", "lang": "en"},
                "namespaces": {"0": {"id": 0, "name": ""},
                               "14": {"id": 14, "name": "Category", "canonical": "Category"}},
                "namespacealiases": [], "extensions": []}}
        if "revisions" in params.get("prop", ""):
            if params.get("titles") not in (ARTICLE, None) and params.get("revids") != "42":
                return {"query": {"pages": [{"title": params.get("titles"), "missing": True, "ns": 0}]}}
            return {"query": {"pages": [{
                "pageid": 7, "ns": 0, "title": ARTICLE,
                "revisions": [{"revid": 42, "slots": {"main": {"content": ARTICLE_TEXT}}}],
                "categories": [{"ns": 14, "title": "Category:Curves"}]}]}}
        # The linked articles' categories (asked with their page properties: none of them is a
        # disambiguation page here).
        if params.get("prop") in ("categories", "categories|pageprops"):
            titles = params.get("titles", "").split("|")
            return {"query": {"pages": [
                {"pageid": 100 + i, "ns": 0, "title": t,
                 "categories": [{"ns": 14, "title": f"Category:{c}"} for c in LINKED_CATEGORIES.get(t, [])]}
                for i, t in enumerate(titles)]}}
        return {"query": {}}
