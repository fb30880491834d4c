"""Log in with a Wikimedia account (OAuth 1.0a through mwoauth), for maintainers and reviewers.

What other views use:

``current_user()``
    The logged-in :class:`User` (``name``, ``maintainer``) or ``None``. Anyone with a wiki account
    can log in; only names in the ``MAINTAINERS`` setting are maintainers.
``maintainer_required``
    View decorator: anonymous visitors are sent to ``/login`` (and back), others get 403.
``login_required``
    View decorator for any logged-in user (the reviewer page).
``csrf_token()`` / ``check_csrf()``
    Every state-changing form carries ``<input type="hidden" name="csrf_token"
    value="{{ csrf_token() }}">``; the POST view calls ``check_csrf()`` first (400 on mismatch).
    Templates also get ``current_user`` and ``csrf_token``.

``SessionCookies``
    Flask's signed cookie sessions, with the signer made once per secret key instead of on every
    request (most requests, the gadget's API calls, carry no cookie at all).

Only the user name is kept, in Flask's signed session cookie; the OAuth access token is used once
to ask the wiki who the user is and then dropped, since the tool never edits on anyone's behalf.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import mwoauth
import requests
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response as FlaskResponse
from itsdangerous import URLSafeTimedSerializer
from mwoauth.functions import process_request_token
from requests_oauthlib import OAuth1
from werkzeug.wrappers import Response

from suggest import __version__
from suggest.config import oauth_consumer
from suggest.validation import normalize_user_name

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


class SessionCookies(SecureCookieSessionInterface):
    """Flask's session cookies; the serializer is kept per secret key (it is the same object
    Flask would build, and building it was a visible part of every request's cost)."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if key not in self._serializers:
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]

    def save_session(self, app: Flask, session: SessionMixin, response: FlaskResponse) -> None:
        # An empty session nobody read or changed (an API call without a cookie) has nothing to
        # write and no Vary to add; Flask would still work out every cookie attribute first.
        if not session and not session.modified and not session.accessed:
            return
        super().save_session(app, session, response)


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class User:
    name: str
    maintainer: bool


def normalize_name(name: str) -> str:
    return normalize_user_name(str(name))


def current_user() -> User | None:
    name = session.get("user")
    if not isinstance(name, str) or not name:
        return None
    maintainers = {normalize_name(m) for m in current_app.config.get("MAINTAINERS") or []}
    return User(name=name, maintainer=normalize_name(name) in maintainers)


def _to_login() -> Response:
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return _to_login()
        return view(*args, **kwargs)
    return cast(F, wrapped)


def maintainer_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return _to_login()
        if not user.maintainer:
            abort(403, description="Only this tool's maintainers may use the controls. Anyone may "
                                   "see the pauses and the audit log on the statistics page.")
        return view(*args, **kwargs)
    return cast(F, wrapped)


# -- CSRF ----------------------------------------------------------------------------------------
def csrf_token() -> str:
    """The session's CSRF token (made on first use). Forms send it back as ``csrf_token``."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Abort with 400 unless the form's ``csrf_token`` matches the session's. Another site can
    make a logged-in maintainer's browser POST here, but it cannot read this token."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form expired or did not come from this site; reload and retry.")


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    app = state.app
    # Lax keeps the session cookie off cross-site POSTs (a second line behind the CSRF token) while
    # still sending it on the redirect back from the wiki's authorization page.
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if app.config.get("ENV") != "development":
        app.config["SESSION_COOKIE_SECURE"] = True


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"current_user": current_user(), "csrf_token": csrf_token}


# -- OAuth handshake -----------------------------------------------------------------------------
def _consumer() -> tuple[mwoauth.ConsumerToken, str] | None:
    found = oauth_consumer(current_app.config)
    if found is None:
        return None
    key, secret, mw_uri = found
    return mwoauth.ConsumerToken(key, secret), mw_uri


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//host`` or ``https://host`` (an open redirect), nor with
    a tab, line break or other control character (browsers drop tabs and line breaks from a URL,
    so ``/<tab>/host`` leads to ``//host``)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and target.isprintable():
        return target
    return url_for("pages.index")


def _user_agent() -> str:
    service = current_app.extensions.get("wiki_suggest")
    return str(getattr(service, "user_agent", f"wiki-suggest/{__version__}"))


OAUTH_TIMEOUT = 10.0  # seconds for each request to the wiki's Special:OAuth
CLOCK_LEEWAY = 10.0


def _oauth_post(mw_uri: str, title: str, auth: OAuth1, user_agent: str) -> requests.Response:
    """A signed request to one of the wiki's Special:OAuth steps. Made here rather than by
    mwoauth's ``initiate``/``complete``, which set no timeout: a wiki that stops answering would
    hold a worker's thread for good, and ``/login`` is open to anyone."""
    return requests.post(mw_uri, params={"title": title}, auth=auth, headers={"User-Agent": user_agent},
                         timeout=OAUTH_TIMEOUT, allow_redirects=False)


def initiate(mw_uri: str, consumer: mwoauth.ConsumerToken, callback: str,
             user_agent: str) -> tuple[str, mwoauth.RequestToken]:
    """A request token, and the wiki's page where the user authorizes it (as mwoauth.initiate)."""
    auth = OAuth1(consumer.key, client_secret=consumer.secret, callback_uri=callback)
    token = process_request_token(_oauth_post(mw_uri, "Special:OAuth/initiate", auth, user_agent).text)
    query = urlencode({"title": "Special:OAuth/authenticate", "oauth_token": token.key,
                       "oauth_consumer_key": consumer.key})
    return f"{mw_uri}?{query}", token


def complete(mw_uri: str, consumer: mwoauth.ConsumerToken, pending: mwoauth.RequestToken,
             callback: dict[str, str], user_agent: str) -> mwoauth.AccessToken:
    """The access token for the verifier the wiki sent back (as mwoauth.complete); the callback
    must name this browser's own request token."""
    key, verifier = callback.get("oauth_token", ""), callback.get("oauth_verifier", "")
    if not verifier or not hmac.compare_digest(key.encode(), str(pending.key).encode()):
        raise mwoauth.OAuthException("the callback names another request token")
    auth = OAuth1(consumer.key, client_secret=consumer.secret, resource_owner_key=pending.key,
                  resource_owner_secret=pending.secret, verifier=verifier)
    answer = parse_qs(_oauth_post(mw_uri, "Special:OAuth/token", auth, user_agent).text)
    if not answer.get("oauth_token") or not answer.get("oauth_token_secret"):
        raise mwoauth.OAuthException("the wiki gave no access token")
    return mwoauth.AccessToken(answer["oauth_token"][0], answer["oauth_token_secret"][0])


def identify(mw_uri: str, consumer: mwoauth.ConsumerToken, access: mwoauth.AccessToken,
             user_agent: str) -> dict[str, Any]:
    """Ask Special:OAuth/identify who the access token belongs to, and check the answer.

    Done here rather than with ``mwoauth.identify``: MediaWiki puts the numeric central user id in
    the JWT's ``sub`` claim, which PyJWT 2.10+ rejects ("Subject must be a string") unless told
    not to check it. Everything else that matters is checked: the HS256 signature with the
    consumer secret, the audience (our consumer key), ``exp``/``iat``, the issuer (the wiki we
    asked) and the nonce (the one we sent, so an old answer cannot be replayed)."""
    auth = OAuth1(consumer.key, client_secret=consumer.secret, resource_owner_key=access.key,
                  resource_owner_secret=access.secret)
    answer = _oauth_post(mw_uri, "Special:OAuth/identify", auth, user_agent)
    try:
        identity: dict[str, Any] = jwt.decode(
            answer.content, consumer.secret, audience=consumer.key, algorithms=["HS256"],
            leeway=CLOCK_LEEWAY, options={"verify_sub": False, "require": ["exp", "iat", "iss"]})
    except jwt.InvalidTokenError as error:
        raise mwoauth.OAuthException(f"identify answer not accepted: {type(error).__name__}") from None
    if urlsplit(str(identity["iss"])).netloc != urlsplit(mw_uri).netloc:
        raise mwoauth.OAuthException("identity issued by another wiki")
    header = answer.request.headers.get("Authorization", b"")
    sent = re.search(r'oauth_nonce="([^"]*)"', header.decode() if isinstance(header, bytes) else header)
    if sent is None or not hmac.compare_digest(str(identity.get("nonce", "")), sent.group(1)):
        raise mwoauth.OAuthException("identity nonce does not match the request")
    if not isinstance(identity.get("username"), str) or not identity["username"]:
        raise mwoauth.OAuthException("identity without a user name")
    return identity


def _failed(message: str, status: int = 502) -> tuple[str, int]:
    return render_template("login_error.html", message=message, version=__version__), status


@bp.get("/login")
def login() -> Any:
    consumer = _consumer()
    if consumer is None:
        return _failed("Login is not configured on this installation.", 503)
    token, mw_uri = consumer
    callback = (current_app.config.get("OAUTH") or {}).get("callback", "oob")
    try:
        redirect_to, request_token = initiate(mw_uri, token, callback, _user_agent())
    except (mwoauth.OAuthException, requests.RequestException) as error:
        log.warning("OAuth initiate failed: %s", type(error).__name__)
        return _failed("The wiki did not start the login; please try again later.")
    session["oauth_request"] = [request_token.key, request_token.secret]
    session["login_next"] = _safe_next(request.args.get("next"))
    return redirect(redirect_to)


@bp.get("/oauth-callback")
def oauth_callback() -> Any:
    consumer = _consumer()
    pending = session.pop("oauth_request", None)
    if consumer is None or not isinstance(pending, list) or len(pending) != 2:
        return _failed("No login was in progress; start again from the login link.", 400)
    token, mw_uri = consumer
    try:
        access = complete(mw_uri, token, mwoauth.RequestToken(*pending), request.args.to_dict(),
                          _user_agent())
        identity = identify(mw_uri, token, access, _user_agent())
    except (mwoauth.OAuthException, requests.RequestException, KeyError, TypeError) as error:
        log.warning("OAuth completion failed: %s", type(error).__name__)
        return _failed("The wiki did not confirm the login; please try again.")
    if identity.get("blocked"):
        return _failed("Blocked accounts cannot log in to this tool.", 403)
    target = _safe_next(session.pop("login_next", None))
    # A fresh session on login: nothing set before it (a planted token) carries over.
    session.clear()
    session["user"] = str(identity["username"])
    return redirect(target)


@bp.post("/logout")
def logout() -> Any:
    check_csrf()
    session.clear()
    return redirect(url_for("pages.index"))


@bp.get("/login-status")
def login_status() -> Any:
    """Who is logged in, as a page (also where the header's login link leads after logging in)."""
    return render_template("login.html", user=current_user(), version=__version__)
