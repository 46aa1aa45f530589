"""``certvc verify``: every check and one verdict; exit 0 valid, 1 not valid, 2 unusable input.

INPUT is a file (credential JSON, vc+jwt, QR payload text, or a PNG/JPEG photo of the QR code),
``-`` for stdin, or the QR text itself (a deep link or bare payload). Status lists and did:web
documents are fetched through the safe fetcher and cached on disk, so ``--offline`` can verify
from the cache at a desk without network.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from contexts.errors import CertvcError, InputError
from keys.did import ChainResolver, DidResolver, LocalResolver
from keys.pinned_key import PinnedKeyResolver
from verifier.inputs import loads_limited
from verifier.qr import looks_like_qr_payload
from verifier.result import Check, CheckStatus, StatusSource, VerificationResult
from verifier.service import Verifier, VerifierSettings, setting_flag

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    context_option,
    context_store,
    fail,
    now,
    read_input_bytes,
)

_MARK = {CheckStatus.PASSED: "ok  ", CheckStatus.FAILED: "FAIL", CheckStatus.SKIPPED: "skip"}


def render_text(result: VerificationResult) -> str:
    lines = [f"{result.verdict.value}"]
    for check in result.checks:
        code = f"{check.code}: " if check.code is not None else ""
        lines.append(f"  {_MARK[check.status]} {check.check.value:<9} {code}{check.message}")
    freshness = result.freshness
    if freshness is not None:
        seen = freshness.to_json()
        offline = " (offline)" if freshness.source is StatusSource.OFFLINE_CACHE else ""
        lines.append(
            f"  status from a {freshness.source.value} list fetched {seen['listFetchedAt']}, "
            f"{seen['ageSeconds']} s before this check{offline}"
        )
    return "\n".join(lines)


def cache_directory(env: Mapping[str, str]) -> Path:
    """``$CERTVC_CACHE_DIR``, else ``$XDG_CACHE_HOME/certvc``, else ``~/.cache/certvc``."""
    if env.get("CERTVC_CACHE_DIR"):
        return Path(env["CERTVC_CACHE_DIR"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "certvc"


def settings_from_env(
    env: Mapping[str, str],
    *,
    trust: Path | None,
    offline: bool,
    refresh: bool,
    trust_any: bool = False,
) -> VerifierSettings:
    """Origins allowed past the address checks (``CERTVC_ALLOW_ORIGINS``, space or comma
    separated), development mode (``CERTVC_DEV_MODE=1``: plain http to those origins when
    they are loopback) and ``CERTVC_VERIFIER_TRUST_ANY`` (as ``--trust-any``)."""
    origins = env.get("CERTVC_ALLOW_ORIGINS", "").replace(",", " ").split()
    return VerifierSettings(
        allow_origins=tuple(origins),
        dev_mode=setting_flag(env.get("CERTVC_DEV_MODE", "")),
        trust_file=trust,
        trust_any=trust_any or setting_flag(env.get("CERTVC_VERIFIER_TRUST_ANY", "")),
        cache_dir=cache_directory(env) / "status",
        offline=offline,
        refresh=refresh,
        canonicalizer=env.get("CERTVC_CANONICALIZER") or "fast",
    )


def _pinned_key(path: Path) -> PinnedKeyResolver:
    """The resolver of ``--key FILE``.

    :raises KeyMaterialError: the file holds no usable public key (see ``keys.pinned_key``).
    :raises InputError: unreadable, or not JSON.
    """
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read --key {path}: {error.strerror}") from error
    return PinnedKeyResolver(loads_limited(data))


def _pinned_documents(paths: tuple[Path, ...]) -> LocalResolver:
    """The resolver of ``--did-document FILE`` (repeatable): each file one DID document, found
    by its ``id`` instead of a fetch (an offline desk with the issuer's did.json, or a DID
    document as it was when the credential was signed).

    :raises InputError: unreadable, not JSON, not an object with a ``did:`` id, or two files
        for one DID.
    """
    documents: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise InputError(f"cannot read --did-document {path}: {error.strerror}") from error
        document = loads_limited(data)
        did = document.get("id") if isinstance(document, dict) else None
        if not isinstance(did, str) or not did.startswith("did:"):
            raise InputError(f"--did-document {path}: not a DID document (no did: id)")
        if did in documents:
            raise InputError(f"--did-document: two documents for {did}")
        documents[did] = document
    return LocalResolver(documents)


def _read(input_path: str) -> bytes:
    if input_path != "-" and not Path(input_path).exists():
        text = input_path.strip()
        if looks_like_qr_payload(text) or text.startswith("https://"):
            return text.encode("utf-8")  # the QR text given on the command line
    return read_input_bytes(input_path)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Trust list of certification bodies (without one no issuer is vouched for: "
    "UNTRUSTED_ISSUER).",
)
@click.option(
    "--trust-any",
    is_flag=True,
    help="Development only: accept any issuer without a trust list (the trust check is "
    "skipped). Also CERTVC_VERIFIER_TRUST_ANY=true.",
)
@click.option("--offline", is_flag=True, help="Use only cached status lists (no network).")
@click.option("--refresh", is_flag=True, help="Ignore cached status lists; fetch them again.")
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The issuer's public key, for an offline desk or an https issuer with JWKs: a JWK "
    "whose kid is the method URL (<issuer>#<fragment>), or a Multikey / JsonWebKey "
    "verification method with id and controller.",
)
@click.option(
    "--did-document",
    "did_documents",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A DID document to use instead of resolving its DID (repeatable): e.g. an issuer's "
    "did.json kept for an offline desk. Its id names the DID it stands for.",
)
@context_option
@click.argument("input_path", metavar="INPUT")
def verify(
    as_json: bool,
    trust_file: Path | None,
    trust_any: bool,
    offline: bool,
    refresh: bool,
    key_file: Path | None,
    did_documents: tuple[Path, ...],
    contexts: tuple[str, ...],
    input_path: str,
) -> None:
    """Verify a credential: JSON, vc+jwt, QR text or a QR image file ('-' for stdin).

    With --key, the key given stands for its controller's DID document (or https issuer): the
    proof must name that key, and the controller must be the credential's issuer.
    """
    if offline and refresh:
        fail(InputError("--offline and --refresh cannot be used together"))
    try:
        store = context_store(contexts)
        settings = settings_from_env(
            os.environ, trust=trust_file, offline=offline, refresh=refresh, trust_any=trust_any
        )
        pinned: DidResolver | None = _pinned_key(key_file) if key_file is not None else None
        if did_documents:
            documents = _pinned_documents(did_documents)
            pinned = documents if pinned is None else ChainResolver(pinned, documents)
        verifier = Verifier.from_settings(settings, store=store, clock=now, own_resolver=pinned)
        data = _read(input_path)
    except CertvcError as error:
        fail(error)
    except OSError as error:
        fail(InputError(f"cannot read {input_path}: {error.strerror}"))
    outcome = verifier.verify(data)
    if outcome.error is not None:
        fail(outcome.error)
    result = outcome.result
    trust = result.check(Check.TRUST)
    if settings.trust_any and trust.status is CheckStatus.SKIPPED and trust_file is None:
        click.echo(
            "certvc: warning: --trust-any: any issuer is accepted, none is vouched for "
            "(development only)",
            err=True,
        )
    elif trust_file is None and trust.status is CheckStatus.FAILED:
        click.echo(
            "certvc: warning: no trust list: no issuer is vouched for; give a trust list "
            "(--trust FILE) of the bodies you rely on",
            err=True,
        )
    for warning in outcome.warnings:
        if warning.startswith("status:"):
            click.echo(f"certvc: warning: {warning}", err=True)
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else render_text(result))
    sys.exit(EXIT_OK if result.verified else EXIT_INVALID)
