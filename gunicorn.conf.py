"""gunicorn settings read from the working directory (``gunicorn app:app``); flags override them.

The access log records no client address, user agent, referer or query string: see
``suggest.logging_setup``.
"""

from suggest.logging_setup import GUNICORN_ACCESS_FORMAT

wsgi_app = "app:app"
accesslog = "-"
errorlog = "-"
access_log_format = GUNICORN_ACCESS_FORMAT
timeout = 120
