# SPDX-License-Identifier: GPL-3.0-or-later
"""Configuration precedence: defaults < private config.yaml < TOOL_* environment < test overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from flask import Config

import toolforge
from suggest.config import DEFAULTS, ConfigError, config_hash, load_config, public_config, wiki_setting


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No TOOL_* variable of the machine leaks in; the config file is one of our own."""
    for name in list(os.environ):
        if name.startswith("TOOL_"):
            monkeypatch.delenv(name)
    path = tmp_path / "config.yaml"
    monkeypatch.setenv("WIKI_SUGGEST_CONFIG", str(path))
    return path


def loaded(overrides: dict[str, Any] | None = None) -> Config:
    config = Config(root_path=".")
    load_config(config, overrides)
    return config


def write_private(path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def test_defaults_without_file_or_environment() -> None:
    config = loaded()
    for key in ("THRESHOLD", "MAX_SUGGESTIONS", "TASKS", "BACKEND", "DATABASE_URL", "CACHE_TTL"):
        assert config[key] == DEFAULTS[key]
    assert config["ENV"] == "development"
    assert len(config["SECRET_KEY"]) == 64  # generated for development only


def test_development_secret_is_made_once_and_shared(tmp_path: Path) -> None:
    """Workers of one development server must sign suggestion ids alike: the generated key is
    kept in a private file and read by every later start."""
    path = tmp_path / "var" / "dev-secret-key"
    first = loaded({"DEV_SECRET_FILE": str(path)})["SECRET_KEY"]
    assert len(first) == 64 and path.read_text(encoding="ascii") == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert loaded({"DEV_SECRET_FILE": str(path)})["SECRET_KEY"] == first
    other = loaded({"DEV_SECRET_FILE": str(tmp_path / "elsewhere")})["SECRET_KEY"]
    assert other != first
    assert loaded({"DEV_SECRET_FILE": str(path), "SECRET_KEY": "given"})["SECRET_KEY"] == "given"


def test_private_file_overrides_defaults(clean_environment: Path) -> None:
    write_private(clean_environment, "threshold: 0.7\nMAX_SUGGESTIONS: 5\n"
                                     "wikis:\n  ukwiki:\n    THRESHOLD: 0.8\n")
    config = loaded()
    assert config["THRESHOLD"] == 0.7 and config["MAX_SUGGESTIONS"] == 5
    assert wiki_setting(config, "ukwiki", "THRESHOLD") == 0.8
    assert wiki_setting(config, "enwiki", "THRESHOLD") == 0.7
    assert config["BACKEND"] == DEFAULTS["BACKEND"]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o666])
def test_world_readable_file_is_refused(clean_environment: Path, mode: int) -> None:
    write_private(clean_environment, "SECRET_KEY: not-so-secret\n", mode)
    with pytest.raises(toolforge.PrivateFileWorldReadableError):
        loaded()
    clean_environment.chmod(0o640)  # group-readable is what Toolforge's tool accounts use
    assert loaded()["SECRET_KEY"] == "not-so-secret"


def test_environment_overrides_file_with_json_values_and_nested_keys(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_private(clean_environment, "THRESHOLD: 0.7\nMAX_SUGGESTIONS: 5\nBACKEND: tfidf\n")
    monkeypatch.setenv("TOOL_THRESHOLD", "0.9")
    monkeypatch.setenv("TOOL_TASKS", '["categories", "references"]')
    monkeypatch.setenv("TOOL_REDIS_URL", "redis://127.0.0.1:6379/0")  # not JSON: kept as text
    monkeypatch.setenv("TOOL_EXTRA_WIKIS__localwiki", '{"api_url": "http://127.0.0.1:8080/api.php"}')
    monkeypatch.setenv("TOOL_WIKIS__ukwiki__MAX_SUGGESTIONS", "2")
    config = loaded()
    assert config["THRESHOLD"] == 0.9 and isinstance(config["THRESHOLD"], float)
    assert config["MAX_SUGGESTIONS"] == 5  # from the file
    assert config["BACKEND"] == "tfidf"
    assert config["TASKS"] == ["categories", "references"]
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert config["EXTRA_WIKIS"] == {"localwiki": {"api_url": "http://127.0.0.1:8080/api.php"}}
    assert wiki_setting(config, "ukwiki", "MAX_SUGGESTIONS") == 2
    # The default per-wiki setting survives a nested override of another wiki.
    expected = DEFAULTS["WIKIS"]["sample-enwiki"]["THRESHOLD"]
    assert wiki_setting(config, "sample-enwiki", "THRESHOLD") == expected
    assert loaded({"THRESHOLD": 0.1})["THRESHOLD"] == 0.1  # explicit overrides come last


def test_documented_upper_case_wiki_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # config.py documents TOOL_WIKIS__ENWIKI__THRESHOLD=0.7 (environment names are upper case).
    monkeypatch.setenv("TOOL_WIKIS__ENWIKI__THRESHOLD", "0.7")
    config = loaded()
    assert wiki_setting(config, "enwiki", "THRESHOLD") == 0.7
    assert wiki_setting(config, "ukwiki", "THRESHOLD") == DEFAULTS["THRESHOLD"]


def test_secret_key_required_outside_development(monkeypatch: pytest.MonkeyPatch,
                                                 clean_environment: Path) -> None:
    monkeypatch.setenv("TOOL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        loaded()
    write_private(clean_environment, "SECRET_KEY: from-the-file\n")
    assert loaded()["SECRET_KEY"] == "from-the-file"
    monkeypatch.setenv("TOOL_SECRET_KEY", "from-the-environment")
    assert loaded()["SECRET_KEY"] == "from-the-environment"
    write_private(clean_environment, "ENV: staging\n")
    monkeypatch.delenv("TOOL_SECRET_KEY")
    monkeypatch.delenv("TOOL_ENV")
    with pytest.raises(ConfigError):
        loaded()


def test_config_hash_follows_public_settings_only() -> None:
    base = loaded({"SECRET_KEY": "a", "DATABASE_URL": "sqlite:///a", "REDIS_URL": "redis://a",
                   "REDIS_KEY_PREFIX": "secret-a"})
    same = loaded({"SECRET_KEY": "b", "DATABASE_URL": "mysql+pymysql://u:pw@db/x",
                   "REDIS_URL": "redis://b", "REDIS_KEY_PREFIX": "secret-b"})
    assert config_hash(base) == config_hash(same)
    assert config_hash(loaded({"THRESHOLD": 0.5})) != config_hash(base)
    assert config_hash(loaded({"WIKIS": {"ukwiki": {"THRESHOLD": 0.9}}})) != config_hash(base)
    public = public_config(base)
    for secret in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX"):
        assert secret not in public
    assert "secret-a" not in str(public)


def test_nested_environment_values_do_not_leak_into_the_defaults(monkeypatch: Any) -> None:
    before = json.dumps(DEFAULTS, sort_keys=True, default=str)
    monkeypatch.setenv("TOOL_WIKIS__SAMPLE-ENWIKI__MAX_SUGGESTIONS", "7")
    first = Config(".")
    load_config(first)
    assert wiki_setting(first, "sample-enwiki", "MAX_SUGGESTIONS") == 7
    monkeypatch.delenv("TOOL_WIKIS__SAMPLE-ENWIKI__MAX_SUGGESTIONS")
    second = Config(".")
    load_config(second)
    assert wiki_setting(second, "sample-enwiki", "MAX_SUGGESTIONS") == DEFAULTS["MAX_SUGGESTIONS"]
    assert json.dumps(DEFAULTS, sort_keys=True, default=str) == before


@pytest.mark.parametrize(("retention", "window", "refused"), [
    ("7", "14", True), ("14", "14", True),  # the over-acceptance indicator reads 28 days of names
    ("28", "14", False), ("30", "45", True), ("90", "14", False),
])
def test_retention_keeps_the_names_the_monitor_needs(monkeypatch: pytest.MonkeyPatch, retention: str,
                                                      window: str, refused: bool) -> None:
    """Names purged before the monitor's window ends would make every window look like one
    editor, and no alarm would ever be judged: such a configuration does not start."""
    monkeypatch.setenv("TOOL_RETENTION_DAYS", retention)
    monkeypatch.setenv("TOOL_ALARM_WINDOW_DAYS", window)
    if refused:
        with pytest.raises(ConfigError, match="RETENTION_DAYS"):
            loaded()
    else:
        assert loaded()["RETENTION_DAYS"] == int(retention)
