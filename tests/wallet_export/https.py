"""What the OpenID4VCI tests share: a test CA and server certificate for loopback, the
@openid4vc/openid4vci wallet run with node, and a plain HTTPS client for the error cases.

Used by tests/wallet_export/test_oid4vci_http.py (the protocol over a minimal app) and
tests/e2e/test_wallet_export_https.py (the running issuer app).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import ipaddress
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

JS_DIR = Path(__file__).resolve().parent / "js"
NODE_TIMEOUT_S = 60
NPM_TIMEOUT_S = 300


def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost signed by it:
    (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certvc test CA")])
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.OID_SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# --- a plain HTTPS client -------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: Any
    raw: bytes = b""


def call(ca: Path, method: str, url: str, **kwargs: Any) -> Reply:
    """One request to the loopback test server (``form=``, ``json=``, ``headers=``); JSON
    bodies are parsed, others kept in ``raw``. Never raises for 4xx/5xx."""
    assert url.startswith("https://127.0.0.1:"), "tests talk to loopback only"
    headers = dict(kwargs.pop("headers", {}))
    data = None
    if "form" in kwargs:
        data = urllib.parse.urlencode(kwargs.pop("form")).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif "json" in kwargs:
        data = json.dumps(kwargs.pop("json")).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(request, context=context, timeout=60) as response:
            status, got, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, error.headers, error.read()
    body = json.loads(raw) if got.get_content_type() == "application/json" else None
    return Reply(status, body, got, raw)


# --- the wallet library ---------------------------------------------------------------------


def _ensure_node_modules(npm: str) -> None:
    """``npm ci`` once per package-lock.json content (a marker holds its SHA-256)."""
    lock = (JS_DIR / "package-lock.json").read_bytes()
    want = hashlib.sha256(lock).hexdigest()
    marker = JS_DIR / "node_modules" / ".certvc-lock-sha256"
    tag = hashlib.sha256(str(JS_DIR).encode()).hexdigest()[:16]
    with (Path(tempfile.gettempdir()) / f"certvc-oid4vci-npm-{tag}.lock").open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text().strip() == want:
            return
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed in {JS_DIR}:\n{done.stderr[-3000:]}")
        marker.write_text(want + "\n")


def wallet_node() -> str:
    """node, with the wallet library installed (skips without node/npm, except on CI)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        message = "the wallet library runs on node and npm (@openid4vc/openid4vci)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run it")
        pytest.skip(message)
    _ensure_node_modules(npm)
    return node


def run_wallet(node: str, ca: Path, **job: Any) -> dict[str, Any]:
    """Run js/wallet.mjs with ``job`` (offer, txCode, configurationId, holder); its result."""
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(ca)}
    done = subprocess.run(
        [node, "wallet.mjs"],
        cwd=JS_DIR,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["ok"], result
    return result
