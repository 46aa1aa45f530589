"""``certvc bench``: credentials per second for one suite and operation, on one core.

Operators size a deployment with it: one process, pinned to one CPU, the product's own signing
or verification path after a warm-up, on a realistic certification credential (or the one
given). ``--reference`` runs the plain pyld path instead of the fast one, for comparison.
"""

from __future__ import annotations

import json
import os

import click

from contexts.errors import InputError
from issuer.benchmark import Operation, benchmark
from keys.keypair import KeyType
from keys.suites import REGISTRY
from verifier.inputs import loads_limited

from .common import context_option, context_store, now, read_input_bytes, reports_errors


def _pin_to_one_core() -> None:
    """One core, as the figures promise (where the OS lets a process choose)."""
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@click.command()
@click.option("--suite", type=click.Choice(sorted(REGISTRY)), required=True)
@click.option("--op", "op", type=click.Choice([o.value for o in Operation]), required=True)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="How long to measure (after the warm-up).",
)
@click.option("--reference", is_flag=True, help="Measure the plain pyld path, not the fast one.")
@click.option(
    "--key-type",
    type=click.Choice([k.value for k in KeyType]),
    help="Default: ed25519 for eddsa-rdfc-2022 and vc+jwt, p-256 for ecdsa-rdfc-2019.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@context_option
@click.argument("credential_path", metavar="[CREDENTIAL.json]", required=False)
@reports_errors
def bench(
    suite: str,
    op: str,
    seconds: float,
    reference: bool,
    key_type: str | None,
    as_json: bool,
    contexts: tuple[str, ...],
    credential_path: str | None,
) -> None:
    """Measure signing or verifying one credential, one process on one core.

    Prints {"suite", "op", "per_second", "median_ms", "p95_ms", ...} with --json. A fresh key
    signs; the credential's issuer becomes that key's DID.
    """
    credential = None
    if credential_path is not None:
        credential = loads_limited(read_input_bytes(credential_path))
        if not isinstance(credential, dict):
            raise InputError("the credential must be a JSON object")
    store = context_store(contexts)
    _pin_to_one_core()
    result = benchmark(
        suite,
        Operation(op),
        store=store,
        now=now(),
        seconds=seconds,
        key_type=KeyType(key_type) if key_type else None,
        credential=credential,
        reference=reference,
    )
    click.echo(json.dumps(result.to_json()) if as_json else result.describe())
