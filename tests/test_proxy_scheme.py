"""Behind Toolforge's front proxy: the links the service writes take the scheme the proxy
reports (X-Forwarded-Proto), and nothing else is taken from the forwarding headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suggest.web import create_app
from tests.conftest import app_config

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
             "X-Forwarded-Host": "evil.example"}


def card_text(proxies: int, tmp_path: Path, headers: dict[str, str]) -> str:
    app = create_app(app_config(f"sqlite:///{tmp_path / 'events.sqlite3'}", PROXIES=proxies))
    response = app.test_client().get("/toolcard.json", headers=headers)
    assert response.status_code == 200
    return json.dumps(response.get_json())


@pytest.mark.parametrize(("proxies", "headers", "root"), [
    (1, FORWARDED, "https://localhost/"),
    (1, {}, "http://localhost/"),
    (0, FORWARDED, "http://localhost/"),  # no proxy in front: the header is anybody's
])
def test_links_take_the_scheme_of_a_trusted_proxy(tmp_path: Path, proxies: int, headers: dict[str, str],
                                                 root: str) -> None:
    text = card_text(proxies, tmp_path, headers)
    assert f"{root}stats" in text
    assert ("http://localhost/" if root.startswith("https") else "https://localhost/") not in text
    assert "evil.example" not in text and "203.0.113.9" not in text
