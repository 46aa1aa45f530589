"""How fast each hostile input is refused (issue 3: "each refused ... in well under a second").

Run: ``.venv/bin/python bench/hostile.py``. Prints one line per input: what, outcome, time.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contexts.errors import CertvcError
from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from tests.verifier.hostile import deep_json, gzip_bomb, jwt_with, poison_credential
from verifier.engine import VerifierPolicy, verify_credential
from verifier.model.status_list import Bitstring
from verifier.samples import certification_credential


def timed(label: str, fn) -> None:
    start = time.perf_counter()
    try:
        outcome = fn()
    except CertvcError as error:
        outcome = f"refused: {error.code}"
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{label:<44} {outcome!s:<44} {elapsed:8.1f} ms", flush=True)


def main() -> int:
    now = datetime.now(UTC)
    store = default_store()
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST)
    pair = KeyPair.generate(KeyType.ED25519)
    did = pair.public_key.did_key
    bomb = gzip_bomb(1024)
    for nodes in (8, 24, 64):
        timed(
            f"sign: blank-node clique of {nodes}",
            lambda n=nodes: (
                sign_credential(
                    poison_credential(did, n),
                    pair.signer(),
                    "eddsa-rdfc-2022",
                    store=store,
                    options=ProofOptions(created=now),
                    canonicalizer=FAST,
                )
                and "signed"
            ),
        )
    timed("decode: 1 GiB gzip bomb in encodedList", lambda: Bitstring.decode(bomb))
    timed(
        "verify: JSON nested 100,000 deep",
        lambda: verify_credential(deep_json(), policy, now=now).verdict.value,
    )
    cred = certification_credential(did, valid_from=now)
    for alg in ("none", "HS256"):
        token = jwt_with(
            {"alg": alg, "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}, cred
        )
        timed(
            f"verify: vc+jwt with alg {alg}",
            lambda t=token: verify_credential(t, policy, now=now).verdict.value,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
