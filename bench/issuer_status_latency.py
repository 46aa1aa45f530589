"""Time from a status change to the change being visible (goal < 1 s): in the published list,
or (``--observe verifier``) in the verdict of the body's own verifier at ``/api/v1/verify``.

Run: ``.venv/bin/python bench/issuer_status_latency.py [--changes N] [--observe list|verifier]
[--database-url URL] [--json]``; ``--database-url`` must name an empty database the run may
fill. The issuer runs
as its own process (``python -m issuer serve`` on a free loopback port) on a fresh development
instance; N certifications are issued, then for each one the clock starts,
``POST /api/v1/certifications/<n>/suspend`` is sent, and the status list is fetched
(conditional GET with the last ETag) until its suspension bit is set, or the credential is
posted to the instance's verifier until it answers SUSPENDED (with how many requests that took:
1 means the very next verification saw it). Prints the median, the 95th percentile and the
maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect

from verifier.model.status_list import Bitstring, parse_status_entry, parse_status_list_credential


def _request(method: str, url: str, body: Any = None, token: str | None = None, etag=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _require_empty(url: str) -> None:
    """The benchmark initialises the database it is given: refuse one that holds anything."""
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise SystemExit(f"--database-url must name an empty, throw-away database ({url})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--observe", choices=("list", "verifier"), default="list")
    parser.add_argument("--database-url")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.database_url:
        _require_empty(args.database_url)
    with tempfile.TemporaryDirectory() as temp:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
        env["CERTVC_INSTANCE"] = str(Path(temp) / "instance")
        if args.database_url:
            env["CERTVC_DATABASE_URL"] = args.database_url
        command = [sys.executable, "-m", "issuer"]
        subprocess.run(
            [*command, "init", "--dev", "--public-url", base],
            env=env,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(
            [*command, "tokens", "create", "--scope", "admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(400):
                try:
                    if _request("GET", f"{base}/.well-known/did.json")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.05)
            latencies = []
            polls = []
            for n in range(args.changes):
                body = {
                    "scheme": "CWI-2",
                    "scope": "steel",
                    "person": {"name": f"Person {n}"},
                    "reason": "benchmark",
                }
                status, _, raw = _request("POST", f"{base}/api/v1/certifications", body, token)
                assert status == 201, raw
                created = json.loads(raw)
                entry = next(
                    parse_status_entry(e)
                    for e in created["verifiableCredential"]["credentialStatus"]
                    if e["statusPurpose"] == "suspension"
                )
                _, headers, _ = _request("GET", entry.list_url)
                etag = headers["ETag"]
                number = created["certification"]["number"]
                started = time.perf_counter()
                status, _, raw = _request(
                    "POST",
                    f"{base}/api/v1/certifications/{number}/suspend",
                    {"reason": "benchmark"},
                    token,
                )
                assert status == 200, raw
                tries = 0
                while True:
                    tries += 1
                    if args.observe == "verifier":
                        credential = created["verifiableCredential"]
                        status, _, raw = _request("POST", f"{base}/api/v1/verify", credential)
                        if json.loads(raw)["verdict"] == "SUSPENDED":
                            break
                        continue
                    status, headers, raw = _request("GET", entry.list_url, etag=etag)
                    if status == 200:
                        subject = parse_status_list_credential(json.loads(raw))
                        if Bitstring.decode(subject.encoded_list).get(entry.index):
                            break
                        etag = headers["ETag"]
                latencies.append(time.perf_counter() - started)
                polls.append(tries)
        finally:
            server.terminate()
            server.wait(timeout=20)
    latencies.sort()
    figures = {
        "changes": len(latencies),
        "observed": args.observe,
        "max_requests": max(polls),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(latencies[-1] * 1000, 1),
        "goal_ms": 1000,
        "met": latencies[-1] < 1.0,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        where = "the published list" if args.observe == "list" else "the verifier's verdict"
        print(
            f"status change -> visible in {where}, {len(latencies)} changes "
            f"(at most {figures['max_requests']} requests after the change): "
            f"median {figures['median_ms']} ms, p95 {figures['p95_ms']} ms, "
            f"max {figures['max_ms']} ms; goal < 1000 ms: {'met' if figures['met'] else 'MISSED'}"
        )
    return 0 if figures["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
