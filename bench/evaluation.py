"""Figures 4 and 5, run in a fresh process per backend (``python -m bench.evaluation BACKEND``):

* memory: worker RSS after the app is created and the backend loaded (what a gunicorn worker
  holds before its first request), and the peak;
* evaluation throughput: the categories task over dump wikis (articles/s, dump loading timed
  apart), with the article's own categories removed from its text, as the evaluation does.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import VAR


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(backend_name: str, dumps: dict[str, str], per_wiki: int) -> dict[str, Any]:
    from suggest.web import create_app

    VAR.mkdir(parents=True, exist_ok=True)
    before = status_mb("VmRSS")
    app = create_app({"DATABASE_URL": f"sqlite:///{VAR / 'rss.sqlite3'}",
                      "BACKEND": backend_name, "DUMP_WIKIS": {}})
    service = app.extensions["wiki_suggest"]
    started = time.perf_counter()
    backend = service.backend
    load_s = time.perf_counter() - started
    backend.embed(["warm-up"], "query")
    result: dict[str, Any] = {"backend": backend_name, "rss_mb_before": round(before, 1),
                              "rss_mb": round(status_mb("VmRSS"), 1), "load_s": round(load_s, 2)}

    from suggest.tasks.base import TaskSettings
    from suggest.tasks.categories import CategoriesTask
    from suggest.wiki import wikitext as wt
    from suggest.wiki.dump_source import DumpSource

    task = CategoriesTask()
    settings = TaskSettings(threshold=0.0, max_suggestions=3)
    articles = 0
    task_seconds = 0.0
    load_seconds = 0.0
    per_lang: dict[str, float] = {}
    for lang, path in dumps.items():
        began = time.perf_counter()
        source = DumpSource(path)
        source._similarity_index()
        load_seconds += time.perf_counter() - began
        titles = sorted(t for t in source.articles if source._categories.get(t))[:per_wiki]
        began = time.perf_counter()
        for title in titles:
            article = source.articles[title]
            text = wt.remove_categories(article.text, source.category_prefixes())
            page = source.page_from_text(title, text, article.revid, article.page_id)
            task.rank(page, source, backend, settings)
        spent = time.perf_counter() - began
        task_seconds += spent
        articles += len(titles)
        per_lang[lang] = round(len(titles) / spent, 2) if spent else 0.0
    result.update({
        "eval_articles": articles,
        "eval_articles_per_s": round(articles / task_seconds, 2) if task_seconds else 0.0,
        "eval_articles_per_s_by_wiki": per_lang,
        "eval_dump_load_s": round(load_seconds, 1),
        "peak_rss_mb": round(status_mb("VmHWM"), 1),
    })
    return result


if __name__ == "__main__":
    name, dumps_json, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(measure(name, json.loads(dumps_json), count)))
