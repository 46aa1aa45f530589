"""Prometheus metrics at ``GET /metrics`` (``CERTVC_METRICS=1``; off by default).

Two kinds of figures:

- this process's, counted as requests are served: ``certvc_http_request_duration_seconds``
  (a histogram by method, route template and status: never the raw path, so the series stay
  few), ``certvc_verifications_total`` by verdict (every result of the mounted verifier) and
  ``certvc_write_group_size`` (how many issuances shared each transaction: group commit);
- the deployment's, read from the database when scraped (:mod:`issuer.services.operations`):
  ``certvc_issuances_total`` and ``certvc_status_changes_total`` by action (from the audit
  log: counted once, whichever node made them), ``certvc_jobs`` by state (the job queue's
  depth), ``certvc_status_list_publication_lag_seconds`` and ``certvc_database_up``.

Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory
for each server before it starts: every worker then writes its figures there and a scrape,
whichever worker answers it, adds them up (prometheus_client's multiprocess mode). The
database figures are read afresh by the worker that answers, in either mode.

``CERTVC_METRICS_TOKEN``, when set, must come as ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, current_app, g, request

from ..errors import IssuerCode
from ..services import operations
from ..services.operations import AuditTally
from .auth import bearer_token
from .error_handlers import error_response
from .extensions import now
from .health import EXTENSION as HEALTH
from .health import Unready

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

EXTENSION = "certvc.metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _DatabaseFigures:
    """The collector of the deployment-wide figures, read through the readiness probe's
    bounded connection (a scrape never hangs on a database that does not answer)."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._tally = AuditTally()
        self._lock = threading.Lock()

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only (never at registration)

    def collect(self) -> Iterator[Metric]:
        prometheus = _prometheus()
        moment: datetime = now()
        up = prometheus.gauge_family(
            "certvc_database_up", "1 when the scrape could read the database"
        )
        try:
            figures = self._app.extensions[HEALTH].run(lambda s: self._read(s, moment))
        except Unready:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs, lag, counts = figures
        depth = prometheus.gauge_family("certvc_jobs", "Background jobs by state", labels=["state"])
        for state, count in jobs.items():
            depth.add_metric([state.value], count)
        yield depth
        yield prometheus.gauge_family(
            "certvc_status_list_publication_lag_seconds",
            "Seconds since the oldest status change due but not yet in a published list",
            value=lag,
        )
        split = operations.split_counts(counts)
        for name, key, text in (
            ("certvc_issuances", "issuances", "Credentials issued (from the audit log)"),
            ("certvc_status_changes", "status_changes", "Status changes (from the audit log)"),
        ):
            family = prometheus.counter_family(name, text, labels=["action"])
            for action, count in split[key].items():
                family.add_metric([action], count)
            yield family

    def _read(self, session: Any, moment: datetime) -> tuple[Any, float, Any]:
        with self._lock:  # one tally per process: two scrapes never read into it at once
            return (
                operations.job_counts(session),
                operations.publication_lag(session, moment),
                self._tally.update(session),
            )


class _Metrics:
    """This app's metrics: the process's own (in ``registry``, or in the multiprocess
    directory) and the database collector."""

    def __init__(self, app: Flask) -> None:
        prometheus = _prometheus()
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        #: Single process: a registry of this app's own (several apps in one process, as in
        #: tests, never collide). Multiprocess: the figures go to the directory's files.
        self.registry: CollectorRegistry | None = (
            None if self.multiprocess else prometheus.CollectorRegistry()
        )
        self.latency = prometheus.Histogram(
            "certvc_http_request_duration_seconds",
            "Time to answer a request, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.verifications = prometheus.Counter(
            "certvc_verifications",
            "Credentials verified, by verdict",
            ["verdict"],
            registry=self.registry,
        )
        self.group_sizes = prometheus.Histogram(
            "certvc_write_group_size",
            "Writes (issuances) that shared one transaction, by kind (group commit)",
            ["work"],
            buckets=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32),
            registry=self.registry,
        )
        self.database = _DatabaseFigures(app)
        if self.registry is not None:
            self.registry.register(self.database)
        self.token = app.config.get("METRICS_TOKEN") or None

    def scrape_registry(self) -> CollectorRegistry:
        if self.registry is not None:
            return self.registry
        prometheus = _prometheus()

        registry = prometheus.CollectorRegistry()
        prometheus.MultiProcessCollector(registry)
        registry.register(self.database)
        return registry

    def count_verdict(self, result: Any) -> None:
        self.verifications.labels(verdict=result.verdict.value).inc()

    def count_group(self, work: str, size: int) -> None:
        self.group_sizes.labels(work=work).observe(size)


def _prometheus() -> SimpleNamespace:
    """prometheus_client, imported when metrics are turned on: it decides on import whether
    it runs in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``), so it is imported by the
    factory of a server whose environment is set, never by importing this module."""
    import prometheus_client  # noqa: PLC0415 - see the docstring
    from prometheus_client import core, multiprocess  # noqa: PLC0415 - see the docstring

    return SimpleNamespace(
        CollectorRegistry=prometheus_client.CollectorRegistry,
        Counter=prometheus_client.Counter,
        Histogram=prometheus_client.Histogram,
        MultiProcessCollector=multiprocess.MultiProcessCollector,
        counter_family=core.CounterMetricFamily,
        gauge_family=core.GaugeMetricFamily,
        generate_latest=prometheus_client.generate_latest,
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )


def init_metrics(app: Flask) -> None:
    """With ``METRICS`` on: the hooks that count, the verdict counter handed to the mounted
    verifier (``VERIFIER_ON_RESULT``) and ``GET /metrics``. Call before ``init_verifier`` and
    after ``init_health`` (the database figures use its probe)."""
    if not app.config.get("METRICS"):
        return
    metrics = _Metrics(app)
    app.extensions[EXTENSION] = metrics
    app.config.setdefault("VERIFIER_ON_RESULT", metrics.count_verdict)
    app.config.setdefault("WRITE_GROUP_OBSERVER", metrics.count_group)
    app.before_request(_start)
    app.after_request(_observe)
    app.add_url_rule("/metrics", "metrics", _scrape)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is None:  # a hook before ours answered: no duration to record
        return response
    metrics: _Metrics = current_app.extensions[EXTENSION]
    rule = request.url_rule
    method = request.method if request.method in _METHODS else "other"
    metrics.latency.labels(
        method=method,
        route=rule.rule if rule is not None else "<unmatched>",
        status=str(response.status_code),
    ).observe(max(0.0, time.perf_counter() - started))
    return response


def _scrape() -> Response | tuple[str, int]:
    metrics: _Metrics = current_app.extensions[EXTENSION]
    if metrics.token is not None:
        given = bearer_token() or ""
        if not hmac.compare_digest(given.encode(), str(metrics.token).encode()):
            response = error_response(
                IssuerCode.AUTH_REQUIRED, "the metrics need their bearer token", 401
            )
            if isinstance(response, Response):
                response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    prometheus = _prometheus()
    response = Response(prometheus.generate_latest(metrics.scrape_registry()), mimetype=None)
    response.headers["Content-Type"] = prometheus.content_type
    response.headers["Cache-Control"] = "no-store"
    return response
