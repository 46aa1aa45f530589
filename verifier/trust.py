"""The trust list: which certification bodies this verifier vouches for.

A JSON file the operator maintains (docs/verifier.md)::

    {"certvcTrustList": 1,
     "bodies": [{"did": "did:web:certs.example-body.org",
                 "name": "Example Personnel Certification Body",
                 "accreditation": {"body": "DAkkS", "id": "D-ZP-12345-01-00",
                                   "standard": "ISO/IEC 17024:2012",
                                   "validFrom": "2024-03-01T00:00:00Z",
                                   "validUntil": "2029-02-28T23:59:59Z"},
                 "didDocument": {...optional: the pinned DID document...}}]}

A proof only shows *who* signed; the trust list says whether that signer is a body the verifier
recognises. Implements the engine's ``TrustList`` protocol: an issuer on the list passes the
``trust`` check, any other fails it with ``issuer_not_trusted`` (verdict UNTRUSTED_ISSUER), and
so does a listed body outside its accreditation's ``validFrom``/``validUntil``, with
``accreditation_not_current``: an accreditation that ended or is yet to start vouches for
nothing (ISO/IEC 17024 certificates are worth the body's accreditation). A
pinned DID document lets did:web issuers verify without fetching (and pins their keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from contexts.errors import CertvcError
from keys.dates import format_datetime_stamp, parse_datetime_stamp
from keys.did import did_web_to_url, resolve_did_key
from keys.errors import DidError

from .errors import VerifierCode
from .inputs import loads_limited
from .result import Check, CheckResult

FORMAT_VERSION = 1
MAX_TRUST_LIST_BYTES = 4 * 1024 * 1024
_ACCREDITATION_FIELDS = ("body", "id", "standard", "url")
_ACCREDITATION_DATES = ("validFrom", "validUntil")


class TrustListError(CertvcError):
    code = VerifierCode.TRUST_LIST_INVALID


@dataclass(frozen=True)
class Accreditation:
    body: str | None = None
    id: str | None = None
    standard: str | None = None
    url: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __str__(self) -> str:
        parts = [self.body, self.id, f"({self.standard})" if self.standard else None]
        return " ".join(p for p in parts if p)

    def not_current(self, now: datetime) -> str | None:
        """Why the accreditation does not hold at ``now``, or None when it does."""
        if self.valid_from is not None and now < self.valid_from:
            return f"starts on {format_datetime_stamp(self.valid_from)}"
        if self.valid_until is not None and now > self.valid_until:
            return f"ended on {format_datetime_stamp(self.valid_until)}"
        return None


@dataclass(frozen=True)
class TrustedBody:
    did: str
    name: str
    accreditation: Accreditation | None = None
    did_document: Mapping[str, Any] | None = field(default=None, repr=False)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 1000:
        raise TrustListError(f"{where} must be a non-empty string")
    return value


def _accreditation(value: object, where: str) -> Accreditation | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Accreditation(id=_text(value, where))
    allowed = _ACCREDITATION_FIELDS + _ACCREDITATION_DATES
    if not isinstance(value, dict) or not set(value) <= set(allowed):
        raise TrustListError(f"{where} must be a string or an object with {allowed}")
    texts = {k: _text(v, f"{where}.{k}") for k, v in value.items() if k in _ACCREDITATION_FIELDS}
    valid_from = _date(value.get("validFrom"), f"{where}.validFrom")
    valid_until = _date(value.get("validUntil"), f"{where}.validUntil")
    if valid_from is not None and valid_until is not None and valid_from > valid_until:
        raise TrustListError(f"{where}.validUntil is earlier than its validFrom")
    return Accreditation(**texts, valid_from=valid_from, valid_until=valid_until)


def _date(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime_stamp(value)
    except CertvcError as error:
        raise TrustListError(f"{where}: {error.message}") from error


def _check_did(did: str, where: str) -> None:
    try:
        if did.startswith("did:key:"):
            resolve_did_key(did)
        elif did.startswith("did:web:"):
            did_web_to_url(did)
        else:
            raise TrustListError(f"{where}: only did:key and did:web issuers are supported")
    except DidError as error:
        raise TrustListError(f"{where}: {error.message}") from error


def _body(value: object, where: str) -> TrustedBody:
    if not isinstance(value, dict):
        raise TrustListError(f"{where} must be an object")
    unknown = set(value) - {"did", "name", "accreditation", "didDocument"}
    if unknown:
        raise TrustListError(f"{where} has unknown properties {sorted(unknown)}")
    did = _text(value.get("did"), f"{where}.did")
    _check_did(did, f"{where}.did")
    document = value.get("didDocument")
    if document is not None and (not isinstance(document, dict) or document.get("id") != did):
        raise TrustListError(f"{where}.didDocument must be the DID document of {did}")
    return TrustedBody(
        did=did,
        name=_text(value.get("name"), f"{where}.name"),
        accreditation=_accreditation(value.get("accreditation"), f"{where}.accreditation"),
        did_document=document,
    )


class TrustList:
    """The bodies this verifier trusts, by issuer DID (the engine's ``TrustList``)."""

    def __init__(self, bodies: list[TrustedBody]) -> None:
        self._bodies: dict[str, TrustedBody] = {}
        for body in bodies:
            if body.did in self._bodies:
                raise TrustListError(f"{body.did} is listed twice")
            self._bodies[body.did] = body

    @classmethod
    def from_json(cls, data: bytes | str) -> TrustList:
        """:raises TrustListError: ``trust_list_invalid`` naming what is wrong."""
        try:
            value = loads_limited(data, max_bytes=MAX_TRUST_LIST_BYTES)
        except CertvcError as error:
            raise TrustListError(f"the trust list is not usable JSON: {error.message}") from error
        if not isinstance(value, dict) or value.get("certvcTrustList") != FORMAT_VERSION:
            raise TrustListError(
                f'a trust list is an object with "certvcTrustList": {FORMAT_VERSION}'
            )
        bodies = value.get("bodies")
        if not isinstance(bodies, list):
            raise TrustListError('"bodies" must be a list')
        return cls([_body(item, f"bodies[{i}]") for i, item in enumerate(bodies)])

    @classmethod
    def from_file(cls, path: Path) -> TrustList:
        """:raises TrustListError: unreadable or invalid file."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise TrustListError(f"cannot read the trust list {path}: {error.strerror}") from error
        return cls.from_json(data)

    def __call__(self, issuer_id: str, *, now: datetime) -> CheckResult:
        body = self._bodies.get(issuer_id)
        if body is None:
            return CheckResult.failed(
                Check.TRUST,
                VerifierCode.ISSUER_NOT_TRUSTED,
                f"{issuer_id} is not a certification body on this verifier's trust list",
            )
        why = body.accreditation.not_current(now) if body.accreditation else None
        if why is not None:
            return CheckResult.failed(
                Check.TRUST,
                VerifierCode.ACCREDITATION_NOT_CURRENT,
                f"{body.name} is on the trust list, but its accreditation {body.accreditation} "
                f"{why}",
            )
        accredited = f", accredited {body.accreditation}" if body.accreditation else ""
        return CheckResult.passed(Check.TRUST, f"{body.name}{accredited}")

    def __len__(self) -> int:
        return len(self._bodies)

    def body(self, did: str | None) -> TrustedBody | None:
        return self._bodies.get(did) if did is not None else None

    def pinned_documents(self) -> dict[str, Mapping[str, Any]]:
        """DID documents pinned in the list, for ``keys.did.LocalResolver``."""
        return {b.did: b.did_document for b in self._bodies.values() if b.did_document is not None}


@dataclass(frozen=True)
class HomeBody:
    """The certification body a verifier is mounted on: it vouches for itself, keys and all.

    ``profile`` gives its current name and accreditation (a body may rename itself; what its
    credentials were signed with is its DID, which does not change).
    """

    did: str
    profile: Callable[[], TrustedBody]
    #: Where its logo is served, when it has one (the verifier page shows it).
    logo_url: Callable[[], str | None] = field(default=lambda: None)


class TrustPolicy:
    """Whom a verifier vouches for: the engine's ``TrustList`` as every adapter builds it.

    Its own body when it is mounted on an issuer (``home``), the bodies of the trust list, and
    nobody else: an issuer nobody vouches for is ``issuer_not_trusted`` (UNTRUSTED_ISSUER), so
    a correctly signed credential from a throwaway key is never called valid. ``trust_any`` is
    the operator's explicit opt-out (development): unlisted issuers are then not judged and the
    trust check is skipped with a warning.
    """

    def __init__(
        self,
        listed: TrustList | None = None,
        *,
        home: HomeBody | None = None,
        trust_any: bool = False,
    ) -> None:
        self.listed = listed
        self.home = home
        self.trust_any = trust_any

    def __call__(self, issuer_id: str, *, now: datetime) -> CheckResult:
        if self.home is not None and issuer_id == self.home.did:
            body = self.home.profile()
            statement = str(body.accreditation or "")
            # the body's own words may already say "accredited" (a free-text statement)
            accredited = "" if not statement else f", {statement}"
            if statement and "accredit" not in statement.lower():
                accredited = f", accredited {statement}"
            return CheckResult.passed(
                Check.TRUST, f"{body.name}{accredited}: the body this verifier belongs to"
            )
        if self.listed is not None and self.listed.body(issuer_id) is not None:
            return self.listed(issuer_id, now=now)
        if self.trust_any:
            return CheckResult.skipped(
                Check.TRUST,
                f"{issuer_id} is not vouched for by anyone: this verifier accepts any issuer "
                "(trust-any, a development setting)",
            )
        if self.listed is not None:
            return self.listed(issuer_id, now=now)
        home = f" except {self.home.profile().name}" if self.home is not None else ""
        return CheckResult.failed(
            Check.TRUST,
            VerifierCode.ISSUER_NOT_TRUSTED,
            f"{issuer_id} is not vouched for: this verifier has no trust list and trusts no "
            f"certification body{home}",
        )

    def body(self, did: str | None) -> TrustedBody | None:
        """The body this verifier knows as ``did`` (its own, or one of the list)."""
        if did is None:
            return None
        if self.home is not None and did == self.home.did:
            return self.home.profile()
        return self.listed.body(did) if self.listed is not None else None

    def pinned_documents(self) -> dict[str, Mapping[str, Any]]:
        return self.listed.pinned_documents() if self.listed is not None else {}
