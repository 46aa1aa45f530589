"""The pinned-context store and its offline document loader (STYLE 11; VC DM 2.0 section 4.3)."""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld

import contexts.loader as loader_module
from contexts import (
    ContextIntegrityError,
    ContextNotAllowed,
    ContextStore,
    ErrorCode,
    InputError,
    default_store,
    parse_context_option,
    to_dataset,
)
from contexts.loader import _BoundedCache

from .conftest import CITIZENSHIP_V4RC1, VECTORS, NetworkUsed

DATA = Path(loader_module.__file__).parent / "data"
V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
# A test-only context the product does not pin (the examples contexts are pinned: issue 14).
OPERATOR_URL = CITIZENSHIP_V4RC1
OPERATOR_FILE = VECTORS / "contexts" / "w3id.org_citizenship_v4rc1.jsonld"


def _manifest() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = json.loads((DATA / "manifest.json").read_text("utf-8"))
    return entries


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_manifest(folder: Path, entries: list[dict[str, str]]) -> Path:
    path = folder / "manifest.json"
    path.write_text(json.dumps(entries), encoding="utf-8")
    return path


# --- the shipped store ------------------------------------------------------------------


def test_the_network_really_is_blocked_in_these_tests() -> None:
    """The autouse fixture must bite, or the offline tests below would prove nothing."""
    with pytest.raises(NetworkUsed):
        socket.create_connection(("www.w3.org", 443))
    with pytest.raises(NetworkUsed):
        socket.getaddrinfo("www.w3.org", 443)


def test_pinned_store_serves_exactly_the_manifest() -> None:
    """Every manifest URL is served with its file's JSON; nothing else is."""
    store = ContextStore.pinned()
    manifest = _manifest()
    assert store.urls() == {entry["url"] for entry in manifest}
    for entry in manifest:
        assert entry["url"] in store
        assert store.get(entry["url"]) == json.loads((DATA / entry["file"]).read_bytes())
        assert store.sha256(entry["url"]) == entry["sha256"] == _sha256(DATA / entry["file"])


def test_vector_contexts_are_not_shipped() -> None:
    """spec README: the vectors' extra contexts are for tests only, never the product loader."""
    store = default_store()
    assert OPERATOR_URL not in store
    assert "https://w3id.org/citizenship/v4rc1" not in store


def test_default_store_is_loaded_once() -> None:
    assert default_store() is default_store()


def test_sha256_mismatch_is_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shipped context whose bytes differ from the manifest is refused, naming url and file."""
    package = tmp_path / "pkg"
    shutil.copytree(DATA, package / "data")
    target = next(e for e in _manifest() if e["url"] == V2)
    tampered = package / "data" / target["file"]
    tampered.write_bytes(tampered.read_bytes().replace(b"https://schema.org/name", b"https://e/x"))
    monkeypatch.setattr(loader_module.resources, "files", lambda _package: package)

    with pytest.raises(ContextIntegrityError) as caught:
        ContextStore.pinned()

    assert caught.value.code is ErrorCode.CONTEXT_INTEGRITY
    assert V2 in caught.value.message
    assert target["file"] in caught.value.message


# --- operator additions -------------------------------------------------------------------


def test_extra_manifest_admits_an_operator_context(tmp_path: Path) -> None:
    """Operators add a context by configuration: a manifest of the same shape, hash-checked."""
    shutil.copy(OPERATOR_FILE, tmp_path / "examples.jsonld")
    manifest = _write_manifest(
        tmp_path,
        [
            {
                "url": OPERATOR_URL,
                "file": "examples.jsonld",
                "sha256": _sha256(OPERATOR_FILE),
                "source": "test",
            }
        ],
    )

    store = ContextStore.pinned(extra_manifest=manifest)

    assert OPERATOR_URL in store
    assert store.get(OPERATOR_URL) == json.loads(OPERATOR_FILE.read_bytes())
    assert V2 in store  # the shipped ones are still there
    assert OPERATOR_URL not in default_store()


def test_extra_manifest_hash_mismatch_is_refused(tmp_path: Path) -> None:
    shutil.copy(OPERATOR_FILE, tmp_path / "examples.jsonld")
    manifest = _write_manifest(
        tmp_path, [{"url": OPERATOR_URL, "file": "examples.jsonld", "sha256": "00" * 32}]
    )
    with pytest.raises(ContextIntegrityError) as caught:
        ContextStore.pinned(extra_manifest=manifest)
    assert OPERATOR_URL in caught.value.message
    assert "examples.jsonld" in caught.value.message


@pytest.mark.parametrize(
    "entries",
    [
        [{"url": OPERATOR_URL, "file": "missing.jsonld", "sha256": "00" * 32}],
        [{"url": OPERATOR_URL, "file": "examples.jsonld"}],  # no sha256
        {"url": OPERATOR_URL},  # not a list
    ],
    ids=["missing-file", "missing-hash", "not-a-list"],
)
def test_unusable_extra_manifest_is_refused(tmp_path: Path, entries: Any) -> None:
    shutil.copy(OPERATOR_FILE, tmp_path / "examples.jsonld")
    manifest = _write_manifest(tmp_path, entries)
    with pytest.raises(ContextIntegrityError):
        ContextStore.pinned(extra_manifest=manifest)


def test_with_context_checks_the_given_hash() -> None:
    raw = OPERATOR_FILE.read_bytes()
    good = default_store().with_context(OPERATOR_URL, raw, sha256=_sha256(OPERATOR_FILE).upper())
    assert good.get(OPERATOR_URL) == json.loads(raw)

    with pytest.raises(ContextIntegrityError) as caught:
        default_store().with_context(OPERATOR_URL, raw, sha256=hashlib.sha256(b"x").hexdigest())
    assert OPERATOR_URL in caught.value.message


def test_with_context_returns_a_new_store_and_leaves_the_old_one_alone() -> None:
    base = default_store()
    extended = base.with_context(OPERATOR_URL, OPERATOR_FILE)
    assert OPERATOR_URL in extended
    assert OPERATOR_URL not in base
    with pytest.raises(dataclasses.FrozenInstanceError):
        base._documents = {}  # type: ignore[misc]


def test_with_context_accepts_a_parsed_document() -> None:
    document = {"@context": {"ex": "https://example.org/ns#"}}
    store = ContextStore().with_context("https://example.org/ctx/v1", document)
    assert store.get("https://example.org/ctx/v1") == document


def test_a_pinned_url_cannot_be_repointed() -> None:
    """Pinned means pinned: an operator file may not replace the W3C v2 context."""
    with pytest.raises(ContextIntegrityError) as caught:
        default_store().with_context(V2, {"@context": {"name": "https://evil.example/name"}})
    assert V2 in caught.value.message
    # the very same bytes are harmless
    same = default_store().with_context(V2, (DATA / "www.w3.org_ns_credentials_v2.jsonld"))
    assert same.urls() == default_store().urls()


@pytest.mark.parametrize("source", [b"not json", b"[1, 2]"], ids=["not-json", "not-object"])
def test_with_context_refuses_a_non_object(source: bytes) -> None:
    with pytest.raises(ContextIntegrityError):
        ContextStore().with_context("https://example.org/ctx/v1", source)


def test_with_context_refuses_a_relative_url() -> None:
    with pytest.raises(InputError):
        ContextStore().with_context("ctx/v1", {"@context": {}})


# --- get and the loader ---------------------------------------------------------------------


def test_get_hands_out_copies() -> None:
    """pyld mutates context documents (e.g. @import merging): the store's copy must not move."""
    store = default_store()
    first = store.get(V2)
    first["@context"]["name"] = "https://evil.example/name"
    first["@context"].clear()
    assert store.get(V2) == json.loads((DATA / "www.w3.org_ns_credentials_v2.jsonld").read_bytes())


def test_get_refuses_an_unknown_url() -> None:
    with pytest.raises(ContextNotAllowed) as caught:
        default_store().get("https://evil.example/ctx")
    assert caught.value.url == "https://evil.example/ctx"
    assert caught.value.code is ErrorCode.CONTEXT_NOT_ALLOWED


def test_document_loader_returns_a_pyld_remote_document() -> None:
    loader = default_store().document_loader()
    remote = loader(OB_303, {"headers": {}})
    assert remote == {
        "contextUrl": None,
        "documentUrl": OB_303,
        "document": json.loads(
            (DATA / "purl.imsglobal.org_spec_ob_v3p0_context_3.0.3.json").read_bytes()
        ),
    }
    assert loader(OB_303) == remote  # options are optional


def test_document_loader_refuses_unknown_urls_without_the_network() -> None:
    loader = default_store().document_loader()
    with pytest.raises(ContextNotAllowed) as caught:
        loader("https://www.w3.org/ns/credentials/v3")
    assert caught.value.url == "https://www.w3.org/ns/credentials/v3"


def test_context_modules_import_no_network_code() -> None:
    """STYLE 11: the loader cannot fetch because it holds no code that could."""
    banned = {"requests", "aiohttp", "urllib", "socket", "http", "httpx", "urllib3"}
    for module in ("loader.py", "jsonld.py"):
        tree = ast.parse((DATA.parent / module).read_text("utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert not imported & banned, (module, imported & banned)


# --- per-store resolved-context cache --------------------------------------------------------

_CTX = "https://example.org/ctx/v1"


def _store_naming(iri: str) -> ContextStore:
    return ContextStore().with_context(_CTX, {"@context": {"id": "@id", "title": iri}})


def _title_predicate(store: ContextStore) -> str:
    dataset = to_dataset({"@context": _CTX, "id": "urn:ex:1", "title": "t"}, store)
    [triple] = dataset["@default"]
    predicate: str = triple["predicate"]["value"]
    return predicate


def test_stores_with_the_same_url_do_not_share_cached_contexts() -> None:
    """pyld's resolved-context cache is process-global by URL; ours is per store."""
    store_a = _store_naming("https://a.example/title")
    store_b = _store_naming("https://b.example/title")
    for _ in range(2):  # the second round is served from each store's cache
        assert _title_predicate(store_a) == "https://a.example/title"
        assert _title_predicate(store_b) == "https://b.example/title"
    assert pyld_jsonld._resolved_context_cache.get(_CTX) is None


def test_the_resolved_context_cache_is_bounded() -> None:
    """Inline contexts come from untrusted documents: each store keeps a bounded number."""
    store = default_store().with_context(OPERATOR_URL, OPERATOR_FILE)
    for i in range(loader_module._RESOLVED_CACHE_SIZE + 40):
        document = {
            "@context": [V2, {f"t{i}": f"https://example.org/t{i}"}],
            "id": "urn:ex:1",
            "type": "VerifiableCredential",
            f"t{i}": "x",
        }
        to_dataset(document, store)
    assert len(store._cache) == loader_module._RESOLVED_CACHE_SIZE


def test_bounded_cache_evicts_the_least_recently_used() -> None:
    cache = _BoundedCache(2)
    cache["a"] = 1
    cache["b"] = 2
    assert cache.get("a") == 1  # "a" is now the most recent
    cache["c"] = 3
    assert "b" not in cache
    assert cache.get("a") == 1 and cache["c"] == 3
    assert cache.get("zz", "default") == "default"
    assert len(cache) == 2


# --- the CLI option ---------------------------------------------------------------------------


def test_parse_context_option() -> None:
    assert parse_context_option("https://example.org/ctx/v1=./ctx.json") == (
        "https://example.org/ctx/v1",
        Path("./ctx.json"),
    )
    # the split is at the last "=", so a query string survives
    assert parse_context_option("https://example.org/ctx?v=2=/etc/ctx.json") == (
        "https://example.org/ctx?v=2",
        Path("/etc/ctx.json"),
    )


@pytest.mark.parametrize(
    "value",
    ["https://example.org/ctx.json", "=ctx.json", "https://example.org/ctx=", "ctx/v1=ctx.json"],
    ids=["no-equals", "no-url", "no-file", "relative-url"],
)
def test_parse_context_option_errors(value: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_context_option(value)
    assert caught.value.code is ErrorCode.INPUT_UNUSABLE
    assert value in caught.value.message


def test_repr_is_short_and_stores_are_hashable() -> None:
    store = default_store()
    assert repr(store) == f"ContextStore({len(_manifest())} contexts)"
    assert {store: 1}[store] == 1


# Issue 14: the contexts real credentials use, pinned by hash (VC 2.0 §4.3, "Contexts").
_ISSUE_14_CONTEXTS = {
    # Ed25519Signature2020 proofs (legacy Open Badges 3.0 proofs): verified, never made
    "https://w3id.org/security/suites/ed25519-2020/v1": (
        "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588",
        "ed25519-signature-2020-context@1.1.0",
    ),
    # the specifications' examples and conformance fixtures
    "https://www.w3.org/ns/credentials/examples/v2": (
        "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c",
        "W3C VC Data Model 2.0",
    ),
    "https://www.w3.org/2018/credentials/examples/v1": (
        "752b1e9904235cf3af61265ef3a6d6a73c66a56f090379efcdcbf069e2a9299a",
        "@digitalbazaar/credentials-examples-context@1.0.0",
    ),
    # imported by the VC 1.1 examples context
    "https://www.w3.org/ns/odrl.jsonld": (
        "e028768d8f72dd25d1d27c97d5898f8877447b31f77316a9f3300ad4f301bb0c",
        "@digitalbazaar/odrl-context@1.0.0",
    ),
    # StatusList2021Entry, the status form of VC 1.1 credentials (Open Badges 3.0 in the wild)
    "https://w3id.org/vc/status-list/2021/v1": (
        "fbed35e8a8f01448db4c2db7fa37496f71588aa9cf1e64f71a50fe58677f1c53",
        "@digitalbazaar/vc-status-list-context@3.1.1",
    ),
}


@pytest.mark.parametrize("url", sorted(_ISSUE_14_CONTEXTS))
def test_contexts_of_credentials_in_the_wild_are_pinned_by_hash(url: str) -> None:
    """VC 2.0 §4.3: a verifier may pin contexts by hash; the source of each is recorded."""
    sha256, source = _ISSUE_14_CONTEXTS[url]
    entry = next(e for e in _manifest() if e["url"] == url)
    assert entry["sha256"] == sha256
    assert entry["source"].startswith(source)
    assert default_store().sha256(url) == sha256
