# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one call from many threads at once and count how each ended."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable


def race(threads: int, call: Callable[[int], str], timeout: float = 60.0) -> Counter[str]:
    """Start ``call(n)`` in ``threads`` threads released together; each returns how it ended,
    and an exception counts as its class name (so any unexpected failure shows in the result)."""
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def run(n: int) -> None:
        barrier.wait()
        try:
            outcome = call(n)
        except Exception as error:  # noqa: BLE001 - reported as an outcome
            outcome = type(error).__name__
        with lock:
            outcomes.append(outcome)

    started = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout)
    return Counter(outcomes)
