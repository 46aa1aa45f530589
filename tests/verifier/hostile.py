"""Hostile inputs shared by the hostile-input tests and bench/hostile.py."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from verifier.samples import VC_V2


def poison_credential(issuer: str, nodes: int = 24) -> dict[str, Any]:
    """A clique of indistinguishable blank nodes: RDFC-1.0's worst case (Hash N-Degree Quads).

    An inline context defines the linking term, which safe mode allows (it is an absolute IRI).
    """
    knows = {"@id": "https://attack.example/knows", "@type": "@id"}
    people = [
        {"id": f"_:n{i}", "knows": [f"_:n{j}" for j in range(nodes) if j != i]}
        for i in range(nodes)
    ]
    return {
        "@context": [VC_V2, {"knows": knows}],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": "did:example:victim", "knows": people},
    }


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def jwt_with(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        (b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature))
    )


def gzip_bomb(uncompressed_mib: int = 200) -> str:
    """'u' + base64url(GZIP(zeros)): a few hundred KB that expand to ``uncompressed_mib`` MiB."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    parts = [comp.compress(chunk) for _ in range(uncompressed_mib)]
    parts.append(comp.flush())
    data = b"".join(parts)
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()
