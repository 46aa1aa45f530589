"""A real SMTP server for the delivery tests: aiosmtpd on 127.0.0.1 (a free port), STARTTLS
and AUTH required, its certificate from a CA made in the test (``cryptography``)."""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.wallet_export.https import make_tls

USER, PASSWORD = "certvc", "s3cret pass/word"


@dataclass
class Inbox:
    """What the server accepted, and how (TLS, authenticated)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str], bool, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append(
                (
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    session.ssl is not None,
                    bool(session.authenticated),
                )
            )
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        with self.lock:
            return [_part(m, "plain") for m in self.messages]


def _part(message: EmailMessage, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None
    return body.get_content()  # type: ignore[no-any-return]


def html_of(message: EmailMessage) -> str:
    return _part(message, "html")


def _authenticate(
    _server: Any, _session: Any, _envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    if (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    ):
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


class _Controller(Controller):
    """aiosmtpd's controller on port 0: the port the system chose is read back before the
    controller's own first connection to it."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    inbox: Inbox
    ca_file: Path
    port: int
    tls: ssl.SSLContext
    controller: _Controller | None = None

    def url(self, user: str = USER, password: str = PASSWORD) -> str:
        from urllib.parse import quote

        return f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The issuer settings that send through this server."""
        return {
            "SMTP_URL": self.url(),
            "MAIL_FROM": "certificates@body.example",
            "SMTP_CA_FILE": str(self.ca_file),
            "SMTP_TIMEOUT": 10,
        }

    def start(self) -> None:
        assert self.controller is None
        self.controller = _Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=self.tls,
            require_starttls=True,
            auth_required=True,
            authenticator=_authenticate,
        )
        self.controller.start()
        self.port = self.controller.port

    def stop(self) -> None:
        """The server goes down (the port stays known: :meth:`start` comes back on it)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server(folder: Path) -> Iterator[SmtpServer]:
    folder.mkdir(parents=True, exist_ok=True)
    ca, cert, key = make_tls(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    server = SmtpServer(Inbox(), ca, 0, tls)
    server.start()
    try:
        yield server
    finally:
        server.stop()
