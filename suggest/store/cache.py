"""The suggestion cache (flask-caching): Redis in production, in-process otherwise.

Redis on Toolforge is shared and evictable, so it only ever holds recomputable results, every key
carries the secret prefix and a TTL, and keys contain hashes, never user text; values are JSON
signed with the tool's secret key (:class:`SignedJson`). When Redis fails the
service answers uncached (``meta.cache = "unavailable"``) and leaves Redis alone for a while instead
of paying the timeout on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any, Literal

import orjson
from cachelib.serializers import BaseSerializer
from flask import Flask
from flask_caching import Cache

from suggest.memo import Memo

log = logging.getLogger(__name__)

CacheStatus = Literal["hit", "miss", "unavailable", "off"]
BACKOFF_SECONDS = 30.0
MAC_BYTES = 16
KEYS_KEPT = 4096  # recent keys remembered, so a repeated request does not hash again


class KeptAsIs(BaseSerializer):
    """For the in-process cache: values are kept as the objects they are instead of pickled
    copies. The service never changes a value it put into or took from the cache."""

    def dumps(self, value: Any, protocol: int = 0) -> Any:  # noqa: ARG002 - cachelib's signature
        return value

    def loads(self, bvalue: Any) -> Any:
        return bvalue


class SignedJson(BaseSerializer):
    """For Redis: JSON signed with the tool's secret key. Toolforge's Redis is shared by every tool
    and the key prefix is its only lock: a value someone else wrote under the tool's keys is
    neither unpickled (cachelib's default, which runs whatever the pickle names) nor served (its
    suggestions would be shown to editors). It is read as a miss."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"wiki-suggest cache\0" + secret.encode()).digest()

    def _mac(self, body: bytes) -> bytes:
        return hashlib.blake2b(body, key=self._key, digest_size=MAC_BYTES).digest()

    def dumps(self, value: Any, protocol: int = 0) -> bytes:  # noqa: ARG002 - cachelib's signature
        # Strict: what JSON would bring back as another type (a date as text) is refused.
        body = orjson.dumps(value, option=orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)
        return self._mac(body) + body

    def loads(self, bvalue: bytes | None) -> Any:
        if bvalue is None:
            return None
        mac, body = bvalue[:MAC_BYTES], bvalue[MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body)):
            log.warning("a cache value not signed with the tool's key was ignored")
            return None
        return orjson.loads(body)


class ResultCache:
    def __init__(self, app: Flask) -> None:
        conf = app.config
        self.redis = bool(conf.get("REDIS_URL"))
        self.ttl = int(conf["CACHE_TTL"])
        self.prefix = f"{conf.get('REDIS_KEY_PREFIX') or ''}wiki-suggest:"
        settings: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": self.ttl, "CACHE_KEY_PREFIX": self.prefix}
        if self.redis:
            timeout = float(conf["REDIS_TIMEOUT"])
            settings.update({
                "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": conf["REDIS_URL"],
                "CACHE_OPTIONS": {"socket_timeout": timeout, "socket_connect_timeout": timeout},
                "CACHE_SERIALIZER": SignedJson(str(conf["SECRET_KEY"])),
            })
        else:
            settings.update({"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000,
                             "CACHE_SERIALIZER": KeptAsIs})
        self._cache = Cache(app, config=settings)
        self._down_until = 0.0

    _keys: Memo[tuple[object, ...], str] = Memo(KEYS_KEPT)

    @classmethod
    def key(cls, *parts: object) -> str:
        """A key from any parts: hashed, so no user text reaches Redis. The parts are JSON-encoded
        first, so no part can pass for two (``("a", "b")`` vs ``("a\x1fb",)``), ``None`` is not
        ``"None"``, and text that is not valid UTF-8 (lone surrogates) cannot break the hash."""
        memo = (*parts, *map(type, parts))  # 1, 1.0 and True are equal keys but not equal JSON
        try:
            known = cls._keys.get(memo)
        except TypeError:  # an unhashable part: hashed every time
            known, memo = None, ()
        if known is not None:
            return known
        joined = json.dumps([p if isinstance(p, str | int | float | None) else str(p) for p in parts])
        found = hashlib.sha256(joined.encode("ascii")).hexdigest()
        return cls._keys.keep(memo, found) if memo else found

    def get(self, key: str) -> tuple[Any, CacheStatus]:
        if self._is_down():
            return None, "unavailable"
        try:
            value = self._cache.get(key)
        except Exception as error:  # noqa: BLE001 - any cache failure means "serve uncached"
            self._mark_down(error)
            return None, "unavailable"
        return value, "hit" if value is not None else "miss"

    def set(self, key: str, value: Any, ttl: int | None = None) -> bool:
        if self._is_down():
            return False
        try:
            return bool(self._cache.set(key, value, timeout=ttl or self.ttl))
        except TypeError as error:  # the value, not Redis: SignedJson takes only JSON's types
            log.warning("a value was not cached (%s)", error)
            return False
        except Exception as error:  # noqa: BLE001
            self._mark_down(error)
            return False

    def check(self) -> CacheStatus:
        """For /readyz: a real round trip."""
        self._down_until = 0.0
        probe = self.key("readyz")
        if not self.set(probe, 1, ttl=10):
            return "unavailable"
        value, status = self.get(probe)
        return "hit" if value == 1 else status

    def _is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _mark_down(self, error: Exception) -> None:
        self._down_until = time.monotonic() + BACKOFF_SECONDS
        log.warning("cache unavailable (%s): serving uncached for %ds",
                    type(error).__name__, BACKOFF_SECONDS)
