# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy the gadget to a wiki: ``flask deploy-gadget --wiki ID``.

Writes, through the wiki's action API:

* ``MediaWiki:Gadget-wiki-suggest.js`` and ``.css`` from ``gadget/dist/``,
* ``MediaWiki:Gadget-wiki-suggest``, the description shown in Preferences: the message
  ``wiki-suggest-gadget-description`` in the wiki's content language (English where
  ``gadget/i18n`` has no translation), and ``MediaWiki:Gadget-wiki-suggest/<lang>`` in every
  other language that has one, for users whose interface language it is,
* the gadget's line in ``MediaWiki:Gadgets-definition`` (from ``gadget/Gadgets-definition.txt``;
  an existing line of the gadget is replaced, every other line is kept).

The wiki is resolved only through the app's wiki registry: no URL is taken from the command line.
The account is a bot password (``Special:BotPasswords``) from the environment,
``WIKI_SUGGEST_DEPLOY_USER`` (``User@appid``) and ``WIKI_SUGGEST_DEPLOY_PASSWORD``; its user must
be an interface administrator, and the bot password needs the grants "Edit existing pages",
"Create, edit, and move pages", "Edit the MediaWiki namespace and sitewide/user JSON" and "Edit
sitewide and user CSS/JS" (``editpage``, ``createeditmovepage``, ``editinterface``,
``editsiteconfig``; the first run creates the pages). A page whose text is already the one to
deploy is not edited, so running the command twice makes no second edit.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import mwapi
import mwapi.errors
from flask import Flask, current_app
from flask.cli import with_appcontext

from suggest import __version__

GADGET_ID = "wiki-suggest"
GADGET_DIR = Path(__file__).resolve().parents[1] / "gadget"
DEFINITION_PAGE = "MediaWiki:Gadgets-definition"
DESCRIPTION_KEY = "wiki-suggest-gadget-description"
USER_ENV = "WIKI_SUGGEST_DEPLOY_USER"
PASSWORD_ENV = "WIKI_SUGGEST_DEPLOY_PASSWORD"
# A definition line of this gadget: "* wiki-suggest[options]|files" or "*wiki-suggest|files".
_OWN_LINE = re.compile(r"^\s*\*\s*" + re.escape(GADGET_ID) + r"\s*[\[|]")


class DeployError(RuntimeError):
    """The gadget could not be deployed (missing files, credentials, rights or API errors)."""


@dataclass(frozen=True)
class PageResult:
    title: str
    changed: bool
    revid: int | None = None


def gadget_pages(gadget_dir: Path = GADGET_DIR, content_lang: str = "en") -> dict[str, str]:
    """The pages of the gadget itself: title -> text (the definition line is separate)."""
    dist = gadget_dir / "dist"
    try:
        script = (dist / "wiki-suggest.js").read_text(encoding="utf-8")
        style = (dist / "wiki-suggest.css").read_text(encoding="utf-8")
        descriptions = _descriptions(gadget_dir / "i18n")
    except (OSError, ValueError) as error:
        raise DeployError(f"cannot read the built gadget in {gadget_dir}: {error}") from error
    if "en" not in descriptions:
        raise DeployError(f"{DESCRIPTION_KEY} is missing from gadget/i18n/en.json")
    name = f"MediaWiki:Gadget-{GADGET_ID}"
    pages = {f"{name}.js": script, f"{name}.css": style,
             name: descriptions.get(content_lang, descriptions["en"])}
    for lang, text in sorted(descriptions.items()):
        if lang != content_lang:
            pages[f"{name}/{lang}"] = text
    return pages


def _descriptions(i18n: Path) -> dict[str, str]:
    """The gadget's description by language code, from the message files that translate it."""
    found = {}
    for path in sorted(i18n.glob("*.json")):
        text = json.loads(path.read_text(encoding="utf-8")).get(DESCRIPTION_KEY)
        if path.stem != "qqq" and isinstance(text, str) and text:
            found[path.stem] = text
    return found


def definition_line(gadget_dir: Path = GADGET_DIR) -> str:
    lines = [line for line in (gadget_dir / "Gadgets-definition.txt").read_text(
        encoding="utf-8").splitlines() if _OWN_LINE.match(line)]
    if len(lines) != 1:
        raise DeployError("gadget/Gadgets-definition.txt must hold exactly one line of the gadget")
    return lines[0].strip()


def with_definition(current: str, line: str) -> str:
    """``current`` with the gadget's line replaced by ``line`` (or appended); other lines kept."""
    lines = current.splitlines()
    own = [i for i, text in enumerate(lines) if _OWN_LINE.match(text)]
    if own:
        lines[own[0]] = line
        lines = [text for i, text in enumerate(lines) if i not in own[1:]]
    else:
        while lines and not lines[-1].strip():
            lines.pop()
        lines.append(line)
    return "\n".join(lines) + "\n"


def _same(a: str, b: str) -> bool:
    # MediaWiki drops trailing whitespace when it saves a page.
    return a.rstrip() == b.rstrip()


def login(session: mwapi.Session, user: str, password: str) -> str:
    """Log in with a bot password (``action=login``; ``clientlogin`` refuses bot passwords)."""
    tokens = session.get(action="query", meta="tokens", type="login")
    answer = session.post(action="login", lgname=user, lgpassword=password,
                          lgtoken=tokens["query"]["tokens"]["logintoken"])["login"]
    if answer.get("result") != "Success":
        raise DeployError(f"login as {user!r} failed: {answer.get('reason') or answer.get('result')}")
    return str(answer.get("lgusername", user))


def current_texts(session: mwapi.Session, titles: list[str]) -> dict[str, tuple[str, str] | None]:
    """The text and revision timestamp of each page now (None when it does not exist)."""
    doc = session.get(action="query", prop="revisions", rvprop="content|timestamp", rvslots="main",
                      titles="|".join(titles))
    found: dict[str, tuple[str, str] | None] = dict.fromkeys(titles)
    normalized = {n["from"]: n["to"] for n in doc["query"].get("normalized", [])}
    by_title = {page["title"]: page for page in doc["query"].get("pages", [])}
    for title in titles:
        page = by_title.get(normalized.get(title, title), {})
        revisions = page.get("revisions") or []
        if revisions:
            found[title] = (revisions[0]["slots"]["main"]["content"], revisions[0]["timestamp"])
    return found


def deploy(session: mwapi.Session, gadget_dir: Path = GADGET_DIR,
           version: str = __version__, content_lang: str = "en") -> list[PageResult]:
    """Write the gadget's pages with a logged-in ``session``; only pages that differ are edited."""
    pages = gadget_pages(gadget_dir, content_lang)
    now = current_texts(session, [*pages, DEFINITION_PAGE])
    definition = now[DEFINITION_PAGE]
    pages[DEFINITION_PAGE] = with_definition(definition[0] if definition else "",
                                             definition_line(gadget_dir))
    summary = f"Deploy the {GADGET_ID} gadget, version {version}"
    token: str | None = None
    results = []
    for title, text in pages.items():
        before = now[title]
        if before is not None and _same(before[0], text):
            results.append(PageResult(title, changed=False))
            continue
        if token is None:
            token = session.get(action="query", meta="tokens", type="csrf")["query"]["tokens"]["csrftoken"]
        # Someone else's edit since we read the page is an edit conflict, not overwritten;
        # a page that did not exist must still not exist.
        base = {"basetimestamp": before[1]} if before else {"createonly": 1}
        try:
            answer: dict[str, Any] = session.post(action="edit", title=title, text=text,
                                                  summary=summary, bot=1, token=token, **base)["edit"]
        except mwapi.errors.APIError as error:
            raise DeployError(f"editing {title} failed: {error.code}: {error.info}") from error
        if answer.get("result") != "Success":
            raise DeployError(f"editing {title} failed: {answer}")
        results.append(PageResult(title, changed="nochange" not in answer,
                                  revid=answer.get("newrevid")))
    return results


def deploy_to_wiki(wiki_id: str, user: str, password: str) -> list[PageResult]:
    """Resolve ``wiki_id`` through the app's registry, log in and deploy (needs an app context)."""
    from suggest.wiki.api_source import make_session
    from suggest.wiki.registry import UnknownWiki

    service = current_app.extensions["wiki_suggest"]
    try:
        wiki = service.registry.get(wiki_id)
    except UnknownWiki:
        raise DeployError(f"unknown wiki {wiki_id!r}: not in the wiki registry") from None
    if not wiki.api_url:
        raise DeployError(f"wiki {wiki_id!r} has no action API (a dump wiki cannot take a gadget)")
    session = make_session(wiki, service.user_agent, float(current_app.config["WIKI_TIMEOUT"]))
    try:
        login(session, user, password)
        return deploy(session, content_lang=wiki.lang)
    except (mwapi.errors.APIError, mwapi.errors.ConnectionError, mwapi.errors.HTTPError,
            mwapi.errors.TimeoutError, mwapi.errors.RequestError) as error:
        raise DeployError(f"{wiki_id}: {type(error).__name__}: {error}") from error


@click.command("deploy-gadget")
@click.option("--wiki", "wiki_id", required=True, help="Wiki id from the registry, e.g. enwiki.")
@with_appcontext
def deploy_gadget_command(wiki_id: str) -> None:
    """Write the gadget's pages to a wiki (bot password from WIKI_SUGGEST_DEPLOY_USER/_PASSWORD)."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if not user or not password:
        raise click.ClickException(f"set {USER_ENV} (User@appid) and {PASSWORD_ENV} (a bot password)")
    try:
        results = deploy_to_wiki(wiki_id, user, password)
    except DeployError as error:
        raise click.ClickException(str(error)) from None
    for result in results:
        state = f"edited (revision {result.revid})" if result.changed else "unchanged"
        click.echo(f"{result.title}: {state}")


def register(app: Flask) -> None:
    app.cli.add_command(deploy_gadget_command)
