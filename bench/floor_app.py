"""The floor of the warm-path figure: a bare Flask endpoint that answers a constant JSON document
(a captured suggestion response, so the bytes on the wire are the same) through the same gunicorn
settings as the service."""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, Response, jsonify

app = Flask(__name__)
with open(os.environ["BENCH_FLOOR_BODY"], encoding="utf-8") as handle:
    BODY: Any = json.load(handle)


@app.get("/api/v1/suggestions")
def suggestions() -> Response:
    return jsonify(BODY)


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
