# SPDX-License-Identifier: GPL-3.0-or-later
"""The deploy command's edit of MediaWiki:Gadgets-definition, without a wiki."""

from __future__ import annotations

from pathlib import Path

import pytest

from suggest.deploy import DeployError, definition_line, gadget_pages, with_definition

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


def test_the_committed_gadget_files_make_the_pages() -> None:
    pages = gadget_pages()
    assert set(pages) == {"MediaWiki:Gadget-wiki-suggest.js", "MediaWiki:Gadget-wiki-suggest.css",
                          "MediaWiki:Gadget-wiki-suggest"}
    assert "mw.libs.wikiSuggest" in pages["MediaWiki:Gadget-wiki-suggest.js"]
    assert definition_line().startswith("* wiki-suggest[ResourceLoader|")
    assert "|default" not in definition_line() and "default|" not in definition_line()


def test_missing_files_are_a_deploy_error(tmp_path: Path) -> None:
    with pytest.raises(DeployError, match="cannot read the built gadget"):
        gadget_pages(tmp_path)
