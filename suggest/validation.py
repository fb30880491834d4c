"""Validators for what clients send: wiki ids and page titles. They never raise."""

from __future__ import annotations

import re

from suggest.wiki.registry import valid_wiki_id
from suggest.wiki.wikitext import upper_first

MAX_TITLE_BYTES = 255
# Control characters: never in a title or a user name, nor in text shown in the audit log.
CONTROL_CHARS = frozenset(chr(c) for c in range(32)) | {"\x7f"}
# Characters MediaWiki never allows in a title ($wgLegalTitleChars leaves them out).
ILLEGAL_TITLE_CHARS = frozenset("#<>[]|{}\ufffd") | CONTROL_CHARS
PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
RELATIVE_PATH = re.compile(r"(?:^|/)\.{1,2}(?:/|$)")

__all__ = ["valid_title", "valid_wiki_id", "normalize_input_title"]


def normalize_input_title(value: str) -> str:
    return " ".join(value.replace("_", " ").split())


def normalize_user_name(name: str) -> str:
    """MediaWiki's form of a user name: spaces not underscores, no repeated or outer spaces,
    first letter upper case as Wikimedia's wikis make it (:func:`upper_first`), so one editor is
    one name. Only where that is one letter for one: Python makes "SS" of "ß" and "FI" of "ﬁ",
    but "ßob" and "SSob" are two accounts on the wiki, as are "ნიკა" and "Ნიკა"."""
    return upper_first(normalize_input_title(name))


def valid_title(value: object) -> bool:
    """True if ``value`` could be a MediaWiki page title (whether or not the page exists)."""
    if not isinstance(value, str):
        return False
    # Before normalizing: str.split() takes tabs, newlines and U+001C-U+001F for spaces, and a
    # title starting with U+001F would be a list of titles to the wiki's API.
    if any(ch in ILLEGAL_TITLE_CHARS for ch in value):
        return False
    title = normalize_input_title(value)
    if not title or title.startswith(":") or "~~~" in title:
        return False
    if len(title.encode("utf-8", errors="replace")) > MAX_TITLE_BYTES:
        return False
    if any("\ud800" <= ch <= "\udfff" for ch in title):  # lone surrogates are not text
        return False
    return not PERCENT_ESCAPE.search(title) and not RELATIVE_PATH.search(title)
