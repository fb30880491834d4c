# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy command's edit of MediaWiki:Gadgets-definition, without a wiki."""

from __future__ import annotations

from pathlib import Path

import pytest

from suggest.deploy import DeployError, definition_line, deploy, gadget_pages, with_definition

LINE = "* wiki-suggest[ResourceLoader|dependencies=mediawiki.util|actions=edit]|wiki-suggest.js"


def test_the_line_is_appended_and_other_lines_are_kept() -> None:
    current = "== editing ==\n* HotCat[ResourceLoader]|HotCat.js\n\n"
    assert with_definition(current, LINE) == (
        "== editing ==\n* HotCat[ResourceLoader]|HotCat.js\n" + LINE + "\n")
    assert with_definition("", LINE) == LINE + "\n"


def test_an_old_line_is_replaced_in_place_and_duplicates_dropped() -> None:
    current = ("== a ==\n*wiki-suggest|old.js\n* wiki-suggest-other|x.js\n== b ==\n"
               "* wiki-suggest [ResourceLoader]|older.js\n* Other|o.js\n")
    assert with_definition(current, LINE) == (
        f"== a ==\n{LINE}\n* wiki-suggest-other|x.js\n== b ==\n* Other|o.js\n")
    # Idempotent: applying it again changes nothing.
    assert with_definition(with_definition(current, LINE), LINE) == with_definition(current, LINE)


DESCRIPTIONS = {f"MediaWiki:Gadget-wiki-suggest/{lang}" for lang in ("bn", "ja", "uk", "vi")}


def test_the_committed_gadget_files_make_the_pages() -> None:
    pages = gadget_pages()
    assert set(pages) == {"MediaWiki:Gadget-wiki-suggest.js", "MediaWiki:Gadget-wiki-suggest.css",
                          "MediaWiki:Gadget-wiki-suggest", *DESCRIPTIONS}
    assert pages["MediaWiki:Gadget-wiki-suggest"].startswith("wiki-suggest: machine-suggested")
    assert pages["MediaWiki:Gadget-wiki-suggest/uk"].startswith("wiki-suggest: автоматично")
    # On a wiki whose content language is Ukrainian the page itself is in Ukrainian, and
    # English is a translation (MediaWiki reads MediaWiki:X in the content language).
    on_ukwiki = gadget_pages(content_lang="uk")
    assert on_ukwiki["MediaWiki:Gadget-wiki-suggest"] == pages["MediaWiki:Gadget-wiki-suggest/uk"]
    assert on_ukwiki["MediaWiki:Gadget-wiki-suggest/en"] == pages["MediaWiki:Gadget-wiki-suggest"]
    assert "MediaWiki:Gadget-wiki-suggest/uk" not in on_ukwiki
    # A content language without a translation gets English.
    on_dewiki = gadget_pages(content_lang="de")
    assert on_dewiki["MediaWiki:Gadget-wiki-suggest"] == pages["MediaWiki:Gadget-wiki-suggest"]
    assert "mw.libs.wikiSuggest" in pages["MediaWiki:Gadget-wiki-suggest.js"]
    assert definition_line().startswith("* wiki-suggest[ResourceLoader|")
    assert "|default" not in definition_line() and "default|" not in definition_line()


def test_missing_files_are_a_deploy_error(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="cannot read the built gadget"):
        gadget_pages(tmp_path)


class RecordingSession:
    """Answers the reads of deploy() from ``pages`` and records its edits."""

    def __init__(self, pages: dict[str, str]) -> None:
        self.pages = pages
        self.edits: list[dict[str, object]] = []

    def get(self, **params: str) -> dict:
        if params.get("meta") == "tokens":
            return {"query": {"tokens": {"csrftoken": "token+\\"}}}
        answer = []
        for title in params["titles"].split("|"):
            if title in self.pages:
                answer.append({"title": title, "revisions": [{
                    "timestamp": "2024-01-02T03:04:05Z",
                    "slots": {"main": {"content": self.pages[title]}}}]})
            else:
                answer.append({"title": title, "missing": True})
        return {"query": {"pages": answer}}

    def post(self, **params: object) -> dict:
        self.edits.append(params)
        return {"edit": {"result": "Success", "newrevid": len(self.edits)}}


def test_only_changed_pages_are_edited_and_never_blindly() -> None:
    pages = gadget_pages()
    wiki = RecordingSession({
        # Unchanged apart from the trailing newline MediaWiki strips: not edited.
        "MediaWiki:Gadget-wiki-suggest.js": pages["MediaWiki:Gadget-wiki-suggest.js"].rstrip(),
        "MediaWiki:Gadget-wiki-suggest.css": "/* old */",
        "MediaWiki:Gadgets-definition": "* Other|o.js\n*wiki-suggest|old.js\n",
    })
    results = deploy(wiki, version="9.8.7")  # type: ignore[arg-type]
    assert [(r.title, r.changed) for r in results] == [
        ("MediaWiki:Gadget-wiki-suggest.js", False), ("MediaWiki:Gadget-wiki-suggest.css", True),
        ("MediaWiki:Gadget-wiki-suggest", True), *((title, True) for title in sorted(DESCRIPTIONS)),
        ("MediaWiki:Gadgets-definition", True)]
    css, description, *translations, definition = wiki.edits
    assert [edit["title"] for edit in translations] == sorted(DESCRIPTIONS)
    assert css["basetimestamp"] == "2024-01-02T03:04:05Z" and "createonly" not in css
    assert description["createonly"] == 1 and "basetimestamp" not in description
    assert definition["text"] == f"* Other|o.js\n{definition_line()}\n"
    for edit in wiki.edits:
        assert edit["bot"] == 1 and edit["token"] == "token+\\"
        assert edit["summary"] == "Deploy the wiki-suggest gadget, version 9.8.7"
