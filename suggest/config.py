"""Configuration: built-in defaults < optional private YAML file < ``TOOL_*`` environment variables.

``toolforge envvars create TOOL_DATABASE_URL ...`` is how settings reach the tool on Toolforge;
nested keys use a double underscore (``TOOL_WIKIS__ENWIKI__THRESHOLD=0.7``) and values are parsed
as JSON where they can be, as Flask's ``from_prefixed_env`` does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from flask import Config

import toolforge

DEFAULTS: dict[str, Any] = {
    # "development" allows a generated SECRET_KEY (kept in DEV_SECRET_FILE, so that every worker
    # signs suggestion ids and sessions alike); anything else requires one.
    "ENV": "development",
    "SECRET_KEY": None,
    "DEV_SECRET_FILE": "var/dev-secret-key",
    "DATABASE_URL": "sqlite:///var/wiki-suggest.sqlite3",
    # No Redis URL means an in-process cache (fine for one worker or development).
    "REDIS_URL": None,
    # Toolforge's Redis is shared by every tool and has no ACLs: a long secret prefix keeps our
    # keys unguessable by other tools.
    "REDIS_KEY_PREFIX": "",
    "REDIS_TIMEOUT": 0.5,
    "CACHE_TTL": 6 * 3600,
    # Each worker adds its count of suggestions shown to the database this often (seconds).
    "SHOWN_FLUSH_SECONDS": 5.0,
    # A pause, resume or decision made through another worker or process reaches this worker's
    # answers within this many seconds (its own take effect at once).
    "CHANGES_SEEN_WITHIN": 1.0,
    "TASKS": ["categories"],
    "BACKEND": "e5-multilingual-offline",
    "MAX_SUGGESTIONS": 3,
    # Decisions one user may make per wiki and day (0 = no cap); the community page can set it.
    "DAILY_USER_CAP": 0,
    "THRESHOLD": 0.45,
    # Per-wiki overrides of MAX_SUGGESTIONS / THRESHOLD / NEVER_SUGGEST, keyed by wiki id.
    # The offline sample is 106 unrelated articles, so its suggestions are weak: it shows the best
    # three whatever their score (labelled low confidence) to demonstrate the flow, not precision.
    "WIKIS": {"sample-enwiki": {"THRESHOLD": 0.0}},
    # Wikis outside Wikimedia (a local MediaWiki): {"id": {"api_url": ..., "lang": ...}}.
    "EXTRA_WIKIS": {},
    # Wikis served from an XML dump file: {"id": {"path": ..., "lang": ...}}.
    "DUMP_WIKIS": {
        "sample-enwiki": {
            "path": "var/data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2",
            "lang": "en",
        }
    },
    "NEVER_SUGGEST": {"categories": []},
    # Citation-needed templates per wiki language ("default" for any other), with the redirects
    # the wikis report for them (list=backlinks&blfilterredir=redirects; re-check before enabling
    # the task on a wiki); first letter case-insensitive, as MediaWiki compares template names.
    "CITATION_NEEDED": {
        "default": ["Citation needed", "Cn", "Fact", "Citation Needed", "Cite needed", "Citeneeded",
                    "Citationneeded", "Needs citation", "Source needed", "Reference needed",
                    "Ref needed", "Citation required", "Facts", "Cite missing", "Proveit"],
        "uk": ["Джерело?", "Джерело", "Fact", "Cn", "Citation needed"],
        "ja": ["要出典", "要出典範囲", "Fact", "Cn", "Citation needed"],
        "vi": ["Cần chú thích", "Fact", "Cn", "Citation needed"],
        "bn": ["তথ্যসূত্র প্রয়োজন", "Citation needed", "Cn", "Fact"],
    },
    # Each wiki's MediaWiki:Wiki-suggest.json is read again after this many seconds.
    "COMMUNITY_CONFIG_TTL": 300,
    # The evaluation's per-wiki thresholds: the minimum a community may set (absent = THRESHOLD),
    # and the committed evaluation results the tool card shows (relative to the repository root).
    "THRESHOLDS_PATH": "suggest/data/thresholds.json",
    "EVAL_DIR": "eval",
    "SITEMATRIX_TTL": 24 * 3600,
    "SITEMATRIX_LIVE": False,
    "WIKI_TIMEOUT": 10.0,
    # Proxies in front of the service whose X-Forwarded-Proto is trusted (Toolforge: 1; 0 when
    # clients reach the service directly).
    "PROXIES": 1,
    # Namespaces of the pages suggestions are made for: articles, and drafts in user space and in
    # the Draft namespace (118 on the wikis that have one); per wiki: WIKIS__<ID>__NAMESPACES.
    "NAMESPACES": [0, 2, 118],
    "MAX_CONTENT_LENGTH": 16 * 1024,
    # Token buckets (suggest/web/ratelimit.py): per wiki user and per wiki, never per IP address,
    # and one for the logins the whole tool starts (each asks the wiki); rate in tokens per
    # second, burst = bucket size. Redis down: per-worker buckets take over.
    "RATE_LIMITS": {"enabled": True, "user": {"rate": 1.0, "burst": 120},
                    "wiki": {"rate": 20.0, "burst": 400}, "login": {"rate": 0.1, "burst": 30}},
    "HOSTING_TIER": "community",
    "HOSTING_PROVIDER": "Wikimedia Toolforge",
    "CONTACT_URL": "https://wiki-suggest.toolforge.org/",
    "CONTACT_EMAIL": "tools.wiki-suggest@toolforge.org",
    "SOURCE_URL": "https://gitlab.wikimedia.org/toolforge-repos/wiki-suggest",
    # Monitoring (suggest/metrics/monitor.py). Pre-registered alarms, after the Growth team's
    # practice; each is judged on the Wilson 95% bound, never the point estimate, and only with at
    # least ALARM_MIN_DECISIONS in the rate's denominator within the window, made by at least
    # ALARM_MIN_EDITORS editors (decisions without a user name count as one editor together), so
    # that no single client can pause a task. A triggered alarm pauses the task on that wiki at once.
    "ALARMS": [
        {"id": "rejection-high", "rate": "rejection", "above": 0.30},
        {"id": "revert-high", "rate": "revert", "above": 0.20},
        {"id": "acceptance-low", "rate": "acceptance", "below": 0.40},
    ],
    "ALARM_MIN_DECISIONS": 50,
    "ALARM_MIN_EDITORS": 5,
    "ALARM_WINDOW_DAYS": 14,
    # True: alarms count only decisions whose user name a ticket of the tool's login confirmed
    # (the gadget's optional "Confirm your account", suggest/web/confirm.py), so that decisions
    # sent under invented names cannot pause a task; they then wait for confirmed editors.
    "ALARM_CONFIRMED_ONLY": False,
    # Verification (suggest/metrics/verify.py): survival of a verified edit is judged this many
    # hours after it was saved; an acceptance not linked to a saved revision after
    # NOT_SAVED_AFTER_HOURS counts as "accepted, not saved".
    "VERIFY_DELAY": 48,
    "NOT_SAVED_AFTER_HOURS": 24,
    "VERIFY_MAX_ATTEMPTS": 6,
    # Raw decision user names and comments are removed after this many days (purge job).
    "RETENTION_DAYS": 90,
    # Wiki user names (as OAuth reports them) who may pause and resume tasks.
    "MAINTAINERS": [],
    # Wiki user names who may label suggestions on /review; empty: any signed-in user.
    "REVIEWERS": [],
    # Wikimedia OAuth 1.0a consumer: {"consumer_key", "consumer_secret", "mw_uri"
    # (…/w/index.php of the wiki that registered the consumer), "callback" (default "oob")}.
    "OAUTH": {},
}

# The stats page's over-acceptance indicator looks this far back, by user name.
OVER_ACCEPTANCE_DAYS = 28

# Never part of the configuration hash, the tool card or any log line.
SECRET_KEYS = frozenset({"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "OAUTH"})


def oauth_consumer(config: Any) -> tuple[str, str, str] | None:
    """The OAuth consumer's key, secret and ``mw_uri`` when all three are set: logins (and the
    gadget's account confirmation, which goes through them) work only then."""
    settings = config.get("OAUTH") or {}
    key, secret, mw_uri = (settings.get(k) for k in ("consumer_key", "consumer_secret", "mw_uri"))
    if not (key and secret and mw_uri):
        return None
    return str(key), str(secret), str(mw_uri)


class ConfigError(RuntimeError):
    """The configuration cannot run the tool (e.g. no SECRET_KEY in production)."""


def load_config(config: Config, overrides: dict[str, Any] | None = None) -> None:
    """Fill a Flask config in the documented order of precedence."""
    config.update(copy.deepcopy(DEFAULTS))  # nested env values are merged into these: no sharing
    path = os.environ.get("WIKI_SUGGEST_CONFIG", "config.yaml")
    if Path(path).is_file():
        with open(path, encoding="utf-8") as handle:
            # toolforge refuses a world-readable file: the file may hold credentials.
            data = toolforge.load_private_yaml(handle) or {}
        config.update({str(k).upper(): v for k, v in data.items()})
    config.from_prefixed_env("TOOL")
    if overrides:
        config.update(overrides)
    if not config.get("SECRET_KEY"):
        if config["ENV"] != "development":
            raise ConfigError("SECRET_KEY must be set outside development (TOOL_SECRET_KEY).")
        config["SECRET_KEY"] = development_secret(Path(config["DEV_SECRET_FILE"]))
    # User names are what the monitor counts editors by (ALARM_WINDOW_DAYS) and what the
    # over-acceptance indicator reads: removed sooner, both would stop without a word.
    needed = max(float(config["ALARM_WINDOW_DAYS"]), OVER_ACCEPTANCE_DAYS)
    if float(config["RETENTION_DAYS"]) < needed:
        raise ConfigError(f"RETENTION_DAYS ({config['RETENTION_DAYS']}) is shorter than the {needed:g} "
                          "days of user names the monitor's editor count and the over-acceptance "
                          "indicator need (ALARM_WINDOW_DAYS, and 28 days).")


def development_secret(path: Path) -> str:
    """A random key made once and kept in ``path`` (mode 0600): workers started together agree,
    as the first to create the file wins."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another worker is writing it
            secret = path.read_text(encoding="ascii").strip()
            if secret:
                return secret
            time.sleep(0.01)
        raise ConfigError(f"{path} is empty: remove it to make a new development key") from None
    except OSError:
        return os.urandom(32).hex()  # read-only place: this process alone
    secret = os.urandom(32).hex()
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret)
    return secret


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that may be shown to anyone: defaults' keys minus secrets."""
    return {k: config.get(k) for k in sorted(DEFAULTS) if k not in SECRET_KEYS}


def config_hash(config: dict[str, Any]) -> str:
    """A short, stable fingerprint of the public settings, reported with every suggestion."""
    blob = json.dumps(public_config(config), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def wiki_overrides(config: dict[str, Any], wiki: str) -> dict[str, Any]:
    """The settings configured for one wiki (``WIKIS.<id>``)."""
    wikis = config.get("WIKIS", {})
    # Environment variables name the wiki in upper case (TOOL_WIKIS__ENWIKI__THRESHOLD); they
    # come last in the order of precedence, so that spelling wins.
    return {**wikis.get(wiki, {}), **wikis.get(wiki.upper(), {})}


def wiki_setting(config: dict[str, Any], wiki: str, key: str) -> Any:
    """A per-wiki override if one is configured, else the global value."""
    per_wiki = wiki_overrides(config, wiki)
    for candidate in (key, key.lower()):
        if candidate in per_wiki:
            return per_wiki[candidate]
    return config[key]
