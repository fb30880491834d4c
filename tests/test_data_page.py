# SPDX-License-Identifier: GPL-3.0-or-later
"""/data is generated from the schema: every stored field, its purpose and retention."""

from __future__ import annotations

import html
from typing import Any

import pytest
from sqlalchemy import Column, MetaData, String

from suggest.store.schema import metadata
from suggest.web import transparency


def page(client: Any) -> str:
    response = client.get("/data")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_every_column_of_every_table_is_on_the_page(client: Any) -> None:
    text = page(client)
    assert metadata.sorted_tables
    for table in metadata.sorted_tables:
        assert f'id="table-{table.name}"' in text
        assert table.info["purpose"] in text and table.info["retention"] in text
        for column in table.columns:
            assert column.comment, f"{table.name}.{column.name} has no comment"
            assert f'id="field-{table.name}-{column.name}"' in text
            assert column.comment in text


def test_a_new_column_appears_without_editing_the_page(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    copy.tables["decisions"].append_column(
        Column("mood", String(8), comment="How the editor felt (made up for this test)"))
    monkeypatch.setattr(transparency, "metadata", copy)
    text = page(client)
    assert 'id="field-decisions-mood"' in text and "How the editor felt" in text
    assert 'id="field-decisions-mood"' not in page_without_patch(client, monkeypatch)


def page_without_patch(client: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(transparency, "metadata", metadata)
    return page(client)


def test_data_flow_logging_and_evaluation_sources(client: Any, app: Any) -> None:
    text = page(client)
    info = app.extensions["wiki_suggest"].backend.info
    assert info.data_flow in text and info.id in text
    assert "IP addresses" in text and "user agents" in text
    assert "CC BY-SA" in text and "dumps.wikimedia.org" in text


def test_what_the_gadget_keeps_in_the_browser_is_stated_on_the_data_page_and_the_card(client: Any) -> None:
    from suggest.toolcard import BROWSER_OUTBOX

    assert BROWSER_OUTBOX in page(client)
    assert client.get("/toolcard.json").get_json()["data_flow"]["browser"] == BROWSER_OUTBOX
    assert "local storage" in BROWSER_OUTBOX and "7 days" in BROWSER_OUTBOX


def test_access_log_format_matches_what_the_page_says() -> None:
    from suggest.logging_setup import GUNICORN_ACCESS_FORMAT

    # gunicorn: %(h)s remote address, %(a)s user agent, %(r)s and %(q)s carry the query string,
    # %(f)s referer, %({...}i)s request headers.
    for field in ("%(h)s", "%(a)s", "%(r)s", "%(q)s", "%(f)s", "}i)s", "%(u)s"):
        assert field not in GUNICORN_ACCESS_FORMAT
