# SPDX-License-Identifier: GPL-3.0-or-later
"""The tool card says what actually runs: the trained ranker of the configured backend, the
thresholds in force per wiki, each task's own figures with their intervals, live monitoring, the
configured caps, each task's own guardrails, the backend as it is, and each dataset once."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

import pytest

from suggest.backends.base import BackendInfo
from suggest.community import CommunityState
from suggest.ranking.model import load_ranker
from suggest.ranking.thresholds import load as load_thresholds
from suggest.ranking.thresholds import operating_threshold
from suggest.store.events import utcnow
from suggest.store.schema import decisions
from suggest.tasks.categories import WEIGHTS
from suggest.toolcard import describe_kind, load_evaluations, rate_cell
from suggest.web import create_app
from tests.conftest import app_config


def card(client: Any) -> dict[str, Any]:
    response = client.get("/toolcard.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


def page(client: Any) -> str:
    return html.unescape(client.get("/toolcard").get_data(as_text=True))


def wikitext(client: Any) -> str:
    return client.get("/toolcard.wikitext").get_data(as_text=True)


def task(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in body["tasks"] if t["id"] == task_id)
    return found


# -- 1: the ranker in use ---------------------------------------------------------------------------
def test_categories_ranker_is_the_trained_one_of_the_backend(client: Any, app: Any) -> None:
    backend = app.extensions["wiki_suggest"].backend.info.id
    ranker = load_ranker(backend)
    assert ranker is not None
    pipeline = task(card(client), "categories")["pipeline"]
    model = pipeline["ranker_model"]
    assert model["file"] == f"suggest/data/category-ranker-{backend}.json"
    assert model["checksum"] == ranker.checksum and model["trained_for_backend"] == backend
    assert pipeline["features"] == list(ranker.features) and len(pipeline["features"]) > 4
    assert "isotonic" in model["calibration"]
    assert "fixed weights" not in pipeline["ranker"] and ranker.checksum in pipeline["ranker"]
    body = card(client)
    assert body["models"][0]["rankers"]["categories"] == {"file": model["file"], "checksum": ranker.checksum}
    for text in (page(client), wikitext(client)):
        assert model["file"] in text and ranker.checksum in text
        assert '"bias": -3.0' not in text


def test_fixed_weights_are_described_only_without_a_trained_ranker(app: Any, tmp_path: Path) -> None:
    app.extensions["wiki_suggest"].tasks["categories"].ranker_dir = tmp_path  # no ranker files here
    pipeline = task(card(app.test_client()), "categories")["pipeline"]
    assert pipeline["ranker_model"] is None
    assert "fixed weights" in pipeline["ranker"]
    assert "no ranker is trained for backend tfidf" in pipeline["ranker"]
    assert pipeline["features"] == sorted(k for k in WEIGHTS if k != "bias")


# -- 2: thresholds in force -------------------------------------------------------------------------
def eval_dir(tmp_path: Path, *documents: tuple[str, dict[str, Any]]) -> str:
    directory = tmp_path / "eval"
    directory.mkdir(exist_ok=True)
    for name, document in documents:
        (directory / name).write_text(json.dumps(document), encoding="utf-8")
    return str(directory)


CATEGORIES = {
    "task": "categories", "target_precision": 0.85, "default_backend": "tfidf",
    "datasets": {"ukwiki": {"file": "uk.xml", "sha256": "aa" * 32},
                 "enwiki": {"file": "en.xml", "sha256": "bb" * 32}},
    "dataset_sha256": {"uk.xml": "sha256:" + "aa" * 32, "en.xml": "sha256:" + "bb" * 32},
    "models": {"tfidf": {"checksum": "sha256:1111", "ranker_checksum": "sha256:2222"},
               "e5-multilingual-offline": {"model": "e5", "checksum": "sha256:3333",
                                           "ranker": {"checksum": "sha256:4444"}}},
    "results": {"tfidf": {
        "ukwiki": {"precision_at_threshold": 0.9, "coverage": 0.5, "threshold": 0.56, "n_articles": 40,
                   "intervals_95": {"precision_at_threshold": [0.8, 0.95]}},
        "enwiki": {"precision_at_threshold": 0.0, "coverage": 0.0, "threshold": 1.01, "n_articles": 9},
    }, "e5-multilingual-offline": {
        "ukwiki": {"precision_at_threshold": 0.88, "coverage": 0.6, "threshold": 0.5, "n_articles": 40},
    }},
}
THRESHOLDS = {"by_backend": {"categories": {"tfidf": {"ukwiki": 0.56, "enwiki": 1.01}},
                             "references": {"tfidf": {"ukwiki": 0.3}}},
              "target_precision": 0.85}


@pytest.fixture
def evaluated_client(sqlite_url: str, tmp_path: Path) -> Any:
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps(THRESHOLDS), encoding="utf-8")
    config = app_config(sqlite_url, THRESHOLD=0.45, THRESHOLDS_PATH=str(path),
                        WIKIS={"BNWIKI": {"THRESHOLD": 0.7}},
                        EVAL_DIR=eval_dir(tmp_path, ("results.json", CATEGORIES)))
    return create_app(config).test_client()


def test_thresholds_in_force_per_evaluated_wiki(evaluated_client: Any) -> None:
    config = evaluated_client.application.config
    thresholds = task(card(evaluated_client), "categories")["pipeline"]["thresholds"]
    rows = {r["wiki"]: r for r in thresholds["in_force"]}
    assert set(rows) == {"bnwiki", "enwiki", "ukwiki"}
    for wiki, row in rows.items():
        assert row["threshold"] == operating_threshold(config, "categories", wiki)
    assert (rows["ukwiki"]["threshold"], rows["ukwiki"]["source"]) == (0.56, "evaluated")
    assert (rows["bnwiki"]["threshold"], rows["bnwiki"]["source"]) == (0.7, "configured")
    assert rows["enwiki"]["shows_nothing"] and not rows["ukwiki"]["shows_nothing"]
    assert thresholds["shows_nothing_on"] == ["enwiki"]
    assert "0.45" in thresholds["other_wikis"] and "no measured precision" in thresholds["other_wikis"]
    assert "development dumps" in thresholds["measured_on"] and "live wiki" in thresholds["measured_on"]
    for form in ("/toolcard", "/toolcard.wikitext"):
        assert "where categories have few members" in evaluated_client.get(form).get_data(as_text=True)
    # only this task's entries of the thresholds file
    assert thresholds["evaluated"] == {"tfidf": {"ukwiki": 0.56, "enwiki": 1.01}}
    assert task(card(evaluated_client), "references")["pipeline"]["thresholds"]["evaluated"] == {
        "tfidf": {"ukwiki": 0.3}}
    # targets and who misses them
    # a file that names only the precision target gets the categories report's other targets too
    assert thresholds["targets"] == {"precision_at_threshold": 0.85, "precision_at_1": 0.7,
                                     "coverage": 0.5}
    assert rows["ukwiki"]["meets_target"] is True and rows["enwiki"]["meets_target"] is False
    assert thresholds["misses_target_on"] == ["enwiki"]
    text = page(evaluated_client)
    assert "Precision at threshold >= 0.85" in text and "0.45" in text
    assert "above 1: the task shows nothing on this wiki" in text
    assert "Misses the targets: tfidf on enwiki: Precision at threshold 0.000 < 0.85" in text
    wiki = wikitext(evaluated_client)
    assert "** enwiki: 1.010 (evaluated; above 1: the task shows nothing on this wiki" in wiki
    assert "** ukwiki: 0.560 (evaluated; test precision 0.900 (0.800–0.950))" in wiki
    assert "** bnwiki: 0.700 (configured)" in wiki


def test_committed_thresholds_match_the_service(client: Any, app: Any) -> None:
    data = load_thresholds(app.config["THRESHOLDS_PATH"])
    for entry in card(client)["tasks"]:
        thresholds = entry["pipeline"]["thresholds"]
        assert thresholds["evaluated"] == data["by_backend"][entry["id"]]
        assert "about" not in thresholds["evaluated"]
        for row in thresholds["in_force"]:
            assert row["threshold"] == operating_threshold(app.config, entry["id"], row["wiki"])
            assert row["shows_nothing"] == (row["threshold"] > 1)


# -- 3: each task's figures, with intervals --------------------------------------------------------
REFERENCES = {
    "task": "references", "targets": {"recall_at_3": 0.7, "precision_at_threshold": 0.85},
    "results": {"tfidf": {"ukwiki": {
        "n_statements": 50, "n_articles": 12, "recall_at_1": 0.1, "recall_at_3": 0.2, "recall_at_5": 0.3,
        "mrr": 0.15, "gold_in_candidates": 0.4, "precision_at_threshold": None, "coverage": 0.0,
        "threshold": 1.01, "intervals_95": {"recall_at_3": [0.1, 0.3], "coverage": [0.0, 0.0]}}}},
}


def test_references_figures_have_their_own_columns_and_intervals(sqlite_url: str, tmp_path: Path) -> None:
    config = app_config(sqlite_url, EVAL_DIR=eval_dir(tmp_path, ("references-results.json", REFERENCES)))
    client = create_app(config).test_client()
    [entry] = card(client)["evaluation"]["results"]
    keys = [c["key"] for c in entry["columns"]]
    assert {"recall_at_1", "recall_at_3", "gold_in_candidates"} <= set(keys)
    assert "precision_at_1" not in keys
    [row] = entry["results"]
    assert row["intervals"] == {"recall_at_3": [0.1, 0.3], "coverage": [0.0, 0.0]}
    assert {(m["metric"], m["value"]) for m in entry["target_misses"]} == {
        ("recall_at_3", 0.2), ("precision_at_threshold", None)}
    for text in (page(client), html.unescape(wikitext(client))):
        assert "None" not in text
        assert "0.200 (0.100–0.300)" in text and "Gold in candidates" in text and "R@3" in text
        assert "R@3 0.200 < 0.7, Precision at threshold – (nothing shown) < 0.85" in text
    row_text = "| tfidf || ukwiki || 0.100 || 0.200 (0.100–0.300) || 0.300 || 0.150 || 0.400 || – ||"
    assert row_text in wikitext(client)


def test_committed_results_keep_their_intervals() -> None:
    entries = {e["task"]: e for e in load_evaluations("eval")}
    for task_id, metric in (("categories", "precision_at_threshold"), ("references", "recall_at_3")):
        assert metric in [c["key"] for c in entries[task_id]["columns"]]
        assert any(metric in row["intervals"] for row in entries[task_id]["results"]), task_id
    assert entries["references"]["targets"] == {"recall_at_3": 0.7, "precision_at_threshold": 0.85}


# -- 4: monitoring in all three forms ---------------------------------------------------------------
def decide(app: Any, accepted: int, rejected: int) -> None:
    store = app.extensions["wiki_suggest"].store
    at = utcnow() - dt.timedelta(hours=1)
    rows = [{"id": f"s{i}", "created_at": at, "wiki": "fixture-ukwiki", "task": "categories",
             "task_version": "1", "page_title": "P", "page_id": 1, "revid": 1, "rank": 0, "label": f"L{i}",
             "wikitext": f"[[Category:L{i}]]", "score": 0.9, "explanation": "", "details": "{}",
             "backend": "tfidf", "model_checksum": "sha256:ab", "config_hash": "h", "app_version": "0"}
            for i in range(accepted + rejected)]
    store.issue(rows)
    with store.engine.begin() as conn:
        conn.execute(decisions.insert(), [
            {"suggestion_id": r["id"], "wiki": r["wiki"], "created_at": at,
             "reason": None if i < accepted else "wrong_topic",
             "decision": "accept" if i < accepted else "reject"} for i, r in enumerate(rows)])


def test_monitoring_rates_and_alarms_in_every_form(client: Any, app: Any) -> None:
    decide(app, accepted=6, rejected=4)
    monitoring = card(client)["monitoring"]
    [row] = [r for r in monitoring["metrics"] if r["wiki"] == "fixture-ukwiki"]
    acceptance = rate_cell(row["rates"]["acceptance"])
    rejection = rate_cell(row["rates"]["rejection"])
    verified = rate_cell(row["rates"]["verified_acceptance"])  # no edit saved yet
    assert acceptance.startswith("60% (95% ") and rejection.startswith("40% (95% ")
    assert verified.startswith("0% (95% 0%–") and verified.endswith("n=10)")
    rates = {r["wiki"]: r for r in monitoring["rates"]}["fixture-ukwiki"]
    assert (rates["acceptance"], rates["verified_acceptance"]) == (acceptance, verified)
    assert "<th>Revert</th>" in page(client) and "Verified edits</th>" in page(client)
    assert f"{rejection} || {verified} ||" in wikitext(client)
    assert [a["id"] for a in monitoring["alarm_rules"]] == [a["id"] for a in app.config["ALARMS"]]
    for text in (page(client), wikitext(client)):
        assert acceptance in text and rejection in text
        for alarm in app.config["ALARMS"]:
            assert alarm["id"] in text
        assert "the lower 95% bound of the rejection rate is above 30%" in text
        assert "the upper 95% bound of the acceptance rate is below 40%" in text
        assert f"at least {app.config['ALARM_MIN_DECISIONS']} in the rate's denominator" in text


# -- 5: caps from the configuration -----------------------------------------------------------------
def test_caps_follow_the_configuration(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(app_config(sqlite_url, MAX_SUGGESTIONS=5, DAILY_USER_CAP=25,
                                WIKIS={"ukwiki": {"max_suggestions": 2}, "BNWIKI": {"DAILY_USER_CAP": 7}}))
    community = {"viwiki": CommunityState("viwiki", "page", {"max_suggestions": 1, "daily_user_cap": 10})}
    monkeypatch.setattr(app.extensions["wiki_suggest"].community, "latest", lambda: community)
    client = app.test_client()
    body = card(client)
    caps = body["governance"]["caps"]
    assert caps["max_suggestions"] == {"default": 5, "per_wiki": {"ukwiki": 2}, "community": {"viwiki": 1}}
    assert {k: caps["daily_user_cap"][k] for k in ("default", "per_wiki", "community")} == {
        "default": 25, "per_wiki": {"bnwiki": 7}, "community": {"viwiki": 10}}
    assert task(body, "categories")["pipeline"]["guardrails"]["max_suggestions_per_wiki"] == {"ukwiki": 2}
    text = page(client)
    assert "at most 5; ukwiki: 2; viwiki (community): 1" in text
    assert "25; bnwiki: 7; viwiki (community): 10" in text
    wiki = wikitext(client)
    assert 'at most 5; per wiki: {"ukwiki": 2}; set by communities: {"viwiki": 1}' in wiki
    assert '25; per wiki: {"bnwiki": 7}; set by communities: {"viwiki": 10}' in wiki


# -- 6: each task's guardrails; the backend as it is ------------------------------------------------
def test_each_task_has_its_own_guardrails(client: Any) -> None:
    body = card(client)
    categories = task(body, "categories")["pipeline"]["guardrails"]["rules"]
    references = task(body, "references")["pipeline"]["guardrails"]["rules"]
    assert any("hidden (maintenance) categories" in r for r in categories)
    assert not any("categor" in r for r in references)
    assert any("already cites" in r for r in references)
    assert page(client).count("hidden (maintenance) categories are never suggested") == 1


def test_kind_describes_the_configured_backend(client: Any, app: Any) -> None:
    info = app.extensions["wiki_suggest"].backend.info
    kind = card(client)["identity"]["kind"]
    assert info.id == "tfidf" and info.model in kind and info.licence in kind
    assert "text-embedding" not in kind and "third-party" not in kind
    remote = BackendInfo(id="remote", model="some-model", version="1", checksum="sha256:0",
                         licence="Apache-2.0", model_card="https://example.org", hosting_tier="external",
                         data_flow="sent to example.org")
    assert "external provider" in describe_kind(remote) and "some-model" in describe_kind(remote)


# -- 7: the wikitext's content type -----------------------------------------------------------------
def test_wikitext_has_one_charset(client: Any) -> None:
    assert client.get("/toolcard.wikitext").headers["Content-Type"] == "text/plain; charset=utf-8"


# -- 8: datasets once each; model checksums with the models -----------------------------------------
def test_datasets_listed_once_and_model_checksums_with_models(sqlite_url: str, tmp_path: Path) -> None:
    config = app_config(sqlite_url, EVAL_DIR=eval_dir(tmp_path, ("results.json", CATEGORIES)))
    body = card(create_app(config).test_client())
    [entry] = body["evaluation"]["results"]
    assert entry["dataset_checksums"] == {"uk.xml": "aa" * 32, "en.xml": "bb" * 32}
    models = {m["id"]: m for m in body["models"]}
    assert models["e5-multilingual-offline"]["checksum"] == "sha256:3333"
    assert models["e5-multilingual-offline"]["rankers"]["categories"]["checksum"] == "sha256:4444"


def test_committed_results_list_each_dump_once() -> None:
    for entry in load_evaluations("eval"):
        document = json.loads((Path(__file__).parents[1] / entry["file"]).read_text(encoding="utf-8"))
        values = [v.removeprefix("sha256:") for v in entry["dataset_checksums"].values()]
        assert len(values) == len(set(values)) == 5, entry["file"]
        model_checksums = {str(m.get(k) or (m.get("ranker") or {}).get("checksum"))
                           for m in document["models"].values() for k in ("checksum", "ranker_checksum")}
        assert not set(entry["dataset_checksums"].values()) & model_checksums


# -- which evaluation the card shows, and what it says of it ----------------------------------------
def test_nothing_shown_is_no_precision_not_a_zero(sqlite_url: str, tmp_path: Path) -> None:
    """The harness writes precision 0.0 and an interval [0, 0] where nothing reached the threshold:
    the card says nothing was shown, in every form, and still lists it as a target miss."""
    document = json.loads(json.dumps(CATEGORIES))
    document["results"]["tfidf"]["enwiki"].update(
        {"shown": 0, "intervals_95": {"precision_at_threshold": [0.0, 0.0]}})
    document["results"]["tfidf"]["ukwiki"]["shown"] = 20
    config = app_config(sqlite_url, BACKEND="tfidf",
                        EVAL_DIR=eval_dir(tmp_path, ("results.json", document)))
    client = create_app(config).test_client()
    [evaluation] = [e for e in card(client)["evaluation"]["results"] if e["task"] == "categories"]
    rows = {r["wiki"]: r for r in evaluation["results"] if r["backend"] == "tfidf"}
    assert rows["enwiki"]["precision_at_threshold"] is None
    assert "precision_at_threshold" not in rows["enwiki"]["intervals"]
    assert rows["ukwiki"]["precision_at_threshold"] == 0.9  # shown: a figure like any other
    in_force = {r["wiki"]: r for r in task(card(client), "categories")["pipeline"]["thresholds"]["in_force"]}
    assert in_force["enwiki"]["test_precision"] == "– (nothing shown)"
    assert in_force["enwiki"]["meets_target"] is False
    for text in (page(client), wikitext(client)):
        assert "0.000 (0.000–0.000)" not in text
        assert "Precision at threshold – (nothing shown)" in text  # a target miss (HTML-escaped "<")
        assert "– (nothing shown)" in text


def test_the_latest_evaluation_of_each_task_is_shown(sqlite_url: str, tmp_path: Path) -> None:
    """Several results files of one task: the card's figures, thresholds rows and targets come
    from the newest run (by the date it records; a file without one is older), and it names the
    ones it leaves out."""
    newer = {**json.loads(json.dumps(CATEGORIES)), "created": "2026-11-20T10:00:00+00:00"}
    older = {**json.loads(json.dumps(CATEGORIES)), "created": "2026-01-02T10:00:00+00:00",
             "target_precision": 0.5}
    undated = json.loads(json.dumps(CATEGORIES))
    older["results"]["tfidf"]["ukwiki"]["precision_at_threshold"] = 0.61
    undated["results"]["tfidf"]["ukwiki"]["precision_at_threshold"] = 0.62
    # File names sort the other way round: the older runs come last.
    config = app_config(sqlite_url, BACKEND="tfidf", EVAL_DIR=eval_dir(
        tmp_path, ("a-results.json", newer), ("b-results.json", older), ("c-results.json", undated)))
    client = create_app(config).test_client()
    body = card(client)
    [evaluation] = [e for e in body["evaluation"]["results"] if e.get("task") == "categories"]
    assert evaluation["file"] == "eval/a-results.json"
    assert evaluation["created"] == "2026-11-20T10:00:00+00:00"
    for text in (page(client), wikitext(client)):
        assert "Run on 2026-11-20T10:00:00+00:00." in text
        assert "Not shown: eval/b-results.json (2026-01-02T10:00:00+00:00)" in text
        assert "Not shown: eval/c-results.json (no date recorded)" in text
    assert {(s["file"], s["superseded_by"]) for s in body["evaluation"]["superseded"]} == {
        ("eval/b-results.json", "eval/a-results.json"), ("eval/c-results.json", "eval/a-results.json")}
    thresholds = task(body, "categories")["pipeline"]["thresholds"]
    assert thresholds["targets"]["precision_at_threshold"] == 0.85  # the older file's was 0.5
    assert {r["wiki"]: r["test_precision"] for r in thresholds["in_force"]}["ukwiki"] == "0.900 (0.800–0.950)"
    assert "0.610" not in page(client) and "0.620" not in page(client)


def test_the_card_says_whether_the_evaluation_ran_the_running_task(sqlite_url: str, tmp_path: Path) -> None:
    running = create_app(app_config(sqlite_url, BACKEND="tfidf")).extensions["wiki_suggest"]
    version = running.tasks["categories"].version
    for recorded, same in ((version, True), ("1.0+00000000", False), (None, None)):
        document = {**CATEGORIES, **({"task_version": recorded} if recorded else {})}
        (tmp_path / str(same)).mkdir()
        config = app_config(sqlite_url, BACKEND="tfidf",
                            EVAL_DIR=eval_dir(tmp_path / str(same), ("results.json", document)))
        client = create_app(config).test_client()
        evaluated = task(card(client), "categories")["evaluated_version"]
        assert {k: evaluated[k] for k in ("evaluated", "running", "same")} == {
            "evaluated": recorded, "running": version, "same": same}
        assert "No committed evaluation of this task" in task(card(client), "references")[
            "evaluated_version"]["note"]
        for text in (page(client), wikitext(client)):
            if same:
                assert evaluated["note"] is None and "latest evaluation" not in text
            elif same is False:
                assert f"The latest evaluation ran version {recorded}" in text
            else:
                assert "does not record the task version it ran" in text


def test_purpose_limitations_and_who_can_pause_follow_the_configuration(sqlite_url: str) -> None:
    def body(**config: Any) -> dict[str, Any]:
        return card(create_app(app_config(sqlite_url, **config)).test_client())

    categories = body(TASKS=["categories"], MAINTAINERS=[])
    assert "categories" in categories["identity"]["purpose"]
    assert "references" not in categories["identity"]["purpose"]
    assert any(x.startswith("Categories: ") for x in categories["limitations"]["tool"])
    assert not any(x.startswith("References: ") for x in categories["limitations"]["tool"])
    assert "no one on /admin" in categories["governance"]["who_can_pause"]
    both = body(TASKS=["categories", "references"], MAINTAINERS=["Example", "Other one"])
    assert "categories and references for unsourced statements" in both["identity"]["purpose"]
    assert any(x.startswith("References: ") for x in both["limitations"]["tool"])
    # Where the gadget cannot place them (gadget/README.md, VisualEditor).
    assert any(x.startswith("References: ") and "VisualEditor's visual mode" in x
               for x in both["limitations"]["tool"])
    assert "maintainers Example, Other one" in both["governance"]["who_can_pause"]
    references = task(both, "references")["pipeline"]
    assert "removing a citation" in references["thresholds"]["measured_on"]
    assert "categories have few members" not in references["thresholds"]["measured_on"]
    for item in both["tasks"]:  # the module docstrings' markup is not shown
        assert "``" not in item["pipeline"]["candidate_sources"]
        assert ":mod:" not in item["pipeline"]["candidate_sources"]
    assert "attribution" in both["licence"]["attribution"]


def test_categories_targets_beyond_precision_and_coverage_where_the_oracle_allows(
        sqlite_url: str, tmp_path: Path) -> None:
    """P@1 and coverage are targets of the categories evaluation too; coverage is held to its
    target only where enough articles have a gold category some candidate carries."""
    document = json.loads(json.dumps(CATEGORIES))
    document["results"]["tfidf"]["ukwiki"].update(
        {"precision_at_1": 0.55, "coverage": 0.2, "oracle": {"oracle_articles": 0.9}})
    document["results"]["tfidf"]["enwiki"].update(
        {"precision_at_1": 0.8, "coverage": 0.1, "oracle": {"oracle_articles": 0.3}})
    config = app_config(sqlite_url, BACKEND="tfidf",
                        EVAL_DIR=eval_dir(tmp_path, ("results.json", document)))
    client = create_app(config).test_client()
    [evaluation] = [e for e in card(client)["evaluation"]["results"] if e["task"] == "categories"]
    misses = {(m["backend"], m["wiki"], m["metric"]) for m in evaluation["target_misses"]}
    assert ("tfidf", "ukwiki", "precision_at_1") in misses and ("tfidf", "ukwiki", "coverage") in misses
    assert ("tfidf", "enwiki", "precision_at_1") not in misses  # 0.8 meets 0.7
    assert ("tfidf", "enwiki", "coverage") not in misses  # the oracle does not allow it
    assert ("tfidf", "enwiki", "precision_at_threshold") in misses
    # A wiki whose test split has no articles measured nothing (null rates): no miss to report.
    document["results"]["tfidf"]["ukwiki"].update(dict.fromkeys(
        ("precision_at_threshold", "coverage", "precision_at_1"), None) | {"n_articles": 0})
    (tmp_path / "empty").mkdir()
    config["EVAL_DIR"] = eval_dir(tmp_path / "empty", ("results.json", document))
    [evaluation] = [e for e in card(create_app(config).test_client())["evaluation"]["results"]
                    if e["task"] == "categories"]
    assert {m["wiki"] for m in evaluation["target_misses"]} == {"enwiki"}
    text = page(client)
    assert "Misses the targets: tfidf on ukwiki: P@1 0.550 &lt; 0.7, Coverage 0.200 &lt; 0.5" in \
        client.get("/toolcard").get_data(as_text=True)
    assert "Coverage >= 0.5 (where at least 75% of the articles have a gold category" in text
