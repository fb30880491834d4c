"""The retention job: remove what identifies people once it is no longer needed.

Wikimedia's data-retention guideline is 90 days. After ``RETENTION_DAYS`` the user name and free
comment of a decision, and the user name of a reported edit, are set to NULL. The rows themselves
stay, so every aggregate on /stats (counts, rates, reasons, verification, survival) is still
computed from them; only the over-acceptance indicator needs user names, and it looks at the last
28 days only. Verification and its survival check finish long before 90 days (48 h by default),
so no check ever loses the user name it needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_

from suggest.store.events import EventStore, utcnow
from suggest.store.schema import decisions, edits


def run(store: EventStore, days: int, now: dt.datetime | None = None) -> dict[str, Any]:
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    with store.engine.begin() as conn:
        cleared_decisions = conn.execute(
            decisions.update()
            .where(decisions.c.created_at < cutoff,
                   or_(decisions.c.user_name.is_not(None), decisions.c.comment.is_not(None)))
            .values(user_name=None, comment=None)).rowcount
        cleared_edits = conn.execute(
            edits.update()
            .where(edits.c.created_at < cutoff, edits.c.user_name.is_not(None))
            .values(user_name=None)).rowcount
    return {"cutoff": cutoff.isoformat(), "decisions": int(cleared_decisions or 0),
            "edits": int(cleared_edits or 0)}
