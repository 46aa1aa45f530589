"""Requests per second of the verifier API under concurrent load, with zero errors required.

    .venv/bin/python bench/load.py [--seconds 10] [--connections 16] [--workers 2]

Starts the status lists on 127.0.0.1, then gunicorn serving ``verifier.app:create_app()`` on
127.0.0.1 (rate limiting off, the list server allow-listed), then drives ``POST /api/v1/verify``
with wrk (Debian package ``wrk``) or, without wrk, a bounded Python client with threads. Bodies:
the sample credential's QR text and its JSON. Exits non-zero on any error or non-200 answer.
Loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._verifier_world import ListServer, new_pair, now, sample  # noqa: E402
from verifier import qr  # noqa: E402

_WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("%s", "rb")
wrk.body = f:read("*all")
f:close()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not come up at {url}")


def _wrk(url: str, body: bytes, seconds: int, connections: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        script = Path(tmp) / "post.lua"
        script.write_text(_WRK_SCRIPT % body_path)
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    out = done.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(bad.group(1)) if bad else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    return rate, total, failures


def _threads(url: str, body: bytes, seconds: int, connections: int) -> tuple[float, int, int]:
    counts = {"ok": 0, "bad": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            request = urllib.request.Request(
                url, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    good = reply.status == 200 and b'"VALID"' in reply.read()
            except OSError:
                good = False
            with lock:
                counts["ok" if good else "bad"] += 1

    workers = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 30)
    total = counts["ok"] + counts["bad"]
    return total / (time.monotonic() - started), total, counts["bad"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--python-client", action="store_true", help="Do not use wrk.")
    args = parser.parse_args()
    pair, when = new_pair(), now()
    with ListServer(pair, when) as lists:
        secured = sample(pair, lists.url, "eddsa-rdfc-2022", when)
        port = _free_port()
        trust = Path(tempfile.mkdtemp(prefix="certvc-load-")) / "trust.json"
        bodies_json = [{"did": pair.public_key.did_key, "name": "Example body"}]
        trust.write_text(json.dumps({"certvcTrustList": 1, "bodies": bodies_json}))
        env = {
            **os.environ,
            "CERTVC_VERIFIER_TRUST_FILE": str(trust),
            "CERTVC_VERIFIER_ALLOW_ORIGINS": lists.url,
            "CERTVC_DEV_MODE": "true",
            "CERTVC_VERIFIER_RATE_PER_MINUTE": "0",
        }
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "verifier.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base + "/v")
            url = base + "/api/v1/verify"
            use_wrk = shutil.which("wrk") is not None and not args.python_client
            tool = "wrk" if use_wrk else "python threads"
            bodies = {
                "QR text": json.dumps(
                    {"input": qr.deep_link(base + "/v", qr.encode_credential(secured))}
                ).encode(),
                "JSON": json.dumps(secured).encode(),
            }
            failed = False
            for name, body in bodies.items():
                _threads(url, body, 1, 2)  # warm every worker's caches
                run = _wrk if use_wrk else _threads
                rate, total, failures = run(url, body, args.seconds, args.connections)
                print(
                    f"POST /api/v1/verify ({name}): {rate:.0f} requests/s, {total} requests, "
                    f"{failures} errors ({tool}, {args.connections} connections, gunicorn "
                    f"{args.workers} workers, {args.seconds} s)"
                )
                failed = failed or failures > 0
        finally:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
    if failed:
        raise SystemExit("errors under load")


if __name__ == "__main__":
    main()
