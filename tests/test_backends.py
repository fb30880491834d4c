# SPDX-License-Identifier: GPL-3.0-or-later
"""Backends: shapes, normalisation, checksums, honest info; remote against a local server."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from suggest import backends
from suggest.backends.base import similarity
from suggest.backends.remote import RemoteBackend, RemoteBackendError
from tests.support.http import LocalServer, QuietHandler, send

TEXTS = ["The cat sat on the mat.", "Кіт сидів на килимку.", "A dog barked at the cat."]


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)


def _check_rows(matrix: Any, n: int) -> np.ndarray:
    dense = _dense(matrix)
    assert dense.shape[0] == n
    np.testing.assert_allclose(np.linalg.norm(dense, axis=1), 1.0, rtol=1e-5)
    return dense


def _check_info(info: Any) -> None:
    assert info.id and info.model and info.version
    assert info.checksum.startswith("sha256:") and len(info.checksum) == len("sha256:") + 16
    assert info.hosting_tier in {"local", "community", "external"}
    assert info.data_flow


def test_registry_lists_the_backends() -> None:
    assert {"tfidf", "e5-multilingual-offline", "remote", "transformers"} <= set(backends.available())
    with pytest.raises(ValueError, match="unknown backend"):
        backends.create("no-such-backend")


def test_tfidf_rows_are_normalised_and_deterministic() -> None:
    backend = backends.create("tfidf")
    first = _check_rows(backend.embed(TEXTS), 3)
    np.testing.assert_allclose(first, _check_rows(backend.embed(TEXTS), 3))
    _check_info(backend.info)


def test_e5_offline_is_multilingual_and_normalised() -> None:
    backend = backends.create("e5-multilingual-offline")
    rows = _check_rows(backend.embed(TEXTS, "passage"), 3)
    assert rows.shape[1] == 384
    _check_info(backend.info)
    assert backend.info.hosting_tier == "local"


def test_transformers_offline_default_model() -> None:
    from suggest.backends.transformers_backend import default_model_dir, weights_checksum

    backend = backends.create("transformers", {"batch_size": 2})
    rows = _check_rows(backend.embed(TEXTS, "query"), 3)
    assert rows.shape == (3, 384)
    # batching does not change the vectors; the same text gives the same vector
    again = _dense(backends.create("transformers", {"batch_size": 8}).embed(TEXTS, "query"))
    np.testing.assert_allclose(rows, again, atol=1e-5)
    sims = similarity(rows, rows)
    assert sims[0, 2] > sims[0, 1] - 1.0  # finite, in range
    english = _dense(backend.embed(["A cat on a mat.", "Stock market prices fell."]))
    assert float(english[0] @ rows[0]) > float(english[1] @ rows[0])
    assert backend.info.checksum == weights_checksum(default_model_dir())
    _check_info(backend.info)
    assert backend.embed([]).shape[0] == 0


class _Embedder(QuietHandler):
    """A KServe v1 style embedding endpoint: hashed character trigram counts, 16 dimensions."""

    requests_seen: list[dict[str, Any]] = []
    delay = 0.0
    wrong_shape = False

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests_seen.append(body)
        time.sleep(type(self).delay)
        vectors = []
        for text in body["instances"]:
            vector = [0.0] * 16
            for i in range(max(len(text) - 2, 1)):
                vector[hashlib.sha256(text[i:i + 3].encode()).digest()[0] % 16] += 1.0
            vectors.append(vector)
        if type(self).wrong_shape:
            vectors = vectors[:-1]
        send(self, 200, {"predictions": vectors})


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Embedder.requests_seen = []
    _Embedder.delay = 0.0
    _Embedder.wrong_shape = False
    with LocalServer(_Embedder) as local:
        yield f"{local.url}/v1/models/embed:predict"


def test_remote_speaks_kserve_v1_in_batches(endpoint: str) -> None:
    backend = backends.create("remote", {"url": endpoint, "hosting_tier": "community", "batch_size": 2,
                                         "model": "test-embedder", "timeout": 5})
    texts = [*TEXTS, "fourth text", "fifth"]
    rows = _check_rows(backend.embed(texts, "query"), 5)
    assert rows.shape == (5, 16)
    assert [len(r["instances"]) for r in _Embedder.requests_seen] == [2, 2, 1]
    assert _Embedder.requests_seen[0]["instances"] == texts[:2]
    assert _Embedder.requests_seen[0]["parameters"] == {"kind": "query"}
    info = backend.info
    _check_info(info)
    assert info.id == "remote" and info.hosting_tier == "community"
    assert "127.0.0.1" in info.data_flow


def test_remote_failures_raise(endpoint: str) -> None:
    _Embedder.delay = 1.0
    slow = RemoteBackend(endpoint, timeout=0.2)
    with pytest.raises(RemoteBackendError):
        slow.embed(["x"])
    _Embedder.delay = 0.0
    _Embedder.wrong_shape = True
    with pytest.raises(RemoteBackendError, match="shape"):
        RemoteBackend(endpoint).embed(["a", "b"])
    with pytest.raises(ValueError):
        RemoteBackend(endpoint, hosting_tier="local")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RemoteBackend("file:///etc/passwd")
