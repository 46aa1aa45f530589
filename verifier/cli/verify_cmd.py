"""``certvc verify``: every check and one verdict; exit 0 valid, 1 not valid, 2 unusable input."""

from __future__ import annotations

import json
import sys

import click

from contexts.errors import CertvcError, InputError
from keys.did import LocalResolver

from ..engine import VerifierPolicy, verify_credential
from ..inputs import read_credential_input
from ..result import CheckStatus, VerificationResult
from ._common import (
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
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@context_option
@click.argument("input_path", metavar="INPUT")
def verify(as_json: bool, contexts: tuple[str, ...], input_path: str) -> None:
    """Verify a credential JSON file or a vc+jwt file ('-' for stdin)."""
    try:
        store = context_store(contexts)
        item = read_credential_input(read_input_bytes(input_path))
    except CertvcError as error:
        fail(error)
    except OSError as error:
        fail(InputError(f"cannot read {input_path}: {error.strerror}"))
    policy = VerifierPolicy(store=store, resolver=LocalResolver())
    result = verify_credential(item, policy, now=now())
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else render_text(result))
    sys.exit(EXIT_OK if result.verified else EXIT_INVALID)
