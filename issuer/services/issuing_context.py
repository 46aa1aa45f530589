"""What every issuing service needs besides the session: URLs, keys, contexts, randomness.

Built once by an adapter (the Flask app or a CLI command) and passed down; services never
read the environment or the clock (STYLE §12).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from contexts.loader import ContextStore
from keys.suites import Canonicalizer
from verifier.model.status_list import MIN_BITS

from .keyring import Keyring

DEFAULT_STATUS_TTL_MS = 60_000


class Randomness(Protocol):
    """The part of :class:`random.Random` the services use (``secrets.SystemRandom`` in
    production, a seeded ``random.Random`` in tests)."""

    def randrange(self, start: int, stop: int | None = ..., step: int = ...) -> int: ...

    def getrandbits(self, k: int, /) -> int: ...


@dataclass(frozen=True)
class Delivery:
    """E-mail delivery is on (``CERTVC_SMTP_URL`` is set): issuing, renewing and reducing a
    scope queue a claim-link message for a person with an e-mail address, in the action's
    transaction (:func:`issuer.services.claims.notify`)."""

    claim_ttl_days: int


@dataclass(frozen=True)
class IssuerContext:
    public_url: str
    keyring: Keyring
    store: ContextStore
    rng: Randomness
    #: Chosen by the composition root (the app factory, the CLI): ``CERTVC_CANONICALIZER``.
    canonicalizer: Canonicalizer
    status_ttl_ms: int = DEFAULT_STATUS_TTL_MS
    list_size: int = MIN_BITS
    #: None: no mail is configured, so none is queued.
    delivery: Delivery | None = None

    def __post_init__(self) -> None:
        if self.list_size < MIN_BITS or self.list_size % 8:
            raise ValueError(f"status lists need at least {MIN_BITS} entries, a multiple of 8")
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    @property
    def did(self) -> str:
        return self.keyring.did

    def url(self, path: str) -> str:
        return f"{self.public_url}/{path.lstrip('/')}"

    def status_list_url(self, list_id: int) -> str:
        return self.url(f"status/{list_id}")

    def new_credential_id(self) -> str:
        """``<public URL>/credentials/<uuid4>``: unguessable, from the injected randomness."""
        value = uuid.UUID(int=self.rng.getrandbits(128), version=4)
        return self.url(f"credentials/{value}")
