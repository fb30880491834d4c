# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest configuration: the app on a throwaway database, and the real services."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text

pytest_plugins = ["tests.conftest_mediawiki"]

FIXTURES = Path(__file__).parent / "fixtures"
DUMPS = FIXTURES / "dumps"
MARIADB_ROOT = "mysql+pymysql://root@127.0.0.1:3306"
REDIS_URL = "redis://127.0.0.1:6379/0"


def dump_wikis() -> dict[str, dict[str, str]]:
    """The committed fixtures as dump wikis: ``fixture-enwiki``, ``fixture-ukwiki``, ..."""
    return {f"fixture-{lang}wiki": {"path": str(DUMPS / f"{lang}wiki-sample.xml"), "lang": lang}
            for lang in ("en", "uk", "bn", "ja", "vi")}


@pytest.fixture(autouse=True, scope="session")
def dumps_read_once() -> Iterator[None]:
    """Each dump wiki is read and indexed once per test run, not again by every app a test makes
    (0.3-1 s each). A loaded DumpSource does not change: what it builds on first use (the
    similarity index, the category sizes) is the same for every app. Sources are shared by path,
    wiki id, size and modification time, so a dump a test writes or rewrites is read anew, and a
    missing one fails as before. DumpSource's own tests construct it directly."""
    from suggest import services
    from suggest.wiki.dump_source import DumpSource

    loaded: dict[tuple[str, str | None, int, int], DumpSource] = {}

    def read_once(path: str | Path, wiki_id: str | None = None) -> DumpSource:
        try:
            status = os.stat(path)
        except OSError:
            return DumpSource(path, wiki_id=wiki_id)
        key = (os.path.abspath(path), wiki_id, status.st_size, status.st_mtime_ns)
        if key not in loaded:
            loaded[key] = DumpSource(path, wiki_id=wiki_id)
        return loaded[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "DumpSource", read_once)
        yield


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.sqlite3'}"


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A throwaway database on the real MariaDB, dropped afterwards."""
    name = f"ws_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(MARIADB_ROOT)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    yield f"{MARIADB_ROOT}/{name}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A secret key prefix, as on Toolforge; every key under it is removed afterwards."""
    prefix = f"test-{secrets.token_hex(16)}:"
    yield prefix
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def app_config(database_url: str, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "TESTING": True, "DATABASE_URL": database_url, "BACKEND": "tfidf",
        "DUMP_WIKIS": dump_wikis(), "THRESHOLD": 0.0,
        # Tests that count rows write the shown counts themselves (service.shown.flush()), so a
        # background write cannot land between their counts. The writer thread has its own test.
        "SHOWN_FLUSH_SECONDS": 3600,
    }
    config.update(extra)
    return config


@pytest.fixture
def app(sqlite_url: str) -> Any:
    from suggest.web import create_app

    return create_app(app_config(sqlite_url))


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def served(app: Any) -> Iterator[str]:
    """The module's ``app`` over real HTTP on 127.0.0.1 (werkzeug, threaded): its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
