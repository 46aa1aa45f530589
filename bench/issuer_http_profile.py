"""Where one HTTP issuance spends its time: cProfile around the Flask test client, PostgreSQL.

Run: ``.venv/bin/python bench/issuer_http_profile.py [--endpoint certifications|vc-api]
[--requests 300] [--database-url URL] [--top 25] [--clock wall|cpu] [--dump FILE]``.

The same instance, token and request bodies as ``bench/issuer_http.py`` (a throw-away database
``certvc_bench_http_<pid>`` on the local PostgreSQL unless ``--database-url`` names an empty
one), but in one process and one thread, without gunicorn or a socket: after 50 unmeasured
requests, N requests are timed without the profiler (wall time per request), then N more under
cProfile. Prints, per request: the cumulative time of certvc's own functions (services, web,
db), the database round trips (psycopg waits) and commits, and the self time grouped by package
(SQLAlchemy, psycopg, Werkzeug, certvc's signing in ``keys``, ...). Wall time includes the waits
on PostgreSQL, which shares the machine. Exits 0; it has no goal.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.issuer_http import (  # noqa: E402
    BODIES,
    DEFAULT_SERVER,
    PLACEHOLDER,
    _require_empty,
    _throwaway_database,
)
from issuer.app import create_app  # noqa: E402

#: Functions outside certvc worth a line: database round trips and commits.
_DRIVER = {
    ("connection.py", "wait"): "psycopg round trips (Connection.wait)",
    ("connection.py", "commit"): "psycopg commit",
}


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if filename.startswith(str(ROOT)):
        return "certvc " + Path(filename).relative_to(ROOT).parts[0]
    if filename.startswith(("~", "<")):
        return "built-ins (C)"
    return "standard library"


def _print_statements(app: Any, request: Callable[[], None]) -> None:
    """The SQL of one request, in order: the round trips are most of a request's time."""
    engine = app.extensions["certvc.db"].engine
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", note)
    try:
        request()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    print(f"SQL statements of one request ({len(seen)}):")
    for n, text in enumerate(seen, 1):
        print(f"  {n:2d}. {text}")


def profile(
    database_url: str,
    endpoint: str,
    requests: int,
    top: int,
    statements: bool = False,
    clock: str = "wall",
    dump: Path | None = None,
) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "instance"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
        env.update(CERTVC_INSTANCE=str(folder), CERTVC_DATABASE_URL=database_url)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "issuer"]
        subprocess.run(
            [*command, "init", "--dev"], env=env, cwd=ROOT, check=True, capture_output=True
        )
        token = subprocess.run(
            [*command, "tokens", "create", "--scope", "issue"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for key in [k for k in os.environ if k.startswith("CERTVC_")]:
            del os.environ[key]  # the app reads CERTVC_* from the environment: only ours
        app = create_app({"INSTANCE": str(folder), "DATABASE_URL": database_url})
        client = app.test_client()
        path, body = BODIES[endpoint]
        raw = json.dumps(body, ensure_ascii=False)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        def issue(tag: str) -> None:
            reply = client.post(path, data=raw.replace(PLACEHOLDER, tag), headers=headers)
            if reply.status_code != 201:
                raise SystemExit(f"{path} answered {reply.status_code}: {reply.data[:300]!r}")

        for n in range(50):
            issue(f"warm-{n}")
        if statements:
            _print_statements(app, lambda: issue("statements"))
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(requests):
            issue(f"timed-{n}")
        plain_ms = (time.perf_counter() - started) * 1000 / requests
        cpu_ms = (time.process_time() - cpu) * 1000 / requests
        # ``cpu``: this process's CPU time only, so the waits on PostgreSQL drop out.
        profiler = cProfile.Profile(time.process_time) if clock == "cpu" else cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for n in range(requests):
            issue(f"profiled-{n}")
        profiler.disable()
        profiled_ms = (time.perf_counter() - started) * 1000 / requests
    if dump is not None:
        profiler.dump_stats(dump)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    print(
        f"POST {path} in-process (Flask test client, 1 thread, PostgreSQL): "
        f"{plain_ms:.2f} ms/request without the profiler ({cpu_ms:.2f} ms of it this process's "
        f"CPU, the rest waits on PostgreSQL), {profiled_ms:.2f} ms with it; "
        f"{requests} requests; profiler clock: {clock}; "
        f"load average {[round(x, 2) for x in os.getloadavg()]}"
    )
    own = []
    packages: dict[str, float] = {}
    for (filename, line, name), (_, calls, self_time, cumulative, _) in stats.items():
        packages[_package(filename)] = packages.get(_package(filename), 0.0) + self_time
        label = _DRIVER.get((Path(filename).name, name)) if "psycopg" in filename else None
        if filename.startswith(str(ROOT)) and "/bench/" not in filename:
            label = f"{Path(filename).relative_to(ROOT)}:{line} {name}"
        if label:
            own.append((cumulative * 1000 / requests, calls / requests, label))
    print("cumulative ms per request (calls per request):")
    for ms, calls, label in sorted(own, reverse=True)[:top]:
        print(f"  {ms:7.2f} ms  {calls:5.1f}x  {label}")
    total = sum(packages.values())
    print(f"self time by package, ms per request (of {total * 1000 / requests:.2f}):")
    for package, seconds in sorted(packages.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {seconds * 1000 / requests:7.2f} ms  {package}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", choices=tuple(BODIES), default="certifications")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--statements", action="store_true", help="print the SQL of one request first"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what the profiler times: wall time (with the waits) or this process's CPU",
    )
    parser.add_argument("--dump", type=Path, help="write the profile (pstats) to this file")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to fill")
    parser.add_argument("--server", default=DEFAULT_SERVER)
    args = parser.parse_args()
    if args.database_url:
        _require_empty(args.database_url)
        profile(args.database_url, args.endpoint, args.requests, args.top, args.statements)
    else:
        with _throwaway_database(args.server) as url:
            profile(
                url, args.endpoint, args.requests, args.top, args.statements, args.clock, args.dump
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
