"""Reading JSON request bodies with the verifier's limits (size, depth, duplicate keys)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from contexts.errors import ErrorCode, InputError
from verifier.inputs import loads_limited

from ...errors import FieldError


def read_json() -> dict[str, Any]:
    """The request's JSON object.

    :raises InputError: ``unsupported_media_type`` (not JSON), ``input_too_large``,
        ``input_unusable`` (malformed), ``input_too_deep``.
    :raises FieldError: the body is JSON but not an object.
    """
    limit = int(current_app.config["MAX_JSON_BYTES"])
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise InputError("send the body as application/json", code=ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    if request.content_length is not None and request.content_length > limit:
        raise InputError(f"the body is larger than {limit} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"the body is larger than {limit} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    value = loads_limited(data, max_bytes=limit)
    if not isinstance(value, dict):
        raise FieldError("body", "must be a JSON object")
    return value


def query_int(name: str, default: int, *, minimum: int = 0, maximum: int = 1000) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # ASCII digits only ("²" is a digit to str.isdigit but not to int), and few of them (int()
    # refuses texts of thousands of digits).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18) or not (
        minimum <= int(raw) <= maximum
    ):
        raise FieldError(name, f"must be an integer from {minimum} to {maximum}")
    return int(raw)
