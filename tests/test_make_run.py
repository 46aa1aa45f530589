"""`make run` as a person uses it: `certvc init --dev`, `certvc serve`, issue, verify over HTTP.

The development instance must verify what it issued itself (its did:web on plain http is known
to its own verifier; its status lists are fetched from its own loopback origin, nothing else).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certvc(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("certvc")
    return subprocess.run(
        [str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory):
    tmp_path = tmp_path_factory.mktemp("instance")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    env["CERTVC_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    env["CERTVC_STATUS_TTL_MS"] = "500"  # the list's ttl: the verifier's cache lifetime
    done = _certvc("init", "--dev", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    again = _certvc("init", "--dev", cwd=tmp_path, env=env)  # idempotent
    assert again.returncode == 0, again.stderr
    exe = Path(sys.executable).with_name("certvc")
    server = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/v", timeout=1).close()
                break
            except urllib.error.HTTPError as error:
                error.close()
                break
            except OSError:
                time.sleep(0.1)
        yield tmp_path, env, base
    finally:
        server.terminate()
        server.wait(timeout=10)


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_dev_instance_verifies_what_it_issued(instance) -> None:
    folder, env, base = instance
    issued = _certvc(
        "issue",
        "--scheme",
        "CWI-2",
        "--scope",
        "VT-2, steel groups 1 and 2",
        "--name",
        "Zoë Ångström-Ōtsuka",
        "--reason",
        "examination passed",
        "--json",
        cwd=folder,
        env=env,
    )
    assert issued.returncode == 0, issued.stderr
    credential = json.loads(issued.stdout)["verifiableCredential"]
    status, result = _post(base + "/credentials/verify", {"verifiableCredential": credential})
    assert (status, result["verified"], result["verdict"]) == (200, True, "VALID")
    assert "status" in result["checks"]
    number = json.loads(issued.stdout)["certification"]["number"]
    withdrawn = _certvc("withdraw", number, "--reason", "fraud found", cwd=folder, env=env)
    assert withdrawn.returncode == 0, withdrawn.stderr
    time.sleep(1.0)  # past the cached list's ttl
    status, result = _post(base + "/credentials/verify", {"verifiableCredential": credential})
    assert (status, result["verified"], result["verdict"]) == (400, False, "REVOKED")


def test_home_page_leads_to_the_verifier(instance) -> None:
    _, _, base = instance
    with urllib.request.urlopen(base + "/", timeout=10) as reply:
        assert reply.status == 200
        assert reply.url.endswith("/v")
