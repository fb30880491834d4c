"""gunicorn settings read from the working directory (``gunicorn app:app``); flags override them.

The access log records no client address, user agent, referer or query string: see
``suggest.logging_setup``.
"""

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


def post_worker_init(worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
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
