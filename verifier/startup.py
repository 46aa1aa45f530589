"""Start-up errors of certvc's web apps under gunicorn: one line, then a stop.

gunicorn loads the app in each worker (or once in the master with ``--preload``); an exception
there is a traceback of dozens of lines per worker, and a worker that exits with any status
but 3 or 4 is started again, forever. Both apps (``issuer.app:create_app()``,
``verifier.app:create_app()``) build through :func:`build_or_stop`: a start-up error is the
line the CLI prints for it, ``certvc: error: <code>: <what to fix>``, and exit status 4,
gunicorn's "App failed to load", which stops the master. Outside gunicorn the error is raised
as usual (tests, ``certvc serve``, the multi-app tools).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

from contexts.errors import CertvcError

__all__ = ["GUNICORN_APP_LOAD_ERROR", "build_or_stop", "error_line", "under_gunicorn"]

#: gunicorn's exit status for "App failed to load": its master stops instead of starting the
#: worker again.
GUNICORN_APP_LOAD_ERROR = 4

T = TypeVar("T")


def under_gunicorn() -> bool:
    """gunicorn's master sets ``SERVER_SOFTWARE`` before it loads any app (and its hooks run)."""
    return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/")


def error_line(error: CertvcError) -> str:
    """``certvc: error: <code>: <message>``, as the CLI prints every error."""
    return f"certvc: error: {error.code}: {error.message}"


def build_or_stop(build: Callable[[], T]) -> T:
    """``build()``; under gunicorn a :class:`CertvcError` is one line on stderr and
    ``SystemExit(GUNICORN_APP_LOAD_ERROR)`` instead of a traceback."""
    try:
        return build()
    except CertvcError as error:
        if not under_gunicorn():
            raise
        sys.stderr.write(error_line(error) + "\n")
        sys.stderr.flush()
        raise SystemExit(GUNICORN_APP_LOAD_ERROR) from None
