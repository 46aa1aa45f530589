"""The safe fetcher: what a verifier refuses to fetch, and how it fetches the rest.

SSRF tests only ever *refuse* non-loopback addresses (a fake resolver names them; nothing
connects); everything that connects goes to servers on 127.0.0.1 started by the test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from verifier.errors import VerifierCode
from verifier.fetch import (
    FetchError,
    FetchPolicy,
    SafeFetcher,
    address_refusal,
    origin_of,
)

from .world import Served, status_server

JSON = ("application/json",)


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1.2.3", "loopback"),
        ("10.0.0.1", "private"),
        ("10.255.255.254", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not a public"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "loopback"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "private"),  # Teredo to 10.0.0.1
        ("93.184.215.14", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_address_classification(address: str, refused: str | None) -> None:
    reason = address_refusal(ipaddress.ip_address(address))
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


def _resolver(table: dict[str, list[str]], calls: list[str] | None = None):
    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return table[host]

    return resolve


def _refused(fetcher: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url, accept=JSON)
    return caught.value


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("localhost", "127.0.0.1"),
        ("internal.example", "10.1.2.3"),
        ("metadata.example", "169.254.169.254"),
        ("mapped.example", "::ffff:127.0.0.1"),
        ("zero.example", "0.0.0.0"),
        ("v6.example", "::1"),
    ],
)
def test_private_addresses_are_refused_before_connecting(host: str, address: str) -> None:
    fetcher = SafeFetcher(FetchPolicy(), resolver=_resolver({host: [address]}))
    error = _refused(fetcher, f"https://{host}/status/1")
    assert error.code is VerifierCode.FETCH_REFUSED
    assert "(not on the allow-list)" in error.message


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    fetcher = SafeFetcher(
        FetchPolicy(), resolver=_resolver({"split.example": ["93.184.215.14", "127.0.0.1"]})
    )
    assert _refused(fetcher, "https://split.example/").code is VerifierCode.FETCH_REFUSED


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.org/list",
        "gopher://example.org/",
        "data:application/json,{}",
        "http://93.184.215.14/status",
        "https://user:pass@example.org/status",
        "https://[::1]:443/",
        "https://127.0.0.1/status",
        "https://10.0.0.1/status",
        "https://169.254.169.254/latest/meta-data/",
        "/relative/path",
    ],
)
def test_refused_urls(url: str) -> None:
    fetcher = SafeFetcher(FetchPolicy(dev_mode=True), resolver=lambda h, p: [h.strip("[]")])
    assert _refused(fetcher, url).code is VerifierCode.FETCH_REFUSED


def test_plain_http_needs_dev_mode_and_the_allow_list() -> None:
    with status_server() as server:
        server.routes["/a"] = Served(b"{}", "application/json")
        allowed = frozenset({server.url})
        for policy in (FetchPolicy(allow_origins=allowed), FetchPolicy(dev_mode=True)):
            assert (
                _refused(SafeFetcher(policy), server.url + "/a").code is VerifierCode.FETCH_REFUSED
            )
        ok = SafeFetcher(FetchPolicy(allow_origins=allowed, dev_mode=True)).fetch(
            server.url + "/a", accept=JSON
        )
    assert ok.status == 200 and ok.body == b"{}"


def test_allow_listed_origin_is_exact() -> None:
    """Allow-listing one loopback origin admits no other port or host."""
    with status_server() as server, status_server() as other:
        other.routes["/a"] = Served(b"{}", "application/json")
        fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True))
        assert _refused(fetcher, other.url + "/a").code is VerifierCode.FETCH_REFUSED


def _loopback(server, **kwargs) -> SafeFetcher:
    policy = FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True, **kwargs)
    return SafeFetcher(policy)


def test_redirect_to_a_private_address_is_refused_at_that_hop() -> None:
    calls: list[str] = []
    with status_server() as server:
        server.routes["/r"] = Served(
            b"", status=302, headers={"Location": "https://internal.example/secret"}
        )
        table = {"127.0.0.1": ["127.0.0.1"], "internal.example": ["10.0.0.7"]}
        policy = FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True)
        fetcher = SafeFetcher(policy, resolver=_resolver(table, calls))
        error = _refused(fetcher, server.url + "/r")
    assert error.code is VerifierCode.FETCH_REFUSED and "10.0.0.7" in error.message
    assert calls == ["127.0.0.1", "internal.example"]


def test_redirects_are_followed_and_limited() -> None:
    with status_server() as server:
        server.routes["/end"] = Served(b'{"ok": 1}', "application/json")
        server.routes["/hop1"] = Served(b"", status=301, headers={"Location": "/end"})
        for i in range(2, 6):
            server.routes[f"/hop{i}"] = Served(
                b"", status=307, headers={"Location": f"/hop{i - 1}"}
            )
        fetcher = _loopback(server, max_redirects=3)
        assert fetcher.fetch(server.url + "/hop3", accept=JSON).body == b'{"ok": 1}'
        error = _refused(fetcher, server.url + "/hop5")
    assert error.code is VerifierCode.FETCH_REFUSED and "redirects" in error.message


def test_oversized_response_is_refused() -> None:
    with status_server() as server:
        server.routes["/big"] = Served(b"x" * 5000, "application/json")
        error = _refused(_loopback(server, max_bytes=4096), server.url + "/big")
    assert error.code is VerifierCode.FETCH_TOO_LARGE


def test_oversized_response_without_a_length_is_cut_off() -> None:
    """A server that lies about (or omits) Content-Length is still cut off at the cap."""
    with status_server() as server:
        server.routes["/big"] = Served(
            b"x" * 50_000, "application/json", headers={"Content-Length": "10"}
        )
        # Content-Length 10 sent twice is malformed; http.client keeps the first. Either way
        # the body is never read past the cap.
        try:
            got = _loopback(server, max_bytes=4096).fetch(server.url + "/big", accept=JSON)
        except FetchError as error:
            assert error.code in (VerifierCode.FETCH_TOO_LARGE, VerifierCode.FETCH_FAILED)
        else:
            assert len(got.body) <= 4096


def test_slow_response_is_cut_off_at_the_total_timeout() -> None:
    with status_server() as server:
        server.routes["/slow"] = Served(b"x" * 50_000, "application/json", delay_per_chunk=0.2)
        fetcher = _loopback(server, total_timeout=0.5, read_timeout=5.0)
        error = _refused(fetcher, server.url + "/slow")
    assert error.code is VerifierCode.FETCH_TIMEOUT


def test_wrong_media_type_is_refused() -> None:
    with status_server() as server:
        server.routes["/html"] = Served(b"<html>", "text/html")
        error = _refused(_loopback(server), server.url + "/html")
    assert error.code is VerifierCode.FETCH_CONTENT_TYPE


def test_http_errors_and_unreachable_servers_fail() -> None:
    with status_server() as server:
        fetcher = _loopback(server)
        assert _refused(fetcher, server.url + "/missing").code is VerifierCode.FETCH_FAILED
    # the server is gone now: connection refused
    assert _refused(fetcher, server.url + "/missing").code is VerifierCode.FETCH_FAILED


def test_conditional_request_gets_304() -> None:
    with status_server() as server:
        server.routes["/l"] = Served(b"{}", "application/json", headers={"ETag": '"v1"'})
        fetcher = _loopback(server)
        first = fetcher.fetch(server.url + "/l", accept=JSON)
        again = fetcher.fetch(server.url + "/l", accept=JSON, etag=first.etag)
    assert first.status == 200 and first.etag == '"v1"'
    assert again.status == 304 and again.body == b""
    assert server.requests[1][1].get("If-None-Match") == '"v1"'


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_https_connects_to_the_checked_address_and_verifies_the_name(tmp_path) -> None:
    """No DNS rebinding window: the host is resolved once, the connection goes to that address,
    and TLS still checks the certificate against the host name."""
    cert, key = _certificate(tmp_path, "status.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    calls: list[str] = []
    with status_server(server_tls) as server:
        server.routes["/l"] = Served(b'{"tls": true}', "application/json")
        origin = f"https://status.test:{server.port}"
        fetcher = SafeFetcher(
            FetchPolicy(allow_origins=frozenset({origin})),
            resolver=_resolver({"status.test": ["127.0.0.1"]}, calls),
            ssl_context=client_tls,
        )
        got = fetcher.fetch(origin + "/l", accept=JSON)
        assert got.body == b'{"tls": true}'
        assert calls == ["status.test"]
        assert server.requests[-1][1]["Host"] == f"status.test:{server.port}"
        # the same address under a name the certificate does not hold: refused by TLS
        wrong = SafeFetcher(
            FetchPolicy(allow_origins=frozenset({f"https://other.test:{server.port}"})),
            resolver=_resolver({"other.test": ["127.0.0.1"]}),
            ssl_context=client_tls,
        )
        error = _refused(wrong, f"https://other.test:{server.port}/l")
    assert error.code is VerifierCode.FETCH_FAILED


def test_origin_normalisation() -> None:
    assert origin_of("HTTPS://Example.ORG/a") == "https://example.org:443"
    assert origin_of("http://127.0.0.1:5000/x") == "http://127.0.0.1:5000"
    assert origin_of("https://[::1]/") == "https://[::1]:443"
    with pytest.raises(FetchError):
        origin_of("https://example.org:99999/")
