"""A model served elsewhere over HTTP, in the KServe v1 ``:predict`` style Lift Wing speaks.

Request ``POST <url>`` with ``{"instances": ["text", ...], "parameters": {"kind": "query"}}``;
answer ``{"predictions": [[float, ...], ...]}``, one vector per instance. The hosting tier
(``community`` for a Wikimedia-hosted cluster such as Lift Wing, ``external`` for anything else)
comes from configuration and is reported, with where the texts go, to the editor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import numpy as np
import requests

from suggest.backends import register
from suggest.backends.base import BackendInfo, HostingTier, Matrix

DEFAULT_TIMEOUT = 10.0
BATCH = 32
MAX_CHARS = 2000


class RemoteBackendError(RuntimeError):
    """The endpoint did not answer with one finite vector per text."""


class RemoteBackend:
    def __init__(self, url: str, model: str = "remote embedding model", hosting_tier: HostingTier =
                 "external", timeout: float = DEFAULT_TIMEOUT, batch_size: int = BATCH,
                 checksum: str | None = None, version: str = "unknown", licence: str = "see the model card",
                 model_card: str = "", headers: dict[str, str] | None = None,
                 user_agent: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("remote backend needs an http(s) URL")
        if hosting_tier not in {"community", "external"}:
            raise ValueError("remote hosting_tier must be 'community' or 'external'")
        self.url = url
        self._timeout = float(timeout)
        self._batch = max(1, int(batch_size))
        self._session = requests.Session()
        self._session.headers.update(headers or {})
        if user_agent:
            self._session.headers["User-Agent"] = user_agent
        where = "a Wikimedia-hosted cluster" if hosting_tier == "community" else "a third party"
        self.info = BackendInfo(
            id="remote",
            model=model,
            version=version,
            # The operator states the served weights' checksum; else the endpoint+model identify it.
            checksum=checksum or "sha256:" + hashlib.sha256(f"{url}|{model}".encode()).hexdigest()[:16],
            licence=licence,
            model_card=model_card,
            hosting_tier=hosting_tier,
            data_flow=(f"The article's title and lead (first {MAX_CHARS} characters) and candidate "
                       f"category names are sent over HTTP to {parts.hostname} ({where}) to be "
                       f"turned into vectors; no user names or IP addresses are sent."),
            limitations=[f"Unavailable when {parts.hostname} is (timeout {self._timeout:g} s)."],
        )

    def embed(self, texts: Sequence[str], kind: Literal["query", "passage"] = "passage") -> Matrix:
        items = [t[:MAX_CHARS] or " " for t in texts]
        rows: list[np.ndarray] = []
        for start in range(0, len(items), self._batch):
            batch = items[start:start + self._batch]
            try:
                response = self._session.post(
                    self.url, json={"instances": batch, "parameters": {"kind": kind}},
                    timeout=self._timeout, allow_redirects=False)
                response.raise_for_status()
                predictions = response.json()["predictions"]
            except (requests.RequestException, ValueError, KeyError, TypeError) as error:
                raise RemoteBackendError(f"embedding endpoint failed: {type(error).__name__}") from error
            matrix = np.asarray(predictions, dtype=np.float32)
            if matrix.ndim != 2 or len(matrix) != len(batch) or not np.isfinite(matrix).all():
                raise RemoteBackendError("embedding endpoint answered the wrong shape")
            rows.append(matrix)
        if not rows:
            return np.zeros((0, 0), dtype=np.float32)
        matrix = np.concatenate(rows)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-12)


@register("remote")
def create(options: dict[str, Any]) -> RemoteBackend:
    if not options.get("url"):
        raise ValueError("the remote backend needs BACKEND_OPTIONS.url")
    return RemoteBackend(
        url=str(options["url"]),
        model=str(options.get("model", "remote embedding model")),
        hosting_tier=options.get("hosting_tier", "external"),
        timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
        batch_size=int(options.get("batch_size", BATCH)),
        checksum=options.get("checksum"),
        version=str(options.get("version", "unknown")),
        licence=str(options.get("licence", "see the model card")),
        model_card=str(options.get("model_card", "")),
        headers=options.get("headers"),
        user_agent=options.get("user_agent"),
    )
