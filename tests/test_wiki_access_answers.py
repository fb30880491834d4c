# SPDX-License-Identifier: GPL-3.0-or-later
"""A wiki whose answer is JSON but no API document (``null``, a number, an "error" that is no
object): the wiki is unavailable (502 to the client, a later try for the verification job), not an
error of the service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from suggest.wiki.api_source import ApiSource, make_session
from suggest.wiki.registry import Wiki
from suggest.wiki.source import WikiUnavailable
from tests.conftest import app_config
from tests.support.http import LocalServer, QuietHandler, send

NOT_DOCUMENTS = ["null", "5", "true", '"error"', '{"error": "maxlag"}', '{"error": null}',
                 '{"warnings": ["busy"]}']


@pytest.fixture(params=NOT_DOCUMENTS)
def api_url(request: pytest.FixtureRequest) -> Iterator[str]:
    body = request.param

    class Handler(QuietHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            send(self, 200, body)

    with LocalServer(Handler) as local:
        yield f"{local.url}/w/api.php"


def test_the_source_reports_the_wiki_unavailable(api_url: str) -> None:
    record = Wiki(id="odd", kind="mediawiki", lang="en", name="odd", api_url=api_url)
    source = ApiSource(record, make_session(record, "wiki-suggest/test (https://example.org/; a@b.c)", 5.0))
    with pytest.raises(WikiUnavailable):
        source.get_page("Albedo")
    with pytest.raises(WikiUnavailable):
        source.categories_of(["Albedo"])


def test_the_api_answers_wiki_unavailable(api_url: str, sqlite_url: str) -> None:
    from suggest.web import create_app

    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={"oddwiki": {"api_url": api_url}}))
    response = app.test_client().get("/api/v1/suggestions", query_string={
        "wiki": "oddwiki", "title": "Albedo", "task": "categories"})
    assert response.status_code == 502, response.get_json()
    assert response.get_json()["error"]["code"] == "wiki_unavailable"
