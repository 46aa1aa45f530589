"""gunicorn settings of a certvc node: ``gunicorn -c deploy/gunicorn.conf.py``.

Used by the container image, the compose file and the multi-node test. Every value can be
changed from the environment (``CERTVC_BIND``, ``CERTVC_WORKERS``, ``CERTVC_THREADS``,
``CERTVC_FORWARDED_ALLOW_IPS``); the app itself reads its own ``CERTVC_*`` settings.

Read-only root filesystem: the workers' heartbeat files go to ``/dev/shm`` when it exists
(``worker_tmp_dir``), nothing else is written outside the instance volume and
``PROMETHEUS_MULTIPROC_DIR``.

Bad configuration (no instance, the database unreachable or not migrated, a missing passphrase
or PIN, a wrong one, an absent token) stops the server before any worker starts, with one line
``certvc: error: <code>: <message>`` and exit status 2: the app is built once in the master as
a check (then let go; each worker builds its own).

Prometheus multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set, ``CERTVC_METRICS=1``): the
directory is emptied when the server starts (figures of an earlier run would be added to this
one's), and a worker that exits is marked dead (its counters stay in the sums).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

wsgi_app = "issuer.app:create_app()"
bind = os.environ.get("CERTVC_BIND", "0.0.0.0:8000").split(",")
workers = int(os.environ.get("CERTVC_WORKERS", "2"))
# Threads per worker: the issuances a worker holds at once share one transaction (group
# commit, issuer.db.group_commit), so more threads than a client's few connections pay off
# (bench/issuer_http.py: 8 threads x 2 workers, 16 clients).
threads = int(os.environ.get("CERTVC_THREADS", "8"))
timeout = 60
graceful_timeout = 30
keepalive = 5
# The reverse proxy's address: X-Forwarded-Proto from it marks a request as https.
forwarded_allow_ips = os.environ.get("CERTVC_FORWARDED_ALLOW_IPS", "127.0.0.1")
# certvc logs one line per request itself, with its request id (CERTVC_LOG_FORMAT).
accesslog = None
errorlog = "-"
if Path("/dev/shm").is_dir():
    worker_tmp_dir = "/dev/shm"


def _multiproc_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server: object) -> None:
    """Empty the metrics directory of an earlier run (its files only), then check the
    configuration by building the app once."""
    directory = _multiproc_dir()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    _check_configuration()
    _freeze()


def _check_configuration() -> None:
    """Build the app once in the master. Under gunicorn the app factory itself turns a
    start-up error into its one line and a stop (``verifier.startup``); here that stop is
    exit status 2, before any worker starts."""
    from issuer.app import create_app  # noqa: PLC0415 - the app's code, at start only

    try:
        app = create_app()
    except SystemExit:
        sys.exit(2)
    app.extensions["certvc.db"].engine.dispose()


def post_worker_init(worker: object) -> None:
    """The worker's app is built: freeze it too, so each request's garbage is all the
    collector looks at."""
    _freeze()


def _freeze() -> None:
    """Move what exists now out of the garbage collector's sight. In the master, what the
    configuration check left (modules, compiled contexts and shapes) is inherited by every
    worker: no worker's collections walk it again and again, nor copy its pages by touching
    them (bench/issuer_http.py: a fifth of a worker's CPU per issuance without this)."""
    gc.collect()
    gc.freeze()


def child_exit(server: object, worker: object) -> None:
    """A worker ended: its live gauges leave the sums (counters and histograms stay)."""
    if _multiproc_dir() is None:
        return
    from prometheus_client import multiprocess  # noqa: PLC0415 - only in multiprocess mode

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
