# SPDX-License-Identifier: GPL-3.0-or-later
"""The orjson-backed JSON provider gives the same JSON values as Flask's own encoder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from suggest.web.fast_json import FastJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    label: str


VALUES: list[Any] = [
    {"b": 1, "a": [1, 2.5, None, True], "c": {"z": "Коло", "y": "দক্ষিণ"}},
    {"when": dt.datetime(2026, 11, 27, 10, 30), "day": dt.date(2026, 11, 27)},
    {"price": decimal.Decimal("1.10"), "id": uuid.UUID(int=5), "point": Point(1, "p")},
    {"html": Markup("<b>x</b>"), "tuple": (1, 2)},
    ["\u2028", "\x00", "emoji 🙂", -0.0, 10**18],
]


Providers = tuple[FastJSONProvider, DefaultJSONProvider]


@pytest.fixture
def providers() -> Providers:
    app = Flask(__name__)
    return FastJSONProvider(app), DefaultJSONProvider(app)


@pytest.mark.parametrize("value", VALUES)
def test_same_json_values_as_flask(value: Any, providers: Providers) -> None:
    fast, flask_own = providers
    ours = fast.dumps(value)
    assert json.loads(ours) == json.loads(flask_own.dumps(value))
    assert ours == fast.dumps(value)  # deterministic
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        assert list(json.loads(ours)) == sorted(value)  # keys sorted, as Flask sorts them


def test_what_orjson_cannot_encode_goes_to_flask(providers: Providers) -> None:
    fast, flask_own = providers
    huge = {"n": 10**30}
    assert fast.dumps(huge) == flask_own.dumps(huge)
    assert fast.dumps({"a": 1}, indent=2) == flask_own.dumps({"a": 1}, indent=2)
    with pytest.raises(TypeError):
        fast.dumps({"x": object()})


def test_api_answers_through_it(client: Any) -> None:
    response = client.get("/api/v1/suggestions", query_string={
        "wiki": "fixture-ukwiki", "title": "Коло", "task": "categories"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "Категорія" in text  # UTF-8, not \u escapes
    assert json.loads(text)["page"]["title"] == "Коло"
