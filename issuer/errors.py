"""The issuer's codes and domain errors: each a :class:`CertvcError` with a stable code.

The web layer maps codes to HTTP statuses with the map every web app shares
(``verifier.web.http_errors``, which names these codes by their strings) and the CLI to exit
codes; the services only raise.
"""

from __future__ import annotations

from contexts.errors import CertvcError, Code, ErrorCode


class IssuerCode(Code):
    """The codes the issuer service raises (issue 5); generic ones come from contexts."""

    FIELD_INVALID = "field_invalid"
    REASON_REQUIRED = "reason_required"
    UNKNOWN_REFERENCE = "unknown_reference"
    ALREADY_EXISTS = "already_exists"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    CONFLICT = "conflict"
    AUTH_REQUIRED = "auth_required"
    AUTH_FORBIDDEN = "auth_forbidden"
    CSRF_INVALID = "csrf_invalid"
    AUDIT_CHAIN_BROKEN = "audit_chain_broken"
    INSTANCE_NOT_READY = "instance_not_ready"
    #: The database could not be reached (HTTP 503 with Retry-After)
    DATABASE_UNAVAILABLE = "database_unavailable"
    #: ``certvc serve`` of a development instance on another address than its own
    INSTANCE_URL_MISMATCH = "instance_url_mismatch"
    #: The command line was used wrongly: an unknown option or command, a missing option or
    #: argument, a value not among the choices (``certvc: error: usage: ...``, exit 2).
    USAGE = "usage"
    #: An e-mail address that is malformed or carries a line break (header injection)
    EMAIL_INVALID = "email_invalid"
    #: A claim link that is unknown, revoked or expired (HTTP 404/410, nothing else said)
    CLAIM_UNKNOWN = "claim_unknown"
    CLAIM_GONE = "claim_gone"
    #: The mail server could not be reached or refused a message (kept as its last error)
    MAIL_UNDELIVERED = "mail_undelivered"
    #: ``certvc restore``: the backup's manifest is missing or damaged, or a file does not
    #: match its SHA-256 (nothing is restored).
    BACKUP_INVALID = "backup_invalid"
    #: ``certvc backup|restore`` of PostgreSQL: ``pg_dump`` / ``pg_restore`` is not installed.
    BACKUP_TOOL_MISSING = "backup_tool_missing"
    #: ``certvc restore`` into a database or instance folder that holds data (``--force``).
    RESTORE_TARGET_NOT_EMPTY = "restore_target_not_empty"


class FieldError(CertvcError):
    """A request or form field is missing, of the wrong type or out of range; ``field`` names it."""

    code = IssuerCode.FIELD_INVALID

    def __init__(self, field: str, message: str, *, code: Code | None = None) -> None:
        super().__init__(f"{field}: {message}", code=code)
        self.field = field


class ReasonRequired(FieldError):
    code = IssuerCode.REASON_REQUIRED

    def __init__(self) -> None:
        super().__init__("reason", "every lifecycle action needs a reason (ISO/IEC 17024 records)")


class UnknownReference(FieldError):
    """A field names something that does not exist (an unknown scheme code, person id, ...)."""

    code = IssuerCode.UNKNOWN_REFERENCE


class NotFound(CertvcError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(CertvcError):
    code = IssuerCode.ALREADY_EXISTS


class TransitionNotAllowed(CertvcError):
    """An illegal lifecycle move (withdrawing twice, reinstating an active certification...)."""

    code = IssuerCode.TRANSITION_NOT_ALLOWED


class Conflict(CertvcError):
    """Concurrent writers kept colliding; the action was not applied and may be retried."""

    code = IssuerCode.CONFLICT


class AuthRequired(CertvcError):
    code = IssuerCode.AUTH_REQUIRED


class Forbidden(CertvcError):
    code = IssuerCode.AUTH_FORBIDDEN


class CsrfInvalid(CertvcError):
    code = IssuerCode.CSRF_INVALID


class AuditChainBroken(CertvcError):
    code = IssuerCode.AUDIT_CHAIN_BROKEN


class InstanceNotReady(CertvcError):
    """The instance folder, database or keys are missing or unusable (run ``certvc init``)."""

    code = IssuerCode.INSTANCE_NOT_READY


class ClaimUnknown(CertvcError):
    """No claim link with this token (or a malformed one): 404, nothing else said."""

    code = IssuerCode.CLAIM_UNKNOWN


class ClaimGone(CertvcError):
    """A claim link that was revoked or has expired: 410, nothing else said."""

    code = IssuerCode.CLAIM_GONE


class BackupInvalid(CertvcError):
    code = IssuerCode.BACKUP_INVALID


class BackupToolMissing(CertvcError):
    code = IssuerCode.BACKUP_TOOL_MISSING


class RestoreTargetNotEmpty(CertvcError):
    code = IssuerCode.RESTORE_TARGET_NOT_EMPTY
