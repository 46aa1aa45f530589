"""Real servers on loopback for the deployment tests: gunicorn nodes started with the shipped
``deploy/gunicorn.conf.py``, HAProxy with the shipped ``deploy/haproxy.cfg`` (its addresses
from the environment), a TLS certificate for it, and an HTTPS client that trusts only that
certificate. Every port is ephemeral; every process is ended by the test that started it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
_LISTENING = re.compile(rb"Listening at: http://127\.0\.0\.1:(\d+)")
#: How long a server may take to come up on this (shared, 2-core) machine.
START_WITHIN = 90.0


def haproxy_binary() -> str | None:
    """Debian's haproxy (in /usr/sbin, which a user's PATH may lack)."""
    return shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")


def free_port() -> int:
    """A port free now (for a server that cannot be asked for port 0 and report it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without anyone's CERTVC_* or Prometheus settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CERTVC_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Node:
    """One gunicorn server (its own process group, so it can be killed whole)."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Node:
        """Start (on the port it had, after a kill) and wait until /healthz answers."""
        env = dict(self.env, CERTVC_BIND=f"127.0.0.1:{self.port}")
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            found = _LISTENING.search(self.log.read_bytes()[offset:])
            if found:
                self.port = int(found.group(1))
                if get(f"{self.url}/healthz").status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the master and its workers at once: a host that dies mid-request."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def worker_pids(self) -> list[int]:
        """The workers of this node (children of its master)."""
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]


def tls_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (haproxy's PEM: certificate and
    key; the client's CA file: the certificate alone)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certvc test proxy")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    bundle, ca = folder / "proxy.pem", folder / "proxy-ca.pem"
    bundle.write_bytes(cert_pem + key_pem)
    bundle.chmod(0o600)
    ca.write_bytes(cert_pem)
    return bundle, ca


@dataclass
class Proxy:
    """HAProxy in the foreground with the shipped configuration."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, port: int) -> Proxy:
        haproxy = haproxy_binary()
        assert haproxy is not None, "haproxy is not installed (.ci/run installs it)"
        check = subprocess.run(
            [haproxy, "-c", "-f", str(HAPROXY_CFG)],
            env=self.env,
            capture_output=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [haproxy, "-db", "-f", str(HAPROXY_CFG)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self.log.read_text()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("haproxy did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def request(
    method: str,
    url: str,
    *,
    body: Any = None,
    token: str | None = None,
    headers: Mapping[str, str] | None = None,
    ca_file: Path | None = None,
    timeout: float = 60.0,
) -> Reply:
    """One request on a new connection to a loopback server; a failure to get any answer is
    status 0 (the caller counts it as not acknowledged)."""
    match = re.fullmatch(r"(https?)://127\.0\.0\.1:(\d+)(/.*)", url)
    assert match, f"tests talk to loopback only, not {url}"
    scheme, port, path = match.group(1), int(match.group(2)), match.group(3)
    connection: http.client.HTTPConnection
    if scheme == "https":
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    data = None if body is None else json.dumps(body).encode()
    sent = dict(headers or {})
    if data is not None:
        sent["Content-Type"] = "application/json"
    if token:
        sent["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    except (OSError, http.client.HTTPException):
        return Reply(0, {}, b"")
    finally:
        connection.close()


def get(url: str, **kwargs: Any) -> Reply:
    return request("GET", url, **kwargs)
