# SPDX-License-Identifier: GPL-3.0-or-later
"""The bounded memo behind the hot paths' remembered values (cache keys, bucket keys, valid
queries, computed suggestions, pauses, rejected labels)."""

from __future__ import annotations

from suggest.memo import Memo


def test_a_memo_never_holds_more_than_its_size_and_empties_when_full() -> None:
    memo: Memo[int, str] = Memo(3)
    for n in range(3):
        assert memo.keep(n, f"v{n}") == f"v{n}"
    assert dict(memo) == {0: "v0", 1: "v1", 2: "v2"}
    memo.keep(1, "again")  # a key it holds is replaced, nothing forgotten
    assert dict(memo) == {0: "v0", 1: "again", 2: "v2"}
    memo.keep(3, "v3")  # a new key when full: everything else is forgotten
    assert dict(memo) == {3: "v3"}
    for n in range(100):
        memo.keep(n, "x")
        assert len(memo) <= 3
