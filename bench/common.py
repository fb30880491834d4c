"""Shared helpers of the benchmark: fixtures, processes, load generation, statistics.

Every loop here is bounded in count and in time, and only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
FIXTURE_DUMPS = ROOT / "tests" / "fixtures" / "dumps"
SHARED_DUMPS = ROOT.parent / "shared" / "data" / "dumps"
LANGS = ("en", "uk", "bn", "ja", "vi")
# The Procfile's workers, threads and sockets (one per worker, --reuse-port), `make run`'s log.
GUNICORN_FLAGS = ["--workers", "2", "--threads", "4", "--reuse-port", "--timeout", "120",
                  "--access-logfile", "-",
                  "--access-logformat", "%(m)s %(U)s %(s)s %(b)s %(M)sms"]
# Other WSGI servers, for the servers figure only (`make bench-servers` installs them): the same
# 2 processes x 4 threads and an access log of the same harmless fields.
UWSGI_FLAGS = ["--master", "--processes", "2", "--threads", "4", "--enable-threads",
               "--thunder-lock", "--lazy-apps", "--die-on-term", "--disable-write-exception",
               "--log-format", "%(method) %(var.PATH_INFO) %(status) %(size) %(msecs)ms"]


def server_argv(server: str, port: int, app: str) -> list[str]:
    """The command line of ``server`` serving the WSGI ``app`` ("module:name") on 127.0.0.1."""
    bindir = Path(sys.executable).parent
    if server == "gunicorn":  # the Procfile's server
        return [str(bindir / "gunicorn"), *GUNICORN_FLAGS, "--bind", f"127.0.0.1:{port}", app]
    if server == "uwsgi":  # as Toolforge's classic Python web service runs it: no keep-alive
        return [str(bindir / "uwsgi"), *UWSGI_FLAGS, "--module", app,
                "--http-socket", f"127.0.0.1:{port}", "--add-header", "Connection: close"]
    if server == "uwsgi-keepalive":  # keep-alive in the workers: an idle connection holds a thread
        return [str(bindir / "uwsgi"), *UWSGI_FLAGS, "--module", app,
                "--http11-socket", f"127.0.0.1:{port}"]
    if server == "uwsgi-router":  # uWSGI's HTTP router in front, which keeps connections alive
        return [str(bindir / "uwsgi"), *UWSGI_FLAGS, "--module", app, "--http",
                f"127.0.0.1:{port}", "--http-keepalive",
                "--socket", f"@wiki-suggest-bench-{port}"]  # abstract: no file left behind
    if server == "granian":
        return [str(bindir / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
                str(port), "--workers", "2", "--blocking-threads", "4", "--access-log",
                "--access-log-fmt", "%(method)s %(path)s %(status)d %(dt_ms).3fms", app]
    raise ValueError(f"unknown server {server!r}")


SERVERS = ("gunicorn", "uwsgi", "uwsgi-keepalive", "uwsgi-router", "granian")


def server_installed(server: str) -> bool:
    return Path(server_argv(server, 0, "app:app")[0]).is_file()


RAM_DISK = Path("/dev/shm")  # where fsync costs nothing (the diagnostics' databases)


def fresh_sqlite(path: Path) -> str:
    """Remove a SQLite database and the files beside it (WAL, shared memory, the service's
    writer lock); its URL."""
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fixture_dumps() -> dict[str, Path]:
    """The committed small dumps, one per language (always present in a clone)."""
    return {lang: FIXTURE_DUMPS / f"{lang}wiki-sample.xml" for lang in LANGS}


def dev_dumps() -> tuple[dict[str, Path], str]:
    """The larger development dumps when the shared folder has them, else the fixtures."""
    found: dict[str, Path] = {}
    if SHARED_DUMPS.is_dir():
        for lang in LANGS:
            matches = sorted(SHARED_DUMPS.glob(f"{lang}wiki-*.xml*"))
            if matches:
                found[lang] = matches[0]
    if len(found) == len(LANGS):
        return found, "shared dev dumps"
    return fixture_dumps(), "tests/fixtures/dumps"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "system": platform.platform(),
                            "cpus": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def rss_of(pid: int) -> float:
    """Resident memory of a process in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def listening_sockets(port: int) -> int:
    """Listening TCP sockets on 127.0.0.1:``port`` (one per gunicorn worker with --reuse-port)."""
    rows = [row.split() for row in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return sum(1 for row in rows if row[1] == f"0100007F:{port:04X}" and row[3] == "0A")


# -- servers ---------------------------------------------------------------------------------------
class Server:
    """A WSGI server (gunicorn with the Procfile's settings unless ``server`` names another)
    started in its own process group, stopped by that group's id only."""

    def __init__(self, app: str, env: dict[str, str], name: str, server: str = "gunicorn") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        VAR.mkdir(parents=True, exist_ok=True)
        self.log_path = VAR / f"{name}.log"
        # gunicorn's workers (--reuse-port) each open a socket of their own once they are ready.
        self.listeners = 2 if server == "gunicorn" else 1
        argv = server_argv(server, self.port, app)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env},
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, path: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=30) as response:
                    # Every worker listening: the load's connections are spread over all of them.
                    if response.status == 200 and listening_sockets(self.port) >= self.listeners:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"server not ready after {timeout}s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the master and every process under it
        (workers, uWSGI's router): per request, it is the server's cost without the load
        generator's or other jobs' share of the machine."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        pids = [self.proc.pid]
        for pid in pids:  # grows while walked: children, then theirs
            pids.extend(children_of(pid))
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()


def machine_cpu_ticks() -> tuple[int, int]:
    """(idle, total) CPU ticks of the whole machine so far, from ``/proc/stat`` (idle and
    iowait count as idle); (0, 0) where there is no such file."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = [int(x) for x in handle.readline().split()[1:9]]
    except OSError:
        return 0, 0
    return fields[3] + fields[4], sum(fields)


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time that was idle between two machine_cpu_ticks()."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else float("nan")


def get_json(url: str, timeout: float = 120.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


# -- load generation -------------------------------------------------------------------------------
def load(url: str, seconds: float, connections: int = 8) -> dict[str, float]:
    """Requests/s against ``url`` with keep-alive connections: wrk when installed, else a
    bounded Python client (threads, one connection each; slower, so ratios move towards 1)."""
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections)
    return _python_load(url, seconds, connections)


def wrk(url: str, seconds: float, connections: int = 8, script: Path | None = None) -> dict[str, float]:
    """One wrk run (``script``: a Lua file that writes the requests); requests/s, requests,
    failed (non-2xx/3xx answers and socket errors), the seconds it ran and the median latency."""
    return _wrk(url, seconds, connections, script)


def _wrk(url: str, seconds: float, connections: int, script: Path | None = None) -> dict[str, float]:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if script is not None:
        argv[1:1] = ["-s", str(script)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    ran = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    if errors:
        failed += sum(int(x) for x in errors.groups())
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    return {"rps": rps, "requests": total, "failed": failed, "client": 0.0, "seconds": ran,
            "p50_ms": _ms(p50) if p50 else float("nan")}


def _ms(match: re.Match[str]) -> float:
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _python_load(url: str, seconds: float, connections: int) -> dict[str, float]:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    counts = [0] * connections
    failures = [0] * connections
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for _ in range(1_000_000):  # bounded; the deadline ends it first
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
            counts[i] += 1
            failures[i] += 0 if ok else 1
            if i == 0:
                latencies.append((time.perf_counter() - started) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.monotonic() - started
    return {"rps": sum(counts) / elapsed, "requests": sum(counts), "failed": sum(failures),
            "client": 1.0, "p50_ms": median(latencies)}


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result
