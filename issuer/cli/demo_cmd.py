"""``certvc demo``: sign and verify a sample certification credential in every suite."""

from __future__ import annotations

import base64
import json
from typing import Any

import click

from issuer.signing import sign_credential
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import ProofOptions
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

from .common import canonicalizer, context_store, now, reports_errors

_RUNS = (
    ("eddsa-rdfc-2022", KeyType.ED25519),
    ("ecdsa-rdfc-2019", KeyType.P256),
    ("ecdsa-rdfc-2019", KeyType.P384),
    ("vc+jwt", KeyType.ED25519),
    ("vc+jwt", KeyType.P256),
)


def _tamper(secured: dict[str, Any] | str) -> dict[str, Any] | str:
    """Change the certificate number, keeping the signature: a forgery the proof must catch."""
    if isinstance(secured, str):
        head, payload, sig = secured.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["credentialSubject"]["licenseNumber"] += "9"
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{head}.{forged}.{sig}"
    changed: dict[str, Any] = json.loads(json.dumps(secured))
    changed["credentialSubject"]["licenseNumber"] += "9"
    return changed


@click.command()
@click.option("--show", is_flag=True, help="Also print the first signed credential.")
@reports_errors
def demo(show: bool) -> None:
    """Sign a sample Open Badges 3.0 certification credential in each suite and verify it."""
    store = context_store(())
    chosen = canonicalizer()
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=chosen)
    when = now()
    for i, (suite, key_type) in enumerate(_RUNS):
        pair = KeyPair.generate(key_type)
        credential = certification_credential(pair.public_key.did_key, valid_from=when)
        secured = sign_credential(
            credential,
            pair.signer(),
            suite,
            store=store,
            options=ProofOptions(created=when),
            canonicalizer=chosen,
        )
        if show and i == 0:
            click.echo(json.dumps(secured, indent=2, ensure_ascii=False))
        good = verify_credential(secured, policy, now=when)
        bad = verify_credential(_tamper(secured), policy, now=when)
        click.echo(
            f"{suite:<16} {key_type.value:<8} signed -> {good.verdict.value:<8} "
            f"tampered -> {bad.verdict.value}"
        )
