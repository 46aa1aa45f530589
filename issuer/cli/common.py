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
from issuer.errors import FieldError
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyPair
from keys.keystore import load_passphrase, read_key_file
from keys.suites import Canonicalizer, canonicalizer_named

F = TypeVar("F", bound=Callable[..., Any])

#: Exit codes (a public interface): 0 success/valid, 1 not valid, 2 unusable input or usage.
EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def error_line(code: str, message: str) -> str:
    """``certvc: error: <code>: <what to fix>``: the one format of every CLI error."""
    return f"certvc: error: {code}: {message}"


def fail(error: CertvcError) -> None:
    """One line on stderr naming the code and what to fix; no traceback, ever."""
    click.echo(error_line(error.code, error.message), err=True)
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
            fail(InputError(_os_error_text(error)))

    return wrapper  # type: ignore[return-value]


def _os_error_text(error: OSError) -> str:
    """The OS's reason and the file; a file in a folder that does not exist names the folder
    (never a temporary name an atomic write made up)."""
    name = error.filename
    if isinstance(error, FileNotFoundError) and isinstance(name, str | Path):
        folder = Path(name).parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist: create it first"
    return f"{error.strerror or error}: {name or ''}".rstrip(": ")


def output_file(path: Path, option: str = "--out") -> Path:
    """``path`` as given, once its folder is known to exist: checked before any work, so the
    error names the folder the user typed (a temporary file beside it would fail later with
    its own, made-up name).

    :raises FieldError: ``field_invalid`` naming ``option`` and the folder.
    """
    folder = path.parent
    if not folder.exists():
        raise FieldError(option, f"the folder {folder} does not exist: create it first")
    if not folder.is_dir():
        raise FieldError(option, f"{folder} is not a folder")
    return path


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
        try:
            return read_key_file(Path(path), passphrase=passphrase, allow_plaintext=plaintext)
        except KeyMaterialError as error:
            if error.code is not KeyCode.PLAINTEXT_KEY_REFUSED:
                raise
            raise KeyMaterialError(
                f"{path} holds an unencrypted key, allowed only in development mode: add "
                "--plaintext to sign with it anyway, or use an encrypted key file "
                "(certvc keys generate without --plaintext)",
                code=KeyCode.PLAINTEXT_KEY_REFUSED,
            ) from error
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
