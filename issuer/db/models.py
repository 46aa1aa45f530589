"""The issuer's records (SQLAlchemy 2.0 declarative mapping) and the enums they use.

Only what an ISO/IEC 17024 certificate needs is stored about a person (the standard demands
confidentiality): a name and the body's own reference. Spec strings live in the enums' values;
code compares members, never strings (STYLE §13).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy import Enum as SqlEnum
from sqlalchemy.orm import Mapped, mapped_column, relationship

from keys.suites import REGISTRY
from verifier.model.status_list import StatusPurpose

from ..services.images.check import ImageType
from . import Base, UTCDateTime


class State(Enum):
    """A certification's state. ``EXPIRED`` is never stored: expiry is carried by the dates and
    shown by :meth:`Certification.state_at`."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class CredentialState(Enum):
    """What the status bits of one issued credential say."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"  # withdrawn: revocation bit set, final
    SUPERSEDED = "superseded"  # renewed or scope reduced: revocation bit set, a newer one exists


#: The securing suites, derived from the one registry (``keys.suites.REGISTRY``): member
#: ``EDDSA_RDFC_2022`` has the value ``eddsa-rdfc-2022``, ``VC_JWT`` ``vc+jwt``.
SecuringSuite = Enum(  # type: ignore[misc]  # the functional API: members from the registry
    "SecuringSuite",
    [(name.upper().replace("-", "_").replace("+", "_"), name) for name in sorted(REGISTRY)],
)


class CredentialFormat(Enum):
    """``ldp_vc``: JSON with a Data Integrity proof; ``jwt_vc``: a compact vc+jwt JWS."""

    LDP_VC = "ldp_vc"
    JWT_VC = "jwt_vc"


class AchievementType(Enum):
    """Open Badges 3.0 achievementType values that fit a personnel certification."""

    CERTIFICATION = "Certification"
    CERTIFICATE = "Certificate"
    LICENSE = "License"
    COMPETENCY = "Competency"


class Scope(Enum):
    """API token scopes; ``admin`` includes the other two."""

    ISSUE = "issue"
    STATUS = "status"
    ADMIN = "admin"


class Role(Enum):
    """Admin UI roles: officers act on certifications, auditors read, admins do both."""

    OFFICER = "officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Action(Enum):
    """What an audit event records."""

    INIT = "init"
    BODY_CREATE = "body.create"
    SCHEME_CREATE = "scheme.create"
    PERSON_CREATE = "person.create"
    IMPORT = "import"
    ISSUE = "issue"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    WITHDRAW = "withdraw"
    RENEW = "renew"
    REDUCE_SCOPE = "reduce-scope"
    CREDENTIAL_ISSUE = "credential.issue"
    CREDENTIAL_STATUS = "credential.status"
    KEY_ROTATE = "key.rotate"
    TOKEN_CREATE = "token.create"
    USER_CREATE = "user.create"
    # wallet export (issue 7)
    OFFER_CREATE = "offer.create"  # an OpenID4VCI credential offer was made
    CREDENTIAL_WALLET = "credential.wallet"  # a holder-bound copy went to a wallet
    CREDENTIAL_SECURE = "credential.secure"  # the same credential secured the other way
    PAGE_PUBLISH = "page.publish"  # the public credential page was turned on
    PAGE_UNPUBLISH = "page.unpublish"  # ... and off
    # uploaded images (0003)
    SCHEME_IMAGE = "scheme.image"  # a scheme's badge image was uploaded or replaced
    BODY_LOGO = "body.logo"  # the body's logo was uploaded or replaced
    # renewals without a gap (0005)
    SUPERSEDE = "supersede"  # a renewal's start came: the previous credential is superseded
    # running a body (0006)
    BODY_UPDATE = "body.update"  # the body's identity or accreditation changed
    SCHEME_UPDATE = "scheme.update"  # a scheme changed (new credentials only)
    SCHEME_RETIRE = "scheme.retire"  # a scheme issues nothing new any more
    USER_UPDATE = "user.update"  # a staff account's role, state or password changed
    REGISTER_EXPORT = "register.export"  # the register (personal data) was exported
    # sign-ins (0007)
    LOGIN = "login"  # a staff member signed in
    LOGIN_FAILED = "login.failed"  # a wrong user name or password, or a throttled attempt
    LOGOUT = "logout"  # a staff member signed out (their session ended)
    # key compromise (0008)
    REISSUE = "reissue"  # the same certification, a new credential signed by the active key
    # delivery (0011)
    PERSON_UPDATE = "person.update"  # a person's name or e-mail address changed
    MAIL_RESEND = "mail.resend"  # staff sent an outbox message again
    CLAIM_CREATE = "claim.create"  # staff made a claim link by hand (shown once)
    CLAIM_REVOKE = "claim.revoke"  # staff revoked a holder's claim link
    # the certification cycle (0013)
    SURVEILLANCE_RECORD = "surveillance.record"  # a surveillance activity and its outcome


class SurveillanceKind(Enum):
    """What a surveillance activity was (ISO/IEC 17024 §9.6: the scheme says which it needs)."""

    DOCUMENT_REVIEW = "document-review"
    ASSESSMENT = "assessment"
    CPD_EVIDENCE = "cpd-evidence"  # continuing professional development records
    INTERVIEW = "interview"
    OTHER = "other"


class SurveillanceOutcome(Enum):
    """What staff concluded. Only ``SATISFACTORY`` restarts the surveillance interval; the
    others may lead to a decision (suspend, withdraw, reduce scope), never by themselves."""

    SATISFACTORY = "satisfactory"
    FINDINGS = "findings"
    NOT_SATISFACTORY = "not-satisfactory"


class AttachmentType(Enum):
    """The file types a surveillance record may carry, found from the content, never the name."""

    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    TEXT = "text/plain"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
            self.value, "txt"
        )


class ReminderKind(Enum):
    """What the certification cycle (``certvc cycle run``) noted for a certification."""

    EXPIRY = "expiry"  # the certification expires within the threshold's days
    SURVEILLANCE_DUE = "surveillance-due"  # a surveillance falls due within the notice days
    SURVEILLANCE_OVERDUE = "surveillance-overdue"  # its due date has passed


class JobKind(Enum):
    """What a background job does (``issuer.services.jobs``)."""

    CSV_IMPORT = "csv-import"


class OutboxState(Enum):
    """Where an outbox message is (``issuer.services.outbox``)."""

    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    SENDING = "sending"  # a sender holds its lease and is talking to the mail server
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt (``last_error`` says why)


class JobState(Enum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"  # a worker holds its lease
    DONE = "done"
    FAILED = "failed"


def _enum(enum: type[Enum], name: str) -> SqlEnum:
    return SqlEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class CertificationBody(Base):
    __tablename__ = "certification_bodies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500))
    did: Mapped[str] = mapped_column(String(500), unique=True)
    #: A one-line accreditation statement (free text, the form before 0006); the structured
    #: fields below are what new credentials carry when set.
    accreditation: Mapped[str] = mapped_column(Text, default="")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The body's identity (0006): what its issuer profile says.
    legal_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str | None] = mapped_column(String(320))
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Its accreditation (ISO/IEC 17024 by a national accreditation body).
    accreditation_body: Mapped[str] = mapped_column(String(200), default="", server_default="")
    accreditation_number: Mapped[str] = mapped_column(String(100), default="", server_default="")
    accreditation_standard: Mapped[str] = mapped_column(
        String(100), default="ISO/IEC 17024:2012", server_default="ISO/IEC 17024:2012"
    )
    accredited_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accredited_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accreditation_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: An uploaded logo (PNG): served at /body/logo.png and printed on the PDF certificate.
    logo: Mapped[StoredImage | None] = relationship(foreign_keys="StoredImage.body_id")


class Scheme(Base):
    __tablename__ = "schemes"
    __table_args__ = (CheckConstraint("validity_days > 0", name="validity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("certification_bodies.id"))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    criteria: Mapped[str] = mapped_column(Text)
    standard_name: Mapped[str] = mapped_column(String(200))
    standard_url: Mapped[str | None] = mapped_column(String(500))
    validity_days: Mapped[int] = mapped_column(Integer)
    achievement_type: Mapped[AchievementType] = mapped_column(
        _enum(AchievementType, "achievement_type")
    )
    suite: Mapped[SecuringSuite] = mapped_column(_enum(SecuringSuite, "suite"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The certification cycle (0006, ISO/IEC 17024 §9.6): surveillance and recertification.
    surveillance_months: Mapped[int | None] = mapped_column(Integer)
    recertification: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Retired: issues nothing new; its certifications keep their course.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Days before expiry at which the certified person is reminded (0013): comma-separated,
    #: largest first ("90,30,7"); empty: no reminders.
    reminder_days: Mapped[str] = mapped_column(
        String(100), default="90,30,7", server_default="90,30,7"
    )

    body: Mapped[CertificationBody] = relationship()
    #: An uploaded badge image (PNG or SVG): served at /schemes/<code>/badge.<ext>.
    image: Mapped[StoredImage | None] = relationship(foreign_keys="StoredImage.scheme_id")

    @property
    def reminder_thresholds(self) -> tuple[int, ...]:
        """The reminder days, largest first (stored checked: ``catalog.parse_reminder_days``)."""
        return tuple(sorted((int(d) for d in self.reminder_days.split(",") if d), reverse=True))


class StoredImage(Base):
    """An uploaded image that passed :mod:`issuer.services.images.check`, owned by one scheme (its
    badge) or by the body (its logo). The bytes are loaded only when asked for."""

    __tablename__ = "images"
    __table_args__ = (
        CheckConstraint("(scheme_id IS NULL) <> (body_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int | None] = mapped_column(ForeignKey("schemes.id"), unique=True)
    body_id: Mapped[int | None] = mapped_column(ForeignKey("certification_bodies.id"), unique=True)
    media_type: Mapped[ImageType] = mapped_column(_enum(ImageType, "image_type"))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Where the certificate is delivered (0011, optional): its claim link goes there.
    email: Mapped[str | None] = mapped_column(String(320))


class Certification(Base):
    __tablename__ = "certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("schemes.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    effective: Mapped[datetime] = mapped_column(UTCDateTime)
    expires: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[State] = mapped_column(_enum(State, "state"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Opt-in (an officer's audited decision): the credentials are served at their id URLs.
    public_page: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    person: Mapped[Person] = relationship()
    scheme: Mapped[Scheme] = relationship()
    credentials: Mapped[list[IssuedCredential]] = relationship(
        back_populates="certification", order_by="IssuedCredential.id"
    )

    def state_at(self, now: datetime) -> State:
        """The state to show: a live certification past its expiry is EXPIRED."""
        if self.state in (State.ACTIVE, State.SUSPENDED) and now >= self.expires:
            return State.EXPIRED
        return self.state

    @property
    def current_credential(self) -> IssuedCredential | None:
        """The newest credential that is not a wallet copy: renewal and scope reduction only
        ever add newer ones (a renewal starting later included)."""
        primary = [c for c in self.credentials if c.copy_of_id is None]
        return primary[-1] if primary else None

    def valid_credential(self, now: datetime) -> IssuedCredential | None:
        """The primary credential that holds at ``now``: the current one, or, while a renewal
        has not started yet, the one it will supersede."""
        current = self.current_credential
        if current is None or current.valid_from is None or current.valid_from <= now:
            return current
        pending = [
            c
            for c in self.credentials
            if c.copy_of_id is None and c.superseded_by_id == current.id and c.live
        ]
        return pending[-1] if pending else current

    @property
    def pending_renewal(self) -> IssuedCredential | None:
        """The live credential a renewal starting later will supersede, if any."""
        return next((c for c in self.credentials if c.supersede_at is not None and c.live), None)


class IssuedCredential(Base):
    __tablename__ = "issued_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(500), unique=True)
    certification_id: Mapped[int | None] = mapped_column(
        ForeignKey("certifications.id"), index=True
    )
    format: Mapped[CredentialFormat] = mapped_column(_enum(CredentialFormat, "format"))
    suite: Mapped[SecuringSuite] = mapped_column(_enum(SecuringSuite, "suite"))
    key_id: Mapped[str] = mapped_column(String(600))
    document: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[CredentialState] = mapped_column(_enum(CredentialState, "credential_state"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"))
    #: A renewal starting later: this credential stays valid until then and is superseded at
    #: that moment (``lifecycle.supersede_due``); None once superseded or when not scheduled.
    supersede_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: A holder-bound copy (OpenID4VCI): the credential it copies and the holder's DID.
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("issued_credentials.id"), index=True)
    holder_did: Mapped[str | None] = mapped_column(String(2100))
    #: The same credential secured the other way (a vc+jwt of a Data Integrity credential, or
    #: Data Integrity for a vc+jwt one), made on first export: same id, same status entries.
    alternate: Mapped[str | None] = mapped_column(Text)

    certification: Mapped[Certification | None] = relationship(back_populates="credentials")
    copies: Mapped[list[IssuedCredential]] = relationship(
        foreign_keys=[copy_of_id], order_by="IssuedCredential.id"
    )
    status_entries: Mapped[list[StatusEntry]] = relationship(
        back_populates="credential", order_by="StatusEntry.id"
    )

    def entry(self, purpose: StatusPurpose) -> StatusEntry:
        return next(e for e in self.status_entries if e.purpose is purpose)

    @property
    def is_copy(self) -> bool:
        return self.copy_of_id is not None

    @property
    def live(self) -> bool:
        """Not revoked nor superseded: lifecycle moves still reach it."""
        return self.state in (CredentialState.ACTIVE, CredentialState.SUSPENDED)


class SurveillanceRecord(Base):
    """A surveillance activity on a certification (ISO/IEC 17024 §9.6), as staff recorded it.
    Kept for good: a mistaken record is corrected by a later one, as the audit log is."""

    __tablename__ = "surveillance_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"), index=True)
    #: The day it took place (midnight UTC).
    performed_on: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[SurveillanceKind] = mapped_column(_enum(SurveillanceKind, "surveillance_kind"))
    outcome: Mapped[SurveillanceOutcome] = mapped_column(
        _enum(SurveillanceOutcome, "surveillance_outcome")
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship()
    attachments: Mapped[list[SurveillanceAttachment]] = relationship(
        back_populates="record", order_by="SurveillanceAttachment.id"
    )


class SurveillanceAttachment(Base):
    """A file kept with a surveillance record: its type checked from the content, its bytes in
    the database (every host sharing it serves them), loaded only when asked for."""

    __tablename__ = "surveillance_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("surveillance_records.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[AttachmentType] = mapped_column(_enum(AttachmentType, "attachment_type"))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    record: Mapped[SurveillanceRecord] = relationship(back_populates="attachments")


class ReminderLog(Base):
    """One note of the certification cycle: a reminder sent or a surveillance marked. The
    unique key (certification, kind, threshold, period) is what makes each one happen once,
    whatever the number of ``certvc cycle run`` processes: the row is inserted in the same
    transaction as the e-mail it stands for (the outbox), or neither is."""

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("certification_id", "kind", "threshold", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"), index=True)
    kind: Mapped[ReminderKind] = mapped_column(_enum(ReminderKind, "reminder_kind"))
    #: Days before the date (expiry: 90, 30, 7; a surveillance due: the notice; overdue: 0).
    threshold: Mapped[int] = mapped_column(Integer)
    #: The date it is about (YYYY-MM-DD): the expiry or the surveillance due date, so that a
    #: renewal or a new surveillance starts a new period with reminders of its own.
    period: Mapped[str] = mapped_column(String(10))
    #: The person's address the reminder went to (None: not e-mailed to the person).
    recipient: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    certification: Mapped[Certification] = relationship()


class StatusList(Base):
    """One Bitstring Status List: its status bits and the signed credential last published for
    it (re-signed whenever a bit changes). Which indexes are taken is in ``status_entries``."""

    __tablename__ = "status_lists"
    __table_args__ = (
        UniqueConstraint("purpose", "sequence"),
        CheckConstraint("size >= 131072", name="size_minimum"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[StatusPurpose] = mapped_column(_enum(StatusPurpose, "purpose"))
    sequence: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    is_full: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str | None] = mapped_column(String(80))
    signed: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatusEntry(Base):
    """A credential's place in one status list; the unique pair (list, index) makes a double
    allocation impossible whatever the application does."""

    __tablename__ = "status_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "status_index"),
        UniqueConstraint("credential_pk", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_pk: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    purpose: Mapped[StatusPurpose] = mapped_column(_enum(StatusPurpose, "purpose"))
    list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column(Integer)

    credential: Mapped[IssuedCredential] = relationship(back_populates="status_entries")
    status_list: Mapped[StatusList] = relationship()


class AuditEvent(Base):
    """Append-only: each event carries the hash of the previous one and a MAC (see
    :mod:`issuer.services.audit`)."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[Action] = mapped_column(_enum(Action, "action"), index=True)
    subject: Mapped[str] = mapped_column(String(600), index=True)
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: HMAC-SHA-256 of ``hash`` with the instance's audit key (key store, not the database);
    #: NULL for events written before the instance had that key.
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last event's number and hash, locked by every writer of the chain."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed checkpoint of the audit chain: event ``seq`` had hash ``hash`` at ``at``,
    signed by key ``key_id`` (see :mod:`issuer.services.audit_checkpoints`). Also appended to
    a file in the instance folder, which a database writer cannot rewrite."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(300))
    signature: Mapped[str] = mapped_column(Text)


def scopes_from(stored: str) -> frozenset[Scope]:
    """The scopes of a token's ``scopes`` column (comma-separated)."""
    return frozenset(Scope(value) for value in stored.split(",") if value)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_set(self) -> frozenset[Scope]:
        return scopes_from(self.scopes)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Job(Base):
    """Background work kept in the database, so that it survives the process that started it
    (``issuer.services.jobs``): its input, how far it got, and who holds it until when."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(_enum(JobKind, "job_kind"))
    state: Mapped[JobState] = mapped_column(_enum(JobState, "job_state"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    #: What the job page calls it (the uploaded file's name).
    title: Mapped[str] = mapped_column(String(300))
    #: The input (the CSV text) and the settings (JSON) a worker on any host needs.
    payload: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text, default="{}")
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    present: Mapped[int] = mapped_column(Integer, default=0)
    #: Refused rows, a JSON list of ``{"line", "error"}``.
    report: Mapped[str] = mapped_column(Text, default="[]")
    #: Steps (chunks) committed: a resumed job starts at the next one.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    #: How many times a worker took it (more than one: a worker stopped holding it).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffSession(Base):
    """A signed-in staff member's session, kept here so it can end: at sign-out, and when the
    account is disabled, its password reset or its role changed. The browser's cookie holds
    only a random token; this row holds its SHA-256 (``issuer.services.staff_sessions``)."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LoginAttempt(Base):
    """A sign-in attempt, by user name as typed: what throttling counts (shared by every
    server process through the database)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    remote: Mapped[str] = mapped_column(String(64), default="", index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)


class Oid4vciOffer(Base):
    """An OpenID4VCI credential offer and its pre-authorized code, by SHA-256 digest (see
    ``wallet_export.oid4vci.store``); ``document`` only for an offer by reference."""

    __tablename__ = "oid4vci_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[str] = mapped_column(String(64), unique=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    credential_ref: Mapped[str] = mapped_column(String(600))
    configuration_ids: Mapped[str] = mapped_column(String(600))  # a JSON list
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    tx_code_digest: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str | None] = mapped_column(Text)
    redeemed: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_tx_codes: Mapped[int] = mapped_column(Integer, default=0)


class Oid4vciToken(Base):
    """An access token (by digest) bound to the offer it was exchanged for."""

    __tablename__ = "oid4vci_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    offer_id: Mapped[str] = mapped_column(String(64))
    credential_ref: Mapped[str] = mapped_column(String(600))
    configuration_ids: Mapped[str] = mapped_column(String(600))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: The RFC 7638 thumbprint of the first holder key a proof showed with it (migration 0012).
    holder_key: Mapped[str | None] = mapped_column(String(64))


class Oid4vciCredential(Base):
    """The one credential an access token redeemed for one configuration (the text sent: JSON
    or a compact JWS), so asking again answers it instead of a new copy; purged with the
    token's rows (migration 0012)."""

    __tablename__ = "oid4vci_credentials"
    __table_args__ = (UniqueConstraint("token_digest", "configuration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64))
    configuration_id: Mapped[str] = mapped_column(String(200))
    credential: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Oid4vciNonce(Base):
    """A ``c_nonce`` (by digest): taken once, before it expires."""

    __tablename__ = "oid4vci_nonces"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce_digest: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """An e-mail to send, written in the same transaction as the action that causes it, sent
    later by the worker (``issuer.services.outbox``): a mail server outage loses nothing, and
    ``dedupe_key`` (unique) makes the same message impossible to queue twice."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: What it is (``claim``, ``reminder``, ...): free text chosen by the code that queues it.
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState, "outbox_state"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A delivery message: its claim link is minted when it is sent (only the hash is kept).
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim_tokens.id"), index=True)

    claim: Mapped[ClaimToken | None] = relationship()


class ClaimToken(Base):
    """A holder's claim link to one certification: no account, the link is the key. Only the
    SHA-256 of the token is kept; it expires, and staff may revoke it
    (``issuer.services.claims``). ``token_digest`` is None until the link is first minted."""

    __tablename__ = "claim_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    certification_id: Mapped[int] = mapped_column(ForeignKey("certifications.id"), index=True)
    #: The credential it was sent for: once superseded or revoked, the page says so.
    credential_pk: Mapped[int] = mapped_column(ForeignKey("issued_credentials.id"))
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certification: Mapped[Certification] = relationship()
    credential: Mapped[IssuedCredential] = relationship()


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(_mapper: object, _connection: object, target: AuditEvent) -> None:
    raise TypeError(f"audit event {target.seq} is append-only: it cannot be changed or deleted")
