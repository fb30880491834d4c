"""Account confirmation: a signed ticket that lets a decision's user name count as checked.

A decision carries the user name the gadget reports, which anyone can invent. An editor who wants
their decisions to count as from a confirmed account opens ``/confirm`` from the gadget (a
popup): the tool logs them in with their Wikimedia account (OAuth, :mod:`suggest.web.auth`) and
hands the gadget a ticket naming that account, sent to the wiki page that opened the popup with
``postMessage`` (only to the origin of a wiki on the tool's list). The gadget sends the ticket
with the editor's decisions; a decision whose ticket names its user is stored as ``confirmed``,
and the monitor can be told to judge confirmed decisions only (``ALARM_CONFIRMED_ONLY``).

A ticket is the user name signed with the tool's secret key (itsdangerous, with its own salt so
that no other signed value of the tool passes for one) and the time it was made; it is valid for
``TICKET_DAYS``. Nothing is stored when a ticket is made: no token of the wiki is kept.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from suggest import __version__
from suggest.validation import normalize_user_name
from suggest.web.auth import current_user, login_required

bp = Blueprint("confirm", __name__)

TICKET_DAYS = 30
TICKET_SECONDS = TICKET_DAYS * 86_400
SALT = "wiki-suggest decision ticket"
MESSAGE_TYPE = "wiki-suggest-ticket"  # what the gadget listens for


class InvalidTicket(ValueError):
    """Not a ticket of this tool, or one naming another user than the decision's."""


def _serializer(secret: str | bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def issue(secret: str | bytes, user: str) -> tuple[str, int]:
    """A ticket naming ``user``, and when it expires (Unix seconds)."""
    return _serializer(secret).dumps({"user": user}), int(time.time()) + TICKET_SECONDS


def confirms(secret: str | bytes, ticket: str, user: str | None) -> bool:
    """Whether ``ticket`` confirms ``user``: True for a valid ticket naming that user (in
    MediaWiki's form), False for one that expired. Raises InvalidTicket for a ticket this tool
    did not sign and for one naming another user (or given without a user)."""
    try:
        payload: Any = _serializer(secret).loads(ticket, max_age=TICKET_SECONDS)
    except SignatureExpired:
        return False  # signed by this tool, only too old: the decision counts, unconfirmed
    except BadSignature:
        raise InvalidTicket("not a ticket of this tool") from None
    named = payload.get("user") if isinstance(payload, dict) else None
    if not isinstance(named, str) or user is None or \
            normalize_user_name(named) != normalize_user_name(user):
        raise InvalidTicket("the ticket names another user than the decision")
    return True


@bp.get("/confirm")
@login_required
def confirm_page() -> tuple[str, int]:
    """The popup's page: a ticket for the logged-in user, posted to the wiki page that opened it
    (``origin``, which must be the origin of a wiki on the tool's list)."""
    user = current_user()
    assert user is not None  # login_required
    origin = request.args.get("origin", "")
    wiki = current_app.extensions["wiki_suggest"].registry.wiki_for_origin(origin)
    if wiki is None:
        return render_template("confirm.html", error=True, user=user, version=__version__), 400
    ticket, expires = issue(current_app.secret_key or "", user.name)
    return render_template("confirm.html", error=False, user=user, ticket=ticket, expires=expires,
                           origin=origin, message_type=MESSAGE_TYPE, days=TICKET_DAYS,
                           version=__version__), 200
