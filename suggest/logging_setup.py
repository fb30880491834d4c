"""Logging that never records who is asking: no IP addresses, no user agents, no user names.

Toolforge tools sit behind a proxy and should keep no personal data beyond OAuth user names, and
not even those in logs. The service's own log lines never contain request headers or bodies (the
privacy tests check that); as a second line of defence :class:`RedactingFilter` replaces anything
that looks like an IPv4 or IPv6 address in any log line with ``[ip]``.

Access logs: gunicorn's format below leaves out ``%(h)s`` (client address), ``%(a)s`` (user agent),
``%(f)s`` (referer), ``%(r)s`` and ``%(q)s`` (the query string), and gunicorn's logger class
(:mod:`suggest.access_log`) does not even offer those fields to the format; the Flask development
server's access log (which starts with the client's address) is silenced.
"""

from __future__ import annotations

import ipaddress
import logging
import re

# Method, path without query string, status, size, duration.
GUNICORN_ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(b)s %(M)sms"
# The placeholders that would record who is asking or what they typed.
GUNICORN_FORBIDDEN = ("%(h)s", "%(a)s", "%(f)s", "%(r)s", "%(q)s", "%({x-forwarded-for}i)s")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Candidates, then checked with ipaddress (so times like 08:12:26 and versions stay).
_IPV4 = r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)"
_IPV6 = r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f.]{0,15}){2,7}(?:%\w+)?(?![\w:])"
ADDRESS = re.compile(f"{_IPV4}|{_IPV6}")


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _replace(match: re.Match[str]) -> str:
    found = match.group(0)
    core = found.rstrip(".")  # the full stop after an address ends the sentence
    return "[ip]" + found[len(core):] if _is_address(core) else found


def redact(text: str) -> str:
    return ADDRESS.sub(_replace, text)


# A query string in a request line or URL that a server's own message quotes (gunicorn writes the
# whole line of a request it cannot parse): it may carry a user name or a page title.
QUERY = re.compile(r"\?[^\s'\"]+")


def redact_queries(text: str) -> str:
    return QUERY.sub("?[query]", text)


class RedactingFilter(logging.Filter):
    """Replaces IP addresses in the formatted message (and drops the arguments it came from) and
    in the traceback of an exception logged with it (a driver's error names the address it could
    not reach)."""

    def clean(self, message: str) -> str:
        return redact(message)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken log call must not break the request
            return True
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set: the traceback, already redacted.
            record.exc_text = redact(_TRACEBACKS.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class ServerLogFilter(RedactingFilter):
    """For the WSGI server's own error log: addresses as :class:`RedactingFilter`, and the query
    strings of the request lines it quotes."""

    def clean(self, message: str) -> str:
        return redact_queries(redact(message))


_TRACEBACKS = logging.Formatter()


def configure(level: int | str = logging.INFO) -> None:
    """Root logging to stderr through the redacting filter, unless the root logger already has
    handlers (a test runner's, or an embedding application's): those are left alone."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
        root.setLevel(level)
    # The development server's access log starts every line with the client's IP address.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
