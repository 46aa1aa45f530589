"""Prometheus multiprocess mode under gunicorn (issue 18): two workers write their figures to
PROMETHEUS_MULTIPROC_DIR, and a scrape, whichever worker answers it, gives the sums. A worker
killed and replaced leaves its counts in them.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.issuer.support import init

from .nodes import Node, clean_env, get

ROUTE = "/healthz"


def _count(node: Node, route: str) -> float:
    """The scraped request count of ``route`` (all workers, all statuses)."""
    reply = get(f"{node.url}/metrics")
    assert reply.status == 200, reply.body[:300]
    total = 0.0
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            if (
                sample.name == "certvc_http_request_duration_seconds_count"
                and sample.labels["route"] == route
            ):
                total += sample.value
    return total


def _writers(directory: Path) -> set[int]:
    return {
        int(m.group(1))
        for path in directory.glob("histogram_*.db")
        if (m := re.fullmatch(r"histogram_(\d+)\.db", path.name))
    }


def test_two_workers_figures_add_up_in_every_scrape(tmp_path: Path, deploy_database: str) -> None:
    folder = tmp_path / "instance"
    init(folder, deploy_database)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "histogram_999999.db").write_bytes(b"stale")  # emptied when gunicorn starts
    node = Node(
        "node",
        clean_env(
            CERTVC_INSTANCE=str(folder),
            CERTVC_DATABASE_URL=deploy_database,
            CERTVC_METRICS="1",
            CERTVC_JOB_WORKER_THREAD="0",
            CERTVC_WORKERS="2",
            CERTVC_THREADS="1",
            PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        ),
        tmp_path / "gunicorn.log",
    )
    node.start()
    try:
        workers = node.worker_pids()
        assert len(workers) == 2
        baseline = _count(node, ROUTE)  # start() asked /healthz until it answered
        # A sync worker reading a request that has not all arrived serves nobody else: the
        # requests sent meanwhile go to the other worker, then the first one is finished.
        assert get(f"{node.url}{ROUTE}").status == 200
        held = socket.create_connection(("127.0.0.1", node.port), timeout=30)
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.5)  # (not an assertion on time: the request is sent either way)
        sent = 1
        for _ in range(10):
            assert get(f"{node.url}{ROUTE}").status == 200
            sent += 1
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(4096).startswith(b"HTTP/1.1 200")
        held.close()
        sent += 1
        assert _writers(metrics_dir) == set(workers), "both workers served requests"
        assert 999999 not in _writers(metrics_dir)
        for _ in range(6):  # answered by either worker: the same sums
            assert _count(node, ROUTE) == baseline + sent

        os.kill(workers[0], signal.SIGKILL)  # gunicorn replaces it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            current = node.worker_pids()
            if len(current) == 2 and workers[0] not in current:
                break
            time.sleep(0.2)
        assert workers[0] not in node.worker_pids()
        for _ in range(6):
            assert _count(node, ROUTE) == baseline + sent  # the dead worker's requests still count
    finally:
        node.stop()
