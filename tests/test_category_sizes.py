"""Category sizes, a ranking feature, from both page sources: the service must see what the
evaluation (and so the trained ranker) saw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from suggest.backends import create
from suggest.tasks.base import TaskSettings
from suggest.tasks.categories import CategoriesTask
from suggest.wiki.api_source import ApiSource, make_session
from suggest.wiki.dump_source import DumpSource
from suggest.wiki.registry import Wiki

DUMPS = Path(__file__).parent / "fixtures" / "dumps"


def test_dump_sizes_count_articles_and_leave_out_the_page_itself() -> None:
    source = DumpSource(DUMPS / "ukwiki-sample.xml")
    counts: dict[str, int] = {}
    for categories in source.categories_of(list(source.articles)).values():
        for name in categories:
            counts[name] = counts.get(name, 0) + 1
    name = max(counts, key=lambda n: counts[n])
    member = next(t for t, cats in source.categories_of(list(source.articles)).items() if name in cats)
    assert source.category_sizes([name, "No such category"], "Nobody")[name] == counts[name]
    assert source.category_sizes([name], member) == {name: counts[name] - 1}
    assert source.category_sizes(["No such category"], member) == {"No such category": 0}


def test_served_suggestions_use_sizes_like_the_evaluation() -> None:
    source = DumpSource(DUMPS / "ukwiki-sample.xml")
    task = CategoriesTask()
    page = source.get_page("Коло")
    found = task.suggest(page, source, create("tfidf"), TaskSettings(threshold=0.0, max_suggestions=5))
    assert found and all(s.features["has_size"] == 1.0 for s in found)


@pytest.mark.mediawiki
def test_api_sizes_from_categoryinfo(mediawiki_factory: Any) -> None:
    wiki = mediawiki_factory("en", shared=False)
    for n in range(3):
        extra = " [[Category:Small]]" if n == 0 else ""
        wiki.edit(f"Member {n}", f"Text {n}. [[Category:Big one]]{extra}")
    wiki.run_jobs()
    local = Wiki(id="local", kind="mediawiki", lang="en", name="local", api_url=wiki.api_url)
    source = ApiSource(local, make_session(local, "wiki-suggest/test (https://example.org/; a@b.c)", 5.0))
    sizes = source.category_sizes(["Big one", "Small", "Empty here"], "Member 9")
    assert sizes == {"Big one": 3, "Small": 1, "Empty here": 0}
