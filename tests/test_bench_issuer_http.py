"""The wrk script of ``bench/issuer_http.py`` does what its figures claim: every request a
distinct, valid JSON issuance with the token, and 2xx and non-2xx answers counted apart."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.issuer_http import BODIES, PLACEHOLDER, _wrk, lua_script

pytestmark = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@pytest.mark.parametrize("endpoint", sorted(BODIES))
def test_wrk_script_sends_distinct_issuances_and_counts_answers(endpoint) -> None:
    path, body = BODIES[endpoint]
    seen: list[tuple[str, str | None, dict]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                seen.append((self.path, self.headers.get("Authorization"), data))
                refuse = len(seen) % 5 == 0
            self.send_response(409 if refuse else 201)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = lua_script(path, body, "tok-en", "t1")
        figures = _wrk(script, f"http://127.0.0.1:{server.server_port}", 1, 4, 2)
    finally:
        server.shutdown()
        server.server_close()
    assert figures["requests"] > 10
    assert figures["ok"] + figures["non_2xx"] == figures["requests"]
    assert figures["non_2xx"] > 0 and figures["ok"] > figures["non_2xx"]
    assert figures["p50_us"] <= figures["p95_us"] <= figures["p99_us"] <= figures["max_us"]
    assert all(p == path and auth == "Bearer tok-en" for p, auth, _ in seen)
    texts = [json.dumps(data, sort_keys=True) for _, _, data in seen]
    assert len(set(texts)) == len(texts), "two requests carried the same issuance"
    assert all(PLACEHOLDER not in text and "t1-" in text for text in texts)
    template = json.dumps(body, sort_keys=True)
    assert {text.split("t1-")[0] for text in texts} == {template.split(PLACEHOLDER)[0]}
