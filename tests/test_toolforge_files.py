# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment files parse, name commands that exist and agree with the code."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from suggest.config import DEFAULTS, load_config
from tests.reliability.helpers import free_port, listening_sockets, wait_for_listeners, worker_pids

ROOT = Path(__file__).resolve().parents[1]
TOOLFORGE = ROOT / "toolforge"


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            assert re.fullmatch(r"[a-z][a-z0-9_-]*", name), line
            processes[name] = shlex.split(command)
    return processes


def flask_commands(app: Any) -> set[str]:
    return set(app.cli.list_commands(app.app_context()))


def test_procfile_runs_gunicorn_on_port_8000_with_the_app(app: Any) -> None:
    web = procfile()["web"]
    assert web[0] == "gunicorn"
    bind = web[web.index("--bind") + 1]
    assert bind == "0.0.0.0:8000"
    target = web[-1]
    module, attribute = target.split(":")
    assert (ROOT / f"{module}.py").is_file()
    assert "create_app()" in (ROOT / f"{module}.py").read_text() and attribute == "app"
    # gunicorn reads gunicorn.conf.py from the working directory: its access log has no IPs.
    conf = (ROOT / "gunicorn.conf.py").read_text()
    assert "access_log_format" in conf


def sockets_of(pid: int) -> set[str]:
    """Inodes of the sockets a process holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def start_procfile_web(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, Path]:
    """The Procfile's web command, on a free local port, logging to a file: (master, port, log)."""
    web = procfile()["web"]
    port = free_port()
    argv = [str(Path(sys.executable).with_name("gunicorn")), *web[1:]]
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": str(tmp_path / "run"),
           "TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}",
           "TOOL_BACKEND": "tfidf", "TOOL_SECRET_KEY": "procfile-test-secret",
           "WIKI_SUGGEST_CONFIG": str(tmp_path / "none.yaml")}
    log_path = tmp_path / "gunicorn.log"
    (tmp_path / "home").mkdir()
    (tmp_path / "run").mkdir()
    with open(log_path, "wb") as log:
        master = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return master, port, log_path


def stop_procfile_web(master: subprocess.Popen[bytes]) -> None:
    """Stop the server as Kubernetes stops a pod: SIGTERM, then SIGKILL after the grace period.

    A worker still loading (the hook after its start reads the dumps and the model) finishes
    that before it exits, and gunicorn's master waits up to its graceful timeout (30 s) for it;
    on a loaded machine that takes the whole 30 s, so waiting exactly as long raced it."""
    master.terminate()
    try:
        master.wait(timeout=45)
    except subprocess.TimeoutExpired:
        master.kill()
        master.wait(timeout=10)


class ProcfileWeb(NamedTuple):
    master: subprocess.Popen[bytes]
    port: int
    log_path: Path
    root: Path  # its $HOME is root / "home", its $XDG_RUNTIME_DIR root / "run"


@pytest.fixture(scope="module")
def procfile_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcfileWeb]:
    """The Procfile's web command, started once for the tests that look at the real server."""
    root = tmp_path_factory.mktemp("procfile")
    master, port, log_path = start_procfile_web(root)
    try:
        yield ProcfileWeb(master, port, log_path, root)
    finally:
        stop_procfile_web(master)


def test_procfile_workers_each_listen_on_their_own_socket(procfile_web: ProcfileWeb) -> None:
    """The Procfile's web command, started for real: with ``--reuse-port`` every worker binds its
    own socket, so the kernel spreads new connections over the workers. On one shared socket the
    first worker awake takes them: in ``make bench`` all 8 keep-alive connections sometimes landed
    on one worker, which then decided at about 60 % of the rate of an even split."""
    web = procfile()["web"]
    workers = int(web[web.index("--workers") + 1])
    master, port = procfile_web.master, procfile_web.port
    wait_for_listeners(port, workers)
    deadline = time.monotonic() + 60
    while True:  # workers bind one after the other
        children = worker_pids(master.pid)
        listening = listening_sockets(port)
        per_worker = [sockets_of(pid) & listening for pid in children]
        if (len(children) == workers and all(per_worker)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(children) == workers
    assert all(len(found) == 1 for found in per_worker), per_worker
    assert len(set().union(*per_worker)) == workers == len(listening)
    assert not sockets_of(master.pid) & listening  # the master holds none
    # No control socket (gunicornc): none in $XDG_RUNTIME_DIR, none in $HOME/.gunicorn.
    root = procfile_web.root
    assert not list((root / "run").iterdir()) and not (root / "home" / ".gunicorn").exists()


def test_procfile_gunicorn_logs_no_client_address(procfile_web: ProcfileWeb) -> None:
    """gunicorn's own error log names the client of a malformed request ("Invalid request from
    ip=...") and quotes a request line it cannot parse, query string and all; the Procfile's
    server, started for real, writes those lines without the address or the query."""
    import socket

    port, log_path = procfile_web.port, procfile_web.log_path
    wait_for_listeners(port, 1)
    unparsable = "GET /api/v1/suggestions?wiki=enwiki&user=Zoë_Editor HTTP/1.1\r\n\r\n".encode()
    for request in (b"GARBAGE LINE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", unparsable):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:  # a worker may still load
            conn.sendall(request)
            assert conn.recv(1024).startswith(b"HTTP/1.1 400")
    deadline = time.monotonic() + 10
    # The server runs on (the other test shares it): wait for the line of each request.
    text = log_path.read_text()
    while (text.count("Invalid") < 3 or "?[query]" not in text) and time.monotonic() < deadline:
        time.sleep(0.1)
        text = log_path.read_text()
    assert "Invalid request from ip=" in text  # the line is written,
    assert "127.0.0.1" not in text  # without the address
    assert "/api/v1/suggestions?[query]" in text and "Editor" not in text  # nor the query string


def test_service_template_parses_and_its_health_check_exists(client: Any) -> None:
    template = yaml.safe_load((TOOLFORGE / "service.template").read_text(encoding="utf-8"))
    assert template["type"] == "buildservice" and template["mount"] == "none"
    path = template["health-check-path"]
    assert path == "/healthz"
    response = client.get(path)
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_guide_commands_and_paths_exist(app: Any, client: Any) -> None:
    guide = (TOOLFORGE / "DEPLOY.md").read_text(encoding="utf-8")
    for step in ("toolforge build start", "toolforge webservice", "__wiki_suggest",
                 "toolforge envvars create", "OAuthConsumerRegistration", "Gadgets-definition",
                 "Procfile", "toolforge jobs"):
        assert step in guide, step
    named = set(re.findall(r"flask --app app ([a-z][a-z0-9-]*)", guide))
    jobs = TOOLFORGE / "jobs.yaml"
    if jobs.exists():
        for job in yaml.safe_load(jobs.read_text(encoding="utf-8")) or []:
            named |= set(re.findall(r"flask --app app ([a-z][a-z0-9-]*)", str(job.get("command", ""))))
    assert named, "the guide names no flask command"
    assert named <= flask_commands(app), named - flask_commands(app)
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for path in sorted(set(re.findall(r"wiki-suggest\.toolforge\.org(/[a-z./-]*[a-z])", guide))):
        assert path in rules, path
    assert "--health-check-path /healthz" in guide


def test_envvars_name_real_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (TOOLFORGE / "envvars.md").read_text(encoding="utf-8")
    names = set(re.findall(r"`(TOOL_[A-Z_]+)`", text))
    for required in ("TOOL_SECRET_KEY", "TOOL_DATABASE_URL", "TOOL_REDIS_URL", "TOOL_REDIS_KEY_PREFIX",
                     "TOOL_OAUTH"):
        assert required in names
    for name in names:  # a nested one (TOOL_WIKIS__ENWIKI__THRESHOLD) names a real setting first
        assert name.removeprefix("TOOL_").split("__")[0] in DEFAULTS, name
    assert "tools.db.svc.wikimedia.cloud" in text and "__wiki_suggest" in text
    # The documented JSON form reaches the code under the keys suggest.web.auth reads.
    from flask import Config

    monkeypatch.setenv("TOOL_OAUTH", '{"consumer_key": "k", "consumer_secret": "s", "mw_uri": "u"}')
    monkeypatch.setenv("TOOL_REDIS_KEY_PREFIX", "secret:")
    config = Config(str(ROOT))
    load_config(config)
    assert config["OAUTH"]["consumer_key"] == "k" and config["REDIS_KEY_PREFIX"] == "secret:"


def test_worker_start_loads_the_model_and_hides_it_from_the_garbage_collector(app: Any) -> None:
    """gunicorn's post_worker_init (gunicorn.conf.py) loads the backend, then freezes what is
    loaded, so full collections during requests do not scan it."""
    import gc
    import runpy
    from types import SimpleNamespace

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    service = app.extensions["wiki_suggest"]
    assert service._backend is None  # noqa: SLF001 - not loaded before the hook
    gc.unfreeze()
    try:
        conf["post_worker_init"](SimpleNamespace(wsgi=app, cfg=SimpleNamespace(reuse_port=False)))
        assert service._backend is not None  # noqa: SLF001
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_worker_start_hook_leaves_another_wsgi_application_alone() -> None:
    """The same settings serve the benchmark's plain WSGI floors: the hook has nothing to load
    for an application without the service (it used to fail the worker's start)."""
    import runpy
    from types import SimpleNamespace

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    def plain(environ: Any, start_response: Any) -> list[bytes]:
        return []

    no_reuse_port = SimpleNamespace(reuse_port=False)  # the worker listens on the master's socket
    assert conf["post_worker_init"](SimpleNamespace(wsgi=plain, cfg=no_reuse_port)) is None
