"""Must-show (issue 6): QR round trip from PNG images to each verdict.

Credentials are printed as QR codes (``render_png``), then read back from the PNG as is, scaled
to 50 % and rotated a few degrees, and verified with their status lists served by a real HTTP
server on 127.0.0.1 and a trust list naming the body.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from PIL import Image

from contexts.loader import default_store
from keys.suites import FAST
from verifier import qr
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.qr_symbol import make_symbol, render_png
from verifier.result import Check, CheckStatus, Verdict
from verifier.service import Verifier
from verifier.trust import TrustedBody, TrustList

from .world import NOW, credential, new_pair, serve_lists, status_server

VERIFIER = "https://verify.example-body.org/v"


def _as_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def original(png: bytes) -> bytes:
    return png


def scaled_half(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("L")
    return _as_png(image.resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR))


def rotated(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("L")
    return _as_png(image.rotate(4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255))


def _tampered(secured: dict) -> dict:
    changed = json.loads(json.dumps(secured))
    changed["credentialSubject"]["licenseNumber"] = "CB-2026-999999"
    return changed


@pytest.fixture(scope="module")
def world():
    body, stranger = new_pair(), new_pair()
    with status_server() as server:
        cases = {}
        for name, kwargs, lists in (
            ("active", {}, {}),
            ("suspended", {}, {"suspended": True}),
            ("withdrawn", {}, {"revoked": True}),
            (
                "expired",
                {"valid_from": NOW - timedelta(days=400), "validity": timedelta(days=365)},
                {},
            ),
            ("not-yet-valid", {"valid_from": NOW + timedelta(days=3)}, {}),
        ):
            base = f"{server.url}/{name}"
            serve_lists(server, body, prefix=f"/{name}", **lists)
            cases[name] = credential(body, base, **kwargs)
        serve_lists(server, body, prefix="/tampered")
        cases["tampered"] = _tampered(credential(body, f"{server.url}/tampered"))
        serve_lists(server, stranger, prefix="/unknown")
        cases["unknown-issuer"] = credential(stranger, f"{server.url}/unknown")
        trust = TrustList.from_json(
            json.dumps(
                {
                    "certvcTrustList": 1,
                    "bodies": [{"did": body.public_key.did_key, "name": "Example Body"}],
                }
            )
        )
        verifier = Verifier(
            store=default_store(),
            fetcher=SafeFetcher(FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True)),
            clock=lambda: NOW,
            trust=trust,
            canonicalizer=FAST,
        )
        yield cases, verifier


EXPECTED = {
    "active": Verdict.VALID,
    "suspended": Verdict.SUSPENDED,
    "withdrawn": Verdict.REVOKED,
    "expired": Verdict.EXPIRED,
    "not-yet-valid": Verdict.NOT_YET_VALID,
    "tampered": Verdict.INVALID_SIGNATURE,
    "unknown-issuer": Verdict.UNTRUSTED_ISSUER,
}


@pytest.mark.parametrize("transform", [original, scaled_half, rotated])
@pytest.mark.parametrize("case", list(EXPECTED))
def test_qr_png_gives_its_verdict(world, case, transform) -> None:
    cases, verifier = world
    text = qr.deep_link(VERIFIER, qr.encode_credential(cases[case]))
    png = transform(render_png(make_symbol(text), module_px=4))
    outcome = verifier.verify(png)
    assert outcome.error is None, outcome.error
    assert outcome.item is not None and outcome.item.source.value == "qr-image"
    assert outcome.result.verdict is EXPECTED[case], outcome.result.checks
    status = outcome.result.check(Check.STATUS)
    if case == "withdrawn":
        assert status.code is not None and status.code.value == "status_revoked"
    if case == "active":
        assert status.status is CheckStatus.PASSED
        assert outcome.result.check(Check.TRUST).status is CheckStatus.PASSED


def test_vc_jwt_qr_round_trip(world) -> None:
    cases, verifier = world
    del cases
    body = new_pair()
    with status_server() as server:
        serve_lists(server, body)
        token = credential(body, server.url, suite="vc+jwt")
        fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True))
        trusted = TrustList([TrustedBody(body.public_key.did_key, "Example Body")])
        own = Verifier(
            store=default_store(),
            fetcher=fetcher,
            clock=lambda: NOW,
            trust=trusted,
            canonicalizer=FAST,
        )
        png = render_png(make_symbol(qr.deep_link(VERIFIER, qr.encode_credential(token))))
        outcome = own.verify(rotated(png))
    assert outcome.result.verdict is Verdict.VALID, outcome.result.checks
    assert outcome.item is not None and outcome.item.token is not None
    assert outcome.item.token.token == token
