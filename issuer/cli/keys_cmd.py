"""``certvc keys generate``: a new key pair in an encrypted key file; ``certvc keys rotate``
(the instance's key, :mod:`issuer.cli.instance_cmd`) and ``certvc keys report``
(:mod:`issuer.cli.key_report_cmd`) are loaded when used."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from keys.keypair import KeyPair, KeyType
from keys.keystore import load_passphrase, write_key_file

from . import LazyGroup
from .common import now, output_file, reports_errors


@click.group(
    cls=LazyGroup,
    lazy={
        "rotate": "issuer.cli.instance_cmd:keys_rotate",
        "report": "issuer.cli.key_report_cmd:keys_report",
    },
)
def keys() -> None:
    """Key pairs and key files; rotate the instance's signing key and report what each signed."""


@keys.command()
@click.option(
    "--type",
    "key_type",
    type=click.Choice([t.value for t in KeyType]),
    required=True,
    help="Ed25519 for eddsa-rdfc-2022, P-256 or P-384 for ecdsa-rdfc-2019.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the passphrase from this file (default: $CERTVC_KEY_PASSPHRASE).",
)
@click.option("--plaintext", is_flag=True, help="Development only: write the key unencrypted.")
@click.option("--json", "as_json", is_flag=True, help="Print the public key as JSON.")
@reports_errors
def generate(
    key_type: str, out: Path, passphrase_file: Path | None, plaintext: bool, as_json: bool
) -> None:
    """Write a new key pair to OUT (mode 0600) and print its public Multikey and did:key."""
    output_file(out)
    passphrase = None if plaintext else load_passphrase(os.environ, passphrase_file)
    pair = KeyPair.generate(KeyType(key_type))
    write_key_file(out, pair, passphrase=passphrase, plaintext=plaintext, now=now())
    public = pair.public_key
    if plaintext:
        click.echo("certvc: warning: the key file is NOT encrypted (development only)", err=True)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "type": key_type,
                    "publicKeyMultibase": public.multibase,
                    "did": public.did_key,
                    "verificationMethod": public.did_key_method_id,
                    "file": str(out),
                    "encrypted": not plaintext,
                },
                indent=2,
            )
        )
    else:
        click.echo(f"publicKeyMultibase: {public.multibase}")
        click.echo(f"did: {public.did_key}")
