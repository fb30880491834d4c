"""Rate limits: token buckets per wiki user and per wiki, never per IP address.

Toolforge tools sit behind a proxy and must not keep IP addresses, so the buckets are keyed by
what the request is about:

* ``wiki``: every ``GET /api/v1/suggestions`` takes a token from the bucket of its wiki id (the
  costly request: it reads the wiki and runs the model).
* ``user``: every suggestion, decision or edit report that names a user (the ``user`` field of a
  JSON body, or the signed-in user of the session) takes a token from that user's bucket (a batch
  of decisions takes one per decision); the decisions and edit reports that name nobody share one
  bucket, so that leaving the name out is not a way around the limit.
* ``login``: every ``GET /login`` takes a token from one bucket for the whole tool. Each login
  asks the wiki (Meta) to start an OAuth handshake under the tool's consumer, before anyone is
  known, so nothing narrower than the tool can key it without IP addresses; the bucket bounds
  the requests the tool makes to the wiki on anyone's behalf. The price: someone who keeps it
  empty keeps others from logging in for as long (the maintainers' commands, ``flask pause`` and
  ``flask resume``, need no login).

A bucket holds ``burst`` tokens and refills at ``rate`` tokens per second. An empty bucket answers
429 with ``Retry-After`` and the error code ``rate_limited`` (JSON, or a page in a browser).
Settings: ``RATE_LIMITS`` in the configuration (``{"enabled": true, "user": {"rate": ..,
"burst": ..}, "wiki": {...}, "login": {...}}``).

Buckets live in Redis (shared by every worker) under the secret key prefix, with a TTL of the time
a bucket needs to refill, and their keys hold an HMAC of the user name or wiki id, never the text.
Without Redis the buckets are in-process (per worker).

Failure direction: when Redis fails or times out the limiter does **not** refuse requests; it
falls back to the in-process buckets (the same limits, counted per worker) for
``BACKOFF_SECONDS`` and then tries Redis again. Limits get looser by at most the number of workers
while Redis is away; editors are never locked out by a cache outage.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis as redis_lib
from flask import Flask, Request, Response, current_app, request, session

from suggest.memo import Memo
from suggest.validation import normalize_user_name
from suggest.web.errors import error_answer
from suggest.wiki.registry import valid_wiki_id

log = logging.getLogger(__name__)

BACKOFF_SECONDS = 30.0
LOCAL_MAX_BUCKETS = 10_000
KEYS_KEPT = 10_000  # bucket keys remembered (wikis and users seen lately)
ANONYMOUS = "\x00anonymous"  # the shared bucket of decisions and edit reports naming no user
# (no wiki user name can hold a NUL)
# Paths that spend tokens; everything else (the spec, the task list, pages) is free.
LIMITED = {
    "/api/v1/suggestions": ("wiki", "user"),
    "/api/v1/decisions": ("user",),
    "/api/v1/decisions/batch": ("user",),  # a token per decision in it
    "/api/v1/edits": ("user",),
    "/login": ("login",),
}
THE_TOOL = "all"  # the one subject of the login bucket

# Atomic take-tokens: KEYS[1] bucket; ARGV rate, burst, ttl, cost. Returns {allowed, retry_ms}.
# Redis's own clock keeps every worker on the same time.
TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry_ms = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry_ms = math.ceil((cost - tokens) / rate * 1000)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], ttl)
return {allowed, retry_ms}
"""


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: int  # bucket size

    @property
    def ttl(self) -> int:
        """Seconds until an untouched bucket is full again (then it can be forgotten)."""
        return max(1, math.ceil(self.burst / self.rate)) + 1


DEFAULT_LIMITS: dict[str, Any] = {
    "enabled": True,
    "user": {"rate": 1.0, "burst": 120},
    "wiki": {"rate": 20.0, "burst": 400},
    "login": {"rate": 0.1, "burst": 30},
}


class LocalBuckets:
    """In-process token buckets: used without Redis, and while Redis is away."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, monotonic time)

    def take(self, key: str, limit: Limit, cost: int = 1) -> float:
        """0 if ``cost`` tokens were taken, else the seconds until they are available."""
        now = time.monotonic()
        with self._lock:
            if len(self._buckets) >= LOCAL_MAX_BUCKETS:
                self._forget_full(now, limit)
            tokens, then = self._buckets.get(key, (float(limit.burst), now))
            tokens = min(float(limit.burst), tokens + (now - then) * limit.rate)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (cost - tokens) / limit.rate

    def _forget_full(self, now: float, limit: Limit) -> None:
        stale = [k for k, (_, then) in self._buckets.items() if now - then > limit.ttl]
        for key in stale or list(self._buckets)[: LOCAL_MAX_BUCKETS // 2]:
            del self._buckets[key]


class RateLimiter:
    def __init__(self, app: Flask) -> None:
        conf = app.config
        settings = {**DEFAULT_LIMITS, **(conf.get("RATE_LIMITS") or {})}
        self.enabled = bool(settings.get("enabled", True))
        self.limits = {kind: Limit(float(settings[kind]["rate"]), int(settings[kind]["burst"]))
                       for kind in ("user", "wiki", "login")}
        self.prefix = f"{conf.get('REDIS_KEY_PREFIX') or ''}wiki-suggest:rl:"
        self._secret = str(conf["SECRET_KEY"]).encode()
        self._keys: Memo[tuple[str, str], str] = Memo(KEYS_KEPT)
        self.local = LocalBuckets()
        self.redis: redis_lib.Redis | None = None
        if conf.get("REDIS_URL"):
            timeout = float(conf["REDIS_TIMEOUT"])
            self.redis = redis_lib.Redis.from_url(conf["REDIS_URL"], socket_timeout=timeout,
                                                  socket_connect_timeout=timeout)
        self._script: Any = self.redis.register_script(TAKE) if self.redis else None
        self._down_until = 0.0

    def mode(self, redis_reachable: bool | None = None) -> str:
        """Where the buckets are counted now, for the readiness check: ``shared`` (Redis, every
        worker), ``per-worker`` (no Redis, or Redis unavailable: the fallback), ``off``.
        ``redis_reachable``: what a probe of the same Redis just found, if one was made."""
        if not self.enabled:
            return "off"
        if self.redis is None or redis_reachable is False or time.monotonic() < self._down_until:
            return "per-worker"
        return "shared"

    def key(self, kind: str, value: str) -> str:
        """The bucket's key: secret prefix + kind + HMAC of the value (no user text in Redis).
        Recent keys are remembered (bounded), since the same wikis and users come back."""
        known = self._keys.get((kind, value))
        if known is None:
            digest = hmac.new(self._secret, value.encode("utf-8", "replace"), hashlib.sha256)
            known = self._keys.keep((kind, value), f"{self.prefix}{kind}:{digest.hexdigest()[:32]}")
        return known

    def take(self, kind: str, value: str, cost: int = 1) -> float:
        """0 if allowed, else seconds to wait. ``cost``: tokens to take (at most the burst)."""
        limit = self.limits[kind]
        key = self.key(kind, value)
        cost = max(1, min(cost, limit.burst))
        if self._script is not None and time.monotonic() >= self._down_until:
            try:
                allowed, retry_ms = self._script(keys=[key],
                                                 args=[limit.rate, limit.burst, limit.ttl, cost])
                return 0.0 if int(allowed) else int(retry_ms) / 1000
            except redis_lib.RedisError as error:
                self._down_until = time.monotonic() + BACKOFF_SECONDS
                log.warning("rate limiter: Redis unavailable (%s); per-worker limits for %ds",
                            type(error).__name__, BACKOFF_SECONDS)
        return self.local.take(key, limit, cost)

    def check(self) -> Response | None:
        """A 429 response if the request is over a limit, else None."""
        req = request._get_current_object()  # type: ignore[attr-defined]  # once, not per access
        kinds = LIMITED.get(req.path)
        if not self.enabled or kinds is None or req.method not in ("GET", "POST"):
            return None
        body = _body(req)
        subjects = [(kind, value) for kind in kinds if (value := _subject(req, body, kind))]
        cost = _cost(body)
        wait = 0.0
        for kind, value in subjects:
            wait = max(wait, self.take(kind, value, cost))
            if wait:
                break
        if not wait:
            return None
        response = error_answer(429, "rate_limited",
                                "Too many requests for this user or wiki; please wait and retry."
                                if kinds != ("login",) else
                                "Too many logins are being started right now; please wait a "
                                "minute and try again.", title="Please wait")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response


def _body(req: Request) -> Any:
    """The JSON body, or None (the endpoint itself refuses what is not valid)."""
    if req.method != "POST" or not req.is_json:
        return None
    try:
        return req.get_json(silent=True)
    except RecursionError:  # nested too deep: the endpoint refuses it (400)
        return None


def _cost(body: Any) -> int:
    """Tokens a request with this JSON body takes: one, or one per decision of a batch."""
    if isinstance(body, dict) and isinstance(body.get("decisions"), list):
        return max(1, len(body["decisions"]))
    return 1


def _subject(req: Request, body: Any, kind: str) -> str | None:
    if kind == "login":
        return THE_TOOL
    if kind == "wiki":
        wiki = req.args.get("wiki", "")
        return wiki if valid_wiki_id(wiki) else None  # malformed ids are refused anyway
    user = body.get("user") if isinstance(body, dict) else None
    if (not isinstance(user, str) or not user) and current_app.secret_key \
            and current_app.config["SESSION_COOKIE_NAME"] in req.cookies:
        user = session.get("user")  # signed in (web/auth.py); no cookie, no session to read
    if isinstance(user, str) and (name := normalize_user_name(user)):
        return name  # one bucket per editor, however the client spells the name
    return ANONYMOUS if req.method == "POST" else None


def register(app: Flask) -> RateLimiter:
    limiter = RateLimiter(app)
    app.extensions["wiki_suggest_ratelimit"] = limiter

    @app.before_request
    def _rate_limit() -> Response | None:
        return limiter.check()

    return limiter
