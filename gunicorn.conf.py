"""gunicorn settings read from the working directory (``gunicorn app:app``); flags override them.

The access log records no client address, user agent, referer or query string: see
``suggest.logging_setup``.
"""

import socket

from gunicorn import sock as gunicorn_sock
from gunicorn import util as gunicorn_util

from suggest.logging_setup import GUNICORN_ACCESS_FORMAT

wsgi_app = "app:app"
accesslog = "-"
errorlog = "-"
access_log_format = GUNICORN_ACCESS_FORMAT
logger_class = "suggest.access_log.AccessLogger"  # offers the format only harmless fields
timeout = 120
# gunicorn 25.1+ opens a control socket for gunicornc in $XDG_RUNTIME_DIR or $HOME/.gunicorn by
# default. The service does not use it, a Toolforge container may have no writable home, and two
# servers on one machine (tests, benchmarks) took over each other's socket and deleted it.
control_socket_disable = True


def _own_sockets(worker) -> bool:  # noqa: ANN001 - gunicorn's worker
    """Whether the worker opened listening sockets of its own (``--reuse-port``), as gunicorn
    decides it: the sockets are then this process's alone, not the master's."""
    return bool(worker.cfg.reuse_port and hasattr(socket, "SO_REUSEPORT"))


def post_fork(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """With ``--reuse-port`` a worker opens its own listening socket as it is forked, and the
    kernel deals new connections to it at once. A worker that replaces another (after a crash or
    a timeout) would hold its share of new connections for its whole start, the imports and the
    preload below (10-40 s with a model and dump wikis), while the other workers idle. Its socket
    is closed here and opened when the worker is ready (end of ``post_worker_init``)."""
    if _own_sockets(worker):
        gunicorn_sock.close_sockets(worker.sockets)
        worker.sockets = []


def _listen(worker) -> None:  # noqa: ANN001 - gunicorn's worker
    """Open the worker's own listening sockets now that it can answer at once."""
    if not _own_sockets(worker) or worker.sockets:
        return
    worker.sockets = gunicorn_sock.create_sockets(worker.cfg, worker.log)
    for listener in worker.sockets:
        gunicorn_util.close_on_exec(listener)
    worker.wait_fds = worker.sockets + [worker.PIPE[0]]


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """Preload, then listen (see ``post_fork``)."""
    _preload(worker)
    _listen(worker)


def _preload(worker) -> None:  # noqa: ANN001 - gunicorn's worker
    """Load the model and the dump wikis (with their similarity index) when a worker starts, so
    that no editor's first request pays for it. A wiki that fails to load is loaded on demand."""
    import logging

    log = logging.getLogger("suggest.preload")
    # Another WSGI application served with these settings (a benchmark's floor) has nothing to load.
    service = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("wiki_suggest")
    if service is None:
        return
    service.backend  # noqa: B018 - the property loads the model
    for wiki_id in service.config.get("DUMP_WIKIS") or {}:
        try:
            source = service.source(service.registry.get(wiki_id))
            index = getattr(source, "_similarity_index", None)
            if index is not None:
                index()
        except Exception as error:  # noqa: BLE001 - serving must not depend on a preload
            log.warning("preload of %s failed (%s); loaded on first use", wiki_id,
                        type(error).__name__)
    # What was just loaded lives as long as the worker: take it out of the garbage collector's
    # view, so that a full collection during a request scans only what requests made (with the
    # multilingual model and the dump wikis, a full collection took about 130 ms, now under 1 ms).
    import gc

    gc.collect()
    gc.freeze()
