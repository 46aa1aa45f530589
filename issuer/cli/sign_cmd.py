"""``certvc sign``: secure a credential with one suite and print it, or a JSON Lines batch.

With ``--presentation`` IN is a verifiable presentation and the key is the holder's: a Data
Integrity proof with purpose ``authentication`` (``--challenge``, ``--domain``), or with
``--suite vc+jwt`` a vp+jwt (the challenge and domain as its ``nonce`` and ``aud`` claims).

With ``--jsonl`` the input holds one credential per line and the output one line per input
line, in order: the signed credential (the compact JWS, as a JSON string, for vc+jwt), or
``{"error": {"line", "code", "message"}}`` for a line that cannot be signed (see
``issuer.bulk_signing``). Exit 0 when every line was signed, 1 when some were not, 2 when the batch
could not start. A progress bar goes to stderr when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from contexts.errors import InputError, ShapeError
from issuer.bulk_signing import BulkSigning, sign_lines, split_lines
from issuer.services import fields
from issuer.signing import sign_credential, sign_presentation
from keys.dates import parse_datetime_stamp
from keys.suites import REGISTRY, ProofOptions, vc_jwt
from verifier.inputs import loads_limited

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    canonicalizer,
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
@click.option(
    "--created",
    metavar="ISO8601",
    help="The proof's created time, e.g. 2026-11-01T09:00:00Z (default: now).",
)
@click.option("--verification-method", metavar="URL", help="Default: the key's did:key method.")
@click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Passphrase of an encrypted key file (default: $CERTVC_KEY_PASSPHRASE).",
)
@click.option("--plaintext", is_flag=True, help="Development only: accept an unencrypted key file.")
@click.option(
    "--proof-id",
    metavar="URL",
    help="An id for the new proof (e.g. urn:uuid:...), so a later proof can chain to it.",
)
@click.option(
    "--previous-proof",
    "previous_proofs",
    metavar="ID",
    multiple=True,
    help="Chain the new proof to this proof of IN (repeatable; Data Integrity previousProof).",
)
@click.option(
    "--jsonl",
    is_flag=True,
    help="IN holds one credential per line; print one signed credential (or error) per line.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes signing a --jsonl batch (default: the CPUs this process may use).",
)
@click.option(
    "--presentation",
    is_flag=True,
    help="IN is a verifiable presentation, signed with the holder's key (proof purpose "
    "authentication; vc+jwt: a vp+jwt).",
)
@click.option(
    "--challenge",
    metavar="TEXT",
    help="With --presentation: the verifier's challenge (vp+jwt: the nonce claim).",
)
@click.option(
    "--domain",
    metavar="TEXT",
    help="With --presentation: the verifier's domain (vp+jwt: the aud claim).",
)
@click.option(
    "--enveloped",
    is_flag=True,
    help="vc+jwt: print the EnvelopedVerifiableCredential (or ...Presentation) object "
    "instead of the bare compact JWS.",
)
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
    proof_id: str | None,
    previous_proofs: tuple[str, ...],
    jsonl: bool,
    jobs: int | None,
    presentation: bool,
    challenge: str | None,
    domain: str | None,
    enveloped: bool,
    contexts: tuple[str, ...],
    input_path: str,
) -> None:
    """Sign the credential in IN.json ('-' for stdin) and print it (or the compact JWS).

    A credential that already has proofs gets one more (a proof set); with --previous-proof the
    new proof chains to the proofs named, and covers them too.

    With --jsonl, IN holds one credential per line and each output line is the signed
    credential (vc+jwt: the JWS as a JSON string) or {"error": {"line", "code", "message"}}, in
    input order; exit 1 if any line failed.

    With --presentation, IN is a presentation and KEY the holder's: the proof's purpose is
    authentication, with --challenge and --domain when the verifier gave them.
    """
    if (proof_id or previous_proofs) and REGISTRY[suite].cryptosuite is None:
        raise click.UsageError("--proof-id and --previous-proof need a Data Integrity suite")
    if (challenge is not None or domain is not None) and not presentation:
        raise click.UsageError("--challenge and --domain sign a --presentation")
    if presentation and jsonl:
        raise click.UsageError("--presentation signs one presentation, not a --jsonl batch")
    if enveloped and (REGISTRY[suite].cryptosuite is not None or jsonl):
        raise click.UsageError("--enveloped is for one vc+jwt credential or presentation")
    when = _created(created)
    previous = previous_proofs[0] if len(previous_proofs) == 1 else list(previous_proofs)
    chain: dict[str, Any] = {"id": proof_id, "previous_proof": previous or None}
    if jsonl:
        _sign_batch(
            key_path,
            suite,
            when,
            verification_method,
            passphrase_file,
            plaintext,
            jobs,
            contexts,
            input_path,
            chain,
        )
        return
    credential = loads_limited(read_input_bytes(input_path))
    if not isinstance(credential, dict):
        raise InputError("the input must be a JSON object (a credential or presentation)")
    pair = load_signing_key(key_path, passphrase_file=passphrase_file, plaintext=plaintext)
    options = ProofOptions(
        created=when,
        verification_method=verification_method,
        challenge=challenge,
        domain=domain,
        **chain,
    )
    secured: Any = (sign_presentation if presentation else sign_credential)(
        credential,
        pair.signer(verification_method),
        suite,
        store=context_store(contexts),
        options=options,
        canonicalizer=canonicalizer(),
    )
    if enveloped:
        secured = vc_jwt.envelope(secured, presentation=presentation)
    click.echo(
        secured if isinstance(secured, str) else json.dumps(secured, indent=2, ensure_ascii=False)
    )


def _created(value: str | None) -> datetime:
    """The proof's ``created``: a dateTimeStamp as given (its offset kept), or a date
    (midnight UTC); anything else is refused saying what to type.

    :raises FieldError: ``field_invalid`` naming ``--created``.
    """
    if value is None:
        return now()
    try:
        return parse_datetime_stamp(value)
    except ShapeError:
        moment = fields.moment({"--created": value}, "--created")
        assert moment is not None
        return moment


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _sign_batch(
    key_path: str,
    suite: str,
    when: datetime,
    verification_method: str | None,
    passphrase_file: Path | None,
    plaintext: bool,
    jobs: int | None,
    contexts: tuple[str, ...],
    input_path: str,
    chain: dict[str, Any],
) -> None:
    lines = split_lines(read_input_bytes(input_path))
    pair = load_signing_key(key_path, passphrase_file=passphrase_file, plaintext=plaintext)
    job = BulkSigning(
        signer=pair.signer(verification_method),
        suite=suite,
        store=context_store(contexts),
        options=ProofOptions(created=when, verification_method=verification_method, **chain),
        canonicalizer=canonicalizer(),
    )
    processes = min(jobs or _usable_cpus(), max(1, len(lines)))
    failed = 0
    with _progress(len(lines)) as advance:
        for result in sign_lines(job, lines, processes=processes):
            click.echo(result.text)
            failed += not result.ok
            advance(1)
    if failed:
        click.echo(f"certvc: {failed} of {len(lines)} lines could not be signed", err=True)
    sys.exit(EXIT_INVALID if failed else EXIT_OK)


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; nothing at all otherwise."""
    if not sys.stderr.isatty():
        yield lambda _steps: None
        return
    with click.progressbar(length=total, label="signing", file=sys.stderr) as bar:
        yield bar.update
