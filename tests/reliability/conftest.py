# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.helpers import OwnRedis


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A redis-server of the test's own, which the test may stop or freeze (thawed at the end)."""
    server = OwnRedis()
    server.start()
    yield server
    if server.proc and server.proc.poll() is None:
        server.thaw()
    server.stop()
