"""Fixtures for the context tests: the network is off for every test in this folder."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import NoReturn

import pytest

from contexts import ContextStore, default_store

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
CITIZENSHIP_V4RC1 = "https://w3id.org/citizenship/v4rc1"


class NetworkUsed(AssertionError):
    """Raised by the blocked socket layer; seeing it means some code tried the network."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """STYLE 11 (pinned contexts, network off): any connect or DNS lookup fails the test."""

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise NetworkUsed(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def vector_store() -> ContextStore:
    """The shipped store plus the two test-only contexts the W3C vectors use (spec README)."""
    contexts = VECTORS / "contexts"
    return (
        default_store()
        .with_context(EXAMPLES_V2, contexts / "www.w3.org_ns_credentials_examples_v2.jsonld")
        .with_context(CITIZENSHIP_V4RC1, contexts / "w3id.org_citizenship_v4rc1.jsonld")
    )
