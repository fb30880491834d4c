"""The pages' own stylesheets and scripts: served by the tool (no CDN), and part of the repository,
since the Toolforge build service builds from a clone and runs no npm."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "suggest" / "web" / "static"
PAGES = ("/", "/stats", "/toolcard", "/data")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        url = found.get("href") if tag == "link" else found.get("src") if tag in ("script", "img") else None
        if url and (tag != "link" or found.get("rel") == "stylesheet"):
            self.urls.append(url)


def page_assets(client: Any) -> set[str]:
    urls: set[str] = set()
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        parser = _Assets()
        parser.feed(response.get_data(as_text=True))
        urls.update(parser.urls)
    return urls


def test_every_stylesheet_and_script_of_the_pages_is_served_by_the_tool(client: Any) -> None:
    urls = page_assets(client)
    assert "/static/codex.style.css" in urls
    for url in urls:
        assert url.startswith("/static/"), f"{url}: the tool serves its own assets"
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.get_data()) > 0, url


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_the_served_assets_are_committed(client: Any) -> None:
    """A file made only by the Makefile would be missing from the image Toolforge builds."""
    for url in page_assets(client):
        path = STATIC / url.removeprefix("/static/")
        listed = subprocess.run(["git", "ls-files", "--error-unmatch", str(path.relative_to(ROOT))],
                                cwd=ROOT, capture_output=True, text=True, check=False)
        assert listed.returncode == 0, f"{path.relative_to(ROOT)} is not committed"


def test_the_committed_codex_is_the_version_package_json_pins() -> None:
    installed = ROOT / "node_modules" / "@wikimedia" / "codex"
    assert installed.is_dir(), "make test installs node_modules (npm ci)"
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["@wikimedia/codex"]
    assert json.loads((installed / "package.json").read_text())["version"] == pinned
    built = (installed / "dist" / "codex.style.css").read_bytes()
    assert (STATIC / "codex.style.css").read_bytes() == built, "run `make codex` after a new version"
