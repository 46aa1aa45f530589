"""A fast generator of malformed verifier inputs, driven by a hypothesis-drawn seed.

Hypothesis' recursive JSON strategies cost about 10 ms an example; 10,000 examples per target
would take minutes. Hypothesis draws one integer; this module turns it into a structured
malformed input in microseconds (random bytes and text, random JSON, mutated real credentials
and tokens, broken QR payloads and images), and the seed in a failure report reproduces it.
"""

from __future__ import annotations

import base64
import copy
import json
import random
import zlib
from collections.abc import Callable
from typing import Any

from verifier.qr_dictionary import V1
from verifier.samples import VC_V2

_KEYS = (
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSubject",
    "credentialStatus",
    "proof",
    "name",
    "verifiableCredential",
    "holder",
    "options",
    "input",
)
_STRINGS = (
    "",
    VC_V2,
    "VerifiableCredential",
    "VerifiablePresentation",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:web:example.org",
    "https://127.0.0.1/status/1",
    "2026-01-01T00:00:00Z",
    "not a date",
    "eddsa-rdfc-2022",
    "DataIntegrityProof",
    "BitstringStatusListEntry",
    "\u0000\ud7ff\U0001f600",
    "z" + "1" * 90,
)


#: Printable ASCII, controls, quotes and escapes, non-ASCII and non-BMP characters, surrogates.
_ALPHABET = (
    "".join(chr(c) for c in range(32, 127))
    + '\x00\x01\x1f\x7f"\\\n\t#%{}[]:,'
    + "é€ÿ\u200b\u2028\ufeff\U0001f600\ud800"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=V1)
    return compressor.compress(data) + compressor.flush()


class Fuzz:
    """Builds malformed inputs from one seed; ``credential`` and ``token`` are real, signed."""

    def __init__(self, credential: dict[str, Any], token: str, *, mutation_rate: float = 0.5):
        self.credential = credential
        self.token = token
        # Mutated signed credentials reach JSON-LD and canonicalization (~3 ms each); the HTTP
        # endpoint tests use fewer of them, the engine test more.
        self.mutation_rate = mutation_rate

    def value(self, rng: random.Random, depth: int = 0) -> Any:
        roll = rng.random()
        if depth > 3 or roll < 0.45:
            return rng.choice(
                [
                    None,
                    True,
                    False,
                    rng.randint(-(2**70), 2**70),
                    rng.random() * 1e300,
                    rng.choice(_STRINGS),
                    self.text(rng, 12),
                ]
            )
        if roll < 0.7:
            return [self.value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return {
            rng.choice(_KEYS) if rng.random() < 0.6 else self.text(rng, 6): self.value(
                rng, depth + 1
            )
            for _ in range(rng.randint(0, 5))
        }

    @staticmethod
    def text(rng: random.Random, size: int) -> str:
        return "".join(rng.choices(_ALPHABET, k=rng.randint(0, size)))

    def mutated(self, rng: random.Random, document: Any) -> Any:
        """The signed credential with one to three changes deep inside."""
        doc = copy.deepcopy(document)
        for _ in range(rng.randint(1, 3)):
            node, path = doc, []
            while isinstance(node, dict | list) and node and rng.random() < 0.7:
                key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
                path.append(key)
                if not isinstance(node[key], dict | list):
                    break
                node = node[key]
            if not path:
                return self.value(rng)
            parent = doc
            for key in path[:-1]:
                parent = parent[key]
            action = rng.random()
            if action < 0.3 and isinstance(parent, dict):
                del parent[path[-1]]
            elif action < 0.5 and isinstance(parent[path[-1]], str):
                original = parent[path[-1]]
                spot = rng.randint(0, len(original))
                parent[path[-1]] = original[:spot] + self.text(rng, 3) + original[spot + 1 :]
            else:
                parent[path[-1]] = self.value(rng)
        return doc

    def credential_json(self, rng: random.Random) -> Any:
        if rng.random() < self.mutation_rate:
            return self.mutated(rng, self.credential)
        return self.value(rng)

    def jwt(self, rng: random.Random) -> str:
        header, payload, signature = self.token.split(".")
        parts = [header, payload, signature]
        choice = rng.randrange(4)
        if choice == 0 and rng.random() < self.mutation_rate * 2:
            claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
            parts[1] = _b64(json.dumps(self.mutated(rng, claims)).encode())
        elif choice <= 1:
            parts[0] = _b64(json.dumps(self.value(rng)).encode())
        elif choice == 2:
            parts[rng.randrange(3)] = _b64(rng.randbytes(rng.randint(0, 40)))
        else:
            parts = parts[: rng.randint(0, 2)] + [self.text(rng, 8)]
        return ".".join(parts)

    def qr_text(self, rng: random.Random) -> str:
        choice = rng.randrange(5)
        if choice == 0:
            body = json.dumps(self.credential_json(rng), ensure_ascii=False).encode(
                "utf-8", "surrogatepass"
            )
            payload = "1C" + base64.b32encode(_deflate(body)).decode().rstrip("=")
        elif choice == 1:
            payload = "1J" + base64.b32encode(_deflate(rng.randbytes(rng.randint(0, 60)))).decode()
        elif choice == 2:
            alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
            payload = (
                rng.choice("0123456789")
                + rng.choice("CJLQ")
                + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
            )
        elif choice == 3:
            payload = "1L" + rng.choice(
                [
                    "file:///etc/passwd",
                    "https://169.254.169.254/",
                    "http://10.0.0.1/x",
                    self.text(rng, 20),
                ]
            )
        else:
            payload = "1C" + base64.b32encode(rng.randbytes(rng.randint(0, 60))).decode().rstrip(
                "="
            )
        return rng.choice(["", "https://verify.example/v#"]) + payload

    def raw(self, rng: random.Random) -> bytes | str:
        makers: list[Callable[[], bytes | str]] = [
            lambda: rng.randbytes(rng.randint(0, 200)),
            lambda: self.text(rng, 200),
            lambda: json.dumps(self.value(rng)),
            lambda: json.dumps(self.credential_json(rng)),
            lambda: json.dumps({"verifiableCredential": self.credential_json(rng)}),
            lambda: self.jwt(rng),
            lambda: self.qr_text(rng),
            lambda: b"\x89PNG\r\n\x1a\n" + rng.randbytes(rng.randint(0, 120)),
            lambda: b"\xff\xd8\xff" + rng.randbytes(rng.randint(0, 120)),
            lambda: "[" * rng.randint(60, 3000),
        ]
        return rng.choice(makers)()

    def presentation(self, rng: random.Random) -> Any:
        if rng.random() < 0.2:
            return self.value(rng)
        vp: dict[str, Any] = {
            "@context": rng.choice([[VC_V2], VC_V2, self.value(rng)]),
            "type": rng.choice(
                ["VerifiablePresentation", ["VerifiablePresentation"], self.value(rng)]
            ),
        }
        if rng.random() < 0.8:
            items = [
                rng.choice([self.credential_json(rng), self.jwt(rng), self.value(rng)])
                for _ in range(rng.randint(0, 3))
            ]
            vp["verifiableCredential"] = items if rng.random() < 0.8 else (items or [None])[0]
        if rng.random() < 0.3:
            vp["proof"] = self.value(rng)
        if rng.random() < 0.2:
            vp["holder"] = self.value(rng)
        return vp
