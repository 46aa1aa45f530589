"""Sending e-mail: the SMTP settings, the message, and one connection to the mail server.

The standard library does the work (``email.message.EmailMessage`` with the default policy,
which refuses a line break in a header; ``smtplib``): no mail library to trust besides it.

``CERTVC_SMTP_URL`` names the server and how to reach it:

- ``smtp://user:password@host:587``: STARTTLS, required (a server that does not offer it is
  refused, never talked to in clear);
- ``smtps://user:password@host:465``: TLS from the first byte;
- ``smtp://127.0.0.1:1025`` without TLS only with ``CERTVC_SMTP_PLAINTEXT=loopback``, a
  loopback host and a development instance (a local catcher such as MailHog).

The server's certificate is checked against the system's CAs, or ``CERTVC_SMTP_CA_FILE``
(a private CA, or the test's self-signed certificate). ``CERTVC_MAIL_FROM`` is the sender
address; the body's name is its display name.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import Enum
from typing import Any
from urllib.parse import unquote, urlsplit

from contexts.errors import CertvcError

from ..errors import FieldError, InstanceNotReady, IssuerCode
from . import fields

#: The default lifetime of a claim link (``CERTVC_CLAIM_TTL_DAYS``).
DEFAULT_CLAIM_TTL_DAYS = 365
#: Seconds the SMTP dialogue may stall before the attempt counts as failed (and is retried).
DEFAULT_TIMEOUT = 30.0


class Security(Enum):
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"  # loopback, development instances only, by explicit opt-in


@dataclass(frozen=True)
class MailSettings:
    """Where and how mail is sent. ``repr`` never shows the password."""

    host: str
    port: int
    security: Security
    sender: str
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    claim_ttl_days: int = DEFAULT_CLAIM_TTL_DAYS

    def __repr__(self) -> str:
        user = f"{self.username}:***@" if self.username else ""
        return (
            f"MailSettings({self.security.value} {user}{self.host}:{self.port}, "
            f"from={self.sender!r})"
        )

    @property
    def server(self) -> str:
        """What the admin UI shows: scheme, host and port, no credentials."""
        scheme = "smtps" if self.security is Security.TLS else "smtp"
        return f"{scheme}://{self.host}:{self.port}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def claim_ttl_days(config: Mapping[str, Any]) -> int:
    """``CLAIM_TTL_DAYS`` (1 to 3650; default :data:`DEFAULT_CLAIM_TTL_DAYS`).

    :raises InstanceNotReady: not a number in range.
    """
    raw = config.get("CLAIM_TTL_DAYS")
    if raw is None or raw == "":
        return DEFAULT_CLAIM_TTL_DAYS
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 3650:
        raise InstanceNotReady("CERTVC_CLAIM_TTL_DAYS must be a number of days, 1 to 3650")
    return days


def settings_from(config: Mapping[str, Any], *, dev_mode: bool) -> MailSettings | None:
    """The mail settings of ``config`` (the app's config, or ``CERTVC_*`` without the prefix);
    None when ``SMTP_URL`` is not set (no mail is sent).

    :raises InstanceNotReady: a setting is malformed or unsafe (it names which, never the
        password).
    """
    url = config.get("SMTP_URL")
    if not url:
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InstanceNotReady(
            "CERTVC_SMTP_URL must look like smtp://user:password@host:587 (STARTTLS) or "
            "smtps://user:password@host:465"
        )
    try:
        port = parts.port
    except ValueError:
        raise InstanceNotReady("CERTVC_SMTP_URL has a port that is not a number") from None
    host = parts.hostname
    security = Security.TLS if parts.scheme == "smtps" else Security.STARTTLS
    plaintext = str(config.get("SMTP_PLAINTEXT") or "").strip().lower()
    if plaintext:
        if plaintext != "loopback":
            raise InstanceNotReady("CERTVC_SMTP_PLAINTEXT takes one value: loopback")
        if parts.scheme != "smtp" or not _loopback(host) or not dev_mode:
            raise InstanceNotReady(
                "mail without TLS (CERTVC_SMTP_PLAINTEXT=loopback) is for a development "
                "instance talking smtp:// to a loopback address only"
            )
        security = Security.NONE
    sender_value = config.get("MAIL_FROM")
    try:
        sender = fields.email({"CERTVC_MAIL_FROM": sender_value}, "CERTVC_MAIL_FROM")
    except FieldError as error:
        raise InstanceNotReady(error.message) from None
    if sender is None:
        raise InstanceNotReady("set CERTVC_MAIL_FROM, the address mail is sent from")
    timeout = config.get("SMTP_TIMEOUT") or DEFAULT_TIMEOUT
    try:
        timeout = float(timeout)
    except (TypeError, ValueError):
        raise InstanceNotReady("CERTVC_SMTP_TIMEOUT must be a number of seconds") from None
    ca_file = config.get("SMTP_CA_FILE") or None
    return MailSettings(
        host=host,
        port=port or (465 if security is Security.TLS else 587),
        security=security,
        sender=sender,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        ca_file=str(ca_file) if ca_file else None,
        timeout=timeout,
        claim_ttl_days=claim_ttl_days(config),
    )


@dataclass(frozen=True)
class Letter:
    """A message ready to go: everything :func:`build` needs, the claim link filled in."""

    recipient: str
    subject: str
    text: str
    html: str | None
    #: The From display name (the body's name).
    display_name: str


def build(letter: Letter, settings: MailSettings, *, now: Any) -> EmailMessage:
    """The MIME message: plain text, and HTML as the alternative when there is some.

    :raises ValueError: a header with a line break (the default policy refuses it).
    """
    message = EmailMessage()
    local, _, domain = settings.sender.rpartition("@")
    message["From"] = Address(display_name=letter.display_name, username=local, domain=domain)
    message["To"] = letter.recipient
    message["Subject"] = letter.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    message.set_content(letter.text)
    if letter.html is not None:
        message.add_alternative(letter.html, subtype="html")
    return message


class MailError(CertvcError):
    """The mail server could not be reached or refused: ``temporary`` says whether a later
    attempt may succeed (a 4xx reply, a connection that failed) or not (a 5xx reply)."""

    code = IssuerCode.MAIL_UNDELIVERED

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def _tls(settings: MailSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file)


class Connection:
    """One SMTP session (``with Connection(settings) as mail: mail.send(message)``)."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Connection:
        settings = self.settings
        try:
            if settings.security is Security.TLS:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=_tls(settings)
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
            self._smtp = smtp
            smtp.ehlo()
            if settings.security is Security.STARTTLS:
                if not smtp.has_extn("starttls"):
                    raise MailError(
                        f"{settings.server} does not offer STARTTLS: mail is not sent in clear",
                        temporary=False,
                    )
                smtp.starttls(context=_tls(settings))
                smtp.ehlo()
            if settings.username is not None:
                smtp.login(settings.username, settings.password or "")
        except MailError:
            self.close()
            raise
        except smtplib.SMTPAuthenticationError as error:
            self.close()
            raise MailError(
                f"{settings.server} refused the user name or password ({error.smtp_code})",
                temporary=True,  # a password changed: staff fix it, the retries go on
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise MailError(f"{settings.server}: {_reason(error)}", temporary=True) from error
        return self

    def send(self, message: EmailMessage) -> None:
        """:raises MailError: the server refused (``temporary`` for 4xx and lost connections)."""
        assert self._smtp is not None
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailError(
                f"recipient refused: {_reason(error)}",
                temporary=all(400 <= code < 500 for code in codes),
            ) from error
        except smtplib.SMTPResponseException as error:
            raise MailError(
                f"refused: {_reason(error)}", temporary=400 <= error.smtp_code < 500
            ) from error
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(_reason(error), temporary=True) from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _reason(error: BaseException) -> str:
    """A short, password-free description of what went wrong."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = error.recipients.values()
        return "; ".join(f"{code} {_text(message)}" for code, message in replies)[:500]
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"[:500]
    return f"{type(error).__name__}: {error}"[:500]


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
