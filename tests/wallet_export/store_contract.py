"""The IssuanceStore contract, for every implementation (the memory store here; the issuer's
database store runs the same checks: ``check_issuance_store(lambda: DbStore(session))``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from wallet_export.oid4vci.store import IssuanceStore, OfferRecord, TokenRecord

from .conftest import NOW


def _offer(n: int, **changes: object) -> OfferRecord:
    fields: dict[str, object] = {
        "offer_id": f"offer-{n}",
        "code_digest": f"code-{n}",
        "credential_ref": f"CB-{n}",
        "configuration_ids": ("A", "B"),
        "expires_at": NOW + timedelta(minutes=10),
        "document": '{"credential_issuer":"https://x"}',
    }
    fields.update(changes)
    return OfferRecord(**fields)  # type: ignore[arg-type]


def check_issuance_store(make_store: Callable[[], IssuanceStore]) -> None:
    store = make_store()
    store.add_offer(_offer(1))
    found = store.find_offer("code-1")
    assert found is not None and found.configuration_ids == ("A", "B")
    assert store.find_offer("code-x") is None

    # by reference: served while live and unredeemed
    assert store.offer_document("offer-1", NOW) == '{"credential_issuer":"https://x"}'
    assert store.offer_document("offer-1", NOW + timedelta(minutes=10)) is None
    assert store.offer_document("offer-x", NOW) is None

    # transaction code failures count up
    assert store.count_failed_tx_code("code-1") == 1
    assert store.count_failed_tx_code("code-1") == 2

    # redeem: once, and not after expiry
    assert store.redeem("code-1", NOW + timedelta(minutes=10)) is None
    redeemed = store.redeem("code-1", NOW)
    assert redeemed is not None and redeemed.credential_ref == "CB-1"
    assert store.redeem("code-1", NOW) is None
    assert store.offer_document("offer-1", NOW) is None
    found = store.find_offer("code-1")
    assert found is not None and found.redeemed
    assert store.redeem("code-x", NOW) is None

    # tokens
    token = TokenRecord("tok-1", "offer-1", "CB-1", ("A",), NOW + timedelta(minutes=5))
    store.add_token(token)
    assert store.find_token("tok-1") == token
    assert store.find_token("tok-x") is None

    # nonces: taken once, not after expiry, never unknown ones
    store.add_nonce("n-1", NOW + timedelta(minutes=5))
    store.add_nonce("n-2", NOW + timedelta(minutes=5))
    assert store.take_nonce("n-1", NOW)
    assert not store.take_nonce("n-1", NOW)
    assert not store.take_nonce("n-2", NOW + timedelta(minutes=5))
    assert not store.take_nonce("n-x", NOW)

    # the token's holder key: the first one bound stays
    assert store.bind_holder("tok-x", "key-a") is None
    assert store.bind_holder("tok-1", "key-a") == "key-a"
    assert store.bind_holder("tok-1", "key-b") == "key-a"
    assert store.bind_holder("tok-1", "key-a") == "key-a"
    found_token = store.find_token("tok-1")
    assert found_token is not None and found_token.holder_key == "key-a"

    # one credential per token and configuration: issued once, then the kept one
    made: list[object] = []

    def issue(transaction: object) -> str:
        made.append(transaction)
        return f"credential-{len(made)}"

    def refuse(_transaction: object) -> str:
        raise ValueError("cannot issue now")

    expires = NOW + timedelta(minutes=5)
    try:
        store.redeem_credential("tok-1", "B", expires, refuse)
    except ValueError:
        pass
    assert store.redeem_credential("tok-1", "A", expires, issue) == "credential-1"
    assert store.redeem_credential("tok-1", "A", expires, issue) == "credential-1"
    assert store.redeem_credential("tok-1", "B", expires, issue) == "credential-2"  # not kept
    assert len(made) == 2
