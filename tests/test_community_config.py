# SPDX-License-Identifier: GPL-3.0-or-later
"""Each wiki's community page (MediaWiki:Wiki-suggest.json) controls the tool on that wiki."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from suggest.community import PAGE_TITLE, CommunityConfigs, InvalidCommunityConfig, evaluated_threshold
from suggest.web import create_app
from tests.conftest import app_config
from tests.conftest_mediawiki import MediaWikiFactory
from tests.support.mediawiki import LocalMediaWiki, free_port

WIKI = "local-enwiki"


def suggest(client: Any, title: str, wiki: str = WIKI) -> dict[str, Any]:
    response = client.get("/api/v1/suggestions", query_string={"wiki": wiki, "title": title,
                                                                "task": "categories"})
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture(scope="module")
def small_wiki(mediawiki_factory: MediaWikiFactory) -> LocalMediaWiki:
    """A wiki of its own (its community page must not leak into other tests) with three linked
    articles: Gamma links to Alpha and Beta, whose categories are the candidates."""
    wiki = mediawiki_factory("en", shared=False)
    wiki.edit("Alpha", "Alpha is a letter.\n[[Category:Greek letters]]\n[[Category:Vowels]]")
    wiki.edit("Beta", "Beta is a letter.\n[[Category:Greek letters]]\n[[Category:Consonants]]")
    wiki.edit("Gamma", "Gamma comes after [[Alpha]] and [[Beta]] among the letters.")
    wiki.create_category_pages()
    return wiki


@pytest.fixture
def wiki_app(small_wiki: LocalMediaWiki, sqlite_url: str, tmp_path: Path) -> Iterator[Any]:
    small_wiki.edit(PAGE_TITLE, "{}")  # every test starts from an empty (valid) page
    app = create_app(app_config(
        sqlite_url, EXTRA_WIKIS={WIKI: {"api_url": small_wiki.api_url, "lang": "en"}},
        WIKIS={WIKI: {"THRESHOLD": 0.001}}, THRESHOLDS_PATH=str(tmp_path / "absent.json")))
    yield app


def publish(app: Any, wiki: LocalMediaWiki, document: Any) -> None:
    """Save the community page, then let the tool read it again (as it does after the TTL)."""
    wiki.edit(PAGE_TITLE, json.dumps(document))
    svc = app.extensions["wiki_suggest"]
    svc.community.invalidate(svc.registry.get(WIKI))


@pytest.mark.mediawiki
def test_valid_page_changes_behaviour(wiki_app: Any, small_wiki: LocalMediaWiki) -> None:
    # Every candidate counts here, whatever the ranker makes of this tiny wiki.
    wiki_app.config["WIKIS"][WIKI]["THRESHOLD"] = 0.0
    client = wiki_app.test_client()
    before = suggest(client, "Gamma")
    labels = [s["label"] for s in before["suggestions"]]
    assert set(labels) == {"Greek letters", "Vowels", "Consonants"}
    assert before["meta"]["community_config"]["status"] == "page"

    publish(wiki_app, small_wiki, {"max_suggestions": 1, "never_suggest": {"categories": [labels[0]]}})
    after = suggest(client, "Gamma")
    assert len(after["suggestions"]) == 1 and after["suggestions"][0]["label"] != labels[0]
    assert after["meta"]["community_config"]["revid"] > before["meta"]["community_config"]["revid"]

    publish(wiki_app, small_wiki, {"thresholds": {"categories": 0.999}})
    assert all(s["score"] >= 0.999 for s in suggest(client, "Gamma")["suggestions"])

    publish(wiki_app, small_wiki, {"enabled_tasks": []})
    off = suggest(client, "Gamma")
    assert off["suggestions"] == [] and off["meta"]["paused"]["categories"] is True
    assert PAGE_TITLE in off["pause"]["reason"] and off["pause"]["by"] == "community"
    card = client.get("/toolcard.json").get_json()
    assert card["governance"]["community_configuration"]["wikis"][WIKI]["settings"] == {"enabled_tasks": []}


@pytest.mark.mediawiki
def test_invalid_page_is_ignored_with_a_warning(wiki_app: Any, small_wiki: LocalMediaWiki) -> None:
    client = wiki_app.test_client()
    publish(wiki_app, small_wiki, {"max_suggestions": 1})
    assert len(suggest(client, "Gamma")["suggestions"]) == 1

    publish(wiki_app, small_wiki, {"max_suggestions": "many", "colour": "red"})
    body = suggest(client, "Gamma")
    assert len(body["suggestions"]) == 1  # the last valid page stays in force
    assert body["meta"]["community_config"]["status"] == "invalid"
    card = client.get("/toolcard.json").get_json()
    [warning] = card["monitoring"]["community_config_warnings"]
    assert warning["wiki"] == WIKI and "max_suggestions" in warning["warning"]
    assert "colour" in warning["warning"] and "In force: revision" in warning["warning"]
    html = client.get("/toolcard").get_data(as_text=True)
    assert "community-warning" in html and "ignored" in html

    # A threshold below the evaluated minimum (0.001 for this wiki) is refused the same way.
    publish(wiki_app, small_wiki, {"thresholds": {"categories": 0.0005}})
    body = suggest(client, "Gamma")
    assert body["meta"]["community_config"]["status"] == "invalid" and len(body["suggestions"]) == 1
    state = wiki_app.extensions["wiki_suggest"].community.latest()[WIKI]
    assert "evaluated minimum" in state.warning
    assert "evaluated minimum" in client.get("/toolcard.wikitext").get_data(as_text=True)


def test_evaluated_thresholds_file_sets_the_minimum(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"categories": {"fixture-ukwiki": {"threshold": 0.62}}}))
    app = create_app(app_config(sqlite_url, THRESHOLDS_PATH=str(path)))
    community: CommunityConfigs = app.extensions["wiki_suggest"].community
    wiki = app.extensions["wiki_suggest"].registry.get("fixture-ukwiki")
    assert community.minimum_threshold(wiki, "categories") == 0.62
    with pytest.raises(InvalidCommunityConfig, match="evaluated minimum 0.62"):
        community.validate(wiki, {"thresholds": {"categories": 0.6}})
    raised = {"thresholds": {"categories": 0.7}}
    assert community.validate(wiki, raised) == raised
    with pytest.raises(InvalidCommunityConfig, match="not a task"):
        community.validate(wiki, {"enabled_tasks": ["poetry"]})
    with pytest.raises(InvalidCommunityConfig, match="daily_user_cap"):
        community.validate(wiki, {"daily_user_cap": -1})
    # The other nestings the evaluation may write.
    assert evaluated_threshold({"ukwiki": {"categories": 0.7}}, "categories", "ukwiki", "uk") == 0.7
    assert evaluated_threshold({"tasks": {"categories": {"uk": 0.5}}}, "categories", "x", "uk") == 0.5
    assert evaluated_threshold({}, "categories", "ukwiki", "uk") is None


def test_unreachable_wiki_keeps_the_defaults_with_a_warning(sqlite_url: str) -> None:
    api_url = f"http://127.0.0.1:{free_port()}/api.php"
    app = create_app(app_config(sqlite_url, EXTRA_WIKIS={"gone-wiki": {"api_url": api_url}},
                                WIKI_TIMEOUT=1.0))
    svc = app.extensions["wiki_suggest"]
    state = svc.community.get(svc.registry.get("gone-wiki"))
    assert state.status == "unavailable" and state.settings == {}
    assert "could not be read" in str(state.warning)
    dump = svc.community.get(svc.registry.get("fixture-ukwiki"))
    assert dump.status == "default" and dump.warning is None


def test_pair_rejected_twice_is_not_suggested_again(client: Any) -> None:
    first = suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"]
    target = first[0]["label"]
    for round_ in range(2):
        shown = suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"]
        [item] = [s for s in shown if s["label"] == target]
        response = client.post("/api/v1/decisions", json={"suggestion_id": item["id"],
                                                           "decision": "reject", "reason": "wrong_topic"})
        assert response.status_code == 201, round_
    again = suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"]
    assert target not in {s["label"] for s in again}
    assert again  # the others are still offered


@pytest.mark.parametrize("users", [("Ann", "Ann", "Ann"), ("Ann", "Bob")])
def test_one_editors_rejections_count_once(client: Any, users: tuple[str, ...]) -> None:
    """Opening the editor again shows the same proposal under a new id: rejecting it again is
    the same editor's opinion, not a second one."""
    target = suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"][0]["label"]
    for user in users:
        [item] = [s for s in suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"]
                  if s["label"] == target]
        response = client.post("/api/v1/decisions", json={"suggestion_id": item["id"], "user": user,
                                                           "decision": "reject", "reason": "wrong_topic"})
        assert response.status_code == 201
    again = {s["label"] for s in suggest(client, "Коло", wiki="fixture-ukwiki")["suggestions"]}
    assert (target in again) == (len(set(users)) < 2)


@pytest.mark.mediawiki
def test_community_can_withhold_its_wikis_decisions_from_the_dataset(
        wiki_app: Any, small_wiki: LocalMediaWiki) -> None:
    from suggest.store.schema import decisions
    from tests.test_dataset import YESTERDAY, decided, suggestion

    store = wiki_app.extensions["wiki_suggest"].store
    store.issue([suggestion("d0"), suggestion("d1", wiki=WIKI), suggestion("d2")])
    with store.engine.begin() as conn:
        # one by one: ids in this order
        for sid, wiki in (("d0", "fixture-enwiki"), ("d1", WIKI), ("d2", "fixture-enwiki")):
            conn.execute(decisions.insert(), decided(sid, "skip", YESTERDAY, wiki=wiki))
    client = wiki_app.test_client()

    def page(**query: Any) -> dict[str, Any]:
        answer = client.get("/api/v1/dataset/decisions", query_string=query)
        assert answer.status_code == 200
        body: dict[str, Any] = answer.get_json()
        return body

    everything = page()
    assert [r["wiki"] for r in everything["records"]] == ["fixture-enwiki", WIKI, "fixture-enwiki"]
    assert everything["withheld"] == {}
    first = everything["records"][0]["id"]

    publish(wiki_app, small_wiki, {"publish_decisions": False})
    body = page()
    assert [r["wiki"] for r in body["records"]] == ["fixture-enwiki", "fixture-enwiki"]
    assert set(body["withheld"]) == {WIKI} and "publish_decisions" in body["withheld"][WIKI]
    # A page whose only record is withheld is empty, and still leads on to the next.
    alone = page(limit=1, after=first)
    assert alone["records"] == [] and alone["next"] is not None
    assert [r["label"] for r in client.get(alone["next"]).get_json()["records"]] == ["Label d2"]
    csv_answer = client.get("/dataset/decisions.csv")
    assert csv_answer.headers["X-Withheld-Wikis"] == WIKI and WIKI not in csv_answer.get_data(as_text=True)
    card = client.get("/toolcard.json").get_json()["governance"]["community_configuration"]
    assert "publish_decisions" in card["settings"] and "withheld" in card["rules"]
    flow = client.get("/toolcard.json").get_json()["data_flow"]["published_decisions"]
    assert "can withhold its wiki's records" in flow

    # An invalid page is ignored as a whole: the last valid one, which withholds, stays in force.
    publish(wiki_app, small_wiki, {"publish_decisions": "no"})
    assert set(page()["withheld"]) == {WIKI}
    publish(wiki_app, small_wiki, {})
    assert len(page()["records"]) == 3 and page()["withheld"] == {}
