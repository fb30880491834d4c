# SPDX-License-Identifier: GPL-3.0-or-later
"""The tool card's human forms (HTML and wikitext) show what the JSON has: the system section, the
models' licence and attribution, reviewer precision as a percentage, "–" for a missing value, and
pauses and community pages next to the tasks and under governance."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest

from suggest.community import CommunityState
from suggest.review import ReviewStore
from suggest.web import create_app, transparency
from tests.conftest import app_config


def card(client: Any) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/toolcard.json").get_json()
    return body


def page(client: Any) -> str:
    response = client.get("/toolcard")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def raw_page(client: Any) -> str:
    return str(client.get("/toolcard").get_data(as_text=True))


def wikitext(client: Any) -> str:
    response = client.get("/toolcard.wikitext")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def section(text: str, start: str, end: str) -> str:
    """The text from ``start`` to the next ``end`` after it."""
    assert start in text, start
    rest = text[text.index(start):]
    return rest[:rest.find(end, len(start))] if end in rest[len(start):] else rest


def html_section(text: str, anchor: str) -> str:
    return section(text, f'<h2 id="{anchor}">', "<h2 ")


def wiki_section(text: str, title: str) -> str:
    return section(text, f"=== {title} ===", "\n=== ")


# -- 1: the system section ----------------------------------------------------------------------
def test_system_section_after_models_in_both_forms(sqlite_url: str) -> None:
    client = create_app(app_config(sqlite_url, MAX_SUGGESTIONS=4, TASKS=["categories", "references"],
                                   NAMESPACES=[0, 118])).test_client()
    system = card(client)["system"]
    text = page(client)
    assert text.index('<h2 id="models">') < text.index('<h2 id="system">') < text.index('<h2 id="hosting">')
    part = html_section(text, "system")
    for value in ("categories, references", system["backend"], system["human_in_the_loop"]):
        assert value in part
    assert not isinstance(system["wikis"], str) or system["wikis"] in part
    configuration = section(part, '<details class="system-configuration">', "</details>")
    assert "<td><code>MAX_SUGGESTIONS</code></td><td>4</td>" in configuration
    assert "<td><code>NAMESPACES</code></td><td>0, 118</td>" in configuration
    assert ("<td><code>RATE_LIMITS</code></td><td>enabled: true, login: {burst: 30, rate: 0.1}, "
            "user: {burst:") in configuration
    assert len(system["configuration"]) == configuration.count("<tr><td><code>")
    assert "SECRET_KEY" not in configuration and "DATABASE_URL" not in configuration

    wiki = wikitext(client)
    assert wiki.index("=== Models ===") < wiki.index("=== System ===") < wiki.index("=== Hosting")
    part = wiki_section(wiki, "System")
    assert "* '''Tasks enabled:''' categories, references" in part
    assert f"* '''Backend in use:''' {system['backend']}" in part
    assert system["human_in_the_loop"] in part
    assert not isinstance(system["wikis"], str) or f"* '''Wikis:''' {system['wikis']}" in part
    assert '{| class="wikitable mw-collapsible mw-collapsed"' in part
    assert "| <code>MAX_SUGGESTIONS</code> || 4\n" in part and "| <code>NAMESPACES</code> || 0, 118\n" in part
    assert part.count("{|") == part.count("|}") == 1


# -- 2: licence of the models and attribution ---------------------------------------------------
ATTRIBUTION = "Reuse of Wikipedia-derived data requires attribution under CC BY-SA (test sentence)."


@pytest.mark.parametrize("attribution", [ATTRIBUTION, None])
def test_licence_shows_models_and_attribution_when_present(
        client: Any, monkeypatch: pytest.MonkeyPatch, attribution: str | None) -> None:
    build = transparency.build_card

    def with_attribution(*args: Any, **kwargs: Any) -> dict[str, Any]:
        built: dict[str, Any] = build(*args, **kwargs)
        built["licence"].pop("attribution", None)
        if attribution:
            built["licence"]["attribution"] = attribution
        return built

    monkeypatch.setattr(transparency, "build_card", with_attribution)
    models = card(client)["licence"]["models"]
    licence = html_section(page(client), "licence")
    wiki = wiki_section(wikitext(client), "Licence")
    assert f"Models: {models}" in licence and f"* Models: {models}" in wiki
    if attribution:
        assert f'<p class="licence-attribution">{attribution}</p>' in licence
        assert f"* Attribution: {attribution}" in wiki
    else:
        assert "licence-attribution" not in licence and "* Attribution" not in wiki
        assert "None" not in licence and "None" not in wiki


# -- 3: reviewer precision as a percentage, kappa "–" ------------------------------------------
def issue(client: Any, title: str) -> list[str]:
    body = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-ukwiki", "title": title, "task": "categories"}).get_json()
    ids = client.application.extensions["wiki_suggest"].ids
    return [ids.open(s["id"])[0] for s in body["suggestions"]]


def test_reviewer_precision_as_percentages_and_no_kappa(client: Any, app: Any) -> None:
    ids = issue(client, "Коло") + issue(client, "Радіус")
    assert len(ids) >= 3
    store = ReviewStore(app.extensions["wiki_suggest"].store.engine)
    for content_id, label in zip(ids, ("correct", "correct", "incorrect"), strict=False):
        store.record(content_id, "Reviewer A", label)  # one label each: no agreement to measure
    [review] = card(client)["evaluation"]["reviewer_labels"]
    assert review["fleiss_kappa"] is None and round(review["precision"], 3) == 0.667
    expected = "67% (95% 21%–94%, n=3)"
    labels = " ".join(section(html_section(page(client), "evaluation"), "<h3>Reviewer labels</h3>",
                              "</ul>").split())
    assert f"fixture-ukwiki / categories: precision {expected} over 3 labelled suggestions" in labels
    assert labels.endswith("Fleiss' kappa –</li>")
    assert "None" not in labels and "0.666" not in labels
    wiki = section(wikitext(client), "==== Reviewer labels ====", "|}")
    assert f"| fixture-ukwiki || categories || 3 || {expected} || –" in wiki


# -- 4: "–" for a missing value in the models table ---------------------------------------------
EVALUATED = {"task": "categories", "results": {
    "tfidf": {"ukwiki": {"precision_at_threshold": 0.9, "coverage": 0.5, "threshold": 0.5, "n_articles": 9}},
    "unknown-backend": {"ukwiki": {"precision_at_threshold": 0.8, "coverage": 0.4, "threshold": 0.5,
                                   "n_articles": 9}}}}


def test_models_table_shows_a_dash_for_missing_values(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "results.json").write_text(json.dumps(EVALUATED), encoding="utf-8")
    client = create_app(app_config(sqlite_url, EVAL_DIR=str(tmp_path / "eval"))).test_client()
    model = next(m for m in card(client)["models"] if m["id"] == "unknown-backend")
    assert not model["rankers"] and not model.get("licence") and not model.get("model_card")
    table = section(html_section(raw_page(client), "models"), "<tbody>", "</tbody>")
    assert "<td></td>" not in table
    row = section(table, "<tr><td>unknown-backend</td>", "</tr>")
    cells = row.replace("\n", "").split("</td><td>")
    assert len(cells) == 9 and all(c.strip() for c in cells)
    assert cells[4] == "–" and cells[6] == "–"  # rankers, model card
    wiki = section(wiki_section(wikitext(client), "Models"), "| unknown-backend ||", "\n")
    assert [c.strip() for c in wiki.split("||")][4:7] == ["–", "–", "–"]
    assert "||  ||" not in wiki and not wiki.rstrip().endswith("||")


# -- 5: pauses next to the task, community pages per wiki ---------------------------------------
def test_pauses_and_community_pages_next_to_tasks_and_under_governance(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(app_config(sqlite_url, TASKS=["categories", "references"]))
    svc = app.extensions["wiki_suggest"]
    svc.store.pause("fixture-ukwiki", "categories", "rejections above the alarm", "monitor")
    community = {
        "ukwiki": CommunityState("ukwiki", "page", {
            "enabled_tasks": ["categories"], "thresholds": {"categories": 0.9},
            "never_suggest": {"categories": ["Living people", "<b>Stubs</b>"]}}, revid=7),
        "bnwiki": CommunityState("bnwiki", "invalid", {}, warning="the page is not valid JSON"),
        "viwiki": CommunityState("viwiki", "default"),
    }
    monkeypatch.setattr(svc.community, "latest", lambda: community)
    client = app.test_client()
    [pause] = card(client)["monitoring"]["pauses"]

    tasks = html_section(page(client), "tasks")
    categories = section(tasks, "<h3>categories ", "</h3>")
    references = section(tasks, "<h3>references ", "</h3>")
    assert f"paused on fixture-ukwiki since {pause['paused_at']}" in categories
    assert "turned off" not in categories and "paused" not in references
    assert "turned off on ukwiki by its community page" in references
    governance = html_section(raw_page(client), "governance")
    wikis = section(governance, '<ul class="community-wikis">', "</ul>")
    assert ("<li><strong>ukwiki</strong> (revision 7): tasks off: references; never suggest (categories): "
            "Living people, &lt;b&gt;Stubs&lt;/b&gt;; categories threshold raised to 0.900</li>") in wikis
    assert "bnwiki" not in wikis and "viwiki" not in wikis

    wiki = wikitext(client)
    assert ("==== categories (version " in wiki and
            f"* '''Paused on fixture-ukwiki''' since {pause['paused_at']}: rejections above the alarm"
            in section(wiki, "==== categories", "\n==== "))
    assert "* '''Turned off on ukwiki''' by its community page" in section(wiki, "==== references", "\n==== ")
    governance_wiki = wiki_section(wiki, "Governance")
    assert ("** ukwiki (revision 7): tasks off: references; never suggest (categories): Living people, "
            "&lt;b&gt;Stubs&lt;/b&gt;; categories threshold raised to 0.900") in governance_wiki
    assert "** bnwiki" not in governance_wiki and "** viwiki" not in governance_wiki

