"""What the CLI commands share: error reporting, context options, key loading, the clock.

Only adapters read the environment and the clock (STYLE §12); everything below them takes
values.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from contexts.errors import CertvcError, InputError
from contexts.loader import ContextStore, default_store, parse_context_option
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyPair
from keys.keystore import load_passphrase, read_key_file
from keys.suites import Canonicalizer, canonicalizer_named

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes (a public interface): 0 success/valid, 1 not valid, 2 unusable input or usage.
EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def fail(error: CertvcError) -> None:
    """One line on stderr naming the code and what to fix; no traceback, ever."""
    click.echo(f"certvc: error: {error.code}: {error.message}", err=True)
    sys.exit(EXIT_UNUSABLE)


def reports_errors(func: F) -> F:
    """Turn certvc's typed errors (and OS errors on files) into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CertvcError as error:
            fail(error)
        except OSError as error:
            fail(InputError(f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")))

    return wrapper  # type: ignore[return-value]


def now() -> datetime:
    return datetime.now(UTC)


context_option = click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="URL=FILE",
    help="Admit one extra JSON-LD context for this run only (repeatable).",
)


def canonicalizer(env: Mapping[str, str] | None = None) -> Canonicalizer:
    """The canonicalizer the operator chose: ``CERTVC_CANONICALIZER`` (``fast``, the default, or
    ``reference``). The CLI is a composition root: it decides, the libraries take the choice.

    :raises InputError: an unknown name.
    """
    env = os.environ if env is None else env
    return canonicalizer_named(env.get("CERTVC_CANONICALIZER") or "fast")


def context_store(contexts: Sequence[str], env: Mapping[str, str] | None = None) -> ContextStore:
    """The pinned store, plus an operator manifest (CERTVC_CONTEXTS_MANIFEST), plus --context."""
    env = os.environ if env is None else env
    manifest = env.get("CERTVC_CONTEXTS_MANIFEST")
    store = ContextStore.pinned(extra_manifest=Path(manifest)) if manifest else default_store()
    for option in contexts:
        url, path = parse_context_option(option)
        store = store.with_context(url, path)
    return store


def read_input_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    return Path(path).read_bytes()


def load_signing_key(path: str, *, passphrase_file: Path | None, plaintext: bool) -> KeyPair:
    """A certvc key file, a Multikey key pair (as in the W3C vectors) or a private JWK."""
    raw = Path(path).read_bytes()
    try:
        data = json.loads(raw)
    except ValueError as cause:
        raise KeyMaterialError(f"{path} is not a JSON key file") from cause
    if not isinstance(data, dict):
        raise KeyMaterialError(f"{path} is not a key file (expected a JSON object)")
    if "privateKeyPem" in data:
        passphrase = load_passphrase(os.environ, passphrase_file)
        return read_key_file(Path(path), passphrase=passphrase, allow_plaintext=plaintext)
    if "secretKeyMultibase" in data or "privateKeyMultibase" in data:
        click.echo("certvc: warning: signing with an unencrypted Multikey key pair", err=True)
        return KeyPair.from_multikey(data)
    if "kty" in data:
        if "d" not in data:
            raise KeyMaterialError(f"{path} holds a public JWK; signing needs the private key")
        click.echo("certvc: warning: signing with an unencrypted JWK", err=True)
        return KeyPair.from_jwk(data)
    raise KeyMaterialError(
        f"{path}: not a certvc key file, a Multikey key pair or a private JWK",
        code=KeyCode.KEY_UNSUPPORTED,
    )
