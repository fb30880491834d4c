"""Flask's JSON, encoded with orjson: the same JSON for every type Flask knows, several times
faster. Every API answer is encoded, and on the warm path encoding is a large share of the work.

Dates still go through Flask's own conversion (``OPT_PASSTHROUGH_DATETIME``), keys stay sorted as
Flask sorts them, non-ASCII text is written as UTF-8 instead of ``\\u`` escapes (the same JSON
value), and a call with options orjson has no equivalent for (``indent`` in debug mode, say) is
left to Flask's own encoder.

Reading, a JSON object that names a key twice is refused (``DuplicateKey``, a ValueError): RFC 8259
leaves its meaning open and parsers differ (the last, the first, an error), so a proxy or a log
and the service could read two different decisions from one body (I-JSON, RFC 7493, forbids it).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
HANDLED = frozenset({"default", "sort_keys", "ensure_ascii"})


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: the object as a dict, or DuplicateKey."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise DuplicateKey("a JSON object names the same key twice")
    return found


class FastJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("object_pairs_hook", unique_keys)
        return super().loads(s, **kwargs)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        compact = kwargs.get("separators", (",", ":")) == (",", ":")  # orjson writes no spaces
        if kwargs.keys() - HANDLED - {"separators"} or not compact \
                or kwargs.get("default") not in (None, self.default):
            return super().dumps(obj, **kwargs)
        option = OPTIONS | (orjson.OPT_SORT_KEYS if kwargs.get("sort_keys", self.sort_keys) else 0)
        try:
            return orjson.dumps(obj, default=self.default, option=option).decode("utf-8")
        except TypeError:  # e.g. an integer beyond 64 bits: Python's encoder takes any
            return super().dumps(obj, **kwargs)
