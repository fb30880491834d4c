"""Property tests (hypothesis) of the input validators, the cache keys and the wikitext insertion."""

from __future__ import annotations

from typing import Any

import pytest
import redis as redis_lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suggest.store.cache import ResultCache
from suggest.validation import normalize_input_title, valid_title, valid_wiki_id
from suggest.wiki import wikitext as wt
from tests.conftest import REDIS_URL, app_config

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
ANY_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=[]), max_size=300)  # + surrogates
ANY_VALUE = st.one_of(ANY_TEXT, st.none(), st.integers(), st.binary(max_size=20),
                      st.lists(st.text(max_size=5), max_size=3))


@SETTINGS
@given(ANY_VALUE)
def test_validators_never_raise_and_answer_a_bool(value: Any) -> None:
    assert valid_title(value) in (True, False)
    assert valid_wiki_id(value) in (True, False)


@SETTINGS
@given(ANY_TEXT)
def test_title_validity_survives_normalisation(value: str) -> None:
    once = normalize_input_title(value)
    assert normalize_input_title(once) == once  # normalising is idempotent
    if valid_title(value):
        assert valid_title(once)  # and keeps a valid title valid
        assert not any(ord(ch) < 32 or ch == "\x7f" for ch in value)  # control characters never are
        assert once and len(once.encode("utf-8")) <= 255
        assert not set(once) & set("#<>[]|{}")


@SETTINGS
@given(ANY_TEXT)
def test_a_valid_wiki_id_is_plain_ascii_and_stable(value: str) -> None:
    if valid_wiki_id(value):
        assert value.isascii() and value == value.strip().lower()
        assert not set(value) & set("./:@#?%[] \\")
        assert valid_wiki_id(value.lower())


@pytest.fixture(scope="module")
def redis_cache_app() -> Any:
    from suggest.web import create_app

    prefix = "test-propertyprefix-0123456789abcdef:"
    app = create_app(app_config("sqlite://", REDIS_URL=REDIS_URL, REDIS_KEY_PREFIX=prefix))
    yield app
    client = redis_lib.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


KEY_PARTS = st.lists(st.one_of(ANY_TEXT, st.integers(), st.none()), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(KEY_PARTS)
def test_cache_keys_are_prefixed_hashes_without_user_text(redis_cache_app: Any, parts: list[Any]) -> None:
    key = ResultCache.key(*parts)
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    cache: ResultCache = redis_cache_app.extensions["wiki_suggest"].cache
    assert cache.set(key, {"v": 1}, ttl=30)
    client = redis_lib.Redis.from_url(REDIS_URL)
    stored = [k.decode() for k in client.scan_iter(f"*{key}*")]
    assert stored == [f"{cache.prefix}{key}"]
    assert cache.prefix.startswith("test-propertyprefix-0123456789abcdef:")
    assert 0 < client.ttl(stored[0]) <= 30
    for part in parts:
        text = str(part)
        if len(text) >= 3 and not all(c in "0123456789abcdef" for c in text):
            assert text not in stored[0]


def test_cache_keys_differ_for_different_parts() -> None:
    # Found by this suite: parts were joined with a separator that user text could contain.
    assert ResultCache.key("a", "b") != ResultCache.key("a\x1fb")
    assert ResultCache.key("t", None) != ResultCache.key("t", "None")
    assert ResultCache.key("ukwiki", 1) != ResultCache.key("ukwiki", 2)
    assert ResultCache.key("ukwiki", "Коло") == ResultCache.key("ukwiki", "Коло")


# -- wikitext insertion ------------------------------------------------------------------------
PREFIXES = ["Category", "Категорія"]
WIKITEXT_PIECES = st.sampled_from([
    "Text. ", "\n", "\n\n", "[[Category:Geometry]]", "[[Категорія:Криві|*]]", "[[category: lower]]",
    "[[:Category:Linked]]", "{{Infobox|a=[[Category:InTemplate]]}}", "<!-- [[Category:Hidden]] -->",
    "<ref>[[Category:InRef]]</ref>", "[[Link]]", "== Section ==\n", "{{DEFAULTSORT:X}}", "''it''",
    "<nowiki>[[Category:No]]</nowiki>", "[[Category:Open", "]]", "{{", "}}", "Ünïcødé ", "\t",
])
WIKITEXT = st.one_of(st.lists(WIKITEXT_PIECES, max_size=12).map("".join), st.text(max_size=80))
LINK = st.sampled_from(["[[Category:New one]]", "[[Категорія:Нова]]"])


def without(text: str, piece: str) -> str:
    index = text.find(piece)
    assert index >= 0
    return text[:index] + text[index + len(piece):]


@SETTINGS
@given(WIKITEXT, LINK)
def test_append_category_keeps_all_text_and_adds_the_link_once(text: str, link: str) -> None:
    result = wt.append_category(text, link, PREFIXES)
    assert result.count(link) == text.count(link) + 1
    # Remove the added link and the one newline added with it: what is left is the original
    # text, except that trailing newlines at the very end may be normalised.
    rest = without(result, "\n" + link) if ("\n" + link) in result else without(result, link)
    assert rest.rstrip("\n") == text.rstrip("\n") or rest.replace("\n", "") == text.replace("\n", "")
    # Every character of the original survives, in order.
    it = iter(result)
    assert all(ch in it for ch in text.rstrip("\n"))
    # The new link is a category of the page, and the old categories are all still there.
    assert set(wt.category_links(text, PREFIXES)) <= set(wt.category_links(result, PREFIXES))
