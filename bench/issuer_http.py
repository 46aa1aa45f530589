"""HTTP issuance throughput and latency under gunicorn on PostgreSQL, driven by wrk.

Run: ``.venv/bin/python bench/issuer_http.py [--endpoint certifications|vc-api|both]
[--seconds 15] [--connections 16] [--threads 2] [--workers 2] [--worker-threads 8]
[--database-url URL] [--json]``.

Without ``--database-url`` a throw-away PostgreSQL database ``certvc_bench_http_<pid>`` is
created on ``--server`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and
dropped at the end; ``--database-url`` must name an empty database the run may fill. A fresh
development instance (``certvc init --dev``) is initialised in a temporary folder on that
database, an API token with the ``issue`` scope is created (``certvc tokens create``), and
gunicorn serves it on a free loopback port with the deployment's settings
(``gunicorn --config deploy/gunicorn.conf.py``; ``--workers N`` and ``--worker-threads T`` set
``CERTVC_WORKERS`` and ``CERTVC_THREADS``: gthread workers with T threads each, whose
concurrent issuances share transactions (group commit); ``--worker-threads 1``: sync workers,
one issuance per transaction). The load generator is wrk (Debian package ``wrk``; closed
loop: each of the C connections sends its next request when the previous answer arrived) with
a Lua script written by this benchmark: every request is a distinct issuance (a per-thread
counter makes each person's name and reference, or each credential subject, unique), sent with
``Authorization: Bearer``.

* ``certifications``: ``POST /api/v1/certifications`` ``{scheme: CWI-2, scope, person: {name,
  reference}, reason}``: creates a person and a certification, signs its credential
  (eddsa-rdfc-2022), allocates two status entries, writes an audit event; one transaction.
* ``vc-api``: ``POST /credentials/issue`` (W3C VC API) ``{credential, options: {}}`` with a small
  VC 2.0 credential: signs it, allocates two status entries, records it, writes an audit event.

Per endpoint, after a short unmeasured warm-up (every worker compiles its templates), wrk runs
for ``--seconds``; figures: successful (2xx) issuances per second (2xx answers / wrk's measured
duration), latency p50/p95/p99 from wrk's own histogram (send to full answer, on the client),
the non-2xx and socket-error counts, and the load average (``os.getloadavg``) before and after:
the load generator, the workers and PostgreSQL share this machine's cores, so the CPU time
the gunicorn processes and the whole PostgreSQL server (every backend, including those of
connections opened during the run, and its background writers) spent per issuance is printed
too (``/proc``, Linux). The figures are then
checked against the database: the rows created during the measured run equal wrk's 2xx count
plus at most one request per connection still in flight when wrk stopped (answered by the
server, never read by wrk); every credential issued verifies against the instance's DID
document, every status index is unique and the audit chain is intact.

Exits 1 under the goal of issue 15 (at least 300 issuances/s with p95 under 100 ms at 16
connections, per endpoint), or on any non-2xx answer or failed check; 2 when wrk is missing.
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
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contexts.loader import default_store  # noqa: E402
from issuer import db  # noqa: E402
from issuer.db.models import Certification, IssuedCredential, StatusEntry  # noqa: E402
from issuer.services import audit, instance  # noqa: E402
from keys.did import LocalResolver  # noqa: E402
from keys.suites import FAST  # noqa: E402
from verifier.engine import VerifierPolicy, verify_credential  # noqa: E402
from verifier.result import Check, CheckStatus  # noqa: E402

GOAL_PER_SECOND = 300
GOAL_P95_MS = 100.0
DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: Replaced in each request body by a tag unique to the run, the wrk thread and the request.
PLACEHOLDER = "@@N@@"

BODIES: dict[str, tuple[str, dict[str, Any]]] = {
    "certifications": (
        "/api/v1/certifications",
        {
            "scheme": "CWI-2",
            "scope": "steel groups 1 and 2",
            "person": {"name": f"Bench Person {PLACEHOLDER}", "reference": f"B-{PLACEHOLDER}"},
            "reason": "benchmark",
        },
    ),
    "vc-api": (
        "/credentials/issue",
        {
            "credential": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential"],
                "name": "Membership",
                "credentialSubject": {
                    "id": f"did:example:{PLACEHOLDER}",
                    "name": f"Bench Holder {PLACEHOLDER}",
                },
            },
            "options": {},
            "reason": "benchmark",
        },
    ),
}

#: wrk's Lua script. Globals (not locals) so that ``done`` can read them with ``thread:get``.
LUA_TEMPLATE = """
-- written by bench/issuer_http.py
local threads = {}
local body_template = [==[%(body)s]==]
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer %(token)s",
}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter = 0
  ok = 0
  bad = 0
end

function request()
  counter = counter + 1
  local tag = "%(run)s-" .. tid .. "-" .. counter
  local body = string.gsub(body_template, "%(placeholder)s", tag)
  return wrk.format("POST", "%(path)s", headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local ok_total, bad_total = 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    "CERTVC-RESULT {\\"requests\\": %%d, \\"ok\\": %%d, \\"non_2xx\\": %%d, " ..
    "\\"duration_us\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d, " ..
    "\\"max_us\\": %%d, \\"mean_us\\": %%.1f, \\"socket_errors\\": %%d}\\n",
    summary.requests, ok_total, bad_total, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_script(path: str, body: dict[str, Any], token: str, run: str) -> str:
    """The wrk script POSTing ``body`` to ``path``, each request with a unique tag."""
    rendered = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if "]==]" in rendered or '"' in token or "\\" in token:
        raise ValueError("body or token cannot be embedded in the Lua script")
    return LUA_TEMPLATE % {
        "body": rendered,
        "token": token,
        "run": run,
        "path": path,
        "placeholder": PLACEHOLDER,
    }


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


@contextmanager
def _throwaway_database(server: str) -> Iterator[str]:
    """A fresh database on ``server`` (a URL of any database there), dropped afterwards."""
    name = f"certvc_bench_http_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s")


def _settle(count: Callable[[], int], seconds: float = 15.0) -> int:
    """``count()`` once it stops changing (requests still in flight have been committed)."""
    deadline = time.monotonic() + seconds
    last = count()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = count()
        if now == last:
            return now
        last = now
    return last


def _wrk(script: str, url: str, seconds: float, connections: int, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temp:
        path = Path(temp) / "issue.lua"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                str(path),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        )
    found = re.search(r"^CERTVC-RESULT (.*)$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not found:
        raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return json.loads(found.group(1))


def _counters(engine: Any) -> dict[str, Callable[[], int]]:
    def count(statement: Any) -> Callable[[], int]:
        def run() -> int:
            with engine.connect() as connection:
                return connection.execute(statement).scalar_one()

        return run

    return {
        "certifications": count(select(func.count()).select_from(Certification)),
        "vc-api": count(
            select(func.count())
            .select_from(IssuedCredential)
            .where(IssuedCredential.certification_id.is_(None))
        ),
    }


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _cpu_seconds(root: int) -> float:
    """User + system CPU time so far of the process tree under ``root`` (Linux ``/proc``): its
    live children's own, and ``root``'s own with its reaped children's, so a child that came
    and went between two readings (a PostgreSQL backend of a new pooled connection) counts."""
    fields = _stat(root)
    if fields is None:
        return 0.0
    # utime, stime, cutime, cstime: fields 14 to 17 of proc(5), 12 to 15 after the name.
    total = sum(int(value) for value in fields[11:15])
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:
        children = []
    for child in map(int, children):
        own = _stat(child)
        if own is not None:
            total += int(own[11]) + int(own[12])
    return total / os.sysconf("SC_CLK_TCK")


def _process_ids(engine: Any, server: subprocess.Popen[bytes]) -> dict[str, int]:
    """The roots of the process trees measured: the gunicorn master and the PostgreSQL
    server's postmaster (all its backends, whichever database, and its background writers)."""
    with engine.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    fields = _stat(int(backend))
    postmaster = int(fields[1]) if fields is not None else 0  # ppid: field 4, 2 after the name
    return {"gunicorn": server.pid, "postgresql": postmaster}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _check_database(engine: Any, folder: Path) -> dict[str, Any]:
    """Every credential verifies, every status index is unique, the audit chain is intact."""
    settings = instance.read_settings(folder)
    keyring = instance.open_keyring(folder, settings, None, now=datetime.now(UTC))
    did_document = keyring.did_document()
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({did_document["id"]: did_document}),
        canonicalizer=FAST,
    )
    with db.session_factory(engine)() as session:
        entries = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
        documents = session.execute(select(IssuedCredential.document)).scalars().all()
        chain = audit.verify_chain(session)
    failed = 0
    for document in documents:
        result = verify_credential(document, policy, now=datetime.now(UTC))
        if any(
            result.check(check).status is not CheckStatus.PASSED
            for check in (Check.SHAPE, Check.CONTEXT, Check.PROOF, Check.ISSUER)
        ):
            failed += 1
    return {
        "credentials": len(documents),
        "credentials_failing_verification": failed,
        "status_entries": len(entries),
        "status_indexes_unique": len(entries) == len(set(entries)) == 2 * len(documents),
        "audit_chain_intact": chain.ok,
        "audit_events": chain.events,
    }


def run(args: argparse.Namespace, database_url: str) -> dict[str, Any]:
    endpoints = list(BODIES) if args.endpoint == "both" else [args.endpoint]
    kind = "sync" if args.worker_threads <= 1 else f"gthread, {args.worker_threads} threads each"
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        server_version = connection.execute(text("SHOW server_version")).scalar_one()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "instance"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
        env["CERTVC_INSTANCE"] = str(folder)
        env["CERTVC_DATABASE_URL"] = database_url
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "issuer"]
        subprocess.run(
            [*command, "init", "--dev", "--public-url", base],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(
            [*command, "tokens", "create", "--scope", "issue", "--name", "bench-http"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        log = Path(temp) / "gunicorn.log"
        with log.open("wb") as log_handle:
            # The deployment's own settings (deploy/gunicorn.conf.py), as a node runs them.
            served = {
                **env,
                "CERTVC_BIND": f"127.0.0.1:{port}",
                "CERTVC_WORKERS": str(args.workers),
                "CERTVC_THREADS": str(args.worker_threads),
            }
            server = subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("gunicorn")),
                    "--config",
                    str(ROOT / "deploy" / "gunicorn.conf.py"),
                    "--chdir",
                    str(ROOT),
                    "--log-level",
                    "warning",
                ],
                env=served,
                cwd=ROOT,
                stdout=log_handle,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(f"{base}/.well-known/did.json", server)
            counters = _counters(engine)
            results = []
            for n, name in enumerate(endpoints):
                path, body = BODIES[name]
                # Warm-up: every worker signs its first credentials (templates compiled).
                warm = lua_script(path, body, token, f"w{os.getpid()}x{n}")
                _wrk(warm, base, args.warmup, min(4, args.connections), 1)
                before_rows = _settle(counters[name])
                script = lua_script(path, body, token, f"r{os.getpid()}x{n}")
                pids = _process_ids(engine, server)
                cpu_before = {k: _cpu_seconds(v) for k, v in pids.items()}
                load_before = _load()
                figures = _wrk(script, base, args.seconds, args.connections, args.threads)
                load_after = _load()
                cpu = {k: _cpu_seconds(v) - cpu_before[k] for k, v in pids.items()}
                created = _settle(counters[name]) - before_rows
                seconds = figures["duration_us"] / 1e6
                rate = figures["ok"] / seconds
                p95 = figures["p95_us"] / 1000
                in_flight = created - figures["ok"]
                results.append(
                    {
                        "endpoint": name,
                        "request": f"POST {path}",
                        "issuances_per_second": round(rate, 1),
                        "p50_ms": round(figures["p50_us"] / 1000, 1),
                        "p95_ms": round(p95, 1),
                        "p99_ms": round(figures["p99_us"] / 1000, 1),
                        "max_ms": round(figures["max_us"] / 1000, 1),
                        "responses": figures["requests"],
                        "ok_2xx": figures["ok"],
                        "non_2xx": figures["non_2xx"],
                        "socket_errors": figures["socket_errors"],
                        "seconds": round(seconds, 2),
                        "rows_created": created,
                        "in_flight_at_stop": in_flight,
                        "rows_match": 0 <= in_flight <= args.connections,
                        "gunicorn_cpu_ms_per_issuance": round(
                            cpu["gunicorn"] * 1000 / max(created, 1), 2
                        ),
                        "postgresql_cpu_ms_per_issuance": round(
                            cpu["postgresql"] * 1000 / max(created, 1), 2
                        ),
                        "load_before": load_before,
                        "load_after": load_after,
                        "met": rate >= GOAL_PER_SECOND and p95 < GOAL_P95_MS,
                    }
                )
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
        server_log = log.read_text(errors="replace")
        checks = _check_database(engine, folder)
    engine.dispose()
    return {
        "database": f"PostgreSQL {server_version} (loopback, fresh database)",
        "server": f"gunicorn {args.workers} workers ({kind}), 127.0.0.1",
        "load_generator": f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s",
        "cpus": os.cpu_count(),
        "goal": f">= {GOAL_PER_SECOND}/s and p95 < {GOAL_P95_MS:.0f} ms",
        "endpoints": results,
        "checks": checks,
        "server_errors_logged": server_log.count("Traceback"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", choices=(*BODIES, "both"), default="both")
    parser.add_argument("--seconds", type=int, default=15, help="measured wrk run per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured wrk run first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--worker-threads",
        type=int,
        default=8,
        help="threads per gunicorn worker (CERTVC_THREADS; 1: sync workers)",
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill")
    parser.add_argument(
        "--server",
        default=DEFAULT_SERVER,
        help="where the throw-away database is created (without --database-url)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian package wrk): apt-get install wrk", file=sys.stderr)
        return 2
    if args.database_url:
        if make_url(args.database_url).get_backend_name() != "postgresql":
            raise SystemExit("--database-url must be a PostgreSQL URL")
        _require_empty(args.database_url)
        report = run(args, args.database_url)
    else:
        with _throwaway_database(args.server) as url:
            report = run(args, url)
    checks = report["checks"]
    sound = (
        checks["credentials_failing_verification"] == 0
        and checks["status_indexes_unique"]
        and checks["audit_chain_intact"]
        and report["server_errors_logged"] == 0
        and all(
            e["rows_match"] and e["non_2xx"] == 0 and e["socket_errors"] == 0
            for e in report["endpoints"]
        )
    )
    report["checks_passed"] = sound
    report["met"] = sound and all(e["met"] for e in report["endpoints"])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['database']}; {report['server']}; {report['load_generator']} "
            f"(closed loop, loopback, {report['cpus']} CPUs shared with the load generator "
            "and PostgreSQL)"
        )
        for e in report["endpoints"]:
            print(
                f"{e['request']}: {e['issuances_per_second']:.0f} issuances/s "
                f"({e['ok_2xx']} 2xx in {e['seconds']} s), p50 {e['p50_ms']} ms, "
                f"p95 {e['p95_ms']} ms, p99 {e['p99_ms']} ms, max {e['max_ms']} ms; "
                f"{e['non_2xx']} non-2xx, {e['socket_errors']} socket errors; "
                f"{e['rows_created']} rows created ({e['in_flight_at_stop']} in flight at stop); "
                f"CPU per issuance: gunicorn {e['gunicorn_cpu_ms_per_issuance']} ms, "
                f"PostgreSQL {e['postgresql_cpu_ms_per_issuance']} ms; "
                f"load average {e['load_before']} -> {e['load_after']}; "
                f"goal {report['goal']}: {'met' if e['met'] else 'MISSED'}"
            )
        print(
            f"checks: {checks['credentials']} credentials, "
            f"{checks['credentials_failing_verification']} failing verification; "
            f"status indexes {'unique' if checks['status_indexes_unique'] else 'NOT UNIQUE'}; "
            f"audit chain {'intact' if checks['audit_chain_intact'] else 'BROKEN'} "
            f"({checks['audit_events']} events); "
            f"{report['server_errors_logged']} server tracebacks"
        )
    return 0 if report["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
