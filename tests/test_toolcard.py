# SPDX-License-Identifier: GPL-3.0-or-later
"""The tool card is built from the running tool: every field present, and it follows the config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from suggest.toolcard import REQUIRED_KEYS
from suggest.web import create_app
from tests.conftest import app_config


def card(client: Any) -> dict[str, Any]:
    response = client.get("/toolcard.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def test_every_field_is_present(client: Any, app: Any) -> None:
    body = card(client)
    missing = [k for k in REQUIRED_KEYS if k not in body]
    assert not missing
    assert set(REQUIRED_KEYS) >= {"identity", "tasks", "models", "system", "hosting", "data_flow",
                                  "evaluation", "limitations", "monitoring", "governance", "licence"}
    svc = app.extensions["wiki_suggest"]
    assert {t["id"] for t in body["tasks"]} == set(svc.tasks)
    for task in body["tasks"]:
        assert task["version"] == svc.tasks[task["id"]].version
        assert task["definition"] == svc.tasks[task["id"]].definition
        pipeline = task["pipeline"]
        for key in ("candidate_sources", "features", "ranker", "thresholds", "guardrails"):
            assert pipeline[key] not in (None, "", []), (task["id"], key)
        assert {"never_suggest", "max_suggestions", "rejected_pairs"} <= set(pipeline["guardrails"])
    info = svc.backend.info
    model = body["models"][0]
    for key in ("id", "version", "checksum", "licence", "model_card", "hosting_tier", "data_flow"):
        assert model[key] == getattr(info, key)
    assert body["limitations"]["tool"] and body["limitations"]["model"][info.id] == info.limitations
    assert body["governance"]["community_configuration"]["page"] == "MediaWiki:Wiki-suggest.json"
    assert "never edits" in body["governance"]["editing"] and "bot" in body["governance"]["editing"]
    assert body["licence"]["code"] == "GPL-3.0-or-later"
    assert body["licence"]["source"] == app.config["SOURCE_URL"]
    # Secrets never reach the card.
    text = json.dumps(body)
    for secret in ("SECRET_KEY", "DATABASE_URL", app.config["SECRET_KEY"]):
        assert secret not in text


def test_card_follows_the_configuration(client: Any, app: Any) -> None:
    before = card(client)
    app.config["MAX_SUGGESTIONS"] = 1
    app.config["THRESHOLD"] = 0.61
    app.config["NEVER_SUGGEST"] = {"categories": ["Living people"]}
    app.config["HOSTING_TIER"] = "local"
    app.config["HOSTING_PROVIDER"] = "a laptop"
    app.config["WIKIS"] = {"fixture-ukwiki": {"THRESHOLD": 0.8, "MAX_SUGGESTIONS": 2}}
    after = card(client)
    pipeline = after["tasks"][0]["pipeline"]
    assert pipeline["guardrails"]["max_suggestions"] == 1
    assert pipeline["guardrails"]["max_suggestions_per_wiki"] == {"fixture-ukwiki": 2}
    assert pipeline["guardrails"]["never_suggest"] == ["Living people"]
    assert pipeline["thresholds"]["default"] == 0.61
    assert pipeline["thresholds"]["per_wiki"] == {"fixture-ukwiki": 0.8}
    assert after["hosting"] == {**after["hosting"], "tier": "local", "provider": "a laptop"}
    assert after["governance"]["caps"]["max_suggestions"]["default"] == 1
    assert after["identity"]["config_hash"] != before["identity"]["config_hash"]
    # The wikitext and HTML versions say the same.
    wikitext = client.get("/toolcard.wikitext").get_data(as_text=True)
    assert "at most 1 suggestions" in wikitext and "a laptop" in wikitext
    html = client.get("/toolcard").get_data(as_text=True)
    assert '<span class="max-suggestions">1</span>' in html and "Living people" in html


def test_pauses_and_reviewer_precision_appear(client: Any, app: Any) -> None:
    svc = app.extensions["wiki_suggest"]
    svc.store.pause("fixture-ukwiki", "categories", "rejections above the alarm", "monitor")
    body = card(client)
    assert [(p["wiki"], p["task"], p["reason"]) for p in body["monitoring"]["pauses"]] == [
        ("fixture-ukwiki", "categories", "rejections above the alarm")]
    assert "fixture-ukwiki/categories" in client.get("/toolcard.wikitext").get_data(as_text=True)


RESULTS = {
    "task": "categories", "app_version": "0.1.0", "default_backend": "e5-multilingual-offline",
    "datasets": {"ukwiki": {"path": "ukwiki-sample.xml", "sha256": "ab" * 32}},
    "backends": {
        "tfidf": {"wikis": {"ukwiki": {"precision_at_threshold": 0.81, "recall_at_threshold": 0.3,
                                       "coverage": 0.5, "threshold": 0.6, "precision_at_1": 0.7,
                                       "precision_at_3": 0.5, "recall_at_5": 0.6, "mrr": 0.66,
                                       "n_articles": 40,
                                       "precision_at_threshold_ci": [0.7, 0.9]}}},
        "e5-multilingual-offline": {"wikis": {"ukwiki": {"precision_at_threshold": 0.86,
                                                         "coverage": 0.55, "threshold": 0.64,
                                                         "n_articles": 40}}},
    },
}


def test_evaluation_shows_every_backend_side_by_side(sqlite_url: str, tmp_path: Path) -> None:
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "categories.json").write_text(json.dumps(RESULTS), encoding="utf-8")
    client = create_app(app_config(sqlite_url, EVAL_DIR=str(tmp_path / "eval"))).test_client()
    body = card(client)
    [evaluation] = body["evaluation"]["results"]
    assert evaluation["backends"] == ["e5-multilingual-offline", "tfidf"]
    rows = {(r["backend"], r["wiki"]): r for r in evaluation["results"]}
    assert rows[("tfidf", "ukwiki")]["precision_at_threshold"] == 0.81
    assert rows[("tfidf", "ukwiki")]["precision_at_threshold_ci"] == [0.7, 0.9]
    assert rows[("e5-multilingual-offline", "ukwiki")]["threshold"] == 0.64
    assert "ab" * 32 in evaluation["dataset_checksums"].values()
    assert evaluation["reproduce"].startswith("python -m suggest.evaluate --task categories")
    assert "--backend tfidf" in evaluation["reproduce"]
    assert {m["id"] for m in body["models"]} >= {"tfidf", "e5-multilingual-offline"}
    wikitext = client.get("/toolcard.wikitext").get_data(as_text=True)
    assert "| e5-multilingual-offline || ukwiki || 0.860" in wikitext
    # the interval the results file carries is printed with its figure
    assert "| tfidf || ukwiki || 0.810 (0.700–0.900) || 0.300" in wikitext


def test_no_evaluation_results_is_said_plainly(sqlite_url: str, tmp_path: Path) -> None:
    client = create_app(app_config(sqlite_url, EVAL_DIR=str(tmp_path / "none"))).test_client()
    body = card(client)
    assert body["evaluation"]["results"] == [] and "No committed evaluation" in body["evaluation"]["note"]


@pytest.mark.parametrize("payload", ["{{delete}}", "[[Category:X]]", "a|b", "~~~~"])
def test_wikitext_export_escapes_configured_text(sqlite_url: str, payload: str) -> None:
    client = create_app(app_config(sqlite_url, CONTACT_EMAIL=f"x {payload} y")).test_client()
    wikitext = client.get("/toolcard.wikitext").get_data(as_text=True)
    assert payload not in wikitext
    for heading in ("=== Identity ===", "=== Tasks ===", "=== Models ===", "=== Evaluation ===",
                    "=== Limitations ===", "=== Monitoring ===", "=== Governance ===", "=== Licence ==="):
        assert heading in wikitext
    assert wikitext.count("{|") == wikitext.count("|}")


def test_committed_evaluations_read_as_backends_with_dataset_checksums() -> None:
    from suggest.toolcard import load_evaluations

    entries = load_evaluations("eval")
    assert {e["task"] for e in entries} == {"categories", "references"}
    for entry in entries:
        assert entry["backends"] and not set(entry["backends"]) & {"?", "targets"}, entry["file"]
        assert entry["dataset_checksums"], f"{entry['file']} names no dataset checksum"
