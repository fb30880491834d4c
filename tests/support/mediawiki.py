# SPDX-License-Identifier: GPL-3.0-or-later
"""A real, throw-away MediaWiki 1.39 for end-to-end tests.

Debian's ``mediawiki`` package runs here with SQLite under PHP's built-in web
server: no Apache, no database server. Each wiki lives in its own state
directory (LocalSettings.php, SQLite files, server log); ``MW_CONFIG_FILE``
points the web server and every maintenance script at it, so nothing is
written to /etc or /var/lib.

Typical use (the pytest fixtures in ``tests.conftest_mediawiki`` do this)::

    wiki = LocalMediaWiki(tmp_path / "enwiki", lang="en")
    wiki.install()
    wiki.start()
    wiki.import_xml(Path("tests/fixtures/dumps/enwiki-sample.xml"))
    ...
    wiki.stop()
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

MEDIAWIKI_DIR = Path("/usr/share/mediawiki")
PHP = "php"
EXTENSIONS = ("Gadgets", "WikiEditor", "Cite", "ParserFunctions")
INSTALL_SCRIPT = Path(__file__).with_name("install_mediawiki_packages.sh")

# Groups createAndPromote.php has a flag for; any other group goes to --custom-groups.
_PROMOTE_FLAGS = ("sysop", "bureaucrat", "interface-admin", "bot")

# Appended to the installer's LocalSettings.php. Each line fixes a problem
# that tests hit against a default install.
TEST_SETTINGS = """
# --- settings for automated tests ---
# A quick reload after a change must not get a stale 304 (1-second Last-Modified).
$wgCachePages = false;
# The startup module would otherwise cache gadget versions for 5 minutes.
$wgResourceLoaderMaxage['unversioned'] = 0;
# Tests log in and edit many times in a few seconds.
$wgPasswordAttemptThrottle = [];
$wgGroupPermissions['user']['noratelimit'] = true;
$wgGroupPermissions['sysop']['noratelimit'] = true;
# Test clients log in with bot passwords (the OAuth extension is not packaged).
$wgEnableBotPasswords = true;
$wgShowExceptionDetails = true;
"""


# Servers still running when the interpreter exits (a crashed script, an
# interrupted test run) are stopped then, so no php -S outlives its owner.
_RUNNING: set[LocalMediaWiki] = set()


@atexit.register
def _stop_all() -> None:
    for wiki in list(_RUNNING):
        wiki.stop()


class MediaWikiError(RuntimeError):
    """A maintenance script or the web server failed."""


class MediaWikiUnavailable(MediaWikiError):
    """The Debian packages MediaWiki needs are missing and could not be installed."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _live_group_members(pgid: int) -> list[int]:
    """Pids in process group ``pgid`` that are not zombies.

    The workers are reparented to PID 1 when the server dies, and some init
    processes reap zombies only every second or so; a zombie holds no port.
    """
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            pids.append(int(stat.parent.name))
    return pids


def packages_ready() -> bool:
    """True when MediaWiki and PHP are installed (the browser is checked separately)."""
    installer = MEDIAWIKI_DIR / "maintenance" / "install.php"
    return installer.exists() and shutil.which(PHP) is not None


def ensure_packages() -> None:
    """Install the Debian packages if missing; raise MediaWikiUnavailable on failure."""
    browser = (Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver"))
    if packages_ready() and all(p.exists() for p in browser):
        return
    result = subprocess.run(
        ["sh", str(INSTALL_SCRIPT)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not packages_ready():
        raise MediaWikiUnavailable(
            f"Could not install the MediaWiki test packages with {INSTALL_SCRIPT} "
            f"(exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )


class LocalMediaWiki:
    """One MediaWiki installation in ``state_dir``, served on 127.0.0.1:``port``."""

    admin_user = "Admin"
    admin_password = "Admin-password-for-tests-1"

    def __init__(self, state_dir: Path, lang: str = "en", port: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.lang = lang
        self.port = port if port is not None else free_port()
        self.dbname = f"{lang.replace('-', '_')}testwiki"
        self._server: subprocess.Popen[bytes] | None = None
        self._log = None

    # --- addresses -------------------------------------------------------

    @property
    def url(self) -> str:
        """The origin, exactly as ``$wgServer`` has it (browsers must use the same)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.url}/index.php"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "LocalSettings.php"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    def page_url(self, title: str, **params: str) -> str:
        """URL of index.php for ``title`` (e.g. ``action="edit"``)."""
        from urllib.parse import urlencode

        return f"{self.index_url}?{urlencode({'title': title, **params})}"

    # --- installation ----------------------------------------------------

    @property
    def installed(self) -> bool:
        return self.config_file.exists() and (self.data_dir / f"{self.dbname}.sqlite").exists()

    def install(self, template_dir: Path | None = None) -> None:
        """Create the wiki with install.php (SQLite in ``state_dir``).

        With ``template_dir``, a wiki installed once there (same language) is
        copied instead of running the installer again; the template is made
        on first use.
        """
        if self.installed:
            raise MediaWikiError(f"a wiki is already installed in {self.state_dir}")
        if template_dir is not None:
            template = LocalMediaWiki(template_dir, lang=self.lang, port=self.port)
            if not template.installed:
                template.install()
            self._copy_from(template)
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._run(
            [
                PHP,
                "maintenance/install.php",
                "--dbtype=sqlite",
                f"--dbpath={self.data_dir}",
                f"--dbname={self.dbname}",
                f"--server={self.url}",
                "--scriptpath=",
                f"--lang={self.lang}",
                f"--pass={self.admin_password}",
                f"--confpath={self.state_dir}",
                f"--extensions={','.join(EXTENSIONS)}",
                "--skins=Vector",
                f"TestWiki {self.lang}",
                self.admin_user,
            ]
        )
        settings = self.config_file.read_text(encoding="utf-8")
        # Make the file relocatable so an installed wiki can serve as a template.
        settings = settings.replace(
            f'$wgSQLiteDataDir = "{self.data_dir}";', "$wgSQLiteDataDir = __DIR__ . '/data';"
        )
        settings = settings.replace(
            f'$wgServer = "{self.url}";', "$wgServer = $wikiSuggestTestServer;"
        )
        self.config_file.write_text(settings + TEST_SETTINGS, encoding="utf-8")
        self._write_server_setting()

    def _copy_from(self, template: LocalMediaWiki) -> None:
        shutil.copytree(
            template.state_dir,
            self.state_dir,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("server.log", "server.php"),
        )
        self._write_server_setting()

    def _write_server_setting(self) -> None:
        # $wgServer must be exactly the origin the browser uses (no localhost/127.0.0.1 mix).
        # It lives in its own file, included first, so a copied wiki only rewrites this.
        (self.state_dir / "server.php").write_text(
            f"<?php\n$wikiSuggestTestServer = '{self.url}';\n", encoding="utf-8"
        )
        settings = self.config_file.read_text(encoding="utf-8")
        include = "require_once __DIR__ . '/server.php';\n"
        if include not in settings:
            settings = settings.replace("<?php\n", "<?php\n" + include, 1)
            self.config_file.write_text(settings, encoding="utf-8")

    def append_settings(self, php_code: str) -> None:
        """Append PHP to LocalSettings.php (takes effect on the next request)."""
        with self.config_file.open("a", encoding="utf-8") as f:
            f.write("\n" + php_code.strip() + "\n")

    # --- web server ------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        """Serve the wiki with ``php -S`` (4 workers) and wait until api.php answers."""
        if self.running:
            return
        if not self.installed:
            raise MediaWikiError(f"no wiki installed in {self.state_dir}; call install() first")
        if port_is_open(self.port):
            raise MediaWikiError(f"port {self.port} is already in use")
        self._log = self.log_file.open("ab")
        self._server = subprocess.Popen(
            [PHP, "-S", f"127.0.0.1:{self.port}", "-t", str(MEDIAWIKI_DIR)],
            cwd=MEDIAWIKI_DIR,
            env=self._env(PHP_CLI_SERVER_WORKERS="4"),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # A new session and process group: stop() kills the workers too.
            start_new_session=True,
        )
        _RUNNING.add(self)
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                break
            try:
                info = self.api_get(action="query", meta="siteinfo")
                if "query" in info:
                    return
            except (OSError, ValueError) as e:
                last_error = e
            time.sleep(0.1)
        log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
        self.stop()
        raise MediaWikiError(
            f"MediaWiki did not answer on {self.api_url} within {timeout} s "
            f"(last error: {last_error}); server log:\n{log}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Kill the server's whole process group; the workers would keep the port otherwise."""
        server, self._server = self._server, None
        _RUNNING.discard(self)
        if server is not None:
            # Workers take over a second to honour SIGTERM; a throw-away test wiki
            # gets a short grace period, then SIGKILL (SQLite recovers its journal).
            for sig, grace in ((signal.SIGTERM, 0.3), (signal.SIGKILL, timeout)):
                try:
                    os.killpg(server.pid, sig)
                except ProcessLookupError:
                    break
                if self._wait_for_group(server, grace):
                    break
            else:
                raise MediaWikiError(f"php -S (pid {server.pid}) survived SIGKILL")
        if self._log is not None:
            self._log.close()
            self._log = None

    @staticmethod
    def _wait_for_group(server: subprocess.Popen[bytes], timeout: float) -> bool:
        """Wait until no live process of the server's group is left; False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            server.poll()  # reap the parent
            if not _live_group_members(server.pid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def __enter__(self) -> LocalMediaWiki:
        if not self.installed:
            self.install()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- HTTP API (stdlib only, for the fixture itself) ------------------

    def api_get(self, **params: str) -> dict:
        """GET api.php with ``format=json`` and return the decoded answer."""
        from urllib.parse import urlencode

        query = urlencode({**params, "format": "json", "formatversion": "2"})
        with urllib.request.urlopen(f"{self.api_url}?{query}", timeout=10) as r:
            return json.loads(r.read().decode("utf-8"))

    # --- maintenance scripts ---------------------------------------------

    def _env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["MW_CONFIG_FILE"] = str(self.config_file)
        env.update(extra)
        return env

    def _run(self, argv: Sequence[str], input_text: str | None = None) -> str:
        result = subprocess.run(
            list(argv),
            cwd=MEDIAWIKI_DIR,
            env=self._env(),
            input=input_text,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise MediaWikiError(
                f"{' '.join(argv[:2])} failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result.stdout

    def php(self, script: str, *args: str, input_text: str | None = None) -> str:
        """Run ``maintenance/<script>`` (``.php`` optional) for this wiki; return its output."""
        if not script.endswith(".php"):
            script += ".php"
        if "/" not in script:
            script = f"maintenance/{script}"
        return self._run([PHP, script, *args], input_text=input_text)

    def import_xml(self, path: Path | str) -> str:
        """Import a MediaWiki export file, then run the job queue.

        Page and revision ids are renumbered; authors are prefixed ``imported>``.
        """
        out = self.php("importDump.php", "--username-prefix=imported", str(Path(path).resolve()))
        self.run_jobs()
        self.create_category_pages()
        return out

    def create_category_pages(self, text: str = "A category of the test wiki.") -> list[str]:
        """Give every category that has members but no page a page, as categories on a live wiki
        have (the categories task leaves red-linked ones out). Returns the titles created."""
        from xml.sax.saxutils import escape

        missing: list[str] = []
        params = {"action": "query", "generator": "allcategories", "gaclimit": "max", "prop": "info"}
        while True:
            answer = self.api_get(**params)
            missing += [p["title"] for p in answer.get("query", {}).get("pages", []) if p.get("missing")]
            if "continue" not in answer:
                break
            params.update(answer["continue"])
        if missing:
            pages = "".join(f"<page><title>{escape(t)}</title><ns>14</ns><revision>"
                            f"<text>{escape(text)}</text></revision></page>" for t in missing)
            export = self.data_dir / "category-pages.xml"
            export.write_text('<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" '
                              f'version="0.10">{pages}</mediawiki>', encoding="utf-8")
            self.php("importDump.php", "--username-prefix=imported", str(export))
            self.run_jobs()
        return missing

    def run_jobs(self) -> str:
        return self.php("runJobs.php", "--memory-limit=max")

    def edit(self, title: str, text: str, summary: str = "", user: str | None = None) -> str:
        """Save ``text`` as a new revision of ``title`` (edit.php checks no rights)."""
        return self.php(
            "edit.php",
            f"--user={user or self.admin_user}",
            f"--summary={summary}",
            title,
            input_text=text,
        )

    def create_user(self, name: str, password: str, groups: Iterable[str] = ()) -> None:
        """Create an account (or update an existing one) and add it to ``groups``."""
        flags = [f"--{g}" for g in groups if g in _PROMOTE_FLAGS]
        custom = [g for g in groups if g not in _PROMOTE_FLAGS]
        if custom:
            flags.append(f"--custom-groups={','.join(custom)}")
        self.php("createAndPromote.php", "--force", *flags, name, password)

    def create_bot_password(
        self,
        user: str,
        appid: str,
        grants: Iterable[str] = ("basic", "highvolume", "editpage"),
        password: str | None = None,
    ) -> tuple[str, str]:
        """Create a bot password; return ``(login_name, password)`` for action=login/clientlogin."""
        args = [f"--appid={appid}", f"--grants={','.join(grants)}", user]
        if password is not None:
            args.append(password)
        out = self.php("createBotPassword.php", *args)
        marker = "and password:'"
        if marker not in out:
            raise MediaWikiError(f"unexpected createBotPassword.php output: {out!r}")
        secret = out.split(marker, 1)[1].split("'", 1)[0]
        return f"{user}@{appid}", secret
