"""``certvc sign``: secure a credential with one suite and print it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from contexts.errors import InputError
from keys.dates import parse_datetime_stamp
from keys.suites import REGISTRY, ProofOptions
from verifier.issuing import sign_credential

from ..inputs import loads_limited
from ._common import (
    context_option,
    context_store,
    load_signing_key,
    now,
    read_input_bytes,
    reports_errors,
)


@click.command()
@click.option(
    "--key", "key_path", required=True, help="Key file, Multikey key pair or private JWK."
)
@click.option("--suite", type=click.Choice(sorted(REGISTRY)), required=True)
@click.option("--created", metavar="ISO8601", help="The proof's created time (default: now).")
@click.option("--verification-method", metavar="URL", help="Default: the key's did:key method.")
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Passphrase of an encrypted key file (default: $CERTVC_KEY_PASSPHRASE).",
)
@click.option("--plaintext", is_flag=True, help="Development only: accept an unencrypted key file.")
@context_option
@click.argument("input_path", metavar="IN.json")
@reports_errors
def sign(
    key_path: str,
    suite: str,
    created: str | None,
    verification_method: str | None,
    passphrase_file: Path | None,
    plaintext: bool,
    contexts: tuple[str, ...],
    input_path: str,
) -> None:
    """Sign the credential in IN.json ('-' for stdin) and print it (or the compact JWS)."""
    credential = loads_limited(read_input_bytes(input_path))
    if not isinstance(credential, dict):
        raise InputError("the input must be a JSON object (a credential)")
    pair = load_signing_key(key_path, passphrase_file=passphrase_file, plaintext=plaintext)
    when = parse_datetime_stamp(created) if created is not None else now()
    options = ProofOptions(created=when, verification_method=verification_method)
    secured: Any = sign_credential(
        credential,
        pair.signer(verification_method),
        suite,
        store=context_store(contexts),
        options=options,
    )
    click.echo(
        secured if isinstance(secured, str) else json.dumps(secured, indent=2, ensure_ascii=False)
    )
