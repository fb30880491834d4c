"""A worker that replaces a killed one takes no connections before it is ready.

gunicorn with ``--reuse-port`` (the Procfile) gives every worker a listening socket of its own,
and the kernel deals each new connection to one of them. The replacement of a killed worker
starts by importing the service and preloading the model and the dump wikis (several seconds
here). Every new connection must meanwhile go to the worker that is still up and be answered at
once, and the replacement must listen once it is ready.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import dump_wikis
from tests.reliability.helpers import (
    free_port,
    listening_sockets,
    wait_for_listeners,
    wait_until,
    worker_pids,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_a_replacement_worker_listens_only_when_ready(tmp_path: Path) -> None:
    env = {**os.environ,
           "TOOL_DATABASE_URL": f"sqlite:///{tmp_path / 'events.sqlite3'}", "TOOL_BACKEND": "tfidf",
           "TOOL_DUMP_WIKIS": json.dumps(dump_wikis()), "TOOL_SECRET_KEY": "restart-test-secret",
           "TOOL_RATE_LIMITS": json.dumps({"enabled": False}),
           "WIKI_SUGGEST_CONFIG": str(tmp_path / "none.yaml")}
    port = free_port()
    with open(tmp_path / "gunicorn.log", "wb") as log:
        master = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
             "--workers", "2", "--threads", "2", "--reuse-port", "--bind", f"127.0.0.1:{port}",
             "app:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_listeners(port, 2)
        first = worker_pids(master.pid)
        assert len(first) == 2
        killed_at = time.monotonic()
        os.kill(first[0], signal.SIGKILL)
        assert wait_until(lambda: len(set(worker_pids(master.pid)) - set(first)) == 1, timeout=10)
        # The replacement is starting (imports, five dump wikis): one socket, the survivor's.
        assert len(listening_sockets(port)) == 1

        answered, stalled = 0, []
        while time.monotonic() - killed_at < 4:
            try:  # a new connection each time, as new editors' browsers make them
                status = requests.get(f"http://127.0.0.1:{port}/api/v1/tasks", timeout=2,
                                      headers={"Connection": "close"}).status_code
            except requests.RequestException as error:
                stalled.append(type(error).__name__)
                continue
            assert status == 200
            answered += 1
        assert stalled == [] and answered >= 10, (answered, stalled)

        # Once ready, the replacement listens and takes its share again.
        assert wait_until(lambda: len(listening_sockets(port)) == 2, timeout=120)
        assert requests.get(f"http://127.0.0.1:{port}/api/v1/tasks", timeout=10).status_code == 200
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(30)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait(10)
