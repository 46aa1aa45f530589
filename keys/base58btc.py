"""base58btc (Bitcoin alphabet) for ``proofValue``, equal to the ``base58`` package, faster.

The package converts digit by digit on a big integer (about 88 big-number divisions for an
Ed25519 signature); here the big number is split into 10-digit chunks that fit in a machine
word, so signing and verifying spend microseconds, not tens of them, on the encoding. Anything
unusual (long or non-alphabet input) is left to the package itself, so errors stay the same.
"""

from __future__ import annotations

import re

import base58

__all__ = ["b58decode", "b58encode"]

_ALPHABET = base58.BITCOIN_ALPHABET.decode("ascii")
_VALUE = {char: index for index, char in enumerate(_ALPHABET)}
_CHUNK_DIGITS = 10
_CHUNK = 58**_CHUNK_DIGITS  # < 2**63
_PAIR = 58 * 58
_PAIRS = tuple(a + b for a in _ALPHABET for b in _ALPHABET)  # two digits, most significant first
_PAIR_VALUE = {pair: index for index, pair in enumerate(_PAIRS)}
_PLAIN = re.compile(r"[1-9A-HJ-NP-Za-km-z]*")
# Beyond this the package decodes (its work is quadratic; callers cap lengths themselves).
_MAX_FAST_CHARS = 256


def b58encode(data: bytes) -> str:
    """``base58.b58encode(data).decode("ascii")``."""
    number = int.from_bytes(data, "big")
    pairs: list[str] = []
    append = pairs.append
    while number:
        number, chunk = divmod(number, _CHUNK)
        chunk, low = divmod(chunk, _PAIR)
        append(_PAIRS[low])
        chunk, low = divmod(chunk, _PAIR)
        append(_PAIRS[low])
        chunk, low = divmod(chunk, _PAIR)
        append(_PAIRS[low])
        high, low = divmod(chunk, _PAIR)
        append(_PAIRS[low])
        append(_PAIRS[high])
    pairs.reverse()
    digits = "".join(pairs).lstrip("1")  # the top chunk's leading zeros
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + digits


def b58decode(text: str) -> bytes:
    """``base58.b58decode(text)``, raising ``ValueError`` on the same inputs."""
    if len(text) > _MAX_FAST_CHARS or _PLAIN.fullmatch(text) is None:
        return base58.b58decode(text)
    body = text.lstrip("1")
    number = 0
    if len(body) % 2:
        number = _VALUE[body[0]]
        body_even = body[1:]
    else:
        body_even = body
    pairs = _PAIR_VALUE
    step = 2 * 5  # five pairs: one machine-word chunk
    head = len(body_even) % step
    for i in range(0, head, 2):
        number = number * _PAIR + pairs[body_even[i : i + 2]]
    for i in range(head, len(body_even), step):
        chunk = pairs[body_even[i : i + 2]]
        chunk = chunk * _PAIR + pairs[body_even[i + 2 : i + 4]]
        chunk = chunk * _PAIR + pairs[body_even[i + 4 : i + 6]]
        chunk = chunk * _PAIR + pairs[body_even[i + 6 : i + 8]]
        chunk = chunk * _PAIR + pairs[body_even[i + 8 : i + 10]]
        number = number * _CHUNK + chunk
    zeros = len(text) - len(body)
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")
