"""Recognise what a verifier was handed: credential JSON or a vc+jwt (QR forms come in issue 6).

Untrusted bytes are capped in size and JSON nesting depth *before* they are parsed, so a hostile
input costs a bounded amount of work and never a RecursionError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contexts.errors import ErrorCode, InputError
from keys.suites import vc_jwt

from .result import InputFormat

MAX_INPUT_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64


@dataclass(frozen=True)
class CredentialInput:
    format: InputFormat
    unverified_credential: Mapping[str, Any]
    token: vc_jwt.UnverifiedJwt | None = None


def check_json_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``max_depth`` without parsing it.

    :raises InputError: ``input_too_deep``.
    """
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(
                    f"JSON nested deeper than {max_depth} levels", code=ErrorCode.INPUT_TOO_DEEP
                )
        elif ch in "]}":
            depth -= 1


def loads_limited(data: bytes | str, *, max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """``json.loads`` with size and depth caps; duplicate keys are refused (they hide content).

    :raises InputError: not UTF-8, not JSON, too large or too deep.
    """
    if len(data) > max_bytes:
        raise InputError(f"input larger than {max_bytes} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as cause:
        raise InputError("input is not UTF-8 text") from cause
    check_json_depth(text)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InputError(f"duplicate JSON key {key!r}")
            result[key] = value
        return result

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as cause:
        raise InputError(
            f"not JSON: {cause.msg} at line {cause.lineno} column {cause.colno}"
        ) from cause


def read_credential_input(data: bytes | str) -> CredentialInput:
    """Detect credential JSON or a vc+jwt.

    :raises InputError: the input is neither (unusable input, CLI exit 2).
    :raises ProofError: a token that is recognisably a JWT but malformed or with a refused alg.
    """
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"input larger than {MAX_INPUT_BYTES} bytes", code=ErrorCode.INPUT_TOO_LARGE
        )
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    stripped = text.strip()
    if stripped.startswith("ey") and vc_jwt.looks_like_jwt(stripped):
        token = vc_jwt.parse(stripped)
        return CredentialInput(InputFormat.VC_JWT, token.unverified_payload, token)
    value = loads_limited(data)
    if isinstance(value, dict) and "verifiableCredential" in value and "@context" not in value:
        # the W3C VC API request shape {verifiableCredential, options}
        value = value["verifiableCredential"]
        if isinstance(value, str):
            return read_credential_input(value)
    if not isinstance(value, dict) or ("@context" not in value and "type" not in value):
        raise InputError("the input is not a verifiable credential (no @context or type)")
    return CredentialInput(InputFormat.JSON, value)
