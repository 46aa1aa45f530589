"""Bulk signing: JSON Lines in, JSON Lines out, one output line per input line, in order.

After an exam session a certification body signs thousands of credentials at once. Each input
line is one unsigned credential; each output line is the signed credential (Data Integrity: the
JSON object on one line; vc+jwt: the compact JWS as a JSON string), or, when that line cannot be
signed, an error object ``{"error": {"line": N, "code": "...", "message": "..."}}`` (a signed
credential always has ``@context``, an error line never has). One bad line never stops the
batch. Lines are signed in a pool of processes (``fork``: the key is inherited, never pickled
or written anywhere); results come back in input order.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from contexts.errors import CertvcError, Code, ErrorCode, InputError
from contexts.loader import ContextStore
from keys.compact_json import compact_json
from keys.keypair import Signer
from keys.suites import Canonicalizer, ProofOptions
from verifier.inputs import loads_limited

from .signing import sign_credential

__all__ = ["BulkSigning", "LineResult", "sign_lines", "split_lines"]

log = logging.getLogger(__name__)

# Lines sent to a worker at a time: enough to amortize the pipe, few enough to keep order cheap.
_CHUNK = 32


@dataclass(frozen=True)
class LineResult:
    """One output line (without its newline); ``ok`` is False for an error line."""

    number: int
    ok: bool
    text: str


@dataclass(frozen=True)
class BulkSigning:
    """What every line is signed with (the signer's repr shows only its id and thumbprint)."""

    signer: Signer
    suite: str
    store: ContextStore
    options: ProofOptions
    canonicalizer: Canonicalizer

    def sign_line(self, number: int, line: str) -> LineResult:
        """Sign one JSON Lines line; a failure becomes an error line, never an exception."""
        try:
            if not line.strip():
                raise InputError("empty line (expected one credential as a JSON object)")
            credential = loads_limited(line.encode("utf-8"))
            if not isinstance(credential, dict):
                raise InputError("the line must be a JSON object (a credential)")
            secured = sign_credential(
                credential,
                self.signer,
                self.suite,
                store=self.store,
                options=self.options,
                canonicalizer=self.canonicalizer,
            )
            text = compact_json(secured).decode("utf-8")
            return LineResult(number, True, text)
        except CertvcError as error:
            return _error(number, error.code, error.message)
        except Exception as error:
            log.exception("unexpected error signing line %d", number)
            return _error(number, ErrorCode.INPUT_UNUSABLE, f"unexpected {type(error).__name__}")


def _error(number: int, code: Code, message: str) -> LineResult:
    body = {"error": {"line": number, "code": str(code), "message": message}}
    return LineResult(number, False, json.dumps(body, ensure_ascii=False))


# The job of a worker process, set once by the pool's initializer (inherited through fork).
_JOB: BulkSigning | None = None


def _start_worker(job: BulkSigning) -> None:
    global _JOB
    _JOB = job


def _sign_in_worker(item: tuple[int, str]) -> LineResult:
    assert _JOB is not None, "the pool initializer sets the job"
    return _JOB.sign_line(*item)


def sign_lines(
    job: BulkSigning, lines: Iterable[str], *, processes: int = 1
) -> Iterator[LineResult]:
    """Sign each line, yielding one result per line in input order.

    ``processes`` > 1 uses that many worker processes where the OS can ``fork`` (the key stays
    in memory, inherited); elsewhere, and for 1, the lines are signed in this process.
    """
    numbered = enumerate(lines, start=1)
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for number, line in numbered:
            yield job.sign_line(number, line)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_start_worker, initargs=(job,)) as pool:
        yield from pool.imap(_sign_in_worker, numbered, chunksize=_CHUNK)


def split_lines(data: bytes) -> list[str]:
    """JSON Lines: UTF-8, one value per ``\\n``-terminated line (a final newline is optional).

    :raises InputError: the data is not UTF-8.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as cause:
        raise InputError("JSON Lines input must be UTF-8") from cause
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
