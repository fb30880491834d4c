# SPDX-License-Identifier: GPL-3.0-or-later
"""The public stats page: HTML with server-side SVG charts, JSON, CSV, filters; and the page as
headless Chromium renders it, on a desktop and on a phone-sized screen (screenshots kept)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Any

import pytest

from suggest.metrics.plot import BOTTOM, HEIGHT, TOP, rate_chart
from suggest.store.events import EventStore, utcnow
from suggest.store.schema import decisions, edits
from tests.conftest import app_config
from tests.support.browser import save_screenshot

# Per week, oldest first: (shown, accepted, rejected, skipped) on enwiki; dewiki gets one week.
WEEKS = [(20, 14, 4, 2), (20, 12, 6, 2), (20, 10, 8, 2), (20, 15, 3, 2), (20, 16, 2, 2)]


def populate(store: EventStore) -> dict[str, int]:
    now = utcnow()
    rows, decided, saved = [], [], []
    for age, (shown, accepted, rejected, skipped) in zip(range(len(WEEKS) - 1, -1, -1), WEEKS, strict=True):
        at = now - dt.timedelta(weeks=age, hours=1)
        for i in range(shown):
            sid = f"w{age}-{i}"
            rows.append({"id": sid, "created_at": at, "wiki": "testwiki", "task": "categories",
                         "task_version": "1", "page_title": "P", "page_id": 1, "revid": 1, "rank": 0,
                         "label": "L", "wikitext": "[[Category:L]]", "score": 0.5, "explanation": "",
                         "details": "{}", "backend": "tfidf", "model_checksum": "sha256:ab",
                         "config_hash": "h", "app_version": "0"})
            if i < accepted:
                decided.append({"suggestion_id": sid, "decision": "accept", "created_at": at})
                if i < accepted // 2:
                    saved.append({"suggestion_id": sid, "revid": 1000 + len(saved), "created_at": at,
                                  "status": "verified", "survival": "reverted" if i == 0 else "kept"})
            elif i < accepted + rejected:
                decided.append({"suggestion_id": sid, "decision": "reject", "created_at": at,
                                "reason": ("wrong_topic", "too_general", "too_specific")[i % 3]})
            elif i < accepted + rejected + skipped:
                decided.append({"suggestion_id": sid, "decision": "skip", "created_at": at})
    rows.append({**rows[0], "id": "de-0", "wiki": "otherwiki", "created_at": now})
    store.issue(rows)
    with store.engine.begin() as conn:
        conn.execute(decisions.insert(), [{"reason": None, "wiki": "testwiki", **d} for d in decided])
        conn.execute(edits.insert(), saved)
    store.pause("otherwiki", "categories", "Too many rejections <b>reported</b>", "Example Maintainer")
    return {"shown": sum(w[0] for w in WEEKS), "accepted": sum(w[1] for w in WEEKS),
            "rejected": sum(w[2] for w in WEEKS), "saved": len(saved)}


@pytest.fixture
def app(sqlite_url: str) -> Any:
    from suggest.web import create_app

    return create_app(app_config(sqlite_url))


def test_page_json_and_csv_show_the_same_numbers(app: Any) -> None:
    expected = populate(app.extensions["wiki_suggest"].store)
    client = app.test_client()
    data = client.get("/api/v1/stats", query_string={"wiki": "testwiki"}).get_json()
    (total,) = data["totals"]
    assert (total["shown"], total["accepted"], total["rejected"], total["saved"]) == (
        expected["shown"], expected["accepted"], expected["rejected"], expected["saved"])
    assert total["rates"]["acceptance"]["value"] == pytest.approx(67 / 100, abs=1e-4)
    assert total["rejected_by_reason"] == {"wrong_topic": 6, "too_general": 8, "too_specific": 9}
    assert [w["shown"] for w in data["weeks"]] == [20] * 5
    assert [w["rates"]["acceptance"]["value"] for w in data["weeks"]] == [
        pytest.approx(a / (a + r + s), abs=1e-4) for _, a, r, s in WEEKS]

    page = client.get("/stats", query_string={"wiki": "testwiki"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script" not in html and "style=" not in html  # nothing the CSP would block
    assert html.count('class="rate-chart"') == 4  # four rates for the one task and wiki
    assert html.count('class="band"') == 4 and html.count('class="line"') == 4
    assert "67.0%" in html  # 67 of 100 decisions accepted
    assert "Too specific <code>too_specific</code>: 9 (39%)" in html  # 9 of 23, with the reason's label
    # The pause is listed even when filtering another wiki, and its text is escaped.
    assert "Too many rejections &lt;b&gt;reported&lt;/b&gt;" in html

    rows = list(csv.DictReader(io.StringIO(client.get("/stats.csv").get_data(as_text=True))))
    assert len(rows) == 6  # 5 weeks on testwiki, 1 on otherwiki
    first = next(r for r in rows if r["wiki"] == "testwiki")
    assert first["shown"] == "20" and float(first["acceptance_value"]) == pytest.approx(0.7)
    assert float(first["acceptance_low"]) < 0.7 < float(first["acceptance_high"])
    assert first["rejected_by_reason"] == "too_general=1;too_specific=2;wrong_topic=1"

    other = client.get("/api/v1/stats", query_string={"wiki": "otherwiki"}).get_json()
    assert [t["wiki"] for t in other["totals"]] == ["otherwiki"] and other["totals"][0]["decided"] == 0
    assert client.get("/api/v1/stats", query_string={"model": "nope"}).get_json()["totals"] == []


@pytest.mark.parametrize("query", [{"wiki": "evil.example/x"}, {"weeks": "0"}, {"weeks": "x"},
                                   {"task": "a" * 80}, {"model": "<script>"}, {"weeks": "105"},
                                   {"wiki": ["ukwiki", "enwiki"]}])
def test_bad_filters_are_refused(app: Any, query: dict[str, str]) -> None:
    response = app.test_client().get("/api/v1/stats", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_parameter"


def test_chart_band_follows_the_interval() -> None:
    svg = rate_chart("t", [{"week": "2026-01-05", "value": 0.5, "low": 0.25, "high": 0.75, "total": 9},
                           {"week": "2026-01-12", "value": None},
                           {"week": "2026-01-19", "value": 1.0, "low": 0.5, "high": 1.0, "total": 4},
                           {"week": "2026-01-26", "value": 0.0, "low": 0.0, "high": 0.5, "total": 4}])
    # A lone week gets an interval bar; the two consecutive weeks a polygon (upper then lower).
    bar = re.search(r'<line class="band" x1="([\d.]+)" x2="[\d.]+" y1="([\d.]+)" y2="([\d.]+)"', svg)
    plot_height = HEIGHT - TOP - BOTTOM
    assert bar and float(bar.group(2)) == pytest.approx(TOP + plot_height * 0.25, abs=0.05)  # 75%
    assert float(bar.group(3)) == pytest.approx(TOP + plot_height * 0.75, abs=0.05)  # 25%
    polygon = re.search(r'<polygon class="band" points="([^"]+)"', svg)
    assert polygon and len(polygon.group(1).split()) == 4
    assert svg.count("<circle") == 3 and "<title>t</title>" in svg


@pytest.mark.mediawiki
def test_stats_page_in_chromium_on_desktop_and_phone(app: Any, served: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    populate(app.extensions["wiki_suggest"].store)
    browser.get(f"{served}/stats")
    assert browser.title.startswith("Statistics")
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.rate-chart")
    assert len(charts) == 8  # four rates for each of the two wikis
    assert charts[0].size["width"] > 200 and charts[0].size["height"] > 50
    bands = browser.find_elements(By.CSS_SELECTOR, "svg.rate-chart polygon.band")
    assert bands and bands[0].size["height"] > 0
    # The tool's own stylesheet applied (CSP allows 'self' only).
    grid = browser.find_element(By.CSS_SELECTOR, ".stats-charts").value_of_css_property("display")
    assert grid == "grid"
    save_screenshot(browser, "stats-page-desktop")
    section = browser.find_element(By.ID, "categories-testwiki")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    save_screenshot(browser, "stats-page-charts")

    browser.set_window_size(390, 844)  # a phone
    browser.get(f"{served}/stats?wiki=testwiki")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px on a phone"
    chart = browser.find_element(By.CSS_SELECTOR, "svg.rate-chart")
    assert chart.size["width"] <= 390
    path = save_screenshot(browser, "stats-page-phone")
    assert path.stat().st_size > 10_000
