"""Fetching status lists, DID documents and linked credentials without becoming an SSRF tool.

Every URL a verifier fetches comes from attacker-controlled data (a credential's status entry, a
did:web DID, a QR link), so the fetcher refuses anything a browser-less server should not touch:

- only ``https`` (plain ``http`` only in development mode, to an allow-listed loopback origin);
  no user information in URLs; ``file:``, ``ftp:``, ``gopher:`` and every other scheme refused;
- the host is resolved once and every address is classified; loopback, private, link-local,
  multicast, reserved and unspecified addresses (IPv4, IPv6, and IPv4 inside IPv6: mapped,
  NAT64, 6to4, Teredo) are refused unless the origin is allow-listed;
- the connection goes to the very address that was checked (the TLS handshake still checks the
  certificate against the host name), so DNS rebinding has no window;
- connect, read and total timeouts; a response size cap; at most a few redirects, each hop
  checked again; the response media type must be one the caller accepts.

The standard library's ``http.client`` is used rather than urllib3 or httpx: pinning the
connection to a checked address while verifying TLS against the name takes one small
``connect()`` override there, it ignores proxy environment variables (no hidden route out), and
it adds no dependency to the verifier. Callers depend on the :class:`Fetcher` protocol, so tests
pass a fake and an operator could pass another implementation.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urljoin, urlsplit

from contexts.errors import CertvcError

from .errors import VerifierCode

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: host, port -> the addresses the host resolves to (injected so tests never touch DNS).
Resolver = Callable[[str, int], Sequence[str]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_CHUNK = 64 * 1024


class FetchError(CertvcError):
    """A fetch was refused or failed; ``code`` says which (``fetch_refused``, ``fetch_timeout``)."""

    code = VerifierCode.FETCH_FAILED


@dataclass(frozen=True)
class FetchResponse:
    """A 200 (``body`` set) or a 304 answer to a conditional request (``body`` empty)."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    cache_control: str | None = None


class Fetcher(Protocol):
    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """GET ``url``; :raises FetchError: refused, failed, too slow or too large."""
        ...


class LocalSource(Fetcher, Protocol):
    """Documents a verifier has first-hand, never over the network: the issuer it is mounted on
    answers for its own status lists, DID document and credentials from its own records."""

    def owns(self, url: str) -> bool: ...


class LocalFirstFetcher:
    """A :class:`Fetcher` that asks ``local`` for the URLs it owns and ``network`` for the rest."""

    def __init__(self, local: LocalSource, network: Fetcher) -> None:
        self._local = local
        self._network = network

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        source = self._local if self._local.owns(url) else self._network
        return source.fetch(url, accept=accept, etag=etag, last_modified=last_modified)


def origin_of(url: str) -> str:
    """``scheme://host:port`` with the default port made explicit, lower case.

    :raises FetchError: ``fetch_refused`` for a URL without a usable host or port.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as cause:
        raise FetchError(
            f"not a usable URL: {url[:100]!r}", code=VerifierCode.FETCH_REFUSED
        ) from cause
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(f"URL without a host: {url[:100]!r}", code=VerifierCode.FETCH_REFUSED)
    port = port or {"https": 443, "http": 80}.get(scheme, 0)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


@dataclass(frozen=True)
class FetchPolicy:
    """What the fetcher may do. ``allow_origins`` are ``scheme://host[:port]`` strings."""

    allow_origins: frozenset[str] = frozenset()
    dev_mode: bool = False
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    user_agent: str = "certvc-verifier"
    _origins: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_origins", frozenset(origin_of(o) for o in self.allow_origins))

    def allows_origin(self, origin: str) -> bool:
        return origin in self._origins


def address_refusal(address: Address) -> str | None:
    """Why a server-side fetch must not go to ``address``, or None if it is a public address.

    IPv4 carried inside IPv6 (mapped ``::ffff:a.b.c.d``, NAT64, 6to4, Teredo) is judged as the
    IPv4 address it reaches.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]
        if embedded is None and (address in _NAT64 or address in _NAT64_LOCAL):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_refusal(embedded)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the operating system's resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int
    origin: str
    path: str


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._ssl_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the host name, not the pinned address.
        self.sock = self._ssl_context.wrap_socket(sock, server_hostname=self.host)


class SafeFetcher:
    """The :class:`Fetcher` for production: every rule of the module docstring."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self._resolver = resolver
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._monotonic = monotonic

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        deadline = self._monotonic() + self.policy.total_timeout
        current = url
        for _ in range(self.policy.max_redirects + 1):
            target = self._check_url(current)
            address = self._checked_address(target)
            status, headers, body = self._request(
                target, address, accept, etag, last_modified, deadline
            )
            if status in _REDIRECTS:
                location = headers.get("location")
                if not location:
                    raise FetchError(f"HTTP {status} without Location from {target.origin}")
                current = urljoin(target.url, location)
                continue
            return self._response(target, status, headers, body, accept)
        raise FetchError(
            f"more than {self.policy.max_redirects} redirects from {url[:100]}",
            code=VerifierCode.FETCH_REFUSED,
        )

    # --- the checks ---------------------------------------------------------------------------

    def _check_url(self, url: str) -> _Target:
        if len(url) > 2048:
            raise FetchError("URL longer than 2048 characters", code=VerifierCode.FETCH_REFUSED)
        origin = origin_of(url)
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in ("https", "http"):
            raise FetchError(
                f"only https URLs are fetched, not {scheme or 'relative'!s}:",
                code=VerifierCode.FETCH_REFUSED,
            )
        if parts.username is not None or parts.password is not None:
            raise FetchError(
                "URLs with user information are refused", code=VerifierCode.FETCH_REFUSED
            )
        host = parts.hostname or ""
        if not host.isascii() or any(c in host for c in "%\\ "):
            raise FetchError(
                "host names must be ASCII (IDNA A-labels)", code=VerifierCode.FETCH_REFUSED
            )
        if scheme == "http" and not (self.policy.dev_mode and self.policy.allows_origin(origin)):
            raise FetchError(
                f"plain http is refused ({origin}); https only "
                "(http only to an allow-listed loopback origin in development mode)",
                code=VerifierCode.FETCH_REFUSED,
            )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        port = int(origin.rsplit(":", 1)[1])
        return _Target(url.strip(), scheme, host, port, origin, path)

    def _checked_address(self, target: _Target) -> str:
        try:
            resolved = self._resolver(target.host, target.port)
        except (OSError, UnicodeError) as cause:
            raise FetchError(f"cannot resolve {target.host}: {cause}") from cause
        addresses: list[Address] = []
        for text in resolved:
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError:
                continue
        if not addresses:
            raise FetchError(f"{target.host} has no address")
        allowed = self.policy.allows_origin(target.origin)
        if target.scheme == "http" and not all(a.is_loopback for a in addresses):
            raise FetchError(
                f"plain http only to loopback addresses ({target.origin})",
                code=VerifierCode.FETCH_REFUSED,
            )
        for address in addresses:
            reason = None if allowed else address_refusal(address)
            if reason is not None:
                # One bad address refuses the host: we will not pick among them for the attacker.
                raise FetchError(
                    f"refused to fetch {target.origin}: {address} is {reason} "
                    "(not on the allow-list)",
                    code=VerifierCode.FETCH_REFUSED,
                )
        return str(addresses[0])

    # --- the request --------------------------------------------------------------------------

    def _request(
        self,
        target: _Target,
        address: str,
        accept: Sequence[str],
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> tuple[int, dict[str, str], bytes]:
        remaining = deadline - self._monotonic()
        if remaining <= 0:
            raise FetchError("the fetch took too long", code=VerifierCode.FETCH_TIMEOUT)
        timeout = min(self.policy.connect_timeout, remaining)
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            connection = _PinnedHTTPSConnection(
                target.host, target.port, address, timeout, self._ssl_context
            )
        else:
            connection = _PinnedHTTPConnection(target.host, target.port, address, timeout)
        headers = {
            "Accept": ", ".join(accept),
            "Accept-Encoding": "identity",
            "User-Agent": self.policy.user_agent,
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        expired = threading.Event()
        sockets: list[socket.socket] = []  # the response keeps the socket after close()

        def cut_off() -> None:  # the total deadline, whatever the server dribbles
            expired.set()
            for sock in sockets or ([connection.sock] if connection.sock else []):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        watchdog = threading.Timer(remaining, cut_off)
        watchdog.daemon = True
        watchdog.start()
        response: http.client.HTTPResponse | None = None
        try:
            connection.request("GET", target.path, headers=headers)
            if connection.sock is not None:
                sockets.append(connection.sock)
                connection.sock.settimeout(min(self.policy.read_timeout, remaining))
            response = connection.getresponse()
            got = {k.lower(): v for k, v in response.getheaders()}
            body = self._read_capped(response, got) if response.status == 200 else b""
            if expired.is_set():
                raise TimeoutError("total timeout")
            return response.status, got, body
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as cause:
            if expired.is_set() or isinstance(cause, TimeoutError):
                raise FetchError(
                    f"{target.origin} did not answer in time", code=VerifierCode.FETCH_TIMEOUT
                ) from cause
            raise FetchError(f"fetching from {target.origin} failed: {cause}") from cause
        finally:
            watchdog.cancel()
            if response is not None:
                response.close()
            connection.close()

    def _read_capped(self, response: http.client.HTTPResponse, headers: dict[str, str]) -> bytes:
        limit = self.policy.max_bytes
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(f"content-encoding {encoding!r} is refused")
        declared = (headers.get("content-length") or "").strip()
        # ASCII digits only, and a length check before int() (which refuses thousands of digits)
        if (
            declared.isascii()
            and declared.isdigit()
            and (len(declared) > 18 or int(declared) > limit)
        ):
            raise FetchError(
                f"the response declares {declared} bytes, more than the {limit}-byte cap",
                code=VerifierCode.FETCH_TOO_LARGE,
            )
        body = bytearray()
        while chunk := response.read(min(_CHUNK, limit + 1 - len(body))):
            body += chunk
            if len(body) > limit:
                raise FetchError(
                    f"the response is larger than the {limit}-byte cap",
                    code=VerifierCode.FETCH_TOO_LARGE,
                )
        return bytes(body)

    def _response(
        self,
        target: _Target,
        status: int,
        headers: dict[str, str],
        body: bytes,
        accept: Sequence[str],
    ) -> FetchResponse:
        if status not in (200, 304):
            raise FetchError(f"{target.url[:200]} answered HTTP {status}")
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if status == 200 and media_type not in {a.lower() for a in accept}:
            raise FetchError(
                f"{target.url[:200]} sent {media_type or 'no media type'}, expected one of "
                f"{', '.join(accept)}",
                code=VerifierCode.FETCH_CONTENT_TYPE,
            )
        return FetchResponse(
            url=target.url,
            status=status,
            body=body,
            content_type=media_type,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            cache_control=headers.get("cache-control"),
        )
