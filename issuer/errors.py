"""The issuer's domain errors: each a :class:`CertvcError` with a stable code.

The web layer maps codes to HTTP statuses in one error handler and the CLI to exit codes; the
services only raise.
"""

from __future__ import annotations

from contexts.errors import CertvcError, ErrorCode


class FieldError(CertvcError):
    """A request or form field is missing, of the wrong type or out of range; ``field`` names it."""

    code = ErrorCode.FIELD_INVALID

    def __init__(self, field: str, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(f"{field}: {message}", code=code)
        self.field = field


class ReasonRequired(FieldError):
    code = ErrorCode.REASON_REQUIRED

    def __init__(self) -> None:
        super().__init__("reason", "every lifecycle action needs a reason (ISO/IEC 17024 records)")


class UnknownReference(FieldError):
    """A field names something that does not exist (an unknown scheme code, person id, ...)."""

    code = ErrorCode.UNKNOWN_REFERENCE


class NotFound(CertvcError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(CertvcError):
    code = ErrorCode.ALREADY_EXISTS


class TransitionNotAllowed(CertvcError):
    """An illegal lifecycle move (withdrawing twice, reinstating an active certification...)."""

    code = ErrorCode.TRANSITION_NOT_ALLOWED


class Conflict(CertvcError):
    """Concurrent writers kept colliding; the action was not applied and may be retried."""

    code = ErrorCode.CONFLICT


class AuthRequired(CertvcError):
    code = ErrorCode.AUTH_REQUIRED


class Forbidden(CertvcError):
    code = ErrorCode.AUTH_FORBIDDEN


class CsrfInvalid(CertvcError):
    code = ErrorCode.CSRF_INVALID


class AuditChainBroken(CertvcError):
    code = ErrorCode.AUDIT_CHAIN_BROKEN


class InstanceNotReady(CertvcError):
    """The instance folder, database or keys are missing or unusable (run ``certvc init``)."""

    code = ErrorCode.INSTANCE_NOT_READY
