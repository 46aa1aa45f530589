"""What the verifier benchmarks share: a body's key, signed status lists served on 127.0.0.1,
and the sample certification credential pointing at them. Loopback only."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.dates import format_datetime_stamp
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier.model.status_list import Bitstring, StatusPurpose
from verifier.samples import VC_V2, certification_credential

REVOCATION_INDEX, SUSPENSION_INDEX = 94567, 31337


def _sign(document: dict[str, Any], pair: KeyPair, suite: str, when: datetime) -> Any:
    return sign_credential(
        document,
        pair.signer(),
        suite,
        store=default_store(),
        options=ProofOptions(created=when),
        canonicalizer=FAST,
    )


def status_list(pair: KeyPair, url: str, purpose: StatusPurpose, when: datetime) -> Any:
    subject = {
        "id": f"{url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose.value,
        "encodedList": Bitstring(131_072).encode(),
        "ttl": 3_600_000,
    }
    document = {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": pair.public_key.did_key,
        "validFrom": format_datetime_stamp(when - timedelta(days=1)),
        "credentialSubject": subject,
    }
    return _sign(document, pair, "eddsa-rdfc-2022", when)


class ListServer:
    """Serves the two status lists of the sample credential on 127.0.0.1."""

    def __init__(self, pair: KeyPair, when: datetime) -> None:
        routes: dict[str, bytes] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/vc+ld+json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                del args

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        for path, purpose in (
            ("/status/1", StatusPurpose.REVOCATION),
            ("/status/1-suspension", StatusPurpose.SUSPENSION),
        ):
            routes[path] = json.dumps(status_list(pair, self.url + path, purpose, when)).encode()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ListServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sample(pair: KeyPair, base_url: str, suite: str, when: datetime) -> Any:
    unsigned = certification_credential(
        pair.public_key.did_key,
        valid_from=when - timedelta(days=1),
        base_url=base_url,
        status_index=(REVOCATION_INDEX, SUSPENSION_INDEX),
    )
    return _sign(unsigned, pair, suite, when)


def now() -> datetime:
    return datetime.now(UTC)


def new_pair() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)
