"""Suggestion ids that carry their own proof of issue, so that showing a suggestion writes nothing.

A computed suggestion is stored once, when it is computed, under a content id (:func:`content_id`).
Each time it is shown it gets a fresh id: the content id, the time it was issued and a random part,
signed with the tool's secret key (keyed BLAKE2b, a MAC), in 32 URL-safe characters::

    content id (10 bytes) | issued at, Unix seconds (4) | random (5) | signature (5)

The first decision on an id stores it as an issued suggestion, in the transaction that stores the
decision; a second decision on the same id is a replay (409). An id the service did not sign, or
whose content was never stored, is unknown (404).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import random
import struct
import time
from typing import Any

CONTENT_BYTES = 10
ID_LENGTH = 32  # characters: base64 of 24 bytes, no padding
_NONCE = 5  # two issues of one suggestion in one second differ but with chance 2**-40
_SIGNED = CONTENT_BYTES + 4 + _NONCE
_MAC = 5


def content_id(row: dict[str, Any]) -> str:
    """A stable id for what a suggestion is: the same content, context and model give the same
    id in every worker, so storing it again is a no-op."""
    canonical = json.dumps(row, sort_keys=True, ensure_ascii=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()[: 2 * CONTENT_BYTES]


class IssuedIds:
    """Sign and open issued suggestion ids with a key derived from the tool's secret key."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"wiki-suggest issued ids\0" + secret.encode()).digest()

    def _mac(self, body: bytes) -> bytes:
        return hashlib.blake2b(body, key=self._key, digest_size=_MAC).digest()

    def issue(self, content: str, at: float | None = None) -> str:
        # The random part only has to differ between issues of one suggestion in one second (the
        # signature, not the random part, stops forgery): a fast generator is enough.
        seconds = int(time.time() if at is None else at)
        nonce = random.getrandbits(8 * _NONCE).to_bytes(_NONCE, "big")
        body = struct.pack(f">{CONTENT_BYTES}sI", bytes.fromhex(content), seconds) + nonce
        return base64.urlsafe_b64encode(body + self._mac(body)).decode("ascii")

    def open(self, issued_id: str) -> tuple[str, dt.datetime] | None:
        """(content id, when it was issued, UTC) for an id this tool signed, else None."""
        if len(issued_id) != ID_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(issued_id.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            return None
        if base64.urlsafe_b64encode(raw).decode("ascii") != issued_id:
            return None  # one id, one spelling: "+" for "-" would otherwise decide twice
        body, mac = raw[:_SIGNED], raw[_SIGNED:]
        if len(mac) != _MAC or not hmac.compare_digest(mac, self._mac(body)):
            return None
        (seconds,) = struct.unpack(">I", body[CONTENT_BYTES:CONTENT_BYTES + 4])
        issued_at = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
        return body[:CONTENT_BYTES].hex(), issued_at
