"""A small certification world for verifier tests: a body's key, signed status lists served by a
real HTTP server on 127.0.0.1, and credentials pointing at them.

The issuer service is built elsewhere; these tests make their own signed status list credentials
with the codec (``Bitstring``) and ``sign_credential``, as a body would publish them.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier.model.status_list import Bitstring, StatusPurpose
from verifier.samples import VC_V2, certification_credential

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REVOCATION_INDEX = 94567
SUSPENSION_INDEX = 31337
LIST_LENGTH = 131_072


@dataclass
class Served:
    body: bytes
    content_type: str = "application/vc+ld+json"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    delay_per_chunk: float = 0.0  # seconds between 1 KiB chunks (a slow server)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers)))
        served = self.server.routes.get(self.path)
        if served is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = served.headers.get("ETag")
        if etag is not None and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            for name, value in served.headers.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self.send_response(served.status)
        self.send_header("Content-Type", served.content_type)
        self.send_header("Content-Length", str(len(served.body)))
        for name, value in served.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            if served.delay_per_chunk:
                for start in range(0, len(served.body), 1024):
                    self.wfile.write(served.body[start : start + 1024])
                    self.wfile.flush()
                    if self.server.stopping.wait(served.delay_per_chunk):
                        return
            else:
                self.wfile.write(served.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Served] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()


class StatusServer:
    """A real HTTP server on 127.0.0.1 serving whatever the test puts in ``routes``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server()
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread: threading.Thread | None = None
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def routes(self) -> dict[str, Served]:
        return self._server.routes

    @property
    def requests(self) -> list[tuple[str, dict[str, str]]]:
        return self._server.requests

    def start(self) -> StatusServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def status_server(tls: ssl.SSLContext | None = None) -> Iterator[StatusServer]:
    server = StatusServer(tls).start()
    try:
        yield server
    finally:
        server.stop()


def sign(document: Mapping[str, Any], pair: KeyPair, suite: str = "eddsa-rdfc-2022") -> Any:
    return sign_credential(
        document,
        pair.signer(),
        suite,
        store=default_store(),
        options=ProofOptions(created=NOW - timedelta(days=30)),
        canonicalizer=FAST,
    )


def status_list_credential(
    pair: KeyPair,
    url: str,
    purpose: StatusPurpose,
    *,
    set_indexes: tuple[int, ...] = (),
    ttl_ms: int | None = None,
    valid_from: datetime = NOW - timedelta(days=30),
    valid_until: datetime | None = NOW + timedelta(days=365),
    suite: str = "eddsa-rdfc-2022",
) -> Any:
    """A signed BitstringStatusListCredential (BSL 2.2) with ``set_indexes`` set to 1."""
    bits = Bitstring(LIST_LENGTH)
    for index in set_indexes:
        bits.set(index, 1)
    subject: dict[str, Any] = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose.value,
        "encodedList": bits.encode(),
    }
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    document: dict[str, Any] = {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": pair.public_key.did_key,
        "validFrom": valid_from.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": subject,
    }
    if valid_until is not None:
        document["validUntil"] = valid_until.strftime("%Y-%m-%dT%H:%M:%SZ")
    return sign(document, pair, suite)


def serve_lists(
    server: StatusServer,
    pair: KeyPair,
    *,
    revoked: bool = False,
    suspended: bool = False,
    ttl_ms: int | None = None,
    headers: dict[str, str] | None = None,
    prefix: str = "",
) -> None:
    """Publish the revocation and suspension lists the sample credential points at (for a
    credential made with ``base_url = server.url + prefix``)."""
    for path, purpose, hit, index in (
        (f"{prefix}/status/1", StatusPurpose.REVOCATION, revoked, REVOCATION_INDEX),
        (f"{prefix}/status/1-suspension", StatusPurpose.SUSPENSION, suspended, SUSPENSION_INDEX),
    ):
        listed = status_list_credential(
            pair,
            server.url + path,
            purpose,
            set_indexes=(index,) if hit else (),
            ttl_ms=ttl_ms,
        )
        server.routes[path] = Served(json.dumps(listed).encode(), headers=dict(headers or {}))


def credential(
    pair: KeyPair,
    base_url: str,
    *,
    valid_from: datetime = NOW - timedelta(days=10),
    validity: timedelta = timedelta(days=3 * 365),
    suite: str = "eddsa-rdfc-2022",
) -> Any:
    """The sample certification credential, signed, with status lists under ``base_url``."""
    unsigned = certification_credential(
        pair.public_key.did_key,
        valid_from=valid_from,
        base_url=base_url,
        status_index=(REVOCATION_INDEX, SUSPENSION_INDEX),
        validity=validity,
    )
    return sign(unsigned, pair, suite)


def new_pair() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


def trust_list(*pairs: KeyPair, name: str = "Example Personnel Certification Body") -> str:
    """A trust list vouching for the did:key bodies of ``pairs`` (docs/verifier.md)."""
    bodies = [{"did": pair.public_key.did_key, "name": name} for pair in pairs]
    return json.dumps({"certvcTrustList": 1, "bodies": bodies})


def trust_file(folder: Path, *pairs: KeyPair) -> Path:
    path = folder / "trust.json"
    path.write_text(trust_list(*pairs), encoding="utf-8")
    return path


def resigned(
    signed: Mapping[str, Any],
    pair: KeyPair,
    *,
    issuer: str | None = None,
    method: str | None = None,
    keep_status: bool = True,
) -> dict[str, Any]:
    """``signed`` with its proof replaced by one of ``pair``: a forgery with a throwaway key
    (``issuer`` defaults to the pair's did:key), or another body's credential (``issuer`` and
    ``method`` name its did:web). Everything else stays, the issuer's name included."""
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    if not keep_status:
        unsigned.pop("credentialStatus", None)
    who = issuer or pair.public_key.did_key
    named = unsigned["issuer"]
    unsigned["issuer"] = {**named, "id": who} if isinstance(named, Mapping) else who
    options = ProofOptions(created=NOW, verification_method=method)
    result = sign_credential(
        unsigned,
        pair.signer(),
        "eddsa-rdfc-2022",
        store=default_store(),
        options=options,
        canonicalizer=FAST,
    )
    assert isinstance(result, dict)
    return result


def closed_port() -> int:
    """A loopback port nothing listens on (a body whose server cannot be reached)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
