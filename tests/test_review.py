# SPDX-License-Identifier: GPL-3.0-or-later
"""Reviewer labels: storage per reviewer, agreement, precision, and the /review page."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from suggest.review import ReviewStore, UnknownSuggestion, agreement, majority_label, wilson
from suggest.web import create_app
from tests.conftest import app_config


def issue(client: Any, title: str = "Коло") -> list[str]:
    """Content ids of the suggestions the API issued: what reviewers are offered and label."""
    body = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-ukwiki", "title": title, "task": "categories"}).get_json()
    ids = client.application.extensions["wiki_suggest"].ids
    return [ids.open(s["id"])[0] for s in body["suggestions"]]


def login(client: Any, name: str) -> None:
    with client.session_transaction() as session:
        session["user"] = name


def test_agreement_matches_hand_computed_fleiss_kappa() -> None:
    items = [Counter(correct=2), Counter(correct=1, incorrect=1), Counter(incorrect=2),
             Counter(correct=1)]  # the last has one label: not counted
    result = agreement(items)
    # P_i = 1, 0, 1 -> 2/3; label shares 3/6 and 3/6 -> P_e = 0.5; kappa = (2/3 - 1/2) / (1/2) = 1/3
    assert result == {"items_with_two_or_more": 3, "observed_agreement": 0.6667, "fleiss_kappa": 0.3333}
    assert agreement([Counter(correct=1)])["fleiss_kappa"] is None
    assert majority_label(Counter(correct=1, incorrect=1)) == "unsure"
    assert majority_label(Counter(correct=2, incorrect=1)) == "correct"
    assert wilson(0, 0) is None
    low, high = wilson(8, 10)  # type: ignore[misc]
    assert low < 0.8 < high and round(low, 3) == 0.490


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
def test_labels_per_reviewer_sample_and_precision(backend: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "mariadb_url")
    app = create_app(app_config(url))
    client = app.test_client()
    ids = issue(client) + issue(client, "Радіус")
    assert len(ids) >= 3
    store = ReviewStore(app.extensions["wiki_suggest"].store.engine)
    sample = store.sample("fixture-ukwiki", "categories", "A", size=50)
    assert {s["id"] for s in sample} == set(ids)
    store.record(ids[0], "A", "correct")
    store.record(ids[0], "B", "correct")
    store.record(ids[1], "A", "incorrect")
    store.record(ids[1], "B", "correct")
    store.record(ids[1], "B", "incorrect")  # B changes their mind: one label per reviewer
    store.record(ids[2], "A", "unsure")
    with pytest.raises(UnknownSuggestion):
        store.record("not-issued", "A", "correct")
    with pytest.raises(ValueError):
        store.record(ids[0], "A", "maybe")
    assert ids[0] not in {s["id"] for s in store.sample("fixture-ukwiki", "categories", "A", 50)}
    [summary] = store.summary()
    assert summary["labels"] == 5 and summary["suggestions"] == 3
    assert summary["majority"] == {"correct": 1, "incorrect": 1, "unsure": 1}
    assert summary["precision"] == 0.5
    assert summary["items_with_two_or_more"] == 2 and summary["observed_agreement"] == 1.0


def test_review_page_needs_login_and_csrf(client: Any, app: Any) -> None:
    ids = issue(client)
    anonymous = client.get("/review?wiki=fixture-ukwiki&task=categories").get_data(as_text=True)
    assert "log in" in anonymous.lower() and ids[0] not in anonymous
    assert client.post("/review/label", data={"suggestion_id": ids[0], "label": "correct"}).status_code == 403

    login(client, "Reviewer A")
    page = client.get("/review?wiki=fixture-ukwiki&task=categories").get_data(as_text=True)
    shown = re.findall(r'name="suggestion_id" value="([^"]+)"', page)
    assert shown and set(shown) <= set(ids)
    assert "Коло" in page  # the page context
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"suggestion_id": shown[0], "label": "correct", "wiki": "fixture-ukwiki", "task": "categories"}
    assert client.post("/review/label", data=form).status_code == 400  # no token
    response = client.post("/review/label", data={**form, "csrf_token": token.group(1)})
    assert response.status_code == 303 and "wiki=fixture-ukwiki" in response.headers["Location"]
    after = client.get("/review?wiki=fixture-ukwiki&task=categories").get_data(as_text=True)
    assert f'value="{shown[0]}"' not in after  # labelled: not offered to A again

    login(client, "Reviewer B")
    page_b = client.get("/review?wiki=fixture-ukwiki&task=categories").get_data(as_text=True)
    token_b = re.search(r'name="csrf_token" value="([^"]+)"', page_b)
    assert token_b and f'value="{shown[0]}"' in page_b
    client.post("/review/label", data={**form, "label": "incorrect", "csrf_token": token_b.group(1)})
    [row] = ReviewStore(app.extensions["wiki_suggest"].store.engine).summary()
    assert row["items_with_two_or_more"] == 1 and row["observed_agreement"] == 0.0
    card = client.get("/toolcard.json").get_json()
    assert card["evaluation"]["reviewer_labels"][0]["labels"] == 2
