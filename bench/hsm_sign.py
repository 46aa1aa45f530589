"""Signatures per second through a PKCS#11 token, beside the same key type in memory.

Run: ``.venv/bin/python bench/hsm_sign.py [--count 2000] [--processes 1] [--json]``.
Makes a fresh SoftHSM2 token in a temporary folder (Debian's ``softhsm2``; ``SOFTHSM2_CONF``
is set for this process), generates an Ed25519 and a P-256 key inside it, and signs ``--count``
distinct 32-byte messages with each, through :class:`keys.pkcs11_token.Token` (one session,
as a server process holds it); then the same count with in-memory keys (``keys.KeyPair``).
With ``--processes N`` as many forked processes sign at once (``import-csv --jobs N``: each
opens the token anew) and the figure is their total.

What a bulk import pays per credential for the token is 1/rate; a real HSM's rate is its own
(network round trip, device speed), so measure it there with ``--module``/``--token``/``--pin``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from keys.keypair import KeyPair, KeyType, Signer  # noqa: E402
from keys.pkcs11_token import Token, TokenConfig  # noqa: E402


def _rate(signer: Signer, count: int) -> float:
    messages = [os.urandom(32) for _ in range(count)]
    start = time.perf_counter()
    for message in messages:
        signer.sign(message)
    return count / (time.perf_counter() - start)


def _parallel(signer: Signer, count: int, processes: int) -> float:
    """``processes`` forked signers; the signer is inherited through fork (never pickled)."""
    global _SIGNER
    _SIGNER = signer
    context = multiprocessing.get_context("fork")
    start = time.perf_counter()
    with context.Pool(processes) as pool:
        pool.map(_child_rate, [count] * processes, chunksize=1)
    return processes * count / (time.perf_counter() - start)


_SIGNER: Signer | None = None


def _child_rate(count: int) -> float:  # pragma: no cover - runs in a fork
    assert _SIGNER is not None
    return _rate(_SIGNER, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--module", help="another PKCS#11 module (default: a fresh SoftHSM2)")
    parser.add_argument("--token", default="bench")
    parser.add_argument("--pin", default="246810")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    results: dict[str, Any] = {"count": args.count, "processes": args.processes}
    with tempfile.TemporaryDirectory() as scratch:
        if args.module is None:
            from tests.support.softhsm import create_token  # noqa: PLC0415 - bench only

            hsm = create_token(Path(scratch), args.token, pin=args.pin)
            os.environ["SOFTHSM2_CONF"] = str(hsm.conf)
            module = hsm.module
            results["token"] = "SoftHSM2 (fresh, file store)"
        else:
            module = args.module
            results["token"] = f"{module} / {args.token}"
        token = Token.open(TokenConfig(module, args.token), args.pin)
        for key_type in (KeyType.ED25519, KeyType.P256):
            reference, _ = token.generate(key_type, f"bench#{key_type.value}")
            in_token = token.signer(reference, key_type, "bench")
            in_memory = KeyPair.generate(key_type).signer("bench")
            if args.processes > 1:
                token_rate = _parallel(in_token, args.count, args.processes)
                memory_rate = _parallel(in_memory, args.count, args.processes)
            else:
                token_rate = _rate(in_token, args.count)
                memory_rate = _rate(in_memory, args.count)
            results[key_type.value] = {
                "tokenPerSecond": round(token_rate),
                "memoryPerSecond": round(memory_rate),
            }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['token']}, {args.count} signatures x {args.processes} process(es)")
    for key_type in ("ed25519", "p-256"):
        row = results[key_type]
        print(
            f"  {key_type:8} token {row['tokenPerSecond']:>7}/s   "
            f"in memory {row['memoryPerSecond']:>7}/s"
        )


if __name__ == "__main__":
    main()
