"""Must-show (issue 6): generated malformed input never crashes the engine or the API.

Each test feeds 10,000 generated inputs (hypothesis draws a seed, ``fuzzgen`` builds the input:
random bytes and JSON, mutated signed credentials and tokens, broken QR payloads and images,
hostile nesting); every answer is MALFORMED or carries a
failed check, every HTTP answer is a JSON 4xx or a verification result, never a 5xx. The status
check is wired to a fetcher that refuses everything, so nothing leaves the process.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contexts.loader import default_store
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.app import create_app
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchError
from verifier.result import CheckStatus, Verdict
from verifier.status import BitstringStatusChecker

from .fuzzgen import Fuzz
from .world import NOW, credential, new_pair

#: Generated inputs per target. Hypothesis costs ~0.7 ms an example whatever it draws, so each
#: example (one seed) builds a batch of inputs: 1,000 examples x 10 inputs = 10,000 per target.
INPUTS = 10_000
BATCH = 10
FUZZ = settings(
    max_examples=INPUTS // BATCH,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Refuse:
    """A fetcher that refuses every URL (the fuzzed input must never reach the network)."""

    def fetch(self, url, *, accept, etag=None, last_modified=None):
        raise FetchError("fuzzing: no network", code=VerifierCode.FETCH_REFUSED)


# --- inputs ---------------------------------------------------------------------------------

seeds = st.integers(min_value=0, max_value=2**64 - 1)


@pytest.fixture(scope="module")
def signed_pair() -> tuple[dict, str]:
    body = new_pair()
    base = "https://certs.example-body.org"
    return credential(body, base), credential(body, base, suite="vc+jwt")


@pytest.fixture(scope="module")
def fuzz(signed_pair) -> Fuzz:
    return Fuzz(*signed_pair, mutation_rate=0.5)


@pytest.fixture(scope="module")
def http_fuzz(signed_pair) -> Fuzz:
    return Fuzz(*signed_pair, mutation_rate=0.1)


def _answered_as_malformed_or_failed(result) -> bool:
    return result.verdict is Verdict.MALFORMED or any(
        c.status is CheckStatus.FAILED for c in result.checks
    )


@pytest.fixture(scope="module")
def policy() -> VerifierPolicy:
    list_policy = VerifierPolicy(
        store=default_store(), resolver=LocalResolver(), canonicalizer=FAST
    )
    return VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver(),
        status_checker=BitstringStatusChecker(Refuse(), list_policy),
        canonicalizer=FAST,
    )


def test_engine_survives_malformed_input(policy, fuzz) -> None:
    @FUZZ
    @given(seed=seeds)
    def run(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(BATCH):
            result = verify_credential(fuzz.raw(rng), policy, now=NOW)
            assert result.verdict is not Verdict.VALID
            assert _answered_as_malformed_or_failed(result)

    run()


@dataclass(frozen=True)
class Reply:
    status_code: int
    data: bytes

    def get_data(self) -> bytes:
        return self.data

    def get_json(self) -> object:
        return json.loads(self.data)


class Client:
    """Calls the real WSGI app with a plain environ: werkzeug's test client spends more time
    building requests than the verifier spends answering these (multipart still uses it)."""

    def __init__(self, app) -> None:
        self.app = app
        self.test_client = app.test_client()

    def post(self, path: str, *, data: bytes | str | dict, content_type: str = "") -> object:
        if isinstance(data, dict):
            reply = self.test_client.post(path, data=data, content_type=content_type)
            return Reply(reply.status_code, reply.get_data())
        body = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "CONTENT_TYPE": content_type,
            "CONTENT_LENGTH": str(len(body)),
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "localhost",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status: list[str] = []
        chunks = self.app(environ, lambda s, headers, exc_info=None: status.append(s))
        try:
            data_out = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        return Reply(int(status[0].split()[0]), data_out)


@pytest.fixture(scope="module")
def client() -> Client:
    app = create_app(
        {"VERIFIER_FETCHER": Refuse(), "VERIFIER_CLOCK": lambda: NOW, "VERIFIER_RATE_PER_MINUTE": 0}
    )
    return Client(app)


def _check_reply(reply) -> None:
    assert reply.status_code < 500, reply.get_data()[:300]
    body = reply.get_json()
    assert isinstance(body, dict)
    if "credentialResults" in body:  # a presentation
        assert body["verified"] is False
    elif "verdict" in body:
        assert body["verdict"] != "VALID"
        assert (
            body["verdict"] == "MALFORMED"
            or any(c["status"] == "failed" for c in body.get("checks", []) if isinstance(c, dict))
            or body["errors"]
        )
    else:
        assert body["verified"] is False and "code" in body.get("error", {}) or body["errors"]


CONTENT_TYPES = (
    "application/json",
    "text/plain",
    "image/png",
    "image/jpeg",
    "application/vc+jwt",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
    "",
)


def _post_any(client, fuzz: Fuzz, rng: random.Random):
    data = fuzz.raw(rng)
    if isinstance(data, str) and rng.random() < 0.3:
        body = json.dumps({"input": data})  # escapes lone surrogates
        return client.post("/api/v1/verify", data=body, content_type="application/json")
    body = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if rng.random() < 0.1:
        return client.post(
            "/api/v1/verify",
            data={
                "image": (io.BytesIO(body), "x.png"),
                "input": fuzz.text(rng, 5).encode("utf-8", "replace").decode(),
            },
            content_type="multipart/form-data",
        )
    return client.post("/api/v1/verify", data=body, content_type=rng.choice(CONTENT_TYPES))


def _post_credential(client, fuzz: Fuzz, rng: random.Random):
    if rng.random() < 0.7:
        item = rng.choice([fuzz.credential_json(rng), fuzz.jwt(rng), fuzz.value(rng)])
        data: bytes | str = json.dumps({"verifiableCredential": item})
    else:
        data = fuzz.raw(rng)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return client.post("/credentials/verify", data=data, content_type="application/json")


def _post_presentation(client, fuzz: Fuzz, rng: random.Random):
    body: dict[str, Any] = {"verifiablePresentation": fuzz.presentation(rng)}
    if rng.random() < 0.5:
        body["options"] = fuzz.value(rng)
    data = json.dumps(body) if rng.random() < 0.9 else json.dumps(fuzz.value(rng))
    return client.post("/presentations/verify", data=data, content_type="application/json")


@pytest.mark.parametrize(
    "post",
    [_post_any, _post_credential, _post_presentation],
    ids=["api-v1-verify", "credentials-verify", "presentations-verify"],
)
def test_endpoint_survives_malformed_input(client, http_fuzz, post) -> None:
    @FUZZ
    @given(seed=seeds)
    def run(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(BATCH):
            _check_reply(post(client, http_fuzz, rng))

    run()
